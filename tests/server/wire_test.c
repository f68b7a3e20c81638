/* SPDX-License-Identifier: Apache-2.0 */
/* src/wire.c: the ClientHello parser, on a real client's ClientHello and
 * every damaged form of it (each prefix in an exact-size allocation, every
 * length field stretched), so a sanitizer sees any read outside it; the
 * alert and the DTLS 1.3 transcript it writes, byte for byte. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "wire.h" /* the parser, tested directly (linked from sdtls_internal) */
#include "world.h"

/* A first ClientHello as an sdtls client sends it, into out (2048 bytes);
 * its length, 0 when there is none. Cookies off: the world's server only
 * stands by, and these tests need no cookie hand-over. */
static size_t client_hello(uint8_t *out) {
  world_opts o = default_opts();
  o.cookies = 0;
  world *w = world_new(o);
  CHECK(w != NULL);
  if (w == NULL) {
    return 0;
  }
  size_t n = template_client_hello(w, out);
  world_free(w);
  return n;
}

static void test_parser_bounds(void) {
  uint8_t ch[2048];
  size_t n = client_hello(ch);
  REQUIRE(n > 60);
  sdtls_client_hello parsed;
  REQUIRE_EQ(Sdtls_client_hello_parse(ch, n, &parsed), SDTLS_CH_OK);
  CHECK_EQ(parsed.message_seq, 0);
  CHECK_EQ(parsed.cookie_len, 0);
  CHECK_EQ(parsed.cipher_suites_len % 2, 0);
  CHECK(parsed.random == ch + 27);
  /* Every prefix, each in an exact-size allocation (ASan sees overreads). */
  for (size_t i = 0; i < n; i++) {
    uint8_t *copy = malloc(i ? i : 1);
    memcpy(copy, ch, i);
    CHECK(Sdtls_client_hello_parse(copy, i, &parsed) != SDTLS_CH_OK);
    free(copy);
  }
  /* Every single-byte length field stretched: never OK past the buffer. */
  for (size_t i = 0; i < n; i++) {
    uint8_t *copy = malloc(n);
    memcpy(copy, ch, n);
    copy[i] = 0xff;
    (void)Sdtls_client_hello_parse(copy, n, &parsed);
    copy[i] = 0x00;
    (void)Sdtls_client_hello_parse(copy, n, &parsed);
    free(copy);
  }
  /* Fragmented ClientHello: dropped. */
  uint8_t frag[2048];
  memcpy(frag, ch, n);
  frag[24] = (uint8_t)(frag[24] - 1); /* fragment_length != length */
  CHECK_EQ(Sdtls_client_hello_parse(frag, n - 1, &parsed), SDTLS_CH_MALFORMED);
  /* Epoch 1, or not a ClientHello: not one. */
  memcpy(frag, ch, n);
  frag[4] = 1;
  CHECK_EQ(Sdtls_client_hello_parse(frag, n, &parsed), SDTLS_CH_NOT_CLIENT_HELLO);
  memcpy(frag, ch, n);
  frag[13] = 2;
  CHECK_EQ(Sdtls_client_hello_parse(frag, n, &parsed), SDTLS_CH_NOT_CLIENT_HELLO);
  CHECK_EQ(Sdtls_client_hello_parse(NULL, 0, &parsed), SDTLS_CH_MALFORMED);
}

/* A fatal alert as RFC 6347 4.1 lays out a record: content type 21, DTLS
 * 1.2, epoch 0, the 48-bit record number it was given, length 2, level 2
 * (fatal), the description. */
static void test_fatal_alert(void) {
  uint8_t out[SDTLS_ALERT_LEN];
  CHECK_EQ(Sdtls_fatal_alert(UINT64_C(0x0102030405060708), 47, out), 15);
  static const uint8_t expect[15] = {21, 0xfe, 0xfd, 0, 0, 3, 4, 5, 6, 7, 8, 0, 2, 2, 47};
  CHECK(memcmp(out, expect, sizeof(expect)) == 0);
  CHECK_EQ(be(out + 5, 6), 0x030405060708); /* only 48 bits of the number */
}

/* The transcript after a stateless HelloRetryRequest (RFC 8446 4.4.1): a
 * message_hash message holding the first ClientHello's hash (after the 8
 * bytes where DTLS's message_seq and fragment fields would be), then the
 * HelloRetryRequest's type, length and body, without DTLS's fields. */
static void test_hrr_transcript(void) {
  uint8_t ch_bytes[2048];
  size_t n = client_hello(ch_bytes);
  sdtls_client_hello ch;
  REQUIRE_EQ(Sdtls_client_hello_parse(ch_bytes, n, &ch), SDTLS_CH_OK);
  sdtls_hrr_state st = {.cipher = 0x1301, .group = 29, .ask_share = true, .hash_len = 32};
  memset(st.hash, 0xab, st.hash_len);
  static const uint8_t cookie[40] = {1, 2, 3};
  uint8_t hrr[SDTLS_MAX_HRR];
  size_t hrr_len = Sdtls_hello_retry_request(&ch, &st, cookie, sizeof(cookie), hrr, sizeof(hrr));
  REQUIRE(hrr_len > 25);
  CHECK_EQ(HS_TYPE(hrr), 2); /* a ServerHello */
  uint8_t t[SDTLS_MAX_HRR_TRANSCRIPT];
  size_t len = Sdtls_hrr_transcript(&st, hrr, hrr_len, t, sizeof(t));
  size_t body = hrr_len - 25;
  REQUIRE_EQ(len, 4 + 8 + 32 + 4 + body);
  CHECK_EQ(t[0], 254);
  CHECK_EQ(be(t + 1, 3), 32);
  for (size_t i = 4; i < 12; i++) {
    CHECK_EQ(t[i], 0);
  }
  CHECK(memcmp(t + 12, st.hash, 32) == 0);
  CHECK_EQ(t[44], 2);
  CHECK_EQ(be(t + 45, 3), body);
  CHECK(memcmp(t + 48, hrr + 25, body) == 0);
  /* Too small a buffer, or no HelloRetryRequest: nothing. */
  CHECK_EQ(Sdtls_hrr_transcript(&st, hrr, hrr_len, t, len - 1), 0);
  CHECK_EQ(Sdtls_hrr_transcript(&st, hrr, 24, t, sizeof(t)), 0);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"parser_bounds", test_parser_bounds},
      {"fatal_alert", test_fatal_alert},
      {"hrr_transcript", test_hrr_transcript},
  };
  return world_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

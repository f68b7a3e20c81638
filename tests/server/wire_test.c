/* SPDX-License-Identifier: Apache-2.0 */
/* src/wire.c: the ClientHello parser, on a real client's ClientHello and
 * every damaged form of it (each prefix in an exact-size allocation, every
 * length field stretched), so a sanitizer sees any read outside it. */
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

static void test_parser_bounds(void) {
  /* Cookies off: the world's server only stands by, and this test needs no
   * cookie hand-over. */
  world_opts o = default_opts();
  o.cookies = 0;
  world *w = world_new(o);
  REQUIRE(w != NULL);
  uint8_t ch[2048];
  size_t n = template_client_hello(w, ch);
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
  world_free(w);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"parser_bounds", test_parser_bounds},
  };
  return world_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

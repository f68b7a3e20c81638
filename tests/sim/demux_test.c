/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_classify(): RFC 7983's first-byte ranges (with RFC 9443's QUIC) for
 * every byte value, the datagrams sdtls itself sends, and what is no
 * datagram at all. */
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "sdtls.h"
#include "simpeer.h"

/* RFC 7983 section 7 and RFC 9443 section 3, written as the RFCs' figure
 * lists them (not as the library's table). */
static int expected(unsigned b) {
  if (b <= 3) return SDTLS_PACKET_STUN;
  if (b < 16) return SDTLS_PACKET_UNKNOWN;
  if (b <= 19) return SDTLS_PACKET_ZRTP;
  if (b <= 63) return SDTLS_PACKET_DTLS;
  if (b <= 79) return SDTLS_PACKET_TURN_CHANNEL;
  if (b <= 127) return SDTLS_PACKET_QUIC;
  if (b <= 191) return SDTLS_PACKET_RTP;
  return SDTLS_PACKET_QUIC;
}

static void test_every_first_byte(void) {
  for (unsigned b = 0; b < 256; b++) {
    uint8_t d[2] = {(uint8_t)b, 0xff};
    CHECKF(sdtls_classify(d, sizeof(d)) == expected(b), "first byte %u: %d", b, sdtls_classify(d, 2));
    CHECKF(sdtls_classify(d, 1) == expected(b), "first byte %u alone", b);
  }
}

static void test_no_datagram(void) {
  uint8_t d[1] = {22};
  CHECK_EQ(sdtls_classify(d, 0), SDTLS_PACKET_UNKNOWN);
  CHECK_EQ(sdtls_classify(NULL, 0), SDTLS_PACKET_UNKNOWN);
  CHECK_EQ(sdtls_classify(NULL, 100), SDTLS_PACKET_UNKNOWN);
}

static int g_sent, g_dtls;

static int count_send(void *user, const uint8_t *datagram, size_t len) {
  (void)user;
  g_sent++;
  g_dtls += sdtls_classify(datagram, len) == SDTLS_PACKET_DTLS;
  return 0;
}

/* What sdtls sends is classified as DTLS: a ClientHello, and its
 * retransmissions. */
static void test_own_datagrams(void) {
  sdtls_config *config = config_make(NULL, 0, NULL);
  REQUIRE(config != NULL);
  sdtls_callbacks cb = {.size = sizeof(cb), .send = count_send};
  sdtls_conn *conn = NULL;
  REQUIRE_EQ(sdtls_conn_new(config, SDTLS_ROLE_CLIENT, &cb, NULL, &conn), 0);
  sdtls_config_free(config);
  g_sent = g_dtls = 0;
  CHECK_EQ(sdtls_conn_start(conn, 1000000000), 0);
  CHECK_EQ(sdtls_conn_handle_timeout(conn, 5000000000), 0);
  CHECK(g_sent >= 2);
  CHECK_EQ(g_dtls, g_sent);
  sdtls_conn_free(conn);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"every_first_byte", test_every_first_byte},
      {"no_datagram", test_no_datagram},
      {"own_datagrams", test_own_datagrams},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

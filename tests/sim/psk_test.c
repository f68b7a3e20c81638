/* SPDX-License-Identifier: Apache-2.0 */
/* Pre-shared keys (src/psk.c) in the simulator: tables, lookups,
 * identities and hints, and the limits that match the wire. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

static void test_psk(void) {
  /* No certificates at all; verification on by default, no server name. */
  sdtls_config *cc = plain_config(), *sc = plain_config();
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_psk(cc, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_add_psk(sc, "device-0", (const uint8_t *)"other", 5), 0);
  CHECK_EQ(sdtls_config_add_psk(sc, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_set_psk_identity_hint(sc, "sdtls test"), 0);
  fixture fx;
  REQUIRE(run_pair(&fx, 20, cc, sc, NULL));
  CHECK_STREQ(sdtls_conn_cipher(CLIENT(&fx)), "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
  CHECK_STREQ(sdtls_conn_psk_identity(SERVER(&fx)), "device-1");
  CHECK_STREQ(sdtls_conn_psk_identity(CLIENT(&fx)), "device-1");
  const uint8_t *der;
  size_t len;
  CHECK_EQ(sdtls_conn_peer_certificate(CLIENT(&fx), &der, &len), SDTLS_E_STATE);
  fixture_teardown(&fx);

  /* A wrong key: the client's Finished does not authenticate, so the
   * server drops it as DTLS drops every such record, and both sides give
   * up at the handshake deadline. */
  cc = plain_config();
  sc = plain_config();
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_psk(cc, "device-1", (const uint8_t *)"wrong key", 9), 0);
  CHECK_EQ(sdtls_config_add_psk(sc, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_set_option(cc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 2000), 0);
  CHECK_EQ(sdtls_config_set_option(sc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 2000), 0);
  CHECK(!run_pair(&fx, 21, cc, sc, NULL));
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_TIMEOUT);
  CHECK_EQ(sdtls_conn_error(SERVER(&fx)), SDTLS_E_TIMEOUT);
  fixture_teardown(&fx);

  /* A server with a certificate and the PSK: the client, given a key,
   * offers the PSK suite first, and the engine follows the client's order. */
  cc = plain_config();
  sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_psk(cc, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_add_psk(sc, "device-1", kKey, sizeof(kKey)), 0);
  REQUIRE(run_pair(&fx, 24, cc, sc, NULL));
  CHECK_STREQ(sdtls_conn_cipher(CLIENT(&fx)), "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
  fixture_teardown(&fx);

  /* The server's lookup answers identities its table lacks. */
  int calls = 0;
  cc = plain_config();
  sc = plain_config();
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_psk(cc, "dynamic", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_set_psk_lookup(sc, lookup, &calls), 0);
  REQUIRE(run_pair(&fx, 22, cc, sc, NULL));
  CHECK_EQ(calls, 1);
  fixture_teardown(&fx);

  /* CBC PSK suites only when allowed, and allowed before the list is set. */
  cc = plain_config();
  sc = plain_config();
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_ciphers(cc, "PSK-AES128-CBC-SHA"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_option(cc, SDTLS_OPT_PSK_ALLOW_CBC, 1), 0);
  CHECK_EQ(sdtls_config_set_ciphers(cc, "PSK-AES128-CBC-SHA"), 0);
  CHECK_EQ(sdtls_config_set_ciphers(cc, "AES128-SHA"), SDTLS_E_INVALID_ARGUMENT); /* not PSK */
  CHECK_EQ(sdtls_config_set_option(sc, SDTLS_OPT_PSK_ALLOW_CBC, 1), 0);
  CHECK_EQ(sdtls_config_add_psk(cc, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_add_psk(sc, "device-1", kKey, sizeof(kKey)), 0);
  REQUIRE(run_pair(&fx, 23, cc, sc, NULL));
  CHECK_STREQ(sdtls_conn_cipher(CLIENT(&fx)), "TLS_PSK_WITH_AES_128_CBC_SHA");
  /* Records both ways (a CBC record's padding varies its size: the read
   * loop asks the engine whether a datagram holds more). */
  for (size_t n = 1; n <= 40; n += 13) {
    static const uint8_t msg[40] = {7};
    CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, n, netsim_now(fx.sim)), 0);
    CHECK_EQ(sdtls_conn_send(SERVER(&fx), msg, n, netsim_now(fx.sim)), 0);
  }
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[1].n_msgs, 4);
  CHECK_EQ(fx.p[0].n_msgs, 4);
  CHECK_EQ(fx.p[1].msg_len[3], 40);
  fixture_teardown(&fx);

  /* Bad arguments. */
  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  char long_id[200];
  memset(long_id, 'i', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';
  uint8_t big[65] = {0};
  CHECK_EQ(sdtls_config_add_psk(c, "", kKey, 16), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_add_psk(c, long_id, kKey, 16), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_add_psk(c, "x", kKey, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_add_psk(c, "x", big, sizeof(big)), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_add_psk(c, "x", NULL, 16), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_psk_identity_hint(c, ""), SDTLS_E_INVALID_ARGUMENT);
  sdtls_config_free(c);
}

/* PSK identities and hints: at most 128 bytes, the engine's own bound. */
static void test_psk_limit(void) {
  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  static const uint8_t key[16] = {1};
  char *id128 = repeated_list(1, 128, ',', NULL), *id129 = repeated_list(1, 129, ',', NULL);
  REQUIRE(id128 && id129);
  CHECK_EQ(sdtls_config_add_psk(c, id129, key, sizeof key), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_add_psk(c, id128, key, sizeof key), 0);
  CHECK_EQ(sdtls_config_set_psk_identity_hint(c, id129), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_psk_identity_hint(c, id128), 0);
  free(id128);
  free(id129);
  sdtls_config_free(c);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"psk", test_psk},
      {"psk_limit", test_psk_limit},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

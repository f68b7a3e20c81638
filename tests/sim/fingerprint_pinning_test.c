/* SPDX-License-Identifier: Apache-2.0 */
/* Fingerprint pinning in a handshake, in the simulator: pins on the
 * config and on the connection instead of the CA and name checks, a
 * mismatch, and what may be pinned when. (Parsing and formatting are
 * fingerprint_test.c's.) */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

static void test_fingerprint_pinning(void) {
  char fp_server[128], fp_client[128], fp_other[128];
  fingerprint_text(&g_server, fp_server, sizeof(fp_server));
  fingerprint_text(&g_client, fp_client, sizeof(fp_client));
  fingerprint_text(&g_other, fp_other, sizeof(fp_other));

  /* Both sides pin each other (WebRTC): verification stays on, no CA, no
   * server name. */
  const char *const client_pins[] = {fp_other, fp_server};
  fixture fx;
  CHECK(run_pinned_pair(&fx, 10, client_pins, 2, fp_client));
  CHECK_EQ(sdtls_conn_add_peer_fingerprint(CLIENT(&fx), fp_server), SDTLS_E_STATE);
  fixture_teardown(&fx);

  /* A mismatch fails with a verification error naming both. */
  sdtls_config *cc = config_make(NULL, 1, NULL), *sc = config_make(&g_server, 1, NULL);
  REQUIRE(cc && sc);
  REQUIRE(fixture_init(&fx, 11, START, cc, sc) && fixture_conns(&fx));
  CHECK_EQ(sdtls_conn_add_peer_fingerprint(CLIENT(&fx), fp_other), 0);
  pair_handshake(fx.p, 10 * NETSIM_SEC);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_FAILED);
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_VERIFY);
  const char *detail = sdtls_conn_error_detail(CLIENT(&fx));
  CHECKF(strstr(detail, fp_server + 8) && strstr(detail, fp_other + 8), "detail: %s", detail);
  CHECK_EQ(sdtls_conn_error(SERVER(&fx)), SDTLS_E_ALERT);
  fixture_teardown(&fx);

  /* A server that pins its client refuses a client without a certificate. */
  cc = config_make(NULL, 0, NULL);
  sc = config_make(&g_server, 1, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(sc, fp_client), 0);
  run_pair(&fx, 12, cc, sc, NULL);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_FAILED);
  CHECK_EQ(sdtls_conn_error(SERVER(&fx)), SDTLS_E_VERIFY);
  fixture_teardown(&fx);

  /* Parsing. */
  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  char colon[128];
  snprintf(colon, sizeof(colon), "SHA-256:%s", fp_server + 8);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, colon), 0);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, "sha-1 AA:BB"), SDTLS_E_UNSUPPORTED);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, "sha-256 AA:BB"), SDTLS_E_INVALID_ARGUMENT);
  /* Since SDTLS_1.2 the bare form is a sha-256 fingerprint too. */
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, fp_server + 8), 0);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  char trailing[160];
  snprintf(trailing, sizeof(trailing), "%s:00", fp_server);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, trailing), SDTLS_E_INVALID_ARGUMENT);
  for (int i = 2; i < 16; i++) CHECK_EQ(sdtls_config_add_peer_fingerprint(c, fp_server), 0);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(c, fp_server), SDTLS_E_LIMIT);
  sdtls_config_free(c);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"fingerprint_pinning", test_fingerprint_pinning},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

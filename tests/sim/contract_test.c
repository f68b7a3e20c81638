/* SPDX-License-Identifier: Apache-2.0 */
/* The header's contract, function by function: every public function with
 * NULL handles and arguments, and every connection call in every state,
 * returns what abi/sdtls.h says it returns. One row per call; a row that
 * disagrees with the header fails with both values. When a function is
 * added to the header, it gets its rows here. */
#include <string.h>

#include "feature_fixture.h" /* g_server ("server.test"), feature_main() */

/* A row: the call as written, its result and what the header promises. */
#define ROW(call, expected) CHECK_EQ((long long)(call), (long long)(expected))
#define ROW_PTR_NULL(call) CHECKF((call) == NULL, "%s is not NULL", #call)

static int noop_send(void *u, const uint8_t *d, size_t l) {
  (void)u;
  (void)d;
  (void)l;
  return 0;
}

static int noop_server_send(void *u, const uint8_t *a, size_t al, const uint8_t *d, size_t l) {
  (void)u;
  (void)a;
  (void)al;
  (void)d;
  (void)l;
  return 0;
}

static void test_null_handles(void) {
  const uint8_t b[4] = {1, 2, 3, 4};
  uint8_t out[32];
  char text[128];
  int64_t v;
  const uint8_t *p;
  size_t n;
  char *cert = NULL, *key = NULL;

  /* Library */
  ROW(sdtls_version(NULL), SDTLS_VERSION_NUMBER);
  ROW(sdtls_has_feature((sdtls_feature)99), 0);
  CHECK_STREQ(sdtls_strerror(12345), "unknown error");
  ROW(sdtls_error_category(-12345), SDTLS_CATEGORY_INTERNAL);
  ROW(sdtls_error_category(SDTLS_OK), SDTLS_CATEGORY_NONE);

  /* Config */
  ROW(sdtls_config_new(NULL), SDTLS_E_INVALID_ARGUMENT);
  sdtls_config_free(NULL);
  ROW(sdtls_config_set_option(NULL, SDTLS_OPT_MTU, 1200), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_get_option(NULL, SDTLS_OPT_MTU, &v), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_file(NULL, "c", "k"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_pem(NULL, b, 4, b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ca(NULL, "ca", NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ca_pem(NULL, b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ciphers(NULL, "ECDHE-ECDSA-AES128-GCM-SHA256"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_keylog(NULL, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);

  sdtls_config *cfg;
  REQUIRE_EQ(sdtls_config_new(&cfg), 0);
  ROW(sdtls_config_get_option(cfg, SDTLS_OPT_MTU, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_get_option(cfg, (sdtls_option)999, &v), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_option(cfg, (sdtls_option)999, 1), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_file(cfg, NULL, "k"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_file(cfg, "c", NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_file(cfg, "/nonexistent/c.pem", "/nonexistent/k.pem"),
      SDTLS_E_FILE);
  ROW(sdtls_config_set_certificate_pem(cfg, NULL, 4, b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_pem(cfg, b, 4, NULL, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_pem(cfg, b, 0, b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_certificate_pem(cfg, b, 4, b, 4), SDTLS_E_CREDENTIALS);
  ROW(sdtls_config_set_ca(cfg, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ca(cfg, "/nonexistent/ca.pem", NULL), SDTLS_E_FILE);
  ROW(sdtls_config_set_ca(cfg, NULL, "/nonexistent/dir"), SDTLS_E_FILE);
  ROW(sdtls_config_set_ca_pem(cfg, NULL, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ca_pem(cfg, b, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ca_pem(cfg, b, 4), SDTLS_E_CREDENTIALS);
  ROW(sdtls_config_set_ciphers(cfg, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ciphers(cfg, "NO-SUCH-CIPHER"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ciphers(cfg, "AES128-SHA"), SDTLS_E_INVALID_ARGUMENT); /* not AEAD */
  ROW(sdtls_config_set_keylog(cfg, NULL, NULL), 0);

  /* Certificates */
  ROW(sdtls_certificate_generate(NULL, 1, &cert, &key), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_certificate_generate("x.test", 0, &cert, &key), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_certificate_generate("x.test", 1, NULL, &key), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_certificate_generate("x.test", 1, &cert, NULL), SDTLS_E_INVALID_ARGUMENT);
  CHECK(cert == NULL && key == NULL);
  ROW(sdtls_certificate_fingerprint_sha256(NULL, 4, out), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_certificate_fingerprint_sha256(b, 4, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_certificate_fingerprint_sha256(b, 4, out), SDTLS_E_CREDENTIALS);
  ROW(sdtls_fingerprint_format(NULL, text, sizeof(text)), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_fingerprint_format(out, NULL, sizeof(text)), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_fingerprint_format(out, text, 95), SDTLS_E_INVALID_ARGUMENT);
  sdtls_free(NULL);

  /* Since SDTLS_1.1 */
  sdtls_srtp_keying keying;
  memset(&keying, 0, sizeof(keying));
  keying.size = sizeof(keying);
  ROW(sdtls_config_set_srtp_profiles(NULL, "SRTP_AES128_CM_SHA1_80"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_srtp_profiles(cfg, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_srtp_profile(NULL), 0);
  ROW_PTR_NULL(sdtls_srtp_profile_name(0));
  ROW(sdtls_classify(NULL, 0), SDTLS_PACKET_UNKNOWN);
  ROW(sdtls_conn_srtp_keying(NULL, &keying), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_add_peer_fingerprint(NULL, "sha-256 00"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_add_peer_fingerprint(NULL, "sha-256 00"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_add_psk(NULL, "id", b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_add_psk(cfg, NULL, b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_psk_lookup(NULL, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_psk_identity_hint(NULL, "h"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_psk_identity_hint(cfg, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW_PTR_NULL(sdtls_conn_psk_identity(NULL));
  uint8_t *session = NULL;
  ROW(sdtls_conn_get_session(NULL, &session, &n), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_set_session(NULL, b, 4), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_session_resumed(NULL), 0);
  ROW(sdtls_config_set_ticket_secret(NULL, out, 32), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ticket_secret(cfg, NULL, 32), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_ticket_secret(cfg, out, 65), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_alpn(NULL, "coap"), SDTLS_E_INVALID_ARGUMENT);
  ROW_PTR_NULL(sdtls_conn_alpn(NULL));
  ROW(sdtls_config_set_groups(NULL, "X25519"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_config_set_groups(cfg, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW_PTR_NULL(sdtls_conn_group(NULL));

  /* Connection */
  sdtls_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.size = sizeof(cb);
  cb.send = noop_send;
  sdtls_conn *c = NULL;
  ROW(sdtls_conn_new(NULL, SDTLS_ROLE_CLIENT, &cb, NULL, &c), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, NULL, NULL, &c), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, &cb, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_new(cfg, (sdtls_role)7, &cb, NULL, &c), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_new(cfg, SDTLS_ROLE_SERVER, &cb, NULL, &c), SDTLS_E_CREDENTIALS);
  CHECK(c == NULL);
  sdtls_conn_free(NULL);
  ROW(sdtls_conn_set_server_name(NULL, "x.test"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_start(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_receive(NULL, b, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_send(NULL, b, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_max_data_size(NULL), 0);
  ROW(sdtls_conn_next_deadline(NULL), SDTLS_TIME_NEVER);
  ROW(sdtls_conn_handle_timeout(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_close(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_state(NULL), SDTLS_STATE_FAILED);
  ROW(sdtls_conn_role(NULL), SDTLS_ROLE_CLIENT);
  ROW(sdtls_conn_error(NULL), SDTLS_E_INVALID_ARGUMENT);
  CHECK_STREQ(sdtls_conn_error_detail(NULL), "");
  ROW_PTR_NULL(sdtls_conn_version(NULL));
  ROW_PTR_NULL(sdtls_conn_cipher(NULL));
  ROW(sdtls_conn_peer_certificate(NULL, &p, &n), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_peer_fingerprint_sha256(NULL, out), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_export_keying_material(NULL, out, 32, "l", 1, NULL, 0),
      SDTLS_E_INVALID_ARGUMENT);
  sdtls_conn_set_app_data(NULL, out);
  ROW_PTR_NULL(sdtls_conn_get_app_data(NULL));
  ROW(sdtls_conn_peer_address(NULL, &p, &n), SDTLS_E_INVALID_ARGUMENT);

  REQUIRE_EQ(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, &cb, NULL, &c), 0);
  ROW(sdtls_conn_set_server_name(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_set_server_name(c, ""), SDTLS_E_INVALID_ARGUMENT);
  char long_name[300];
  memset(long_name, 'a', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  ROW(sdtls_conn_set_server_name(c, long_name), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_receive(c, NULL, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_send(c, NULL, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_peer_certificate(c, NULL, &n), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_peer_certificate(c, &p, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_peer_fingerprint_sha256(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_export_keying_material(c, NULL, 32, "l", 1, NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_export_keying_material(c, out, 0, "l", 1, NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_export_keying_material(c, out, 32, NULL, 1, NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_export_keying_material(c, out, 32, "l", 1, NULL, 3), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_peer_address(c, NULL, &n), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_peer_address(c, &p, &n), SDTLS_E_STATE); /* not a server's connection */
  sdtls_conn_free(c);

  /* Server */
  sdtls_server_callbacks scb;
  memset(&scb, 0, sizeof(scb));
  scb.size = sizeof(scb);
  scb.send = noop_server_send;
  sdtls_server *s = NULL;
  ROW(sdtls_server_new(NULL, &scb, NULL, &s), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_new(cfg, NULL, NULL, &s), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_new(cfg, &scb, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_new(cfg, &scb, NULL, &s), SDTLS_E_CREDENTIALS); /* no certificate */
  CHECK(s == NULL);
  sdtls_server_free(NULL);
  ROW(sdtls_server_receive(NULL, b, 4, b, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_next_deadline(NULL), SDTLS_TIME_NEVER);
  ROW(sdtls_server_handle_timeout(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_close_peer(NULL, NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_set_cookie_secret(NULL, out, 32, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_counter_get(NULL, SDTLS_COUNTER_PEERS), 0);

  sdtls_config *scfg = config_make(&g_server, 0, NULL);
  REQUIRE(scfg != NULL);
  REQUIRE_EQ(sdtls_server_new(scfg, &scb, NULL, &s), 0);
  ROW(sdtls_server_receive(s, NULL, 16, b, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_receive(s, b, 4, b, 4, 0), SDTLS_E_INVALID_ARGUMENT); /* not a sockaddr */
  ROW(sdtls_server_close_peer(s, NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_set_cookie_secret(s, NULL, 32, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_set_cookie_secret(s, out, 15, 0), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_server_counter_get(s, (sdtls_server_counter)99), 0);
  sdtls_server_free(s);
  sdtls_config_free(scfg);
  sdtls_config_free(cfg);
}

/* Every connection call in each state a client passes through. */
static void test_client_states(void) {
  uint8_t out[32];
  const uint8_t *p;
  size_t n;
  const uint8_t junk[4] = {1, 2, 3, 4};
  fixture fx;
  REQUIRE(fixture_init(&fx, 1, 50 * NETSIM_SEC, config_make(NULL, 0, NULL),
                       config_make(&g_server, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  sdtls_conn *c = CLIENT(&fx);
  const sdtls_time now = netsim_now(fx.sim);

  /* NEW */
  ROW(sdtls_conn_state(c), SDTLS_STATE_NEW);
  ROW(sdtls_conn_receive(c, junk, 4, now), SDTLS_E_STATE); /* a client is started first */
  ROW(sdtls_conn_send(c, junk, 4, now), SDTLS_E_STATE);
  ROW(sdtls_conn_send(c, NULL, 0, now), SDTLS_E_STATE);
  ROW(sdtls_conn_handle_timeout(c, now), 0);
  ROW(sdtls_conn_max_data_size(c), 0);
  ROW(sdtls_conn_next_deadline(c), SDTLS_TIME_NEVER);
  ROW(sdtls_conn_error(c), 0);
  ROW_PTR_NULL(sdtls_conn_version(c));
  ROW(sdtls_conn_peer_certificate(c, &p, &n), SDTLS_E_STATE);
  ROW(sdtls_conn_peer_fingerprint_sha256(c, out), SDTLS_E_STATE);
  ROW(sdtls_conn_export_keying_material(c, out, 32, "l", 1, NULL, 0), SDTLS_E_STATE);
  ROW(sdtls_conn_set_server_name(c, "server.test"), 0);
  ROW(sdtls_conn_role(c), SDTLS_ROLE_CLIENT);
  ROW(sdtls_conn_srtp_profile(c), 0);
  ROW_PTR_NULL(sdtls_conn_alpn(c));
  ROW_PTR_NULL(sdtls_conn_psk_identity(c));
  ROW(sdtls_conn_session_resumed(c), 0);
  ROW(sdtls_conn_role(SERVER(&fx)), SDTLS_ROLE_SERVER);
  ROW(sdtls_conn_start(SERVER(&fx), now), 0); /* a server waits for the ClientHello */
  ROW(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_NEW);

  /* HANDSHAKING */
  ROW(sdtls_conn_start(c, now), 0);
  ROW(sdtls_conn_state(c), SDTLS_STATE_HANDSHAKING);
  ROW(sdtls_conn_start(c, now), SDTLS_E_STATE);
  ROW(sdtls_conn_set_server_name(c, "server.test"), SDTLS_E_STATE);
  ROW(sdtls_conn_send(c, junk, 4, now), SDTLS_E_STATE);
  ROW(sdtls_conn_send(c, NULL, 0, now), SDTLS_E_STATE);
  CHECK(sdtls_conn_next_deadline(c) != SDTLS_TIME_NEVER);
  ROW(sdtls_conn_max_data_size(c), 0);
  ROW(sdtls_conn_export_keying_material(c, out, 32, "l", 1, NULL, 0), SDTLS_E_STATE);

  /* CONNECTED */
  netsim_run(fx.sim, pair_connected, fx.p, 10 * NETSIM_SEC, 100000);
  REQUIRE_EQ(sdtls_conn_state(c), SDTLS_STATE_CONNECTED);
  const sdtls_time t = netsim_now(fx.sim);
  ROW(sdtls_conn_send(c, NULL, 0, t), 0); /* sends nothing */
  ROW(sdtls_conn_start(c, t), SDTLS_E_STATE);
  ROW(sdtls_conn_set_server_name(c, "server.test"), SDTLS_E_STATE);
  ROW(sdtls_conn_peer_certificate(c, &p, &n), 0);
  ROW(sdtls_conn_export_keying_material(c, out, 32, "l", 1, NULL, 0), 0);
  CHECK(sdtls_conn_max_data_size(c) > 0);
  sdtls_srtp_keying keying;
  memset(&keying, 0, sizeof(keying));
  keying.size = sizeof(keying);
  ROW(sdtls_conn_srtp_keying(c, &keying), SDTLS_E_STATE); /* none negotiated */
  ROW(sdtls_conn_add_peer_fingerprint(c, "sha-256 00"), SDTLS_E_INVALID_ARGUMENT);
  ROW(sdtls_conn_send(c, junk, sdtls_conn_max_data_size(c) + 1, t), SDTLS_E_TOO_BIG);
  ROW(sdtls_conn_receive(c, NULL, 0, t), 0); /* an empty datagram is ignored */
  ROW(sdtls_conn_error(c), 0);

  /* CLOSED */
  ROW(sdtls_conn_close(c, t), 0);
  ROW(sdtls_conn_state(c), SDTLS_STATE_CLOSED);
  ROW(sdtls_conn_close(c, t), 0); /* twice is harmless */
  ROW(sdtls_conn_error(c), SDTLS_E_CLOSED);
  ROW(sdtls_conn_send(c, junk, 4, t), SDTLS_E_CLOSED);
  ROW(sdtls_conn_receive(c, junk, 4, t), SDTLS_E_CLOSED);
  ROW(sdtls_conn_handle_timeout(c, t), SDTLS_E_CLOSED);
  ROW(sdtls_conn_start(c, t), SDTLS_E_STATE);
  ROW(sdtls_conn_next_deadline(c), SDTLS_TIME_NEVER);
  ROW(sdtls_conn_max_data_size(c), 0);
  fixture_teardown(&fx);

  /* FAILED (the server never answers) */
  REQUIRE(fixture_init(&fx, 2, 50 * NETSIM_SEC, config_make(NULL, 0, NULL),
                       config_make(&g_server, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  peer_cleanup(&fx.p[1]);
  c = CLIENT(&fx);
  REQUIRE_EQ(sdtls_conn_start(c, netsim_now(fx.sim)), 0);
  netsim_run(fx.sim, peer_ended, &fx.p[0], 60 * NETSIM_SEC, 100000);
  REQUIRE_EQ(sdtls_conn_state(c), SDTLS_STATE_FAILED);
  const sdtls_time f = netsim_now(fx.sim);
  ROW(sdtls_conn_error(c), SDTLS_E_TIMEOUT);
  CHECK(sdtls_conn_error_detail(c)[0] != '\0');
  ROW(sdtls_conn_receive(c, junk, 4, f), SDTLS_E_TIMEOUT);
  ROW(sdtls_conn_send(c, junk, 4, f), SDTLS_E_TIMEOUT);
  ROW(sdtls_conn_handle_timeout(c, f), SDTLS_E_TIMEOUT);
  ROW(sdtls_conn_close(c, f), 0);
  ROW(sdtls_conn_state(c), SDTLS_STATE_FAILED); /* a close does not hide the failure */
  ROW(sdtls_conn_next_deadline(c), SDTLS_TIME_NEVER);
  fixture_teardown(&fx);
}

/* A frozen config refuses every setter and keeps its values. */
static void test_frozen_config(void) {
  const uint8_t b[4] = {1, 2, 3, 4};
  sdtls_config *cfg = config_make(&g_server, 0, NULL);
  REQUIRE(cfg != NULL);
  sdtls_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.size = sizeof(cb);
  cb.send = noop_send;
  sdtls_conn *c;
  REQUIRE_EQ(sdtls_conn_new(cfg, SDTLS_ROLE_SERVER, &cb, NULL, &c), 0);
  ROW(sdtls_config_set_option(cfg, SDTLS_OPT_MTU, 500), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_certificate_pem(cfg, b, 4, b, 4), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_certificate_file(cfg, "c", "k"), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_ca(cfg, "ca", NULL), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_ca_pem(cfg, b, 4), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_ciphers(cfg, "ECDHE-ECDSA-AES128-GCM-SHA256"), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_keylog(cfg, NULL, NULL), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_srtp_profiles(cfg, "SRTP_AES128_CM_SHA1_80"), SDTLS_E_FROZEN);
  ROW(sdtls_config_add_psk(cfg, "id", b, 4), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_psk_lookup(cfg, NULL, NULL), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_psk_identity_hint(cfg, "h"), SDTLS_E_FROZEN);
  ROW(sdtls_config_set_alpn(cfg, "coap"), SDTLS_E_FROZEN);
  uint8_t secret[32] = {0};
  ROW(sdtls_config_set_ticket_secret(cfg, secret, 32), 0); /* rotation works in use */
  int64_t v = 0;
  ROW(sdtls_config_get_option(cfg, SDTLS_OPT_MTU, &v), 0);
  ROW(v, 1200);
  sdtls_conn_free(c);
  sdtls_config_free(cfg);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"null_handles", test_null_handles},
      {"client_states", test_client_states},
      {"frozen_config", test_frozen_config},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

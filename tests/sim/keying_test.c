/* SPDX-License-Identifier: Apache-2.0 */
/* Keying and authentication beyond a plain handshake, in the simulator:
 * DTLS-SRTP keying material, fingerprint pinning, PSK, session resumption
 * with rotating ticket secrets, and ALPN. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

static testcert g_server, g_client, g_other;

#define START (500 * NETSIM_SEC)

/* Makes both connections from the configs (taken over), lets `prepare`
 * adjust them, and runs the handshake. Returns 1 when both connected. */
static int run_pair(fixture *fx, uint64_t seed, sdtls_config *cc, sdtls_config *sc,
                    const char *server_name) {
  if (!fixture_init(fx, seed, START, cc, sc) || !fixture_conns(fx)) return 0;
  if (server_name != NULL && sdtls_conn_set_server_name(CLIENT(fx), server_name) != 0) return 0;
  int ok = pair_handshake(fx->p, 10 * NETSIM_SEC);
  netsim_run_for(fx->sim, NETSIM_SEC); /* let a final alert arrive */
  return ok;
}

static sdtls_config *plain_config(void) {
  sdtls_config *c = NULL;
  return sdtls_config_new(&c) == 0 ? c : NULL;
}

static void fingerprint_text(const testcert *tc, char *out, size_t len) {
  uint8_t d[32];
  char hex[96];
  if (testcert_fingerprint(tc, d) != 0 || sdtls_fingerprint_format(d, hex, sizeof(hex)) != 0) {
    out[0] = '\0';
    return;
  }
  snprintf(out, len, "sha-256 %s", hex);
}

/* ---- DTLS-SRTP ---- */

static void test_srtp_keying(void) {
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_srtp_profiles(cc, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"), 0);
  CHECK_EQ(sdtls_config_set_srtp_profiles(sc, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"), 0);
  CHECK_EQ(sdtls_config_set_srtp_profiles(sc, "SRTP_NULL_SHA1_80"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_srtp_profiles(sc, "SRTP_AES128_CM_SHA1_80:"), SDTLS_E_INVALID_ARGUMENT);
  fixture fx;
  REQUIRE(run_pair(&fx, 1, cc, sc, NULL));
  /* RFC 5764: the server picks from the client's list in its own order. */
  CHECK_EQ(sdtls_conn_srtp_profile(CLIENT(&fx)), SDTLS_SRTP_AEAD_AES_128_GCM);
  CHECK_EQ(sdtls_conn_srtp_profile(SERVER(&fx)), SDTLS_SRTP_AEAD_AES_128_GCM);
  CHECK_STREQ(sdtls_srtp_profile_name(SDTLS_SRTP_AEAD_AES_128_GCM), "SRTP_AEAD_AES_128_GCM");
  CHECK(sdtls_srtp_profile_name(0x0099) == NULL);

  sdtls_srtp_keying ck, sk;
  memset(&ck, 0, sizeof(ck));
  memset(&sk, 0, sizeof(sk));
  ck.size = sk.size = sizeof(ck);
  REQUIRE_EQ(sdtls_conn_srtp_keying(CLIENT(&fx), &ck), 0);
  REQUIRE_EQ(sdtls_conn_srtp_keying(SERVER(&fx), &sk), 0);
  CHECK_EQ(ck.key_len, 16);
  CHECK_EQ(ck.salt_len, 12);
  const size_t n = ck.key_len + ck.salt_len;
  CHECK(memcmp(ck.client_write, sk.client_write, n) == 0);
  CHECK(memcmp(ck.server_write, sk.server_write, n) == 0);
  CHECK(memcmp(ck.client_write, ck.server_write, n) != 0);
  CHECK(memcmp(ck.local_write, sk.remote_write, n) == 0);
  CHECK(memcmp(ck.remote_write, sk.local_write, n) == 0);
  CHECK(memcmp(ck.local_write, ck.client_write, n) == 0);
  /* The split follows RFC 5764 4.2 over the exporter's output. */
  uint8_t m[56];
  REQUIRE_EQ(sdtls_conn_export_keying_material(CLIENT(&fx), m, sizeof(m), "EXTRACTOR-dtls_srtp",
                                               19, NULL, 0),
             0);
  CHECK(memcmp(ck.client_write, m, 16) == 0);
  CHECK(memcmp(ck.server_write, m + 16, 16) == 0);
  CHECK(memcmp(ck.client_write + 16, m + 32, 12) == 0);
  CHECK(memcmp(ck.server_write + 16, m + 44, 12) == 0);
  /* An older caller's smaller struct is refused rather than overrun. */
  sdtls_srtp_keying small = {0};
  small.size = offsetof(sdtls_srtp_keying, local_write);
  CHECK_EQ(sdtls_conn_srtp_keying(CLIENT(&fx), &small), SDTLS_E_INVALID_ARGUMENT);
  fixture_teardown(&fx);

  /* No common profile: the handshake goes on without SRTP. */
  cc = config_make(NULL, 0, NULL);
  sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_srtp_profiles(cc, "SRTP_AES128_CM_SHA1_32"), 0);
  CHECK_EQ(sdtls_config_set_srtp_profiles(sc, "SRTP_AEAD_AES_256_GCM"), 0);
  REQUIRE(run_pair(&fx, 2, cc, sc, NULL));
  CHECK_EQ(sdtls_conn_srtp_profile(CLIENT(&fx)), 0);
  CHECK_EQ(sdtls_conn_srtp_keying(CLIENT(&fx), &ck), SDTLS_E_STATE);
  fixture_teardown(&fx);

  /* AES-256-GCM: 32-byte keys. */
  cc = config_make(NULL, 0, NULL);
  sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_srtp_profiles(cc, "SRTP_AEAD_AES_256_GCM"), 0);
  CHECK_EQ(sdtls_config_set_srtp_profiles(sc, "SRTP_AEAD_AES_256_GCM"), 0);
  REQUIRE(run_pair(&fx, 3, cc, sc, NULL));
  REQUIRE_EQ(sdtls_conn_srtp_keying(SERVER(&fx), &sk), 0);
  CHECK_EQ(sk.profile, SDTLS_SRTP_AEAD_AES_256_GCM);
  CHECK_EQ(sk.key_len, 32);
  fixture_teardown(&fx);
}

/* ---- Fingerprints ---- */

static void test_fingerprint_pinning(void) {
  char fp_server[128], fp_client[128], fp_other[128];
  fingerprint_text(&g_server, fp_server, sizeof(fp_server));
  fingerprint_text(&g_client, fp_client, sizeof(fp_client));
  fingerprint_text(&g_other, fp_other, sizeof(fp_other));

  /* Both sides pin each other (WebRTC): verification stays on, no CA, no
   * server name. */
  sdtls_config *cc = config_make(&g_client, 1, NULL), *sc = config_make(&g_server, 1, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, fp_other), 0);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, fp_server), 0);
  fixture fx;
  REQUIRE(fixture_init(&fx, 10, START, cc, sc) && fixture_conns(&fx));
  CHECK_EQ(sdtls_conn_add_peer_fingerprint(SERVER(&fx), fp_client), 0);
  CHECK(pair_handshake(fx.p, 10 * NETSIM_SEC));
  CHECK_EQ(sdtls_conn_add_peer_fingerprint(CLIENT(&fx), fp_server), SDTLS_E_STATE);
  fixture_teardown(&fx);

  /* A mismatch fails with a verification error naming both. */
  cc = config_make(NULL, 1, NULL);
  sc = config_make(&g_server, 1, NULL);
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

/* ---- PSK ---- */

static const uint8_t kKey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static size_t lookup(void *user, const char *identity, uint8_t *key, size_t key_max) {
  int *calls = user;
  (*calls)++;
  if (strcmp(identity, "dynamic") != 0 || key_max < sizeof(kKey)) return 0;
  memcpy(key, kKey, sizeof(kKey));
  return sizeof(kKey);
}

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

/* ---- Resumption ---- */

/* One client handshake: `cc` (taken over) against the shared server
 * config `sc` (the caller's). In: an optional pin for the client's
 * connection and a session to offer. Out: whether both sides resumed, the
 * client's error, and (with want_session) the new session (sdtls_free). */
typedef struct client_round {
  const char *server_name;
  const char *conn_pin;
  const uint8_t *session;
  size_t session_len;
  int want_session;
  int connected, resumed, error;
  int group_named; /* sdtls_conn_group() said one */
  uint8_t *new_session;
  size_t new_session_len;
} client_round;

static void run_round_keep(sdtls_config *cc, sdtls_config *sc, uint64_t seed, client_round *r,
                           int keep_client_config) {
  fixture fx;
  r->connected = r->resumed = 0;
  r->error = SDTLS_E_INTERNAL;
  if (!fixture_init(&fx, seed, START, cc, sc) || !fixture_conns(&fx)) {
    fx.sc = NULL;
    fixture_teardown(&fx);
    CHECK_FAIL_("round %llu: set-up failed", (unsigned long long)seed);
    return;
  }
  if (r->server_name != NULL)
    CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), r->server_name), 0);
  if (r->conn_pin != NULL) CHECK_EQ(sdtls_conn_add_peer_fingerprint(CLIENT(&fx), r->conn_pin), 0);
  if (r->session != NULL)
    CHECK_EQ(sdtls_conn_set_session(CLIENT(&fx), r->session, r->session_len), 0);
  r->connected = pair_handshake(fx.p, 10 * NETSIM_SEC);
  /* DTLS 1.3 tickets, and an alert that ends a handshake, come after it. */
  netsim_run_for(fx.sim, NETSIM_SEC);
  r->connected = r->connected && sdtls_conn_state(CLIENT(&fx)) == SDTLS_STATE_CONNECTED &&
                 sdtls_conn_state(SERVER(&fx)) == SDTLS_STATE_CONNECTED;
  r->resumed = sdtls_conn_session_resumed(CLIENT(&fx));
  CHECK_EQ(r->resumed, sdtls_conn_session_resumed(SERVER(&fx)));
  r->error = sdtls_conn_error(CLIENT(&fx));
  r->group_named = sdtls_conn_group(CLIENT(&fx)) != NULL;
  if (r->connected && r->want_session &&
      sdtls_conn_get_session(CLIENT(&fx), &r->new_session, &r->new_session_len) != 0)
    r->connected = 0;
  fx.sc = NULL; /* the caller's */
  if (keep_client_config) fx.cc = NULL;
  fixture_teardown(&fx);
}

static void run_round(sdtls_config *cc, sdtls_config *sc, uint64_t seed, client_round *r) {
  run_round_keep(cc, sc, seed, r, 0);
}

static void test_resumption(void) {
  sdtls_config *sc = config_make(&g_server, 0, NULL);
  REQUIRE(sc != NULL);
  uint8_t secret1[32], secret2[32], secret3[32];
  memset(secret1, 1, 32);
  memset(secret2, 2, 32);
  memset(secret3, 3, 32);
  CHECK_EQ(sdtls_config_set_ticket_secret(sc, secret1, 32), 0);
  CHECK_EQ(sdtls_config_set_ticket_secret(sc, secret1, 31), SDTLS_E_INVALID_ARGUMENT);

  client_round first = {.want_session = 1};
  run_round(config_make(NULL, 0, NULL), sc, 30, &first);
  REQUIRE(first.connected);
  CHECK_EQ(first.resumed, 0);
  CHECK(first.new_session_len > 0);
  client_round r = {.session = first.new_session, .session_len = first.new_session_len};
  run_round(config_make(NULL, 0, NULL), sc, 31, &r);
  CHECK(r.connected && r.resumed);
  CHECK_EQ(r.group_named, 0); /* no key exchange in a resumed DTLS 1.2 handshake */
  CHECK_EQ(first.group_named, 1);

  /* One rotation: the old secret still opens its tickets. */
  CHECK_EQ(sdtls_config_set_ticket_secret(sc, secret2, 32), 0); /* frozen, in use: allowed */
  run_round(config_make(NULL, 0, NULL), sc, 32, &r);
  CHECK(r.connected && r.resumed);
  /* Two: the first secret is retired; a full handshake follows. */
  CHECK_EQ(sdtls_config_set_ticket_secret(sc, secret3, 32), 0);
  run_round(config_make(NULL, 0, NULL), sc, 33, &r);
  CHECK(r.connected && !r.resumed);

  /* Garbage is not a session. */
  fixture fx;
  REQUIRE(fixture_init(&fx, 34, START, config_make(NULL, 0, NULL), config_make(&g_server, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  CHECK_EQ(sdtls_conn_set_session(CLIENT(&fx), (const uint8_t *)"junk", 4), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_set_session(SERVER(&fx), r.session, r.session_len), SDTLS_E_STATE);
  uint8_t *none = NULL;
  size_t none_len = 0;
  CHECK_EQ(sdtls_conn_get_session(CLIENT(&fx), &none, &none_len), SDTLS_E_STATE);
  fixture_teardown(&fx);

  /* A server with tickets off: nothing to resume. */
  sdtls_config *off = config_make(&g_server, 0, NULL);
  REQUIRE(off != NULL);
  CHECK_EQ(sdtls_config_set_option(off, SDTLS_OPT_SESSION_TICKETS, 0), 0);
  client_round no = {.want_session = 1};
  run_round(config_make(NULL, 0, NULL), off, 35, &no);
  CHECK(!no.connected); /* connected, but no resumable session */
  sdtls_free(no.new_session);
  sdtls_config_free(off);
  sdtls_free(first.new_session);
  sdtls_config_free(sc);
}

/* A session stands in for authentication only under the policy it was
 * made under: a pinning client never resumes a session made under other
 * pins (the engine does not look at the certificate again on
 * resumption), nor a PSK client under another key. */
static void test_resumption_keeps_authentication(void) {
  char fp_server[128], fp_other[128];
  fingerprint_text(&g_server, fp_server, sizeof(fp_server));
  fingerprint_text(&g_other, fp_other, sizeof(fp_other));
  uint8_t secret[32];
  memset(secret, 7, sizeof(secret));
  sdtls_config *s1 = config_make(&g_server, 0, NULL), *s2 = config_make(&g_other, 0, NULL);
  REQUIRE(s1 && s2);
  CHECK_EQ(sdtls_config_set_ticket_secret(s1, secret, 32), 0);
  CHECK_EQ(sdtls_config_set_ticket_secret(s2, secret, 32), 0); /* one fleet */

  /* A session with the first server, made by a client pinning it; the
   * same pin resumes it. */
  client_round first = {.conn_pin = fp_server, .want_session = 1};
  run_round(config_make(NULL, 1, NULL), s1, 60, &first);
  REQUIRE(first.connected);
  client_round r = {.conn_pin = fp_server,
                    .session = first.new_session,
                    .session_len = first.new_session_len};
  run_round(config_make(NULL, 1, NULL), s1, 61, &r);
  CHECK(r.connected && r.resumed);

  /* A client pinning another certificate offers it to the first server:
   * no resumption, a full handshake, and the pin fails it. */
  r.conn_pin = fp_other;
  run_round(config_make(NULL, 1, NULL), s1, 62, &r);
  CHECK(!r.connected && !r.resumed);
  CHECK_EQ(r.error, SDTLS_E_VERIFY);
  /* ... and to the fleet's other server, whose certificate it pins: a full
   * handshake that succeeds on its own merits. */
  run_round(config_make(NULL, 1, NULL), s2, 63, &r);
  CHECK(r.connected && !r.resumed);
  sdtls_free(first.new_session);

  /* PSK: a session made with the right key does not let a client holding
   * the wrong one in. */
  sdtls_config *ps = plain_config(), *right = plain_config(), *wrong = plain_config();
  REQUIRE(ps && right && wrong);
  CHECK_EQ(sdtls_config_add_psk(ps, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_set_option(ps, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 2000), 0);
  CHECK_EQ(sdtls_config_add_psk(right, "device-1", kKey, sizeof(kKey)), 0);
  CHECK_EQ(sdtls_config_add_psk(wrong, "device-1", (const uint8_t *)"wrong key", 9), 0);
  CHECK_EQ(sdtls_config_set_option(wrong, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 2000), 0);
  client_round p1 = {.want_session = 1};
  run_round(right, ps, 64, &p1);
  REQUIRE(p1.connected);
  client_round p2 = {.session = p1.new_session, .session_len = p1.new_session_len};
  run_round(wrong, ps, 65, &p2);
  CHECK(!p2.connected && !p2.resumed);
  sdtls_free(p1.new_session);
  sdtls_config_free(ps);
  sdtls_config_free(s1);
  sdtls_config_free(s2);
}


/* Sets the newest version a config speaks (the sim's configs speak 1.2
 * unless told otherwise). */
static sdtls_config *at_version(sdtls_config *c, int64_t version) {
  if (c != NULL && sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, version) != 0) {
    sdtls_config_free(c);
    return NULL;
  }
  return c;
}

/* A server asking for client certificates, trusting `trust`, sharing the
 * fleet's ticket secret. */
static sdtls_config *client_cert_server(const testcert *trust, int64_t version) {
  uint8_t secret[32];
  memset(secret, 9, sizeof(secret));
  sdtls_config *c = at_version(config_make(&g_server, 1, trust), version);
  if (c != NULL && (sdtls_config_set_option(c, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1) != 0 ||
                    sdtls_config_set_option(c, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 2000) != 0 ||
                    sdtls_config_set_ticket_secret(c, secret, sizeof(secret)) != 0)) {
    sdtls_config_free(c);
    return NULL;
  }
  return c;
}

/* A session resumes only where a full handshake under the same config
 * would have authenticated the same peer (the session context covers the
 * trust anchors and the client-certificate policy), on every version the
 * engine speaks. */
static void test_resumption_binds_trust(void) {
  int64_t versions[2] = {SDTLS_DTLS1_2, SDTLS_DTLS1_3};
  for (int v = 0; v < 2; v++) {
    if (v == 1 && !sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) break;
    uint64_t seed = 80 + 10 * (uint64_t)v;
    /* Two servers of one fleet (one ticket secret): A trusts the client's
     * certificate, B another one. */
    sdtls_config *a = client_cert_server(&g_client, versions[v]);
    sdtls_config *b = client_cert_server(&g_other, versions[v]);
    REQUIRE(a && b);
    client_round first = {.want_session = 1};
    run_round(at_version(config_make(&g_client, 0, NULL), versions[v]), a, seed, &first);
    REQUIRE(first.connected);
    client_round r = {.session = first.new_session, .session_len = first.new_session_len};
    run_round(at_version(config_make(&g_client, 0, NULL), versions[v]), a, seed + 1, &r);
    CHECK(r.connected && r.resumed);
    /* B refuses this client on a full handshake, so it must not let the
     * session made with A stand in for it. */
    run_round(at_version(config_make(&g_client, 0, NULL), versions[v]), b, seed + 2, &r);
    CHECK(!r.resumed);
    CHECK(!r.connected);
    sdtls_free(first.new_session);

    /* A client that trusts the server makes a session; a client config
     * that does not trust it must not resume it. */
    sdtls_config *plain = at_version(config_make(&g_server, 0, NULL), versions[v]);
    REQUIRE(plain != NULL);
    client_round trusted = {.server_name = "server.test", .want_session = 1};
    run_round(at_version(config_make(NULL, 1, &g_server), versions[v]), plain, seed + 3, &trusted);
    REQUIRE(trusted.connected);
    client_round untrusting = {.server_name = "server.test",
                               .session = trusted.new_session,
                               .session_len = trusted.new_session_len};
    run_round(at_version(config_make(NULL, 1, &g_server), versions[v]), plain, seed + 4, &untrusting);
    CHECK(untrusting.connected && untrusting.resumed);
    run_round(at_version(config_make(NULL, 1, &g_other), versions[v]), plain, seed + 5, &untrusting);
    CHECK(!untrusting.resumed);
    CHECK(!untrusting.connected);
    CHECK_EQ(untrusting.error, SDTLS_E_VERIFY);
    sdtls_free(trusted.new_session);
    sdtls_config_free(plain);
    sdtls_config_free(a);
    sdtls_config_free(b);
  }
}

static size_t lookup_none(void *user, const char *identity, uint8_t *key, size_t key_max) {
  (void)identity;
  (void)key;
  (void)key_max;
  (*(int *)user)++;
  return 0;
}

static sdtls_config *psk_server(const char *identity, const uint8_t *key, size_t key_len,
                                sdtls_psk_lookup_cb find, int *calls) {
  uint8_t secret[32];
  memset(secret, 10, sizeof(secret));
  sdtls_config *c = plain_config();
  if (c == NULL) return NULL;
  if ((identity != NULL && sdtls_config_add_psk(c, identity, key, key_len) != 0) ||
      (find != NULL && sdtls_config_set_psk_lookup(c, find, calls) != 0) ||
      sdtls_config_set_option(c, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 2000) != 0 ||
      sdtls_config_set_ticket_secret(c, secret, sizeof(secret)) != 0) {
    sdtls_config_free(c);
    return NULL;
  }
  return c;
}

static sdtls_config *psk_client(const char *identity) {
  sdtls_config *c = plain_config();
  if (c != NULL && sdtls_config_add_psk(c, identity, kKey, sizeof(kKey)) != 0) {
    sdtls_config_free(c);
    return NULL;
  }
  return c;
}

/* The same for a server's PSKs: a server whose table lacks the identity
 * does not resume a session made with it elsewhere in the fleet; an
 * identity that came from a lookup is put to the lookup again. */
static void test_resumption_binds_psk_table(void) {
  sdtls_config *a = psk_server("device-1", kKey, sizeof(kKey), NULL, NULL);
  sdtls_config *b = psk_server("device-0", (const uint8_t *)"other", 5, NULL, NULL);
  REQUIRE(a && b);
  client_round first = {.want_session = 1};
  run_round(psk_client("device-1"), a, 100, &first);
  REQUIRE(first.connected);
  client_round r = {.session = first.new_session, .session_len = first.new_session_len};
  run_round(psk_client("device-1"), a, 101, &r);
  CHECK(r.connected && r.resumed);
  run_round(psk_client("device-1"), b, 102, &r);
  CHECK(!r.resumed);
  CHECK(!r.connected);
  sdtls_free(first.new_session);

  /* Lookups: C knows "dynamic", D (same fleet) knows nothing. */
  int c_calls = 0, d_calls = 0;
  sdtls_config *c = psk_server(NULL, NULL, 0, lookup, &c_calls);
  sdtls_config *d = psk_server(NULL, NULL, 0, lookup_none, &d_calls);
  REQUIRE(c && d);
  client_round dyn = {.want_session = 1};
  run_round(psk_client("dynamic"), c, 103, &dyn);
  REQUIRE(dyn.connected);
  client_round again = {.session = dyn.new_session, .session_len = dyn.new_session_len};
  run_round(psk_client("dynamic"), c, 104, &again);
  CHECK(again.connected && again.resumed);
  CHECK_EQ(c_calls, 2); /* the full handshake, and the resumed one's check */
  run_round(psk_client("dynamic"), d, 105, &again);
  CHECK(!again.connected);
  CHECK(d_calls >= 1);
  sdtls_free(dyn.new_session);
  sdtls_config_free(a);
  sdtls_config_free(b);
  sdtls_config_free(c);
  sdtls_config_free(d);
}

/* One client config offering stored sessions again and again (the config
 * keeps the last one it parsed): the same bytes resume every time, other
 * bytes replace it, altered bytes are never taken for it, and a connection
 * whose pin differs still never resumes it. */
static void test_resumption_same_bytes(void) {
  char fp_server[128], fp_other[128];
  fingerprint_text(&g_server, fp_server, sizeof(fp_server));
  fingerprint_text(&g_other, fp_other, sizeof(fp_other));
  sdtls_config *sc = config_make(&g_server, 0, NULL), *cc = config_make(NULL, 1, NULL);
  REQUIRE(sc != NULL && cc != NULL);
  client_round a = {.conn_pin = fp_server, .want_session = 1};
  run_round_keep(cc, sc, 80, &a, 1);
  REQUIRE(a.connected);
  client_round b = {.conn_pin = fp_server, .want_session = 1};
  run_round_keep(cc, sc, 81, &b, 1);
  REQUIRE(b.connected);
  for (int i = 0; i < 3; i++) {
    client_round r = {.conn_pin = fp_server, .session = a.new_session, .session_len = a.new_session_len};
    run_round_keep(cc, sc, 82 + (uint64_t)i, &r, 1);
    CHECK(r.connected && r.resumed);
  }
  /* Another session replaces the kept one; both still resume. */
  client_round r = {.conn_pin = fp_server, .session = b.new_session, .session_len = b.new_session_len};
  run_round_keep(cc, sc, 85, &r, 1);
  CHECK(r.connected && r.resumed);
  r.session = a.new_session;
  r.session_len = a.new_session_len;
  run_round_keep(cc, sc, 86, &r, 1);
  CHECK(r.connected && r.resumed);
  /* The kept session under another pin: a full handshake, which the pin fails. */
  r.conn_pin = fp_other;
  run_round_keep(cc, sc, 87, &r, 1);
  CHECK(!r.connected && !r.resumed);
  CHECK_EQ(r.error, SDTLS_E_VERIFY);
  /* The same length, the first byte changed (no longer a session): not
   * taken for the kept one. */
  uint8_t *altered = malloc(a.new_session_len);
  REQUIRE(altered != NULL);
  memcpy(altered, a.new_session, a.new_session_len);
  altered[0] ^= 0x01;
  fixture fx;
  REQUIRE(fixture_init(&fx, 88, START, cc, sc));
  REQUIRE(fixture_conns(&fx));
  CHECK_EQ(sdtls_conn_set_session(CLIENT(&fx), altered, a.new_session_len), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_set_session(CLIENT(&fx), a.new_session, a.new_session_len), 0);
  fx.cc = fx.sc = NULL; /* kept */
  fixture_teardown(&fx);
  free(altered);
  sdtls_free(a.new_session);
  sdtls_free(b.new_session);
  sdtls_config_free(cc);
  sdtls_config_free(sc);
}

/* ---- ALPN ---- */

static void test_alpn(void) {
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_alpn(cc, "coap,webrtc"), 0);
  CHECK_EQ(sdtls_config_set_alpn(sc, "webrtc,coap"), 0);
  fixture fx;
  REQUIRE(run_pair(&fx, 40, cc, sc, NULL));
  CHECK_STREQ(sdtls_conn_alpn(CLIENT(&fx)), "webrtc"); /* the server's preference */
  CHECK_STREQ(sdtls_conn_alpn(SERVER(&fx)), "webrtc");
  fixture_teardown(&fx);

  /* No overlap: no_application_protocol. */
  cc = config_make(NULL, 0, NULL);
  sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_alpn(cc, "h3"), 0);
  CHECK_EQ(sdtls_config_set_alpn(sc, "coap"), 0);
  CHECK(!run_pair(&fx, 41, cc, sc, NULL));
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_ALERT);
  CHECKF(strstr(sdtls_conn_error_detail(CLIENT(&fx)), "application protocol") != NULL,
         "detail: %s", sdtls_conn_error_detail(CLIENT(&fx)));
  fixture_teardown(&fx);

  /* A client without ALPN is accepted; nothing is selected. */
  cc = config_make(NULL, 0, NULL);
  sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_alpn(sc, "coap"), 0);
  REQUIRE(run_pair(&fx, 42, cc, sc, NULL));
  CHECK(sdtls_conn_alpn(SERVER(&fx)) == NULL);
  fixture_teardown(&fx);

  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  CHECK_EQ(sdtls_config_set_alpn(c, ""), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(c, "a,,b"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(c, "a,"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  sdtls_config_free(c);
}

/* ---- Limits that match the wire ---- */

/* n copies of a name of name_len bytes, joined by sep (malloc'd). */
static char *repeated_list(size_t n, size_t name_len, char sep, const char *name) {
  char *s = malloc(n * (name_len + 1) + 1), *p = s;
  if (s == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (i > 0) *p++ = sep;
    if (name != NULL) {
      memcpy(p, name, name_len);
    } else {
      memset(p, 'a', name_len);
    }
    p += name_len;
  }
  *p = '\0';
  return s;
}

/* A list the setter takes must also handshake: a server refuses a
 * ClientHello over 16 KiB (excessive_message_size), so the ALPN list is
 * held to 4096 bytes on the wire (one length byte per name), 4095 of text. */
static void test_alpn_limit(void) {
  /* 16 names of 255 bytes: 16 * 256 = 4096 on the wire, the most taken. */
  char *most = repeated_list(16, 255, ',', NULL);
  char *over = repeated_list(17, 255, ',', NULL); /* 4352 */
  char *many = repeated_list(10000, 5, ',', NULL); /* 60,000 */
  char *name256 = repeated_list(1, 256, ',', NULL);
  REQUIRE(most && over && many && name256);
  CHECK_EQ(strlen(most), 4095u);
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_alpn(cc, "coap"), 0);
  CHECK_EQ(sdtls_config_set_alpn(cc, over), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(cc, many), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(cc, name256), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(cc, most), 0);
  /* The server knows only the last name, which it finds at the end. */
  CHECK_EQ(sdtls_config_set_alpn(sc, most + 16 * 256 - 256), 0);
  fixture fx;
  CHECK(run_pair(&fx, 43, cc, sc, NULL));
  const char *got = sdtls_conn_alpn(SERVER(&fx));
  CHECK(got != NULL && strlen(got) == 255);
  fixture_teardown(&fx);
  free(most);
  free(over);
  free(many);
  free(name256);
}

/* A profile named twice would only make the use_srtp extension longer:
 * refused, so that a list holds at most the four profiles. */
static void test_srtp_limit(void) {
  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  char *many = repeated_list(10000, strlen("SRTP_AES128_CM_SHA1_80"), ':', "SRTP_AES128_CM_SHA1_80");
  REQUIRE(many != NULL);
  CHECK_EQ(sdtls_config_set_srtp_profiles(c, many), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_srtp_profiles(c, "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_80"),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_srtp_profiles(
               c, "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM"),
           0);
  free(many);
  sdtls_config_free(c);
}

/* The same for groups: each group once, so the list is at most the
 * engine's groups. */
static void test_groups_limit(void) {
  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  char *many = repeated_list(10000, strlen("X25519"), ':', "X25519");
  REQUIRE(many != NULL);
  CHECK_EQ(sdtls_config_set_groups(c, many), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_groups(c, "P-256:X25519:P-256"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_groups(c, "P-256:X25519:P-384"), 0);
  free(many);
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

/* ---- Groups ---- */

static void test_groups(void) {
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  /* DTLS 1.2 also checks the ECDSA certificate's curve (P-256) against
   * the client's list, so P-256 stays in it. */
  CHECK_EQ(sdtls_config_set_groups(cc, "P-384:P-256"), 0);
  CHECK_EQ(sdtls_config_set_groups(sc, "P-384:P-256"), 0);
  CHECK_EQ(sdtls_config_set_groups(sc, "X25519:NO-SUCH-GROUP"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_groups(sc, ""), SDTLS_E_INVALID_ARGUMENT);
  fixture fx;
  CHECK(sdtls_conn_group(NULL) == NULL);
  REQUIRE(run_pair(&fx, 50, cc, sc, NULL));
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "P-384"); /* the refused list changed nothing */
  CHECK_STREQ(sdtls_conn_group(SERVER(&fx)), "P-384");
  fixture_teardown(&fx);

  /* Defaults on both sides: the engine's first choice. */
  REQUIRE(run_pair(&fx, 51, config_make(NULL, 0, NULL), config_make(&g_server, 0, NULL), NULL));
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "X25519");
  fixture_teardown(&fx);
}

static void test_features(void) {
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_SRTP), 1);
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_PSK), 1);
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_RESUMPTION), 1);
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_ALPN), 1);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"srtp_keying", test_srtp_keying},       {"fingerprint_pinning", test_fingerprint_pinning},
      {"psk", test_psk},                       {"resumption", test_resumption},
      {"resumption_keeps_authentication", test_resumption_keeps_authentication},
      {"resumption_same_bytes", test_resumption_same_bytes},
      {"resumption_binds_trust", test_resumption_binds_trust},
      {"resumption_binds_psk_table", test_resumption_binds_psk_table},
      {"alpn", test_alpn},                     {"groups", test_groups},
      {"features", test_features},
      {"alpn_limit", test_alpn_limit},          {"srtp_limit", test_srtp_limit},
      {"groups_limit", test_groups_limit},      {"psk_limit", test_psk_limit},
  };
  if (testcert_ecdsa("server.test", &g_server) != 0 ||
      testcert_ecdsa("client.test", &g_client) != 0 || testcert_ecdsa("server.test", &g_other) != 0)
    return 1;
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&g_server);
  testcert_free(&g_client);
  testcert_free(&g_other);
  return rc;
}

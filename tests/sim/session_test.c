/* SPDX-License-Identifier: Apache-2.0 */
/* Session resumption (src/session.c) in the simulator: tickets under
 * rotating secrets, and a session bound to the authentication policy
 * that made it (pins, trust anchors, the PSK table). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

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

/* A round of client config `cc` against `sc` that keeps its session
 * (*first), then round *again from client config `again_cc` offering that
 * session (seed + 1). Returns whether the first connected; when it did
 * not, *again is not run (again_cc is freed). */
static int session_then_resume(sdtls_config *cc, sdtls_config *again_cc, sdtls_config *sc,
                               uint64_t seed, client_round *first, client_round *again) {
  first->want_session = 1;
  run_round(cc, sc, seed, first);
  if (!first->connected) {
    sdtls_config_free(again_cc);
    return 0;
  }
  again->session = first->new_session;
  again->session_len = first->new_session_len;
  run_round(again_cc, sc, seed + 1, again);
  return 1;
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

  client_round first = {0}, r = {0};
  REQUIRE(session_then_resume(config_make(NULL, 0, NULL), config_make(NULL, 0, NULL), sc, 30,
                              &first, &r));
  CHECK_EQ(first.resumed, 0);
  CHECK(first.new_session_len > 0);
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
  client_round first = {.conn_pin = fp_server}, r = {.conn_pin = fp_server};
  REQUIRE(session_then_resume(config_make(NULL, 1, NULL), config_make(NULL, 1, NULL), s1, 60,
                              &first, &r));
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
  client_round p1 = {0}, p2 = {0};
  REQUIRE(session_then_resume(right, wrong, ps, 64, &p1, &p2));
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
    client_round first = {0}, r = {0};
    REQUIRE(session_then_resume(at_version(config_make(&g_client, 0, NULL), versions[v]),
                                at_version(config_make(&g_client, 0, NULL), versions[v]), a, seed,
                                &first, &r));
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
    client_round trusted = {.server_name = "server.test"};
    client_round untrusting = {.server_name = "server.test"};
    REQUIRE(session_then_resume(at_version(config_make(NULL, 1, &g_server), versions[v]),
                                at_version(config_make(NULL, 1, &g_server), versions[v]), plain,
                                seed + 3, &trusted, &untrusting));
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
  client_round first = {0}, r = {0};
  REQUIRE(session_then_resume(psk_client("device-1"), psk_client("device-1"), a, 100, &first, &r));
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
  client_round dyn = {0}, again = {0};
  REQUIRE(session_then_resume(psk_client("dynamic"), psk_client("dynamic"), c, 103, &dyn, &again));
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

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"resumption", test_resumption},
      {"resumption_keeps_authentication", test_resumption_keeps_authentication},
      {"resumption_same_bytes", test_resumption_same_bytes},
      {"resumption_binds_trust", test_resumption_binds_trust},
      {"resumption_binds_psk_table", test_resumption_binds_psk_table},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

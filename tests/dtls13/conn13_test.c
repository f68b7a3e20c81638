/* SPDX-License-Identifier: Apache-2.0 */
/* DTLS 1.3 through the unchanged ABI, over the network simulator: version
 * range options, the feature query, post-handshake timers (ACKs, KeyUpdate,
 * NewSessionTicket) through next_deadline/handle_timeout, KeyUpdate, the
 * negotiated group, lossy links. With an engine that does not speak DTLS
 * 1.3 only the checks of that are made (and the rest is skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h" /* g_server ("server.test"), feature_main() */

#define SIM_START (1000 * NETSIM_SEC)

/* `c` (NULL: none) speaking up to `max_version`, 0: the engine's newest
 * (config_make pins DTLS 1.2 for the older tests; undone here), with
 * `groups` (NULL: the default). */
static sdtls_config *at_version(sdtls_config *c, int64_t max_version, const char *groups) {
  if (c != NULL) {
    CHECK_EQ(sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION,
                                     max_version != 0 ? max_version : SDTLS_DTLS1_3), 0);
  }
  if (c != NULL && groups != NULL) {
    CHECK_EQ(sdtls_config_set_groups(c, groups), 0);
  }
  return c;
}

/* A client verifying the server's certificate, and the server. */
static sdtls_config *client_config(int64_t max_version, const char *groups) {
  return at_version(config_make(NULL, 1, &g_server), max_version, groups);
}

static sdtls_config *server_config(int64_t max_version, const char *groups) {
  return at_version(config_make(&g_server, 0, NULL), max_version, groups);
}

static int setup(fixture *fx, uint64_t seed, sdtls_config *cc, sdtls_config *sc) {
  if (!fixture_init(fx, seed, SIM_START, cc, sc) || !fixture_conns(fx)) {
    return 0;
  }
  return sdtls_conn_set_server_name(CLIENT(fx), "server.test") == 0;
}

/* Runs until neither side has a deadline (everything acknowledged), at
 * most `limit`. Returns 1 when both went quiet. */
static int run_until_quiet(fixture *fx, sdtls_time limit) {
  sdtls_time end = netsim_now(fx->sim) + limit;
  while (netsim_now(fx->sim) < end) {
    netsim_run_for(fx->sim, 100 * NETSIM_MS);
    if (netsim_in_flight(fx->sim) == 0 &&
        sdtls_conn_next_deadline(CLIENT(fx)) == SDTLS_TIME_NEVER &&
        sdtls_conn_next_deadline(SERVER(fx)) == SDTLS_TIME_NEVER) {
      return 1;
    }
  }
  return 0;
}

static int exchange(fixture *fx, int n) {
  size_t before0 = fx->p[0].n_msgs, before1 = fx->p[1].n_msgs;
  for (int i = 0; i < n; i++) {
    uint8_t buf[64];
    payload_make(buf, sizeof(buf), 0, (unsigned)i);
    if (sdtls_conn_send(CLIENT(fx), buf, sizeof(buf), netsim_now(fx->sim)) != 0) return 0;
    payload_make(buf, sizeof(buf), 1, (unsigned)i);
    if (sdtls_conn_send(SERVER(fx), buf, sizeof(buf), netsim_now(fx->sim)) != 0) return 0;
  }
  netsim_run_for(fx->sim, 2 * NETSIM_SEC);
  return fx->p[0].n_msgs - before0 == (size_t)n && fx->p[1].n_msgs - before1 == (size_t)n;
}

/* ---- the engine without DTLS 1.3 says so ---- */

static void test_feature_and_range(void) {
  sdtls_config *c;
  REQUIRE_EQ(sdtls_config_new(&c), 0);
  int64_t v = 0;
  CHECK_EQ(sdtls_config_get_option(c, SDTLS_OPT_MAX_VERSION, &v), 0);
  if (sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) {
    CHECK_EQ(v, SDTLS_DTLS1_3); /* the newest the engine speaks */
    CHECK_EQ(sdtls_config_set_option(c, SDTLS_OPT_MIN_VERSION, SDTLS_DTLS1_3), 0);
    CHECK_EQ(sdtls_config_set_groups(c, "X25519MLKEM768:X25519"), 0);
  } else {
    CHECK_EQ(v, SDTLS_DTLS1_2);
    CHECK_EQ(sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_3),
             SDTLS_E_UNSUPPORTED);
    CHECK_EQ(sdtls_config_set_groups(c, "X25519MLKEM768"), SDTLS_E_INVALID_ARGUMENT);
  }
  CHECK_EQ(sdtls_config_set_groups(c, "NoSuchGroup"), SDTLS_E_INVALID_ARGUMENT);
  sdtls_config_free(c);
}

static int skip(void) {
  if (!sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) {
    printf("  (skipped: the engine does not speak DTLS 1.3)\n");
    return 1;
  }
  return 0;
}

/* ---- DTLS 1.3 ---- */

#define PQ "X25519MLKEM768:X25519:P-256"

static void test_default_is_dtls13(void) {
  if (skip()) return;
  fixture fx;
  /* Versions and groups as the defaults are: post-quantum by default. */
  REQUIRE(setup(&fx, 1, client_config(0, NULL), server_config(0, NULL)));
  REQUIRE(pair_handshake(fx.p, 10 * NETSIM_SEC));
  CHECK_EQ(fx.p[0].handshake_time, SIM_START);
  CHECK_STREQ(sdtls_conn_version(CLIENT(&fx)), "DTLSv1.3");
  CHECK_STREQ(sdtls_conn_version(SERVER(&fx)), "DTLSv1.3");
  const char *cipher = sdtls_conn_cipher(CLIENT(&fx));
  CHECK(cipher != NULL && strncmp(cipher, "TLS_AES_", 8) == 0);
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "X25519MLKEM768");
  CHECK_STREQ(sdtls_conn_group(SERVER(&fx)), "X25519MLKEM768");
  /* At the default MTU every datagram fits; the ClientHello spans two. */
  CHECK(netsim_get_stats(fx.sim, NETSIM_A)->largest <= 1200);
  CHECK(netsim_get_stats(fx.sim, NETSIM_B)->largest <= 1200);
  CHECK(netsim_captured_count(fx.sim, NETSIM_A) >= 2);
  CHECK(sdtls_conn_max_data_size(CLIENT(&fx)) > 1100);
  uint8_t ka[32], kb[32];
  CHECK_EQ(sdtls_conn_export_keying_material(CLIENT(&fx), ka, 32, "EXPORTER-test", 13, NULL, 0), 0);
  CHECK_EQ(sdtls_conn_export_keying_material(SERVER(&fx), kb, 32, "EXPORTER-test", 13, NULL, 0), 0);
  CHECK(memcmp(ka, kb, 32) == 0);
  CHECK(exchange(&fx, 20));
  /* Timers after the handshake run through the ABI and then go quiet. */
  CHECK(run_until_quiet(&fx, 30 * NETSIM_SEC));
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_close(CLIENT(&fx), netsim_now(fx.sim)), 0);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CLOSED);
  CHECK_EQ(fx.p[1].close_reason, 0);
  fixture_teardown(&fx);
}

static void test_version_range(void) {
  if (skip()) return;
  struct {
    int64_t cmax, smax;
    const char *want;
  } rows[] = {
      {SDTLS_DTLS1_2, 0, "DTLSv1.2"},
      {0, SDTLS_DTLS1_2, "DTLSv1.2"},
      {SDTLS_DTLS1_3, SDTLS_DTLS1_3, "DTLSv1.3"},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    fixture fx;
    REQUIRE(setup(&fx, 2 + i, client_config(rows[i].cmax, NULL), server_config(rows[i].smax, NULL)));
    CHECK(pair_handshake(fx.p, 10 * NETSIM_SEC));
    CHECK_STREQ(sdtls_conn_version(CLIENT(&fx)), rows[i].want);
    CHECK(exchange(&fx, 3));
    /* DTLS 1.2 has no KeyUpdate. */
    CHECK_EQ(sdtls_conn_key_update(CLIENT(&fx), netsim_now(fx.sim)),
             strcmp(rows[i].want, "DTLSv1.2") == 0 ? SDTLS_E_UNSUPPORTED : 0);
    fixture_teardown(&fx);
  }
  /* A client that insists on 1.3 and a server capped at 1.2 do not agree. */
  sdtls_config *cc = client_config(0, NULL);
  REQUIRE(cc != NULL);
  CHECK_EQ(sdtls_config_set_option(cc, SDTLS_OPT_MIN_VERSION, SDTLS_DTLS1_3), 0);
  fixture fx;
  REQUIRE(setup(&fx, 9, cc, server_config(SDTLS_DTLS1_2, NULL)));
  CHECK(!pair_handshake(fx.p, 10 * NETSIM_SEC));
  CHECK(sdtls_conn_state(CLIENT(&fx)) == SDTLS_STATE_FAILED ||
        sdtls_conn_state(SERVER(&fx)) == SDTLS_STATE_FAILED);
  fixture_teardown(&fx);
}

static void test_groups(void) {
  if (skip()) return;
  struct {
    const char *cg, *sg, *want;
  } rows[] = {
      {"X25519", NULL, "X25519"},
      {"P-256", "X25519:P-256", "P-256"},
      {"X25519MLKEM768", "X25519MLKEM768", "X25519MLKEM768"},
      /* The client's first key share is not the server's choice: a
       * HelloRetryRequest asks for the other. */
      {"X25519:X25519MLKEM768", "X25519MLKEM768", "X25519MLKEM768"},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    fixture fx;
    REQUIRE(setup(&fx, 20 + i, client_config(0, rows[i].cg), server_config(0, rows[i].sg)));
    CHECKF(pair_handshake(fx.p, 10 * NETSIM_SEC), "groups %s / %s", rows[i].cg,
           rows[i].sg ? rows[i].sg : "default");
    CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), rows[i].want);
    CHECK_STREQ(sdtls_conn_group(SERVER(&fx)), rows[i].want);
    CHECK(exchange(&fx, 2));
    fixture_teardown(&fx);
  }
  /* DTLS 1.2 has no post-quantum group: the next shared one is taken. */
  fixture fx;
  REQUIRE(setup(&fx, 30, client_config(SDTLS_DTLS1_2, "X25519MLKEM768:X25519:P-256"),
                server_config(0, NULL)));
  CHECKF(pair_handshake(fx.p, 10 * NETSIM_SEC), "client: %s / server: %s",
         sdtls_conn_error_detail(CLIENT(&fx)), sdtls_conn_error_detail(SERVER(&fx)));
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "X25519");
  fixture_teardown(&fx);
}

static void test_key_update(void) {
  if (skip()) return;
  fixture fx;
  REQUIRE(setup(&fx, 40, client_config(0, "X25519"), server_config(0, NULL)));
  REQUIRE(pair_handshake(fx.p, 10 * NETSIM_SEC));
  REQUIRE(run_until_quiet(&fx, 30 * NETSIM_SEC));
  for (int round = 0; round < 3; round++) {
    CHECK_EQ(sdtls_conn_key_update(CLIENT(&fx), netsim_now(fx.sim)), 0);
    /* Awaiting the peer's ACK: the timer runs. */
    CHECK(sdtls_conn_next_deadline(CLIENT(&fx)) != SDTLS_TIME_NEVER);
    CHECK(exchange(&fx, 5));
    CHECK(run_until_quiet(&fx, 30 * NETSIM_SEC));
  }
  CHECK_EQ(sdtls_conn_key_update(SERVER(&fx), netsim_now(fx.sim)), 0);
  CHECK(exchange(&fx, 5));
  /* The KeyUpdate's record is lost: it is retransmitted through
   * handle_timeout until acknowledged, and data keeps flowing. */
  netsim_link lossy = {0};
  lossy.drop = 1.0;
  netsim_set_link(fx.sim, NETSIM_A, &lossy);
  CHECK_EQ(sdtls_conn_key_update(CLIENT(&fx), netsim_now(fx.sim)), 0);
  netsim_run_for(fx.sim, 50 * NETSIM_MS);
  netsim_link clean = {0};
  netsim_set_link(fx.sim, NETSIM_A, &clean);
  uint64_t sent_before = netsim_get_stats(fx.sim, NETSIM_A)->sent;
  CHECK(run_until_quiet(&fx, 30 * NETSIM_SEC));
  CHECK(netsim_get_stats(fx.sim, NETSIM_A)->sent > sent_before); /* retransmitted */
  CHECK(exchange(&fx, 5));
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_key_update(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  fixture_teardown(&fx);
  /* Not before the handshake is done. */
  REQUIRE(setup(&fx, 41, client_config(0, NULL), server_config(0, NULL)));
  CHECK_EQ(sdtls_conn_key_update(CLIENT(&fx), netsim_now(fx.sim)), SDTLS_E_STATE);
  fixture_teardown(&fx);
}

/* The client's last flight (Finished) is lost: in DTLS 1.3 the client is
 * connected already; its timer retransmits until the server acknowledges. */
static void test_lost_client_finished(void) {
  if (skip()) return;
  fixture fx;
  REQUIRE(setup(&fx, 50, client_config(0, "X25519"), server_config(0, NULL)));
  /* 10 ms each way: the ClientHello arrives at 10 ms, the server's flight
   * at 20 ms; from 15 ms on, what the client sends is lost. */
  netsim_link slow = {0};
  slow.delay_ns = 10 * NETSIM_MS;
  netsim_set_link(fx.sim, NETSIM_A, &slow);
  netsim_set_link(fx.sim, NETSIM_B, &slow);
  sdtls_conn_start(CLIENT(&fx), netsim_now(fx.sim));
  netsim_run_for(fx.sim, 15 * NETSIM_MS);
  netsim_link drop = slow;
  drop.drop = 1.0;
  netsim_set_link(fx.sim, NETSIM_A, &drop);
  netsim_run_for(fx.sim, 20 * NETSIM_MS);
  CHECK_EQ(fx.p[0].handshake_done, 1);
  CHECK_EQ(fx.p[1].handshake_done, 0);
  CHECK(sdtls_conn_next_deadline(CLIENT(&fx)) != SDTLS_TIME_NEVER);
  netsim_set_link(fx.sim, NETSIM_A, &slow);
  CHECK(run_until_quiet(&fx, 30 * NETSIM_SEC));
  CHECK_EQ(fx.p[1].handshake_done, 1);
  CHECK(exchange(&fx, 3));
  fixture_teardown(&fx);
}

/* The server answers the ClientHello, then vanishes: the client is
 * connected (DTLS 1.3 finishes on its side first), retransmits its Finished
 * and fails with SDTLS_E_TIMEOUT at the handshake deadline instead of
 * retransmitting for ever. */
static void test_server_vanishes_after_its_flight(void) {
  if (skip()) return;
  fixture fx;
  sdtls_config *cc = client_config(0, NULL);
  REQUIRE(cc != NULL);
  CHECK_EQ(sdtls_config_set_option(cc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 5000), 0);
  REQUIRE(setup(&fx, 80, cc, server_config(0, NULL)));
  const sdtls_time t0 = start_on_slow_links(&fx);
  REQUIRE(t0 != 0);
  netsim_run_for(fx.sim, 15 * NETSIM_MS); /* the server's flight is on its way */
  server_vanishes(&fx);
  peer *c = &fx.p[0];
  CHECK_EQ(c->handshake_done, 1);
  CHECK_EQ(sdtls_conn_state(c->conn), SDTLS_STATE_FAILED);
  CHECK_EQ(c->close_reason, SDTLS_E_TIMEOUT);
  CHECK(c->close_time >= t0 + 5000 * NETSIM_MS && c->close_time <= t0 + 5020 * NETSIM_MS);
  CHECK(strstr(sdtls_conn_error_detail(c->conn), "acknowledge") != NULL);
  CHECK_EQ(sdtls_conn_next_deadline(c->conn), SDTLS_TIME_NEVER);
  const uint64_t sent = netsim_get_stats(fx.sim, NETSIM_A)->sent;
  netsim_run_for(fx.sim, 60 * NETSIM_SEC);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, sent);
  fixture_teardown(&fx);
}

static void test_impaired_links(void) {
  if (skip()) return;
  int ok = 0;
  const int runs = 20;
  for (int i = 0; i < runs; i++) {
    fixture fx;
    REQUIRE(setup(&fx, 100 + i, client_config(0, PQ), server_config(0, PQ)));
    const netsim_link l = {.drop = 0.2, .duplicate = 0.1, .reorder = 0.2,
                           .delay_ns = 20 * NETSIM_MS, .jitter_ns = 10 * NETSIM_MS};
    netsim_set_link(fx.sim, NETSIM_A, &l);
    netsim_set_link(fx.sim, NETSIM_B, &l);
    if (pair_handshake(fx.p, 60 * NETSIM_SEC) &&
        strcmp(sdtls_conn_version(CLIENT(&fx)), "DTLSv1.3") == 0) {
      ok++;
    }
    fixture_teardown(&fx);
  }
  CHECKF(ok == runs, "%d of %d lossy DTLS 1.3 handshakes completed", ok, runs);
}

/* A small MTU fragments every flight, the post-quantum key shares too. */
static void test_small_mtu(void) {
  if (skip()) return;
  fixture fx;
  sdtls_config *cc = client_config(0, PQ), *sc = server_config(0, PQ);
  REQUIRE(cc != NULL && sc != NULL);
  CHECK_EQ(sdtls_config_set_option(cc, SDTLS_OPT_MTU, 400), 0);
  CHECK_EQ(sdtls_config_set_option(sc, SDTLS_OPT_MTU, 400), 0);
  REQUIRE(setup(&fx, 60, cc, sc));
  REQUIRE(pair_handshake(fx.p, 10 * NETSIM_SEC));
  CHECK(netsim_get_stats(fx.sim, NETSIM_A)->largest <= 400);
  CHECK(netsim_get_stats(fx.sim, NETSIM_B)->largest <= 400);
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "X25519MLKEM768");
  CHECK(exchange(&fx, 3));
  fixture_teardown(&fx);
}

/* DTLS 1.3 tickets come after the handshake (NewSessionTicket): once the
 * timers are quiet the session resumes. */
static void test_resumption(void) {
  if (skip()) return;
  sdtls_config *sc = server_config(0, NULL);
  REQUIRE(sc != NULL);
  uint8_t *session = NULL;
  size_t len = 0;
  for (int round = 0; round < 2; round++) {
    fixture fx;
    REQUIRE(fixture_init(&fx, 70 + round, SIM_START, client_config(0, NULL), sc));
    REQUIRE(fixture_conns(&fx));
    CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "server.test"), 0);
    if (session != NULL) {
      CHECK_EQ(sdtls_conn_set_session(CLIENT(&fx), session, len), 0);
    }
    CHECK(pair_handshake(fx.p, 10 * NETSIM_SEC));
    CHECK(run_until_quiet(&fx, 30 * NETSIM_SEC));
    CHECK_EQ(sdtls_conn_session_resumed(CLIENT(&fx)), round);
    CHECK_EQ(sdtls_conn_session_resumed(SERVER(&fx)), round);
    CHECK_STREQ(sdtls_conn_version(CLIENT(&fx)), "DTLSv1.3");
    if (session == NULL) {
      CHECK_EQ(sdtls_conn_get_session(CLIENT(&fx), &session, &len), 0);
    }
    CHECK(exchange(&fx, 2));
    fx.sc = NULL; /* used again */
    peer_cleanup(&fx.p[1]);
    fixture_teardown(&fx);
  }
  sdtls_free(session);
  sdtls_config_free(sc);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"feature_and_range", test_feature_and_range},
      {"default_is_dtls13", test_default_is_dtls13},
      {"version_range", test_version_range},
      {"groups", test_groups},
      {"key_update", test_key_update},
      {"lost_client_finished", test_lost_client_finished},
      {"server_vanishes_after_its_flight", test_server_vanishes_after_its_flight},
      {"impaired_links", test_impaired_links},
      {"small_mtu", test_small_mtu},
      {"resumption", test_resumption},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

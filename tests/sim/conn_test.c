/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_conn over the network simulator, through the public API only:
 * handshake and data on clean and impaired links, anti-replay, timeouts and
 * retransmission back-off, MTU, size limits, close_notify, verification and
 * client certificates. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

/* g_server ("server.test"), g_client ("client.test"), g_other ("server.test"
 * again, another key: an unknown CA), feature_main(). */
#include "feature_fixture.h"

/* Every fixture's clock starts here (a handshake done at this instant took
 * no retransmission). */
#define SIM_START (1000 * NETSIM_SEC)

static int fixture_setup(fixture *fx, uint64_t seed, sdtls_config *cc, sdtls_config *sc) {
  return fixture_init(fx, seed, SIM_START, cc, sc) && fixture_conns(fx);
}

static void set_opt(sdtls_config *c, sdtls_option o, int64_t v) {
  const int rc = sdtls_config_set_option(c, o, v);
  if (rc != 0) {
    fprintf(stderr, "set_option(%d, %lld): %s\n", (int)o, (long long)v, sdtls_strerror(rc));
    check_failures++;
  }
}

/* Plain setup: server with g_server, client that does not verify. */
static int plain_init(fixture *fx, uint64_t seed) {
  return fixture_init(fx, seed, SIM_START, config_make(NULL, 0, NULL),
                      config_make(&g_server, 0, NULL));
}
static int fixture_plain(fixture *fx, uint64_t seed) {
  return plain_init(fx, seed) && fixture_conns(fx);
}
/* Plain setup in which one side's (`role`) first retransmission comes after
 * `initial_ms` and it gives up after `handshake_ms` (0: the default). */
static int plain_timers(fixture *fx, uint64_t seed, sdtls_role role, int64_t initial_ms,
                        int64_t handshake_ms) {
  if (!plain_init(fx, seed)) return 0;
  sdtls_config *c = role == SDTLS_ROLE_CLIENT ? fx->cc : fx->sc;
  set_opt(c, SDTLS_OPT_INITIAL_TIMEOUT_MS, initial_ms);
  if (handshake_ms) set_opt(c, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, handshake_ms);
  return fixture_conns(fx);
}

static void dump_failure(const char *what, const peer *p) {
  if (!p->conn) return;
  fprintf(stderr, "  %s %s: state %d, error %d (%s), detail \"%s\"\n", what, p->name,
          (int)sdtls_conn_state(p->conn), sdtls_conn_error(p->conn),
          sdtls_strerror(sdtls_conn_error(p->conn)), sdtls_conn_error_detail(p->conn));
}

static int handshake(fixture *fx, sdtls_time max) {
  const int ok = pair_handshake(fx->p, max);
  if (!ok) {
    dump_failure("handshake failed:", &fx->p[0]);
    dump_failure("handshake failed:", &fx->p[1]);
  }
  return ok;
}

static int send_payload(fixture *fx, int who, unsigned index, size_t len) {
  uint8_t buf[70000];
  payload_make(buf, len, who, index);
  return sdtls_conn_send(fx->p[who].conn, buf, len, netsim_now(fx->sim));
}

/* Keeps the connections: frees only the recorded messages. */
static void forget_msgs(peer *p) {
  const size_t n = p->n_msgs < PEER_MAX_MSGS ? p->n_msgs : PEER_MAX_MSGS;
  for (size_t i = 0; i < n; i++) free(p->msgs[i]);
  p->n_msgs = 0;
}

/* ------------------------------------------------------------------------ */

static void test_clean_handshake_and_data(void) {
  fixture fx;
  REQUIRE(fixture_setup(&fx, 1, config_make(NULL, 1, &g_server), config_make(&g_server, 1, NULL)));
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "server.test"), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_NEW);
  CHECK_EQ(sdtls_conn_role(CLIENT(&fx)), SDTLS_ROLE_CLIENT);
  CHECK_EQ(sdtls_conn_role(SERVER(&fx)), SDTLS_ROLE_SERVER);
  CHECK(sdtls_conn_version(CLIENT(&fx)) == NULL);
  CHECK(sdtls_conn_cipher(CLIENT(&fx)) == NULL);
  CHECK_EQ(sdtls_conn_max_data_size(CLIENT(&fx)), 0);
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), 0);

  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  CHECK_EQ(fx.p[0].handshake_done, 1);
  CHECK_EQ(fx.p[1].handshake_done, 1);
  /* A clean link with no delay needs no retransmission: done at once. */
  CHECK_EQ(fx.p[0].handshake_time, SIM_START);
  CHECK_STREQ(sdtls_conn_version(CLIENT(&fx)), "DTLSv1.2");
  CHECK_STREQ(sdtls_conn_version(SERVER(&fx)), "DTLSv1.2");
  const char *cipher = sdtls_conn_cipher(CLIENT(&fx));
  CHECK(cipher && strncmp(cipher, "TLS_ECDHE_ECDSA_WITH_", 21) == 0);
  CHECK(cipher && (strstr(cipher, "_GCM_") || strstr(cipher, "CHACHA20_POLY1305")));
  CHECK_STREQ(sdtls_conn_cipher(SERVER(&fx)), cipher);
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), 0);
  CHECK_STREQ(sdtls_conn_error_detail(CLIENT(&fx)), "");

  /* The client sees the server's certificate. */
  uint8_t want[32], got[32];
  REQUIRE_EQ(testcert_fingerprint(&g_server, want), 0);
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(CLIENT(&fx), got), 0);
  CHECK(memcmp(want, got, 32) == 0);
  const uint8_t *der = NULL;
  size_t der_len = 0;
  CHECK_EQ(sdtls_conn_peer_certificate(CLIENT(&fx), &der, &der_len), 0);
  CHECK(der != NULL && der_len > 100 && der[0] == 0x30);
  /* The server asked for no client certificate. */
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(SERVER(&fx), got), SDTLS_E_STATE);

  /* Both ends derive the same exported keys. */
  uint8_t ka[48], kb[48], kc[48];
  CHECK_EQ(sdtls_conn_export_keying_material(CLIENT(&fx), ka, sizeof(ka), "EXTRACTOR-test", 14,
                                             NULL, 0),
           0);
  CHECK_EQ(sdtls_conn_export_keying_material(SERVER(&fx), kb, sizeof(kb), "EXTRACTOR-test", 14,
                                             NULL, 0),
           0);
  CHECK_EQ(sdtls_conn_export_keying_material(SERVER(&fx), kc, sizeof(kc), "EXTRACTOR-tesT", 14,
                                             NULL, 0),
           0);
  CHECK(memcmp(ka, kb, sizeof(ka)) == 0);
  CHECK(memcmp(ka, kc, sizeof(ka)) != 0);

  /* Data both ways: one send = one datagram = one on_data, boundaries kept. */
  const size_t max = sdtls_conn_max_data_size(CLIENT(&fx));
  CHECK(max > 1000 && max < 1200);
  const size_t sizes[] = {8, 9, 100, 500, 1000, max};
  const size_t n = sizeof(sizes) / sizeof(sizes[0]);
  for (int who = 0; who < 2; who++) {
    const netsim_stats *st = netsim_get_stats(fx.sim, fx.p[who].side);
    for (size_t i = 0; i < n; i++) {
      const uint64_t before = st->sent;
      CHECK_EQ(send_payload(&fx, who, (unsigned)i, sizes[i]), 0);
      CHECK_EQ(st->sent, before + 1);
      const netsim_datagram d =
          netsim_captured(fx.sim, fx.p[who].side, netsim_captured_count(fx.sim, fx.p[who].side) - 1);
      CHECK(d.len > sizes[i] && d.len <= 1200);
      CHECK(d.len > 0 && d.data[0] == 23); /* an application_data record */
    }
    /* A zero-length send sends nothing. */
    const uint64_t before = st->sent;
    CHECK_EQ(sdtls_conn_send(fx.p[who].conn, (const uint8_t *)"", 0, netsim_now(fx.sim)), 0);
    CHECK_EQ(st->sent, before);
    netsim_run(fx.sim, NULL, NULL, NETSIM_SEC, 1000);
    peer *rx = &fx.p[1 - who];
    REQUIRE_EQ(rx->n_msgs, n);
    for (size_t i = 0; i < n; i++) {
      CHECK_EQ(rx->msg_len[i], sizes[i]);
      CHECK_EQ(payload_check(rx->msgs[i], rx->msg_len[i], who), (int)i);
    }
    forget_msgs(rx);
  }
  fixture_teardown(&fx);
}

static void test_lossy_links(void) {
  /* Eight seeds with the same impairments both ways, four with a mild
   * forward and a harsh return direction. */
  const uint64_t seeds[] = {11, 22, 33, 44, 55, 66, 77, 88, 101, 202, 303, 404};
  uint64_t dup_data = 0, reordered_data = 0;
  size_t out_of_order = 0, delivered_total = 0, sent_total = 0;
  for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
    fixture fx;
    REQUIRE(plain_init(&fx, seeds[s]));
    set_opt(fx.cc, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
    set_opt(fx.sc, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
    REQUIRE(fixture_conns(&fx));
    netsim_link l = {0};
    l.drop = 0.25;
    l.duplicate = 0.15;
    l.reorder = 0.15;
    l.reorder_hold_ns = 30 * NETSIM_MS;
    l.delay_ns = 10 * NETSIM_MS;
    l.jitter_ns = 5 * NETSIM_MS;
    netsim_link back = l;
    if (s >= 8) {
      l.drop = 0.1;
      l.duplicate = 0.3;
      back.drop = 0.35;
      back.reorder = 0.3;
      back.jitter_ns = 20 * NETSIM_MS;
    }
    netsim_set_link(fx.sim, NETSIM_A, &l);
    netsim_set_link(fx.sim, NETSIM_B, &back);
    if (!handshake(&fx, 30 * NETSIM_SEC)) {
      fprintf(stderr, "  seed %llu\n", (unsigned long long)seeds[s]);
      CHECK(!"handshake under loss");
      fixture_teardown(&fx);
      continue;
    }
    CHECK_EQ(fx.p[0].handshake_done, 1);
    CHECK_EQ(fx.p[1].handshake_done, 1);
    netsim_stats before[2] = {*netsim_get_stats(fx.sim, NETSIM_A),
                              *netsim_get_stats(fx.sim, NETSIM_B)};
    forget_msgs(&fx.p[0]);
    forget_msgs(&fx.p[1]);
    const unsigned n = 100;
    for (unsigned i = 0; i < n; i++) {
      CHECK_EQ(send_payload(&fx, 0, i, 20 + (i * 37) % 900), 0);
      CHECK_EQ(send_payload(&fx, 1, i, 20 + (i * 53) % 900), 0);
      netsim_run_for(fx.sim, 2 * NETSIM_MS);
    }
    netsim_run_for(fx.sim, NETSIM_SEC);
    for (int who = 0; who < 2; who++) {
      const peer *rx = &fx.p[1 - who];
      const netsim_stats *st = netsim_get_stats(fx.sim, fx.p[who].side);
      dup_data += st->duplicated - before[who].duplicated;
      reordered_data += st->reordered - before[who].reordered;
      char seen[100] = {0};
      int last = -1;
      CHECK(rx->n_msgs <= n);
      for (size_t i = 0; i < rx->n_msgs && i < PEER_MAX_MSGS; i++) {
        const int idx = payload_check(rx->msgs[i], rx->msg_len[i], who);
        CHECK(idx >= 0 && idx < (int)n); /* intact */
        if (idx < 0 || idx >= (int)n) continue;
        CHECK(!seen[idx]); /* never delivered twice */
        seen[idx] = 1;
        if (idx < last) out_of_order++;
        last = idx;
      }
      /* 65..90% arrive; far fewer means the library drops good records. */
      CHECK(rx->n_msgs >= 45);
      delivered_total += rx->n_msgs;
      sent_total += n;
      CHECK_EQ(sdtls_conn_state(fx.p[who].conn), SDTLS_STATE_CONNECTED);
    }
    fixture_teardown(&fx);
  }
  printf("  lossy: %zu/%zu delivered, %llu duplicated and %llu held back on the wire, "
         "%zu arrived out of order\n",
         delivered_total, sent_total, (unsigned long long)dup_data,
         (unsigned long long)reordered_data, out_of_order);
  /* The impairments really reached the data phase... */
  CHECK(dup_data > 20);
  CHECK(reordered_data > 20);
  /* ...and records overtaken by later ones were still accepted (the replay
   * window is a window, not a high-water mark). */
  CHECK(out_of_order > 0);
}

static void test_corrupted_records_dropped(void) {
  fixture fx;
  REQUIRE(fixture_plain(&fx, 2));
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  netsim_link l = {0};
  l.corrupt = 1.0;
  netsim_set_link(fx.sim, NETSIM_A, &l);
  netsim_set_link(fx.sim, NETSIM_B, &l);
  for (unsigned i = 0; i < 40; i++) {
    CHECK_EQ(send_payload(&fx, 0, i, 30 + i * 20), 0);
    CHECK_EQ(send_payload(&fx, 1, i, 30 + i * 20), 0);
    netsim_run_for(fx.sim, NETSIM_MS);
  }
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->corrupted, 40);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_B)->corrupted, 40);
  CHECK_EQ(fx.p[0].n_msgs, 0);
  CHECK_EQ(fx.p[1].n_msgs, 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(fx.p[0].close_calls + fx.p[1].close_calls, 0);

  /* The link heals: data flows again, intact and in order. */
  netsim_set_link(fx.sim, NETSIM_A, NULL);
  netsim_set_link(fx.sim, NETSIM_B, NULL);
  for (unsigned i = 0; i < 5; i++) {
    CHECK_EQ(send_payload(&fx, 0, 100 + i, 64), 0);
    CHECK_EQ(send_payload(&fx, 1, 100 + i, 64), 0);
  }
  netsim_run_for(fx.sim, NETSIM_SEC);
  for (int who = 0; who < 2; who++) {
    const peer *rx = &fx.p[1 - who];
    REQUIRE_EQ(rx->n_msgs, 5);
    for (unsigned i = 0; i < 5; i++)
      CHECK_EQ(payload_check(rx->msgs[i], rx->msg_len[i], who), (int)(100 + i));
  }
  fixture_teardown(&fx);
}

/* After the client has delivered `delivered` payloads (and the server
 * none): one more each way arrives. */
static void check_usable_both_ways(fixture *fx, unsigned delivered) {
  CHECK_EQ(send_payload(fx, 0, delivered, 50), 0);
  CHECK_EQ(send_payload(fx, 1, 0, 50), 0);
  netsim_run_for(fx->sim, NETSIM_MS);
  CHECK_EQ(fx->p[1].n_msgs, delivered + 1);
  CHECK_EQ(fx->p[0].n_msgs, 1);
}

static void test_replay_dropped(void) {
  fixture fx;
  REQUIRE(fixture_plain(&fx, 3));
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  const size_t hs_a = netsim_captured_count(fx.sim, NETSIM_A);
  const size_t hs_b = netsim_captured_count(fx.sim, NETSIM_B);
  CHECK_EQ(send_payload(&fx, 0, 0, 100), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  REQUIRE_EQ(fx.p[1].n_msgs, 1);
  const netsim_datagram d0 = netsim_captured(fx.sim, NETSIM_A, hs_a);
  REQUIRE(d0.len > 0 && d0.data[0] == 23);

  /* The same datagram again, at once and later: not delivered again. */
  netsim_inject(fx.sim, NETSIM_B, d0.data, d0.len, netsim_now(fx.sim));
  netsim_inject(fx.sim, NETSIM_B, d0.data, d0.len, netsim_now(fx.sim) + 10 * NETSIM_MS);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[1].n_msgs, 1);

  /* Newer records pass; an old one replayed after them does not. */
  CHECK_EQ(send_payload(&fx, 0, 1, 100), 0);
  CHECK_EQ(send_payload(&fx, 0, 2, 100), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].n_msgs, 3);
  netsim_inject(fx.sim, NETSIM_B, d0.data, d0.len, netsim_now(fx.sim));
  const netsim_datagram d2 = netsim_captured(fx.sim, NETSIM_A, hs_a + 2);
  netsim_inject(fx.sim, NETSIM_B, d2.data, d2.len, netsim_now(fx.sim));
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[1].n_msgs, 3);

  /* Replayed handshake datagrams (both directions) neither disturb the
   * established connection nor produce data. */
  for (size_t i = 0; i < hs_a; i++) {
    const netsim_datagram h = netsim_captured(fx.sim, NETSIM_A, i);
    netsim_inject(fx.sim, NETSIM_B, h.data, h.len, netsim_now(fx.sim));
  }
  for (size_t i = 0; i < hs_b; i++) {
    const netsim_datagram h = netsim_captured(fx.sim, NETSIM_B, i);
    netsim_inject(fx.sim, NETSIM_A, h.data, h.len, netsim_now(fx.sim));
  }
  netsim_run_for(fx.sim, 5 * NETSIM_SEC);
  CHECK_EQ(fx.p[1].n_msgs, 3);
  CHECK_EQ(fx.p[0].n_msgs, 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(fx.p[0].handshake_done, 1);
  CHECK_EQ(fx.p[1].handshake_done, 1);

  check_usable_both_ways(&fx, 3);
  fixture_teardown(&fx);
}

/* Records the peer packed into one datagram, or followed by bytes that are
 * no record, after the handshake: each record's data arrives, in order,
 * and the rest is dropped (the read loop asks the engine for more unless
 * the datagram was exactly one record). */
static void test_records_packed_in_one_datagram(void) {
  fixture fx;
  REQUIRE(fixture_plain(&fx, 5));
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  const size_t first = netsim_captured_count(fx.sim, NETSIM_A);
  /* The client's application data is captured, not delivered. */
  netsim_link lost = {0};
  lost.drop = 1.0;
  lost.only_content_type = 23;
  netsim_set_link(fx.sim, NETSIM_A, &lost);
  const size_t sizes[4] = {16, 300, 8, 40};
  for (unsigned i = 0; i < 4; i++) {
    CHECK_EQ(send_payload(&fx, 0, i, sizes[i]), 0);
  }
  netsim_run_for(fx.sim, NETSIM_MS);
  REQUIRE_EQ(fx.p[1].n_msgs, 0);
  REQUIRE_EQ(netsim_captured_count(fx.sim, NETSIM_A), first + 4);
  netsim_link clean = {0};
  netsim_set_link(fx.sim, NETSIM_A, &clean);

  /* The first three in one datagram. */
  uint8_t packed[2048];
  size_t n = 0;
  for (size_t i = 0; i < 3; i++) {
    const netsim_datagram d = netsim_captured(fx.sim, NETSIM_A, first + i);
    REQUIRE(n + d.len <= sizeof(packed));
    memcpy(packed + n, d.data, d.len);
    n += d.len;
  }
  netsim_inject(fx.sim, NETSIM_B, packed, n, netsim_now(fx.sim));
  netsim_run_for(fx.sim, NETSIM_MS);
  REQUIRE_EQ(fx.p[1].n_msgs, 3);
  for (size_t i = 0; i < 3; i++) {
    CHECK_EQ(fx.p[1].msg_len[i], sizes[i]);
    CHECK_EQ(payload_check(fx.p[1].msgs[i], fx.p[1].msg_len[i], 0), (int)i);
  }

  /* The fourth followed by five bytes that are no record. */
  const netsim_datagram d3 = netsim_captured(fx.sim, NETSIM_A, first + 3);
  memcpy(packed, d3.data, d3.len);
  memset(packed + d3.len, 0xee, 5);
  netsim_inject(fx.sim, NETSIM_B, packed, d3.len + 5, netsim_now(fx.sim));
  netsim_run_for(fx.sim, NETSIM_MS);
  REQUIRE_EQ(fx.p[1].n_msgs, 4);
  CHECK_EQ(payload_check(fx.p[1].msgs[3], fx.p[1].msg_len[3], 0), 3);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);

  check_usable_both_ways(&fx, 4);
  fixture_teardown(&fx);
}

/* Groups the datagrams `side` sent at or after `from` into flights (same
 * send time) and writes the flight times. Returns the number of flights. */
static size_t flight_times(const netsim *sim, int side, sdtls_time from, sdtls_time *out,
                           size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < netsim_captured_count(sim, side); i++) {
    const sdtls_time t = netsim_captured(sim, side, i).time;
    if (t < from) continue;
    if (n > 0 && out[n - 1] == t) continue;
    if (n < max) out[n] = t;
    n++;
  }
  return n < max ? n : max;
}

static void check_backoff(const sdtls_time *t, size_t n, sdtls_time initial) {
  CHECK(n >= 4);
  if (n < 2) return;
  const sdtls_time g0 = t[1] - t[0];
  /* The first retransmission comes after the initial timeout. */
  CHECK(g0 >= initial && g0 <= initial + initial / 10);
  for (size_t i = 2; i < n; i++) {
    const double prev = (double)(t[i - 1] - t[i - 2]), gap = (double)(t[i] - t[i - 1]);
    if (!(gap >= 1.8 * prev && gap <= 2.2 * prev))
      fprintf(stderr, "  gap %zu: %.1f ms after %.1f ms\n", i, gap / 1e6, prev / 1e6);
    CHECK(gap >= 1.8 * prev && gap <= 2.2 * prev);
  }
}

/* A clock close to its end (SDTLS_TIME_NEVER): deadlines saturate instead
 * of wrapping into the past, so a handshake still completes, and one whose
 * peer is gone still ends at its deadline. */
static void test_clock_near_end(void) {
  fixture fx;
  const sdtls_time start = SDTLS_TIME_NEVER - 10 * NETSIM_SEC;
  REQUIRE(fixture_init(&fx, 28, start, config_make(NULL, 0, NULL), config_make(&g_server, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  CHECK(pair_handshake(fx.p, 5 * NETSIM_SEC));
  CHECKF(sdtls_conn_state(CLIENT(&fx)) == SDTLS_STATE_CONNECTED, "client: %s",
         sdtls_conn_error_detail(CLIENT(&fx)));
  CHECK_EQ(fx.p[0].close_calls, 0);
  fixture_teardown(&fx);

  /* 30 s of handshake time do not fit before the end: the deadline is
   * SDTLS_TIME_NEVER, and the client retransmits with back-off meanwhile. */
  REQUIRE(fixture_init(&fx, 29, start, config_make(NULL, 0, NULL), config_make(&g_server, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  peer_cleanup(&fx.p[1]);
  REQUIRE_EQ(sdtls_conn_start(CLIENT(&fx), start), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_HANDSHAKING);
  sdtls_time d = sdtls_conn_next_deadline(CLIENT(&fx));
  CHECK(d > start && d <= start + NETSIM_SEC);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), d), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_HANDSHAKING);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 2);
  CHECK(sdtls_conn_next_deadline(CLIENT(&fx)) > d);
  fixture_teardown(&fx);
}

static void test_peer_vanishes(void) {
  /* The server answers the first flight, then vanishes: the client
   * retransmits its second flight with exponential back-off and gives up at
   * the handshake deadline. */
  fixture fx;
  REQUIRE(plain_timers(&fx, 4, SDTLS_ROLE_CLIENT, 200, 5000));
  const sdtls_time t0 = start_on_slow_links(&fx);
  REQUIRE(t0 != 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_HANDSHAKING);
  CHECK(sdtls_conn_next_deadline(CLIENT(&fx)) > t0);
  CHECK(sdtls_conn_next_deadline(CLIENT(&fx)) <= t0 + 200 * NETSIM_MS);
  netsim_run_for(fx.sim, 15 * NETSIM_MS); /* ClientHello in, server flight on its way */
  CHECK(netsim_get_stats(fx.sim, NETSIM_B)->sent >= 1);
  server_vanishes(&fx);

  peer *c = &fx.p[0];
  CHECK_EQ(sdtls_conn_state(c->conn), SDTLS_STATE_FAILED);
  CHECK_EQ(sdtls_conn_error(c->conn), SDTLS_E_TIMEOUT);
  CHECK_EQ(c->close_calls, 1);
  CHECK_EQ(c->close_reason, SDTLS_E_TIMEOUT);
  CHECK_EQ(c->handshake_done, 0);
  const sdtls_time deadline = t0 + 5000 * NETSIM_MS;
  if (c->close_time < deadline || c->close_time > deadline + 20 * NETSIM_MS)
    fprintf(stderr, "  failed %.1f ms after start\n", (double)(c->close_time - t0) / 1e6);
  CHECK(c->close_time >= deadline && c->close_time <= deadline + 20 * NETSIM_MS);
  CHECK_EQ(sdtls_conn_next_deadline(c->conn), SDTLS_TIME_NEVER);

  /* Flights: ClientHello at t0, then the second flight at t0 + 20 ms and
   * its retransmissions 200, 400, 800, 1600 ms apart. */
  sdtls_time t[32];
  const size_t n = flight_times(fx.sim, NETSIM_A, t0 + 20 * NETSIM_MS, t, 32);
  CHECK(n >= 1 && t[0] == t0 + 20 * NETSIM_MS);
  check_backoff(t, n, 200 * NETSIM_MS);
  CHECK(n > 0 && t[n - 1] < c->close_time); /* nothing sent after giving up */
  const uint64_t sent = netsim_get_stats(fx.sim, NETSIM_A)->sent;
  netsim_run_for(fx.sim, 60 * NETSIM_SEC);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, sent);
  CHECK_EQ(c->close_calls, 1);
  /* The ended connection says why. */
  static const uint8_t junk[20] = {22, 0xfe, 0xfd};
  CHECK_EQ(sdtls_conn_receive(c->conn, junk, sizeof(junk), netsim_now(fx.sim)), SDTLS_E_TIMEOUT);
  CHECK(sdtls_conn_send(c->conn, junk, 4, netsim_now(fx.sim)) < 0);
  fixture_teardown(&fx);

  /* No answer at all: the ClientHello is retransmitted with back-off. */
  REQUIRE(plain_timers(&fx, 5, SDTLS_ROLE_CLIENT, 100, 3000));
  peer_cleanup(&fx.p[1]);
  const sdtls_time t1 = netsim_now(fx.sim);
  REQUIRE_EQ(sdtls_conn_start(CLIENT(&fx), t1), 0);
  netsim_run(fx.sim, peer_ended, &fx.p[0], 60 * NETSIM_SEC, 100000);
  CHECK_EQ(fx.p[0].close_reason, SDTLS_E_TIMEOUT);
  CHECK(fx.p[0].close_time >= t1 + 3000 * NETSIM_MS &&
        fx.p[0].close_time <= t1 + 3020 * NETSIM_MS);
  const size_t n2 = flight_times(fx.sim, NETSIM_A, t1, t, 32);
  CHECK(n2 >= 1 && t[0] == t1);
  check_backoff(t, n2, 100 * NETSIM_MS); /* 100, 200, 400, 800: t1 + 1500 ms */
  fixture_teardown(&fx);

  /* The client vanishes after its ClientHello: the server gives up too. */
  REQUIRE(plain_timers(&fx, 6, SDTLS_ROLE_SERVER, 100, 2000));
  REQUIRE_EQ(sdtls_conn_start(CLIENT(&fx), netsim_now(fx.sim)), 0);
  netsim_set_conn(fx.sim, NETSIM_A, NULL); /* nothing reaches the client any more */
  const sdtls_time t2 = netsim_now(fx.sim);
  netsim_run(fx.sim, NULL, NULL, 0, 100); /* deliver the ClientHello */
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_HANDSHAKING);
  peer_cleanup(&fx.p[0]);
  netsim_run(fx.sim, peer_ended, &fx.p[1], 60 * NETSIM_SEC, 100000);
  peer *s = &fx.p[1];
  CHECK_EQ(s->close_calls, 1);
  CHECK_EQ(s->close_reason, SDTLS_E_TIMEOUT);
  CHECK(s->close_time >= t2 + 2000 * NETSIM_MS && s->close_time <= t2 + 2020 * NETSIM_MS);
  CHECK(netsim_get_stats(fx.sim, NETSIM_B)->sent >= 3); /* flight + retransmissions */
  fixture_teardown(&fx);
}

static void mtu_run(const testcert *cert, const char *name, int expect_fragments) {
  fixture fx;
  REQUIRE(fixture_init(&fx, 7, SIM_START, config_make(NULL, 1, cert), config_make(cert, 1, NULL)));
  set_opt(fx.cc, SDTLS_OPT_MTU, 300);
  set_opt(fx.sc, SDTLS_OPT_MTU, 300);
  REQUIRE(fixture_conns(&fx));
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), name), 0);
  netsim_link l = {0};
  l.max_size = 300;
  netsim_set_link(fx.sim, NETSIM_A, &l);
  netsim_set_link(fx.sim, NETSIM_B, &l);
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  /* No retransmission was needed: nothing was too large for the link. */
  CHECK_EQ(fx.p[0].handshake_time, SIM_START);
  for (int side = 0; side < 2; side++) {
    const netsim_stats *st = netsim_get_stats(fx.sim, side);
    CHECK(st->largest <= 300);
    CHECK_EQ(st->dropped_size, 0);
  }
  const uint64_t server_dgrams = netsim_get_stats(fx.sim, NETSIM_B)->sent;
  const uint64_t server_bytes = netsim_get_stats(fx.sim, NETSIM_B)->bytes_sent;
  printf("  %s: server flight %llu datagrams, %llu bytes\n", name,
         (unsigned long long)server_dgrams, (unsigned long long)server_bytes);
  if (expect_fragments) {
    /* RSA-2048: the Certificate message alone is ~800 bytes. */
    CHECK(server_bytes > 900);
    CHECK(server_dgrams >= 4);
  }
  const size_t max = sdtls_conn_max_data_size(CLIENT(&fx));
  CHECK(max > 200 && max <= 300 - 13 - 16);
  CHECK_EQ(sdtls_conn_max_data_size(SERVER(&fx)), max);
  CHECK_EQ(send_payload(&fx, 0, 1, max), 0);
  CHECK_EQ(send_payload(&fx, 1, 2, max), 0);
  CHECK_EQ(send_payload(&fx, 0, 3, max + 1), SDTLS_E_TOO_BIG);
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].n_msgs, 1);
  CHECK_EQ(fx.p[0].n_msgs, 1);
  CHECK(netsim_get_stats(fx.sim, NETSIM_A)->largest <= 300);
  CHECK(netsim_get_stats(fx.sim, NETSIM_B)->largest <= 300);
  fixture_teardown(&fx);
}

static void test_small_mtu(void) {
  mtu_run(&g_server, "server.test", 0);
  testcert rsa;
  REQUIRE(testcert_rsa(&rsa) == 0); /* built by CMake with the openssl tool */
  mtu_run(&rsa, "rsa.test", 1);

  /* Control: the same link with the default MTU loses the large datagrams,
   * and the handshake cannot complete. */
  fixture fx;
  if (fixture_init(&fx, 8, SIM_START, config_make(NULL, 0, NULL), config_make(&rsa, 0, NULL))) {
    set_opt(fx.cc, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
    set_opt(fx.cc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 1000);
    CHECK(fixture_conns(&fx));
    netsim_link l = {0};
    l.max_size = 300;
    netsim_set_link(fx.sim, NETSIM_B, &l);
    CHECK(!pair_handshake(fx.p, 10 * NETSIM_SEC));
    CHECK(netsim_get_stats(fx.sim, NETSIM_B)->dropped_size > 0);
    CHECK_EQ(fx.p[0].close_reason, SDTLS_E_TIMEOUT);
  } else {
    CHECK(!"fixture");
  }
  fixture_teardown(&fx);
  testcert_free(&rsa);
}

static void test_send_too_big(void) {
  fixture fx;
  REQUIRE(fixture_plain(&fx, 9));
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  const size_t max = sdtls_conn_max_data_size(CLIENT(&fx));
  REQUIRE(max > 0 && max < 1200);
  const netsim_stats *st = netsim_get_stats(fx.sim, NETSIM_A);
  const uint64_t before = st->sent;
  CHECK_EQ(send_payload(&fx, 0, 0, max + 1), SDTLS_E_TOO_BIG);
  CHECK_EQ(send_payload(&fx, 0, 0, 65536), SDTLS_E_TOO_BIG);
  CHECK_EQ(st->sent, before);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(send_payload(&fx, 0, 1, max), 0);
  CHECK_EQ(st->sent, before + 1);
  CHECK(st->largest <= 1200);
  netsim_run_for(fx.sim, NETSIM_MS);
  REQUIRE_EQ(fx.p[1].n_msgs, 1);
  CHECK_EQ(fx.p[1].msg_len[0], max);
  CHECK_EQ(payload_check(fx.p[1].msgs[0], fx.p[1].msg_len[0], 0), 1);
  fixture_teardown(&fx);

  /* The limit follows the MTU. */
  REQUIRE(plain_init(&fx, 10));
  set_opt(fx.cc, SDTLS_OPT_MTU, 600);
  set_opt(fx.sc, SDTLS_OPT_MTU, 600);
  REQUIRE(fixture_conns(&fx));
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  const size_t max600 = sdtls_conn_max_data_size(CLIENT(&fx));
  /* Same cipher, same per-record overhead: 600 bytes less room. */
  CHECK_EQ(max - max600, 600);
  CHECK_EQ(send_payload(&fx, 0, 2, max600 + 1), SDTLS_E_TOO_BIG);
  CHECK_EQ(send_payload(&fx, 0, 3, max600), 0);
  CHECK(netsim_get_stats(fx.sim, NETSIM_A)->largest <= 600);
  fixture_teardown(&fx);
}

static void test_close_notify(void) {
  fixture fx;
  REQUIRE(fixture_plain(&fx, 12));
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  const uint64_t before = netsim_get_stats(fx.sim, NETSIM_A)->sent;
  CHECK_EQ(sdtls_conn_close(CLIENT(&fx), netsim_now(fx.sim)), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CLOSED);
  CHECK_EQ(fx.p[0].close_calls, 0); /* not for its own close */
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, before + 1);
  const netsim_datagram d =
      netsim_captured(fx.sim, NETSIM_A, netsim_captured_count(fx.sim, NETSIM_A) - 1);
  CHECK(d.len > 0 && d.data[0] == 21); /* an (encrypted) alert record */
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[1].close_calls, 1);
  CHECK_EQ(fx.p[1].close_reason, 0);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CLOSED);
  CHECK_EQ(sdtls_conn_error(SERVER(&fx)), SDTLS_E_CLOSED);
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_CLOSED);
  CHECK_EQ(fx.p[0].close_calls, 0);
  CHECK_EQ(send_payload(&fx, 0, 0, 20), SDTLS_E_CLOSED);
  CHECK_EQ(send_payload(&fx, 1, 0, 20), SDTLS_E_CLOSED);
  CHECK_EQ(sdtls_conn_close(CLIENT(&fx), netsim_now(fx.sim)), 0); /* twice: harmless */
  CHECK_EQ(sdtls_conn_close(SERVER(&fx), netsim_now(fx.sim)), 0);
  CHECK_EQ(sdtls_conn_receive(CLIENT(&fx), d.data, d.len, netsim_now(fx.sim)), SDTLS_E_CLOSED);
  CHECK_EQ(sdtls_conn_next_deadline(CLIENT(&fx)), SDTLS_TIME_NEVER);
  CHECK_EQ(sdtls_conn_next_deadline(SERVER(&fx)), SDTLS_TIME_NEVER);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[0].close_calls, 0);
  CHECK_EQ(fx.p[1].close_calls, 1);
  CHECK_EQ(fx.p[0].n_msgs + fx.p[1].n_msgs, 0);
  fixture_teardown(&fx);
}

static void test_send_from_handshake_done(void) {
  /* Both sides send at once from on_handshake_done: the engine's own final
   * flight must leave before that data, so both greetings arrive. */
  fixture fx;
  REQUIRE(fixture_plain(&fx, 13));
  fx.p[0].greet_in_handshake_done = 1;
  fx.p[1].greet_in_handshake_done = 1;
  REQUIRE(handshake(&fx, 10 * NETSIM_SEC));
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[0].greet_rc, 0);
  CHECK_EQ(fx.p[1].greet_rc, 0);
  CHECK_EQ(fx.p[0].n_msgs, 1);
  CHECK_EQ(fx.p[1].n_msgs, 1);
  CHECK(fx.p[0].n_msgs == 1 && fx.p[0].msg_len[0] == 5 && !memcmp(fx.p[0].msgs[0], "hello", 5));
  CHECK(fx.p[1].n_msgs == 1 && fx.p[1].msg_len[0] == 5 && !memcmp(fx.p[1].msgs[0], "hello", 5));
  /* It took no retransmission. */
  CHECK_EQ(fx.p[0].handshake_time, SIM_START);
  fixture_teardown(&fx);
}

static void test_late_timer_service(void) {
  /* The application serves the timer late: one retransmission, not a burst
   * for every missed period; past the handshake deadline it fails. */
  fixture fx;
  REQUIRE(plain_timers(&fx, 14, SDTLS_ROLE_CLIENT, 100, 20000));
  peer_cleanup(&fx.p[1]);
  const sdtls_time t0 = netsim_now(fx.sim);
  REQUIRE_EQ(sdtls_conn_start(CLIENT(&fx), t0), 0);
  const netsim_stats *st = netsim_get_stats(fx.sim, NETSIM_A);
  CHECK_EQ(st->sent, 1);
  CHECK_EQ(sdtls_conn_next_deadline(CLIENT(&fx)), t0 + 100 * NETSIM_MS);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), t0 + 99 * NETSIM_MS), 0); /* early */
  CHECK_EQ(st->sent, 1);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), t0 + 10 * NETSIM_SEC), 0); /* late */
  CHECK_EQ(st->sent, 2);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_HANDSHAKING);
  /* The next one is measured from the late retransmission, doubled. */
  CHECK_EQ(sdtls_conn_next_deadline(CLIENT(&fx)), t0 + 10 * NETSIM_SEC + 200 * NETSIM_MS);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), t0 + 25 * NETSIM_SEC), SDTLS_E_TIMEOUT);
  CHECK_EQ(st->sent, 2);
  CHECK_EQ(fx.p[0].close_calls, 1);
  CHECK_EQ(fx.p[0].close_reason, SDTLS_E_TIMEOUT);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), t0 + 26 * NETSIM_SEC), SDTLS_E_TIMEOUT);
  CHECK_EQ(fx.p[0].close_calls, 1);
  fixture_teardown(&fx);
}

static void test_close_during_handshake(void) {
  /* Closing mid-handshake stops the retransmissions for good. */
  fixture fx;
  REQUIRE(plain_timers(&fx, 15, SDTLS_ROLE_CLIENT, 100, 0));
  netsim_link l = {0};
  l.drop = 1.0;
  netsim_set_link(fx.sim, NETSIM_A, &l);
  REQUIRE_EQ(sdtls_conn_start(CLIENT(&fx), netsim_now(fx.sim)), 0);
  netsim_run_for(fx.sim, 350 * NETSIM_MS); /* two retransmissions */
  const netsim_stats *st = netsim_get_stats(fx.sim, NETSIM_A);
  CHECK_EQ(st->sent, 3);
  CHECK_EQ(sdtls_conn_close(CLIENT(&fx), netsim_now(fx.sim)), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CLOSED);
  CHECK_EQ(sdtls_conn_next_deadline(CLIENT(&fx)), SDTLS_TIME_NEVER);
  const uint64_t sent = st->sent;
  netsim_run_for(fx.sim, 60 * NETSIM_SEC);
  CHECK_EQ(st->sent, sent);
  CHECK_EQ(fx.p[0].close_calls, 0);
  CHECK_EQ(fx.p[0].handshake_done, 0);
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), (const uint8_t *)"x", 1, netsim_now(fx.sim)),
           SDTLS_E_CLOSED);
  fixture_teardown(&fx);
}

/* Runs a handshake between a client config and a server config, expecting
 * failure; returns through fx for inspection. */
static int verify_case(fixture *fx, uint64_t seed, sdtls_config *cc, sdtls_config *sc,
                       const char *name) {
  if (!fixture_init(fx, seed, SIM_START, cc, sc)) return 0;
  set_opt(fx->cc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 3000);
  set_opt(fx->sc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 3000);
  if (!fixture_conns(fx)) return 0;
  if (name && sdtls_conn_set_server_name(CLIENT(fx), name) != 0) return 0;
  pair_handshake(fx->p, 10 * NETSIM_SEC);
  netsim_run_for(fx->sim, NETSIM_SEC); /* let the alert arrive */
  return 1;
}

static int detail_has(const sdtls_conn *c, const char *what) {
  char buf[512];
  squash(sdtls_conn_error_detail(c), buf, sizeof(buf));
  return strstr(buf, what) != NULL;
}

static void expect_failed(const peer *p, int err, int close_reason) {
  CHECK(p->conn != NULL);
  if (!p->conn) return;
  CHECK_EQ(sdtls_conn_state(p->conn), SDTLS_STATE_FAILED);
  CHECK_EQ(sdtls_conn_error(p->conn), err);
  CHECK_EQ(p->close_calls, 1);
  CHECK_EQ(p->close_reason, close_reason);
  CHECK_EQ(p->handshake_done, 0);
  const char *detail = sdtls_conn_error_detail(p->conn);
  CHECK(detail != NULL && detail[0] != '\0');
  printf("  %s: %s (%s)\n", p->name, sdtls_strerror(sdtls_conn_error(p->conn)),
         detail ? detail : "(null)");
}

static void test_verification(void) {
  fixture fx;
  /* Trusted, right name. */
  REQUIRE(verify_case(&fx, 20, config_make(NULL, 1, &g_server), config_make(&g_server, 1, NULL),
                      "server.test"));
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  fixture_teardown(&fx);

  /* Trusted, wrong name. */
  REQUIRE(verify_case(&fx, 21, config_make(NULL, 1, &g_server), config_make(&g_server, 1, NULL),
                      "wrong.test"));
  expect_failed(&fx.p[0], SDTLS_E_VERIFY, SDTLS_E_VERIFY);
  expect_failed(&fx.p[1], SDTLS_E_ALERT, SDTLS_E_ALERT);
  fixture_teardown(&fx);

  /* Unknown CA (same name, another key). */
  REQUIRE(verify_case(&fx, 22, config_make(NULL, 1, &g_other), config_make(&g_server, 1, NULL),
                      "server.test"));
  expect_failed(&fx.p[0], SDTLS_E_VERIFY, SDTLS_E_VERIFY);
  expect_failed(&fx.p[1], SDTLS_E_ALERT, SDTLS_E_ALERT);
  CHECK(fx.p[1].conn && detail_has(fx.p[1].conn, "unknownca"));
  fixture_teardown(&fx);

  /* No trust anchors at all. */
  REQUIRE(verify_case(&fx, 23, config_make(NULL, 1, NULL), config_make(&g_server, 1, NULL),
                      "server.test"));
  expect_failed(&fx.p[0], SDTLS_E_VERIFY, SDTLS_E_VERIFY);
  expect_failed(&fx.p[1], SDTLS_E_ALERT, SDTLS_E_ALERT);
  fixture_teardown(&fx);

  /* A verifying client without a server name does not start. */
  REQUIRE(fixture_setup(&fx, 24, config_make(NULL, 1, &g_server), config_make(&g_server, 1, NULL)));
  CHECK_EQ(sdtls_conn_start(CLIENT(&fx), netsim_now(fx.sim)), SDTLS_E_STATE);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 0);
  fixture_teardown(&fx);

  /* Fingerprint pinning style: no verification, but the fingerprint tells
   * the two certificates apart. */
  REQUIRE(verify_case(&fx, 25, config_make(NULL, 0, NULL), config_make(&g_other, 1, NULL), NULL));
  REQUIRE_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  uint8_t fp[32], fp_server[32], fp_other[32];
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(CLIENT(&fx), fp), 0);
  CHECK_EQ(testcert_fingerprint(&g_server, fp_server), 0);
  CHECK_EQ(testcert_fingerprint(&g_other, fp_other), 0);
  CHECK(memcmp(fp, fp_other, 32) == 0);
  CHECK(memcmp(fp, fp_server, 32) != 0);
  fixture_teardown(&fx);
}

/* The last server name set wins wholly: an IP address set first and then
 * replaced by a host name is not checked any more (nor the other way). */
static void test_server_name_replaced(void) {
  fixture fx;
  REQUIRE(fixture_setup(&fx, 26, config_make(NULL, 1, &g_server), config_make(&g_server, 1, NULL)));
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "127.0.0.1"), 0);
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "server.test"), 0);
  CHECK(pair_handshake(fx.p, 10 * NETSIM_SEC));
  CHECKF(sdtls_conn_state(CLIENT(&fx)) == SDTLS_STATE_CONNECTED, "client: %s",
         sdtls_conn_error_detail(CLIENT(&fx)));
  fixture_teardown(&fx);

  /* A host name replaced by an address the certificate does not hold. */
  REQUIRE(fixture_setup(&fx, 27, config_make(NULL, 1, &g_server), config_make(&g_server, 1, NULL)));
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "server.test"), 0);
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "192.0.2.1"), 0);
  pair_handshake(fx.p, 10 * NETSIM_SEC);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_FAILED);
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_VERIFY);
  fixture_teardown(&fx);
}

/* Writes `text` to dir/name; returns 1 on success. */
static int write_text(const char *dir, const char *name, const char *text, char *path,
                      size_t path_len) {
  const int n = snprintf(path, path_len, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= path_len) return 0; /* would not fit */
  FILE *f = fopen(path, "w");
  if (!f) return 0;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

/* Trust and credentials from files: a CA file, a hashed CA directory (as
 * `openssl rehash` makes it), and the errors for missing or bad files. */
static void test_trust_from_files(void) {
  char dir[] = "/tmp/sdtls-trust-XXXXXX";
  REQUIRE(mkdtemp(dir) != NULL);
  char hashed[300], ca_file[300], garbage[300], cert_file[300], key_file[300], cmd[400];
  snprintf(hashed, sizeof(hashed), "%s/hashed", dir);
  REQUIRE(mkdir(hashed, 0700) == 0);
  char unused[300];
  REQUIRE(write_text(hashed, "server.pem", g_server.cert_pem, unused, sizeof(unused)));
  snprintf(cmd, sizeof(cmd), "openssl rehash %s", hashed);
  REQUIRE(system(cmd) == 0);
  REQUIRE(write_text(dir, "ca.pem", g_server.cert_pem, ca_file, sizeof(ca_file)));
  REQUIRE(write_text(dir, "garbage.pem", "not a certificate\n", garbage, sizeof(garbage)));
  REQUIRE(write_text(dir, "cert.pem", g_server.cert_pem, cert_file, sizeof(cert_file)));
  REQUIRE(write_text(dir, "key.pem", g_server.key_pem, key_file, sizeof(key_file)));

  /* Errors: missing files are SDTLS_E_FILE, bad contents SDTLS_E_CREDENTIALS,
   * a key that does not match the certificate too. */
  sdtls_config *c;
  REQUIRE(sdtls_config_new(&c) == 0);
  CHECK_EQ(sdtls_config_set_ca(c, "/nonexistent/ca.pem", NULL), SDTLS_E_FILE);
  CHECK_EQ(sdtls_config_set_ca(c, NULL, "/nonexistent/dir"), SDTLS_E_FILE);
  CHECK_EQ(sdtls_config_set_ca(c, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_ca(c, garbage, NULL), SDTLS_E_CREDENTIALS);
  CHECK_EQ(sdtls_config_set_certificate_file(c, "/nonexistent/c.pem", key_file), SDTLS_E_FILE);
  CHECK_EQ(sdtls_config_set_certificate_file(c, garbage, key_file), SDTLS_E_CREDENTIALS);
  CHECK_EQ(sdtls_config_set_certificate_file(c, cert_file, garbage), SDTLS_E_CREDENTIALS);
  CHECK_EQ(sdtls_config_set_certificate_pem(c, (const uint8_t *)g_other.cert_pem,
                                            strlen(g_other.cert_pem),
                                            (const uint8_t *)g_server.key_pem,
                                            strlen(g_server.key_pem)),
           SDTLS_E_CREDENTIALS);
  sdtls_config_free(c);

  /* The server's certificate from files, trusted through a CA file, then
   * through a hashed directory. */
  for (int use_dir = 0; use_dir <= 1; use_dir++) {
    sdtls_config *cc, *sc;
    REQUIRE(sdtls_config_new(&cc) == 0);
    REQUIRE(sdtls_config_new(&sc) == 0);
    CHECK_EQ(sdtls_config_set_certificate_file(sc, cert_file, key_file), 0);
    CHECK_EQ(use_dir ? sdtls_config_set_ca(cc, NULL, hashed) : sdtls_config_set_ca(cc, ca_file, NULL),
             0);
    fixture fx;
    REQUIRE(verify_case(&fx, 40 + (uint64_t)use_dir, cc, sc, "server.test"));
    CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
    CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
    fixture_teardown(&fx);
  }

  /* An empty hashed directory trusts nothing. */
  char empty[300];
  snprintf(empty, sizeof(empty), "%s/empty", dir);
  REQUIRE(mkdir(empty, 0700) == 0);
  sdtls_config *cc;
  REQUIRE(sdtls_config_new(&cc) == 0);
  CHECK_EQ(sdtls_config_set_ca(cc, NULL, empty), 0);
  fixture fx;
  REQUIRE(verify_case(&fx, 42, cc, config_make(&g_server, 1, NULL), "server.test"));
  expect_failed(&fx.p[0], SDTLS_E_VERIFY, SDTLS_E_VERIFY);
  fixture_teardown(&fx);

  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
}

static void test_client_certificate(void) {
  fixture fx;
  sdtls_config *sc;

  /* Required and missing. */
  sc = config_make(&g_server, 1, &g_client);
  if (sc) set_opt(sc, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1);
  REQUIRE(verify_case(&fx, 30, config_make(NULL, 1, &g_server), sc, "server.test"));
  CHECK(fx.p[1].conn && (sdtls_conn_error(SERVER(&fx)) == SDTLS_E_VERIFY ||
                         sdtls_conn_error(SERVER(&fx)) == SDTLS_E_PROTOCOL));
  if (fx.p[1].conn) {
    const int e = sdtls_conn_error(SERVER(&fx));
    expect_failed(&fx.p[1], e, e);
  }
  expect_failed(&fx.p[0], SDTLS_E_ALERT, SDTLS_E_ALERT);
  fixture_teardown(&fx);

  /* Required, present and trusted: mutual authentication. */
  sc = config_make(&g_server, 1, &g_client);
  if (sc) set_opt(sc, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1);
  REQUIRE(verify_case(&fx, 31, config_make(&g_client, 1, &g_server), sc, "server.test"));
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  uint8_t fp[32], want[32];
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(SERVER(&fx), fp), 0);
  CHECK_EQ(testcert_fingerprint(&g_client, want), 0);
  CHECK(memcmp(fp, want, 32) == 0);
  fixture_teardown(&fx);

  /* Required, present, not trusted. */
  sc = config_make(&g_server, 1, &g_client);
  if (sc) set_opt(sc, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1);
  REQUIRE(verify_case(&fx, 32, config_make(&g_other, 1, &g_server), sc, "server.test"));
  expect_failed(&fx.p[1], SDTLS_E_VERIFY, SDTLS_E_VERIFY);
  expect_failed(&fx.p[0], SDTLS_E_ALERT, SDTLS_E_ALERT);
  CHECK(fx.p[0].conn && detail_has(fx.p[0].conn, "unknownca"));
  fixture_teardown(&fx);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"clean_handshake_and_data", test_clean_handshake_and_data},
      {"lossy_links", test_lossy_links},
      {"corrupted_records_dropped", test_corrupted_records_dropped},
      {"replay_dropped", test_replay_dropped},
      {"records_packed_in_one_datagram", test_records_packed_in_one_datagram},
      {"peer_vanishes", test_peer_vanishes},
      {"clock_near_end", test_clock_near_end},
      {"small_mtu", test_small_mtu},
      {"send_too_big", test_send_too_big},
      {"close_notify", test_close_notify},
      {"send_from_handshake_done", test_send_from_handshake_done},
      {"late_timer_service", test_late_timer_service},
      {"close_during_handshake", test_close_during_handshake},
      {"verification", test_verification},
      {"server_name_replaced", test_server_name_replaced},
      {"trust_from_files", test_trust_from_files},
      {"client_certificate", test_client_certificate},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Misuse of sdtls_conn and hostile input, through the public API only:
 * wrong call order, NULL arguments, re-entrant calls from callbacks, frees
 * from callbacks, garbage datagrams in every state, and a small fuzz loop.
 * Nothing may crash (run it under -DSDTLS_SANITIZE=ON too), and an
 * established connection must survive unauthenticated garbage. */
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h" /* g_server ("server.test"), feature_main() */

/* A server with g_server and a client that does not verify, both
 * retransmitting after 100 ms; the clock starts at 77 s. */
static int fixture_setup(fixture *fx, uint64_t seed) {
  if (!fixture_init(fx, seed, 77 * NETSIM_SEC, config_make(NULL, 0, NULL),
                    config_make(&g_server, 0, NULL)))
    return 0;
  sdtls_config_set_option(fx->cc, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
  sdtls_config_set_option(fx->sc, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
  return fixture_conns(fx);
}

static int connected(fixture *fx) { return pair_handshake(fx->p, 10 * NETSIM_SEC); }

static sdtls_time now_of(fixture *fx) { return netsim_now(fx->sim); }

/* ------------------------------------------------------------------------ */

static int noop_send(void *u, const uint8_t *d, size_t l) {
  (void)u;
  (void)d;
  (void)l;
  return 0;
}

static void test_null_arguments(void) {
  sdtls_config *cfg = NULL;
  CHECK_EQ(sdtls_config_new(NULL), SDTLS_E_INVALID_ARGUMENT);
  REQUIRE_EQ(sdtls_config_new(&cfg), 0);
  sdtls_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.size = sizeof(cb);
  cb.send = noop_send;
  sdtls_conn *c = NULL;
  /* No config, no callbacks, nowhere to put the connection, an unknown
   * role: refused, and nothing made. */
  for (int wrong = 0; wrong < 4; wrong++) {
    const int rc = sdtls_conn_new(wrong == 0 ? NULL : cfg,
                                  wrong == 3 ? (sdtls_role)7 : SDTLS_ROLE_CLIENT,
                                  wrong == 1 ? NULL : &cb, NULL, wrong == 2 ? NULL : &c);
    CHECKF(rc == SDTLS_E_INVALID_ARGUMENT, "sdtls_conn_new(), wrong argument %d: %d (want %d)",
           wrong, rc, SDTLS_E_INVALID_ARGUMENT);
    CHECK(c == NULL);
  }
  sdtls_callbacks nosend = cb;
  nosend.send = NULL;
  CHECK_EQ(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, &nosend, NULL, &c), SDTLS_E_INVALID_ARGUMENT);
  /* A server needs a certificate. */
  CHECK_EQ(sdtls_conn_new(cfg, SDTLS_ROLE_SERVER, &cb, NULL, &c), SDTLS_E_CREDENTIALS);
  CHECK(c == NULL);

  /* An older, smaller callbacks struct (only size and send) is accepted. */
  sdtls_callbacks small;
  memset(&small, 0xff, sizeof(small)); /* the members beyond `size` must be ignored */
  small.size = offsetof(sdtls_callbacks, on_handshake_done);
  small.send = noop_send;
  CHECK_EQ(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, &small, NULL, &c), 0);
  if (c) {
    CHECK_EQ(sdtls_conn_set_server_name(c, "x.test"), 0);
    CHECK_EQ(sdtls_conn_start(c, 1), 0); /* VERIFY_PEER default 1: needs a name */
    sdtls_conn_free(c);
    c = NULL;
  }

  REQUIRE_EQ(sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, &cb, NULL, &c), 0);
  const uint8_t b[4] = {1, 2, 3, 4};
  uint8_t out[32];
  CHECK_EQ(sdtls_conn_send(NULL, b, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_receive(NULL, b, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_receive(c, NULL, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_send(c, NULL, 4, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_start(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_handle_timeout(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_close(NULL, 0), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_set_server_name(NULL, "a"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_set_server_name(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(NULL, out), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_export_keying_material(c, NULL, 16, "x", 1, NULL, 0),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_certificate_fingerprint_sha256(NULL, 5, out), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_certificate_generate(NULL, 10, NULL, NULL), SDTLS_E_INVALID_ARGUMENT);
  /* Not connected yet. */
  CHECK_EQ(sdtls_conn_peer_fingerprint_sha256(c, out), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_export_keying_material(c, out, 16, "x", 1, NULL, 0), SDTLS_E_STATE);
  sdtls_conn_free(NULL);
  sdtls_config_free(NULL);
  sdtls_free(NULL);
  sdtls_conn_free(c);
  sdtls_config_free(cfg);
}

static void test_call_order(void) {
  fixture fx;
  REQUIRE(fixture_setup(&fx, 1));
  const uint8_t msg[5] = "hello";
  /* NEW */
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 5, now_of(&fx)), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_send(SERVER(&fx), msg, 5, now_of(&fx)), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_max_data_size(CLIENT(&fx)), 0);
  CHECK_EQ(sdtls_conn_next_deadline(CLIENT(&fx)), SDTLS_TIME_NEVER);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), now_of(&fx)), 0); /* early: harmless */
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_NEW);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 0);
  /* HANDSHAKING */
  CHECK_EQ(sdtls_conn_start(CLIENT(&fx), now_of(&fx)), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_HANDSHAKING);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 1);
  CHECK_EQ(sdtls_conn_start(CLIENT(&fx), now_of(&fx)), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_set_server_name(CLIENT(&fx), "late.test"), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 5, now_of(&fx)), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_max_data_size(CLIENT(&fx)), 0);
  CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), now_of(&fx)), 0); /* early: no resend */
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 1);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 1);
  /* Server: start is optional (receive starts it), and it sends nothing. */
  CHECK_EQ(sdtls_conn_start(SERVER(&fx), now_of(&fx)), 0);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_B)->sent, 0);
  netsim_run(fx.sim, pair_connected, fx.p, 10 * NETSIM_SEC, 10000);
  REQUIRE_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  REQUIRE_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_start(CLIENT(&fx), now_of(&fx)), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 5, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].n_msgs, 1);
  fixture_teardown(&fx);
}

static void test_reentrant_calls(void) {
  fixture fx;
  REQUIRE(fixture_setup(&fx, 2));
  REQUIRE(connected(&fx));
  const uint8_t msg[4] = "ping";

  /* receive / handle_timeout / start / set_server_name from on_data. */
  fx.p[1].reenter_in_data = 1;
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 4, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  REQUIRE_EQ(fx.p[1].n_msgs, 1);
  CHECK_EQ(fx.p[1].reenter_rc[0], SDTLS_E_IN_CALLBACK);
  CHECK_EQ(fx.p[1].reenter_rc[1], SDTLS_E_IN_CALLBACK);
  CHECK_EQ(fx.p[1].reenter_rc[2], SDTLS_E_IN_CALLBACK);
  /* set_server_name is refused either way (it is only valid in NEW, when no
   * callback can run); the header promises IN_CALLBACK, STATE is as safe. */
  CHECK(fx.p[1].reenter_rc[3] == SDTLS_E_IN_CALLBACK || fx.p[1].reenter_rc[3] == SDTLS_E_STATE);
  CHECK_EQ(fx.p[1].reenter_rc[4], 1);
  fx.p[1].reenter_in_data = 0;
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);

  /* Echo: sending from on_data is allowed. */
  fx.p[1].echo = 1;
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 4, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].echo_rc, 0);
  REQUIRE_EQ(fx.p[0].n_msgs, 1);
  CHECK(fx.p[0].msg_len[0] == 4 && memcmp(fx.p[0].msgs[0], "ping", 4) == 0);
  fx.p[1].echo = 0;

  /* Inside the send callback only queries are allowed. */
  fx.p[0].send_in_send_cb = 1;
  fx.p[0].query_in_send_cb = 1;
  const uint64_t before = netsim_get_stats(fx.sim, NETSIM_A)->sent;
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 4, now_of(&fx)), 0);
  CHECK_EQ(fx.p[0].send_in_send_rc, SDTLS_E_IN_CALLBACK);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, before + 1);
  fx.p[0].send_in_send_cb = 0;
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].n_msgs, 3);

  /* Closing from on_data: allowed; the peer sees close_notify. */
  fx.p[1].close_in_data = 1;
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 4, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].close_in_data_rc, 0);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CLOSED);
  CHECK_EQ(fx.p[1].close_calls, 0);
  CHECK_EQ(fx.p[0].close_calls, 1);
  CHECK_EQ(fx.p[0].close_reason, 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CLOSED);
  fixture_teardown(&fx);
}

/* Starts the client and runs the simulator (at most `duration`): side
 * `side` must have freed its connection from one of its callbacks, and no
 * callback may follow. */
static void start_expecting_free(fixture *fx, int side, sdtls_time duration) {
  CHECK_EQ(sdtls_conn_start(CLIENT(fx), now_of(fx)), 0);
  netsim_run(fx->sim, NULL, NULL, duration, 100000);
  CHECK(fx->p[side].freed);
  CHECK_EQ(fx->p[side].callbacks_after_free, 0);
}

static void test_free_in_callbacks(void) {
  fixture fx;
  const uint8_t msg[4] = "data";

  /* Free from on_data, with more datagrams queued behind. */
  REQUIRE(fixture_setup(&fx, 3));
  REQUIRE(connected(&fx));
  fx.p[1].free_in_data = 1;
  for (int i = 0; i < 3; i++) CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 4, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK(fx.p[1].freed);
  CHECK_EQ(fx.p[1].n_msgs, 1);
  CHECK_EQ(fx.p[1].callbacks_after_free, 0);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->undeliverable, 2);
  fixture_teardown(&fx);

  /* Free from on_data while echoing (send, then free). */
  REQUIRE(fixture_setup(&fx, 4));
  REQUIRE(connected(&fx));
  fx.p[1].echo = 1;
  fx.p[1].free_in_data = 1;
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 4, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK_EQ(fx.p[1].echo_rc, 0);
  CHECK_EQ(fx.p[0].n_msgs, 1);
  CHECK_EQ(fx.p[1].callbacks_after_free, 0);
  fixture_teardown(&fx);

  /* Free from on_handshake_done, on each side. */
  for (int side = 0; side < 2; side++) {
    REQUIRE(fixture_setup(&fx, 5 + (uint64_t)side));
    fx.p[side].free_in_handshake_done = 1;
    start_expecting_free(&fx, side, 40 * NETSIM_SEC);
    CHECK_EQ(fx.p[side].handshake_done, 1);
    fixture_teardown(&fx);
  }

  /* Free from on_close (peer's close_notify, and a handshake timeout). */
  REQUIRE(fixture_setup(&fx, 7));
  REQUIRE(connected(&fx));
  fx.p[1].free_in_close = 1;
  CHECK_EQ(sdtls_conn_close(CLIENT(&fx), now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECK(fx.p[1].freed);
  CHECK_EQ(fx.p[1].close_calls, 1);
  CHECK_EQ(fx.p[1].callbacks_after_free, 0);
  fixture_teardown(&fx);

  REQUIRE(fixture_setup(&fx, 8));
  fx.p[0].free_in_close = 1;
  peer_cleanup(&fx.p[1]);
  start_expecting_free(&fx, 0, 60 * NETSIM_SEC);
  CHECK_EQ(fx.p[0].close_calls, 1);
  CHECK_EQ(fx.p[0].close_reason, SDTLS_E_TIMEOUT);
  fixture_teardown(&fx);
}

/* A free from inside the send callback, in the middle of a flight of
 * several datagrams (MTU 256): deferred like any other free, and no
 * callback follows it, not even the send of the flight's next datagram. */
static void test_free_in_send_callback(void) {
  fixture fx;
  REQUIRE(fixture_init(&fx, 11, 77 * NETSIM_SEC, config_make(NULL, 0, NULL),
                       config_make(&g_server, 0, NULL)));
  REQUIRE_EQ(sdtls_config_set_option(fx.sc, SDTLS_OPT_MTU, 256), 0);
  REQUIRE(fixture_conns(&fx));
  fx.p[1].free_in_send = 1;
  start_expecting_free(&fx, 1, 5 * NETSIM_SEC);
  CHECK_EQ(fx.p[1].send_calls, 1);
  fixture_teardown(&fx);

  /* The client's side, during sdtls_conn_start() itself. */
  REQUIRE(fixture_setup(&fx, 12));
  fx.p[0].free_in_send = 1;
  CHECK_EQ(sdtls_conn_start(CLIENT(&fx), now_of(&fx)), 0);
  CHECK(fx.p[0].freed);
  CHECK_EQ(fx.p[0].send_calls, 1);
  netsim_run(fx.sim, NULL, NULL, 5 * NETSIM_SEC, 100000);
  CHECK_EQ(fx.p[0].callbacks_after_free, 0);
  fixture_teardown(&fx);
}

static void test_send_callback_fails(void) {
  fixture fx;
  REQUIRE(fixture_setup(&fx, 9));
  /* The first flight cannot be sent: it counts as lost and is retransmitted. */
  fx.p[0].drop_sends = 1;
  CHECK_EQ(sdtls_conn_start(CLIENT(&fx), now_of(&fx)), 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_HANDSHAKING);
  CHECK_EQ(netsim_get_stats(fx.sim, NETSIM_A)->sent, 0);
  fx.p[0].drop_sends = 0;
  netsim_run(fx.sim, pair_connected, fx.p, 10 * NETSIM_SEC, 10000);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK(fx.p[0].handshake_time >= 77 * NETSIM_SEC + 100 * NETSIM_MS);
  /* Application data that cannot be sent is lost, the connection lives. */
  fx.p[0].drop_sends = 1;
  const uint8_t msg[3] = "abc";
  const int rc = sdtls_conn_send(CLIENT(&fx), msg, 3, now_of(&fx));
  CHECK(rc == 0 || rc < 0);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  fx.p[0].drop_sends = 0;
  CHECK_EQ(sdtls_conn_send(CLIENT(&fx), msg, 3, now_of(&fx)), 0);
  netsim_run_for(fx.sim, NETSIM_MS);
  CHECK_EQ(fx.p[1].n_msgs, 1);
  fixture_teardown(&fx);
}

/* ---- garbage and fuzz ---- */

/* Feeds `conn` a set of hostile datagrams; returns nothing, must not crash.
 * `samples` are real datagrams to mutate (may be empty). */
static void feed_garbage(netsim *sim, sdtls_conn *conn, int iterations,
                         const netsim_datagram *samples, size_t n_samples) {
  static uint8_t buf[1 << 20];
  for (int i = 0; i < iterations && conn; i++) {
    size_t len;
    const uint64_t kind = netsim_rand_below(sim, n_samples ? 6 : 3);
    if (kind == 0) { /* random bytes */
      len = (size_t)netsim_rand_below(sim, 1600);
      for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)netsim_rand(sim);
    } else if (kind == 1) { /* a plausible record header, random body */
      len = 13 + (size_t)netsim_rand_below(sim, 400);
      for (size_t k = 0; k < len; k++) buf[k] = (uint8_t)netsim_rand(sim);
      buf[0] = (uint8_t)(20 + netsim_rand_below(sim, 5));
      buf[1] = 0xfe;
      buf[2] = (uint8_t)(netsim_rand_below(sim, 2) ? 0xfd : 0xff);
      buf[3] = 0;
      buf[4] = (uint8_t)netsim_rand_below(sim, 2);
      const size_t body = netsim_rand_below(sim, 4) ? len - 13 : (size_t)netsim_rand(sim) & 0xffff;
      buf[11] = (uint8_t)(body >> 8);
      buf[12] = (uint8_t)body;
      if (buf[0] == 22 && len > 25) { /* handshake header with odd lengths */
        buf[13] = (uint8_t)netsim_rand_below(sim, 21);
      }
    } else if (kind == 2) { /* sizes at the edges */
      static const size_t sizes[] = {0, 1, 12, 13, 14, 25, 65507, 65536, 1 << 20};
      len = sizes[netsim_rand_below(sim, sizeof(sizes) / sizeof(sizes[0]))];
      memset(buf, (int)netsim_rand_below(sim, 256), len);
      if (len >= 3) {
        buf[0] = 22;
        buf[1] = 0xfe;
        buf[2] = 0xfd;
      }
    } else { /* a real datagram, damaged */
      const netsim_datagram *d = &samples[netsim_rand_below(sim, n_samples)];
      len = d->len;
      memcpy(buf, d->data, len);
      const uint64_t flips = 1 + netsim_rand_below(sim, 4);
      for (uint64_t f = 0; f < flips && len; f++)
        buf[netsim_rand_below(sim, len)] ^= (uint8_t)(1 + netsim_rand_below(sim, 255));
      if (kind == 4 && len) len = (size_t)netsim_rand_below(sim, len); /* truncated */
      if (kind == 5 && len + 40 < sizeof(buf)) { /* trailing junk */
        for (int k = 0; k < 40; k++) buf[len + (size_t)k] = (uint8_t)netsim_rand(sim);
        len += 40;
      }
    }
    const int rc = sdtls_conn_receive(conn, buf, len, netsim_now(sim));
    CHECK(rc <= 0);
    if (netsim_rand_below(sim, 8) == 0) {
      netsim_advance(sim, netsim_now(sim) + netsim_rand_below(sim, 300) * NETSIM_MS);
      (void)sdtls_conn_handle_timeout(conn, netsim_now(sim));
    }
  }
}

static size_t collect(const netsim *sim, int side, netsim_datagram *out, size_t max) {
  size_t n = netsim_captured_count(sim, side);
  if (n > max) n = max;
  for (size_t i = 0; i < n; i++) out[i] = netsim_captured(sim, side, i);
  return n;
}

static void test_garbage_in_every_state(void) {
  fixture fx;
  netsim_datagram samples[64];
  /* A sample of real traffic: handshake flights, data, an alert. */
  fixture ref;
  REQUIRE(fixture_setup(&ref, 10));
  REQUIRE(connected(&ref));
  CHECK_EQ(sdtls_conn_send(ref.p[0].conn, (const uint8_t *)"sample", 6, now_of(&ref)), 0);
  CHECK_EQ(sdtls_conn_send(ref.p[1].conn, (const uint8_t *)"sample", 6, now_of(&ref)), 0);
  CHECK_EQ(sdtls_conn_close(ref.p[0].conn, now_of(&ref)), 0);
  size_t ns = collect(ref.sim, NETSIM_A, samples, 32);
  ns += collect(ref.sim, NETSIM_B, samples + ns, 32);

  /* NEW (client and server), HANDSHAKING, CONNECTED, CLOSED, FAILED. */
  for (int state = 0; state < 6; state++) {
    REQUIRE(fixture_setup(&fx, 11 + (uint64_t)state));
    sdtls_conn *target = CLIENT(&fx);
    switch (state) {
      case 0: break;
      case 1: target = SERVER(&fx); break;
      case 2: CHECK_EQ(sdtls_conn_start(CLIENT(&fx), now_of(&fx)), 0); break;
      case 3: REQUIRE(connected(&fx)); break;
      case 4:
        REQUIRE(connected(&fx));
        CHECK_EQ(sdtls_conn_close(CLIENT(&fx), now_of(&fx)), 0);
        break;
      case 5:
        peer_cleanup(&fx.p[1]);
        sdtls_conn_start(CLIENT(&fx), now_of(&fx));
        netsim_run(fx.sim, NULL, NULL, 60 * NETSIM_SEC, 100000);
        CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_FAILED);
        break;
    }
    const sdtls_state before = sdtls_conn_state(target);
    netsim_set_conn(fx.sim, NETSIM_A, NULL); /* replies go nowhere */
    netsim_set_conn(fx.sim, NETSIM_B, NULL);
    /* Empty, NULL-and-empty and huge datagrams, explicitly. */
    static uint8_t huge[(1 << 20) + 1];
    memset(huge, 22, sizeof(huge));
    CHECK(sdtls_conn_receive(target, huge, 0, now_of(&fx)) <= 0);
    CHECK(sdtls_conn_receive(target, NULL, 0, now_of(&fx)) <= 0);
    CHECK(sdtls_conn_receive(target, huge, 65536, now_of(&fx)) <= 0);
    CHECK(sdtls_conn_receive(target, huge, sizeof(huge), now_of(&fx)) <= 0);
    huge[1] = 0xfe;
    huge[2] = 0xfd;
    CHECK(sdtls_conn_receive(target, huge, sizeof(huge), now_of(&fx)) <= 0);
    feed_garbage(fx.sim, target, 300, samples, ns);
    const sdtls_state after = sdtls_conn_state(target);
    if (before == SDTLS_STATE_CONNECTED) {
      /* Unauthenticated garbage never ends an established connection. */
      CHECK_EQ(after, SDTLS_STATE_CONNECTED);
      CHECK_EQ(fx.p[0].n_msgs, 0);
      CHECK_EQ(fx.p[0].close_calls, 0);
    }
    if (before == SDTLS_STATE_CLOSED || before == SDTLS_STATE_FAILED) CHECK_EQ(after, before);
    /* Ended connections report why, whatever they are fed. */
    if (before == SDTLS_STATE_CLOSED)
      CHECK_EQ(sdtls_conn_receive(target, samples[0].data, samples[0].len, now_of(&fx)),
               SDTLS_E_CLOSED);
    fixture_teardown(&fx);
  }
  fixture_teardown(&ref);
}

static void test_fuzz(void) {
  fixture fx;
  netsim_datagram samples[64];
  size_t ns;

  /* Real ClientHellos and a full client side of a handshake to mutate. */
  fixture ref;
  REQUIRE(fixture_setup(&ref, 20));
  REQUIRE(connected(&ref));
  CHECK_EQ(sdtls_conn_send(ref.p[0].conn, (const uint8_t *)"to mutate", 9, now_of(&ref)), 0);
  ns = collect(ref.sim, NETSIM_A, samples, 64);

  /* 2000 hostile datagrams to fresh server connections (a new one every
   * 100, or when one ends). */
  REQUIRE(fixture_setup(&fx, 21));
  netsim_set_conn(fx.sim, NETSIM_A, NULL);
  netsim_set_conn(fx.sim, NETSIM_B, NULL);
  for (int round = 0; round < 20; round++) {
    peer_cleanup(&fx.p[1]);
    peer_init(&fx.p[1], fx.sim, NETSIM_B, "server");
    REQUIRE_EQ(peer_connect_new(&fx.p[1], fx.sc, SDTLS_ROLE_SERVER), 0);
    netsim_set_conn(fx.sim, NETSIM_B, NULL);
    feed_garbage(fx.sim, SERVER(&fx), 100, samples, ns);
    CHECK_EQ(fx.p[1].n_msgs, 0);
    CHECK_EQ(fx.p[1].handshake_done, 0);
  }
  fixture_teardown(&fx);

  /* 2000 hostile datagrams to a connected client, built from real server
   * traffic: it stays connected, delivers nothing, and still works. */
  ns = collect(ref.sim, NETSIM_B, samples, 64);
  CHECK_EQ(sdtls_conn_send(ref.p[1].conn, (const uint8_t *)"to mutate", 9, now_of(&ref)), 0);
  ns = collect(ref.sim, NETSIM_B, samples, 64);
  netsim_run_for(ref.sim, NETSIM_MS);
  const size_t got = ref.p[0].n_msgs;
  CHECK_EQ(got, 1);
  netsim_set_conn(ref.sim, NETSIM_B, NULL); /* the client's answers go nowhere */
  feed_garbage(ref.sim, ref.p[0].conn, 2000, samples, ns);
  CHECK_EQ(sdtls_conn_state(ref.p[0].conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(ref.p[0].n_msgs, got);
  CHECK_EQ(ref.p[0].close_calls, 0);
  netsim_set_conn(ref.sim, NETSIM_B, ref.p[1].conn);
  netsim_run_for(ref.sim, NETSIM_SEC); /* drain what the client answered */
  CHECK_EQ(sdtls_conn_send(ref.p[1].conn, (const uint8_t *)"after", 5, now_of(&ref)), 0);
  CHECK_EQ(sdtls_conn_send(ref.p[0].conn, (const uint8_t *)"after", 5, now_of(&ref)), 0);
  netsim_run_for(ref.sim, NETSIM_SEC);
  CHECK_EQ(ref.p[0].n_msgs, got + 1);
  CHECK_EQ(ref.p[1].n_msgs, 2);
  CHECK_EQ(sdtls_conn_state(ref.p[1].conn), SDTLS_STATE_CONNECTED);
  fixture_teardown(&ref);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"null_arguments", test_null_arguments},
      {"call_order", test_call_order},
      {"reentrant_calls", test_reentrant_calls},
      {"free_in_callbacks", test_free_in_callbacks},
      {"free_in_send_callback", test_free_in_send_callback},
      {"send_callback_fails", test_send_callback_fails},
      {"garbage_in_every_state", test_garbage_in_every_state},
      {"fuzz", test_fuzz},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The header's one callback rule for the callbacks the engine makes from
 * inside its own work, the PSK lookup and the key log: every call the
 * application can make from inside them, on a plain connection and on a
 * server's connection (through sdtls_server), on every DTLS version the
 * engine speaks. A free is deferred and no callback follows it; a close is
 * applied when the application's call returns; every other call on the
 * handle is refused with SDTLS_E_IN_CALLBACK and changes nothing (the
 * handshake then completes). Run under ASan+UBSan: before the rule covered
 * these callbacks, a free or a receive from inside them was a
 * use-after-free inside the engine. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

static testcert g_server;
static const uint8_t kKey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

enum kind { PSK_LOOKUP, KEY_LOG };
static const char *const kind_names[] = {"psk lookup", "key log"};

/* What the callback does with the connection (or server) driving it. */
enum action {
  FREE,
  CLOSE,
  RECEIVE,
  START,
  HANDLE_TIMEOUT,
  SEND,
  KEY_UPDATE,
  SET_SERVER_NAME,
  SET_SESSION,
  ADD_FINGERPRINT,
  QUERIES,
  /* through a server only */
  SERVER_FREE,
  SERVER_CLOSE_PEER,
  SERVER_RECEIVE,
  SERVER_HANDLE_TIMEOUT,
  SERVER_PIN_PEER,
  SERVER_UNPIN_PEER,
  N_ACTIONS
};
static const char *const action_names[] = {
    "free",     "close",      "receive",         "start",       "handle_timeout",
    "send",     "key_update", "set_server_name", "set_session", "add_peer_fingerprint",
    "queries",  "server_free", "server_close_peer", "server_receive", "server_handle_timeout",
    "server_pin_peer", "server_unpin_peer"};

typedef struct ctx {
  enum action action;
  sdtls_time now;
  peer *target;            /* plain connections */
  sdtls_server *server;    /* through a server */
  sdtls_conn *server_conn; /* from on_connect until on_close */
  int calls, calls_after, rc;
  int server_freed;
} ctx;

static const char kFingerprint[] =
    "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

/* The call under test, on `conn`; the others on the server. Returns the
 * call's result (1 for the queries, which return values, not codes). */
static int act(ctx *c, sdtls_conn *conn) {
  static const uint8_t byte[1] = {0};
  switch (c->action) {
    case FREE: sdtls_conn_free(conn); return 0;
    case CLOSE: return sdtls_conn_close(conn, c->now);
    case RECEIVE: return sdtls_conn_receive(conn, byte, 1, c->now);
    case START: return sdtls_conn_start(conn, c->now);
    case HANDLE_TIMEOUT: return sdtls_conn_handle_timeout(conn, c->now);
    case SEND: return sdtls_conn_send(conn, byte, 1, c->now);
    case KEY_UPDATE: return sdtls_conn_key_update(conn, c->now);
    case SET_SERVER_NAME: return sdtls_conn_set_server_name(conn, "server.test");
    case SET_SESSION: return sdtls_conn_set_session(conn, byte, 1);
    case ADD_FINGERPRINT: return sdtls_conn_add_peer_fingerprint(conn, kFingerprint);
    case QUERIES:
      return sdtls_conn_state(conn) == SDTLS_STATE_HANDSHAKING && sdtls_conn_version(conn) == NULL &&
             sdtls_conn_error(conn) == 0 && sdtls_conn_error_detail(conn) != NULL;
    case SERVER_FREE: sdtls_server_free(c->server); c->server_freed = 1; return 0;
    case SERVER_CLOSE_PEER: return sdtls_server_close_peer(c->server, conn, c->now);
    case SERVER_RECEIVE: {
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
      return sdtls_server_receive(c->server, (const uint8_t *)&a, sizeof(a), byte, 1, c->now);
    }
    case SERVER_HANDLE_TIMEOUT: return sdtls_server_handle_timeout(c->server, c->now);
    case SERVER_PIN_PEER:
    case SERVER_UNPIN_PEER: {
      /* The connection's own address (run_server checks that nothing
       * was pinned there). */
      const uint8_t *addr;
      size_t addr_len;
      sdtls_conn_peer_address(conn, &addr, &addr_len);
      return c->action == SERVER_PIN_PEER
                 ? sdtls_server_pin_peer(c->server, addr, addr_len, kFingerprint)
                 : sdtls_server_unpin_peer(c->server, addr, addr_len);
    }
    case N_ACTIONS: break;
  }
  return -99;
}

/* The callbacks under test: the action once, at the first call. */
static void on_callback(ctx *c) {
  if (c->calls++ > 0) {
    c->calls_after++;
    return;
  }
  if (c->target != NULL) {
    sdtls_conn *conn = c->target->conn;
    c->now = netsim_now(c->target->sim);
    if (c->action == FREE) {
      netsim_set_conn(c->target->sim, c->target->side, NULL);
      c->target->conn = NULL;
      c->target->freed = 1;
    }
    c->rc = act(c, conn);
  } else {
    c->rc = act(c, c->server_conn);
  }
}

static size_t lookup(void *user, const char *identity, uint8_t *key, size_t key_max) {
  (void)identity;
  on_callback(user);
  if (key_max < sizeof(kKey)) return 0;
  memcpy(key, kKey, sizeof(kKey));
  return sizeof(kKey);
}

static void keylog(void *user, const char *line) {
  (void)line;
  on_callback(user);
}

/* A server config with the callback of `kind` (and the client's config to
 * match), speaking at most `version`. */
static int make_configs(enum kind kind, int64_t version, ctx *c, sdtls_config **cc,
                        sdtls_config **sc) {
  *cc = config_make(NULL, 0, NULL);
  *sc = config_make(kind == KEY_LOG ? &g_server : NULL, 0, NULL);
  if (*cc == NULL || *sc == NULL) return 0;
  int rc = sdtls_config_set_option(*cc, SDTLS_OPT_MAX_VERSION, version) |
           sdtls_config_set_option(*sc, SDTLS_OPT_MAX_VERSION, version) |
           sdtls_config_set_option(*cc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 3000) |
           sdtls_config_set_option(*sc, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 3000);
  if (kind == PSK_LOOKUP) {
    rc |= sdtls_config_add_psk(*cc, "device-1", kKey, sizeof(kKey)) |
          sdtls_config_set_psk_lookup(*sc, lookup, c);
  } else {
    rc |= sdtls_config_set_keylog(*sc, keylog, c);
  }
  return rc == 0;
}

/* Whether the call's result follows the rule; the outcome is checked by
 * the caller. */
static void check_rc(enum kind kind, const ctx *c) {
  int want = SDTLS_E_IN_CALLBACK;
  if (c->action == FREE || c->action == CLOSE || c->action == SERVER_FREE ||
      c->action == SERVER_CLOSE_PEER) {
    want = 0;
  } else if (c->action == QUERIES) {
    want = 1;
  } else if (c->action == SET_SERVER_NAME || c->action == START) {
    /* Valid only for a client in NEW: refused either way. */
    CHECKF(c->rc == SDTLS_E_IN_CALLBACK || c->rc == SDTLS_E_STATE, "%s, %s: rc %d",
           kind_names[kind], action_names[c->action], c->rc);
    return;
  }
  CHECKF(c->rc == want, "%s, %s: rc %d, want %d", kind_names[kind], action_names[c->action], c->rc,
         want);
}

/* ---- plain connections ---- */

static void run_plain(enum kind kind, enum action action, int64_t version, uint64_t seed) {
  ctx c = {.action = action};
  sdtls_config *cc, *sc;
  fixture fx;
  REQUIRE(make_configs(kind, version, &c, &cc, &sc));
  REQUIRE(fixture_init(&fx, seed, 100 * NETSIM_SEC, cc, sc) && fixture_conns(&fx));
  c.target = &fx.p[1];
  int connected = pair_handshake(fx.p, 5 * NETSIM_SEC);
  netsim_run_for(fx.sim, NETSIM_SEC);
  CHECKF(c.calls >= 1, "%s, %s: the callback ran", kind_names[kind], action_names[action]);
  check_rc(kind, &c);
  if (action == FREE) {
    /* Deferred, then done: nothing of the connection's is called again. */
    CHECK(fx.p[1].freed && fx.p[1].conn == NULL);
    CHECKF(fx.p[1].callbacks_after_free == 0 && c.calls_after == 0, "%s: %d, %d callbacks after free",
           kind_names[kind], fx.p[1].callbacks_after_free, c.calls_after);
    CHECK_EQ(fx.p[1].handshake_done, 0);
  } else if (action == CLOSE) {
    /* Applied when the engine returned: closed, no event, nothing more. */
    CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CLOSED);
    CHECK_EQ(fx.p[1].handshake_done, 0);
    CHECK_EQ(fx.p[1].close_calls, 0);
    CHECK(!connected);
  } else {
    /* Refused (or a query): nothing changed, the handshake completes. */
    CHECKF(connected, "%s, %s: the handshake did not complete", kind_names[kind],
           action_names[action]);
    CHECK_EQ(fx.p[1].handshake_done, 1);
  }
  fixture_teardown(&fx);
}

static void test_plain_connection(void) {
  int64_t versions[2] = {SDTLS_DTLS1_2, SDTLS_DTLS1_3};
  uint64_t seed = 1;
  for (int v = 0; v < 2; v++) {
    if (v == 1 && !sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) break;
    for (int k = PSK_LOOKUP; k <= KEY_LOG; k++) {
      if (k == PSK_LOOKUP && v == 1) continue; /* PSK suites are DTLS 1.2's */
      for (int a = FREE; a <= QUERIES; a++) run_plain((enum kind)k, (enum action)a, versions[v], seed++);
    }
  }
}

/* ---- through sdtls_server: datagrams carried by two queues ---- */

typedef struct wire {
  dgram_queue to_server, to_client;
  ctx *c;
  int handshakes, closes, close_reason;
} wire;

static int client_send(void *user, const uint8_t *d, size_t len) {
  dgram_push(&((wire *)user)->to_server, d, len);
  return 0;
}

static int server_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d,
                       size_t len) {
  (void)addr;
  (void)addr_len;
  dgram_push(&((wire *)user)->to_client, d, len);
  return 0;
}

static void on_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  (void)addr;
  (void)addr_len;
  ((wire *)user)->c->server_conn = conn;
}

static void on_server_handshake(void *user, sdtls_conn *conn) {
  (void)conn;
  ((wire *)user)->handshakes++;
}

static void on_server_close(void *user, sdtls_conn *conn, int reason) {
  wire *w = user;
  if (w->c->server_conn == conn) w->c->server_conn = NULL;
  w->closes++;
  w->close_reason = reason;
}

static void run_server(enum kind kind, enum action action, int64_t version) {
  static wire w; /* large queues: off the stack */
  memset(&w, 0, sizeof(w));
  ctx c = {.action = action};
  w.c = &c;
  sdtls_config *cc, *sc;
  REQUIRE(make_configs(kind, version, &c, &cc, &sc));
  if (kind == PSK_LOOKUP) {
    /* sdtls_server needs a certificate even when the peers use PSKs. */
    REQUIRE_EQ(sdtls_config_set_certificate_pem(
                   sc, (const uint8_t *)g_server.cert_pem, testcert_cert_len(&g_server),
                   (const uint8_t *)g_server.key_pem, testcert_key_len(&g_server)),
               0);
  }
  sdtls_server_callbacks scb = {.size = sizeof(scb),
                                .send = server_send,
                                .on_connect = on_connect,
                                .on_handshake_done = on_server_handshake,
                                .on_close = on_server_close};
  sdtls_callbacks ccb = {.size = sizeof(ccb), .send = client_send};
  sdtls_conn *client = NULL;
  REQUIRE_EQ(sdtls_server_new(sc, &scb, &w, &c.server), 0);
  REQUIRE_EQ(sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &ccb, &w, &client), 0);
  sdtls_config_free(cc);
  sdtls_config_free(sc);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(4444)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sdtls_time now = 100 * NETSIM_SEC;
  REQUIRE_EQ(sdtls_conn_start(client, now), 0);
  /* Bounded: at most 10 virtual seconds, in steps of a deadline or 10 ms. */
  for (int step = 0; step < 2000 && now < 110 * NETSIM_SEC; step++) {
    c.now = now;
    for (size_t i = 0; i < w.to_server.n && !c.server_freed; i++) {
      sdtls_server_receive(c.server, (const uint8_t *)&addr, sizeof(addr), w.to_server.data[i],
                           w.to_server.len[i], now);
    }
    w.to_server.n = 0;
    dgram_queue in = w.to_client;
    w.to_client.n = 0;
    for (size_t i = 0; i < in.n; i++) sdtls_conn_receive(client, in.data[i], in.len[i], now);
    if (w.to_server.n == 0 && w.to_client.n == 0) {
      now += 10 * NETSIM_MS;
      sdtls_conn_handle_timeout(client, now);
      if (!c.server_freed) sdtls_server_handle_timeout(c.server, now);
    }
  }
  CHECKF(c.calls >= 1, "%s, %s: the callback ran", kind_names[kind], action_names[action]);
  check_rc(kind, &c);
  if (action == SERVER_FREE) {
    CHECK_EQ(c.calls_after, 0);
    CHECK_EQ(w.handshakes, 0);
    CHECK_EQ(w.closes, 0); /* no callback after a free */
  } else if (action == CLOSE || action == SERVER_CLOSE_PEER) {
    CHECK_EQ(w.handshakes, 0);
    CHECK_EQ(w.closes, 1);
    CHECK_EQ(w.close_reason, SDTLS_E_CLOSED);
    CHECK_EQ(sdtls_server_counter_get(c.server, SDTLS_COUNTER_PEERS), 0);
  } else {
    if (action == SERVER_PIN_PEER) {
      CHECK_EQ(sdtls_server_unpin_peer(c.server, (const uint8_t *)&addr, sizeof(addr)), 0);
    }
    /* Refused, ignored (a server's connection is freed by its server) or
     * a query: the handshake completes. */
    CHECKF(w.handshakes == 1, "%s, %s: server handshakes %d", kind_names[kind],
           action_names[action], w.handshakes);
    CHECK_EQ(sdtls_conn_state(client), SDTLS_STATE_CONNECTED);
  }
  if (!c.server_freed) sdtls_server_free(c.server);
  sdtls_conn_free(client);
}

static void test_server_connection(void) {
  static const enum action actions[] = {FREE,          CLOSE,           RECEIVE,         START,
                                        HANDLE_TIMEOUT, SEND,           KEY_UPDATE,      QUERIES,
                                        SERVER_FREE,   SERVER_CLOSE_PEER, SERVER_RECEIVE,
                                        SERVER_HANDLE_TIMEOUT, SERVER_PIN_PEER, SERVER_UNPIN_PEER};
  int64_t versions[2] = {SDTLS_DTLS1_2, SDTLS_DTLS1_3};
  if (!sdtls_has_feature(SDTLS_FEATURE_COOKIE_EXCHANGE)) {
    printf("no cookie hand-over in this engine: sdtls_server is unavailable\n");
    return;
  }
  for (int v = 0; v < 2; v++) {
    if (v == 1 && !sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) break;
    for (int k = PSK_LOOKUP; k <= KEY_LOG; k++) {
      if (k == PSK_LOOKUP && v == 1) continue;
      for (size_t a = 0; a < sizeof(actions) / sizeof(actions[0]); a++)
        run_server((enum kind)k, actions[a], versions[v]);
    }
  }
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"plain_connection", test_plain_connection},
      {"server_connection", test_server_connection},
  };
  if (testcert_ecdsa("server.test", &g_server) != 0) return 1;
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&g_server);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the public API as a sequence of calls.
 *
 * The input is decoded into calls on up to 3 configs, 4 connections and 2
 * servers, joined by one in-memory wire (a FIFO of datagrams that the input
 * delivers, drops or reorders), plus a per-handle "plan": what the handle's
 * callbacks do when they run (free the handle itself, close it, send on it,
 * free a config or another connection, deliver a datagram to another
 * handle: a nested call, create a connection, forbidden calls...).
 *
 * Only calls the header defines are made: no handle is used after it was
 * freed (a free inside a callback counts at once: nothing touches the
 * handle afterwards), and a server's connection is used only between its
 * on_connect and the return of its on_close, while its server lives.
 *
 * Checks besides the sanitizers (a failure aborts with "FINDING"):
 *   - every callback comes from inside a call on its handle (for a
 *     server, on it or on one of its connections) and never after a free;
 *   - calls the header forbids inside a callback return SDTLS_E_IN_CALLBACK
 *     (or, on a server's connection, SDTLS_E_STATE), per-peer pins among
 *     them;
 *   - a frozen config refuses setters with SDTLS_E_FROZEN;
 *   - on_close at most once per connection; every error code has a name;
 *   - the PEERS gauge of a server counts its live connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define NCFG 3
#define NCONN 4
#define NSRV 2
#define NSCONN 8
#define QMAX 32
#define MAX_NEST 2

/* Any well-formed sha-256 fingerprint (bare form). */
#define FUZZ_PIN \
  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

enum cb_kind { CB_SEND, CB_DONE, CB_DATA, CB_CLOSE, CB_CONNECT, CB_KINDS };

enum action {
  ACT_NONE,
  ACT_FREE_SELF,
  ACT_CLOSE_SELF,
  ACT_SEND_SELF,
  ACT_FORBIDDEN,
  ACT_FREE_CONFIG,
  ACT_FREE_OTHER_CONN,
  ACT_DELIVER,
  ACT_NEW_CONN,
  ACT_QUERY,
  ACT_FREE_OTHER_SERVER,
  ACT_COUNT
};

typedef struct plan {
  uint8_t when; /* enum cb_kind */
  uint8_t what; /* enum action */
  uint8_t arg;
  uint8_t armed;
} plan;

typedef struct cfg_slot {
  sdtls_config *c;
  int frozen; /* a connection or server was made from it */
} cfg_slot;

typedef struct conn_slot {
  sdtls_conn *c;
  int in_call; /* our calls on it in progress */
  int closes;
  plan p;
  int index;
} conn_slot;

typedef struct srv_slot {
  sdtls_server *s;
  int in_call; /* our calls on it or its connections in progress */
  sdtls_conn *conns[NSCONN];
  int n;
  plan p;
  int index;
} srv_slot;

typedef struct dgram {
  int from_conn; /* conn slot that sent it, or -1 for a server */
  int to_conn;   /* a server's datagram: the conn slot of its address, or -1 */
  size_t len;
  uint8_t data[2048];
} dgram;

static cfg_slot cfgs[NCFG];
static conn_slot conns[NCONN];
static srv_slot srvs[NSRV];
static dgram wire[QMAX];
static size_t wire_n;
static sdtls_time now;
static int nest;
static size_t keylog_lines;
static size_t handshakes, data_events, closes; /* for SDTLS_FUZZ_VERBOSE */

static void deliver(uint8_t dest);
static void new_conn(int slot, uint8_t cfg, uint8_t role);

static void check_rc(int rc) {
  if (rc > 0 || strcmp(sdtls_strerror(rc), "unknown error") == 0) FINDING("undocumented return %d", rc);
}

static void wire_push(int from_conn, int to_conn, const uint8_t *d, size_t len) {
  if (wire_n == QMAX || len > sizeof(wire[0].data)) return; /* lost */
  wire[wire_n].from_conn = from_conn;
  wire[wire_n].to_conn = to_conn;
  wire[wire_n].len = len;
  memcpy(wire[wire_n].data, d, len);
  wire_n++;
}

static void wire_pop(size_t i) {
  memmove(&wire[i], &wire[i + 1], (wire_n - i - 1) * sizeof(wire[0]));
  wire_n--;
}

static void keylog(void *user, const char *line) {
  (void)user;
  if (strlen(line) == 0) FINDING("empty key log line");
  keylog_lines++;
}

/* ---- calls, with the bookkeeping that tells a legitimate callback ---- */

static void free_conn(int i) {
  if (conns[i].c == NULL) return;
  sdtls_conn *c = conns[i].c;
  conns[i].c = NULL; /* from here on nothing touches it */
  sdtls_conn_free(c);
}

static void free_server(int i) {
  if (srvs[i].s == NULL) return;
  sdtls_server *s = srvs[i].s;
  srvs[i].s = NULL;
  srvs[i].n = 0; /* its connections go with it */
  sdtls_server_free(s);
}

static void conn_action(conn_slot *cs, enum cb_kind kind);
static void srv_action(srv_slot *ss, enum cb_kind kind, sdtls_conn *conn);

/* ---- standalone connections' callbacks ---- */

static conn_slot *conn_cb_enter(void *user, const char *what) {
  conn_slot *cs = user;
  if (cs->c == NULL) FINDING("%s after the connection was freed", what);
  if (cs->in_call == 0) FINDING("%s outside a call on the connection", what);
  return cs;
}

static int c_send(void *user, const uint8_t *d, size_t len) {
  conn_slot *cs = conn_cb_enter(user, "send callback");
  wire_push(cs->index, -1, d, len);
  conn_action(cs, CB_SEND);
  return 0;
}

static void c_done(void *user) {
  handshakes++;
  conn_action(conn_cb_enter(user, "on_handshake_done"), CB_DONE);
}

static void c_data(void *user, const uint8_t *d, size_t len) {
  (void)d;
  if (len == 0) FINDING("empty on_data");
  data_events++;
  conn_action(conn_cb_enter(user, "on_data"), CB_DATA);
}

static void c_close(void *user, int reason) {
  conn_slot *cs = conn_cb_enter(user, "on_close");
  if (++cs->closes > 1) FINDING("on_close twice");
  closes++;
  check_rc(reason);
  conn_action(cs, CB_CLOSE);
}

/* ---- servers' callbacks ---- */

static srv_slot *srv_cb_enter(void *user, const char *what) {
  srv_slot *ss = user;
  if (ss->s == NULL) FINDING("%s after the server was freed", what);
  if (ss->in_call == 0) FINDING("%s outside a call on the server", what);
  return ss;
}

static int srv_conn_index(const srv_slot *ss, const sdtls_conn *c) {
  for (int i = 0; i < ss->n; i++)
    if (ss->conns[i] == c) return i;
  return -1;
}

static int s_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d, size_t len) {
  srv_slot *ss = srv_cb_enter(user, "server send callback");
  int to = -1;
  for (unsigned k = 0; k < NCONN; k++) {
    size_t alen;
    const uint8_t *a = fuzz_addr(k, &alen);
    if (alen == addr_len && memcmp(a, addr, alen) == 0) to = (int)k;
  }
  wire_push(-1, to, d, len);
  srv_action(ss, CB_SEND, NULL);
  return 0;
}

static void s_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  (void)addr;
  (void)addr_len;
  srv_slot *ss = srv_cb_enter(user, "on_connect");
  if (srv_conn_index(ss, conn) >= 0) FINDING("on_connect twice");
  if (ss->n == NSCONN) FINDING("more connections than the peer limit");
  ss->conns[ss->n++] = conn;
  srv_action(ss, CB_CONNECT, conn);
}

static void s_done(void *user, sdtls_conn *conn) {
  srv_slot *ss = srv_cb_enter(user, "server on_handshake_done");
  handshakes++;
  if (srv_conn_index(ss, conn) < 0) FINDING("on_handshake_done for an unknown connection");
  srv_action(ss, CB_DONE, conn);
}

static void s_data(void *user, sdtls_conn *conn, const uint8_t *d, size_t len) {
  (void)d;
  (void)len;
  srv_slot *ss = srv_cb_enter(user, "server on_data");
  data_events++;
  if (srv_conn_index(ss, conn) < 0) FINDING("on_data for an unknown connection");
  srv_action(ss, CB_DATA, conn);
}

static void s_close(void *user, sdtls_conn *conn, int reason) {
  srv_slot *ss = srv_cb_enter(user, "server on_close");
  closes++;
  int i = srv_conn_index(ss, conn);
  if (i < 0) FINDING("on_close for an unknown connection");
  check_rc(reason);
  srv_action(ss, CB_CLOSE, conn);
  /* Valid until on_close returns (the action may have freed the server). */
  if (ss->s != NULL) {
    i = srv_conn_index(ss, conn);
    if (i >= 0) ss->conns[i] = ss->conns[--ss->n];
  }
}

/* ---- what callbacks do ---- */

static const uint8_t kPayload[] = "sdtls api fuzz payload";

static void common_action(enum action what, uint8_t arg) {
  switch (what) {
    case ACT_FREE_CONFIG: {
      int i = arg % NCFG;
      sdtls_config_free(cfgs[i].c); /* reference counted: always allowed */
      cfgs[i].c = NULL;
      break;
    }
    case ACT_FREE_OTHER_CONN: {
      int i = arg % NCONN;
      if (conns[i].c != NULL && conns[i].in_call == 0) free_conn(i);
      break;
    }
    case ACT_FREE_OTHER_SERVER: {
      int i = arg % NSRV;
      if (srvs[i].s != NULL && srvs[i].in_call == 0) free_server(i);
      break;
    }
    case ACT_DELIVER:
      if (nest < MAX_NEST) {
        nest++;
        deliver(arg);
        nest--;
      }
      break;
    case ACT_NEW_CONN:
      for (int i = 0; i < NCONN; i++) {
        if (conns[i].c == NULL && conns[i].in_call == 0) {
          new_conn(i, arg, arg >> 4);
          break;
        }
      }
      break;
    default:
      break;
  }
}

static void conn_action(conn_slot *cs, enum cb_kind kind) {
  if (!cs->p.armed || cs->p.when != kind) return;
  cs->p.armed = 0; /* once per plan */
  sdtls_conn *c = cs->c;
  int rc;
  switch ((enum action)cs->p.what) {
    case ACT_FREE_SELF:
      free_conn(cs->index);
      break;
    case ACT_CLOSE_SELF:
      rc = sdtls_conn_close(c, now);
      if (kind == CB_SEND ? rc != SDTLS_E_IN_CALLBACK : rc != 0) FINDING("close in callback %d: %d", kind, rc);
      break;
    case ACT_SEND_SELF:
      rc = sdtls_conn_send(c, kPayload, sizeof(kPayload), now);
      if (kind == CB_SEND && rc != SDTLS_E_IN_CALLBACK) FINDING("send in send callback: %d", rc);
      check_rc(rc);
      break;
    case ACT_FORBIDDEN:
      if (sdtls_conn_receive(c, kPayload, 1, now) != SDTLS_E_IN_CALLBACK ||
          sdtls_conn_handle_timeout(c, now) != SDTLS_E_IN_CALLBACK ||
          sdtls_conn_start(c, now) != SDTLS_E_IN_CALLBACK ||
          sdtls_conn_set_server_name(c, "x.test") != SDTLS_E_IN_CALLBACK)
        FINDING("a forbidden call in a callback was not refused");
      break;
    case ACT_QUERY:
      (void)sdtls_conn_state(c);
      (void)sdtls_conn_error_detail(c);
      (void)sdtls_conn_next_deadline(c);
      (void)sdtls_conn_max_data_size(c);
      break;
    default:
      common_action((enum action)cs->p.what, cs->p.arg);
      break;
  }
}

static void srv_action(srv_slot *ss, enum cb_kind kind, sdtls_conn *conn) {
  if (!ss->p.armed || ss->p.when != kind) return;
  ss->p.armed = 0;
  int rc;
  switch ((enum action)ss->p.what) {
    case ACT_FREE_SELF:
      free_server(ss->index);
      break;
    case ACT_CLOSE_SELF:
      if (conn != NULL) {
        rc = (ss->p.arg & 1) ? sdtls_server_close_peer(ss->s, conn, now) : sdtls_conn_close(conn, now);
        if (rc != 0) FINDING("closing a peer from its callback: %d", rc);
      }
      break;
    case ACT_SEND_SELF:
      if (conn != NULL) check_rc(sdtls_conn_send(conn, kPayload, sizeof(kPayload), now));
      break;
    case ACT_FORBIDDEN: {
      static const uint8_t addr4[16] = {2, 0};
      if (sdtls_server_receive(ss->s, addr4, sizeof(addr4), kPayload, 1, now) != SDTLS_E_IN_CALLBACK ||
          sdtls_server_handle_timeout(ss->s, now) != SDTLS_E_IN_CALLBACK ||
          sdtls_server_pin_peer(ss->s, addr4, sizeof(addr4), "sha-256 " FUZZ_PIN) != SDTLS_E_IN_CALLBACK ||
          sdtls_server_unpin_peer(ss->s, addr4, sizeof(addr4)) != SDTLS_E_IN_CALLBACK)
        FINDING("a forbidden server call in a callback was not refused");
      if (conn != NULL) {
        rc = sdtls_conn_receive(conn, kPayload, 1, now);
        if (rc != SDTLS_E_IN_CALLBACK && rc != SDTLS_E_STATE) FINDING("receive on a server conn: %d", rc);
        sdtls_conn_free(conn); /* ignored */
      }
      break;
    }
    case ACT_QUERY:
      (void)sdtls_server_next_deadline(ss->s);
      (void)sdtls_server_counter_get(ss->s, SDTLS_COUNTER_PEERS);
      if (conn != NULL) {
        const uint8_t *a;
        size_t alen;
        if (sdtls_conn_peer_address(conn, &a, &alen) != 0) FINDING("peer address");
      }
      break;
    default:
      common_action((enum action)ss->p.what, ss->p.arg);
      break;
  }
}

/* ---- operations ---- */

static const sdtls_callbacks conn_cbs = {sizeof(sdtls_callbacks), c_send, c_done, c_data, c_close};
static const sdtls_server_callbacks srv_cbs = {sizeof(sdtls_server_callbacks), s_send, s_connect,
                                               s_done, s_data, s_close};

static void new_conn(int slot, uint8_t cfg, uint8_t role) {
  cfg_slot *cf = &cfgs[(cfg & 15) % NCFG];
  if (cf->c == NULL) return;
  conn_slot *cs = &conns[slot];
  memset(cs, 0, sizeof(*cs));
  cs->index = slot;
  int rc = sdtls_conn_new(cf->c, (role & 1) ? SDTLS_ROLE_SERVER : SDTLS_ROLE_CLIENT, &conn_cbs, cs, &cs->c);
  check_rc(rc);
  if (rc == 0) cf->frozen = 1;
  if (rc == 0 && (role & 1) == 0) sdtls_conn_set_server_name(cs->c, FUZZ_SERVER_NAME);
}

static void srv_calls_begin(int i) { srvs[i].in_call++; }
static void srv_calls_end(int i) { srvs[i].in_call--; }

/* dest & 0x80: where the datagram was meant to go (a connection's to
 * server 0 if there is one, else to the connection in the slot next to it;
 * a server's to the connection whose address it was sent to); otherwise
 * dest picks a connection slot or a server. */
static void deliver(uint8_t dest) {
  if (wire_n == 0) return;
  dgram d = wire[0];
  wire_pop(0);
  unsigned to = dest % (NCONN + NSRV);
  if (dest & 0x80) {
    if (d.from_conn >= 0) {
      to = srvs[0].s != NULL ? NCONN : (unsigned)(d.from_conn ^ 1);
    } else if (d.to_conn >= 0) {
      to = (unsigned)d.to_conn;
    }
  }
  if (to < NCONN) {
    conn_slot *cs = &conns[to];
    if (cs->c == NULL) return;
    cs->in_call++;
    int rc = sdtls_conn_receive(cs->c, d.data, d.len, now);
    cs->in_call--;
    if (rc == SDTLS_E_IN_CALLBACK && cs->in_call == 0) FINDING("receive refused outside a callback");
    check_rc(rc);
  } else {
    int s = (int)(to - NCONN);
    if (srvs[s].s == NULL) return;
    size_t alen;
    const uint8_t *addr = fuzz_addr(d.from_conn < 0 ? 3u : (unsigned)d.from_conn, &alen);
    srv_calls_begin(s);
    int rc = sdtls_server_receive(srvs[s].s, addr, alen, d.data, d.len, now);
    srv_calls_end(s);
    check_rc(rc);
  }
}

static void set_option(cfg_slot *cf, uint8_t which, uint8_t v) {
  static const int64_t values[] = {0, 1, 2, 10, 100, 255, 256, 300, 1200, 1500, 30000, 60000,
                                   65507, 65508, 0xfefd, 0xfefc, 0xfeff, -1, INT64_MAX};
  int rc = sdtls_config_set_option(cf->c, (sdtls_option)(which % 14),
                                   values[v % (sizeof(values) / sizeof(values[0]))]);
  check_rc(rc);
  if (cf->frozen && rc != SDTLS_E_FROZEN) FINDING("a frozen config took an option");
  int64_t got;
  (void)sdtls_config_get_option(cf->c, (sdtls_option)(which % 14), &got);
}

static void set_credentials(cfg_slot *cf, uint8_t which) {
  int rc;
  const char *cert = fuzz_cert_pem(which & 1), *key = fuzz_key_pem((which >> 1) & 1);
  switch ((which >> 2) % 4) {
    case 0:
      rc = sdtls_config_set_certificate_pem(cf->c, (const uint8_t *)cert, strlen(cert), (const uint8_t *)key,
                                            strlen(key));
      break;
    case 1:
      rc = sdtls_config_set_ca_pem(cf->c, (const uint8_t *)cert, strlen(cert));
      break;
    case 2: {
      static const char *const suites[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "AES128-SHA", "ALL",
                                           "ECDHE-ECDSA-CHACHA20-POLY1305:!AESGCM", ""};
      rc = sdtls_config_set_ciphers(cf->c, suites[(which >> 4) % 5]);
      break;
    }
    default:
      rc = sdtls_config_set_keylog(cf->c, (which & 16) ? keylog : NULL, NULL);
      break;
  }
  check_rc(rc);
  if (cf->frozen && rc != SDTLS_E_FROZEN) FINDING("a frozen config took credentials");
}

static void conn_op(conn_slot *cs, uint8_t op, uint8_t arg) {
  sdtls_conn *c = cs->c;
  int rc = 0;
  cs->in_call++;
  switch (op % 6) {
    case 0: rc = sdtls_conn_start(c, now); break;
    case 1: rc = sdtls_conn_send(c, kPayload, arg % sizeof(kPayload), now); break;
    case 2: rc = sdtls_conn_close(c, now); break;
    case 3: {
      sdtls_time d = sdtls_conn_next_deadline(c);
      if (d != SDTLS_TIME_NEVER && d > now && (arg & 1)) now = d;
      rc = sdtls_conn_handle_timeout(c, now);
      break;
    }
    case 4: {
      uint8_t out[32];
      rc = sdtls_conn_export_keying_material(c, out, sizeof(out), "EXPERIMENTAL x", 14, NULL, 0);
      (void)sdtls_conn_peer_fingerprint_sha256(c, out);
      (void)sdtls_conn_version(c);
      (void)sdtls_conn_cipher(c);
      break;
    }
    default:
      rc = sdtls_conn_set_server_name(c, (arg & 1) ? "127.0.0.1" : FUZZ_SERVER_NAME);
      break;
  }
  cs->in_call--;
  check_rc(rc);
  if (rc == SDTLS_E_IN_CALLBACK && cs->in_call == 0) FINDING("a call refused outside callbacks");
}

static void server_conn_op(uint8_t s_pick, uint8_t c_pick, uint8_t op) {
  srv_slot *ss = &srvs[s_pick % NSRV];
  if (ss->s == NULL || ss->n == 0) return;
  int s = ss->index;
  sdtls_conn *c = ss->conns[c_pick % ss->n];
  int rc;
  srv_calls_begin(s);
  switch (op % 4) {
    case 0: rc = sdtls_server_close_peer(ss->s, c, now); break;
    case 1: rc = sdtls_conn_close(c, now); break;
    case 2: rc = sdtls_conn_send(c, kPayload, sizeof(kPayload), now); break;
    default:
      rc = sdtls_conn_handle_timeout(c, now);
      if (rc != SDTLS_E_STATE) FINDING("handle_timeout on a server connection: %d", rc);
      break;
  }
  srv_calls_end(s);
  check_rc(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_setup();
  fuzz_begin();
  memset(cfgs, 0, sizeof(cfgs));
  memset(conns, 0, sizeof(conns));
  memset(srvs, 0, sizeof(srvs));
  for (int i = 0; i < NCONN; i++) conns[i].index = i;
  for (int i = 0; i < NSRV; i++) srvs[i].index = i;
  wire_n = 0;
  nest = 0;
  keylog_lines = handshakes = data_events = closes = 0;
  now = FUZZ_START_TIME;

  fuzz_in in = {data, size};
  uint8_t op, a = 0, b = 0, c = 0;
  int steps = 0;
  while (fuzz_u8(&in, &op) && steps++ < 256) {
    a = b = c = 0;
    fuzz_u8(&in, &a);
    switch (op % 16) {
      case 0: { /* config_new */
        cfg_slot *cf = &cfgs[a % NCFG];
        if (cf->c == NULL) {
          if (sdtls_config_new(&cf->c) != 0) abort();
          cf->frozen = 0;
          /* Test-friendly timers; the rest is up to the input. */
          sdtls_config_set_option(cf->c, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
          sdtls_config_set_option(cf->c, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 5000);
          sdtls_config_set_option(cf->c, SDTLS_OPT_VERIFY_PEER, (a >> 4) & 1);
        }
        break;
      }
      case 1: /* config_free */
        sdtls_config_free(cfgs[a % NCFG].c);
        cfgs[a % NCFG].c = NULL;
        break;
      case 2: /* set_option */
        fuzz_u8(&in, &b);
        fuzz_u8(&in, &c);
        if (cfgs[a % NCFG].c != NULL) set_option(&cfgs[a % NCFG], b, c);
        break;
      case 3: /* credentials, ciphers, key log */
        fuzz_u8(&in, &b);
        if (cfgs[a % NCFG].c != NULL) set_credentials(&cfgs[a % NCFG], b);
        break;
      case 4: /* conn_new */
        fuzz_u8(&in, &b);
        if (conns[a % NCONN].c == NULL) new_conn(a % NCONN, b, b >> 4);
        break;
      case 5: /* conn_free */
        free_conn(a % NCONN);
        break;
      case 6: /* a call on a connection */
        fuzz_u8(&in, &b);
        fuzz_u8(&in, &c);
        if (conns[a % NCONN].c != NULL) conn_op(&conns[a % NCONN], b, c);
        break;
      case 7: /* deliver the wire's oldest datagram */
        deliver(a);
        break;
      case 8: /* drop or reorder the wire's oldest datagram */
        if (wire_n > 0) {
          dgram d = wire[0];
          wire_pop(0);
          if (a & 1) wire_push(d.from_conn, d.to_conn, d.data, d.len);
        }
        break;
      case 9: /* time */
        now += fuzz_time_step(a);
        break;
      case 10: { /* server_new */
        fuzz_u8(&in, &b);
        srv_slot *ss = &srvs[a % NSRV];
        cfg_slot *cf = &cfgs[b % NCFG];
        if (ss->s == NULL && ss->in_call == 0 && cf->c != NULL) {
          ss->n = 0;
          memset(&ss->p, 0, sizeof(ss->p));
          int rc = sdtls_server_new(cf->c, &srv_cbs, ss, &ss->s);
          check_rc(rc);
          if (rc == 0) {
            cf->frozen = 1;
          } else if (rc != SDTLS_E_CREDENTIALS) {
            FINDING("server_new: %d", rc);
          }
        }
        break;
      }
      case 11: /* server_free */
        free_server(a % NSRV);
        break;
      case 12: { /* server timers */
        srv_slot *ss = &srvs[a % NSRV];
        if (ss->s != NULL) {
          sdtls_time d = sdtls_server_next_deadline(ss->s);
          if (d != SDTLS_TIME_NEVER && d > now && (a & 0x80)) now = d;
          srv_calls_begin(ss->index);
          check_rc(sdtls_server_handle_timeout(ss->s, now));
          srv_calls_end(ss->index);
        }
        break;
      }
      case 13: /* a call on a server's connection */
        fuzz_u8(&in, &b);
        fuzz_u8(&in, &c);
        server_conn_op(a, b, c);
        break;
      case 14: { /* a plan for a handle's callbacks */
        fuzz_u8(&in, &b);
        fuzz_u8(&in, &c);
        plan p = {(uint8_t)((b & 7) % CB_KINDS), (uint8_t)((b >> 3) % ACT_COUNT), c, 1};
        if (a & 0x80) {
          if (srvs[a % NSRV].s != NULL) srvs[a % NSRV].p = p;
        } else if (conns[a % NCONN].c != NULL) {
          conns[a % NCONN].p = p;
        }
        break;
      }
      default: { /* the thread-safe functions */
        uint8_t fp[32];
        char text[96];
        const char *pem = fuzz_cert_pem(a & 1);
        if (sdtls_certificate_fingerprint_sha256((const uint8_t *)pem, strlen(pem), fp) != 0 ||
            sdtls_fingerprint_format(fp, text, sizeof(text)) != 0)
          FINDING("fingerprint of a good certificate");
        (void)sdtls_version(NULL);
        (void)sdtls_has_feature((sdtls_feature)(a % 5));
        (void)sdtls_error_category((int)(int8_t)a);
        break;
      }
    }
    for (int s = 0; s < NSRV; s++) {
      if (srvs[s].s != NULL && sdtls_server_counter_get(srvs[s].s, SDTLS_COUNTER_PEERS) != (uint64_t)srvs[s].n)
        FINDING("server %d: PEERS gauge %llu, %d live connections", s,
                (unsigned long long)sdtls_server_counter_get(srvs[s].s, SDTLS_COUNTER_PEERS), srvs[s].n);
    }
  }
  if (getenv("SDTLS_FUZZ_VERBOSE") != NULL)
    fprintf(stderr, "api_sequence: %zu handshakes done, %zu data, %zu closes, %zu key log lines\n", handshakes,
            data_events, closes, keylog_lines);
  /* Everything left is freed, in an order the input chose. */
  for (int k = 0; k < NCFG + NCONN + NSRV; k++) {
    int i = (k + (int)(size % 7)) % (NCFG + NCONN + NSRV);
    if (i < NCFG) {
      sdtls_config_free(cfgs[i].c);
      cfgs[i].c = NULL;
    } else if (i < NCFG + NCONN) {
      free_conn(i - NCFG);
    } else {
      free_server(i - NCFG - NCONN);
    }
  }
  return 0;
}

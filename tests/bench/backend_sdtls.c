/* SPDX-License-Identifier: Apache-2.0 */
/* Variant (a)/(a'): sdtls through its public ABI only (abi/sdtls.h), linked
 * against libsdtls.so.1 or the self-contained libsdtls.a.
 *
 * Each sdtls_conn's send callback appends the datagram to the peer's inbox;
 * the harness feeds inboxes with sdtls_conn_receive(). The time passed in is
 * the driver's cached CLOCK_MONOTONIC reading (bench_now()). */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"
#include "sdtls.h"

#define CIPHER "ECDHE-ECDSA-AES128-GCM-SHA256"

typedef struct endpoint {
  sdtls_conn *conn;
  bench_inbox inbox;             /* datagrams sent to this endpoint */
  struct endpoint *peer;
  bool done;                     /* on_handshake_done seen */
  size_t last_len;               /* length of the last on_data record */
} endpoint;

struct bench_pair {
  endpoint client, server;
};

/* Client and server configurations per MTU (tickets off, as in the raw
 * variants' full handshakes), and a pair with tickets for resumption. */
static sdtls_config *client_cfg[2], *server_cfg[2];
static sdtls_config *client_resume_cfg, *server_resume_cfg;
static uint8_t *saved_session;
static size_t saved_session_len;
static char *cert_pem, *key_pem;

static int cfg_index(int mtu) { return mtu == BENCH_MTU_DATA ? 1 : 0; }

static int cb_send(void *user, const uint8_t *datagram, size_t len) {
  endpoint *e = user;
  bench_inbox_push(&e->peer->inbox, datagram, len);
  return 0;
}

static void cb_done(void *user) {
  endpoint *e = user;
  e->done = true;
}

static void cb_data(void *user, const uint8_t *data, size_t len) {
  endpoint *e = user;
  (void)data;
  e->last_len = len;
}

static const sdtls_callbacks callbacks = {sizeof(sdtls_callbacks), cb_send, cb_done, cb_data,
                                          NULL};

static int config_make(sdtls_config **out, bool server, int mtu, bool tickets) {
  sdtls_config *c;
  if (sdtls_config_new(&c) != 0) {
    return -1;
  }
  *out = c;
  if (sdtls_config_set_ciphers(c, CIPHER) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_MIN_VERSION, SDTLS_DTLS1_2) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_2) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_MTU, mtu) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_VERIFY_PEER, 0) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_SESSION_TICKETS, tickets) != 0) {
    return -1;
  }
  if (server && sdtls_config_set_certificate_pem(c, (const uint8_t *)cert_pem, strlen(cert_pem),
                                                 (const uint8_t *)key_pem,
                                                 strlen(key_pem)) != 0) {
    return -1;
  }
  return 0;
}

static int save_session(void);

static int init(void) {
  if (sdtls_certificate_generate("bench.test", 30, &cert_pem, &key_pem) != 0) {
    return -1;
  }
  const int mtus[2] = {BENCH_MTU_HANDSHAKE, BENCH_MTU_DATA};
  for (int k = 0; k < 2; k++) {
    if (config_make(&client_cfg[k], false, mtus[k], false) != 0 ||
        config_make(&server_cfg[k], true, mtus[k], false) != 0) {
      return -1;
    }
  }
  if (config_make(&client_resume_cfg, false, BENCH_MTU_HANDSHAKE, true) != 0 ||
      config_make(&server_resume_cfg, true, BENCH_MTU_HANDSHAKE, true) != 0) {
    return -1;
  }
  return save_session();
}

static int pair_init_with(bench_pair *p, sdtls_config *cc, sdtls_config *sc) {
  p->client.peer = &p->server;
  p->server.peer = &p->client;
  if (sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &callbacks, &p->client, &p->client.conn) != 0 ||
      sdtls_conn_new(sc, SDTLS_ROLE_SERVER, &callbacks, &p->server, &p->server.conn) != 0) {
    return -1;
  }
  return 0;
}

static int pair_init(bench_pair *p, int mtu) {
  int k = cfg_index(mtu);
  return pair_init_with(p, client_cfg[k], server_cfg[k]);
}

/* Feeds every datagram waiting for `e`. Returns the number fed. */
static int deliver(endpoint *e) {
  int n = 0;
  bench_datagram *d;
  while ((d = bench_inbox_pop(&e->inbox)) != NULL) {
    sdtls_conn_receive(e->conn, d->data, d->len, bench_now());
    bench_datagram_release(d);
    n++;
  }
  return n;
}

static int pair_handshake(bench_pair *p) {
  if (sdtls_conn_start(p->client.conn, bench_now()) != 0) {
    return -1;
  }
  for (int guard = 0; guard < 64; guard++) {
    int moved = deliver(&p->server) + deliver(&p->client);
    if (moved == 0) {
      break;
    }
  }
  return p->client.done && p->server.done &&
                 sdtls_conn_state(p->client.conn) == SDTLS_STATE_CONNECTED &&
                 sdtls_conn_state(p->server.conn) == SDTLS_STATE_CONNECTED
             ? 0
             : -1;
}

/* Each call is given the clock as the application reads it then
 * (bench_now(): the driver's cached reading). */
static int pair_send(bench_pair *p, const uint8_t *data, size_t len) {
  if (sdtls_conn_send(p->client.conn, data, len, bench_now()) != 0) {
    return -1;
  }
  /* What the raw variants' SSL_read returns, on_data reports: the record
   * arrived whole. */
  bench_datagram *d = bench_inbox_pop(&p->server.inbox);
  if (d == NULL) {
    return -1;
  }
  p->server.last_len = 0;
  sdtls_conn_receive(p->server.conn, d->data, d->len, bench_now());
  bench_datagram_release(d);
  return p->server.last_len == len ? 0 : -1;
}

static void pair_destroy(bench_pair *p) {
  sdtls_conn_free(p->client.conn);
  sdtls_conn_free(p->server.conn);
  bench_inbox_clear(&p->client.inbox);
  bench_inbox_clear(&p->server.inbox);
}

/* One resumed handshake with the session saved by save_session(): the
 * stored bytes are handed over for every pair, as an application that
 * keeps sessions as bytes does. The client config keeps the session it
 * parsed last, so from the second pair on the bytes are compared, not
 * parsed again; the raw backends offer their SSL_SESSION object itself. */
static int pair_init_resume(bench_pair *p) {
  return pair_init_with(p, client_resume_cfg, server_resume_cfg);
}

static int offer_session(bench_pair *p) {
  return sdtls_conn_set_session(p->client.conn, saved_session, saved_session_len) == 0 ? 0 : -1;
}

static int both_resumed(bench_pair *p) {
  return sdtls_conn_session_resumed(p->client.conn) && sdtls_conn_session_resumed(p->server.conn)
             ? 0
             : -1;
}

static int keep_session(bench_pair *p) {
  return sdtls_conn_get_session(p->client.conn, &saved_session, &saved_session_len) == 0 ? 0 : -1;
}

static int resumed_handshake(void) {
  return bench_pair_once(pair_init_resume, offer_session, both_resumed, pair_destroy);
}

/* A session from one full handshake with tickets on. */
static int save_session(void) {
  return bench_pair_once(pair_init_resume, NULL, keep_session, pair_destroy);
}

static void pair_info(bench_pair *p, char *out, size_t out_len) {
  const char *version = "?";
  sdtls_version(&version);
  const char *proto = sdtls_conn_version(p->client.conn);
  const char *cipher = sdtls_conn_cipher(p->client.conn);
  snprintf(out, out_len,
           "\"library\":\"sdtls %s\",\"protocol\":\"%s\",\"cipher\":\"%s\","
           "\"group\":\"engine default (not exposed by sdtls)\"",
           version, proto ? proto : "?", cipher ? cipher : "?");
}

/* ---- sdtls_server ---- */

static sdtls_server *server;
static sdtls_config *srv_cfg;
static uint8_t client_hello[2048];
static size_t client_hello_len;
static uint64_t srv_sent, srv_handshakes, srv_closes;
/* The one client being connected (server_connection), or NULL. */
static endpoint *active;

static int srv_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *datagram,
                    size_t len) {
  (void)user;
  (void)addr;
  (void)addr_len;
  srv_sent++;
  if (active != NULL) {
    bench_inbox_push(&active->inbox, datagram, len);
  }
  return 0;
}

static void srv_done(void *user, sdtls_conn *conn) {
  (void)user;
  (void)conn;
  srv_handshakes++;
}

static void srv_close(void *user, sdtls_conn *conn, int reason) {
  (void)user;
  (void)conn;
  (void)reason;
  srv_closes++;
}

static int capture_send(void *user, const uint8_t *datagram, size_t len) {
  (void)user;
  if (client_hello_len == 0 && len <= sizeof(client_hello)) {
    memcpy(client_hello, datagram, len);
    client_hello_len = len;
  }
  return 0;
}

static size_t srv_max_peers; /* 0: the default (1024) */

static void server_set_max_peers(size_t n) { srv_max_peers = n; }

static int server_setup(void) {
  if (config_make(&srv_cfg, true, BENCH_MTU_HANDSHAKE, false) != 0 ||
      sdtls_config_set_option(srv_cfg, SDTLS_OPT_COOKIES, 1) != 0) {
    return -1;
  }
  if (srv_max_peers > 0 &&
      sdtls_config_set_option(srv_cfg, SDTLS_OPT_MAX_PEERS, (int)srv_max_peers) != 0) {
    return -1;
  }
  sdtls_server_callbacks cb = {sizeof(cb), srv_send, NULL, srv_done, NULL, srv_close};
  if (sdtls_server_new(srv_cfg, &cb, NULL, &server) != 0) {
    return -1;
  }
  /* One real first ClientHello of an sdtls client, replayed from many
   * addresses by server_hello_verify(). */
  sdtls_callbacks ccb = {sizeof(ccb), capture_send, NULL, NULL, NULL};
  sdtls_conn *c;
  if (sdtls_conn_new(client_cfg[0], SDTLS_ROLE_CLIENT, &ccb, NULL, &c) != 0) {
    return -1;
  }
  int rc = sdtls_conn_start(c, bench_now());
  sdtls_conn_free(c);
  return rc == 0 && client_hello_len > 0 ? 0 : -1;
}

/* A distinct IPv4 address and port for every i (10.0.0.0/8, ports 1024+). */
static struct sockaddr_in address(uint64_t i) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)(1024 + i % 60000));
  sin.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)(i / 60000) % 0x1000000u);
  return sin;
}

static int server_hello_verify(uint64_t i) {
  struct sockaddr_in sin = address(i);
  const uint64_t sent = srv_sent;
  if (sdtls_server_receive(server, (const uint8_t *)&sin, sizeof(sin), client_hello,
                           client_hello_len, bench_now()) != 0) {
    return -1;
  }
  return srv_sent == sent + 1 && sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS) == 0 ? 0
                                                                                        : -1;
}

/* A new client at address number `i` through the cookie exchange and the
 * handshake; with `close`, then its close_notify (the server must end up
 * with no peer), without, the client is freed once established and the
 * server keeps the peer. */
static int server_connect(uint64_t i, bool close) {
  struct sockaddr_in sin = address(i);
  endpoint to_server, client;
  memset(&to_server, 0, sizeof(to_server));
  memset(&client, 0, sizeof(client));
  client.peer = &to_server;
  active = &client;
  const sdtls_time now = bench_now();
  const uint64_t handshakes = srv_handshakes, closes = srv_closes;
  const uint64_t peers = sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS);
  int rc = -1;
  bool closed = false;
  if (sdtls_conn_new(client_cfg[0], SDTLS_ROLE_CLIENT, &callbacks, &client, &client.conn) !=
          0 ||
      sdtls_conn_start(client.conn, now) != 0) {
    goto out;
  }
  for (int guard = 0; guard < 64; guard++) {
    int moved = 0;
    bench_datagram *d;
    while ((d = bench_inbox_pop(&to_server.inbox)) != NULL) {
      sdtls_server_receive(server, (const uint8_t *)&sin, sizeof(sin), d->data, d->len, now);
      bench_datagram_release(d);
      moved++;
    }
    moved += deliver(&client);
    if (moved == 0) {
      break;
    }
    if (!closed && client.done && srv_handshakes == handshakes + 1) {
      /* The handshake is over: close, and let the server see it. */
      if (sdtls_conn_state(client.conn) != SDTLS_STATE_CONNECTED) {
        goto out;
      }
      if (!close) {
        /* Both ends established; drop the client silently. */
        rc = sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS) == peers + 1 ? 0 : -1;
        goto out;
      }
      sdtls_conn_close(client.conn, now);
      closed = true;
    }
  }
  if (close) {
    rc = closed && srv_closes == closes + 1 &&
                 sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS) == peers
             ? 0
             : -1;
  }
out:
  active = NULL;
  sdtls_conn_free(client.conn);
  bench_inbox_clear(&client.inbox);
  bench_inbox_clear(&to_server.inbox);
  return rc;
}

static int server_connection(uint64_t i) { return server_connect(i, true); }

static int server_peers_up(uint64_t first, size_t n) {
  const uint64_t peers = sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS);
  for (size_t k = 0; k < n; k++) {
    if (server_connect(first + k, false) != 0) {
      return -1;
    }
  }
  return sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS) == peers + n ? 0 : -1;
}

static void server_teardown(void) {
  sdtls_server_free(server);
  sdtls_config_free(srv_cfg);
  server = NULL;
  srv_cfg = NULL;
}

const bench_backend bench_impl = {
    .pair_size = sizeof(bench_pair),
    .init = init,
    .pair_init = pair_init,
    .pair_handshake = pair_handshake,
    .pair_send = pair_send,
    .pair_destroy = pair_destroy,
    .pair_info = pair_info,
    .resumed_handshake = resumed_handshake,
    .resume_note = "",
    .server_setup = server_setup,
    .server_hello_verify = server_hello_verify,
    .server_connection = server_connection,
    .server_teardown = server_teardown,
    .server_set_max_peers = server_set_max_peers,
    .server_peers_up = server_peers_up,
    .server_note = "",
};

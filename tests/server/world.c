/* SPDX-License-Identifier: Apache-2.0 */
/* The in-process world of the server tests (see world.h). */
#include "world.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const char kCertPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBpTCCAUugAwIBAgIUHM8kyf+KrkRqc7CWVoJdfiCNw2kwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRc2R0bHMtc2VydmVyLXRlc3QwIBcNMjYxMTI2MDgxMjEyWhgP\n"
    "MjEyNjExMDIwODEyMTJaMBwxGjAYBgNVBAMMEXNkdGxzLXNlcnZlci10ZXN0MFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE01XHnw3TCay2QA4iI2aMmQQJfD1TRlHx\n"
    "USiDXtfxDrz/YejdHyqr1i4VnjuzFENyaVMnkFoXyduBeSFaZiD+76NpMGcwHQYD\n"
    "VR0OBBYEFHNXb5w0d/G/BvH0LgjlqhfcPJjYMB8GA1UdIwQYMBaAFHNXb5w0d/G/\n"
    "BvH0LgjlqhfcPJjYMA8GA1UdEwEB/wQFMAMBAf8wFAYDVR0RBA0wC4IJbG9jYWxo\n"
    "b3N0MAoGCCqGSM49BAMCA0gAMEUCIQDYn2fwcI2OdcNdUfjXUaw35+i+dtfZJzLd\n"
    "VXsG4fMLFgIgD+ULxtda/bmryT68nn8g0CZd4oimc4pkV9HBHqS9c20=\n"
    "-----END CERTIFICATE-----\n";
static const char kKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgLIiJBIRHZpGBne+I\n"
    "eLR9dC/kW13w04KxGGsNpY5pp8KhRANCAATTVcefDdMJrLZADiIjZoyZBAl8PVNG\n"
    "UfFRKINe1/EOvP9h6N0fKqvWLhWeO7MUQ3JpUyeQWhfJ24F5IVpmIP7v\n"
    "-----END PRIVATE KEY-----\n";

void q_push(queue *q, const struct sockaddr_in *addr, const uint8_t *d, size_t len) {
  if (q->head + q->n == q->cap) {
    if (q->head > 0) {
      memmove(q->items, q->items + q->head, q->n * sizeof(pkt));
      q->head = 0;
    }
    if (q->n == q->cap) {
      q->cap = q->cap ? q->cap * 2 : 64;
      q->items = realloc(q->items, q->cap * sizeof(pkt));
    }
  }
  pkt *p = &q->items[q->head + q->n++];
  p->addr = *addr;
  p->len = len;
  p->data = malloc(len ? len : 1);
  memcpy(p->data, d, len);
}

bool q_pop(queue *q, pkt *out) {
  if (q->n == 0) {
    return false;
  }
  *out = q->items[q->head++];
  q->n--;
  if (q->n == 0) {
    q->head = 0;
  }
  return true;
}

void q_clear(queue *q) {
  pkt p;
  while (q_pop(q, &p)) {
    free(p.data);
  }
  free(q->items);
  memset(q, 0, sizeof(*q));
}

/* Frees the server from inside one of its callbacks (deferred by it). */
static void free_server_from_callback(world *w) {
  sdtls_server_free(w->server);
  w->server_freed = true;
}

int srv_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d,
             size_t len) {
  world *w = user;
  if (w->server_freed) {
    w->callbacks_after_free++;
  }
  if (w->free_server_in_send && !w->server_freed) {
    free_server_from_callback(w);
  }
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  if (addr_len == sizeof(sin)) { /* IPv6 peers here are hand-made: not routed */
    memcpy(&sin, addr, sizeof(sin));
  }
  q_push(&w->to_client, &sin, d, len);
  if (w->nlog < MAX_LOG) {
    w->log[w->nlog].addr = sin;
    w->log[w->nlog].len = len;
    w->log[w->nlog].data = malloc(len);
    memcpy(w->log[w->nlog].data, d, len);
    w->nlog++;
  }
  w->sends++;
  return 0;
}

void srv_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  world *w = user;
  if (w->server_freed) {
    w->callbacks_after_free++;
  }
  w->connects++;
  w->last_conn = conn;
  if (w->free_conn_in_connect) {
    sdtls_conn_free(conn);
  }
  if (w->free_server_in_connect) {
    free_server_from_callback(w);
  }
  const uint8_t *a;
  size_t al;
  CHECK_EQ(sdtls_conn_peer_address(conn, &a, &al), 0);
  CHECK(al == addr_len && memcmp(a, addr, al) == 0);
  sdtls_conn_set_app_data(conn, w);
}

void srv_handshake_done(void *user, sdtls_conn *conn) {
  world *w = user;
  if (w->server_freed) {
    w->callbacks_after_free++;
  }
  w->handshakes++;
  CHECK(sdtls_conn_get_app_data(conn) == w);
}

void srv_data(void *user, sdtls_conn *conn, const uint8_t *d, size_t len) {
  world *w = user;
  if (w->server_freed) {
    w->callbacks_after_free++;
  }
  w->data_events++;
  if (w->free_conn_in_data) {
    sdtls_conn_free(conn);
  }
  if (w->try_reentry) {
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    w->reentry_rc = sdtls_server_receive(w->server, (const uint8_t *)&sin, sizeof(sin), d,
                                         len, w->now);
  }
  if (w->echo) {
    /* "echo:<payload>:<port of the connection's peer>" shows any cross-talk */
    const uint8_t *a;
    size_t al;
    struct sockaddr_in sin;
    CHECK_EQ(sdtls_conn_peer_address(conn, &a, &al), 0);
    memcpy(&sin, a, sizeof(sin));
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "echo:%.*s:%u", (int)len, (const char *)d,
                     ntohs(sin.sin_port));
    CHECK_EQ(sdtls_conn_send(conn, (const uint8_t *)buf, (size_t)n, w->now), 0);
  }
  if (w->conn_close_on_data) {
    CHECK_EQ(sdtls_conn_close(conn, w->now), 0);
  }
  if (w->close_on_data) {
    CHECK_EQ(sdtls_server_close_peer(w->server, conn, w->now), 0);
    CHECK_EQ(w->closes, 0); /* reported once this callback has returned */
  }
  if (w->free_server_in_data) {
    free_server_from_callback(w);
  }
}

void srv_close(void *user, sdtls_conn *conn, int reason) {
  world *w = user;
  if (w->server_freed) {
    w->callbacks_after_free++;
  }
  w->closes++;
  w->last_close_reason = reason;
  w->last_closed = conn;
  /* the connection is valid during on_close (freed after it) */
  const uint8_t *a;
  size_t al;
  struct sockaddr_in sin;
  CHECK_EQ(sdtls_conn_peer_address(conn, &a, &al), 0);
  memcpy(&sin, a, sizeof(sin));
  w->last_closed_port = ntohs(sin.sin_port);
}

static int cli_send(void *user, const uint8_t *d, size_t len) {
  client *c = user;
  c->sent++;
  q_push(&c->w->to_server, &c->addr, d, len);
  return 0;
}
static void cli_done(void *user) { ((client *)user)->done = true; }
static void cli_data(void *user, const uint8_t *d, size_t len) {
  client *c = user;
  if (c->rx_len + len <= sizeof(c->rx)) {
    memcpy(c->rx + c->rx_len, d, len);
    c->rx_len += len;
  }
  c->rx_count++;
}
static void cli_close(void *user, int reason) {
  client *c = user;
  c->closed = true;
  c->close_reason = reason;
}

struct sockaddr_in addr_of(uint32_t ip, uint16_t port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(ip);
  return sin;
}

struct sockaddr_in6 addr6_of(const char *text, uint16_t port) {
  struct sockaddr_in6 sin6;
  memset(&sin6, 0, sizeof(sin6));
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  CHECK_EQ(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
  return sin6;
}

world_opts default_opts(void) {
  world_opts o = {1, 1024, 256, 300000, 60000, 30000, SDTLS_DTLS1_2, NULL, NULL, 0, 0};
  return o;
}

world_opts timed_opts(int64_t idle_ms, int64_t lifetime_ms) {
  world_opts o = default_opts();
  o.idle_ms = idle_ms != 0 ? idle_ms : o.idle_ms;
  o.lifetime_ms = lifetime_ms != 0 ? lifetime_ms : o.lifetime_ms;
  return o;
}

world *world_new(world_opts o) {
  world *w = calloc(1, sizeof(*w));
  w->now = 100 * SEC + 1 * MS;
  if (sdtls_config_new(&w->scfg) != 0 ||
      sdtls_config_set_certificate_pem(w->scfg, (const uint8_t *)kCertPem, strlen(kCertPem),
                                       (const uint8_t *)kKeyPem, strlen(kKeyPem)) != 0 ||
      sdtls_config_set_option(w->scfg, SDTLS_OPT_COOKIES, o.cookies) != 0 ||
      sdtls_config_set_option(w->scfg, SDTLS_OPT_MAX_PEERS, o.max_peers) != 0 ||
      sdtls_config_set_option(w->scfg, SDTLS_OPT_MAX_HANDSHAKES, o.max_handshakes) != 0 ||
      sdtls_config_set_option(w->scfg, SDTLS_OPT_IDLE_TIMEOUT_MS, o.idle_ms) != 0 ||
      sdtls_config_set_option(w->scfg, SDTLS_OPT_COOKIE_LIFETIME_MS, o.lifetime_ms) != 0 ||
      sdtls_config_set_option(w->scfg, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, o.handshake_ms) != 0 ||
      (o.server_groups != NULL && sdtls_config_set_groups(w->scfg, o.server_groups) != 0) ||
      (o.server_max_version != 0 &&
       sdtls_config_set_option(w->scfg, SDTLS_OPT_MAX_VERSION, o.server_max_version) != 0) ||
      (o.mtu != 0 && sdtls_config_set_option(w->scfg, SDTLS_OPT_MTU, o.mtu) != 0)) {
    CHECK_FAIL_("server config");
    return NULL;
  }
  if (sdtls_config_new(&w->ccfg) != 0 ||
      sdtls_config_set_option(w->ccfg, SDTLS_OPT_VERIFY_PEER, 0) != 0 ||
      sdtls_config_set_option(w->ccfg, SDTLS_OPT_MAX_VERSION, o.client_max_version) != 0 ||
      (o.client_groups != NULL && sdtls_config_set_groups(w->ccfg, o.client_groups) != 0) ||
      (o.mtu != 0 && sdtls_config_set_option(w->ccfg, SDTLS_OPT_MTU, o.mtu) != 0)) {
    CHECK_FAIL_("client config");
    return NULL;
  }
  sdtls_server_callbacks cb = {sizeof(cb), srv_send, srv_connect, srv_handshake_done, srv_data,
                               srv_close};
  int rc = sdtls_server_new(w->scfg, &cb, w, &w->server);
  if (rc != 0) {
    CHECK_FAIL_("sdtls_server_new: %s", sdtls_strerror(rc));
    return NULL;
  }
  return w;
}

void world_free(world *w) {
  if (w == NULL) {
    return;
  }
  for (int i = 0; i < w->nclients; i++) {
    sdtls_conn_free(w->clients[i]->conn);
    free(w->clients[i]);
  }
  if (!w->server_freed) {
    sdtls_server_free(w->server);
  }
  sdtls_config_free(w->scfg);
  sdtls_config_free(w->ccfg);
  q_clear(&w->to_server);
  q_clear(&w->to_client);
  for (int i = 0; i < w->nlog; i++) {
    free(w->log[i].data);
  }
  free(w);
}

client *client_add(world *w, struct sockaddr_in addr) {
  client *c = calloc(1, sizeof(*c));
  c->w = w;
  c->id = w->nclients;
  c->addr = addr;
  sdtls_callbacks cb = {sizeof(cb), cli_send, cli_done, cli_data, cli_close};
  int rc = sdtls_conn_new(w->ccfg, SDTLS_ROLE_CLIENT, &cb, c, &c->conn);
  CHECKF(rc == 0, "sdtls_conn_new: %s", sdtls_strerror(rc));
  w->clients[w->nclients++] = c;
  return c;
}

client *client_by_addr(world *w, const struct sockaddr_in *a) {
  for (int i = 0; i < w->nclients; i++) {
    if (w->clients[i]->addr.sin_port == a->sin_port &&
        w->clients[i]->addr.sin_addr.s_addr == a->sin_addr.s_addr) {
      return w->clients[i];
    }
  }
  return NULL;
}

int deliver_to_server(world *w, const pkt *p) {
  if (w->server_freed) {
    return 0; /* the datagram arrives at a closed socket */
  }
  return sdtls_server_receive(w->server, (const uint8_t *)&p->addr, sizeof(p->addr), p->data,
                              p->len, w->now);
}

/* Hands the oldest datagram on its way to the server to it (which must
 * take it: result 0). Returns false when none is waiting. */
bool deliver_one_to_server(world *w) {
  pkt p;
  if (!q_pop(&w->to_server, &p)) {
    return false;
  }
  CHECK_EQ(deliver_to_server(w, &p), 0);
  free(p.data);
  return true;
}

/* Hands the oldest datagram the server sent to the client it is addressed
 * to, if that one still has a connection. Returns false when none is
 * waiting. */
bool deliver_one_to_client(world *w) {
  pkt p;
  if (!q_pop(&w->to_client, &p)) {
    return false;
  }
  client *c = client_by_addr(w, &p.addr);
  if (c != NULL && c->conn != NULL) {
    sdtls_conn_receive(c->conn, p.data, p.len, w->now);
  }
  free(p.data);
  return true;
}

/* Delivers everything in flight, both ways, until nothing moves. Time does
 * not move. Returns the number of datagrams delivered. */
int pump(world *w) {
  int moved = 0;
  for (int guard = 0; guard < 100000; guard++) {
    if (!deliver_one_to_server(w) && !deliver_one_to_client(w)) {
      return moved;
    }
    moved++;
  }
  CHECK_FAIL_("pump does not settle");
  return moved;
}

/* A new client at `addr`, started and pumped through its handshake (the
 * cookie exchange included) at one instant. NULL, with the failure
 * recorded, when it does not get connected. */
client *client_connect(world *w, struct sockaddr_in addr) {
  client *c = client_start(w, addr);
  if (c == NULL) {
    return NULL;
  }
  pump(w);
  CHECKF(c->done, "the client at port %u did not connect", (unsigned)ntohs(addr.sin_port));
  return c->done ? c : NULL;
}

uint64_t ctr(world *w, sdtls_server_counter c) {
  return sdtls_server_counter_get(w->server, c);
}

world *test_world(world_opts o, unsigned needs) {
  if (((needs & NEED_GLUE) != 0 && skip_without_glue()) ||
      ((needs & NEED_DTLS13) != 0 && skip_without_dtls13())) {
    return NULL;
  }
  world *w = world_new(o);
  CHECK(w != NULL);
  return w;
}

client *client_start(world *w, struct sockaddr_in addr) {
  client *c = client_add(w, addr);
  const int rc = sdtls_conn_start(c->conn, w->now);
  CHECKF(rc == 0, "sdtls_conn_start: %s", sdtls_strerror(rc));
  return rc == 0 ? c : NULL;
}

int client_send(client *c, const char *text) {
  const int rc = sdtls_conn_send(c->conn, (const uint8_t *)text, strlen(text), c->w->now);
  pump(c->w);
  return rc;
}

void client_timeout_after(client *c, sdtls_time dt) {
  c->w->now += dt;
  sdtls_conn_handle_timeout(c->conn, c->w->now);
  pump(c->w);
}

int server_timeout_at(world *w, sdtls_time t) {
  w->now = t;
  return sdtls_server_handle_timeout(w->server, t);
}

uint64_t be(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    v = (v << 8) | p[i];
  }
  return v;
}

bool is_hvr(const pkt *p) {
  return p->len >= 25 + 3 && REC_TYPE(p->data) == 22 && HS_TYPE(p->data) == 3;
}

/* The cookie in a HelloVerifyRequest. */
size_t hvr_cookie(const pkt *p, uint8_t *out) {
  size_t n = p->data[25 + 2];
  memcpy(out, p->data + 25 + 3, n);
  return n;
}

/* A copy of ClientHello datagram `ch` with `cookie`, record sequence number
 * and message_seq replaced, lengths fixed up. */
size_t ch_rewrite(const uint8_t *ch, size_t len, const uint8_t *cookie, size_t cookie_len,
                  uint64_t rec_seq, uint16_t msg_seq, uint8_t *out) {
  size_t off = 25 + 2 + 32;
  size_t sid = ch[off];
  off += 1 + sid;
  size_t old_cookie = ch[off];
  size_t rest = off + 1 + old_cookie;
  size_t n = 0;
  memcpy(out, ch, off);
  n = off;
  out[n++] = (uint8_t)cookie_len;
  memcpy(out + n, cookie, cookie_len);
  n += cookie_len;
  memcpy(out + n, ch + rest, len - rest);
  n += len - rest;
  size_t body = n - 25;
  for (int i = 0; i < 6; i++) out[5 + i] = (uint8_t)(rec_seq >> (8 * (5 - i)));
  out[11] = (uint8_t)((n - 13) >> 8);
  out[12] = (uint8_t)(n - 13);
  out[14] = (uint8_t)(body >> 16);
  out[15] = (uint8_t)(body >> 8);
  out[16] = (uint8_t)body;
  out[17] = (uint8_t)(msg_seq >> 8);
  out[18] = (uint8_t)msg_seq;
  out[22] = out[14];
  out[23] = out[15];
  out[24] = out[16];
  return n;
}

size_t first_flight(world *w, pkt *out, size_t max) {
  client *c = client_start(w, addr_of(0x7f000063, 9));
  size_t n = 0;
  while (c != NULL && n < max && q_pop(&w->to_server, &out[n])) {
    n++;
  }
  q_clear(&w->to_server);
  if (c != NULL) {
    sdtls_conn_free(c->conn);
    c->conn = NULL;
  }
  return n;
}

/* A first ClientHello as an sdtls client sends it. */
size_t template_client_hello(world *w, uint8_t *out) {
  pkt p;
  if (first_flight(w, &p, 1) == 0) {
    return 0;
  }
  memcpy(out, p.data, p.len);
  free(p.data);
  return p.len;
}

/* Sends `ch` from `addr` and returns the cookie of the server's answer. */
size_t get_cookie(world *w, const uint8_t *ch, size_t len, struct sockaddr_in addr,
                  uint8_t *cookie) {
  pkt in = {addr, len, (uint8_t *)ch};
  size_t before = w->to_client.n;
  CHECK_EQ(deliver_to_server(w, &in), 0);
  pkt out;
  size_t n = 0;
  if (w->to_client.n == before + 1 && q_pop(&w->to_client, &out)) {
    CHECK(is_hvr(&out));
    n = hvr_cookie(&out, cookie);
    free(out.data);
  } else {
    CHECK_FAIL_("no HelloVerifyRequest");
  }
  return n;
}

/* Delivers a ClientHello carrying `cookie` from `addr`; returns whether a
 * connection was created for it. */
bool offer_cookie(world *w, const uint8_t *ch, size_t len, struct sockaddr_in addr,
                  const uint8_t *cookie, size_t cookie_len) {
  uint8_t buf[2048];
  size_t n = ch_rewrite(ch, len, cookie, cookie_len, 1, 1, buf);
  uint64_t created = ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED);
  pkt in = {addr, n, buf};
  CHECK_EQ(deliver_to_server(w, &in), 0);
  q_clear(&w->to_client);
  return ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED) == created + 1;
}

static int skipped_tests, skip_failures;

bool skip_without_glue(void) {
  if (sdtls_has_feature(SDTLS_FEATURE_COOKIE_EXCHANGE)) {
    return false;
  }
#ifdef SERVER_TEST_EXPECT_GLUE
  if (skip_failures++ == 0) {
    CHECK_FAIL_("no cookie hand-over although the engine layout has glue");
  }
  return true;
#else
  printf("  (skipped: this engine layout has no cookie hand-over glue)\n");
  skipped_tests++;
  return true;
#endif
}

bool skip_without_dtls13(void) {
  if (!sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) {
    printf("  (skipped: the engine does not speak DTLS 1.3)\n");
    return true;
  }
  return false;
}

int world_main(const check_test *tests, size_t n, int argc, char **argv) {
  int rc = check_main(tests, n, argc, argv);
  size_t ran = 0;
  for (size_t i = 0; i < n; i++) {
    ran += argc <= 1 || strstr(tests[i].name, argv[1]) != NULL;
  }
  return rc == 0 && ran > 0 && (size_t)skipped_tests == ran ? 77 : rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* One chosen datagram of a handshake damaged on the way (one byte
 * changed), between a verifying sdtls client and an sdtls_server with the
 * cookie exchange on, over the network simulator with a clean 10 ms link,
 * the library's default timers (1 s first retransmission, 30 s handshake
 * timeout) and virtual time.
 *
 * Nothing in a handshake is authenticated before its Finished: a damaged
 * cookie, key exchange or certificate leaves the engine failing or both
 * sides retransmitting what the other cannot use. The client must start
 * its handshake over and connect within the default handshake timeout
 * (src/conn.c, "a damaged handshake"), whichever the damage:
 *   - hvr_cookie    the HelloVerifyRequest's cookie (DTLS 1.2: the server
 *                   answers the echoed cookie with another
 *                   HelloVerifyRequest, which the engine ignores)
 *   - certificate   the server's Certificate (DTLS 1.2: the engine fails)
 *   - key_exchange  the ClientKeyExchange's public value (DTLS 1.2: the
 *                   two sides have different keys)
 *   - hrr_cookie    the HelloRetryRequest's cookie (DTLS 1.3: the server
 *                   answers with an illegal_parameter alert, RFC 9147 5.1)
 *   - key_share     the second ClientHello's key share (DTLS 1.3:
 *                   different keys)
 *   - resumed       hvr_cookie with a session offered: offered again
 * and the restarts must not hide a real failure:
 *   - wrong_trust   a certificate that does not verify is still reported
 *                   as such, after one retry at most, within seconds
 *   - server_decision an alert that is the server's decision (no common
 *                   application protocol) ends the connection at once
 *   - plain_peer    a server that asked for no cookie (a plain sdtls_conn,
 *                   as in WebRTC) takes no new handshake: no restart, the
 *                   failure is reported at once
 *   - server_gone   a restart nobody answers reports the failure that
 *                   caused it, before the deadline
 * The DTLS 1.3 cases are skipped with an engine that does not speak it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

#define MS NETSIM_MS
#define SEC NETSIM_SEC
#define START (1000 * SEC)
#define DEADLINE (START + 30 * SEC) /* the default handshake timeout */

/* ---- the wire (an independent reading of RFC 6347 / RFC 9147) ---- */

#define RECORD_HEADER 13
#define HS_HEADER 12

static size_t be(const uint8_t *p, size_t n) {
  size_t v = 0;
  for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

/* The offset of the body of the first epoch-0 handshake message of `type`
 * in a datagram (its records walked), or 0. */
static size_t find_message(const uint8_t *d, size_t len, int type) {
  for (size_t off = 0; off + RECORD_HEADER <= len;) {
    size_t rec_len = be(d + off + 11, 2);
    if (d[off] == 22 && be(d + off + 3, 2) == 0 && rec_len >= HS_HEADER &&
        d[off + RECORD_HEADER] == type && be(d + off + RECORD_HEADER + 6, 3) == 0)
      return off + RECORD_HEADER + HS_HEADER;
    off += RECORD_HEADER + rec_len;
  }
  return 0;
}

/* In a ServerHello or ClientHello body: the offset of extension `type`'s
 * data, or 0. */
static size_t find_extension(const uint8_t *d, size_t len, size_t body, int client_hello, int type) {
  size_t off = body + 2 + 32;          /* version, random */
  off += 1 + d[off];                   /* session id */
  if (client_hello) {
    off += 1 + d[off];                 /* DTLS cookie */
    off += 2 + be(d + off, 2);         /* cipher suites */
    off += 1 + d[off];                 /* compression methods */
  } else {
    off += 2 + 1;                      /* cipher suite, compression */
  }
  if (off + 2 > len) return 0;
  size_t end = off + 2 + be(d + off, 2);
  for (off += 2; off + 4 <= end && end <= len; off += 4 + be(d + off + 2, 2))
    if ((int)be(d + off, 2) == type) return off + 4;
  return 0;
}

/* Damage pickers: the byte to change in a datagram about to be sent, or
 * 0 when it is not the one. */
typedef size_t (*picker)(const uint8_t *d, size_t len);

static size_t pick_hvr_cookie(const uint8_t *d, size_t len) {
  size_t body = find_message(d, len, 3);
  return body != 0 && d[body + 2] > 0 ? body + 3 + d[body + 2] / 2 : 0;
}
static size_t pick_certificate(const uint8_t *d, size_t len) {
  size_t body = find_message(d, len, 11);
  return body != 0 && body + 100 < len ? body + 100 : 0; /* inside the leaf */
}
static size_t pick_key_exchange(const uint8_t *d, size_t len) {
  size_t body = find_message(d, len, 16);
  return body != 0 ? body + 1 + 10 : 0; /* in the public value */
}
static size_t pick_hrr_cookie(const uint8_t *d, size_t len) {
  size_t body = find_message(d, len, 2);
  size_t ext = body != 0 ? find_extension(d, len, body, 0, 44) : 0;
  return ext != 0 ? ext + 2 + be(d + ext, 2) / 2 : 0;
}
static size_t pick_key_share(const uint8_t *d, size_t len) {
  size_t body = find_message(d, len, 1);
  if (body == 0 || be(d + RECORD_HEADER + 4, 2) == 0) return 0; /* the second ClientHello */
  size_t ext = find_extension(d, len, body, 1, 51);
  return ext != 0 ? ext + 2 + 4 + 10 : 0; /* client_shares: group, length, key */
}

/* ---- a client and a server over the simulator ---- */

typedef struct world {
  netsim *sim;
  sdtls_server *server;
  sdtls_conn *client;
  sdtls_conn *plain;  /* a plain server connection instead of `server` */
  struct sockaddr_in client_addr;
  picker damage;      /* applied to the first datagram it picks, either way */
  int damaged;
  int client_done, client_closed, client_reason;
  sdtls_time client_end;
  int server_dones;
  int alerts_47;      /* illegal_parameter alerts the server sent */
  uint8_t randoms[8][32]; /* the client's ClientHellos: each fresh one */
  int n_randoms;
} world;

static void note_hello(world *w, const uint8_t *d, size_t len) {
  size_t body = find_message(d, len, 1);
  if (body == 0 || body + 2 + 32 > len) return;
  for (int i = 0; i < w->n_randoms; i++)
    if (memcmp(w->randoms[i], d + body + 2, 32) == 0) return;
  if (w->n_randoms < 8) memcpy(w->randoms[w->n_randoms++], d + body + 2, 32);
}

static int link_send(world *w, int from, const uint8_t *d, size_t len) {
  uint8_t copy[2048];
  size_t at = w->damaged || len > sizeof(copy) ? 0 : w->damage(d, len);
  if (at == 0 || at >= len) return netsim_send(w->sim, from, d, len);
  memcpy(copy, d, len);
  copy[at] ^= 0x55;
  w->damaged++;
  return netsim_send(w->sim, from, copy, len);
}

static int client_send(void *user, const uint8_t *d, size_t len) {
  world *w = user;
  note_hello(w, d, len);
  return link_send(w, NETSIM_A, d, len);
}
static void client_done(void *user) {
  world *w = user;
  w->client_done = 1;
  w->client_end = netsim_now(w->sim);
}
static void client_close(void *user, int reason) {
  world *w = user;
  w->client_closed = 1;
  w->client_reason = reason;
  w->client_end = netsim_now(w->sim);
}

static int server_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d, size_t len) {
  (void)addr;
  (void)addr_len;
  world *w = user;
  if (len == RECORD_HEADER + 2 && d[0] == 21 && d[RECORD_HEADER + 1] == 47) w->alerts_47++;
  return link_send(w, NETSIM_B, d, len);
}
static void server_done(void *user, sdtls_conn *conn) {
  (void)conn;
  ((world *)user)->server_dones++;
}
static int ep_receive(void *ctx, const uint8_t *d, size_t len, sdtls_time now) {
  world *w = ctx;
  return sdtls_server_receive(w->server, (const uint8_t *)&w->client_addr, sizeof(w->client_addr), d, len,
                              now);
}
static sdtls_time ep_deadline(void *ctx) { return sdtls_server_next_deadline(((world *)ctx)->server); }
static int ep_timeout(void *ctx, sdtls_time now) { return sdtls_server_handle_timeout(((world *)ctx)->server, now); }
static const netsim_endpoint_ops server_ops = {ep_receive, ep_deadline, ep_timeout};

static int plain_send(void *user, const uint8_t *d, size_t len) { return link_send(user, NETSIM_B, d, len); }
static void plain_done(void *user) { ((world *)user)->server_dones++; }

static int client_over(void *ctx) {
  world *w = ctx;
  return w->client_closed || (w->client_done && w->server_dones > 0);
}

typedef struct setup {
  int dtls13;
  picker damage;
  int plain_peer;      /* a plain sdtls_conn server, no cookie exchange */
  int wrong_trust;     /* the client trusts another certificate */
  const uint8_t *session; /* offered by the client */
  size_t session_len;
  const char *client_alpn, *server_alpn;
} setup;

static sdtls_config *make_config(const setup *s, const testcert *own, const testcert *trust) {
  sdtls_config *c = config_make(own, 1, trust);
  /* X25519: each ClientHello in one datagram, where the pickers find the
   * whole message (the default X25519MLKEM768 one spans two). */
  if (c != NULL && s->dtls13 &&
      (sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_3) != 0 ||
       sdtls_config_set_groups(c, "X25519") != 0)) {
    sdtls_config_free(c);
    return NULL;
  }
  return c;
}

/* Sets up a client and a server for `s` and starts the handshake. */
static int world_start(world *w, const setup *s, const testcert *cert, const testcert *other) {
  memset(w, 0, sizeof(*w));
  w->damage = s->damage;
  w->sim = netsim_new(7, START);
  if (w->sim == NULL) return 0;
  netsim_link link = {.delay_ns = 10 * MS};
  netsim_set_link(w->sim, NETSIM_A, &link);
  netsim_set_link(w->sim, NETSIM_B, &link);
  w->client_addr.sin_family = AF_INET;
  w->client_addr.sin_port = htons(40000);
  w->client_addr.sin_addr.s_addr = htonl(0x0a000001u);
  sdtls_config *sc = make_config(s, cert, NULL);
  sdtls_config *cc = make_config(s, NULL, s->wrong_trust ? other : cert);
  int ok = sc != NULL && cc != NULL &&
           (s->server_alpn == NULL || sdtls_config_set_alpn(sc, s->server_alpn) == 0) &&
           (s->client_alpn == NULL || sdtls_config_set_alpn(cc, s->client_alpn) == 0);
  if (ok && s->plain_peer) {
    sdtls_callbacks pcb = {sizeof(pcb), plain_send, plain_done, NULL, NULL};
    ok = sdtls_conn_new(sc, SDTLS_ROLE_SERVER, &pcb, w, &w->plain) == 0;
    if (ok) netsim_set_conn(w->sim, NETSIM_B, w->plain);
  } else if (ok) {
    sdtls_server_callbacks scb = {sizeof(scb), server_send, NULL, server_done, NULL, NULL};
    ok = sdtls_server_new(sc, &scb, w, &w->server) == 0;
    if (ok) netsim_set_endpoint(w->sim, NETSIM_B, &server_ops, w);
  }
  sdtls_callbacks ccb = {sizeof(ccb), client_send, client_done, NULL, client_close};
  ok = ok && sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &ccb, w, &w->client) == 0 &&
       sdtls_conn_set_server_name(w->client, "damage.test") == 0 &&
       (s->session == NULL || sdtls_conn_set_session(w->client, s->session, s->session_len) == 0);
  sdtls_config_free(sc); /* the server and the connections hold theirs */
  sdtls_config_free(cc);
  if (!ok) return 0;
  netsim_set_conn(w->sim, NETSIM_A, w->client);
  return sdtls_conn_start(w->client, START) == 0;
}

/* Runs a handshake with `s` to its end; `w` holds what happened. */
static int world_run(world *w, const setup *s, const testcert *cert, const testcert *other) {
  if (!world_start(w, s, cert, other)) return 0;
  netsim_run(w->sim, client_over, w, 60 * SEC, 1000000u);
  return 1;
}

static void world_free(world *w) {
  netsim_set_conn(w->sim, NETSIM_A, NULL);
  netsim_set_conn(w->sim, NETSIM_B, NULL);
  netsim_set_endpoint(w->sim, NETSIM_B, NULL, NULL);
  sdtls_conn_free(w->client);
  sdtls_conn_free(w->plain);
  sdtls_server_free(w->server);
  netsim_free(w->sim);
}

/* ---- the cases ---- */

static testcert cert, other;

static int skip13(void) {
  if (!sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) {
    printf("  (skipped: the engine does not speak DTLS 1.3)\n");
    return 1;
  }
  return 0;
}

/* The damage was done, and the client connected by the default deadline,
 * with the version asked for, after starting over once. */
static void expect_connected(const char *what, const setup *s) {
  world w;
  REQUIRE(world_run(&w, s, &cert, &other));
  CHECKF(w.damaged == 1, "%s: nothing damaged", what);
  CHECKF(w.client_done && !w.client_closed, "%s: not connected (%s: %s)", what,
         sdtls_strerror(sdtls_conn_error(w.client)), sdtls_conn_error_detail(w.client));
  CHECKF(w.client_end <= DEADLINE, "%s: connected %.1f s after the deadline", what,
         (double)(w.client_end - DEADLINE) / 1e9);
  const char *v = sdtls_conn_version(w.client);
  CHECK_STREQ(v, s->dtls13 ? "DTLSv1.3" : "DTLSv1.2");
  CHECKF(w.n_randoms == 2, "%s: %d handshakes, not 2", what, w.n_randoms);
  printf("  %s: ended after %.1f s, %d handshakes\n", what, (double)(w.client_end - START) / 1e9,
         w.n_randoms);
  world_free(&w);
}

static void test_hvr_cookie(void) {
  setup s = {.damage = pick_hvr_cookie};
  expect_connected("HelloVerifyRequest cookie", &s);
}

static void test_certificate(void) {
  setup s = {.damage = pick_certificate};
  expect_connected("Certificate", &s);
}

static void test_key_exchange(void) {
  setup s = {.damage = pick_key_exchange};
  expect_connected("ClientKeyExchange", &s);
}

static void test_hrr_cookie(void) {
  if (skip13()) return;
  setup s = {.dtls13 = 1, .damage = pick_hrr_cookie};
  expect_connected("HelloRetryRequest cookie", &s);
  /* The server said so (RFC 9147 5.1) rather than keeping silent. */
  world w;
  REQUIRE(world_run(&w, &s, &cert, &other));
  CHECK_EQ(w.alerts_47, 1);
  world_free(&w);
}

static void test_key_share(void) {
  if (skip13()) return;
  setup s = {.dtls13 = 1, .damage = pick_key_share};
  expect_connected("second ClientHello key share", &s);
}

static size_t pick_nothing(const uint8_t *d, size_t len) {
  (void)d;
  (void)len;
  return 0;
}

/* A session offered is offered again by the restarted handshake, and
 * taken: a first client gets one, a second one (another port, the same
 * server) offers it and has its HelloVerifyRequest damaged. */
static void test_resumed(void) {
  world w;
  setup s = {.damage = pick_nothing};
  REQUIRE(world_run(&w, &s, &cert, &other));
  REQUIRE(w.client_done);
  netsim_run_for(w.sim, SEC); /* DTLS 1.3: the ticket follows the handshake */
  uint8_t *session = NULL;
  size_t len = 0;
  REQUIRE_EQ(sdtls_conn_get_session(w.client, &session, &len), 0);
  netsim_set_conn(w.sim, NETSIM_A, NULL);
  sdtls_conn_free(w.client);
  sdtls_config *cc = make_config(&s, NULL, &cert);
  REQUIRE(cc != NULL);
  sdtls_callbacks ccb = {sizeof(ccb), client_send, client_done, NULL, client_close};
  int rc = sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &ccb, &w, &w.client);
  sdtls_config_free(cc);
  REQUIRE_EQ(rc, 0);
  REQUIRE_EQ(sdtls_conn_set_server_name(w.client, "damage.test"), 0);
  REQUIRE_EQ(sdtls_conn_set_session(w.client, session, len), 0);
  sdtls_free(session);
  w.client_addr.sin_port = htons(40001);
  w.damage = pick_hvr_cookie;
  w.client_done = w.server_dones = w.n_randoms = 0;
  netsim_set_conn(w.sim, NETSIM_A, w.client);
  const sdtls_time start = netsim_now(w.sim);
  REQUIRE_EQ(sdtls_conn_start(w.client, start), 0);
  netsim_run(w.sim, client_over, &w, 60 * SEC, 1000000u);
  CHECK_EQ(w.damaged, 1);
  CHECK(w.client_done && w.client_end <= start + 30 * SEC);
  CHECK_EQ(w.n_randoms, 2);
  CHECK_EQ(sdtls_conn_session_resumed(w.client), 1);
  world_free(&w);
}

/* A certificate the client does not trust: reported as a verification
 * failure (not a timeout), after one retry at most, within seconds. */
static void test_wrong_trust(void) {
  for (int v13 = 0; v13 < 2; v13++) {
    if (v13 && skip13()) return;
    setup s = {.dtls13 = v13, .damage = pick_nothing, .wrong_trust = 1};
    world w;
    REQUIRE(world_run(&w, &s, &cert, &other));
    CHECK(w.client_closed && !w.client_done);
    CHECK_EQ(w.client_reason, SDTLS_E_VERIFY);
    CHECKF(w.n_randoms <= 2, "%d handshakes for a certificate that does not verify", w.n_randoms);
    CHECKF(w.client_end <= START + 5 * SEC, "reported after %.1f s", (double)(w.client_end - START) / 1e9);
    printf("  DTLS 1.%d: %s after %.1f s, %d handshakes\n", v13 ? 3 : 2, sdtls_conn_error_detail(w.client),
           (double)(w.client_end - START) / 1e9, w.n_randoms);
    world_free(&w);
  }
}

/* An alert that is the server's decision (here: no application protocol
 * in common) is the connection's end at once: damage does not make it. */
static void test_server_decision(void) {
  setup s = {.damage = pick_nothing, .client_alpn = "h3", .server_alpn = "coap"};
  world w;
  REQUIRE(world_run(&w, &s, &cert, &other));
  CHECK(w.client_closed && !w.client_done);
  CHECK_EQ(w.client_reason, SDTLS_E_ALERT);
  CHECK_EQ(w.n_randoms, 1);
  CHECKF(w.client_end <= START + SEC, "reported after %.1f s", (double)(w.client_end - START) / 1e9);
  printf("  %s\n", sdtls_conn_error_detail(w.client));
  world_free(&w);
}

/* No cookie exchange, no restart: the failure the damage causes is the
 * connection's, at once. */
static void test_plain_peer(void) {
  setup s = {.damage = pick_certificate, .plain_peer = 1};
  world w;
  REQUIRE(world_run(&w, &s, &cert, &other));
  CHECK_EQ(w.damaged, 1);
  CHECK(w.client_closed && !w.client_done);
  CHECK(w.client_reason == SDTLS_E_PROTOCOL || w.client_reason == SDTLS_E_VERIFY);
  CHECK_EQ(w.n_randoms, 1);
  CHECKF(w.client_end <= START + SEC, "reported after %.1f s", (double)(w.client_end - START) / 1e9);
  world_free(&w);
}

/* The server goes away once the damaged Certificate is on its way: the
 * restart is not answered, and the client reports the failure that caused
 * it, long before the deadline. */
static int damage_done(void *ctx) { return ((world *)ctx)->damaged > 0; }

static void test_server_gone(void) {
  setup s = {.damage = pick_certificate};
  world w;
  REQUIRE(world_start(&w, &s, &cert, &other));
  netsim_run(w.sim, damage_done, &w, 60 * SEC, 1000000u);
  REQUIRE_EQ(w.damaged, 1);
  netsim_set_endpoint(w.sim, NETSIM_B, NULL, NULL);
  sdtls_server_free(w.server);
  w.server = NULL;
  netsim_run(w.sim, client_over, &w, 60 * SEC, 1000000u);
  CHECK(w.client_closed && !w.client_done);
  CHECK(w.client_reason == SDTLS_E_PROTOCOL || w.client_reason == SDTLS_E_VERIFY);
  CHECKF(w.client_end <= START + 10 * SEC, "reported after %.1f s", (double)(w.client_end - START) / 1e9);
  printf("  %s (%s) after %.1f s\n", sdtls_strerror(w.client_reason), sdtls_conn_error_detail(w.client),
         (double)(w.client_end - START) / 1e9);
  world_free(&w);
}

int main(int argc, char **argv) {
  if (testcert_ecdsa("damage.test", &cert) != 0 || testcert_ecdsa("damage.test", &other) != 0) {
    fprintf(stderr, "no test certificates\n");
    return 1;
  }
  static const check_test tests[] = {
      {"hvr_cookie", test_hvr_cookie},     {"certificate", test_certificate},
      {"key_exchange", test_key_exchange}, {"hrr_cookie", test_hrr_cookie},
      {"key_share", test_key_share},       {"resumed", test_resumed},
      {"wrong_trust", test_wrong_trust},   {"server_decision", test_server_decision},
      {"plain_peer", test_plain_peer},     {"server_gone", test_server_gone},
  };
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&cert);
  testcert_free(&other);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* A server's per-peer pins (sdtls_server_pin_peer(),
 * sdtls_server_unpin_peer()) through the public API, on every DTLS
 * version the engine speaks: a pinned address must present a certificate
 * with one of its fingerprints, other addresses are not affected, an unpin
 * lifts the requirement, connections made before a pin or an unpin keep
 * what they had, refused calls change nothing (the table itself:
 * tests/server/pin_table_test.c). Clients and the server exchange
 * datagrams through queues in virtual time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

static testcert g_server, g_alice, g_mallory;

#define N_CLIENTS 3
/* One server and up to N_CLIENTS clients, client i at 192.0.2.(i+1):5000. */
typedef struct world {
  sdtls_server *server;
  sdtls_config *server_config;
  int64_t version;
  sdtls_time now;
  struct client {
    sdtls_conn *conn;
    struct sockaddr_in addr;
    dgram_queue in, out; /* to the client, to the server */
    struct world *w;
  } c[N_CLIENTS];
  /* What the server's callbacks saw, by client. */
  int connects[N_CLIENTS], handshakes[N_CLIENTS], closes[N_CLIENTS], close_reason[N_CLIENTS];
  sdtls_conn *server_conn[N_CLIENTS];
  /* Calls made from inside on_connect, and their results. */
  int call_in_callback, pin_in_cb_rc, unpin_in_cb_rc;
} world;

static int client_of(const uint8_t *addr) {
  struct sockaddr_in a;
  memcpy(&a, addr, sizeof(a));
  return (int)(ntohl(a.sin_addr.s_addr) & 0xff) - 1;
}

static int client_send(void *user, const uint8_t *d, size_t len) {
  dgram_push(&((struct client *)user)->out, d, len);
  return 0;
}

static int server_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d,
                       size_t len) {
  (void)addr_len;
  dgram_push(&((world *)user)->c[client_of(addr)].in, d, len);
  return 0;
}

static const char kSomeFingerprint[] =
    "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

static void on_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  world *w = user;
  int i = client_of(addr);
  w->connects[i]++;
  w->server_conn[i] = conn;
  if (w->call_in_callback) {
    w->pin_in_cb_rc = sdtls_server_pin_peer(w->server, addr, addr_len, kSomeFingerprint);
    w->unpin_in_cb_rc = sdtls_server_unpin_peer(w->server, addr, addr_len);
  }
}

static int index_of(const world *w, const sdtls_conn *conn) {
  for (int i = 0; i < N_CLIENTS; i++) {
    if (w->server_conn[i] == conn) return i;
  }
  return -1;
}

static void on_handshake_done(void *user, sdtls_conn *conn) {
  world *w = user;
  int i = index_of(w, conn);
  if (i >= 0) w->handshakes[i]++;
}

static void on_close(void *user, sdtls_conn *conn, int reason) {
  world *w = user;
  int i = index_of(w, conn);
  if (i < 0) return;
  w->closes[i]++;
  w->close_reason[i] = reason;
  w->server_conn[i] = NULL;
}

static const uint8_t *addr_of(const world *w, int i) { return (const uint8_t *)&w->c[i].addr; }

/* A server speaking at most `version`; no client yet. */
static int world_init(world *w, int64_t version) {
  memset(w, 0, sizeof(*w));
  w->version = version;
  w->now = 100 * NETSIM_SEC;
  w->server_config = config_make(&g_server, 0, NULL);
  if (w->server_config == NULL ||
      sdtls_config_set_option(w->server_config, SDTLS_OPT_MAX_VERSION, version) != 0) {
    return 0;
  }
  /* An engine without the cookie hand-over serves without cookies. */
  if (!sdtls_has_feature(SDTLS_FEATURE_COOKIE_EXCHANGE) &&
      sdtls_config_set_option(w->server_config, SDTLS_OPT_COOKIES, 0) != 0) {
    return 0;
  }
  sdtls_server_callbacks cb = {.size = sizeof(cb),
                               .send = server_send,
                               .on_connect = on_connect,
                               .on_handshake_done = on_handshake_done,
                               .on_close = on_close};
  for (int i = 0; i < N_CLIENTS; i++) {
    w->c[i].w = w;
    w->c[i].addr.sin_family = AF_INET;
    w->c[i].addr.sin_port = htons(5000);
    w->c[i].addr.sin_addr.s_addr = htonl(0xc0000201 + (uint32_t)i); /* 192.0.2.(i+1) */
  }
  return sdtls_server_new(w->server_config, &cb, w, &w->server) == 0;
}

/* Starts client i with the certificate `cert` (NULL: none); it pins the
 * server's certificate. */
static int client_start(world *w, int i, const testcert *cert) {
  struct client *c = &w->c[i];
  sdtls_conn_free(c->conn);
  c->conn = NULL;
  c->in.n = c->out.n = 0;
  sdtls_config *cc = config_make(cert, 0, NULL);
  uint8_t digest[32];
  char fp[SDTLS_FINGERPRINT_MAX_TEXT];
  sdtls_callbacks cb = {.size = sizeof(cb), .send = client_send};
  int ok = cc != NULL && sdtls_config_set_option(cc, SDTLS_OPT_MAX_VERSION, w->version) == 0 &&
           testcert_fingerprint(&g_server, digest) == 0 &&
           sdtls_fingerprint_format_hash(SDTLS_HASH_SHA256, digest, 32, SDTLS_FINGERPRINT_SDP, fp,
                                         sizeof(fp)) == 0 &&
           sdtls_config_add_peer_fingerprint(cc, fp) == 0 &&
           sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &cb, c, &c->conn) == 0 &&
           sdtls_conn_start(c->conn, w->now) == 0;
  sdtls_config_free(cc);
  return ok;
}

/* Moves datagrams until nothing moves and no timer is due within 5 virtual
 * seconds (bounded: at most 2,000 steps). */
static void run(world *w) {
  sdtls_time until = w->now + 5 * NETSIM_SEC;
  for (int step = 0; step < 2000 && w->now < until; step++) {
    int moved = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
      struct client *c = &w->c[i];
      dgram_queue out = c->out;
      c->out.n = 0;
      for (size_t k = 0; k < out.n; k++, moved++) {
        sdtls_server_receive(w->server, addr_of(w, i), sizeof(c->addr), out.data[k], out.len[k],
                             w->now);
      }
      dgram_queue in = c->in;
      c->in.n = 0;
      for (size_t k = 0; k < in.n && c->conn != NULL; k++, moved++) {
        sdtls_conn_receive(c->conn, in.data[k], in.len[k], w->now);
      }
    }
    if (!moved) {
      w->now += 10 * NETSIM_MS;
      for (int i = 0; i < N_CLIENTS; i++) {
        if (w->c[i].conn != NULL) sdtls_conn_handle_timeout(w->c[i].conn, w->now);
      }
      sdtls_server_handle_timeout(w->server, w->now);
    }
  }
}

static void world_free(world *w) {
  for (int i = 0; i < N_CLIENTS; i++) sdtls_conn_free(w->c[i].conn);
  sdtls_server_free(w->server);
  sdtls_config_free(w->server_config);
}

static int fingerprint_of(const testcert *tc, int hash, char *out) {
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t len;
  return sdtls_certificate_fingerprint((const uint8_t *)tc->cert_pem, testcert_cert_len(tc), hash,
                                       digest, &len) == 0 &&
         sdtls_fingerprint_format_hash(hash, digest, len, SDTLS_FINGERPRINT_SDP, out,
                                       SDTLS_FINGERPRINT_MAX_TEXT) == 0;
}

static int connected(const world *w, int i) {
  return sdtls_conn_state(w->c[i].conn) == SDTLS_STATE_CONNECTED && w->handshakes[i] == 1;
}

/* Alice (client 0) pinned: in with her certificate, refused with
 * Mallory's or with none; Bob (client 1, Mallory's certificate) is not
 * pinned and comes in. */
static void pinned_peers(int64_t version) {
  static world w;
  char alice[SDTLS_FINGERPRINT_MAX_TEXT], alice384[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(world_init(&w, version));
  REQUIRE(fingerprint_of(&g_alice, SDTLS_HASH_SHA256, alice) &&
          fingerprint_of(&g_alice, SDTLS_HASH_SHA384, alice384));
  REQUIRE_EQ(sdtls_server_pin_peer(w.server, addr_of(&w, 0), sizeof(w.c[0].addr), alice), 0);

  REQUIRE(client_start(&w, 0, &g_alice) && client_start(&w, 1, &g_mallory));
  run(&w);
  CHECKF(connected(&w, 0), "v%lld: the pinned peer with its certificate", (long long)version);
  CHECKF(connected(&w, 1), "v%lld: a peer without pins", (long long)version);
  uint8_t seen[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t seen_len = 0;
  REQUIRE(w.server_conn[0] != NULL);
  CHECK_EQ(sdtls_conn_peer_fingerprint(w.server_conn[0], SDTLS_HASH_SHA256, seen, &seen_len), 0);

  /* Mallory from Alice's address: refused, whatever her own pins say. */
  REQUIRE(client_start(&w, 0, &g_mallory));
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[0].conn), SDTLS_STATE_FAILED);
  CHECK_EQ(w.connects[0], 2);
  CHECK_EQ(w.handshakes[0], 1); /* only the first */
  CHECK_EQ(w.close_reason[0], SDTLS_E_VERIFY);

  /* No certificate at all: refused too (the server asks a pinned peer). */
  REQUIRE(client_start(&w, 0, NULL));
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[0].conn), SDTLS_STATE_FAILED);
  CHECK_EQ(w.handshakes[0], 1);
  CHECK(w.close_reason[0] != 0);

  /* A second pin in another hash and form: either matches. */
  REQUIRE_EQ(sdtls_server_pin_peer(w.server, addr_of(&w, 0), sizeof(w.c[0].addr), alice384), 0);
  REQUIRE(client_start(&w, 0, &g_alice));
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[0].conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(w.handshakes[0], 2);

  /* Unpinned: the address is like any other again. */
  CHECK_EQ(sdtls_server_unpin_peer(w.server, addr_of(&w, 0), sizeof(w.c[0].addr)), 2);
  CHECK_EQ(sdtls_server_unpin_peer(w.server, addr_of(&w, 0), sizeof(w.c[0].addr)), 0);
  REQUIRE(client_start(&w, 0, &g_mallory));
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[0].conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(w.handshakes[0], 3);
  world_free(&w);
}

/* Pins apply to connections made after the call: one that is up stays up
 * (and its data flows); an unpin does not lift a connection's pins. */
static void connections_already_made(int64_t version) {
  static world w;
  char alice[SDTLS_FINGERPRINT_MAX_TEXT], mallory[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(world_init(&w, version));
  REQUIRE(fingerprint_of(&g_alice, SDTLS_HASH_SHA256, alice) &&
          fingerprint_of(&g_mallory, SDTLS_HASH_SHA256, mallory));
  REQUIRE(client_start(&w, 0, &g_alice));
  run(&w);
  REQUIRE(connected(&w, 0));
  /* Pinned to another certificate while up: still up, data flows. */
  REQUIRE_EQ(sdtls_server_pin_peer(w.server, addr_of(&w, 0), sizeof(w.c[0].addr), mallory), 0);
  CHECK_EQ(sdtls_conn_send(w.c[0].conn, (const uint8_t *)"hi", 2, w.now), 0);
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[0].conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(w.closes[0], 0);
  CHECK_EQ(sdtls_server_counter_get(w.server, SDTLS_COUNTER_PEERS), 1);

  /* A client that begins while the pin is there, finishes after the unpin:
   * its connection was made under the pin. */
  REQUIRE(client_start(&w, 1, &g_alice));
  REQUIRE_EQ(sdtls_server_pin_peer(w.server, addr_of(&w, 1), sizeof(w.c[1].addr), mallory), 0);
  for (int step = 0; step < 200 && w.connects[1] == 0; step++) {
    dgram_queue out = w.c[1].out;
    w.c[1].out.n = 0;
    for (size_t k = 0; k < out.n; k++) {
      sdtls_server_receive(w.server, addr_of(&w, 1), sizeof(w.c[1].addr), out.data[k],
                           out.len[k], w.now);
    }
    dgram_queue in = w.c[1].in;
    w.c[1].in.n = 0;
    for (size_t k = 0; k < in.n; k++) sdtls_conn_receive(w.c[1].conn, in.data[k], in.len[k], w.now);
  }
  REQUIRE_EQ(w.connects[1], 1);
  CHECK_EQ(sdtls_server_unpin_peer(w.server, addr_of(&w, 1), sizeof(w.c[1].addr)), 1);
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[1].conn), SDTLS_STATE_FAILED);
  CHECK_EQ(w.close_reason[1], SDTLS_E_VERIFY);
  world_free(&w);
}

static void test_pinned_peers(void) {
  pinned_peers(SDTLS_DTLS1_2);
  if (sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) pinned_peers(SDTLS_DTLS1_3);
}

static void test_connections_already_made(void) {
  connections_already_made(SDTLS_DTLS1_2);
  if (sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) connections_already_made(SDTLS_DTLS1_3);
}

/* Each refusal, and that it changed nothing. */
static void test_refused_calls(void) {
  static world w;
  REQUIRE(world_init(&w, SDTLS_DTLS1_2));
  const uint8_t *a = addr_of(&w, 0);
  size_t len = sizeof(w.c[0].addr);
  CHECK_EQ(sdtls_server_pin_peer(NULL, a, len, kSomeFingerprint), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_pin_peer(w.server, NULL, len, kSomeFingerprint), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_pin_peer(w.server, a, len - 1, kSomeFingerprint), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_pin_peer(w.server, a, len, NULL), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_pin_peer(w.server, a, len, "AB:CD"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_pin_peer(w.server, a, len, "sha-1 AB:CD"), SDTLS_E_UNSUPPORTED);
  CHECK_EQ(sdtls_server_unpin_peer(NULL, a, len), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_unpin_peer(w.server, NULL, len), SDTLS_E_INVALID_ARGUMENT);
  struct sockaddr_in unknown_family = w.c[0].addr;
  unknown_family.sin_family = AF_UNIX;
  CHECK_EQ(sdtls_server_unpin_peer(w.server, (const uint8_t *)&unknown_family, len),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_unpin_peer(w.server, a, len), 0); /* nothing was pinned */

  /* 16 per address; the same one twice is one. */
  char fp[SDTLS_FINGERPRINT_MAX_TEXT];
  for (int i = 1; i <= 16; i++) { /* bare forms: "01:11:22:...", ... */
    snprintf(fp, sizeof(fp), "%02X%s", i, kSomeFingerprint + 10);
    REQUIREF(sdtls_server_pin_peer(w.server, a, len, fp) == 0, "pin %d", i);
  }
  CHECK_EQ(sdtls_server_pin_peer(w.server, a, len, kSomeFingerprint), SDTLS_E_LIMIT);
  CHECK_EQ(sdtls_server_pin_peer(w.server, a, len, fp), 0); /* already there */
  CHECK_EQ(sdtls_server_unpin_peer(w.server, a, len), 16);

  /* From inside a callback: refused, nothing pinned or unpinned. */
  char alice[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(fingerprint_of(&g_alice, SDTLS_HASH_SHA256, alice));
  REQUIRE_EQ(sdtls_server_pin_peer(w.server, a, len, alice), 0);
  w.call_in_callback = 1;
  REQUIRE(client_start(&w, 0, &g_alice));
  REQUIRE(client_start(&w, 1, &g_alice));
  run(&w);
  CHECK_EQ(w.pin_in_cb_rc, SDTLS_E_IN_CALLBACK);
  CHECK_EQ(w.unpin_in_cb_rc, SDTLS_E_IN_CALLBACK);
  CHECK(connected(&w, 0) && connected(&w, 1)); /* no pin was added for client 1 */
  CHECK_EQ(sdtls_server_unpin_peer(w.server, a, len), 1);
  CHECK_EQ(sdtls_server_unpin_peer(w.server, addr_of(&w, 1), len), 0);
  world_free(&w);
}

/* An IPv6 socket's view of an IPv4 peer (::ffff:192.0.2.1) and the IPv4
 * address are one address to the pins. */
static void test_mapped_address(void) {
  static world w;
  char alice[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(world_init(&w, SDTLS_DTLS1_2));
  REQUIRE(fingerprint_of(&g_alice, SDTLS_HASH_SHA256, alice));
  struct sockaddr_in6 mapped;
  memset(&mapped, 0, sizeof(mapped));
  mapped.sin6_family = AF_INET6;
  mapped.sin6_port = htons(5000);
  inet_pton(AF_INET6, "::ffff:192.0.2.1", &mapped.sin6_addr);
  REQUIRE_EQ(sdtls_server_pin_peer(w.server, (const uint8_t *)&mapped, sizeof(mapped), alice), 0);
  REQUIRE(client_start(&w, 0, &g_mallory));
  run(&w);
  CHECK_EQ(sdtls_conn_state(w.c[0].conn), SDTLS_STATE_FAILED);
  CHECK_EQ(w.close_reason[0], SDTLS_E_VERIFY);
  CHECK_EQ(sdtls_server_unpin_peer(w.server, addr_of(&w, 0), sizeof(w.c[0].addr)), 1);
  world_free(&w);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"pinned_peers", test_pinned_peers},
      {"connections_already_made", test_connections_already_made},
      {"refused_calls", test_refused_calls},
      {"mapped_address", test_mapped_address},
  };
  if (testcert_ecdsa("server.test", &g_server) != 0 || testcert_ecdsa("alice.test", &g_alice) != 0 ||
      testcert_ecdsa("mallory.test", &g_mallory) != 0) {
    return 1;
  }
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&g_server);
  testcert_free(&g_alice);
  testcert_free(&g_mallory);
  return rc;
}

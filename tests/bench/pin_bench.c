/* SPDX-License-Identifier: Apache-2.0 */
/* Per-peer pins at scale (sdtls_server_pin_peer(); src/pin_table.c): how
 * long a server takes to pin --pins addresses (one sha-256 fingerprint
 * each, as a WebRTC server pins one per peer), to pin them again (each
 * already there), to unpin them all, and what the lookup made for every new
 * connection costs: --conns peers go through the cookie exchange up to the
 * connection's creation (on_connect), first with no pin, then each pinned
 * among the --pins others. Through the public ABI only, in memory, one
 * thread; wall-clock time (CLOCK_MONOTONIC).
 *
 *   bench_pins [--pins N] [--conns N] [--quick]
 *
 * Prints one JSON object per figure, as the other bench_* executables do:
 *   {"variant":"sdtls-shared","round":1,"metric":"pin_s","value":0.04,"unit":"s"}
 * A benchmark, not a test: nothing fails because something is slow
 * (bench_pins_smoke only runs it). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdtls.h"

static size_t opt_pins = 100000, opt_conns = 1000;

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_pins: %s: %s\n", what, sdtls_strerror(rc));
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sdtls_time now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (sdtls_time)ts.tv_sec * 1000000000u + (sdtls_time)ts.tv_nsec;
}

static void emit(const char *metric, double value, const char *unit) {
  printf("{\"variant\":\"sdtls-shared\",\"round\":1,\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n",
         metric, value, unit);
}

/* Peer k's address: 10.x.y.z, port 1024 + k % 50000 (distinct for every k
 * the benchmark uses). */
static struct sockaddr_in addr_of(size_t k) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)(1024 + k % 50000));
  a.sin_addr.s_addr = htonl((uint32_t)(0x0a000000u + k / 50000 * 256 + k % 251));
  return a;
}

/* Peer k's fingerprint: any valid sha-256 one, distinct per k. */
static void fingerprint_of(size_t k, char *out, size_t out_len) {
  uint8_t digest[32] = {0};
  memcpy(digest, &k, sizeof(k));
  if (sdtls_fingerprint_format_hash(SDTLS_HASH_SHA256, digest, sizeof(digest),
                                    SDTLS_FINGERPRINT_SDP, out, out_len) != 0) {
    die("format", SDTLS_E_INTERNAL);
  }
}

/* ---- the connection-time lookup: cookie exchange up to on_connect ---- */

typedef struct wire {
  uint8_t to_server[2048], to_client[2048];
  size_t to_server_len, to_client_len;
  sdtls_conn *created;
} wire;

static int client_send(void *user, const uint8_t *d, size_t len) {
  wire *w = user;
  if (w->to_server_len == 0 && len <= sizeof(w->to_server)) { /* the ClientHello */
    memcpy(w->to_server, d, len);
    w->to_server_len = len;
  }
  return 0;
}

static int server_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d,
                       size_t len) {
  (void)addr;
  (void)addr_len;
  wire *w = user;
  if (w->to_client_len == 0 && len <= sizeof(w->to_client)) { /* the HelloVerifyRequest */
    memcpy(w->to_client, d, len);
    w->to_client_len = len;
  }
  return 0;
}

static void on_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  (void)addr;
  (void)addr_len;
  ((wire *)user)->created = conn;
}

/* Peers first..first+n: each ClientHello, HelloVerifyRequest, ClientHello
 * with the cookie (the server creates the connection: lookup, on_connect,
 * its first flight), then the peer is closed. Returns the seconds taken. */
static double connect_peers(sdtls_server *server, sdtls_config *client_config, wire *w,
                            size_t first, size_t n) {
  sdtls_callbacks cb = {.size = sizeof(cb), .send = client_send};
  double t0 = now_s();
  for (size_t k = first; k < first + n; k++) {
    struct sockaddr_in a = addr_of(k);
    sdtls_conn *client;
    sdtls_time t = now_ns();
    memset(w, 0, sizeof(*w));
    int rc = sdtls_conn_new(client_config, SDTLS_ROLE_CLIENT, &cb, w, &client);
    if (rc != 0) die("client", rc);
    sdtls_conn_start(client, t);
    sdtls_server_receive(server, (const uint8_t *)&a, sizeof(a), w->to_server, w->to_server_len, t);
    w->to_server_len = 0;
    sdtls_conn_receive(client, w->to_client, w->to_client_len, t);
    sdtls_server_receive(server, (const uint8_t *)&a, sizeof(a), w->to_server, w->to_server_len, t);
    if (w->created == NULL) die("no connection was created", SDTLS_E_INTERNAL);
    sdtls_server_close_peer(server, w->created, t);
    sdtls_conn_free(client);
  }
  return now_s() - t0;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      opt_pins = 2000;
      opt_conns = 20;
    } else if (strcmp(argv[i], "--pins") == 0 && i + 1 < argc) {
      opt_pins = strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc) {
      opt_conns = strtoul(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: bench_pins [--pins N] [--conns N] [--quick]\n");
      return 2;
    }
  }
  if (opt_pins == 0 || opt_conns == 0 || opt_pins > 50000 * 64) {
    fprintf(stderr, "bench_pins: --pins 1..3200000, --conns at least 1\n");
    return 2;
  }
  char *cert = NULL, *key = NULL;
  sdtls_config *sc, *cc;
  sdtls_server *server;
  wire w;
  int rc = sdtls_certificate_generate("bench.test", 1, &cert, &key);
  if (rc != 0) die("certificate", rc);
  if ((rc = sdtls_config_new(&sc)) != 0 || (rc = sdtls_config_new(&cc)) != 0) die("config", rc);
  rc = sdtls_config_set_certificate_pem(sc, (const uint8_t *)cert, strlen(cert),
                                        (const uint8_t *)key, strlen(key));
  if (rc != 0) die("certificate", rc);
  sdtls_config_set_option(sc, SDTLS_OPT_MAX_PEERS, 1000000);
  sdtls_config_set_option(sc, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_2);
  sdtls_config_set_option(cc, SDTLS_OPT_VERIFY_PEER, 0);
  sdtls_config_set_option(cc, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_2);
  sdtls_server_callbacks scb = {
      .size = sizeof(scb), .send = server_send, .on_connect = on_connect};
  if ((rc = sdtls_server_new(sc, &scb, &w, &server)) != 0) die("server", rc);

  /* Connections with an empty table (the peers after the pinned ones). */
  connect_peers(server, cc, &w, opt_pins, 1 + opt_conns / 10); /* warm-up */
  double unpinned = connect_peers(server, cc, &w, opt_pins, opt_conns);

  char fp[SDTLS_FINGERPRINT_MAX_TEXT];
  double t0 = now_s();
  for (size_t k = 0; k < opt_pins; k++) {
    struct sockaddr_in a = addr_of(k);
    fingerprint_of(k, fp, sizeof(fp));
    if ((rc = sdtls_server_pin_peer(server, (const uint8_t *)&a, sizeof(a), fp)) != 0) die("pin", rc);
  }
  double pin_s = now_s() - t0;
  t0 = now_s();
  for (size_t k = 0; k < opt_pins; k++) {
    struct sockaddr_in a = addr_of(k);
    fingerprint_of(k, fp, sizeof(fp));
    if ((rc = sdtls_server_pin_peer(server, (const uint8_t *)&a, sizeof(a), fp)) != 0) die("repin", rc);
  }
  double repin_s = now_s() - t0;

  /* Connections from pinned addresses among all the others. */
  size_t conns = opt_conns < opt_pins ? opt_conns : opt_pins;
  double pinned = connect_peers(server, cc, &w, 0, conns);

  t0 = now_s();
  for (size_t k = 0; k < opt_pins; k++) {
    struct sockaddr_in a = addr_of(k);
    if (sdtls_server_unpin_peer(server, (const uint8_t *)&a, sizeof(a)) != 1) die("unpin", rc);
  }
  double unpin_s = now_s() - t0;

  emit("pins", (double)opt_pins, "pins");
  emit("pin_s", pin_s, "s");
  emit("pin_ns_per_pin", pin_s * 1e9 / (double)opt_pins, "ns");
  emit("repin_ns_per_pin", repin_s * 1e9 / (double)opt_pins, "ns");
  emit("unpin_ns_per_pin", unpin_s * 1e9 / (double)opt_pins, "ns");
  emit("connect_us_unpinned", unpinned * 1e6 / (double)opt_conns, "us");
  emit("connect_us_pinned", pinned * 1e6 / (double)conns, "us");
  sdtls_server_free(server);
  sdtls_config_free(sc);
  sdtls_config_free(cc);
  sdtls_free(cert);
  sdtls_free(key);
  return 0;
}

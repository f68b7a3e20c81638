/* SPDX-License-Identifier: Apache-2.0 */
/* Threads (run under ThreadSanitizer by tests/run.sh, plainly elsewhere):
 * one config, frozen by whichever thread first makes a connection from it,
 * shared by several threads that each drive their own sdtls_server and
 * client connections through in-memory queues, while key logging runs on
 * every handshake and the threads also make self-signed certificates and
 * fingerprints. The header promises all of this is safe; TSan checks it.
 * Each thread checks its own handshakes and echoes. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "check.h"
#include "sdtls.h"
#include "testcert.h"

#define THREADS 4
#define ROUNDS 6
#define MS UINT64_C(1000000)

static sdtls_config *shared;
static atomic_int keylog_lines;
static pthread_barrier_t start_line;

static void keylog(void *user, const char *line) {
  (void)user;
  /* One line per side and handshake: DTLS 1.2's CLIENT_RANDOM, or DTLS
   * 1.3's application traffic secret (a current engine). */
  if (strncmp(line, "CLIENT_RANDOM ", 14) == 0 || strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
    atomic_fetch_add(&keylog_lines, 1);
}

typedef struct q {
  uint8_t data[64][1500];
  size_t len[64];
  size_t n;
} q;

static void q_push(q *x, const uint8_t *d, size_t len) {
  if (x->n < 64 && len <= sizeof(x->data[0])) {
    memcpy(x->data[x->n], d, len);
    x->len[x->n++] = len;
  }
}

typedef struct worker {
  int id;
  sdtls_time now;
  q to_server, to_client;
  sdtls_server *server;
  sdtls_conn *client;
  int client_done, server_done, echoes;
  int failures;
  char failure[200];
} worker;

static int cli_send(void *user, const uint8_t *d, size_t len) {
  q_push(&((worker *)user)->to_server, d, len);
  return 0;
}
static void cli_done(void *user) { ((worker *)user)->client_done++; }
static void cli_data(void *user, const uint8_t *d, size_t len) {
  worker *w = user;
  if (len == 4 && memcmp(d, "ping", 4) == 0) w->echoes++;
}
static int srv_send(void *user, const uint8_t *a, size_t alen, const uint8_t *d, size_t len) {
  (void)a;
  (void)alen;
  q_push(&((worker *)user)->to_client, d, len);
  return 0;
}
static void srv_done(void *user, sdtls_conn *c) {
  (void)c;
  ((worker *)user)->server_done++;
}
static void srv_data(void *user, sdtls_conn *c, const uint8_t *d, size_t len) {
  sdtls_conn_send(c, d, len, ((worker *)user)->now); /* echo */
}

static void fail(worker *w, const char *what, int rc) {
  if (w->failures++ == 0) snprintf(w->failure, sizeof(w->failure), "%s: %s", what, sdtls_strerror(rc));
}

static void pump(worker *w, const struct sockaddr_in *addr) {
  for (int i = 0; i < 1000 && (w->to_server.n || w->to_client.n); i++) {
    q in = w->to_server;
    w->to_server.n = 0;
    for (size_t k = 0; k < in.n; k++)
      sdtls_server_receive(w->server, (const uint8_t *)addr, sizeof(*addr), in.data[k], in.len[k], w->now);
    in = w->to_client;
    w->to_client.n = 0;
    for (size_t k = 0; k < in.n; k++) sdtls_conn_receive(w->client, in.data[k], in.len[k], w->now);
    w->now += MS;
  }
}

static void *work(void *arg) {
  worker *w = arg;
  w->now = UINT64_C(1000000000000) + (uint64_t)w->id * 1000 * MS;
  sdtls_server_callbacks scb = {sizeof(scb), srv_send, NULL, srv_done, srv_data, NULL};
  sdtls_callbacks ccb = {sizeof(ccb), cli_send, cli_done, cli_data, NULL};
  pthread_barrier_wait(&start_line);
  /* Every thread races to be the first user: the config freezes once. */
  int rc = sdtls_server_new(shared, &scb, w, &w->server);
  if (rc != 0) {
    fail(w, "server_new", rc);
    return NULL;
  }
  for (int round = 0; round < ROUNDS; round++) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)(2000 + round));
    addr.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)w->id);
    rc = sdtls_conn_new(shared, SDTLS_ROLE_CLIENT, &ccb, w, &w->client);
    if (rc != 0) {
      fail(w, "conn_new", rc);
      break;
    }
    if ((rc = sdtls_conn_start(w->client, w->now)) != 0) fail(w, "start", rc);
    pump(w, &addr);
    if (sdtls_conn_state(w->client) != SDTLS_STATE_CONNECTED) fail(w, "handshake", sdtls_conn_error(w->client));
    if ((rc = sdtls_conn_send(w->client, (const uint8_t *)"ping", 4, w->now)) != 0) fail(w, "send", rc);
    pump(w, &addr);
    sdtls_conn_close(w->client, w->now);
    pump(w, &addr);
    sdtls_conn_free(w->client);
    w->client = NULL;

    /* The thread-safe functions, meanwhile. */
    int64_t mtu;
    if (sdtls_config_get_option(shared, SDTLS_OPT_MTU, &mtu) != 0 || mtu != 1200) fail(w, "get_option", -1);
    if (sdtls_config_set_option(shared, SDTLS_OPT_MTU, 1000) != SDTLS_E_FROZEN) fail(w, "set_option", -1);
    char *cert = NULL, *key = NULL;
    uint8_t fp[32];
    char text[96];
    if ((rc = sdtls_certificate_generate("thread.test", 1, &cert, &key)) != 0 ||
        (rc = sdtls_certificate_fingerprint_sha256((const uint8_t *)cert, strlen(cert), fp)) != 0 ||
        (rc = sdtls_fingerprint_format(fp, text, sizeof(text))) != 0)
      fail(w, "certificates", rc);
    sdtls_free(cert);
    sdtls_free(key);
    (void)sdtls_strerror(SDTLS_E_TIMEOUT);
    (void)sdtls_version(NULL);
  }
  sdtls_server_free(w->server);
  return NULL;
}

static void test_shared_config(void) {
  testcert cert;
  REQUIRE(testcert_ecdsa("threads.test", &cert) == 0);
  REQUIRE(sdtls_config_new(&shared) == 0);
  REQUIRE(sdtls_config_set_certificate_pem(shared, (const uint8_t *)cert.cert_pem, testcert_cert_len(&cert),
                                           (const uint8_t *)cert.key_pem, testcert_key_len(&cert)) == 0);
  REQUIRE(sdtls_config_set_option(shared, SDTLS_OPT_VERIFY_PEER, 0) == 0);
  REQUIRE(sdtls_config_set_keylog(shared, keylog, NULL) == 0);
  pthread_barrier_init(&start_line, NULL, THREADS);
  static worker w[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    memset(&w[i], 0, sizeof(w[i]));
    w[i].id = i;
    REQUIRE(pthread_create(&t[i], NULL, work, &w[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&start_line);
  for (int i = 0; i < THREADS; i++) {
    CHECKF(w[i].failures == 0, "thread %d: %d failures, first: %s", i, w[i].failures, w[i].failure);
    CHECK_EQ(w[i].client_done, ROUNDS);
    CHECK_EQ(w[i].server_done, ROUNDS);
    CHECK_EQ(w[i].echoes, ROUNDS);
  }
  /* One CLIENT_RANDOM (or CLIENT_TRAFFIC_SECRET_0) line per side and handshake. */
  CHECK_EQ(atomic_load(&keylog_lines), 2 * THREADS * ROUNDS);
  printf("threads: %d threads x %d handshakes on one config, %d key log lines\n", THREADS, ROUNDS,
         atomic_load(&keylog_lines));
  sdtls_config_free(shared);
  testcert_free(&cert);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {{"shared_config", test_shared_config}};
  return check_main(tests, 1, argc, argv);
}

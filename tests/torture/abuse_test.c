/* SPDX-License-Identifier: Apache-2.0 */
/* Abuse through the public API (tests/server/server_test.c covers more of
 * sdtls_server: limits, junk from a known peer, cookie checks):
 *   - a spoofed ClientHello flood: no connection, no memory, no answer
 *     larger than the request; the rate is printed;
 *   - handshake fragment floods at a server connection: fragments of large
 *     messages that never complete, for many message numbers, and one
 *     oversized message: memory stays bounded;
 *   - datagrams after close and after failure: no callback, the end's code.
 *
 * The heap is read as torture_test.c does (mallinfo2() with glibc's
 * per-thread cache off; ASan's counter under ASan). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "heap.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"


#define SEC NETSIM_SEC

static testcert cert;

typedef struct sink {
  size_t sends, too_big, request_len, bytes;
  int callbacks;
} sink;

static int srv_send(void *user, const uint8_t *a, size_t alen, const uint8_t *d, size_t len) {
  (void)a;
  (void)alen;
  (void)d;
  sink *s = user;
  s->sends++;
  s->bytes += len;
  if (len > s->request_len) s->too_big++;
  return 0;
}
static void srv_connect(void *user, sdtls_conn *c, const uint8_t *a, size_t alen) {
  (void)c;
  (void)a;
  (void)alen;
  ((sink *)user)->callbacks++;
}

static size_t client_hello(uint8_t *out, size_t cap) {
  netsim *sim = netsim_new(3, SEC);
  peer p;
  peer_init(&p, sim, NETSIM_A, "client");
  sdtls_config *cc = config_make(NULL, 0, NULL);
  size_t n = 0;
  if (cc != NULL && peer_connect_new(&p, cc, SDTLS_ROLE_CLIENT) == 0 && sdtls_conn_start(p.conn, SEC) == 0 &&
      netsim_captured_count(sim, NETSIM_A) == 1) {
    netsim_datagram d = netsim_captured(sim, NETSIM_A, 0);
    if (d.len <= cap) {
      memcpy(out, d.data, d.len);
      n = d.len;
    }
  }
  peer_cleanup(&p);
  sdtls_config_free(cc);
  netsim_free(sim);
  return n;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_spoofed_client_hello_flood(void) {
  uint8_t ch[2048];
  size_t n = client_hello(ch, sizeof(ch));
  REQUIRE(n > 0);
  sdtls_config *sc = config_make(&cert, 0, NULL);
  REQUIRE(sc != NULL);
  sink s;
  memset(&s, 0, sizeof(s));
  s.request_len = n;
  sdtls_server_callbacks cb = {sizeof(cb), srv_send, srv_connect, NULL, NULL, NULL};
  sdtls_server *server = NULL;
  REQUIRE(sdtls_server_new(sc, &cb, &s, &server) == 0);
#ifdef HAVE_ASAN
  const unsigned kFlood = 20000;
#else
  const unsigned kFlood = 200000;
#endif
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  for (unsigned i = 0; i < 100; i++) { /* warm-up */
    a.sin_addr.s_addr = htonl(0x0a000000u + i);
    sdtls_server_receive(server, (const uint8_t *)&a, sizeof(a), ch, n, SEC);
  }
  size_t before = heap_in_use();
  double t0 = seconds();
  for (unsigned i = 0; i < kFlood; i++) {
    a.sin_addr.s_addr = htonl(0x0b000000u + i);
    a.sin_port = htons((uint16_t)(1 + i % 65000));
    CHECK_EQ(sdtls_server_receive(server, (const uint8_t *)&a, sizeof(a), ch, n, SEC + i), 0);
  }
  double dt = seconds() - t0;
  long long grew = (long long)heap_in_use() - (long long)before;
  printf("abuse: %u spoofed ClientHellos (%zu bytes each) in %.2f s: %.0f per second on one core; "
         "%zu answers, %.2f bytes out per byte in, heap %+lld bytes\n",
         kFlood, n, dt, kFlood / dt, s.sends - 100, (double)s.bytes / ((double)(kFlood + 100) * (double)n), grew);
  CHECK_EQ(s.too_big, 0);
  CHECK_EQ(s.callbacks, 0);
  CHECK_EQ(sdtls_server_counter_get(server, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(sdtls_server_counter_get(server, SDTLS_COUNTER_CONNECTIONS_CREATED), 0);
  CHECKF(grew < 16384, "the heap grew by %lld bytes", grew);
  sdtls_server_free(server);
  sdtls_config_free(sc);
}

/* One handshake record at epoch 0 holding one fragment. */
static size_t fragment(uint8_t *out, uint64_t rseq, uint8_t type, uint32_t msg_len, uint16_t msg_seq,
                       uint32_t frag_off, uint32_t frag_len) {
  uint8_t *p = out;
  *p++ = 22;
  *p++ = 0xfe;
  *p++ = 0xfd;
  *p++ = 0;
  *p++ = 0;
  for (int i = 5; i >= 0; i--) *p++ = (uint8_t)(rseq >> (8 * i));
  uint16_t rec_len = (uint16_t)(12 + frag_len);
  *p++ = (uint8_t)(rec_len >> 8);
  *p++ = (uint8_t)rec_len;
  *p++ = type;
  *p++ = (uint8_t)(msg_len >> 16);
  *p++ = (uint8_t)(msg_len >> 8);
  *p++ = (uint8_t)msg_len;
  *p++ = (uint8_t)(msg_seq >> 8);
  *p++ = (uint8_t)msg_seq;
  *p++ = (uint8_t)(frag_off >> 16);
  *p++ = (uint8_t)(frag_off >> 8);
  *p++ = (uint8_t)frag_off;
  *p++ = (uint8_t)(frag_len >> 16);
  *p++ = (uint8_t)(frag_len >> 8);
  *p++ = (uint8_t)frag_len;
  memset(p, 0x41, frag_len);
  return (size_t)(p - out) + frag_len;
}

static int nop_send(void *user, const uint8_t *d, size_t len) {
  (void)d;
  (void)len;
  ((sink *)user)->sends++;
  return 0;
}
static void count_cb(void *user) { ((sink *)user)->callbacks++; }
static void count_data(void *user, const uint8_t *d, size_t len) {
  (void)d;
  (void)len;
  ((sink *)user)->callbacks++;
}
static void count_close(void *user, int reason) {
  (void)reason;
  ((sink *)user)->callbacks++;
}

static void test_fragment_floods(void) {
  sdtls_config *sc = config_make(&cert, 0, NULL);
  REQUIRE(sc != NULL);
  sdtls_callbacks cb = {sizeof(cb), nop_send, count_cb, count_data, count_close};
  uint8_t d[1300];
  size_t worst = 0;
  for (int pattern = 0; pattern < 3; pattern++) {
    sink s;
    memset(&s, 0, sizeof(s));
    sdtls_conn *c = NULL;
    REQUIRE(sdtls_conn_new(sc, SDTLS_ROLE_SERVER, &cb, &s, &c) == 0);
    size_t before = heap_in_use();
    uint64_t rseq = 0;
    for (unsigned i = 0; i < 20000 && sdtls_conn_state(c) != SDTLS_STATE_FAILED; i++) {
      size_t n;
      if (pattern == 0) {
        /* Never-completing 16 KB ClientHellos, message numbers 0..999. */
        n = fragment(d, rseq++, 1, 16000, (uint16_t)(i % 1000), (i * 977u) % 15000, 1000);
      } else if (pattern == 1) {
        /* One message, overlapping fragments at every offset. */
        n = fragment(d, rseq++, 1, 16000, 0, (i * 13u) % 15900, 100);
      } else {
        /* A message announced at 16 MB. */
        n = fragment(d, rseq++, 1, 0xffffff, 0, (i * 1000u) % 0xfff000, 1000);
      }
      sdtls_conn_receive(c, d, n, SEC + i);
      size_t used = heap_in_use() - before;
      if (used > worst) worst = used;
    }
    CHECK_EQ(s.callbacks == 0 || sdtls_conn_state(c) == SDTLS_STATE_FAILED, 1);
    if (pattern == 2) CHECK_EQ(sdtls_conn_state(c), SDTLS_STATE_FAILED); /* excessive message size */
    sdtls_conn_free(c);
  }
  printf("abuse: fragment floods (20000 datagrams each): at most %zu bytes held by one connection\n", worst);
  CHECKF(worst < 256 * 1024, "a fragment flood held %zu bytes", worst);
  sdtls_config_free(sc);
}

static void test_datagrams_after_the_end(void) {
  fixture fx;
  REQUIRE(fixture_init(&fx, 5, SEC, config_make(NULL, 0, NULL), config_make(&cert, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  REQUIRE(pair_handshake(fx.p, 10 * SEC));
  /* Record a datagram of each side, then close both. */
  size_t na = netsim_captured_count(fx.sim, NETSIM_A), nb = netsim_captured_count(fx.sim, NETSIM_B);
  REQUIRE(na > 0 && nb > 0);
  netsim_datagram from_client = netsim_captured(fx.sim, NETSIM_A, na - 1);
  netsim_datagram from_server = netsim_captured(fx.sim, NETSIM_B, nb - 1);
  const sdtls_time now = netsim_now(fx.sim);
  CHECK_EQ(sdtls_conn_close(CLIENT(&fx), now), 0);
  netsim_run_for(fx.sim, SEC);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CLOSED); /* the close_notify arrived */
  const int closes[2] = {fx.p[0].close_calls, fx.p[1].close_calls};
  const int sends[2] = {fx.p[0].send_calls, fx.p[1].send_calls};
  for (int i = 0; i < 50; i++) {
    CHECK_EQ(sdtls_conn_receive(CLIENT(&fx), from_server.data, from_server.len, now + SEC), SDTLS_E_CLOSED);
    CHECK_EQ(sdtls_conn_receive(SERVER(&fx), from_client.data, from_client.len, now + SEC), SDTLS_E_CLOSED);
    CHECK_EQ(sdtls_conn_handle_timeout(CLIENT(&fx), now + 100 * SEC), SDTLS_E_CLOSED);
  }
  CHECK_EQ(fx.p[0].close_calls, closes[0]);
  CHECK_EQ(fx.p[1].close_calls, closes[1]);
  CHECK_EQ(fx.p[0].send_calls, sends[0]);
  CHECK_EQ(fx.p[1].send_calls, sends[1]);
  CHECK_EQ(sdtls_conn_next_deadline(CLIENT(&fx)), SDTLS_TIME_NEVER);
  fixture_teardown(&fx);
}

int main(int argc, char **argv) {
#ifndef HAVE_ASAN
  if (getenv("GLIBC_TUNABLES") == NULL) {
    setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
    execv("/proc/self/exe", argv);
  }
#endif
  if (testcert_ecdsa("abuse.test", &cert) != 0) return 1;
  static const check_test tests[] = {
      {"spoofed_client_hello_flood", test_spoofed_client_hello_flood},
      {"fragment_floods", test_fragment_floods},
      {"datagrams_after_the_end", test_datagrams_after_the_end},
  };
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&cert);
  return rc;
}

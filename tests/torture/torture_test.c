/* SPDX-License-Identifier: Apache-2.0 */
/* Fault-injection torture: seeded runs of a verifying sdtls client against
 * an sdtls_server (cookie exchange on) over the network simulator, per
 * impairment profile. Virtual time only: nothing sleeps.
 *
 * Each run checks:
 *   - the handshake completes, or the client fails with SDTLS_E_TIMEOUT
 *     (the corruption profile may also end with the alert or verification
 *     failure a damaged, not yet authenticated handshake message causes),
 *     no later than its handshake deadline (plus the last clock jump);
 *   - application data then sent both ways arrives intact (a
 *     self-checking payload), only if it was sent, and at most once;
 *   - the server has no connection left once the client is gone and its
 *     timeouts have passed (a half-open handshake is evicted);
 *   - the heap returns to its level before the run once everything is freed.
 * It prints the completion rate per profile; the 30% loss profile must
 * complete at least 99.9% of its runs.
 *
 *   torture_test [RUNS [PROFILE]]   (default 1000 runs; SDTLS_TORTURE_RUNS too)
 *
 * Timers in the test configs (said here because the rates depend on them):
 * first retransmission after 25 ms (default 1 s), handshake timeout 60 s
 * (default 30 s), idle timeout 20 s; the loss30 link's round trip is
 * 10-20 ms. At 30% loss each way a round trip fails 51% of the time, and
 * the engine doubles its timer from the first value and gives up after 12
 * timeouts, so what decides completion is how many retransmissions fit in
 * the handshake timeout: 1000 runs complete 93.3% with the defaults,
 * 99.4% with 100 ms / 60 s and 99.9% with 25 ms / 60 s (13 attempts per
 * flight, the engine's maximum).
 *
 * The heap is read with mallinfo2() (ASan's counter under ASan), with
 * glibc's per-thread cache off (the program re-executes itself with
 * GLIBC_TUNABLES=glibc.malloc.tcache_count=0): cached chunks count as in
 * use and would hide the level. */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define MS NETSIM_MS
#define SEC NETSIM_SEC
#define INITIAL_TIMEOUT_MS 25
#define HANDSHAKE_TIMEOUT_MS 60000
#define IDLE_TIMEOUT_MS 20000
#define N_MSGS 16
#define MSG_LEN 200

static size_t heap_in_use(void) {
#ifdef HAVE_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

enum special { PLAIN, VANISH, CLOCK_JUMPS };

typedef struct profile {
  const char *name;
  netsim_link link;
  int mtu;    /* 0: default */
  int rsa;    /* the RSA-2048 certificate (more fragments) */
  enum special special;
  int corrupt; /* other failures than a timeout are legitimate */
  double min_rate; /* required completion rate, 0..1 */
} profile;

static const profile profiles[] = {
    {"loss10", {.drop = 0.10, .delay_ns = 10 * MS, .jitter_ns = 10 * MS}, 0, 0, PLAIN, 0, 0.999},
    {"loss30", {.drop = 0.30, .delay_ns = 5 * MS, .jitter_ns = 5 * MS}, 0, 0, PLAIN, 0, 0.999},
    {"reorder", {.reorder = 0.30, .delay_ns = 10 * MS, .jitter_ns = 20 * MS}, 0, 0, PLAIN, 0, 1.0},
    {"duplicate", {.duplicate = 0.30, .delay_ns = 10 * MS, .jitter_ns = 10 * MS}, 0, 0, PLAIN, 0, 1.0},
    {"corrupt1", {.corrupt = 0.01, .delay_ns = 10 * MS, .jitter_ns = 10 * MS}, 0, 0, PLAIN, 1, 0.95},
    {"mtu256", {.max_size = 256, .drop = 0.05, .delay_ns = 10 * MS, .jitter_ns = 10 * MS}, 256, 1, PLAIN, 0,
     0.999},
    {"vanish", {.delay_ns = 10 * MS, .jitter_ns = 10 * MS}, 0, 0, VANISH, 0, 0.0},
    {"clockjump", {.drop = 0.05, .delay_ns = 10 * MS, .jitter_ns = 10 * MS}, 0, 0, CLOCK_JUMPS, 0, 0.9},
};
#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

/* ---- one run ---- */

typedef struct run {
  netsim *sim;
  const profile *pf;
  sdtls_server *server;
  sdtls_conn *client;
  sdtls_conn *server_conn; /* the server's connection, between on_connect and on_close */
  struct sockaddr_in client_addr;
  int client_done, server_done, client_closed, client_reason;
  sdtls_time client_end;
  int server_connects, server_closes;
  /* Payloads seen, per direction: [0] at the server (from the client). */
  unsigned char seen[2][N_MSGS];
  unsigned sent[2];
  int bad_payloads, dup_payloads, unsent_payloads;
  size_t mtu;
  int oversize;
} run;

static int client_send(void *user, const uint8_t *d, size_t len) {
  run *r = user;
  if (len > r->mtu) r->oversize++;
  return netsim_send(r->sim, NETSIM_A, d, len);
}
static void client_done(void *user) {
  run *r = user;
  r->client_done = 1;
  r->client_end = netsim_now(r->sim);
}
static void note_payload(run *r, int dir, const uint8_t *d, size_t len) {
  int idx = payload_check(d, len, dir);
  if (idx < 0) {
    r->bad_payloads++;
  } else if ((unsigned)idx >= r->sent[dir]) {
    r->unsent_payloads++;
  } else if (r->seen[dir][idx]++) {
    r->dup_payloads++;
  }
}
static void client_data(void *user, const uint8_t *d, size_t len) { note_payload(user, 1, d, len); }
static void client_close(void *user, int reason) {
  run *r = user;
  r->client_closed = 1;
  r->client_reason = reason;
  r->client_end = netsim_now(r->sim);
}

static int srv_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d, size_t len) {
  (void)addr;
  (void)addr_len;
  run *r = user;
  if (len > r->mtu) r->oversize++;
  return netsim_send(r->sim, NETSIM_B, d, len);
}
static void srv_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  (void)addr;
  (void)addr_len;
  run *r = user;
  r->server_connects++;
  r->server_conn = conn;
}
static void srv_done(void *user, sdtls_conn *conn) {
  (void)conn;
  ((run *)user)->server_done = 1;
}
static void srv_data(void *user, sdtls_conn *conn, const uint8_t *d, size_t len) {
  (void)conn;
  note_payload(user, 0, d, len);
}
static void srv_close(void *user, sdtls_conn *conn, int reason) {
  (void)reason;
  run *r = user;
  r->server_closes++;
  if (r->server_conn == conn) r->server_conn = NULL;
}

static int ep_receive(void *ctx, const uint8_t *d, size_t len, sdtls_time now) {
  run *r = ctx;
  return sdtls_server_receive(r->server, (const uint8_t *)&r->client_addr, sizeof(r->client_addr), d, len, now);
}
static sdtls_time ep_deadline(void *ctx) { return sdtls_server_next_deadline(((run *)ctx)->server); }
static int ep_timeout(void *ctx, sdtls_time now) { return sdtls_server_handle_timeout(((run *)ctx)->server, now); }
static const netsim_endpoint_ops server_ops = {ep_receive, ep_deadline, ep_timeout};

static int handshake_over(void *ctx) {
  run *r = ctx;
  return (r->client_done && r->server_done) || r->client_closed;
}

static int client_over(void *ctx) {
  run *r = ctx;
  return r->client_closed || r->client_done;
}

typedef struct outcome {
  int completed;
  int error; /* the client's error when it did not complete */
  int vanished; /* the client was taken away (profile vanish) */
  int failed_check;
} outcome;

#define RUN_CHECK(cond, ...)                                            \
  do {                                                                  \
    if (!(cond)) {                                                      \
      if (!o->failed_check) {                                           \
        fprintf(stderr, "%s seed %llu: ", pf->name, (unsigned long long)seed); \
        CHECK_FAIL_(__VA_ARGS__);                                       \
      }                                                                 \
      o->failed_check = 1;                                              \
    }                                                                   \
  } while (0)

static void one_run(const profile *pf, uint64_t seed, sdtls_config *cc, sdtls_config *sc,
                    const char *server_name, outcome *o) {
  memset(o, 0, sizeof(*o));
  run r;
  memset(&r, 0, sizeof(r));
  r.pf = pf;
  r.mtu = pf->mtu ? (size_t)pf->mtu : 1200;
  const sdtls_time start = 1000 * SEC + seed * 7 * MS;
  r.sim = netsim_new(seed * 1000003u + (uint64_t)(pf - profiles), start);
  if (r.sim == NULL) abort();
  netsim_set_link(r.sim, NETSIM_A, &pf->link);
  netsim_set_link(r.sim, NETSIM_B, &pf->link);
  r.client_addr.sin_family = AF_INET;
  r.client_addr.sin_port = htons((uint16_t)(1024 + seed % 60000));
  r.client_addr.sin_addr.s_addr = htonl(0x0a000001u);

  sdtls_server_callbacks scb = {sizeof(scb), srv_send, srv_connect, srv_done, srv_data, srv_close};
  if (sdtls_server_new(sc, &scb, &r, &r.server) != 0) abort();
  netsim_set_endpoint(r.sim, NETSIM_B, &server_ops, &r);
  sdtls_callbacks ccb = {sizeof(ccb), client_send, client_done, client_data, client_close};
  if (sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &ccb, &r, &r.client) != 0 ||
      sdtls_conn_set_server_name(r.client, server_name) != 0)
    abort();
  netsim_set_conn(r.sim, NETSIM_A, r.client);
  if (sdtls_conn_start(r.client, start) != 0) abort();
  const sdtls_time deadline = start + (sdtls_time)HANDSHAKE_TIMEOUT_MS * MS;
  sdtls_time slack = 0;
  int client_vanished = 0;

  if (pf->special == VANISH) {
    /* One side disappears after k datagrams have crossed. */
    const unsigned k = 1 + (unsigned)netsim_rand_below(r.sim, 6);
    const int server_goes = (int)netsim_rand_below(r.sim, 2);
    for (unsigned step = 0; step < 100000; step++) {
      uint64_t crossed = netsim_get_stats(r.sim, NETSIM_A)->delivered + netsim_get_stats(r.sim, NETSIM_B)->delivered;
      if (crossed >= k || handshake_over(&r)) break;
      if (netsim_run(r.sim, NULL, NULL, 2 * (deadline - start), 1) == NETSIM_IDLE) break; /* one event */
    }
    if (!handshake_over(&r)) {
      if (server_goes) {
        netsim_set_endpoint(r.sim, NETSIM_B, NULL, NULL);
        sdtls_server_free(r.server);
        r.server = NULL;
        r.server_conn = NULL;
      } else {
        netsim_set_conn(r.sim, NETSIM_A, NULL);
        sdtls_conn_free(r.client);
        r.client = NULL;
        client_vanished = 1;
      }
    }
    if (r.client != NULL) netsim_run(r.sim, client_over, &r, 2 * (deadline - start), 1000000u);
  } else if (pf->special == CLOCK_JUMPS) {
    /* The caller's clock leaps forward now and then (a suspended laptop, a
     * stalled event loop): up to 20 s at once. */
    for (int i = 0; i < 100000 && !handshake_over(&r); i++) {
      netsim_run(r.sim, handshake_over, &r, 100 * MS, 1000000u);
      if (!handshake_over(&r) && netsim_rand_below(r.sim, 10) == 0) {
        sdtls_time jump = netsim_rand_below(r.sim, 20 * SEC);
        netsim_advance(r.sim, netsim_now(r.sim) + jump);
        slack = jump;
      }
      if (netsim_now(r.sim) > deadline + 40 * SEC) break;
    }
  } else {
    netsim_run(r.sim, handshake_over, &r, 2 * (deadline - start), 1000000u);
  }

  if (r.client != NULL) {
    o->completed = r.client_done && sdtls_conn_state(r.client) == SDTLS_STATE_CONNECTED;
    if (o->completed && r.server != NULL && !r.server_done) {
      /* The client is through; the server completes on the client's next
       * flight or retransmission. */
      netsim_run(r.sim, handshake_over, &r, 10 * SEC, 1000000u);
    }
    o->completed = o->completed && r.server_done;
    o->error = sdtls_conn_error(r.client);
    if (getenv("SDTLS_TORTURE_VERBOSE") && !o->completed)
      fprintf(stderr, "%s seed %llu: client %d server %d, %s (%s) at +%.1f s, sent %llu/%llu\n", pf->name,
              (unsigned long long)seed, r.client_done, r.server_done, sdtls_strerror(o->error),
              sdtls_conn_error_detail(r.client), (double)(r.client_end - start) / 1e9,
              (unsigned long long)netsim_get_stats(r.sim, NETSIM_A)->sent,
              (unsigned long long)netsim_get_stats(r.sim, NETSIM_B)->sent);
    RUN_CHECK(r.client_done || r.client_closed, "the client neither connected nor failed (state %d)",
              (int)sdtls_conn_state(r.client));
    RUN_CHECK(r.client_end <= deadline + slack, "the client ended %.3f s after its handshake deadline",
              (double)(r.client_end - deadline) / 1e9);
    if (!r.client_done && r.client_closed) {
      int ok = o->error == SDTLS_E_TIMEOUT ||
               (pf->corrupt && (o->error == SDTLS_E_ALERT || o->error == SDTLS_E_PROTOCOL ||
                                o->error == SDTLS_E_VERIFY));
      RUN_CHECK(ok, "the client failed with %s (%s)", sdtls_strerror(o->error), sdtls_conn_error_detail(r.client));
      RUN_CHECK(r.client_reason == o->error, "on_close reason %d, error %d", r.client_reason, o->error);
    }
  }
  RUN_CHECK(r.oversize == 0, "%d datagrams over the MTU", r.oversize);

  if (o->completed && r.server_conn != NULL) {
    /* Application data both ways, over the same impaired link. */
    uint8_t buf[MSG_LEN];
    for (unsigned i = 0; i < N_MSGS; i++) {
      payload_make(buf, sizeof(buf), 0, i);
      r.sent[0]++;
      RUN_CHECK(sdtls_conn_send(r.client, buf, sizeof(buf), netsim_now(r.sim)) == 0, "client send");
      payload_make(buf, sizeof(buf), 1, i);
      r.sent[1]++;
      if (r.server_conn != NULL)
        RUN_CHECK(sdtls_conn_send(r.server_conn, buf, sizeof(buf), netsim_now(r.sim)) == 0, "server send");
      netsim_run_for(r.sim, 5 * MS);
    }
    netsim_run_for(r.sim, 2 * SEC);
    RUN_CHECK(r.bad_payloads == 0, "%d damaged payloads delivered", r.bad_payloads);
    RUN_CHECK(r.dup_payloads == 0, "%d payloads delivered twice", r.dup_payloads);
    RUN_CHECK(r.unsent_payloads == 0, "%d payloads delivered that were never sent", r.unsent_payloads);
    if (pf->link.drop == 0 && pf->link.corrupt == 0 && pf->link.max_size == 0) {
      for (int dir = 0; dir < 2; dir++)
        for (unsigned i = 0; i < N_MSGS; i++)
          RUN_CHECK(r.seen[dir][i] == 1, "payload %u (direction %d) lost on a lossless link", i, dir);
    }
  }

  /* The client goes away; the server must forget it by its timeouts. */
  if (r.client != NULL) {
    netsim_set_conn(r.sim, NETSIM_A, NULL);
    sdtls_conn_free(r.client);
    r.client = NULL;
  }
  if (r.server != NULL) {
    netsim_run_for(r.sim, (sdtls_time)(HANDSHAKE_TIMEOUT_MS + IDLE_TIMEOUT_MS) * MS + SEC);
    RUN_CHECK(sdtls_server_counter_get(r.server, SDTLS_COUNTER_PEERS) == 0,
              "the server still holds %llu peers after its timeouts",
              (unsigned long long)sdtls_server_counter_get(r.server, SDTLS_COUNTER_PEERS));
    RUN_CHECK(r.server_connects == r.server_closes, "%d on_connect, %d on_close", r.server_connects,
              r.server_closes);
    RUN_CHECK(sdtls_server_next_deadline(r.server) == SDTLS_TIME_NEVER, "a timer left on an empty server");
    netsim_set_endpoint(r.sim, NETSIM_B, NULL, NULL);
    sdtls_server_free(r.server);
  }
  o->vanished = client_vanished;
  netsim_free(r.sim);
}

/* ---- profiles ---- */

static sdtls_config *make_config(const testcert *own, const testcert *trust, int mtu) {
  sdtls_config *c = config_make(own, 1, trust);
  if (c == NULL) return NULL;
  sdtls_config_set_option(c, SDTLS_OPT_INITIAL_TIMEOUT_MS, INITIAL_TIMEOUT_MS);
  sdtls_config_set_option(c, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS);
  sdtls_config_set_option(c, SDTLS_OPT_IDLE_TIMEOUT_MS, IDLE_TIMEOUT_MS);
  if (mtu) sdtls_config_set_option(c, SDTLS_OPT_MTU, mtu);
  return c;
}

static unsigned runs_per_profile = 1000;
static const char *only_profile;

static void run_profile(const profile *pf) {
  testcert cert;
  const char *name = pf->rsa ? "rsa.test" : "torture.test";
  int rc = pf->rsa ? testcert_rsa(&cert) : testcert_ecdsa(name, &cert);
  REQUIREF(rc == 0, "no test certificate");
  sdtls_config *sc = make_config(&cert, NULL, pf->mtu);
  sdtls_config *cc = make_config(NULL, &cert, pf->mtu);
  REQUIRE(sc != NULL && cc != NULL);

  unsigned completed = 0, timeouts = 0, other = 0, failed_checks = 0, vanished = 0;
  size_t baseline = 0, worst = 0;
  outcome o;
  for (uint64_t seed = 0; seed < runs_per_profile; seed++) {
    one_run(pf, seed, cc, sc, name, &o);
    /* The first run warms the engine's lazy state up; then every run
     * must return the heap to where it was. */
    size_t now_in_use = heap_in_use();
    if (seed == 0) {
      baseline = now_in_use;
    } else if (now_in_use > baseline && now_in_use - baseline > worst) {
      worst = now_in_use - baseline;
    }
    if (getenv("SDTLS_TORTURE_HEAP") != NULL)
      printf("heap after run %llu: %+lld\n", (unsigned long long)seed, (long long)now_in_use - (long long)baseline);
    completed += o.completed;
    if (!o.completed) {
      if (o.vanished) {
        vanished++;
      } else if (o.error == SDTLS_E_TIMEOUT) {
        timeouts++;
      } else {
        other++;
      }
    }
    failed_checks += o.failed_check;
  }
  const double rate = (double)completed / runs_per_profile;
  printf("torture: %-10s %4u runs: %6.2f%% completed, %u timed out, %u other failures", pf->name,
         runs_per_profile, 100.0 * rate, timeouts, other);
  if (pf->special == VANISH) printf(", %u clients vanished", vanished);
  printf("; heap +%zu bytes at most after free\n", worst);
  fflush(stdout);
  CHECKF(failed_checks == 0, "%s: %u runs failed their checks", pf->name, failed_checks);
  CHECKF(worst <= 4096, "%s: the heap grew by %zu bytes over the runs", pf->name, worst);
  if (runs_per_profile >= 1000 || pf->min_rate >= 1.0) {
    CHECKF(rate >= pf->min_rate, "%s: completion %.1f%% < %.1f%%", pf->name, 100 * rate, 100 * pf->min_rate);
  }
  if (pf->special == VANISH) {
    CHECKF(other == 0, "vanish: %u failures other than timeouts", other);
  }
  sdtls_config_free(cc);
  sdtls_config_free(sc);
  testcert_free(&cert);
}

#define PROFILE_TEST(i)                                                                  \
  static void test_##i(void) {                                                           \
    if (only_profile == NULL || strcmp(only_profile, profiles[i].name) == 0) run_profile(&profiles[i]); \
  }
PROFILE_TEST(0)
PROFILE_TEST(1)
PROFILE_TEST(2)
PROFILE_TEST(3)
PROFILE_TEST(4)
PROFILE_TEST(5)
PROFILE_TEST(6)
PROFILE_TEST(7)

int main(int argc, char **argv) {
#ifndef HAVE_ASAN
  if (getenv("GLIBC_TUNABLES") == NULL) {
    setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
    execv("/proc/self/exe", argv);
    perror("re-executing with GLIBC_TUNABLES"); /* measure anyway */
  }
#endif
  const char *env = getenv("SDTLS_TORTURE_RUNS");
  if (env != NULL) runs_per_profile = (unsigned)strtoul(env, NULL, 10);
  if (argc > 1) runs_per_profile = (unsigned)strtoul(argv[1], NULL, 10);
  if (argc > 2) only_profile = argv[2];
  if (runs_per_profile == 0) runs_per_profile = 1;
  static const check_test tests[] = {
      {"loss10", test_0},  {"loss30", test_1}, {"reorder", test_2}, {"duplicate", test_3},
      {"corrupt1", test_4}, {"mtu256", test_5}, {"vanish", test_6}, {"clockjump", test_7},
  };
  _Static_assert(sizeof(tests) / sizeof(tests[0]) == N_PROFILES, "one test per profile");
  return check_main(tests, N_PROFILES, 1, argv);
}

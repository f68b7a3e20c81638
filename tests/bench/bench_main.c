/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark driver: the same code in every executable (see bench.h).
 *
 *   bench_<variant> [--round N] [--cases LIST] [--seconds S] [--count N]
 *                   [--sizes LIST] [--pairs N] [--peers N] [--quick]
 *
 * Prints one JSON object per line on stdout, one per figure:
 *   {"variant":"sdtls-shared","round":1,"metric":"handshakes_per_s","value":812.5,"unit":"1/s"}
 * A figure the variant cannot produce has "value":null and a "note".
 * Cases (LIST is comma-separated, default info,handshake,resume,data,server):
 *   info       negotiated protocol and cipher, datagrams of one handshake,
 *              size on the wire of a 16-byte record
 *   handshake  full handshakes/s: client+server made, handshake, freed
 *   resume     resumed handshakes/s (same, with a saved session)
 *   data       one-way records: the client writes one record of each size
 *              in --sizes, the server reads it: MB/s, records/s, allocations
 *   server     sdtls_server: HelloVerifyRequests/s and connections/s
 *   memory     --pairs established idle pairs: heap, RSS and live blocks
 *   server_memory  sdtls_server holding --peers established idle peers:
 *              heap and live blocks per peer (the clients are freed)
 * Each timed case runs for --seconds (after a warm-up of a tenth of that),
 * or exactly --count operations when --count is given (for callgrind, which
 * is then told to count only inside bench_measured()). Rates are per second
 * of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef BENCH_VARIANT
#error "BENCH_VARIANT must name the variant"
#endif
#define BENCH_PROG "bench[" BENCH_VARIANT "]"
#include "bench_util.h"

/* ---- options ---- */

static int opt_round = 1;
static double opt_seconds = 0.5;
static uint64_t opt_count; /* 0: timed */
static size_t opt_pairs = 10000;
static size_t opt_peers = 2000;
static char opt_cases[256] = "info,handshake,resume,data,server";
static char opt_sizes[256] = "16,1200,8000";

/* ---- small helpers ---- */

static uint64_t clock_ns(void) { return bench_clock_ns(CLOCK_MONOTONIC); }

/* CPU time of this thread: what the rates are computed from, so that other
 * processes on a shared machine cost the run wall-clock time but change
 * the figures less (caches and frequency are still shared). */
static uint64_t cpu_ns(void) { return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID); }

uint64_t bench_cached_now;

static void tick(void) { bench_cached_now = clock_ns(); }

static void emit(const char *metric, double value, const char *unit) {
  printf("{\"variant\":\"%s\",\"round\":%d,\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n",
         BENCH_VARIANT, opt_round, metric, value, unit);
  fflush(stdout);
}

static void emit_na(const char *metric, const char *unit, const char *note) {
  printf("{\"variant\":\"%s\",\"round\":%d,\"metric\":\"%s\",\"value\":null,\"unit\":\"%s\","
         "\"note\":\"%s\"}\n",
         BENCH_VARIANT, opt_round, metric, unit, note);
  fflush(stdout);
}

static bool has_case(const char *name) {
  size_t n = strlen(name);
  for (const char *p = opt_cases; *p != '\0';) {
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) {
      return true;
    }
    p += len + (end != NULL);
  }
  return false;
}

/* ---- the wire ---- */

uint64_t bench_wire_datagrams, bench_wire_bytes;
static bench_datagram *pool;

static void pool_grow(size_t n) {
  for (size_t i = 0; i < n; i++) {
    bench_datagram *d = malloc(sizeof(*d));
    if (d == NULL) {
      bench_die("out of memory");
    }
    d->next = pool;
    pool = d;
  }
}

void bench_inbox_push(bench_inbox *inbox, const uint8_t *data, size_t len) {
  if (len > BENCH_MAX_DATAGRAM) {
    bench_die("datagram of %zu bytes is larger than the wire carries", len);
  }
  if (pool == NULL) {
    pool_grow(16); /* not expected once warmed up: flights are a few datagrams */
  }
  bench_datagram *d = pool;
  pool = d->next;
  d->next = NULL;
  d->len = len;
  memcpy(d->data, data, len);
  if (inbox->tail != NULL) {
    inbox->tail->next = d;
  } else {
    inbox->head = d;
  }
  inbox->tail = d;
  bench_wire_datagrams++;
  bench_wire_bytes += len;
}

bench_datagram *bench_inbox_pop(bench_inbox *inbox) {
  bench_datagram *d = inbox->head;
  if (d != NULL) {
    inbox->head = d->next;
    if (inbox->head == NULL) {
      inbox->tail = NULL;
    }
  }
  return d;
}

void bench_datagram_release(bench_datagram *d) {
  d->next = pool;
  pool = d;
}

void bench_inbox_clear(bench_inbox *inbox) {
  bench_datagram *d;
  while ((d = bench_inbox_pop(inbox)) != NULL) {
    bench_datagram_release(d);
  }
}

/* ---- for the backends ---- */

int bench_pair_once(int (*init)(bench_pair *p), int (*before)(bench_pair *p),
                    int (*after)(bench_pair *p), void (*destroy)(bench_pair *p)) {
  static bench_pair *p; /* made once, at the first call (the backend's init) */
  if (p == NULL && (p = malloc(bench_impl.pair_size)) == NULL) {
    bench_die("out of memory");
  }
  memset(p, 0, bench_impl.pair_size);
  int rc = init(p);
  if (rc == 0 && before != NULL) {
    rc = before(p);
  }
  if (rc == 0) {
    rc = bench_impl.pair_handshake(p);
  }
  if (rc == 0) {
    rc = after(p);
  }
  destroy(p);
  return rc;
}

/* ---- measuring ---- */

typedef int (*unit_fn)(void *ctx, uint64_t i);

/* The measured operations and nothing else: `--toggle-collect=bench_measured`
 * makes callgrind count exactly these. noipa: at -O3 GCC would otherwise
 * clone it under another name (bench_measured.constprop.0), which the
 * toggle does not match. */
__attribute__((noinline, noipa)) void bench_measured(unit_fn fn, void *ctx, uint64_t first, uint64_t n);
__attribute__((noinline, noipa)) void bench_measured(unit_fn fn, void *ctx, uint64_t first, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    int rc = fn(ctx, first + k);
    if (rc != 0) {
      bench_die("operation %llu failed (%d)", (unsigned long long)(first + k), rc);
    }
  }
}

typedef struct result {
  double seconds; /* thread CPU time */
  uint64_t ops;
  uint64_t allocs;
} result;

/* Runs `fn` with indexes from *next on: a warm-up, then the measurement.
 * Timed: batches that double while they take under 5 ms, until
 * opt_seconds of wall-clock time have passed; the result is the thread's
 * CPU time over them. Fixed (--count): exactly opt_count operations in one
 * call of bench_measured(). */
static result measure(unit_fn fn, void *ctx, uint64_t *next) {
  result r = {0, 0, 0};
  /* The warm-up calls `fn` here, not through bench_measured(), so that
   * callgrind does not count it. */
  uint64_t warm_end = clock_ns() + (uint64_t)(opt_seconds * 0.1e9);
  uint64_t warm = 0;
  do {
    tick();
    int rc = fn(ctx, *next);
    if (rc != 0) {
      bench_die("warm-up operation %llu failed (%d)", (unsigned long long)*next, rc);
    }
    (*next)++;
    warm++;
  } while (opt_count == 0 ? clock_ns() < warm_end || warm < 2 : warm < 3);

  uint64_t a0 = bench_alloc_calls;
  uint64_t c0 = cpu_ns();
  uint64_t t0 = clock_ns();
  if (opt_count > 0) {
    tick();
    bench_measured(fn, ctx, *next, opt_count);
    *next += opt_count;
    r.ops = opt_count;
  } else {
    uint64_t batch = 1;
    uint64_t end = t0 + (uint64_t)(opt_seconds * 1e9);
    for (;;) {
      uint64_t b0 = clock_ns();
      bench_cached_now = b0;
      bench_measured(fn, ctx, *next, batch);
      *next += batch;
      r.ops += batch;
      uint64_t b1 = clock_ns();
      if (b1 >= end) {
        break;
      }
      if (b1 - b0 < 5000000u) {
        batch *= 2;
      }
    }
  }
  r.seconds = (double)(cpu_ns() - c0) / 1e9;
  r.allocs = bench_alloc_calls - a0;
  return r;
}

/* ---- cases ---- */

static const bench_backend *be = &bench_impl;

static bench_pair *pair_alloc(void) {
  bench_pair *p = calloc(1, be->pair_size);
  if (p == NULL) {
    bench_die("out of memory");
  }
  return p;
}

static void pair_up(bench_pair *p, int mtu) {
  tick();
  if (be->pair_init(p, mtu) != 0) {
    bench_die("pair_init failed");
  }
  if (be->pair_handshake(p) != 0) {
    bench_die("handshake failed");
  }
}

static int unit_handshake(void *ctx, uint64_t i) {
  (void)i;
  bench_pair *p = ctx;
  memset(p, 0, be->pair_size);
  int rc = be->pair_init(p, BENCH_MTU_HANDSHAKE);
  if (rc == 0) {
    rc = be->pair_handshake(p);
  }
  be->pair_destroy(p);
  return rc;
}

static int unit_resumed(void *ctx, uint64_t i) {
  (void)ctx;
  (void)i;
  return be->resumed_handshake();
}

typedef struct send_ctx {
  bench_pair *pair;
  const uint8_t *data;
  size_t len;
} send_ctx;

static int unit_send(void *ctx, uint64_t i) {
  (void)i;
  send_ctx *s = ctx;
  return be->pair_send(s->pair, s->data, s->len);
}

static int unit_hello_verify(void *ctx, uint64_t i) {
  (void)ctx;
  return be->server_hello_verify(i);
}

static int unit_connection(void *ctx, uint64_t i) {
  (void)ctx;
  return be->server_connection(i);
}

static void case_info(void) {
  bench_pair *p = pair_alloc();
  tick();
  if (be->pair_init(p, BENCH_MTU_HANDSHAKE) != 0) {
    bench_die("pair_init failed");
  }
  uint64_t d0 = bench_wire_datagrams, b0 = bench_wire_bytes;
  if (be->pair_handshake(p) != 0) {
    bench_die("handshake failed");
  }
  uint64_t hs_datagrams = bench_wire_datagrams - d0, hs_bytes = bench_wire_bytes - b0;
  uint8_t msg[16] = "0123456789abcdef";
  b0 = bench_wire_bytes;
  if (be->pair_send(p, msg, sizeof(msg)) != 0) {
    bench_die("send failed");
  }
  uint64_t rec_bytes = bench_wire_bytes - b0;
  char info[512];
  be->pair_info(p, info, sizeof(info));
  be->pair_destroy(p);
  free(p);
  printf("{\"variant\":\"%s\",\"round\":%d,\"info\":{%s,\"handshake_datagrams\":%llu,"
         "\"handshake_bytes\":%llu,\"record16_wire_bytes\":%llu,\"mtu_handshake\":%d,"
         "\"mtu_data\":%d}}\n",
         BENCH_VARIANT, opt_round, info, (unsigned long long)hs_datagrams,
         (unsigned long long)hs_bytes, (unsigned long long)rec_bytes, BENCH_MTU_HANDSHAKE,
         BENCH_MTU_DATA);
  fflush(stdout);
}

static void case_handshake(void) {
  bench_pair *p = pair_alloc();
  uint64_t next = 0;
  result r = measure(unit_handshake, p, &next);
  free(p);
  emit("handshakes_per_s", (double)r.ops / r.seconds, "1/s");
  emit("handshake_allocs", (double)r.allocs / (double)r.ops, "allocs/handshake");
}

static void case_resume(void) {
  if (be->resumed_handshake == NULL) {
    emit_na("resumed_per_s", "1/s", be->resume_note);
    emit_na("resumed_allocs", "allocs/handshake", be->resume_note);
    return;
  }
  uint64_t next = 0;
  result r = measure(unit_resumed, NULL, &next);
  emit("resumed_per_s", (double)r.ops / r.seconds, "1/s");
  emit("resumed_allocs", (double)r.allocs / (double)r.ops, "allocs/handshake");
}

static void case_data(void) {
  bench_pair *p = pair_alloc();
  pair_up(p, BENCH_MTU_DATA);
  for (const char *s = opt_sizes; *s != '\0';) {
    char *end;
    unsigned long size = strtoul(s, &end, 10);
    if (end == s || size == 0 || size > 16384) {
      bench_die("bad --sizes");
    }
    s = *end == ',' ? end + 1 : end;
    /* Static, not from the heap: the engines check whether the record's
     * input overlaps their output buffer (a heap block), and which way
     * round the two addresses lie decides how many instructions that
     * takes; from the heap, that varied with each variant's heap history. */
    static uint8_t buf[16384];
    for (size_t k = 0; k < size; k++) {
      buf[k] = (uint8_t)(k * 131u + 7u);
    }
    send_ctx sc = {p, buf, size};
    uint64_t next = 0;
    result r = measure(unit_send, &sc, &next);
    char name[64];
    snprintf(name, sizeof(name), "data%lu_mb_per_s", size);
    emit(name, (double)r.ops * (double)size / r.seconds / 1e6, "MB/s");
    snprintf(name, sizeof(name), "data%lu_records_per_s", size);
    emit(name, (double)r.ops / r.seconds, "1/s");
    snprintf(name, sizeof(name), "data%lu_allocs", size);
    emit(name, (double)r.allocs / (double)r.ops, "allocs/record");
  }
  be->pair_destroy(p);
  free(p);
}

static void case_server(void) {
  static const char *const names[][2] = {{"server_hvr_per_s", "1/s"},
                                         {"server_hvr_allocs", "allocs/HVR"},
                                         {"server_conns_per_s", "1/s"},
                                         {"server_conn_allocs", "allocs/connection"}};
  if (be->server_setup == NULL) {
    for (size_t k = 0; k < 4; k++) {
      emit_na(names[k][0], names[k][1], be->server_note);
    }
    return;
  }
  tick();
  if (be->server_setup() != 0) {
    bench_die("server setup failed");
  }
  /* Addresses count on across warm-up and measurement: every ClientHello
   * and every connection comes from an address the server has not seen. */
  uint64_t next = 0;
  result r = measure(unit_hello_verify, NULL, &next);
  emit(names[0][0], (double)r.ops / r.seconds, names[0][1]);
  emit(names[1][0], (double)r.allocs / (double)r.ops, names[1][1]);
  r = measure(unit_connection, NULL, &next);
  emit(names[2][0], (double)r.ops / r.seconds, names[2][1]);
  emit(names[3][0], (double)r.allocs / (double)r.ops, names[3][1]);
  be->server_teardown();
}

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;
  if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2) {
    bench_die("cannot read /proc/self/statm");
  }
  fclose(f);
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void case_memory(void) {
  size_t n = opt_pairs;
  /* The harness's own memory comes first and is touched now, so the deltas
   * below are the libraries' alone (the inboxes are empty between calls). */
  uint8_t *pairs = malloc(n * be->pair_size);
  if (pairs == NULL) {
    bench_die("out of memory");
  }
  memset(pairs, 0, n * be->pair_size);
  bench_pair *warm = pair_alloc();
  pair_up(warm, BENCH_MTU_HANDSHAKE); /* lazily built engine state */
  be->pair_destroy(warm);
  free(warm);

  size_t heap0 = heap_in_use(), rss0 = rss_bytes();
  uint64_t live0 = bench_alloc_calls - bench_free_calls;
  for (size_t k = 0; k < n; k++) {
    pair_up((bench_pair *)(pairs + k * be->pair_size), BENCH_MTU_HANDSHAKE);
  }
  size_t heap1 = heap_in_use(), rss1 = rss_bytes();
  uint64_t live1 = bench_alloc_calls - bench_free_calls;
  emit("heap_per_pair", ((double)heap1 - (double)heap0) / (double)n, "B/pair");
  emit("rss_per_pair", ((double)rss1 - (double)rss0) / (double)n, "B/pair");
  emit("blocks_per_pair", ((double)live1 - (double)live0) / (double)n, "blocks/pair");
  emit("memory_pairs", (double)n, "pairs");
  for (size_t k = 0; k < n; k++) {
    be->pair_destroy((bench_pair *)(pairs + k * be->pair_size));
  }
  free(pairs);
}

/* The server's side alone: heap and live blocks per established idle peer
 * of one sdtls_server. Each peer is a new client address through the cookie
 * exchange and the handshake; the client is freed once established (its
 * memory is returned before the next one is made, so the delta is the
 * server's). */
static void case_server_memory(void) {
  if (be->server_peers_up == NULL) {
    emit_na("server_heap_per_peer", "B/peer", be->server_note);
    emit_na("server_blocks_per_peer", "blocks/peer", be->server_note);
    return;
  }
  size_t n = opt_peers;
  be->server_set_max_peers(n + 1);
  tick();
  if (be->server_setup() != 0) {
    bench_die("server setup failed");
  }
  /* One peer first, outside the span: lazily built engine and server state
   * (hash table growth is in the span, as it would be in a real server). */
  if (be->server_peers_up(0, 1) != 0) {
    bench_die("server peer setup failed");
  }
  size_t heap0 = heap_in_use();
  uint64_t live0 = bench_alloc_calls - bench_free_calls;
  if (be->server_peers_up(1, n) != 0) {
    bench_die("server peers setup failed");
  }
  size_t heap1 = heap_in_use();
  uint64_t live1 = bench_alloc_calls - bench_free_calls;
  emit("server_heap_per_peer", ((double)heap1 - (double)heap0) / (double)n, "B/peer");
  emit("server_blocks_per_peer", ((double)live1 - (double)live0) / (double)n, "blocks/peer");
  emit("server_memory_peers", (double)n, "peers");
  be->server_teardown();
  be->server_set_max_peers(0);
}

/* ---- main ---- */

static void usage(void) {
  fprintf(stderr,
          "usage: bench_%s [--round N] [--cases LIST] [--seconds S] [--count N]\n"
          "                [--sizes LIST] [--pairs N] [--peers N] [--quick]\n",
          BENCH_VARIANT);
  exit(2);
}

static void copy_arg(char *dst, size_t cap, const char *src) {
  if (strlen(src) >= cap) {
    usage();
  }
  strcpy(dst, src);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--quick") == 0) {
      opt_seconds = 0.05;
      opt_pairs = 500;
      opt_peers = 200;
      continue;
    }
    if (v == NULL) {
      usage();
    }
    i++;
    if (strcmp(a, "--round") == 0) {
      opt_round = atoi(v);
    } else if (strcmp(a, "--cases") == 0) {
      copy_arg(opt_cases, sizeof(opt_cases), v);
    } else if (strcmp(a, "--seconds") == 0) {
      opt_seconds = atof(v);
    } else if (strcmp(a, "--count") == 0) {
      opt_count = strtoull(v, NULL, 10);
    } else if (strcmp(a, "--sizes") == 0) {
      copy_arg(opt_sizes, sizeof(opt_sizes), v);
    } else if (strcmp(a, "--pairs") == 0) {
      opt_pairs = strtoul(v, NULL, 10);
    } else if (strcmp(a, "--peers") == 0) {
      opt_peers = strtoul(v, NULL, 10);
    } else {
      usage();
    }
  }
  if (opt_pairs == 0 || opt_peers == 0 || opt_seconds <= 0) {
    usage();
  }
  pool_grow(64);
  tick();
  if (be->init() != 0) {
    bench_die("init failed");
  }
  if (has_case("info")) case_info();
  if (has_case("handshake")) case_handshake();
  if (has_case("resume")) case_resume();
  if (has_case("data")) case_data();
  if (has_case("server")) case_server();
  if (has_case("memory")) case_memory();
  if (has_case("server_memory")) case_server_memory();
  return 0;
}

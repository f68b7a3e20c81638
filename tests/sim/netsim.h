/* SPDX-License-Identifier: Apache-2.0 */
/* A deterministic network simulator for sdtls tests.
 *
 * Two endpoints, A and B, are joined by a link whose two directions are
 * impaired independently: loss, duplication, reordering, corruption, delay
 * with jitter and a largest datagram size. Every random choice comes from
 * the simulator's own seeded PRNG (splitmix64) and time is a virtual clock
 * in nanoseconds (sdtls_time): no sockets, no sleeping, no system clock. A
 * run with the same seed and the same traffic makes the same choices.
 *
 * Use:
 *   netsim *sim = netsim_new(seed, start_time);
 *   netsim_set_link(sim, NETSIM_A, &link_a_to_b);   (optional; default clean)
 *   the sdtls send callback of A calls netsim_send(sim, NETSIM_A, bytes, len)
 *   netsim_set_conn(sim, NETSIM_A, conn_a);  netsim_set_conn(sim, NETSIM_B, conn_b);
 *   sdtls_conn_start(conn_a, netsim_now(sim));
 *   netsim_run(sim, done_predicate, ctx, max_virtual_duration, max_steps);
 *
 * netsim_run() moves the clock to the earliest event (a datagram's arrival
 * or an endpoint's sdtls_conn_next_deadline()), then delivers the datagram
 * with sdtls_conn_receive() or calls sdtls_conn_handle_timeout().
 *
 * Every datagram handed to netsim_send() is captured (as sent, before any
 * impairment) and can be re-injected later with netsim_inject() (replay).
 *
 * Not thread-safe; one simulator per test.
 */
#ifndef NETSIM_H
#define NETSIM_H

#include <stddef.h>
#include <stdint.h>

#include "sdtls.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NETSIM_A 0
#define NETSIM_B 1

#define NETSIM_MS ((sdtls_time)1000000u)
#define NETSIM_SEC ((sdtls_time)1000000000u)

/* The impairments of one direction. All zero = a perfect, instant link. */
typedef struct netsim_link {
  double drop;      /* probability a datagram is lost, 0..1 */
  double duplicate; /* probability a datagram is delivered twice */
  double reorder;   /* probability a datagram is held back (arrives after later ones) */
  double corrupt;   /* probability one random byte of a datagram is changed */
  sdtls_time delay_ns;        /* fixed one-way delay */
  sdtls_time jitter_ns;       /* plus a uniform random 0..jitter_ns */
  sdtls_time reorder_hold_ns; /* extra delay of a held-back datagram (0: 50 ms) */
  size_t max_size;            /* larger datagrams are dropped (0: no limit) */
  /* 0: impairments (drop, duplicate, reorder, corrupt) apply to every
   * datagram. Otherwise only to datagrams whose first byte (the first
   * record's content type) equals it, e.g. 23 for application data. The
   * delay and max_size always apply. */
  int only_content_type;
} netsim_link;

/* Per-direction counters. */
typedef struct netsim_stats {
  uint64_t sent;         /* datagrams handed to netsim_send() */
  uint64_t bytes_sent;
  uint64_t dropped;      /* lost by the drop probability */
  uint64_t dropped_size; /* lost because larger than max_size */
  uint64_t duplicated;
  uint64_t reordered;
  uint64_t corrupted;
  uint64_t injected;     /* netsim_inject() */
  uint64_t delivered;    /* handed to the receiving endpoint (copies included) */
  uint64_t undeliverable;/* arrived when the receiving side had no endpoint */
  size_t largest;        /* largest datagram handed to netsim_send() */
} netsim_stats;

/* A captured datagram, as it was sent. */
typedef struct netsim_datagram {
  sdtls_time time; /* virtual time of the send */
  const uint8_t *data;
  size_t len;
} netsim_datagram;

/* An endpoint other than a plain sdtls_conn (e.g. an sdtls_server); every
 * member is required. */
typedef struct netsim_endpoint_ops {
  int (*receive)(void *ctx, const uint8_t *datagram, size_t len, sdtls_time now);
  sdtls_time (*next_deadline)(void *ctx);
  int (*handle_timeout)(void *ctx, sdtls_time now);
} netsim_endpoint_ops;

typedef struct netsim netsim;

/* Results of netsim_run(). */
#define NETSIM_DONE 0      /* the predicate became true */
#define NETSIM_IDLE 1      /* nothing in flight and no deadline */
#define NETSIM_TIME_LIMIT 2 /* next event lies beyond the allowed duration */
#define NETSIM_STEP_LIMIT 3 /* too many steps (a stuck timer?) */

/* Creates a simulator whose clock starts at `start` (a nonzero value catches
 * code that assumes time starts at 0) with the PRNG seeded by `seed`.
 * Returns NULL when out of memory. */
netsim *netsim_new(uint64_t seed, sdtls_time start);
void netsim_free(netsim *sim);

void netsim_set_link(netsim *sim, int from, const netsim_link *link);
netsim_link netsim_get_link(const netsim *sim, int from);

/* The endpoint that receives datagrams on `side` and whose timers the run
 * loop serves. NULL detaches it (do so before freeing the connection, also
 * from inside a callback). */
void netsim_set_conn(netsim *sim, int side, sdtls_conn *conn);
void netsim_set_endpoint(netsim *sim, int side, const netsim_endpoint_ops *ops, void *ctx);

sdtls_time netsim_now(const netsim *sim);
/* Moves the clock forward (never backwards) without running anything. */
void netsim_advance(netsim *sim, sdtls_time to);

/* Hands one datagram from `from` to the link (call it from the send
 * callback). Applies the link's impairments and schedules the arrival.
 * Returns 0 (also when the datagram is lost, as UDP would). */
int netsim_send(netsim *sim, int from, const uint8_t *datagram, size_t len);

/* Schedules the arrival of `datagram` (copied) at side `to` at time `at`
 * (not before now), bypassing every impairment. */
void netsim_inject(netsim *sim, int to, const uint8_t *datagram, size_t len, sdtls_time at);

/* Captured datagrams sent by `from`, oldest first. */
size_t netsim_captured_count(const netsim *sim, int from);
netsim_datagram netsim_captured(const netsim *sim, int from, size_t index);

const netsim_stats *netsim_get_stats(const netsim *sim, int from);
size_t netsim_in_flight(const netsim *sim);

/* The return value of the last sdtls call the run loop made on `side`'s
 * endpoint, and the first negative one (0 if none). */
int netsim_last_rc(const netsim *sim, int side);
int netsim_first_error(const netsim *sim, int side);

/* Runs events until `done(ctx)` returns nonzero (checked before each step;
 * `done` may be NULL), nothing is left to do, the next event lies more than
 * `max_duration` after the clock at the call, or `max_steps` steps were
 * made. Returns NETSIM_DONE, NETSIM_IDLE, NETSIM_TIME_LIMIT or
 * NETSIM_STEP_LIMIT. On NETSIM_TIME_LIMIT the clock stands at the limit. */
int netsim_run(netsim *sim, int (*done)(void *ctx), void *ctx, sdtls_time max_duration,
               unsigned max_steps);

/* Runs every event due within `duration`, then sets the clock to
 * now + duration. Returns like netsim_run() (NETSIM_IDLE or
 * NETSIM_TIME_LIMIT are both normal here). */
int netsim_run_for(netsim *sim, sdtls_time duration);

/* The simulator's PRNG, for tests that want reproducible random data. */
uint64_t netsim_rand(netsim *sim);
/* Uniform in [0, n); n > 0. */
uint64_t netsim_rand_below(netsim *sim, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif

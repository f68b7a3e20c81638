/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic network simulator; see netsim.h. */
#include "netsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct flight_dgram {
  sdtls_time at;  /* arrival time */
  uint64_t order; /* tie-break: arrival order among equal times */
  int to;
  uint8_t *data;
  size_t len;
} flight_dgram;

typedef struct capture_entry {
  sdtls_time time;
  uint8_t *data;
  size_t len;
} capture_entry;

typedef struct endpoint {
  const netsim_endpoint_ops *ops;
  void *ctx;
  int last_rc;
  int first_error;
} endpoint;

struct netsim {
  sdtls_time now;
  uint64_t rng[3]; /* one stream per direction, one for netsim_rand() */
  uint64_t next_order;
  netsim_link link[2];
  netsim_stats stats[2];
  endpoint ep[2];
  flight_dgram *flight;
  size_t n_flight, cap_flight;
  capture_entry *cap[2];
  size_t n_cap[2], cap_cap[2];
};

/* ---- PRNG: splitmix64 (Steele, Lea, Flood), fully deterministic. ---- */

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double rand_unit(uint64_t *state) { /* [0, 1) */
  return (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t rand_below(uint64_t *state, uint64_t n) {
  if (n == 0) return 0;
  /* Rejection sampling keeps it unbiased. */
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = splitmix64(state);
  } while (x >= limit);
  return x % n;
}

static int chance(uint64_t *state, double p) {
  if (p <= 0.0) return 0;
  if (p >= 1.0) return 1;
  return rand_unit(state) < p;
}

/* ---- The sdtls_conn endpoint. ---- */

static int conn_receive(void *ctx, const uint8_t *d, size_t len, sdtls_time now) {
  return sdtls_conn_receive((sdtls_conn *)ctx, d, len, now);
}
static sdtls_time conn_deadline(void *ctx) { return sdtls_conn_next_deadline((sdtls_conn *)ctx); }
static int conn_timeout(void *ctx, sdtls_time now) {
  return sdtls_conn_handle_timeout((sdtls_conn *)ctx, now);
}
static const netsim_endpoint_ops conn_ops = {conn_receive, conn_deadline, conn_timeout};

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "netsim: out of memory\n");
    abort();
  }
  return p;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fprintf(stderr, "netsim: out of memory\n");
    abort();
  }
  return p;
}

netsim *netsim_new(uint64_t seed, sdtls_time start) {
  netsim *sim = calloc(1, sizeof(*sim));
  if (!sim) return NULL;
  sim->now = start;
  uint64_t s = seed;
  for (int i = 0; i < 3; i++) sim->rng[i] = splitmix64(&s);
  return sim;
}

void netsim_free(netsim *sim) {
  if (!sim) return;
  for (size_t i = 0; i < sim->n_flight; i++) free(sim->flight[i].data);
  free(sim->flight);
  for (int side = 0; side < 2; side++) {
    for (size_t i = 0; i < sim->n_cap[side]; i++) free(sim->cap[side][i].data);
    free(sim->cap[side]);
  }
  free(sim);
}

static int valid_side(int side) { return side == NETSIM_A || side == NETSIM_B; }

void netsim_set_link(netsim *sim, int from, const netsim_link *link) {
  if (!valid_side(from)) abort();
  if (link)
    sim->link[from] = *link;
  else
    memset(&sim->link[from], 0, sizeof(sim->link[from]));
}

netsim_link netsim_get_link(const netsim *sim, int from) { return sim->link[from]; }

void netsim_set_conn(netsim *sim, int side, sdtls_conn *conn) {
  netsim_set_endpoint(sim, side, conn ? &conn_ops : NULL, conn);
}

void netsim_set_endpoint(netsim *sim, int side, const netsim_endpoint_ops *ops, void *ctx) {
  if (!valid_side(side)) abort();
  sim->ep[side].ops = ctx ? ops : NULL;
  sim->ep[side].ctx = ops ? ctx : NULL;
}

sdtls_time netsim_now(const netsim *sim) { return sim->now; }

void netsim_advance(netsim *sim, sdtls_time to) {
  if (to > sim->now) sim->now = to;
}

static void schedule(netsim *sim, int to, const uint8_t *data, size_t len, sdtls_time at) {
  if (sim->n_flight == sim->cap_flight) {
    sim->cap_flight = sim->cap_flight ? sim->cap_flight * 2 : 16;
    sim->flight = xrealloc(sim->flight, sim->cap_flight * sizeof(*sim->flight));
  }
  flight_dgram *f = &sim->flight[sim->n_flight++];
  f->at = at;
  f->order = sim->next_order++;
  f->to = to;
  f->data = xmalloc(len);
  if (len) memcpy(f->data, data, len);
  f->len = len;
}

static void capture(netsim *sim, int from, const uint8_t *data, size_t len) {
  if (sim->n_cap[from] == sim->cap_cap[from]) {
    sim->cap_cap[from] = sim->cap_cap[from] ? sim->cap_cap[from] * 2 : 32;
    sim->cap[from] = xrealloc(sim->cap[from], sim->cap_cap[from] * sizeof(capture_entry));
  }
  capture_entry *c = &sim->cap[from][sim->n_cap[from]++];
  c->time = sim->now;
  c->data = xmalloc(len);
  if (len) memcpy(c->data, data, len);
  c->len = len;
}

/* One copy of a datagram crossing the link: delay, reordering, corruption. */
static void transmit_copy(netsim *sim, int from, const uint8_t *data, size_t len, int impair) {
  const netsim_link *l = &sim->link[from];
  netsim_stats *st = &sim->stats[from];
  uint64_t *rng = &sim->rng[from];
  sdtls_time at = sim->now + l->delay_ns;
  if (l->jitter_ns) at += rand_below(rng, l->jitter_ns + 1);
  if (impair && chance(rng, l->reorder)) {
    at += l->reorder_hold_ns ? l->reorder_hold_ns : 50 * NETSIM_MS;
    st->reordered++;
  }
  if (impair && len > 0 && chance(rng, l->corrupt)) {
    uint8_t *copy = xmalloc(len);
    memcpy(copy, data, len);
    const size_t pos = (size_t)rand_below(rng, len);
    copy[pos] ^= (uint8_t)(1 + rand_below(rng, 255)); /* always a change */
    st->corrupted++;
    schedule(sim, 1 - from, copy, len, at);
    free(copy);
    return;
  }
  schedule(sim, 1 - from, data, len, at);
}

int netsim_send(netsim *sim, int from, const uint8_t *datagram, size_t len) {
  if (!valid_side(from)) abort();
  const netsim_link *l = &sim->link[from];
  netsim_stats *st = &sim->stats[from];
  uint64_t *rng = &sim->rng[from];
  st->sent++;
  st->bytes_sent += len;
  if (len > st->largest) st->largest = len;
  capture(sim, from, datagram, len);

  const int impair =
      l->only_content_type == 0 || (len > 0 && datagram[0] == (uint8_t)l->only_content_type);
  if (l->max_size && len > l->max_size) {
    st->dropped_size++;
    return 0;
  }
  if (impair && chance(rng, l->drop)) {
    st->dropped++;
    return 0;
  }
  transmit_copy(sim, from, datagram, len, impair);
  if (impair && chance(rng, l->duplicate)) {
    st->duplicated++;
    transmit_copy(sim, from, datagram, len, impair);
  }
  return 0;
}

void netsim_inject(netsim *sim, int to, const uint8_t *datagram, size_t len, sdtls_time at) {
  if (!valid_side(to)) abort();
  sim->stats[1 - to].injected++;
  schedule(sim, to, datagram, len, at < sim->now ? sim->now : at);
}

size_t netsim_captured_count(const netsim *sim, int from) { return sim->n_cap[from]; }

netsim_datagram netsim_captured(const netsim *sim, int from, size_t index) {
  netsim_datagram d = {0, NULL, 0};
  if (!valid_side(from) || index >= sim->n_cap[from]) return d;
  d.time = sim->cap[from][index].time;
  d.data = sim->cap[from][index].data;
  d.len = sim->cap[from][index].len;
  return d;
}

const netsim_stats *netsim_get_stats(const netsim *sim, int from) { return &sim->stats[from]; }

size_t netsim_in_flight(const netsim *sim) { return sim->n_flight; }

int netsim_last_rc(const netsim *sim, int side) { return sim->ep[side].last_rc; }
int netsim_first_error(const netsim *sim, int side) { return sim->ep[side].first_error; }

uint64_t netsim_rand(netsim *sim) { return splitmix64(&sim->rng[2]); }
uint64_t netsim_rand_below(netsim *sim, uint64_t n) { return rand_below(&sim->rng[2], n); }

static void note_rc(endpoint *ep, int rc) {
  ep->last_rc = rc;
  if (rc < 0 && ep->first_error == 0) ep->first_error = rc;
}

/* Index of the earliest datagram in flight, or -1. */
static long earliest_flight(const netsim *sim) {
  long best = -1;
  for (size_t i = 0; i < sim->n_flight; i++) {
    const flight_dgram *f = &sim->flight[i];
    if (best < 0 || f->at < sim->flight[best].at ||
        (f->at == sim->flight[best].at && f->order < sim->flight[best].order))
      best = (long)i;
  }
  return best;
}

static sdtls_time endpoint_deadline(netsim *sim, int side) {
  endpoint *ep = &sim->ep[side];
  if (!ep->ops) return SDTLS_TIME_NEVER;
  return ep->ops->next_deadline(ep->ctx);
}

int netsim_run(netsim *sim, int (*done)(void *ctx), void *ctx, sdtls_time max_duration,
               unsigned max_steps) {
  const sdtls_time limit =
      max_duration > SDTLS_TIME_NEVER - sim->now ? SDTLS_TIME_NEVER : sim->now + max_duration;
  for (unsigned step = 0;; step++) {
    if (done && done(ctx)) return NETSIM_DONE;
    if (step >= max_steps) return NETSIM_STEP_LIMIT;

    const long fi = earliest_flight(sim);
    sdtls_time t_flight = fi >= 0 ? sim->flight[fi].at : SDTLS_TIME_NEVER;
    sdtls_time t_dead[2] = {endpoint_deadline(sim, 0), endpoint_deadline(sim, 1)};
    sdtls_time t = t_flight;
    if (t_dead[0] < t) t = t_dead[0];
    if (t_dead[1] < t) t = t_dead[1];
    if (t == SDTLS_TIME_NEVER) return NETSIM_IDLE;
    if (t > limit) {
      netsim_advance(sim, limit);
      return NETSIM_TIME_LIMIT;
    }
    netsim_advance(sim, t);

    if (fi >= 0 && t_flight <= t) {
      /* Take the datagram out first: delivering it may send (and grow the
       * queue). */
      flight_dgram f = sim->flight[fi];
      sim->flight[fi] = sim->flight[--sim->n_flight];
      endpoint *ep = &sim->ep[f.to];
      if (ep->ops) {
        sim->stats[1 - f.to].delivered++;
        note_rc(ep, ep->ops->receive(ep->ctx, f.data, f.len, sim->now));
      } else {
        sim->stats[1 - f.to].undeliverable++;
      }
      free(f.data);
      continue;
    }
    for (int side = 0; side < 2; side++) {
      if (t_dead[side] > sim->now) continue;
      endpoint *ep = &sim->ep[side];
      if (!ep->ops) continue; /* detached by the other side's callback */
      note_rc(ep, ep->ops->handle_timeout(ep->ctx, sim->now));
    }
  }
}

int netsim_run_for(netsim *sim, sdtls_time duration) {
  const sdtls_time end = sim->now + duration;
  const int rc = netsim_run(sim, NULL, NULL, duration, 1000000u);
  netsim_advance(sim, end);
  return rc;
}

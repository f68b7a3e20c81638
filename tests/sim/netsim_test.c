/* SPDX-License-Identifier: Apache-2.0 */
/* Self-tests of the network simulator (no DTLS involved): the impairments
 * do what they say, deterministically, and the run loop serves timers. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netsim.h"

/* A fake endpoint that records what arrives and has a programmable timer. */
typedef struct fake {
  netsim *sim;
  size_t n;
  sdtls_time at[20000];
  uint32_t id[20000]; /* first 4 bytes of each datagram */
  size_t len[20000];
  int corrupted[20000]; /* datagram differs from its pattern */
  sdtls_time deadline;
  sdtls_time deadline_step; /* 0: handle_timeout clears the deadline */
  int timeouts;
  sdtls_time timeout_at[16];
  int stuck; /* handle_timeout leaves the deadline in the past */
} fake;

static void fill(uint8_t *buf, size_t len, uint32_t id) {
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(id * 7 + i);
  if (len >= 4) {
    buf[0] = (uint8_t)(id >> 24);
    buf[1] = (uint8_t)(id >> 16);
    buf[2] = (uint8_t)(id >> 8);
    buf[3] = (uint8_t)id;
  }
}

static int fake_receive(void *ctx, const uint8_t *d, size_t len, sdtls_time now) {
  fake *f = ctx;
  if (f->n < 20000) {
    f->at[f->n] = now;
    f->len[f->n] = len;
    f->id[f->n] = len >= 4 ? ((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]) : 0;
    uint8_t expect[2048];
    int bad = 0;
    if (len <= sizeof(expect)) {
      fill(expect, len, f->id[f->n]);
      bad = memcmp(expect, d, len) != 0;
    }
    f->corrupted[f->n] = bad;
  }
  f->n++;
  return 0;
}

static sdtls_time fake_deadline(void *ctx) { return ((fake *)ctx)->deadline; }

static int fake_timeout(void *ctx, sdtls_time now) {
  fake *f = ctx;
  if (f->timeouts < 16) f->timeout_at[f->timeouts] = now;
  f->timeouts++;
  if (f->stuck) return 0;
  if (now >= f->deadline)
    f->deadline = f->deadline_step ? now + f->deadline_step : SDTLS_TIME_NEVER;
  return 0;
}

static const netsim_endpoint_ops fake_ops = {fake_receive, fake_deadline, fake_timeout};

static fake *fake_new(netsim *sim, int side) {
  fake *f = calloc(1, sizeof(*f));
  f->sim = sim;
  f->deadline = SDTLS_TIME_NEVER;
  netsim_set_endpoint(sim, side, &fake_ops, f);
  return f;
}

/* A simulator (`seed`, clock at `start`) whose side B records what side A
 * sends over `a_to_b` (NULL: a perfect link). Free *b after the simulator. */
static netsim *sim_to_b(uint64_t seed, sdtls_time start, const netsim_link *a_to_b, fake **b) {
  netsim *sim = netsim_new(seed, start);
  *b = fake_new(sim, NETSIM_B);
  netsim_set_link(sim, NETSIM_A, a_to_b);
  return sim;
}

static void send_n(netsim *sim, int from, size_t n, size_t len, sdtls_time gap) {
  uint8_t buf[2048];
  for (size_t i = 0; i < n; i++) {
    fill(buf, len, (uint32_t)i);
    netsim_send(sim, from, buf, len);
    if (gap) netsim_run_for(sim, gap);
  }
}

static void test_clean_link(void) {
  fake *b;
  netsim *sim = sim_to_b(1, 5 * NETSIM_SEC, NULL, &b);
  CHECK_EQ(netsim_now(sim), 5 * NETSIM_SEC);
  send_n(sim, NETSIM_A, 100, 100, 0);
  CHECK_EQ(netsim_run(sim, NULL, NULL, NETSIM_SEC, 1000), NETSIM_IDLE);
  REQUIRE_EQ(b->n, 100);
  for (size_t i = 0; i < 100; i++) {
    CHECK_EQ(b->id[i], i); /* in order */
    CHECK(!b->corrupted[i]);
    CHECK_EQ(b->at[i], 5 * NETSIM_SEC);
  }
  const netsim_stats *s = netsim_get_stats(sim, NETSIM_A);
  CHECK_EQ(s->sent, 100);
  CHECK_EQ(s->delivered, 100);
  CHECK_EQ(s->dropped + s->duplicated + s->corrupted + s->reordered, 0);
  CHECK_EQ(netsim_captured_count(sim, NETSIM_A), 100);
  CHECK_EQ(netsim_captured_count(sim, NETSIM_B), 0);
  netsim_free(sim);
  free(b);
}

static void test_rates(void) {
  fake *b;
  netsim *sim =
      sim_to_b(42, 0, &(netsim_link){.drop = 0.2, .duplicate = 0.1, .corrupt = 0.05}, &b);
  const size_t n = 10000;
  send_n(sim, NETSIM_A, n, 64, 0);
  netsim_run(sim, NULL, NULL, NETSIM_SEC, 100000);
  const netsim_stats *s = netsim_get_stats(sim, NETSIM_A);
  CHECK_EQ(s->sent, n);
  CHECK(s->dropped > 1800 && s->dropped < 2200);
  CHECK(s->duplicated > 650 && s->duplicated < 950);  /* 10% of the 80% kept */
  CHECK(s->corrupted > 300 && s->corrupted < 580);    /* 5% of copies */
  CHECK_EQ(s->delivered, n - s->dropped + s->duplicated);
  CHECK_EQ(b->n, s->delivered);
  size_t bad = 0;
  for (size_t i = 0; i < b->n && i < 20000; i++) bad += (size_t)b->corrupted[i];
  /* A corrupted id field hides the damage from the pattern check only when
   * the flip lands in bytes 0..3 and happens to match; nearly all show. */
  CHECK(bad <= s->corrupted && bad + s->corrupted / 10 + 5 >= s->corrupted);
  netsim_free(sim);
  free(b);
}

static void test_deterministic(void) {
  netsim_stats st[3];
  size_t ids[3][64];
  const uint64_t seeds[3] = {7, 7, 8};
  for (int r = 0; r < 3; r++) {
    const netsim_link l = {.drop = 0.3,
                           .duplicate = 0.2,
                           .reorder = 0.2,
                           .delay_ns = 5 * NETSIM_MS,
                           .jitter_ns = 3 * NETSIM_MS};
    fake *b;
    netsim *sim = sim_to_b(seeds[r], 0, &l, &b);
    send_n(sim, NETSIM_A, 200, 32, NETSIM_MS);
    netsim_run(sim, NULL, NULL, NETSIM_SEC, 100000);
    st[r] = *netsim_get_stats(sim, NETSIM_A);
    for (size_t i = 0; i < 64; i++) ids[r][i] = i < b->n ? b->id[i] : 9999;
    netsim_free(sim);
    free(b);
  }
  CHECK(memcmp(&st[0], &st[1], sizeof(st[0])) == 0);
  CHECK(memcmp(ids[0], ids[1], sizeof(ids[0])) == 0);
  CHECK(memcmp(ids[0], ids[2], sizeof(ids[0])) != 0); /* another seed, other choices */
}

static void test_delay_jitter_reorder(void) {
  fake *b;
  netsim *sim = sim_to_b(
      3, NETSIM_SEC, &(netsim_link){.delay_ns = 20 * NETSIM_MS, .jitter_ns = 4 * NETSIM_MS}, &b);
  uint8_t buf[16];
  sdtls_time sent_at[300];
  for (uint32_t i = 0; i < 300; i++) {
    fill(buf, sizeof(buf), i);
    sent_at[i] = netsim_now(sim);
    netsim_send(sim, NETSIM_A, buf, sizeof(buf));
    netsim_run_for(sim, NETSIM_MS);
  }
  netsim_run(sim, NULL, NULL, NETSIM_SEC, 100000);
  REQUIRE_EQ(b->n, 300);
  int jitter_seen = 0;
  for (size_t i = 0; i < 300; i++) {
    const sdtls_time d = b->at[i] - sent_at[b->id[i]];
    CHECK(d >= 20 * NETSIM_MS && d <= 24 * NETSIM_MS);
    if (d != 20 * NETSIM_MS) jitter_seen = 1;
  }
  CHECK(jitter_seen);
  netsim_free(sim);
  free(b);

  /* Reordering: held datagrams arrive after later ones. */
  sim = sim_to_b(4, 0, &(netsim_link){.reorder = 0.2, .reorder_hold_ns = 10 * NETSIM_MS}, &b);
  send_n(sim, NETSIM_A, 200, 16, NETSIM_MS);
  netsim_run(sim, NULL, NULL, NETSIM_SEC, 100000);
  REQUIRE_EQ(b->n, 200);
  size_t inversions = 0;
  for (size_t i = 1; i < 200; i++)
    if (b->id[i] < b->id[i - 1]) inversions++;
  const netsim_stats *s = netsim_get_stats(sim, NETSIM_A);
  CHECK(s->reordered > 20);
  CHECK(inversions > 10);
  netsim_free(sim);
  free(b);
}

static void test_max_size_and_filter(void) {
  fake *b;
  netsim *sim = sim_to_b(5, 0, &(netsim_link){.max_size = 300}, &b);
  fake *a = fake_new(sim, NETSIM_A);
  uint8_t buf[400];
  fill(buf, 300, 1);
  netsim_send(sim, NETSIM_A, buf, 300);
  fill(buf, 301, 2);
  netsim_send(sim, NETSIM_A, buf, 301);
  netsim_send(sim, NETSIM_B, buf, 301); /* the other direction has no limit */
  netsim_run(sim, NULL, NULL, NETSIM_SEC, 100);
  CHECK_EQ(b->n, 1);
  CHECK_EQ(b->len[0], 300);
  CHECK_EQ(a->n, 1);
  CHECK_EQ(netsim_get_stats(sim, NETSIM_A)->dropped_size, 1);
  CHECK_EQ(netsim_get_stats(sim, NETSIM_A)->largest, 301);

  /* Only datagrams starting with 23 are impaired. */
  netsim_set_link(sim, NETSIM_A, &(netsim_link){.drop = 1.0, .only_content_type = 23});
  buf[0] = 23;
  netsim_send(sim, NETSIM_A, buf, 50);
  buf[0] = 22;
  netsim_send(sim, NETSIM_A, buf, 50);
  netsim_run(sim, NULL, NULL, NETSIM_SEC, 100);
  CHECK_EQ(b->n, 2);
  CHECK_EQ(b->len[1], 50);
  CHECK_EQ(netsim_get_stats(sim, NETSIM_A)->dropped, 1);
  netsim_free(sim);
  free(a);
  free(b);
}

static void test_capture_inject(void) {
  fake *b;
  netsim *sim = sim_to_b(6, 0, &(netsim_link){.drop = 1.0}, &b);
  send_n(sim, NETSIM_A, 3, 40, NETSIM_MS);
  CHECK_EQ(b->n, 0);
  REQUIRE_EQ(netsim_captured_count(sim, NETSIM_A), 3);
  netsim_datagram d = netsim_captured(sim, NETSIM_A, 1);
  CHECK_EQ(d.len, 40);
  CHECK_EQ(d.time, 1 * NETSIM_MS);
  netsim_inject(sim, NETSIM_B, d.data, d.len, netsim_now(sim) + 7 * NETSIM_MS);
  const sdtls_time t = netsim_now(sim);
  netsim_run(sim, NULL, NULL, NETSIM_SEC, 100);
  REQUIRE_EQ(b->n, 1);
  CHECK_EQ(b->id[0], 1);
  CHECK_EQ(b->at[0], t + 7 * NETSIM_MS);
  CHECK_EQ(netsim_get_stats(sim, NETSIM_A)->injected, 1);
  CHECK(netsim_captured(sim, NETSIM_A, 3).data == NULL);
  netsim_free(sim);
  free(b);
}

static void test_timers_and_limits(void) {
  netsim *sim = netsim_new(9, NETSIM_SEC);
  fake *a = fake_new(sim, NETSIM_A);
  a->deadline = NETSIM_SEC + 100 * NETSIM_MS;
  a->deadline_step = 0;
  CHECK_EQ(netsim_run(sim, NULL, NULL, 10 * NETSIM_SEC, 100), NETSIM_IDLE);
  CHECK_EQ(a->timeouts, 1);
  CHECK_EQ(a->timeout_at[0], NETSIM_SEC + 100 * NETSIM_MS);

  /* A periodic timer: the time limit stops the run at the limit. */
  a->deadline = netsim_now(sim) + 10 * NETSIM_MS;
  a->deadline_step = 10 * NETSIM_MS;
  a->timeouts = 0;
  const sdtls_time start = netsim_now(sim);
  CHECK_EQ(netsim_run(sim, NULL, NULL, 55 * NETSIM_MS, 1000), NETSIM_TIME_LIMIT);
  CHECK_EQ(a->timeouts, 5);
  CHECK_EQ(netsim_now(sim), start + 55 * NETSIM_MS);

  /* A timer that never moves on: the step limit ends the run. */
  a->stuck = 1;
  a->deadline = netsim_now(sim);
  CHECK_EQ(netsim_run(sim, NULL, NULL, NETSIM_SEC, 50), NETSIM_STEP_LIMIT);

  /* Detached endpoints get nothing; the datagram counts as undeliverable. */
  netsim_set_endpoint(sim, NETSIM_A, NULL, NULL);
  uint8_t x[4] = {0};
  netsim_send(sim, NETSIM_B, x, sizeof(x));
  CHECK_EQ(netsim_run(sim, NULL, NULL, NETSIM_SEC, 50), NETSIM_IDLE);
  CHECK_EQ(netsim_get_stats(sim, NETSIM_B)->undeliverable, 1);
  netsim_free(sim);
  free(a);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"netsim_clean_link", test_clean_link},
      {"netsim_rates", test_rates},
      {"netsim_deterministic", test_deterministic},
      {"netsim_delay_jitter_reorder", test_delay_jitter_reorder},
      {"netsim_max_size_and_filter", test_max_size_and_filter},
      {"netsim_capture_inject", test_capture_inject},
      {"netsim_timers_and_limits", test_timers_and_limits},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

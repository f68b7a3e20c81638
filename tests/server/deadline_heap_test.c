/* SPDX-License-Identifier: Apache-2.0 */
/* src/deadline_heap.c: the server's deadlines, against a plain array as
 * the model: the earliest is always next, every entry knows its place,
 * moved and removed entries keep the order, and collect() finds exactly
 * the entries due. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "deadline_heap.h"

#define N 1000

static sdtls_deadline entries[N];
static bool in[N];

/* The heap property and every entry's index. */
static bool well_formed(const sdtls_deadline_heap *h) {
  for (size_t i = 0; i < h->count; i++) {
    if (h->items[i]->index != i || (i > 0 && h->items[(i - 1) / 2]->due > h->items[i]->due)) {
      return false;
    }
  }
  return true;
}

static sdtls_time model_min(void) {
  sdtls_time m = SDTLS_TIME_NEVER;
  for (size_t i = 0; i < N; i++) {
    if (in[i] && entries[i].due < m) {
      m = entries[i].due;
    }
  }
  return m;
}

static void test_empty(void) {
  sdtls_deadline_heap h = {0};
  CHECK_EQ(Sdtls_deadline_heap_next(&h), SDTLS_TIME_NEVER);
  CHECK(Sdtls_deadline_heap_collect(&h, SDTLS_TIME_NEVER) == NULL);
  Sdtls_deadline_heap_free(&h);
  CHECK(h.items == NULL && h.count == 0);
}

/* Inserts, moves (earlier and later) and removals in random order. */
static void test_random_operations(void) {
  sdtls_deadline_heap h = {0};
  memset(in, 0, sizeof(in));
  srand(7);
  size_t count = 0;
  for (int op = 0; op < 20 * N; op++) {
    size_t i = (size_t)rand() % N;
    sdtls_time due = (sdtls_time)(rand() % 5000);
    if (!in[i]) {
      REQUIRE_EQ(Sdtls_deadline_heap_reserve(&h), 0);
      entries[i].due = due;
      Sdtls_deadline_heap_insert(&h, &entries[i]);
      in[i] = true;
      count++;
    } else if (rand() % 3 == 0) {
      Sdtls_deadline_heap_remove(&h, &entries[i]);
      in[i] = false;
      count--;
    } else {
      Sdtls_deadline_heap_update(&h, &entries[i], due);
      CHECK_EQ(entries[i].due, due);
    }
    REQUIRE_EQ(h.count, count);
    REQUIRE_EQ(Sdtls_deadline_heap_next(&h), model_min());
    if (op % 53 == 0) {
      REQUIREF(well_formed(&h), "after op %d", op);
    }
  }
  REQUIRE(well_formed(&h));
  /* Taking the earliest each time gives the deadlines in order. */
  sdtls_time last = 0;
  while (h.count > 0) {
    sdtls_deadline *first = h.items[0];
    CHECK(first->due >= last);
    last = first->due;
    Sdtls_deadline_heap_remove(&h, first);
  }
  CHECK_EQ(Sdtls_deadline_heap_next(&h), SDTLS_TIME_NEVER);
  Sdtls_deadline_heap_free(&h);
}

/* collect(now) lists each entry due at `now` once, and no other; the list
 * survives the deadlines changing while it is walked (as the server pushes
 * each handled peer's deadline past `now`). */
static void test_collect(void) {
  sdtls_deadline_heap h = {0};
  srand(11);
  for (size_t i = 0; i < N; i++) {
    REQUIRE_EQ(Sdtls_deadline_heap_reserve(&h), 0);
    entries[i].due = (sdtls_time)(rand() % 1000);
    Sdtls_deadline_heap_insert(&h, &entries[i]);
  }
  entries[0].due = SDTLS_TIME_NEVER; /* never due */
  Sdtls_deadline_heap_update(&h, &entries[0], SDTLS_TIME_NEVER);
  for (sdtls_time now = 0; now <= 1000; now += 250) {
    static int seen[N];
    memset(seen, 0, sizeof(seen));
    size_t expect = 0;
    for (size_t i = 0; i < N; i++) {
      expect += entries[i].due <= now;
    }
    size_t got = 0;
    for (sdtls_deadline *d = Sdtls_deadline_heap_collect(&h, now); d != NULL;) {
      sdtls_deadline *next = d->next_due;
      CHECK(d->due <= now);
      seen[d - entries]++;
      got++;
      d = next;
    }
    CHECK_EQ(got, expect);
    for (size_t i = 0; i < N; i++) {
      CHECK(seen[i] == (entries[i].due <= now ? 1 : 0));
    }
  }
  /* Handling each due entry moves it past `now`: the next collect at the
   * same instant finds none. */
  sdtls_deadline *d = Sdtls_deadline_heap_collect(&h, 500);
  while (d != NULL) {
    sdtls_deadline *next = d->next_due;
    Sdtls_deadline_heap_update(&h, d, 501);
    d = next;
  }
  CHECK(Sdtls_deadline_heap_collect(&h, 500) == NULL);
  CHECK(Sdtls_deadline_heap_next(&h) > 500);
  CHECK(well_formed(&h));
  Sdtls_deadline_heap_free(&h);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"empty", test_empty},
      {"random_operations", test_random_operations},
      {"collect", test_collect},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The server's peers by deadline: a binary min-heap of entries ordered by
 * their `due` time, so the earliest is read in O(1), a changed deadline
 * moves in O(log n), and the entries due at an instant are found without
 * looking at the others. Each entry knows its place (`index`), so any one
 * can be moved or removed. The heap holds pointers to entries its user
 * embeds in its own records and never frees them. Not thread-safe. Not
 * installed. */
#ifndef SDTLS_DEADLINE_HEAP_H
#define SDTLS_DEADLINE_HEAP_H

#include <stddef.h>

#include "sdtls.h"

typedef struct sdtls_deadline {
  sdtls_time due;                /* the heap's key */
  size_t index;                  /* position in the heap */
  struct sdtls_deadline *next_due; /* Sdtls_deadline_heap_collect()'s list */
} sdtls_deadline;

/* Zero-initialised: empty, nothing allocated. */
typedef struct sdtls_deadline_heap {
  sdtls_deadline **items; /* items[0] is due first */
  size_t count, cap;
} sdtls_deadline_heap;

/* Makes room for one more entry, so that the next insert cannot fail.
 * Returns 0 or SDTLS_E_NOMEM (the heap is unchanged). */
int Sdtls_deadline_heap_reserve(sdtls_deadline_heap *h);

/* Adds `e` (not in the heap) with its `due` after a successful reserve. */
void Sdtls_deadline_heap_insert(sdtls_deadline_heap *h, sdtls_deadline *e);

/* Sets the deadline of `e`, which is in the heap, and moves it to its
 * place. */
void Sdtls_deadline_heap_update(sdtls_deadline_heap *h, sdtls_deadline *e, sdtls_time due);

/* Removes `e`, which is in the heap. */
void Sdtls_deadline_heap_remove(sdtls_deadline_heap *h, sdtls_deadline *e);

/* The earliest deadline, or SDTLS_TIME_NEVER when the heap is empty. */
sdtls_time Sdtls_deadline_heap_next(const sdtls_deadline_heap *h);

/* Every entry due at `now` (due <= now), linked through next_due, or NULL:
 * the due entries form a subtree at the heap's root, so only they and
 * their children are visited. The list stays valid while deadlines change,
 * as long as no entry is removed. */
sdtls_deadline *Sdtls_deadline_heap_collect(const sdtls_deadline_heap *h, sdtls_time now);

/* Frees the array (not the entries): the heap is empty again. */
void Sdtls_deadline_heap_free(sdtls_deadline_heap *h);

#endif

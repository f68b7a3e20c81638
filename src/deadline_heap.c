/* SPDX-License-Identifier: Apache-2.0 */
/* The server's peers by deadline (see deadline_heap.h). */
#include "deadline_heap.h"

#include <stdlib.h>
#include <string.h>

static void set(sdtls_deadline_heap *h, size_t i, sdtls_deadline *e) {
  h->items[i] = e;
  e->index = i;
}

/* Restores the order around the entry at `i`, whose key changed. */
static void fix(sdtls_deadline_heap *h, size_t i) {
  sdtls_deadline *e = h->items[i];
  while (i > 0 && h->items[(i - 1) / 2]->due > e->due) {
    set(h, i, h->items[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->count) {
      break;
    }
    if (c + 1 < h->count && h->items[c + 1]->due < h->items[c]->due) {
      c++;
    }
    if (h->items[c]->due >= e->due) {
      break;
    }
    set(h, i, h->items[c]);
    i = c;
  }
  set(h, i, e);
}

int Sdtls_deadline_heap_reserve(sdtls_deadline_heap *h) {
  if (h->count + 1 <= h->cap) {
    return 0;
  }
  size_t cap = h->cap == 0 ? 16 : h->cap * 2;
  sdtls_deadline **items = realloc(h->items, cap * sizeof(*items));
  if (items == NULL) {
    return SDTLS_E_NOMEM;
  }
  h->items = items;
  h->cap = cap;
  return 0;
}

void Sdtls_deadline_heap_insert(sdtls_deadline_heap *h, sdtls_deadline *e) {
  set(h, h->count++, e);
  fix(h, e->index);
}

void Sdtls_deadline_heap_update(sdtls_deadline_heap *h, sdtls_deadline *e, sdtls_time due) {
  e->due = due;
  fix(h, e->index);
}

void Sdtls_deadline_heap_remove(sdtls_deadline_heap *h, sdtls_deadline *e) {
  h->count--;
  if (e->index != h->count) {
    set(h, e->index, h->items[h->count]);
    fix(h, e->index);
  }
}

sdtls_time Sdtls_deadline_heap_next(const sdtls_deadline_heap *h) {
  return h->count == 0 ? SDTLS_TIME_NEVER : h->items[0]->due;
}

static void collect(const sdtls_deadline_heap *h, size_t i, sdtls_time now,
                    sdtls_deadline **list) {
  if (i >= h->count || h->items[i]->due > now) {
    return;
  }
  h->items[i]->next_due = *list;
  *list = h->items[i];
  collect(h, 2 * i + 1, now, list);
  collect(h, 2 * i + 2, now, list);
}

sdtls_deadline *Sdtls_deadline_heap_collect(const sdtls_deadline_heap *h, sdtls_time now) {
  sdtls_deadline *list = NULL;
  collect(h, 0, now, &list);
  return list;
}

void Sdtls_deadline_heap_free(sdtls_deadline_heap *h) {
  free(h->items);
  memset(h, 0, sizeof(*h));
}

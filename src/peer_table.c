/* SPDX-License-Identifier: Apache-2.0 */
/* The server's peers by address (see peer_table.h). */
#include "peer_table.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int Sdtls_peer_key_from_sockaddr(const uint8_t *addr, size_t len, sdtls_peer_key *out) {
  if (addr == NULL || out == NULL || len < sizeof(sa_family_t)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  sa_family_t family;
  memcpy(&family, addr + offsetof(struct sockaddr, sa_family), sizeof(family));
  if (family == AF_INET) {
    struct sockaddr_in sin;
    if (len < sizeof(sin)) {
      return SDTLS_E_INVALID_ARGUMENT;
    }
    memcpy(&sin, addr, sizeof(sin));
    out->bytes[0] = 4;
    memcpy(&out->bytes[2], &sin.sin_port, 2);
    memcpy(&out->bytes[4], &sin.sin_addr, 4);
    return 0;
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 sin6;
    if (len < sizeof(sin6)) {
      return SDTLS_E_INVALID_ARGUMENT;
    }
    memcpy(&sin6, addr, sizeof(sin6));
    out->bytes[0] = 6;
    memcpy(&out->bytes[2], &sin6.sin6_port, 2);
    memcpy(&out->bytes[4], &sin6.sin6_addr, 16);
    uint32_t scope = sin6.sin6_scope_id;
    out->bytes[20] = (uint8_t)(scope >> 24);
    out->bytes[21] = (uint8_t)(scope >> 16);
    out->bytes[22] = (uint8_t)(scope >> 8);
    out->bytes[23] = (uint8_t)scope;
    return 0;
  }
  return SDTLS_E_INVALID_ARGUMENT;
}

sdtls_table_entry *Sdtls_peer_table_find(const sdtls_peer_table *t, const sdtls_peer_key *key,
                                         uint64_t hash) {
  if (t->cap == 0) {
    return NULL;
  }
  size_t mask = t->cap - 1;
  for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
    sdtls_table_entry *e = t->slots[i];
    if (e == NULL) {
      return NULL;
    }
    if (e->hash == hash && memcmp(e->key.bytes, key->bytes, sizeof(key->bytes)) == 0) {
      return e;
    }
  }
}

static void put(sdtls_table_entry **slots, size_t cap, sdtls_table_entry *e) {
  size_t mask = cap - 1;
  size_t i = (size_t)e->hash & mask;
  while (slots[i] != NULL) {
    i = (i + 1) & mask;
  }
  slots[i] = e;
}

int Sdtls_peer_table_reserve(sdtls_peer_table *t) {
  if ((t->count + 1) * 2 <= t->cap) {
    return 0;
  }
  size_t cap = t->cap == 0 ? 16 : t->cap * 2;
  sdtls_table_entry **slots = calloc(cap, sizeof(*slots));
  if (slots == NULL) {
    return SDTLS_E_NOMEM;
  }
  for (size_t i = 0; i < t->cap; i++) {
    if (t->slots[i] != NULL) {
      put(slots, cap, t->slots[i]);
    }
  }
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

void Sdtls_peer_table_insert(sdtls_peer_table *t, sdtls_table_entry *e) {
  put(t->slots, t->cap, e);
  t->count++;
}

void Sdtls_peer_table_remove(sdtls_peer_table *t, sdtls_table_entry *e) {
  size_t mask = t->cap - 1;
  size_t i = (size_t)e->hash & mask;
  while (t->slots[i] != e) {
    i = (i + 1) & mask;
  }
  /* Backward-shift deletion: no tombstones, probes stay short. */
  size_t j = i;
  for (;;) {
    t->slots[i] = NULL;
    for (;;) {
      j = (j + 1) & mask;
      if (t->slots[j] == NULL) {
        t->count--;
        return;
      }
      size_t home = (size_t)t->slots[j]->hash & mask;
      /* Move slots[j] into the hole at i unless its home lies cyclically
       * in (i, j]. */
      if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) {
        continue;
      }
      break;
    }
    t->slots[i] = t->slots[j];
    i = j;
  }
}

void Sdtls_peer_table_free(sdtls_peer_table *t) {
  free(t->slots);
  memset(t, 0, sizeof(*t));
}

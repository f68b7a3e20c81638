/* SPDX-License-Identifier: Apache-2.0 */
/* A server's per-peer pins (sdtls_server_pin_peer(); docs/design.md,
 * "Per-peer pins"): a hash table keyed by the normalised peer address that
 * the server's own peer table uses (keyed SipHash under a per-table random
 * key, so that addresses chosen by others cannot collide on purpose; open
 * addressing with linear probing, load factor at most 1/2,
 * backward-shift deletion), each entry holding that address's
 * fingerprints. A pin, an unpin and the lookup made for every new
 * connection take constant time on average, whatever the number of
 * addresses (a WebRTC server pins one per peer). */
#include "pin_table.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/siphash.h>

struct sdtls_pin_entry {
  sdtls_peer_key key;
  uint64_t hash;
  size_t n;                  /* 1..SDTLS_MAX_FINGERPRINTS */
  sdtls_fingerprint fps[];   /* n of them */
};

static uint64_t key_hash(const sdtls_pin_table *t, const sdtls_peer_key *key) {
  return SIPHASH_24(t->hash_key, key->bytes, sizeof(key->bytes));
}

/* The table's key for a peer: an IPv4-mapped IPv6 address without a scope
 * (what a dual-stack socket reports for an IPv4 peer) is its IPv4 address,
 * so that a pin given in either form finds the peer in the other. */
static sdtls_peer_key pin_key(const sdtls_peer_key *key) {
  static const uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNoScope[4] = {0};
  sdtls_peer_key out = *key;
  if (key->bytes[0] == 6 && memcmp(&key->bytes[4], kV4Mapped, sizeof(kV4Mapped)) == 0 &&
      memcmp(&key->bytes[20], kNoScope, sizeof(kNoScope)) == 0) {
    memset(out.bytes, 0, sizeof(out.bytes));
    out.bytes[0] = 4;
    memcpy(&out.bytes[2], &key->bytes[2], 2);  /* the port */
    memcpy(&out.bytes[4], &key->bytes[16], 4); /* the IPv4 address */
  }
  return out;
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t slot_of(const sdtls_pin_table *t, const sdtls_peer_key *key, uint64_t hash) {
  size_t mask = t->cap - 1;
  size_t i = (size_t)hash & mask;
  for (;;) {
    const sdtls_pin_entry *e = t->slots[i];
    if (e == NULL ||
        (e->hash == hash && memcmp(e->key.bytes, key->bytes, sizeof(key->bytes)) == 0)) {
      return i;
    }
    i = (i + 1) & mask;
  }
}

/* Makes room for one more address (load factor at most 1/2). */
static int reserve(sdtls_pin_table *t) {
  if ((t->count + 1) * 2 <= t->cap) {
    return SDTLS_OK;
  }
  if (t->cap == 0 && !RAND_bytes((uint8_t *)t->hash_key, sizeof(t->hash_key))) {
    return SDTLS_E_INTERNAL;
  }
  size_t cap = t->cap == 0 ? 16 : t->cap * 2;
  if (cap > SIZE_MAX / 2 / sizeof(*t->slots)) {
    return SDTLS_E_NOMEM;
  }
  sdtls_pin_entry **slots = calloc(cap, sizeof(*slots));
  if (slots == NULL) {
    return SDTLS_E_NOMEM;
  }
  sdtls_pin_table grown = *t;
  grown.slots = slots;
  grown.cap = cap;
  for (size_t i = 0; i < t->cap; i++) {
    if (t->slots[i] != NULL) {
      slots[slot_of(&grown, &t->slots[i]->key, t->slots[i]->hash)] = t->slots[i];
    }
  }
  free(t->slots);
  *t = grown;
  return SDTLS_OK;
}

int Sdtls_pin_table_add(sdtls_pin_table *t, const sdtls_peer_key *peer,
                        const sdtls_fingerprint *fp) {
  const sdtls_peer_key key = pin_key(peer);
  int rc = reserve(t);
  if (rc != SDTLS_OK) {
    return rc;
  }
  uint64_t hash = key_hash(t, &key);
  size_t i = slot_of(t, &key, hash);
  sdtls_pin_entry *e = t->slots[i];
  size_t n = e != NULL ? e->n : 0;
  for (size_t k = 0; k < n; k++) {
    if (memcmp(&e->fps[k], fp, sizeof(*fp)) == 0) {
      return SDTLS_OK;
    }
  }
  if (n == SDTLS_MAX_FINGERPRINTS) {
    return SDTLS_E_LIMIT;
  }
  e = realloc(e, sizeof(*e) + (n + 1) * sizeof(e->fps[0]));
  if (e == NULL) {
    return SDTLS_E_NOMEM; /* the old entry, if any, is untouched */
  }
  if (n == 0) {
    e->key = key;
    e->hash = hash;
    t->count++;
  }
  e->fps[n] = *fp;
  e->n = n + 1;
  t->slots[i] = e;
  return SDTLS_OK;
}

int Sdtls_pin_table_remove(sdtls_pin_table *t, const sdtls_peer_key *peer) {
  if (t->count == 0) {
    return 0;
  }
  const sdtls_peer_key key = pin_key(peer);
  size_t mask = t->cap - 1;
  size_t i = slot_of(t, &key, key_hash(t, &key));
  sdtls_pin_entry *gone = t->slots[i];
  if (gone == NULL) {
    return 0;
  }
  int removed = (int)gone->n;
  free(gone);
  t->count--;
  /* Backward-shift deletion: every entry after the hole whose home slot
   * does not lie cyclically in (hole, its slot] moves into the hole, so no
   * probe sequence is broken and no tombstone is left. */
  for (size_t j = i;;) {
    t->slots[i] = NULL;
    for (;;) {
      j = (j + 1) & mask;
      if (t->slots[j] == NULL) {
        return removed;
      }
      size_t home = (size_t)t->slots[j]->hash & mask;
      if (!(i <= j ? (i < home && home <= j) : (i < home || home <= j))) {
        break;
      }
    }
    t->slots[i] = t->slots[j];
    i = j;
  }
}

const sdtls_fingerprint *Sdtls_pin_table_find(const sdtls_pin_table *t, const sdtls_peer_key *peer,
                                              size_t *n) {
  *n = 0;
  if (t->count == 0) {
    return NULL;
  }
  const sdtls_peer_key key = pin_key(peer);
  const sdtls_pin_entry *e = t->slots[slot_of(t, &key, key_hash(t, &key))];
  if (e == NULL) {
    return NULL;
  }
  *n = e->n;
  return e->fps;
}

void Sdtls_pin_table_free(sdtls_pin_table *t) {
  for (size_t i = 0; i < t->cap; i++) {
    free(t->slots[i]);
  }
  free(t->slots);
  memset(t, 0, sizeof(*t));
}

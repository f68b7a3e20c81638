/* SPDX-License-Identifier: Apache-2.0 */
/* A server's per-peer pins (sdtls_server_pin_peer()): the fingerprints
 * expected of each peer address. Not installed. */
#ifndef SDTLS_PIN_TABLE_H
#define SDTLS_PIN_TABLE_H

#include "cookie.h"
#include "internal.h"

/* Up to SDTLS_MAX_FINGERPRINTS per address (a connection takes no more). */
typedef struct sdtls_pin_entry sdtls_pin_entry;

/* Zero-initialised is empty and valid; Sdtls_pin_table_free() releases it. */
typedef struct sdtls_pin_table {
  uint64_t hash_key[2]; /* drawn at the first pin */
  sdtls_pin_entry **slots; /* `cap` slots (a power of two), or NULL */
  size_t cap, count;       /* count: addresses with pins */
} sdtls_pin_table;

/* Keys are the server's (Sdtls_peer_key_from_sockaddr()), except that an
 * IPv4-mapped IPv6 address without a scope id is its IPv4 address. */

/* Adds `fp` to the pins of `key`. Returns 0 (also when `key` has it
 * already: nothing changes), SDTLS_E_LIMIT (key has SDTLS_MAX_FINGERPRINTS),
 * SDTLS_E_NOMEM or SDTLS_E_INTERNAL (no random key); a refusal changes
 * nothing. */
int Sdtls_pin_table_add(sdtls_pin_table *t, const sdtls_peer_key *key,
                        const sdtls_fingerprint *fp);

/* Removes every pin of `key`; returns how many there were. */
int Sdtls_pin_table_remove(sdtls_pin_table *t, const sdtls_peer_key *key);

/* The pins of `key` (owned by the table, valid until its next change) and
 * their number in *n; NULL and 0 when it has none. */
const sdtls_fingerprint *Sdtls_pin_table_find(const sdtls_pin_table *t, const sdtls_peer_key *key,
                                              size_t *n);

void Sdtls_pin_table_free(sdtls_pin_table *t);

#endif

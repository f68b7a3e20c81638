/* SPDX-License-Identifier: Apache-2.0 */
/* The server's peers by address: a peer address normalised into a key, and
 * a hash table of entries with such keys (open addressing, linear probing,
 * backward-shift deletion, load factor at most 1/2). The table holds
 * pointers to entries its user embeds in its own records and never frees
 * them; the hash of a key is the user's (the server keys it with SipHash,
 * so a spoofer cannot aim addresses at one probe run). Not thread-safe.
 * Not installed. */
#ifndef SDTLS_PEER_TABLE_H
#define SDTLS_PEER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "sdtls.h"

/* A peer address normalised for comparison and hashing: family, port,
 * address (IPv4 in the first 4 bytes) and IPv6 scope id, padding zeroed, so
 * two keys of the same peer are equal byte for byte. */
typedef struct sdtls_peer_key {
  uint8_t bytes[24]; /* family(1) 0(1) port(2) addr(16) scope(4) */
} sdtls_peer_key;

/* Normalises the bytes of a struct sockaddr_in / sockaddr_in6 (`len` as
 * recvfrom() returns it). Returns 0 or SDTLS_E_INVALID_ARGUMENT (NULL, too
 * short for its family, other family, port 0 is accepted). */
int Sdtls_peer_key_from_sockaddr(const uint8_t *addr, size_t len, sdtls_peer_key *out);

/* What the table keeps of a peer: its key and the key's hash. */
typedef struct sdtls_table_entry {
  sdtls_peer_key key;
  uint64_t hash;
} sdtls_table_entry;

/* Zero-initialised: empty, nothing allocated. */
typedef struct sdtls_peer_table {
  sdtls_table_entry **slots; /* `cap` slots (a power of two), or NULL */
  size_t cap, count;
} sdtls_peer_table;

/* The entry with this key (and its hash), or NULL. */
sdtls_table_entry *Sdtls_peer_table_find(const sdtls_peer_table *t, const sdtls_peer_key *key,
                                         uint64_t hash);

/* Makes room for one more entry, so that the next insert cannot fail.
 * Returns 0 or SDTLS_E_NOMEM (the table is unchanged). */
int Sdtls_peer_table_reserve(sdtls_peer_table *t);

/* Adds `e` (not in the table, no other entry with its key) after a
 * successful reserve. */
void Sdtls_peer_table_insert(sdtls_peer_table *t, sdtls_table_entry *e);

/* Removes `e`, which is in the table. */
void Sdtls_peer_table_remove(sdtls_peer_table *t, sdtls_table_entry *e);

/* Frees the slots (not the entries): the table is empty again. */
void Sdtls_peer_table_free(sdtls_peer_table *t);

#endif

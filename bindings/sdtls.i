/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SWIG interface of sdtls, one for every language: run SWIG on this file
 * with the language's flag (-python, -java) and -I bindings -I abi.
 *
 *   bindings/sdtls.i        this file: what every language shares, the
 *                           whole public header %include'd as it is, the
 *                           byte queue the callback trampolines fill, its
 *                           record (qrec) and the slot table that names a
 *                           server's connections by id
 *   bindings/<lang>/typemaps.i  the language's form of the header's argument
 *                           shapes (buffers in, out parameters); included
 *                           before the header, since SWIG applies typemaps
 *                           to what it reads after them
 *   bindings/<lang>/holders.i   the language's handle holders, trampolines
 *                           and queue drains, which its idiomatic layer
 *                           (python/src/sdtls/, bindings/java/src/main/java/) drives
 *
 * Every function, enum and constant of abi/sdtls.h appears in each module
 * without a hand edit; a new function that uses one of the shapes below
 * needs nothing more in any language.
 */
#if defined(SWIGPYTHON)
%module(package="sdtls") _sdtls
#elif defined(SWIGJAVA)
%module SdtlsNative
#else
#error "sdtls: bindings/sdtls.i has no part for this SWIG language (bindings/<lang>/*.i)"
#endif

%{
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdtls.h"
%}

%include <stdint.i>
%include <typemaps.i>

/* ------------------------------------------------------------------------ */
/* The language's typemaps                                                   */
/* ------------------------------------------------------------------------ */

#if defined(SWIGPYTHON)
%include "python/typemaps.i"
#elif defined(SWIGJAVA)
%include "java/typemaps.i"
#endif

/* ------------------------------------------------------------------------ */
/* The header's argument shapes, by parameter name (every language)          */
/* ------------------------------------------------------------------------ */

/* Every (pointer, length) pair of the header by its parameter names; SWIG
 * matches multi-argument typemaps by name. A new pair with new names needs
 * one entry here (python/tests/test_lowlevel.py checks that none is missing).
 * Each language's typemaps.i defines the BYTES shape, and the pairs this
 * list does not name (the optional export context). */
%apply (const uint8_t *BYTES, size_t BYTES_LEN) {
  (const uint8_t *data, size_t len),
  (const uint8_t *datagram, size_t len),
  (const uint8_t *pem, size_t len),
  (const uint8_t *cert_pem, size_t cert_len),
  (const uint8_t *key_pem, size_t key_len),
  (const uint8_t *addr, size_t addr_len),
  (const uint8_t *secret, size_t len),
  (const uint8_t *key, size_t key_len),
  (const uint8_t *session, size_t len),
  (const char *label, size_t label_len),
  (const uint8_t *digest, size_t digest_len)
};

/* A fingerprint's hash out (sdtls_fingerprint_parse). */
%apply int *OUTPUT { int *hash };

/* Borrowed (pointer, length) out: copied into the language's bytes. */
%apply (const uint8_t **PTR, size_t *LEN) { (const uint8_t **der, size_t *len), (const uint8_t **addr, size_t *addr_len) };

%apply int64_t *OUTPUT { int64_t *value };

/* ------------------------------------------------------------------------ */
/* The public header, as it is                                               */
/* ------------------------------------------------------------------------ */

%include "sdtls.h"

/* ------------------------------------------------------------------------ */
/* What every language's trampolines share                                   */
/* ------------------------------------------------------------------------ */

%{
/* The kinds of queued records: the events, and a server's datagram to send
 * (to the record's address). */
enum { EV_CONNECT = 1, EV_HANDSHAKE_DONE = 2, EV_DATA = 3, EV_CLOSE = 4, EV_DATAGRAM = 5 };

/* A growable byte queue of records. The callback trampolines append what a
 * callback produced (a datagram to send, an event) and the language takes
 * the whole queue in one call after the sdtls call returns, so no callback
 * crosses into the language per datagram. A queue belongs to one holder and
 * is used under that holder's one-thread-at-a-time rule.
 *
 * A queue is bounded. A call that would add what the user asked for (a
 * send's datagram, the data of a received datagram) is refused with
 * SDTLS_E_LIMIT ("take what is queued first") before anything happens once
 * the queue holds BQ_MAX_RECORDS records, or the call's record would take
 * it past BQ_MAX_BYTES (bq_room); nothing queued is lost. What the engine
 * adds during a call that was let in (a flight, events) may take a queue up
 * to twice that, so an accepted call loses none of its own records; past
 * that, a datagram the engine sent on its own (a retransmission) counts as
 * lost, which DTLS survives, and a lost event is reported. Bounded so, every
 * length handed to a language fits its 32-bit sizes (jsize, int32). */
#define BQ_MAX_RECORDS 4096
#define BQ_MAX_BYTES ((size_t)16 << 20)
/* A datagram's growth over its data (record header, tag, padding) and a
 * queue record's own header, with room to spare: what bq_room asks for
 * besides the data. */
#define BQ_RECORD_OVERHEAD 512
_Static_assert(2 * BQ_MAX_BYTES < INT32_MAX, "a queue's length fits a jsize and an int32");

typedef struct bq {
  uint8_t *buf;
  size_t len, cap;
  size_t records; /* counted by bq_record */
} bq;

static int bq_reserve(bq *q, size_t more) {
  if (more > 2 * BQ_MAX_BYTES - q->len) return -1; /* the hard bound */
  if (q->cap - q->len >= more) return 0;
  size_t cap = q->cap ? q->cap : 4096;
  while (cap - q->len < more) cap *= 2; /* cannot overflow: len + more <= 32 MiB */
  uint8_t *p = (uint8_t *)realloc(q->buf, cap);
  if (p == NULL) return -1;
  q->buf = p;
  q->cap = cap;
  return 0;
}

/* Room for one more record of `size` bytes, counted: each record's first
 * reservation. */
static int bq_record(bq *q, size_t size) {
  if (q->records >= 2 * BQ_MAX_RECORDS || bq_reserve(q, size) != 0) return -1;
  q->records++;
  return 0;
}

/* Whether the user's call may add a record of about `data_len` bytes of
 * data (see above): refused with SDTLS_E_LIMIT when not. */
static int bq_room(const bq *q, size_t data_len) {
  return q->records < BQ_MAX_RECORDS && q->len <= BQ_MAX_BYTES - BQ_RECORD_OVERHEAD &&
         data_len <= BQ_MAX_BYTES - BQ_RECORD_OVERHEAD - q->len;
}

static void bq_put(bq *q, const void *p, size_t n) { /* after bq_reserve */
  if (n) memcpy(q->buf + q->len, p, n);
  q->len += n;
}

static void bq_reset(bq *q) {
  q->len = 0;
  q->records = 0;
  if (q->cap > (1u << 20)) { /* do not keep a burst's memory */
    free(q->buf);
    q->buf = NULL;
    q->cap = 0;
  }
}

static void bq_free(bq *q) {
  free(q->buf);
  q->buf = NULL;
  q->len = q->cap = q->records = 0;
}

/* The send trampoline's record: [uint32 len, native order][len bytes]. */
static int bq_datagram(bq *q, const uint8_t *datagram, size_t len) {
  uint32_t n = (uint32_t)len; /* len < 2 * BQ_MAX_BYTES, or bq_record refuses */
  if (bq_record(q, sizeof n + len) != 0) return -1;
  bq_put(q, &n, sizeof n);
  bq_put(q, datagram, len);
  return 0;
}

/* The record of an event, or of a server's datagram to send, in every
 * language: int32 kind (EV_*), int32 reason (EV_CLOSE's code), int64 id (a
 * server's connection, see slot_table; 0 for a connection of its own), five
 * uint32 lengths (address, data, error detail, protocol version, cipher
 * suite), then those bytes. The address is the peer's, in the language's
 * form (EV_CONNECT and EV_DATAGRAM); the version and cipher are the
 * library's ASCII names (EV_HANDSHAKE_DONE). Each field is copied in
 * native byte order right after the one before (no padding, no alignment
 * assumed): Python reads it with qrec_read (python/holders.i), Java with
 * QueuedRecord.java. */
#define QREC_HEADER_LEN (2 * sizeof(int32_t) + sizeof(int64_t) + 5 * sizeof(uint32_t))

typedef struct qrec {
  int32_t kind, reason;
  int64_t id;
  const uint8_t *addr, *data;
  const char *detail, *version, *cipher; /* not NUL-terminated when read back */
  uint32_t addr_len, data_len, detail_len, version_len, cipher_len;
} qrec;

/* Appends `r` (the strings NUL-terminated or NULL); -1 when the queue is
 * full or memory runs out, and nothing is added. Lengths fit: a record
 * larger than the queue's bound is refused by bq_record. */
static int qrec_put(bq *q, const qrec *r) {
  uint32_t len[5] = {r->addr_len, r->data_len, r->detail ? (uint32_t)strlen(r->detail) : 0,
                     r->version ? (uint32_t)strlen(r->version) : 0, r->cipher ? (uint32_t)strlen(r->cipher) : 0};
  if (bq_record(q, QREC_HEADER_LEN + (size_t)len[0] + len[1] + len[2] + len[3] + len[4]) != 0) return -1;
  bq_put(q, &r->kind, sizeof r->kind);
  bq_put(q, &r->reason, sizeof r->reason);
  bq_put(q, &r->id, sizeof r->id);
  bq_put(q, len, sizeof len);
  bq_put(q, r->addr, len[0]);
  bq_put(q, r->data, len[1]);
  bq_put(q, r->detail, len[2]);
  bq_put(q, r->version, len[3]);
  bq_put(q, r->cipher, len[4]);
  return 0;
}

/* A server's connections are named to the language by an id (slot index
 * and generation), never by pointer: the pointer dies when on_close
 * returns, and a view that outlives it finds an empty slot instead of freed
 * memory. A connection's app data is its slot index + 1 (0: no slot). */
typedef struct slot {
  sdtls_conn *conn; /* NULL when free */
  uint32_t gen;
  uint32_t next_free;
} slot;

#define NO_SLOT UINT32_MAX

typedef struct slot_table {
  slot *v;
  uint32_t n, cap, free_head; /* free_head: NO_SLOT when no slot is free */
} slot_table;

static void slot_table_init(slot_table *t) {
  memset(t, 0, sizeof *t);
  t->free_head = NO_SLOT;
}

static void slot_table_free(slot_table *t) {
  free(t->v);
  slot_table_init(t);
}

static uint64_t slot_id(const slot_table *t, uint32_t i) { return ((uint64_t)t->v[i].gen << 32) | i; }

/* Gives `conn` a slot (and sets its app data); its index, or NO_SLOT when
 * memory runs out. */
static uint32_t slot_add(slot_table *t, sdtls_conn *conn) {
  uint32_t i;
  if (t->free_head != NO_SLOT) {
    i = t->free_head;
    t->free_head = t->v[i].next_free;
  } else {
    if (t->n == t->cap) {
      uint32_t cap = t->cap ? t->cap * 2 : 16;
      slot *p = (slot *)realloc(t->v, cap * sizeof *p);
      if (p == NULL) return NO_SLOT;
      t->v = p;
      t->cap = cap;
    }
    i = t->n++;
    t->v[i].gen = 0;
  }
  t->v[i].conn = conn;
  t->v[i].next_free = NO_SLOT;
  sdtls_conn_set_app_data(conn, (void *)(uintptr_t)(i + 1));
  return i;
}

/* The slot of one of the server's connections, or NO_SLOT (one that got
 * none). */
static uint32_t slot_of(const slot_table *t, const sdtls_conn *conn) {
  uintptr_t v = (uintptr_t)sdtls_conn_get_app_data(conn);
  return v == 0 || v - 1 >= t->n ? NO_SLOT : (uint32_t)(v - 1);
}

/* The id of one of the server's connections, or -1 for one without a slot
 * (refused in on_connect: none of its events is reported). */
static int64_t slot_id_of(const slot_table *t, const sdtls_conn *conn) {
  uint32_t i = slot_of(t, conn);
  return i == NO_SLOT ? -1 : (int64_t)slot_id(t, i);
}

/* The connection named by `id`, or NULL when it has ended. */
static sdtls_conn *slot_conn(const slot_table *t, uint64_t id) {
  uint32_t i = (uint32_t)id;
  if (i >= t->n || t->v[i].gen != (uint32_t)(id >> 32)) return NULL;
  return t->v[i].conn;
}

/* Frees slot i (its connection's on_close: the server frees it next); a
 * new generation, so that the old id finds nothing. */
static void slot_remove(slot_table *t, uint32_t i) {
  t->v[i].conn = NULL;
  t->v[i].gen++;
  t->v[i].next_free = t->free_head;
  t->free_head = i;
}
%}

%constant int EV_CONNECT = EV_CONNECT;
%constant int EV_HANDSHAKE_DONE = EV_HANDSHAKE_DONE;
%constant int EV_DATA = EV_DATA;
%constant int EV_CLOSE = EV_CLOSE;
%constant int EV_DATAGRAM = EV_DATAGRAM;

/* ------------------------------------------------------------------------ */
/* The language's holders                                                    */
/* ------------------------------------------------------------------------ */

#if defined(SWIGPYTHON)
%include "python/holders.i"
#elif defined(SWIGJAVA)
%include "java/holders.i"
#endif

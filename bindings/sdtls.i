/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SWIG interface of sdtls, one for every language: run SWIG on this file
 * with the language's flag (-python, -java) and -I bindings -I abi.
 *
 *   bindings/sdtls.i        this file: what every language shares, the
 *                           whole public header %include'd as it is, and
 *                           the byte queue the callback trampolines fill
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
/* The kinds of queued events. */
enum { EV_CONNECT = 1, EV_HANDSHAKE_DONE = 2, EV_DATA = 3, EV_CLOSE = 4 };

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
%}

%constant int EV_CONNECT = EV_CONNECT;
%constant int EV_HANDSHAKE_DONE = EV_HANDSHAKE_DONE;
%constant int EV_DATA = EV_DATA;
%constant int EV_CLOSE = EV_CLOSE;

/* ------------------------------------------------------------------------ */
/* The language's holders                                                    */
/* ------------------------------------------------------------------------ */

#if defined(SWIGPYTHON)
%include "python/holders.i"
#elif defined(SWIGJAVA)
%include "java/holders.i"
#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The DTLS wire format as the server's stateless front end reads and writes
 * it (RFC 6347; RFC 9147 for DTLS 1.3): record headers, a bounds-checked
 * parser of a datagram's first record holding a ClientHello (or a fragment
 * of one), and the messages sent without a connection: HelloVerifyRequest,
 * HelloRetryRequest, a fatal alert, and the DTLS 1.3 transcript that a
 * stateless HelloRetryRequest leaves for the engine. Nothing here
 * allocates or keeps state. Not installed. */
#ifndef SDTLS_WIRE_H
#define SDTLS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdtls.h"

/* Writes the n low bytes of v big-endian (network order) at out. */
static inline void Sdtls_put_be(uint8_t *out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    out[n - 1 - i] = (uint8_t)(v >> (8 * i));
  }
}

/* ---- records ---- */

#define SDTLS_RECORD_HEADER_LEN 13
#define SDTLS_HANDSHAKE_HEADER_LEN 12
#define SDTLS_RANDOM_LEN 32
#define SDTLS_MAX_RECORD_SEQ UINT64_C(0xffffffffffff)

/* 1 if `dgram` begins with a structurally valid DTLS record header (known
 * content type, version 0xfe.., length within the datagram), else 0. */
int Sdtls_record_header_ok(const uint8_t *dgram, size_t len);

/* 1 if `dgram` begins with a DTLS 1.3 record in the unified header form
 * (RFC 9147 4: first byte 001CSLEE) that is long enough to hold the header
 * its flags announce, else 0. Such records are encrypted: only a known
 * peer's connection can tell whether one is genuine. */
int Sdtls_record_is_unified(const uint8_t *dgram, size_t len);

/* ---- ClientHello fragments (RFC 6347 4.2.3) ---- */

/* The first record of a datagram holding a fragment of an epoch-0
 * ClientHello. */
typedef struct sdtls_ch_fragment {
  uint64_t record_seq;
  uint16_t record_version;
  uint16_t message_seq;
  size_t message_len;     /* the whole ClientHello's body */
  size_t fragment_offset; /* of this fragment within it */
  const uint8_t *fragment;
  size_t fragment_len;
} sdtls_ch_fragment;

/* Parses the first record of `dgram` as a ClientHello fragment. Returns
 * SDTLS_CH_OK (also for a whole ClientHello: offset 0, the full length),
 * SDTLS_CH_NOT_CLIENT_HELLO or SDTLS_CH_MALFORMED (like
 * Sdtls_client_hello_parse(), and for a fragment that does not fit its
 * message). Never reads outside dgram[0..len). */
int Sdtls_client_hello_fragment_parse(const uint8_t *dgram, size_t len,
                                      sdtls_ch_fragment *out);

/* Writes one datagram holding the whole ClientHello `body` (message_len
 * bytes) unfragmented in one record, with the record number and versions of
 * `frag`: what Sdtls_client_hello_parse() and the engine take. Returns its
 * length, or 0 when it does not fit `out_cap`. */
size_t Sdtls_client_hello_assemble(const sdtls_ch_fragment *frag, const uint8_t *body,
                                   uint8_t *out, size_t out_cap);

/* ---- ClientHello ---- */

typedef struct sdtls_client_hello {
  uint64_t record_seq; /* 48-bit record sequence number */
  uint16_t record_version;
  uint16_t message_seq;
  uint16_t client_version;
  const uint8_t *random; /* SDTLS_RANDOM_LEN bytes */
  const uint8_t *session_id;
  size_t session_id_len;
  const uint8_t *cookie;
  size_t cookie_len;
  const uint8_t *cipher_suites;
  size_t cipher_suites_len;
  const uint8_t *compression_methods;
  size_t compression_methods_len;
  const uint8_t *extensions; /* the extensions' bodies, without the u16 length */
  size_t extensions_len;
} sdtls_client_hello;

typedef enum sdtls_ch_result {
  SDTLS_CH_OK = 0,
  /* A well-formed record that is not an epoch-0 ClientHello (another
   * content type or handshake message, a later epoch). */
  SDTLS_CH_NOT_CLIENT_HELLO = 1,
  /* Not a parsable DTLS datagram, a broken ClientHello, or a fragmented one
   * (which the stateless exchange cannot take). */
  SDTLS_CH_MALFORMED = 2
} sdtls_ch_result;

/* Parses the first record of `dgram`. Every field of *out points into
 * `dgram`. Never reads outside dgram[0..len). */
sdtls_ch_result Sdtls_client_hello_parse(const uint8_t *dgram, size_t len,
                                         sdtls_client_hello *out);

/* 1 if the ClientHello offers `version` (a DTLS wire version such as
 * SDTLS_DTLS1_3) in its supported_versions extension (RFC 8446 4.2.1),
 * else 0. DTLS 1.3 is only ever offered there. */
int Sdtls_client_hello_offers(const sdtls_client_hello *ch, uint16_t version);

/* ---- stateless replies ---- */

/* The cookie a HelloVerifyRequest carries (cookie.c makes it). */
#define SDTLS_COOKIE_LEN 32

/* Writes the HelloVerifyRequest answering `ch` (record sequence number
 * copied from it, message_seq 0, server_version DTLS 1.0) into out.
 * Returns its length, or 0 when it would not fit `out_cap` bytes. */
size_t Sdtls_hello_verify_request(const sdtls_client_hello *ch,
                                  const uint8_t cookie[SDTLS_COOKIE_LEN], uint8_t *out,
                                  size_t out_cap);

#define SDTLS_HVR_LEN \
  (SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN + 2 + 1 + SDTLS_COOKIE_LEN)

/* Writes a fatal alert (`description`, an SSL_AD_* value) in one DTLS 1.2
 * record at epoch 0 with the record number `record_seq` (copied from the
 * datagram it answers) into out. Returns its length. */
#define SDTLS_ALERT_LEN (SDTLS_RECORD_HEADER_LEN + 2)
size_t Sdtls_fatal_alert(uint64_t record_seq, uint8_t description, uint8_t out[SDTLS_ALERT_LEN]);

/* ---- DTLS 1.3: the HelloRetryRequest (RFC 9147 5.1) ---- */

/* What a DTLS 1.3 ClientHello says about key exchange and cookies (the
 * pointers point into the ClientHello's extensions). */
typedef struct sdtls_ch13 {
  bool offers13;          /* supported_versions holds DTLS 1.3 */
  const uint8_t *groups;  /* supported_groups: u16 list bytes */
  size_t groups_len;
  const uint8_t *shares;  /* key_share: KeyShareEntry list bytes */
  size_t shares_len;
  bool has_cookie;        /* a cookie extension (the second ClientHello) */
  const uint8_t *cookie;
  size_t cookie_len;
} sdtls_ch13;

/* Reads the extensions of `ch`. Returns 1, or 0 when one of them does not
 * parse. */
int Sdtls_client_hello_13(const sdtls_client_hello *ch, sdtls_ch13 *out);

/* 1 if the key_share extension holds a share for `group`. */
int Sdtls_ch13_has_share(const sdtls_ch13 *x, uint16_t group);

/* The hash (SHA-256, or SHA-384 when `sha384`) of the ClientHello in
 * `whole` (a datagram holding it unfragmented in one record, as
 * Sdtls_client_hello_parse() takes it) in TLS form, for message_hash
 * (RFC 8446 4.4.1). Writes out[0..len) and returns len. */
size_t Sdtls_client_hello_hash(const uint8_t *whole, size_t whole_len, int sha384,
                               uint8_t out[48]);

/* What a HelloRetryRequest cookie carries. */
typedef struct sdtls_hrr_state {
  uint16_t cipher;
  uint16_t group;
  bool ask_share; /* the HelloRetryRequest asked for a key share of `group` */
  uint8_t hash[48]; /* of the first ClientHello */
  size_t hash_len;
} sdtls_hrr_state;

/* Writes the HelloRetryRequest answering `ch` (record number copied from
 * it, message_seq 0) with `cookie` and the suite and group of `st` into
 * out: one record, its handshake message at SDTLS_RECORD_HEADER_LEN.
 * Returns the datagram's length, or 0 when it does not fit. The same inputs
 * give the same message (the server writes it again, for the transcript,
 * when the second ClientHello comes). */
size_t Sdtls_hello_retry_request(const sdtls_client_hello *ch, const sdtls_hrr_state *st,
                                 const uint8_t *cookie, size_t cookie_len, uint8_t *out,
                                 size_t out_cap);

/* The handshake transcript after a stateless HelloRetryRequest, as the
 * engine's transcript buffer takes it: message_hash (RFC 8446 4.4.1)
 * carrying the first ClientHello's hash (st->hash), then `hrr` (a datagram
 * from Sdtls_hello_retry_request(), `hrr_len` bytes) in TLS form. Returns
 * its length, or 0 when it does not fit out_cap. */
#define SDTLS_MAX_HRR 512
#define SDTLS_MAX_HRR_TRANSCRIPT (4 + 8 + 48 + SDTLS_MAX_HRR)
size_t Sdtls_hrr_transcript(const sdtls_hrr_state *st, const uint8_t *hrr, size_t hrr_len,
                            uint8_t *out, size_t out_cap);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless cookie exchange (RFC 6347 4.2.1; RFC 9147 5.1 for DTLS 1.3): a
 * bounds-checked parser of a datagram's first DTLS record holding a
 * ClientHello (or a fragment of one), the cookie (an HMAC over the peer
 * address and the ClientHello fields that stay the same in both
 * ClientHellos, under a rotating secret and a time bucket), the
 * HelloVerifyRequest and the DTLS 1.3 HelloRetryRequest. Nothing here
 * allocates. Not installed. */
#ifndef SDTLS_COOKIE_H
#define SDTLS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "peer_table.h"
#include "sdtls.h"

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

/* ---- cookies ---- */

#define SDTLS_COOKIE_LEN 32
#define SDTLS_COOKIE_SECRET_MAX 64
#define SDTLS_COOKIE_SECRET_MIN 16

/* An HMAC-SHA256 key as the hash states after its inner and outer pads:
 * a cookie then costs two hash finals, no key set-up and no allocation. */
typedef struct sdtls_hmac_key {
  SHA256_CTX inner, outer;
} sdtls_hmac_key;

typedef struct sdtls_cookie_keys {
  sdtls_hmac_key current;
  sdtls_hmac_key previous;
  bool has_previous;
  sdtls_time previous_until;  /* the previous secret is accepted before this */
  uint64_t lifetime_ns;       /* one time bucket */
} sdtls_cookie_keys;

/* Draws a random current secret. Returns 0 or SDTLS_E_INTERNAL. */
int Sdtls_cookie_keys_init(sdtls_cookie_keys *keys, uint64_t lifetime_ms);

/* Makes `secret` current; the current one becomes the previous one, accepted
 * for one more lifetime after `now`; the one before is forgotten.
 * Returns 0 or SDTLS_E_INVALID_ARGUMENT (length outside 16..64). */
int Sdtls_cookie_keys_rotate(sdtls_cookie_keys *keys, const uint8_t *secret, size_t len,
                             sdtls_time now);

/* Wipes the secrets. */
void Sdtls_cookie_keys_wipe(sdtls_cookie_keys *keys);

/* Computes the cookie for `ch` from `peer` at `now` into out. */
void Sdtls_cookie_make(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                       const sdtls_client_hello *ch, sdtls_time now,
                       uint8_t out[SDTLS_COOKIE_LEN]);

/* 1 if ch->cookie is a cookie this server made for this peer and these
 * ClientHello fields, in the current or previous time bucket, under the
 * current secret or (while still accepted) the previous one; else 0.
 * Constant time in the cookie's bytes. */
int Sdtls_cookie_verify(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                        const sdtls_client_hello *ch, sdtls_time now);

/* Writes the HelloVerifyRequest answering `ch` (record sequence number
 * copied from it, message_seq 0, server_version DTLS 1.0) into out.
 * Returns its length, or 0 when it would not fit `out_cap` bytes. */
size_t Sdtls_hello_verify_request(const sdtls_client_hello *ch,
                                  const uint8_t cookie[SDTLS_COOKIE_LEN], uint8_t *out,
                                  size_t out_cap);

/* ---- DTLS 1.3: stateless HelloRetryRequest cookies (RFC 9147 5.1) ---- */

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

#define SDTLS_HRR_COOKIE_MAC 16
#define SDTLS_HRR_COOKIE_MAX (1 + 2 + 2 + 1 + 1 + 48 + SDTLS_HRR_COOKIE_MAC)

/* What a HelloRetryRequest cookie carries. */
typedef struct sdtls_hrr_state {
  uint16_t cipher;
  uint16_t group;
  bool ask_share; /* the HelloRetryRequest asked for a key share of `group` */
  uint8_t hash[48]; /* of the first ClientHello */
  size_t hash_len;
} sdtls_hrr_state;

/* The cookie for `st` and a ClientHello `ch` from `peer` at `now`: binds
 * the client random, session id and cipher suites (which the second
 * ClientHello repeats) and the peer address. Returns its length. */
size_t Sdtls_hrr_cookie_make(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                             const sdtls_client_hello *ch, sdtls_time now,
                             const sdtls_hrr_state *st, uint8_t out[SDTLS_HRR_COOKIE_MAX]);

/* Opens a cookie from a second ClientHello into *st. Returns 1 if this
 * server made it for this peer and ClientHello in the current or previous
 * time bucket, under the current or (still accepted) previous secret. */
int Sdtls_hrr_cookie_open(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                          const sdtls_client_hello *ch, sdtls_time now, const uint8_t *cookie,
                          size_t cookie_len, sdtls_hrr_state *st);

/* Writes the HelloRetryRequest answering `ch` (record number copied from
 * it, message_seq 0) with `cookie` and the suite and group of `st` into
 * out: one record, its handshake message at SDTLS_RECORD_HEADER_LEN.
 * Returns the datagram's length, or 0 when it does not fit. The same inputs
 * give the same message (the server writes it again, for the transcript,
 * when the second ClientHello comes). */
size_t Sdtls_hello_retry_request(const sdtls_client_hello *ch, const sdtls_hrr_state *st,
                                 const uint8_t *cookie, size_t cookie_len, uint8_t *out,
                                 size_t out_cap);

#define SDTLS_HVR_LEN \
  (SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN + 2 + 1 + SDTLS_COOKIE_LEN)

#endif

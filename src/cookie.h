/* SPDX-License-Identifier: Apache-2.0 */
/* Cookies (RFC 6347 4.2.1; RFC 9147 5.1 for DTLS 1.3): an HMAC over the
 * peer address and the ClientHello fields that stay the same in both
 * ClientHellos, under a rotating secret and a time bucket; the DTLS 1.3
 * HelloRetryRequest cookie also carries what the server decided (suite,
 * group, the first ClientHello's hash). Nothing here allocates. Not
 * installed. */
#ifndef SDTLS_COOKIE_H
#define SDTLS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "peer_table.h"
#include "sdtls.h"
#include "wire.h"

/* ---- cookies ---- */

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

/* ---- DTLS 1.3: HelloRetryRequest cookies ---- */

#define SDTLS_HRR_COOKIE_MAC 16
#define SDTLS_HRR_COOKIE_MAX (1 + 2 + 2 + 1 + 1 + 48 + SDTLS_HRR_COOKIE_MAC)

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

#endif

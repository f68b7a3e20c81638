/* SPDX-License-Identifier: Apache-2.0 */
/* Cookies: HMAC keys, their rotation, and the cookies of the
 * HelloVerifyRequest and the DTLS 1.3 HelloRetryRequest (see cookie.h and
 * docs/design.md). */
#include "cookie.h"

#include <string.h>

#include <openssl/mem.h>
#include <openssl/rand.h>

/* ---- cookies ---- */

static const char kCookieLabel[] = "sdtls cookie v1";

static void hmac_key_set(sdtls_hmac_key *key, const uint8_t *secret, size_t len) {
  /* RFC 2104 with a key of at most one block (64 bytes, checked). */
  uint8_t pad[SHA256_CBLOCK];
  memset(pad, 0, sizeof(pad));
  memcpy(pad, secret, len);
  for (size_t i = 0; i < sizeof(pad); i++) pad[i] ^= 0x36;
  SHA256_Init(&key->inner);
  SHA256_Update(&key->inner, pad, sizeof(pad));
  for (size_t i = 0; i < sizeof(pad); i++) pad[i] ^= 0x36 ^ 0x5c;
  SHA256_Init(&key->outer);
  SHA256_Update(&key->outer, pad, sizeof(pad));
  OPENSSL_cleanse(pad, sizeof(pad));
}

int Sdtls_cookie_keys_init(sdtls_cookie_keys *keys, uint64_t lifetime_ms) {
  memset(keys, 0, sizeof(*keys));
  keys->lifetime_ns = (lifetime_ms == 0 ? 1 : lifetime_ms) * UINT64_C(1000000);
  uint8_t secret[32];
  if (!RAND_bytes(secret, sizeof(secret))) {
    return SDTLS_E_INTERNAL;
  }
  hmac_key_set(&keys->current, secret, sizeof(secret));
  OPENSSL_cleanse(secret, sizeof(secret));
  return 0;
}

int Sdtls_cookie_keys_rotate(sdtls_cookie_keys *keys, const uint8_t *secret, size_t len,
                             sdtls_time now) {
  if (keys == NULL || secret == NULL || len < SDTLS_COOKIE_SECRET_MIN ||
      len > SDTLS_COOKIE_SECRET_MAX) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  keys->previous = keys->current;
  keys->has_previous = true;
  keys->previous_until =
      now > SDTLS_TIME_NEVER - keys->lifetime_ns ? SDTLS_TIME_NEVER : now + keys->lifetime_ns;
  hmac_key_set(&keys->current, secret, len);
  return 0;
}

void Sdtls_cookie_keys_wipe(sdtls_cookie_keys *keys) {
  if (keys != NULL) {
    OPENSSL_cleanse(keys, sizeof(*keys));
  }
}

/* cookie = tag || HMAC-SHA256(secret, label, tag, bucket, peer, client_version,
 * random, session_id, cipher_suites, compression_methods)[0..31).
 * The extensions are left out: a client may change them between its two
 * ClientHellos (and the engine checks the full second one anyway); the
 * random alone binds the cookie to this handshake attempt. */
static void cookie_compute(const sdtls_hmac_key *key, uint64_t bucket,
                           const sdtls_peer_key *peer, const sdtls_client_hello *ch,
                           uint8_t out[SDTLS_COOKIE_LEN]) {
  uint8_t tag = (uint8_t)bucket;
  uint8_t head[1 + 8 + sizeof(peer->bytes) + 2 + SDTLS_RANDOM_LEN];
  size_t n = 0;
  head[n++] = tag;
  Sdtls_put_be(&head[n], bucket, 8);
  n += 8;
  memcpy(&head[n], peer->bytes, sizeof(peer->bytes));
  n += sizeof(peer->bytes);
  Sdtls_put_be(&head[n], ch->client_version, 2);
  n += 2;
  memcpy(&head[n], ch->random, SDTLS_RANDOM_LEN);
  n += SDTLS_RANDOM_LEN;

  uint8_t l1[1], l2[2], l3[1];
  l1[0] = (uint8_t)ch->session_id_len;
  Sdtls_put_be(l2, ch->cipher_suites_len, 2);
  l3[0] = (uint8_t)ch->compression_methods_len;

  SHA256_CTX ctx = key->inner;
  SHA256_Update(&ctx, kCookieLabel, sizeof(kCookieLabel));
  SHA256_Update(&ctx, head, n);
  SHA256_Update(&ctx, l1, 1);
  SHA256_Update(&ctx, ch->session_id, ch->session_id_len);
  SHA256_Update(&ctx, l2, 2);
  SHA256_Update(&ctx, ch->cipher_suites, ch->cipher_suites_len);
  SHA256_Update(&ctx, l3, 1);
  SHA256_Update(&ctx, ch->compression_methods, ch->compression_methods_len);
  uint8_t inner[SHA256_DIGEST_LENGTH], mac[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner, &ctx);
  ctx = key->outer;
  SHA256_Update(&ctx, inner, sizeof(inner));
  SHA256_Final(mac, &ctx);
  out[0] = tag;
  memcpy(&out[1], mac, SDTLS_COOKIE_LEN - 1);
  OPENSSL_cleanse(inner, sizeof(inner));
  OPENSSL_cleanse(mac, sizeof(mac));
  OPENSSL_cleanse(&ctx, sizeof(ctx));
}

static uint64_t bucket_of(const sdtls_cookie_keys *keys, sdtls_time now) {
  return now / keys->lifetime_ns;
}

void Sdtls_cookie_make(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                       const sdtls_client_hello *ch, sdtls_time now,
                       uint8_t out[SDTLS_COOKIE_LEN]) {
  cookie_compute(&keys->current, bucket_of(keys, now), peer, ch, out);
}

int Sdtls_cookie_verify(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                        const sdtls_client_hello *ch, sdtls_time now) {
  if (ch->cookie_len != SDTLS_COOKIE_LEN) {
    return 0;
  }
  /* The tag names the bucket (its low byte): the current or the previous. */
  uint64_t b = bucket_of(keys, now);
  uint64_t bucket;
  if (ch->cookie[0] == (uint8_t)b) {
    bucket = b;
  } else if (b > 0 && ch->cookie[0] == (uint8_t)(b - 1)) {
    bucket = b - 1;
  } else {
    return 0;
  }
  uint8_t expect[SDTLS_COOKIE_LEN];
  cookie_compute(&keys->current, bucket, peer, ch, expect);
  int ok = CRYPTO_memcmp(expect, ch->cookie, SDTLS_COOKIE_LEN) == 0;
  if (keys->has_previous && now < keys->previous_until) {
    cookie_compute(&keys->previous, bucket, peer, ch, expect);
    ok |= CRYPTO_memcmp(expect, ch->cookie, SDTLS_COOKIE_LEN) == 0;
  }
  OPENSSL_cleanse(expect, sizeof(expect));
  return ok;
}

/* ---- DTLS 1.3: HelloRetryRequest cookies ---- */

static const char kHrrLabel[] = "sdtls hrr cookie v1";

/* MAC over the label, the bucket, the peer, the ClientHello fields the
 * second one repeats and the cookie's own fields (`fields`). */
static void hrr_mac(const sdtls_hmac_key *key, uint64_t bucket, const sdtls_peer_key *peer,
                    const sdtls_client_hello *ch, const uint8_t *fields, size_t fields_len,
                    uint8_t out[SDTLS_HRR_COOKIE_MAC]) {
  uint8_t b[8], l1[1], l2[2];
  Sdtls_put_be(b, bucket, 8);
  l1[0] = (uint8_t)ch->session_id_len;
  Sdtls_put_be(l2, ch->cipher_suites_len, 2);
  SHA256_CTX ctx = key->inner;
  SHA256_Update(&ctx, kHrrLabel, sizeof(kHrrLabel));
  SHA256_Update(&ctx, b, 8);
  SHA256_Update(&ctx, peer->bytes, sizeof(peer->bytes));
  SHA256_Update(&ctx, ch->random, SDTLS_RANDOM_LEN);
  SHA256_Update(&ctx, l1, 1);
  SHA256_Update(&ctx, ch->session_id, ch->session_id_len);
  SHA256_Update(&ctx, l2, 2);
  SHA256_Update(&ctx, ch->cipher_suites, ch->cipher_suites_len);
  SHA256_Update(&ctx, fields, fields_len);
  uint8_t inner[SHA256_DIGEST_LENGTH], mac[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner, &ctx);
  ctx = key->outer;
  SHA256_Update(&ctx, inner, sizeof(inner));
  SHA256_Final(mac, &ctx);
  memcpy(out, mac, SDTLS_HRR_COOKIE_MAC);
  OPENSSL_cleanse(inner, sizeof(inner));
  OPENSSL_cleanse(mac, sizeof(mac));
  OPENSSL_cleanse(&ctx, sizeof(ctx));
}

/* tag(1) cipher(2) group(2) ask_share(1) hash_len(1) hash mac */
static size_t hrr_fields(uint8_t tag, const sdtls_hrr_state *st, uint8_t *out) {
  size_t n = 0;
  out[n++] = tag;
  Sdtls_put_be(&out[n], st->cipher, 2);
  n += 2;
  Sdtls_put_be(&out[n], st->group, 2);
  n += 2;
  out[n++] = st->ask_share ? 1 : 0;
  out[n++] = (uint8_t)st->hash_len;
  memcpy(&out[n], st->hash, st->hash_len);
  return n + st->hash_len;
}

size_t Sdtls_hrr_cookie_make(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                             const sdtls_client_hello *ch, sdtls_time now,
                             const sdtls_hrr_state *st, uint8_t out[SDTLS_HRR_COOKIE_MAX]) {
  uint64_t bucket = bucket_of(keys, now);
  size_t n = hrr_fields((uint8_t)bucket, st, out);
  hrr_mac(&keys->current, bucket, peer, ch, out, n, out + n);
  return n + SDTLS_HRR_COOKIE_MAC;
}

int Sdtls_hrr_cookie_open(const sdtls_cookie_keys *keys, const sdtls_peer_key *peer,
                          const sdtls_client_hello *ch, sdtls_time now, const uint8_t *cookie,
                          size_t cookie_len, sdtls_hrr_state *st) {
  memset(st, 0, sizeof(*st));
  if (cookie_len < 7 + SDTLS_HRR_COOKIE_MAC) {
    return 0;
  }
  size_t hash_len = cookie[6];
  if ((hash_len != 32 && hash_len != 48) || cookie_len != 7 + hash_len + SDTLS_HRR_COOKIE_MAC ||
      cookie[5] > 1) {
    return 0;
  }
  uint64_t b = bucket_of(keys, now);
  uint64_t bucket;
  if (cookie[0] == (uint8_t)b) {
    bucket = b;
  } else if (b > 0 && cookie[0] == (uint8_t)(b - 1)) {
    bucket = b - 1;
  } else {
    return 0;
  }
  size_t n = 7 + hash_len;
  uint8_t expect[SDTLS_HRR_COOKIE_MAC];
  hrr_mac(&keys->current, bucket, peer, ch, cookie, n, expect);
  int ok = CRYPTO_memcmp(expect, cookie + n, SDTLS_HRR_COOKIE_MAC) == 0;
  if (keys->has_previous && now < keys->previous_until) {
    hrr_mac(&keys->previous, bucket, peer, ch, cookie, n, expect);
    ok |= CRYPTO_memcmp(expect, cookie + n, SDTLS_HRR_COOKIE_MAC) == 0;
  }
  OPENSSL_cleanse(expect, sizeof(expect));
  if (!ok) {
    return 0;
  }
  st->cipher = (uint16_t)(cookie[1] << 8 | cookie[2]);
  st->group = (uint16_t)(cookie[3] << 8 | cookie[4]);
  st->ask_share = cookie[5] != 0;
  st->hash_len = hash_len;
  memcpy(st->hash, cookie + 7, hash_len);
  return 1;
}

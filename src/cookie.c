/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless cookie exchange (RFC 6347 4.2.1). See cookie.h and docs/design.md. */
#include "cookie.h"

#include <string.h>

#include <openssl/mem.h>
#include <openssl/rand.h>

static void put_be(uint8_t *out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    out[n - 1 - i] = (uint8_t)(v >> (8 * i));
  }
}

/* ---- a bounds-checked reader ---- */

typedef struct reader {
  const uint8_t *p;
  size_t left;
} reader;

static bool rd_bytes(reader *r, size_t n, const uint8_t **out) {
  if (r->left < n) {
    return false;
  }
  *out = r->p;
  r->p += n;
  r->left -= n;
  return true;
}

static bool rd_uint(reader *r, size_t n, uint64_t *out) {
  const uint8_t *b;
  if (n > 8 || !rd_bytes(r, n, &b)) {
    return false;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    v = (v << 8) | b[i];
  }
  *out = v;
  return true;
}

/* A vector with an n-byte length prefix. */
static bool rd_vec(reader *r, size_t n, const uint8_t **data, size_t *len) {
  uint64_t l;
  if (!rd_uint(r, n, &l) || l > r->left) {
    return false;
  }
  *len = (size_t)l;
  return rd_bytes(r, (size_t)l, data);
}

/* ---- records ---- */

#define CT_CHANGE_CIPHER_SPEC 20
#define CT_APPLICATION_DATA 23
#define CT_HANDSHAKE 22
#define MT_CLIENT_HELLO 1
#define MT_HELLO_VERIFY_REQUEST 3
/* Largest DTLS record body (ciphertext) RFC 6347 allows. */
#define MAX_RECORD_BODY (16384 + 2048)

typedef struct record {
  uint8_t type;
  uint16_t version;
  uint16_t epoch;
  uint64_t seq;
  const uint8_t *body;
  size_t body_len;
} record;

static bool parse_record_header(const uint8_t *dgram, size_t len, record *rec) {
  if (dgram == NULL) {
    return false;
  }
  reader r = {dgram, len};
  uint64_t type, version, epoch, seq;
  if (!rd_uint(&r, 1, &type) || !rd_uint(&r, 2, &version) || !rd_uint(&r, 2, &epoch) ||
      !rd_uint(&r, 6, &seq) || !rd_vec(&r, 2, &rec->body, &rec->body_len)) {
    return false;
  }
  if (type < CT_CHANGE_CIPHER_SPEC || type > CT_APPLICATION_DATA || (version >> 8) != 0xfe ||
      rec->body_len > MAX_RECORD_BODY) {
    return false;
  }
  rec->type = (uint8_t)type;
  rec->version = (uint16_t)version;
  rec->epoch = (uint16_t)epoch;
  rec->seq = seq;
  return true;
}

int Sdtls_record_header_ok(const uint8_t *dgram, size_t len) {
  record rec;
  return parse_record_header(dgram, len, &rec) ? 1 : 0;
}

int Sdtls_record_is_unified(const uint8_t *dgram, size_t len) {
  if (dgram == NULL || len < 1 || (dgram[0] & 0xe0) != 0x20) {
    return 0;
  }
  /* 001CSLEE: C connection id (none is negotiated here), S 16-bit sequence
   * number, L length present. */
  uint8_t flags = dgram[0];
  if (flags & 0x10) {
    return 0;
  }
  size_t header = 1 + ((flags & 0x08) ? 2 : 1) + ((flags & 0x04) ? 2 : 0);
  if (len <= header) {
    return 0;
  }
  if (flags & 0x04) {
    size_t body = ((size_t)dgram[header - 2] << 8) | dgram[header - 1];
    if (body == 0 || body > len - header) {
      return 0;
    }
  }
  return 1;
}

/* ---- ClientHello fragments ---- */

/* The record and handshake headers of a ClientHello at epoch 0: on
 * success `r` holds what follows the handshake header in the record. */
typedef struct ch_header {
  record rec;
  reader r;
  uint64_t msg_len, msg_seq, frag_off, frag_len;
} ch_header;

static sdtls_ch_result parse_ch_header(const uint8_t *dgram, size_t len, ch_header *h) {
  if (!parse_record_header(dgram, len, &h->rec)) {
    return SDTLS_CH_MALFORMED;
  }
  if (h->rec.type != CT_HANDSHAKE || h->rec.epoch != 0) {
    return SDTLS_CH_NOT_CLIENT_HELLO;
  }
  h->r = (reader){h->rec.body, h->rec.body_len};
  uint64_t msg_type;
  if (!rd_uint(&h->r, 1, &msg_type)) {
    return SDTLS_CH_MALFORMED;
  }
  if (msg_type != MT_CLIENT_HELLO) {
    return SDTLS_CH_NOT_CLIENT_HELLO;
  }
  if (!rd_uint(&h->r, 3, &h->msg_len) || !rd_uint(&h->r, 2, &h->msg_seq) ||
      !rd_uint(&h->r, 3, &h->frag_off) || !rd_uint(&h->r, 3, &h->frag_len)) {
    return SDTLS_CH_MALFORMED;
  }
  return SDTLS_CH_OK;
}

int Sdtls_client_hello_fragment_parse(const uint8_t *dgram, size_t len,
                                      sdtls_ch_fragment *out) {
  if (out == NULL) {
    return SDTLS_CH_MALFORMED;
  }
  memset(out, 0, sizeof(*out));
  ch_header h;
  sdtls_ch_result rc = parse_ch_header(dgram, len, &h);
  if (rc != SDTLS_CH_OK) {
    return rc;
  }
  if (h.frag_len == 0 || h.frag_len > h.r.left || h.frag_off > h.msg_len ||
      h.frag_len > h.msg_len - h.frag_off) {
    return SDTLS_CH_MALFORMED;
  }
  out->record_seq = h.rec.seq;
  out->record_version = h.rec.version;
  out->message_seq = (uint16_t)h.msg_seq;
  out->message_len = (size_t)h.msg_len;
  out->fragment_offset = (size_t)h.frag_off;
  out->fragment = h.r.p;
  out->fragment_len = (size_t)h.frag_len;
  return SDTLS_CH_OK;
}

/* Writes an epoch-0 record header and the header of one unfragmented
 * handshake message (message_seq `msg_seq`, `body_len` bytes of body to
 * follow) at out[0..25]; returns the 25. */
static size_t put_handshake_headers(uint8_t *out, uint16_t record_version, uint64_t record_seq,
                                    uint8_t msg_type, uint16_t msg_seq, size_t body_len) {
  size_t n = 0;
  out[n++] = CT_HANDSHAKE;
  put_be(&out[n], record_version, 2);
  n += 2;
  put_be(&out[n], 0, 2); /* epoch 0 */
  n += 2;
  put_be(&out[n], record_seq & SDTLS_MAX_RECORD_SEQ, 6);
  n += 6;
  put_be(&out[n], SDTLS_HANDSHAKE_HEADER_LEN + body_len, 2);
  n += 2;
  out[n++] = msg_type;
  put_be(&out[n], body_len, 3);
  n += 3;
  put_be(&out[n], msg_seq, 2);
  n += 2;
  put_be(&out[n], 0, 3); /* fragment_offset */
  n += 3;
  put_be(&out[n], body_len, 3); /* fragment_length: the whole message */
  n += 3;
  return n;
}

size_t Sdtls_client_hello_assemble(const sdtls_ch_fragment *frag, const uint8_t *body,
                                   uint8_t *out, size_t out_cap) {
  size_t n = SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN + frag->message_len;
  if (frag->message_len + SDTLS_HANDSHAKE_HEADER_LEN > MAX_RECORD_BODY || n > out_cap) {
    return 0;
  }
  size_t i = put_handshake_headers(out, frag->record_version, frag->record_seq, MT_CLIENT_HELLO,
                                   frag->message_seq, frag->message_len);
  memcpy(&out[i], body, frag->message_len);
  return n;
}

/* ---- ClientHello ---- */

sdtls_ch_result Sdtls_client_hello_parse(const uint8_t *dgram, size_t len,
                                         sdtls_client_hello *out) {
  if (out == NULL) {
    return SDTLS_CH_MALFORMED;
  }
  memset(out, 0, sizeof(*out));
  ch_header h;
  sdtls_ch_result rc = parse_ch_header(dgram, len, &h);
  if (rc != SDTLS_CH_OK) {
    return rc;
  }
  record rec = h.rec;
  reader r = h.r;
  uint64_t msg_seq = h.msg_seq;
  /* Only a whole ClientHello, and nothing but it in the record: the
   * server reassembles fragments first (Sdtls_client_hello_assemble). */
  if (h.frag_off != 0 || h.frag_len != h.msg_len || h.msg_len != r.left) {
    return SDTLS_CH_MALFORMED;
  }

  uint64_t client_version;
  if (!rd_uint(&r, 2, &client_version) || (client_version >> 8) != 0xfe ||
      !rd_bytes(&r, SDTLS_RANDOM_LEN, &out->random) ||
      !rd_vec(&r, 1, &out->session_id, &out->session_id_len) || out->session_id_len > 32 ||
      !rd_vec(&r, 1, &out->cookie, &out->cookie_len) ||
      !rd_vec(&r, 2, &out->cipher_suites, &out->cipher_suites_len) ||
      out->cipher_suites_len < 2 || out->cipher_suites_len % 2 != 0 ||
      !rd_vec(&r, 1, &out->compression_methods, &out->compression_methods_len) ||
      out->compression_methods_len < 1) {
    memset(out, 0, sizeof(*out));
    return SDTLS_CH_MALFORMED;
  }
  if (r.left > 0) {
    /* Extensions: one u16-prefixed block holding type/length/body triples,
     * ending exactly at the end of the message. */
    if (!rd_vec(&r, 2, &out->extensions, &out->extensions_len) || r.left != 0) {
      memset(out, 0, sizeof(*out));
      return SDTLS_CH_MALFORMED;
    }
    reader ext = {out->extensions, out->extensions_len};
    while (ext.left > 0) {
      uint64_t ext_type;
      const uint8_t *body;
      size_t body_len;
      if (!rd_uint(&ext, 2, &ext_type) || !rd_vec(&ext, 2, &body, &body_len)) {
        memset(out, 0, sizeof(*out));
        return SDTLS_CH_MALFORMED;
      }
    }
  }
  out->record_seq = rec.seq;
  out->record_version = rec.version;
  out->message_seq = (uint16_t)msg_seq;
  out->client_version = (uint16_t)client_version;
  return SDTLS_CH_OK;
}

int Sdtls_client_hello_offers(const sdtls_client_hello *ch, uint16_t version) {
  reader ext = {ch->extensions, ch->extensions_len};
  while (ext.left > 0) {
    uint64_t type;
    const uint8_t *body;
    size_t body_len;
    if (!rd_uint(&ext, 2, &type) || !rd_vec(&ext, 2, &body, &body_len)) {
      return 0;
    }
    if (type != 43) { /* supported_versions */
      continue;
    }
    reader r = {body, body_len};
    const uint8_t *list;
    size_t list_len;
    if (!rd_vec(&r, 1, &list, &list_len)) {
      return 0;
    }
    for (size_t i = 0; i + 1 < list_len; i += 2) {
      if (((uint16_t)list[i] << 8 | list[i + 1]) == version) {
        return 1;
      }
    }
    return 0;
  }
  return 0;
}

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
  put_be(&head[n], bucket, 8);
  n += 8;
  memcpy(&head[n], peer->bytes, sizeof(peer->bytes));
  n += sizeof(peer->bytes);
  put_be(&head[n], ch->client_version, 2);
  n += 2;
  memcpy(&head[n], ch->random, SDTLS_RANDOM_LEN);
  n += SDTLS_RANDOM_LEN;

  uint8_t l1[1], l2[2], l3[1];
  l1[0] = (uint8_t)ch->session_id_len;
  put_be(l2, ch->cipher_suites_len, 2);
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

size_t Sdtls_hello_verify_request(const sdtls_client_hello *ch,
                                  const uint8_t cookie[SDTLS_COOKIE_LEN], uint8_t *out,
                                  size_t out_cap) {
  if (ch == NULL || cookie == NULL || out == NULL || out_cap < SDTLS_HVR_LEN) {
    return 0;
  }
  const size_t body_len = 2 + 1 + SDTLS_COOKIE_LEN;
  /* DTLS 1.0 on the record (RFC 6347 4.2.1 recommends it for the
   * HelloVerifyRequest whatever version will be negotiated), the
   * ClientHello's record sequence number, message_seq 0. */
  size_t n = put_handshake_headers(out, 0xfeff, ch->record_seq, MT_HELLO_VERIFY_REQUEST, 0,
                                   body_len);
  /* server_version, cookie. */
  out[n++] = 0xfe;
  out[n++] = 0xff;
  out[n++] = SDTLS_COOKIE_LEN;
  memcpy(&out[n], cookie, SDTLS_COOKIE_LEN);
  n += SDTLS_COOKIE_LEN;
  return n;
}

/* ---- DTLS 1.3: stateless HelloRetryRequest cookies ---- */

#define EXT_SUPPORTED_GROUPS 10
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_COOKIE 44
#define EXT_KEY_SHARE 51
#define MT_SERVER_HELLO 2

int Sdtls_client_hello_13(const sdtls_client_hello *ch, sdtls_ch13 *out) {
  memset(out, 0, sizeof(*out));
  out->offers13 = Sdtls_client_hello_offers(ch, SDTLS_DTLS1_3) != 0;
  reader ext = {ch->extensions, ch->extensions_len};
  while (ext.left > 0) {
    uint64_t type;
    const uint8_t *body;
    size_t body_len;
    if (!rd_uint(&ext, 2, &type) || !rd_vec(&ext, 2, &body, &body_len)) {
      return 0;
    }
    reader r = {body, body_len};
    switch (type) {
      case EXT_SUPPORTED_GROUPS:
        if (!rd_vec(&r, 2, &out->groups, &out->groups_len) || r.left != 0 ||
            out->groups_len % 2 != 0) {
          return 0;
        }
        break;
      case EXT_KEY_SHARE:
        if (!rd_vec(&r, 2, &out->shares, &out->shares_len) || r.left != 0) {
          return 0;
        }
        break;
      case EXT_COOKIE:
        if (!rd_vec(&r, 2, &out->cookie, &out->cookie_len) || r.left != 0 ||
            out->cookie_len == 0) {
          return 0;
        }
        out->has_cookie = true;
        break;
      default:
        break;
    }
  }
  return 1;
}

int Sdtls_ch13_has_share(const sdtls_ch13 *x, uint16_t group) {
  reader r = {x->shares, x->shares_len};
  while (r.left > 0) {
    uint64_t g;
    const uint8_t *key;
    size_t key_len;
    if (!rd_uint(&r, 2, &g) || !rd_vec(&r, 2, &key, &key_len)) {
      return 0;
    }
    if (g == group) {
      return 1;
    }
  }
  return 0;
}

size_t Sdtls_client_hello_hash(const uint8_t *whole, size_t whole_len, int sha384,
                               uint8_t out[48]) {
  /* TLS form: msg_type and length (4 bytes), then the body, without DTLS's
   * message_seq and fragment fields (RFC 9147 5.2). */
  (void)whole_len; /* parsed already: the first record is the ClientHello */
  const uint8_t *head = whole + SDTLS_RECORD_HEADER_LEN;
  const uint8_t *body = head + SDTLS_HANDSHAKE_HEADER_LEN;
  size_t body_len = ((size_t)head[1] << 16) | ((size_t)head[2] << 8) | head[3];
  if (sha384) {
    SHA512_CTX c;
    SHA384_Init(&c);
    SHA384_Update(&c, head, 4);
    SHA384_Update(&c, body, body_len);
    SHA384_Final(out, &c);
    return 48;
  }
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, head, 4);
  SHA256_Update(&c, body, body_len);
  SHA256_Final(out, &c);
  return 32;
}

static const char kHrrLabel[] = "sdtls hrr cookie v1";

/* MAC over the label, the bucket, the peer, the ClientHello fields the
 * second one repeats and the cookie's own fields (`fields`). */
static void hrr_mac(const sdtls_hmac_key *key, uint64_t bucket, const sdtls_peer_key *peer,
                    const sdtls_client_hello *ch, const uint8_t *fields, size_t fields_len,
                    uint8_t out[SDTLS_HRR_COOKIE_MAC]) {
  uint8_t b[8], l1[1], l2[2];
  put_be(b, bucket, 8);
  l1[0] = (uint8_t)ch->session_id_len;
  put_be(l2, ch->cipher_suites_len, 2);
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
  put_be(&out[n], st->cipher, 2);
  n += 2;
  put_be(&out[n], st->group, 2);
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

/* The HelloRetryRequest's random (RFC 8446 4.1.3): SHA-256("HelloRetryRequest"). */
static const uint8_t kHrrRandom[SDTLS_RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

size_t Sdtls_hello_retry_request(const sdtls_client_hello *ch, const sdtls_hrr_state *st,
                                 const uint8_t *cookie, size_t cookie_len, uint8_t *out,
                                 size_t out_cap) {
  size_t ext_len = (4 + 2) + (4 + 2 + cookie_len) + (st->ask_share ? 4 + 2 : 0);
  size_t body_len = 2 + SDTLS_RANDOM_LEN + 1 + ch->session_id_len + 2 + 1 + 2 + ext_len;
  size_t n_total = SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN + body_len;
  if (n_total > out_cap || cookie_len > UINT16_MAX) {
    return 0;
  }
  /* DTLS 1.2 on the record layer (RFC 9147 5.3), message_seq 0. */
  size_t n = put_handshake_headers(out, 0xfefd, ch->record_seq, MT_SERVER_HELLO, 0, body_len);
  out[n++] = 0xfe; /* legacy_version: DTLS 1.2 */
  out[n++] = 0xfd;
  memcpy(&out[n], kHrrRandom, SDTLS_RANDOM_LEN);
  n += SDTLS_RANDOM_LEN;
  out[n++] = (uint8_t)ch->session_id_len;
  memcpy(&out[n], ch->session_id, ch->session_id_len);
  n += ch->session_id_len;
  put_be(&out[n], st->cipher, 2);
  n += 2;
  out[n++] = 0; /* compression */
  put_be(&out[n], ext_len, 2);
  n += 2;
  put_be(&out[n], EXT_SUPPORTED_VERSIONS, 2);
  n += 2;
  put_be(&out[n], 2, 2);
  n += 2;
  put_be(&out[n], SDTLS_DTLS1_3, 2);
  n += 2;
  put_be(&out[n], EXT_COOKIE, 2);
  n += 2;
  put_be(&out[n], 2 + cookie_len, 2);
  n += 2;
  put_be(&out[n], cookie_len, 2);
  n += 2;
  memcpy(&out[n], cookie, cookie_len);
  n += cookie_len;
  if (st->ask_share) {
    put_be(&out[n], EXT_KEY_SHARE, 2);
    n += 2;
    put_be(&out[n], 2, 2);
    n += 2;
    put_be(&out[n], st->group, 2);
    n += 2;
  }
  return n;
}

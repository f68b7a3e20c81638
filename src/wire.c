/* SPDX-License-Identifier: Apache-2.0 */
/* The DTLS wire format of the stateless front end (see wire.h). */
#include "wire.h"

#include <string.h>

#include <openssl/sha.h>
#include <openssl/ssl.h>

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

/* One type/length/body triple of an extension list (and of a key_share
 * list): the u16 type, and a reader over the u16-prefixed body. */
static bool rd_ext(reader *r, uint64_t *type, reader *body) {
  const uint8_t *p;
  size_t len;
  if (!rd_uint(r, 2, type) || !rd_vec(r, 2, &p, &len)) {
    return false;
  }
  *body = (reader){p, len};
  return true;
}

/* In a list of such triples: the body of the first of type `type` in
 * *body. 1 found, 0 not in the list, -1 the list is malformed before it.
 * NO_ENTRY (no u16 type) checks the whole list. */
#define NO_ENTRY UINT64_MAX
static int find_ext(const uint8_t *list, size_t list_len, uint64_t type, reader *body) {
  reader r = {list, list_len};
  while (r.left > 0) {
    uint64_t t;
    if (!rd_ext(&r, &t, body)) {
      return -1;
    }
    if (t == type) {
      return 1;
    }
  }
  return 0;
}

/* Writes `v` as `len` big-endian bytes at out[n]; returns n + len. */
static size_t put_be(uint8_t *out, size_t n, uint64_t v, size_t len) {
  Sdtls_put_be(&out[n], v, len);
  return n + len;
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

/* Both parsers' start: a cleared result (nothing left over from a
 * datagram parsed before, whatever the outcome), then the headers. */
static sdtls_ch_result start_parse(const uint8_t *dgram, size_t len, void *out, size_t out_size,
                                   ch_header *h) {
  if (out == NULL) {
    return SDTLS_CH_MALFORMED;
  }
  memset(out, 0, out_size);
  return parse_ch_header(dgram, len, h);
}

int Sdtls_client_hello_fragment_parse(const uint8_t *dgram, size_t len,
                                      sdtls_ch_fragment *out) {
  ch_header h;
  sdtls_ch_result rc = start_parse(dgram, len, out, sizeof(*out), &h);
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

/* Writes an epoch-0 record header (type, version, sequence number, body
 * length) at out[0..13]; returns the 13. */
static size_t put_record_header(uint8_t *out, uint8_t type, uint16_t version, uint64_t seq,
                                size_t body_len) {
  size_t n = 0;
  out[n++] = type;
  n = put_be(out, n, version, 2);
  n = put_be(out, n, 0, 2); /* epoch 0 */
  n = put_be(out, n, seq & SDTLS_MAX_RECORD_SEQ, 6);
  return put_be(out, n, body_len, 2);
}

/* Writes an epoch-0 record header and the header of one unfragmented
 * handshake message (message_seq `msg_seq`, `body_len` bytes of body to
 * follow) at out[0..25]; returns the 25. */
static size_t put_handshake_headers(uint8_t *out, uint16_t record_version, uint64_t record_seq,
                                    uint8_t msg_type, uint16_t msg_seq, size_t body_len) {
  size_t n = put_record_header(out, CT_HANDSHAKE, record_version, record_seq,
                               SDTLS_HANDSHAKE_HEADER_LEN + body_len);
  out[n++] = msg_type;
  n = put_be(out, n, body_len, 3);
  n = put_be(out, n, msg_seq, 2);
  n = put_be(out, n, 0, 3);        /* fragment_offset */
  n = put_be(out, n, body_len, 3); /* fragment_length: the whole message */
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
  ch_header h;
  sdtls_ch_result rc = start_parse(dgram, len, out, sizeof(*out), &h);
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
    reader body;
    if (find_ext(out->extensions, out->extensions_len, NO_ENTRY, &body) < 0) {
      memset(out, 0, sizeof(*out));
      return SDTLS_CH_MALFORMED;
    }
  }
  out->record_seq = rec.seq;
  out->record_version = rec.version;
  out->message_seq = (uint16_t)msg_seq;
  out->client_version = (uint16_t)client_version;
  return SDTLS_CH_OK;
}

int Sdtls_client_hello_offers(const sdtls_client_hello *ch, uint16_t version) {
  reader r;
  const uint8_t *list;
  size_t list_len;
  if (find_ext(ch->extensions, ch->extensions_len, 43 /* supported_versions */, &r) != 1 ||
      !rd_vec(&r, 1, &list, &list_len)) {
    return 0;
  }
  for (size_t i = 0; i + 1 < list_len; i += 2) {
    if (((uint16_t)list[i] << 8 | list[i + 1]) == version) {
      return 1;
    }
  }
  return 0;
}

/* ---- stateless replies ---- */

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

size_t Sdtls_fatal_alert(uint64_t record_seq, uint8_t description, uint8_t out[SDTLS_ALERT_LEN]) {
  /* A DTLS 1.2 record (RFC 9147 5.3), epoch 0. */
  size_t n = put_record_header(out, SSL3_RT_ALERT, 0xfefd, record_seq, 2);
  out[n++] = SSL3_AL_FATAL;
  out[n++] = description;
  return n;
}

/* ---- DTLS 1.3: the HelloRetryRequest ---- */

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
    reader r;
    if (!rd_ext(&ext, &type, &r)) {
      return 0;
    }
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
  reader key;
  return find_ext(x->shares, x->shares_len, group, &key) == 1;
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
  n = put_be(out, n, st->cipher, 2);
  out[n++] = 0; /* compression */
  n = put_be(out, n, ext_len, 2);
  n = put_be(out, n, EXT_SUPPORTED_VERSIONS, 2);
  n = put_be(out, n, 2, 2);
  n = put_be(out, n, SDTLS_DTLS1_3, 2);
  n = put_be(out, n, EXT_COOKIE, 2);
  n = put_be(out, n, 2 + cookie_len, 2);
  n = put_be(out, n, cookie_len, 2);
  memcpy(&out[n], cookie, cookie_len);
  n += cookie_len;
  if (st->ask_share) {
    n = put_be(out, n, EXT_KEY_SHARE, 2);
    n = put_be(out, n, 2, 2);
    n = put_be(out, n, st->group, 2);
  }
  return n;
}

/* RFC 8446 4.4.1: the handshake message that stands for the first
 * ClientHello in the transcript after a HelloRetryRequest. */
#define MT_MESSAGE_HASH 254

size_t Sdtls_hrr_transcript(const sdtls_hrr_state *st, const uint8_t *hrr, size_t hrr_len,
                            uint8_t *out, size_t out_cap) {
  const size_t hrr_body = SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN;
  if (hrr_len < hrr_body || 4 + 8 + st->hash_len + 4 + (hrr_len - hrr_body) > out_cap) {
    return 0;
  }
  size_t n = 0;
  /* message_hash: the TLS header (type, 24-bit length), then 8 filler
   * bytes where DTLS's message_seq and fragment fields would be, which the
   * engine's buffer holds and skips, then the hash. */
  out[n++] = MT_MESSAGE_HASH;
  n = put_be(out, n, st->hash_len, 3);
  memset(&out[n], 0, 8);
  n += 8;
  memcpy(&out[n], st->hash, st->hash_len);
  n += st->hash_len;
  /* The HelloRetryRequest in TLS form: its type and length, its body. */
  memcpy(&out[n], hrr + SDTLS_RECORD_HEADER_LEN, 4);
  n += 4;
  memcpy(&out[n], hrr + hrr_body, hrr_len - hrr_body);
  return n + hrr_len - hrr_body;
}

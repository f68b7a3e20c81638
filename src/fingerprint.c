/* SPDX-License-Identifier: Apache-2.0 */
/* Certificate fingerprints as text (RFC 8122): the one parser and
 * formatter that the pins, the tool and every binding use. */
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "internal.h"

static const struct hash_info {
  int id;
  const char *name; /* RFC 8122's (IANA "Hash Function Textual Names") */
  size_t len;
} hashes[] = {
    {SDTLS_HASH_SHA256, "sha-256", 32},
    {SDTLS_HASH_SHA384, "sha-384", 48},
    {SDTLS_HASH_SHA512, "sha-512", 64},
};

/* Names RFC 8122 allows that are not taken: weak (md2, md5, sha-1) or
 * unused (sha-224). Refused with SDTLS_E_UNSUPPORTED, so that the caller
 * can tell "another hash" from a typo. */
static const char *const unsupported_hashes[] = {"sha-1", "sha-224", "md5", "md2"};

static const struct hash_info *hash_by_id(int id) {
  for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
    if (hashes[i].id == id) {
      return &hashes[i];
    }
  }
  return NULL;
}

size_t Sdtls_digest_len(int hash) {
  const struct hash_info *h = hash_by_id(hash);
  return h != NULL ? h->len : 0;
}

int Sdtls_digest(int hash, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len) {
  switch (hash) {
    case SDTLS_HASH_SHA256:
      SHA256(data, len, out);
      *out_len = SHA256_DIGEST_LENGTH;
      return SDTLS_OK;
    case SDTLS_HASH_SHA384:
      SHA384(data, len, out);
      *out_len = SHA384_DIGEST_LENGTH;
      return SDTLS_OK;
    case SDTLS_HASH_SHA512:
      SHA512(data, len, out);
      *out_len = SHA512_DIGEST_LENGTH;
      return SDTLS_OK;
    default:
      return SDTLS_E_INVALID_ARGUMENT;
  }
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "AB:CD:...:EF" and nothing after it: at most 64 pairs into out. Returns
 * the number of bytes, 0 when the text is not that. */
static size_t parse_hex_pairs(const char *p, uint8_t out[SDTLS_FINGERPRINT_MAX_DIGEST]) {
  for (size_t i = 0; i < SDTLS_FINGERPRINT_MAX_DIGEST; i++) {
    int hi = hex_value(p[0]), lo = hi < 0 ? -1 : hex_value(p[1]);
    if (lo < 0) {
      return 0;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
    if (p[2] == '\0') {
      return i + 1;
    }
    if (p[2] != ':') {
      return 0;
    }
    p += 3;
  }
  return 0; /* more than 64 pairs */
}

int Sdtls_pin_parse(const char *text, sdtls_fingerprint *out) {
  if (text == NULL || out == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  const struct hash_info *named = NULL;
  const char *pairs = text;
  /* A hash name is letters, digits and '-' up to a ' ' or ':'; a bare
   * fingerprint starts with two hex digits and a ':' (no name is 2 long). */
  size_t name_len = strcspn(text, " :");
  if (text[name_len] != '\0' && name_len != 2) {
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
      if (strlen(hashes[i].name) == name_len && strncasecmp(text, hashes[i].name, name_len) == 0) {
        named = &hashes[i];
      }
    }
    if (named == NULL) {
      for (size_t i = 0; i < sizeof(unsupported_hashes) / sizeof(unsupported_hashes[0]); i++) {
        if (strlen(unsupported_hashes[i]) == name_len &&
            strncasecmp(text, unsupported_hashes[i], name_len) == 0) {
          return SDTLS_E_UNSUPPORTED;
        }
      }
      return SDTLS_E_INVALID_ARGUMENT;
    }
    pairs = text + name_len + 1;
  }
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST] = {0};
  size_t len = parse_hex_pairs(pairs, digest);
  const struct hash_info *h = named;
  if (h == NULL) { /* bare: the length names the hash */
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
      if (hashes[i].len == len) {
        h = &hashes[i];
      }
    }
  }
  if (h == NULL || len != h->len) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  memset(out, 0, sizeof(*out));
  out->hash = (uint8_t)h->id;
  out->len = (uint8_t)len;
  memcpy(out->digest, digest, len);
  return SDTLS_OK;
}

int sdtls_fingerprint_parse(const char *text, int *hash, uint8_t *digest, size_t *digest_len) {
  sdtls_fingerprint fp;
  if (hash == NULL || digest == NULL || digest_len == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  int rc = Sdtls_pin_parse(text, &fp);
  if (rc != SDTLS_OK) {
    return rc;
  }
  *hash = fp.hash;
  *digest_len = fp.len;
  memcpy(digest, fp.digest, fp.len);
  return SDTLS_OK;
}

int sdtls_fingerprint_format_hash(int hash, const uint8_t *digest, size_t digest_len, int form,
                                  char *out, size_t out_len) {
  static const char hex[] = "0123456789ABCDEF";
  const struct hash_info *h = hash_by_id(hash);
  if (h == NULL || digest == NULL || out == NULL || digest_len != h->len ||
      (form != SDTLS_FINGERPRINT_SDP && form != SDTLS_FINGERPRINT_BARE)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  size_t prefix = form == SDTLS_FINGERPRINT_SDP ? strlen(h->name) + 1 : 0;
  if (out_len < prefix + 3 * digest_len) { /* pairs, ':' between them, NUL */
    return SDTLS_E_INVALID_ARGUMENT;
  }
  char *p = out;
  if (prefix > 0) {
    memcpy(p, h->name, prefix - 1);
    p[prefix - 1] = ' ';
    p += prefix;
  }
  for (size_t i = 0; i < digest_len; i++) {
    if (i > 0) {
      *p++ = ':';
    }
    *p++ = hex[digest[i] >> 4];
    *p++ = hex[digest[i] & 0x0f];
  }
  *p = '\0';
  return SDTLS_OK;
}

int sdtls_fingerprint_format(const uint8_t digest[32], char *out, size_t out_len) {
  return sdtls_fingerprint_format_hash(SDTLS_HASH_SHA256, digest, 32, SDTLS_FINGERPRINT_BARE, out,
                                       out_len);
}

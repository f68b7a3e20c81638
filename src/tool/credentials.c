/* SPDX-License-Identifier: Apache-2.0 */
/* Loading --cert/--key/--ca. The tool reads each file and checks it before
 * the library sees it, so that a failure names the file that failed: the
 * library's sdtls_config_set_certificate_file() says only "file could not be
 * read" or "bad certificate, key or trust data" for either file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define MAX_CREDENTIAL_FILE (1u << 20) /* the library's limit for these files */

/* A whole file (at most MAX_CREDENTIAL_FILE bytes) into *out (malloc'd; the
 * caller wipes and frees it). A pipe is read too: `--key <(command)` keeps
 * a decrypted key off the disk. Returns false after a message naming `path`
 * and its role `what` ("key file"). */
static bool read_credential_file(const char *path, const char *what, uint8_t **out,
                                 size_t *out_len) {
  return read_small_file(path, what, MAX_CREDENTIAL_FILE, READ_PIPE_OK, out, out_len) > 0;
}

/* ---- a look at the private key ---- */

static int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes the base64 text in [p, end) (whitespace skipped, '=' ends it) into
 * out (at least end - p bytes). Returns the length, or -1 for bad text. */
static long base64_decode(const char *p, const char *end, uint8_t *out) {
  uint32_t acc = 0;
  int bits = 0;
  long n = 0;
  for (; p < end && *p != '='; p++) {
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
      continue;
    }
    int v = base64_value(*p);
    if (v < 0) {
      return -1;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

/* One DER element at [*p, end): its tag, and its contents in [*body,
 * *body + *len). Advances *p past it. False if it does not fit. */
static bool der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag, const uint8_t **body,
                     size_t *len) {
  const uint8_t *q = *p;
  if (end - q < 2) {
    return false;
  }
  *tag = *q++;
  size_t l = *q++;
  if (l & 0x80) {
    size_t bytes = l & 0x7f;
    if (bytes == 0 || bytes > 4 || (size_t)(end - q) < bytes) {
      return false;
    }
    for (l = 0; bytes > 0; bytes--) {
      l = (l << 8) | *q++;
    }
  }
  if ((size_t)(end - q) < l) {
    return false;
  }
  *body = q;
  *len = l;
  *p = q + l;
  return true;
}

/* The key type of a PKCS#8 PrivateKeyInfo (SEQUENCE { INTEGER,
 * AlgorithmIdentifier { OID, ... }, OCTET STRING ... }): true if it is an EC
 * or RSA key, the types the library takes. */
static bool pkcs8_is_ec_or_rsa(const uint8_t *p, const uint8_t *end) {
  static const uint8_t ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
  static const uint8_t rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
  uint8_t tag;
  const uint8_t *body, *alg;
  size_t len, alg_len;
  if (!der_next(&p, end, &tag, &body, &len) || tag != 0x02 ||
      !der_next(&p, end, &tag, &alg, &alg_len) || tag != 0x30 ||
      !der_next(&alg, alg + alg_len, &tag, &body, &len) || tag != 0x06) {
    return false;
  }
  return (len == sizeof(ec) && memcmp(body, ec, len) == 0) ||
         (len == sizeof(rsa) && memcmp(body, rsa, len) == 0);
}

/* What is wrong with the first PEM private key in pem[0..len), as far as
 * the tool can tell without the library; NULL if it looks like a usable EC or
 * RSA key (unencrypted PKCS#8, SEC1 "EC" or PKCS#1 "RSA"). */
static const char *key_problem(const uint8_t *pem, size_t len) {
  static const char begin[] = "-----BEGIN ", dashes[] = "-----";
  const char *text = (const char *)pem, *end = text + len;
  const char *label = NULL, *label_end = NULL;
  /* The first block whose label ends in "PRIVATE KEY", as the engine's
   * PEM reader takes it. */
  for (const char *p = text; p < end;) {
    const char *b = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1);
    if (b == NULL) {
      break;
    }
    const char *l = b + sizeof(begin) - 1;
    const char *le = memmem(l, (size_t)(end - l), dashes, sizeof(dashes) - 1);
    if (le == NULL) {
      break;
    }
    if ((size_t)(le - l) >= 11 && memcmp(le - 11, "PRIVATE KEY", 11) == 0) {
      label = l;
      label_end = le;
      break;
    }
    p = le;
  }
  if (label == NULL) {
    return "no private key (PEM) in the key file";
  }
  size_t label_len = (size_t)(label_end - label);
  const char *body = label_end + sizeof(dashes) - 1;
  const char *body_end = memmem(body, (size_t)(end - body), "-----END ", 9);
  if (body_end == NULL) {
    return "the private key (PEM) in the key file is cut short";
  }
  bool pkcs8 = label_len == 11;
  /* PKCS#8 "ENCRYPTED PRIVATE KEY", or the old OpenSSL form with a
   * "Proc-Type: 4,ENCRYPTED" header (no base64 text holds a ':'). */
  if ((label_len == 21 && memcmp(label, "ENCRYPTED", 9) == 0) ||
      memmem(body, (size_t)(body_end - body), "Proc-Type:", 10) != NULL) {
    return "encrypted private keys are not supported";
  }
  if (!pkcs8 && !(label_len == 14 && memcmp(label, "EC ", 3) == 0) &&
      !(label_len == 15 && memcmp(label, "RSA ", 4) == 0)) {
    return "unsupported key type (EC and RSA keys are supported)";
  }
  uint8_t *der = malloc((size_t)(body_end - body) + 1);
  if (der == NULL) {
    return NULL; /* the library decides */
  }
  long der_len = base64_decode(body, body_end, der);
  const char *problem = NULL;
  const uint8_t *p = der;
  uint8_t tag;
  const uint8_t *seq;
  size_t seq_len;
  if (der_len <= 0 || !der_next(&p, der + der_len, &tag, &seq, &seq_len) || tag != 0x30 ||
      p != der + der_len) {
    problem = "the private key (PEM) in the key file is damaged";
  } else if (pkcs8 && !pkcs8_is_ec_or_rsa(seq, seq + seq_len)) {
    problem = "unsupported key type (EC and RSA keys are supported)";
  }
  wipe_free(der, (size_t)(body_end - body) + 1);
  return problem;
}

/* ---- loading ---- */

bool load_certificate(sdtls_config *config, const char *cert_path, const char *key_path) {
  uint8_t *cert = NULL, *key = NULL;
  size_t cert_len = 0, key_len = 0;
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t digest_len;
  const char *problem;
  int rc;
  bool ok = false;
  if (!read_credential_file(cert_path, "certificate file", &cert, &cert_len)) {
    return false;
  }
  if (cert_len == 0 ||
      sdtls_certificate_fingerprint(cert, cert_len, SDTLS_HASH_SHA256, digest, &digest_len) !=
          SDTLS_OK) {
    errorf("%s: no certificate (PEM) in the certificate file", cert_path);
    goto out;
  }
  if (!read_credential_file(key_path, "key file", &key, &key_len)) {
    goto out;
  }
  problem = key_problem(key, key_len);
  if (problem != NULL) {
    errorf("%s: %s", key_path, problem);
    goto out;
  }
  /* Both files are readable, the certificate parses and the key looks
   * sound: the library's objection is the pair. */
  rc = sdtls_config_set_certificate_pem(config, cert, cert_len, key, key_len);
  if (rc == SDTLS_E_CREDENTIALS) {
    errorf("%s: key does not match certificate %s", key_path, cert_path);
  } else if (rc != SDTLS_OK) {
    report_sdtls_error(cert_path, rc, NULL);
  } else {
    ok = true;
  }
out:
  wipe_free(cert, cert_len);
  wipe_free(key, key_len);
  return ok;
}

bool load_ca(sdtls_config *config, const char *ca_path) {
  uint8_t *pem = NULL;
  size_t len = 0;
  if (!read_credential_file(ca_path, "CA file", &pem, &len)) {
    return false;
  }
  int rc = len == 0 ? SDTLS_E_CREDENTIALS : sdtls_config_set_ca_pem(config, pem, len);
  wipe_free(pem, len);
  if (rc == SDTLS_E_CREDENTIALS) {
    errorf("%s: no certificate (PEM) in the CA file", ca_path);
  } else if (rc != SDTLS_OK) {
    report_sdtls_error(ca_path, rc, NULL);
  }
  return rc == SDTLS_OK;
}

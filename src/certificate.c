/* SPDX-License-Identifier: Apache-2.0 */
/* Self-signed certificates and their fingerprints.
 *
 * sdtls_certificate_generate() makes what WebRTC-style deployments use: an
 * ECDSA P-256 key and a self-signed certificate whose SHA-256 fingerprint the
 * peers exchange out of band (SDP "a=fingerprint"). */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* RFC 5280's upper bound for a common name (ub-common-name). */
#define CN_MAX_LEN 64
#define DAYS_MAX 36500u
/* Serial numbers: 16 random bytes, positive (RFC 5280 allows up to 20). */
#define SERIAL_LEN 16

/* A name that is both a printable common name and an IA5String DNS name:
 * 1..64 visible ASCII characters, no spaces or control characters. */
static int valid_common_name(const char *name) {
  size_t n = 0;
  for (const char *p = name; *p != '\0'; p++, n++) {
    unsigned char c = (unsigned char)*p;
    if (c <= 0x20 || c >= 0x7f || n >= CN_MAX_LEN) {
      return 0;
    }
  }
  return n > 0;
}

/* Copies a memory BIO's contents into a NUL-terminated OPENSSL_malloc'd
 * string (so sdtls_free() wipes it). NULL on failure. */
static char *bio_to_string(BIO *bio) {
  const uint8_t *contents = NULL;
  size_t len = 0;
  if (!BIO_mem_contents(bio, &contents, &len) || len == 0 || len == SIZE_MAX) {
    return NULL;
  }
  char *s = OPENSSL_malloc(len + 1);
  if (s == NULL) {
    return NULL;
  }
  memcpy(s, contents, len);
  s[len] = '\0';
  return s;
}

static int set_random_serial(X509 *x509) {
  uint8_t bytes[SERIAL_LEN];
  int ok = 0;
  BIGNUM *bn = NULL;
  ASN1_INTEGER *serial = NULL;
  if (!RAND_bytes(bytes, sizeof(bytes))) {
    goto out;
  }
  bytes[0] &= 0x7f; /* positive */
  bytes[0] |= 0x40; /* never zero, always SERIAL_LEN bytes long */
  bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
  if (bn == NULL) {
    goto out;
  }
  serial = BN_to_ASN1_INTEGER(bn, NULL);
  ok = serial != NULL && X509_set_serialNumber(x509, serial);
out:
  ASN1_INTEGER_free(serial);
  BN_free(bn);
  return ok;
}

static int set_validity(X509 *x509, unsigned days) {
  int ok = 0;
  ASN1_TIME *not_before = X509_time_adj_ex(NULL, 0, -3600L, NULL);
  ASN1_TIME *not_after = X509_time_adj_ex(NULL, (int)days, 0, NULL);
  if (not_before != NULL && not_after != NULL && X509_set1_notBefore(x509, not_before) &&
      X509_set1_notAfter(x509, not_after)) {
    ok = 1;
  }
  ASN1_TIME_free(not_before);
  ASN1_TIME_free(not_after);
  return ok;
}

static int set_names(X509 *x509, const char *common_name) {
  int ok = 0;
  X509_NAME *name = X509_NAME_new();
  GENERAL_NAMES *sans = NULL;
  GENERAL_NAME *san = NULL;
  ASN1_IA5STRING *dns = NULL;
  BASIC_CONSTRAINTS *bc = NULL;

  if (name == NULL ||
      !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                  (const uint8_t *)common_name, -1, -1, 0) ||
      !X509_set_subject_name(x509, name) || !X509_set_issuer_name(x509, name)) {
    goto out;
  }

  sans = GENERAL_NAMES_new();
  san = GENERAL_NAME_new();
  dns = ASN1_IA5STRING_new();
  if (sans == NULL || san == NULL || dns == NULL ||
      !ASN1_STRING_set(dns, common_name, (int)strlen(common_name))) {
    goto out;
  }
  GENERAL_NAME_set0_value(san, GEN_DNS, dns);
  dns = NULL; /* owned by san */
  if (!sk_GENERAL_NAME_push(sans, san)) {
    goto out;
  }
  san = NULL; /* owned by sans */
  if (!X509_add1_ext_i2d(x509, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT)) {
    goto out;
  }

  /* An end-entity certificate: it cannot sign others. */
  bc = BASIC_CONSTRAINTS_new();
  if (bc == NULL) {
    goto out;
  }
  bc->ca = 0;
  if (!X509_add1_ext_i2d(x509, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT)) {
    goto out;
  }
  ok = 1;
out:
  BASIC_CONSTRAINTS_free(bc);
  ASN1_IA5STRING_free(dns);
  GENERAL_NAME_free(san);
  GENERAL_NAMES_free(sans);
  X509_NAME_free(name);
  return ok;
}

int sdtls_certificate_generate(const char *common_name, unsigned days, char **cert_pem,
                               char **key_pem) {
  if (common_name == NULL || cert_pem == NULL || key_pem == NULL || cert_pem == key_pem ||
      days < 1 || days > DAYS_MAX || !valid_common_name(common_name)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }

  int ret = SDTLS_E_NOMEM;
  EC_KEY *ec = NULL;
  EVP_PKEY *pkey = NULL;
  X509 *x509 = NULL;
  BIO *cert_bio = NULL, *key_bio = NULL;
  char *cert = NULL, *key = NULL;

  ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  pkey = EVP_PKEY_new();
  if (ec == NULL || pkey == NULL || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
    goto out;
  }
  ec = NULL; /* owned by pkey */

  x509 = X509_new();
  if (x509 == NULL || !X509_set_version(x509, X509_VERSION_3) || !set_random_serial(x509) ||
      !set_validity(x509, days) || !set_names(x509, common_name) ||
      !X509_set_pubkey(x509, pkey) || !X509_sign(x509, pkey, EVP_sha256())) {
    goto out;
  }

  cert_bio = BIO_new(BIO_s_mem());
  key_bio = BIO_new(BIO_s_mem());
  if (cert_bio == NULL || key_bio == NULL || !PEM_write_bio_X509(cert_bio, x509) ||
      /* PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted. */
      !PEM_write_bio_PrivateKey(key_bio, pkey, NULL, NULL, 0, NULL, NULL)) {
    goto out;
  }
  cert = bio_to_string(cert_bio);
  key = bio_to_string(key_bio);
  if (cert == NULL || key == NULL) {
    goto out;
  }
  *cert_pem = cert;
  *key_pem = key;
  cert = NULL;
  key = NULL;
  ret = SDTLS_OK;

out:
  if (ret != SDTLS_OK) {
    /* Leave nothing behind for the next engine call on this thread. */
    ERR_clear_error();
  }
  OPENSSL_free(cert);
  OPENSSL_free(key);
  BIO_free(cert_bio); /* memory BIOs free (and wipe) through OPENSSL_free */
  BIO_free(key_bio);
  X509_free(x509);
  EVP_PKEY_free(pkey);
  EC_KEY_free(ec);
  return ret;
}

/* Never prompts for a pass phrase: encrypted PEM is refused. */
static int no_password(char *buf, int size, int rwflag, void *userdata) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)userdata;
  return 0;
}

int sdtls_certificate_fingerprint(const uint8_t *pem, size_t len, int hash, uint8_t *out,
                                  size_t *out_len) {
  if (pem == NULL || out == NULL || out_len == NULL || len > INT_MAX ||
      Sdtls_digest_len(hash) == 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (len == 0) {
    return SDTLS_E_CREDENTIALS;
  }

  int ret = SDTLS_E_CREDENTIALS;
  uint8_t *der = NULL;
  long der_len = 0;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL) {
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  /* The first CERTIFICATE (or X509 CERTIFICATE) block, skipping others. */
  if (PEM_bytes_read_bio(&der, &der_len, NULL, PEM_STRING_X509, bio, no_password, NULL) &&
      der_len > 0) {
    /* It must be one whole certificate; the digest is over its exact bytes. */
    const uint8_t *p = der;
    X509 *x509 = d2i_X509(NULL, &p, der_len);
    if (x509 != NULL && p == der + der_len) {
      ret = Sdtls_digest(hash, der, (size_t)der_len, out, out_len);
    }
    X509_free(x509);
  }
  OPENSSL_free(der);
  BIO_free(bio);
  ERR_clear_error();
  return ret;
}

int sdtls_certificate_fingerprint_sha256(const uint8_t *pem, size_t len, uint8_t out[32]) {
  size_t out_len;
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
  if (out == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  int rc = sdtls_certificate_fingerprint(pem, len, SDTLS_HASH_SHA256, digest, &out_len);
  if (rc == SDTLS_OK) {
    memcpy(out, digest, 32);
  }
  return rc;
}

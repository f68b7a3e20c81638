/* SPDX-License-Identifier: Apache-2.0 */
/* src/certificate.c: a generated certificate and key are what a config
 * takes (and only as a pair), each call makes a new one, its fingerprints
 * in every hash agree with each other, and what is not a certificate has
 * none. (Refused arguments: contract_test.c.) */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "sdtls.h"

static int config_takes(const char *cert, const char *key) {
  sdtls_config *c = NULL;
  if (sdtls_config_new(&c) != SDTLS_OK) {
    return SDTLS_E_NOMEM;
  }
  int rc = sdtls_config_set_certificate_pem(c, (const uint8_t *)cert, strlen(cert),
                                            (const uint8_t *)key, strlen(key));
  sdtls_config_free(c);
  return rc;
}

static void test_generate(void) {
  char *cert1 = NULL, *key1 = NULL, *cert2 = NULL, *key2 = NULL;
  REQUIRE_EQ(sdtls_certificate_generate("one.test", 1, &cert1, &key1), SDTLS_OK);
  REQUIRE_EQ(sdtls_certificate_generate("two.test", 36500, &cert2, &key2), SDTLS_OK);
  CHECK(strstr(cert1, "-----BEGIN CERTIFICATE-----") == cert1);
  CHECK(strstr(key1, "PRIVATE KEY-----") != NULL);
  CHECK_EQ(config_takes(cert1, key1), SDTLS_OK);
  CHECK_EQ(config_takes(cert2, key2), SDTLS_OK);
  /* Each pair is its own: a key with another's certificate is refused. */
  CHECK_EQ(config_takes(cert1, key2), SDTLS_E_CREDENTIALS);
  uint8_t a[32], b[32];
  REQUIRE_EQ(sdtls_certificate_fingerprint_sha256((const uint8_t *)cert1, strlen(cert1), a), 0);
  REQUIRE_EQ(sdtls_certificate_fingerprint_sha256((const uint8_t *)cert2, strlen(cert2), b), 0);
  CHECK(memcmp(a, b, sizeof(a)) != 0);
  /* Days outside 1..36500: nothing made, nothing set. */
  char *cert3 = NULL, *key3 = NULL;
  CHECK_EQ(sdtls_certificate_generate("three.test", 36501, &cert3, &key3),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK(cert3 == NULL && key3 == NULL);
  sdtls_free(cert1);
  sdtls_free(key1);
  sdtls_free(cert2);
  sdtls_free(key2);
}

/* The SHA-256 fingerprint from either call is the same; SHA-384 and
 * SHA-512 have their lengths; the text form carries the hash's name. */
static void test_fingerprints(void) {
  char *cert = NULL, *key = NULL;
  REQUIRE_EQ(sdtls_certificate_generate("fp.test", 30, &cert, &key), SDTLS_OK);
  const uint8_t *pem = (const uint8_t *)cert;
  size_t len = strlen(cert);
  uint8_t sha256[32], digest[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t digest_len = 0;
  REQUIRE_EQ(sdtls_certificate_fingerprint_sha256(pem, len, sha256), 0);
  REQUIRE_EQ(sdtls_certificate_fingerprint(pem, len, SDTLS_HASH_SHA256, digest, &digest_len), 0);
  CHECK_EQ(digest_len, 32);
  CHECK(memcmp(digest, sha256, 32) == 0);
  CHECK_EQ(sdtls_certificate_fingerprint(pem, len, SDTLS_HASH_SHA384, digest, &digest_len), 0);
  CHECK_EQ(digest_len, 48);
  CHECK_EQ(sdtls_certificate_fingerprint(pem, len, SDTLS_HASH_SHA512, digest, &digest_len), 0);
  CHECK_EQ(digest_len, 64);
  char text[SDTLS_FINGERPRINT_MAX_TEXT];
  CHECK_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA512, digest, digest_len,
                                         SDTLS_FINGERPRINT_SDP, text, sizeof(text)),
           0);
  CHECK(strncmp(text, "sha-512 ", 8) == 0);
  /* The key is not a certificate; neither is a damaged certificate. */
  CHECK_EQ(sdtls_certificate_fingerprint_sha256((const uint8_t *)key, strlen(key), sha256),
           SDTLS_E_CREDENTIALS);
  cert[40] ^= 1;
  CHECK_EQ(sdtls_certificate_fingerprint_sha256(pem, len, sha256), SDTLS_E_CREDENTIALS);
  sdtls_free(cert);
  sdtls_free(key);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"generate", test_generate},
      {"fingerprints", test_fingerprints},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

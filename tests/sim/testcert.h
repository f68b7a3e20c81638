/* SPDX-License-Identifier: Apache-2.0 */
/* Test certificates, made at test time (TEST-ONLY keys; never use elsewhere).
 *
 * ECDSA P-256 certificates come from the library's own
 * sdtls_certificate_generate() (no files). The RSA-2048 certificate is made
 * by the `openssl` CLI into the build directory at build time
 * (tests/sim/CMakeLists.txt) and its paths are compiled in. */
#ifndef TESTCERT_H
#define TESTCERT_H

#include <stddef.h>
#include <stdint.h>

typedef struct testcert {
  char *cert_pem; /* NUL-terminated PEM */
  char *key_pem;
  int from_library; /* released with sdtls_free() rather than free() */
} testcert;

/* A fresh self-signed ECDSA P-256 certificate for `name` (CN and DNS SAN).
 * Returns 0 or the sdtls error (printed). */
int testcert_ecdsa(const char *name, testcert *out);

/* The RSA-2048 self-signed certificate for "rsa.test" made at build time.
 * Returns 0, or -1 when it is not available (no openssl CLI at build time). */
int testcert_rsa(testcert *out);

void testcert_free(testcert *tc);

size_t testcert_cert_len(const testcert *tc);
size_t testcert_key_len(const testcert *tc);

/* SHA-256 of the certificate's DER (through the library). Returns 0 or error. */
int testcert_fingerprint(const testcert *tc, uint8_t out[32]);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#include "testcert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdtls.h"

int testcert_ecdsa(const char *name, testcert *out) {
  memset(out, 0, sizeof(*out));
  const int rc = sdtls_certificate_generate(name, 3650, &out->cert_pem, &out->key_pem);
  if (rc == 0)
    out->from_library = 1;
  else
    fprintf(stderr, "sdtls_certificate_generate: %s\n", sdtls_strerror(rc));
  return rc;
}

#if defined(SIM_RSA_CERT) && defined(SIM_RSA_KEY)
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    const size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) break;
    if (len + 1 == cap) {
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[len] = '\0';
  return buf;
}
#endif

int testcert_rsa(testcert *out) {
  memset(out, 0, sizeof(*out));
#if defined(SIM_RSA_CERT) && defined(SIM_RSA_KEY)
  out->cert_pem = read_file(SIM_RSA_CERT);
  out->key_pem = read_file(SIM_RSA_KEY);
  if (out->cert_pem && out->key_pem) return 0;
  fprintf(stderr, "testcert: cannot read %s / %s\n", SIM_RSA_CERT, SIM_RSA_KEY);
  testcert_free(out);
#endif
  return -1;
}

void testcert_free(testcert *tc) {
  if (!tc) return;
  if (tc->from_library) {
    sdtls_free(tc->cert_pem);
    sdtls_free(tc->key_pem);
  } else {
    free(tc->cert_pem);
    free(tc->key_pem);
  }
  memset(tc, 0, sizeof(*tc));
}

size_t testcert_cert_len(const testcert *tc) { return tc->cert_pem ? strlen(tc->cert_pem) : 0; }
size_t testcert_key_len(const testcert *tc) { return tc->key_pem ? strlen(tc->key_pem) : 0; }

int testcert_fingerprint(const testcert *tc, uint8_t out[32]) {
  return sdtls_certificate_fingerprint_sha256((const uint8_t *)tc->cert_pem, testcert_cert_len(tc),
                                              out);
}

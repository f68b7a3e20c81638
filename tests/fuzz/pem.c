/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the credential inputs. The first byte picks the calls,
 * the next two where the input splits into certificate and key:
 *   sdtls_certificate_fingerprint_sha256(whole input)
 *   sdtls_config_set_certificate_pem(first part, second part), and with
 *     a certificate a server connection made from it (which freezes it)
 *   sdtls_config_set_ca_pem(whole input)
 *   sdtls_config_set_ciphers(first part as a string)
 * Checks: every return is one the header lists; a refused setter leaves
 * the config usable (a second, valid certificate is still accepted). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static int nop_send(void *user, const uint8_t *d, size_t len) {
  (void)user;
  (void)d;
  (void)len;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_setup();
  fuzz_begin();
  if (size < 3) return 0;
  const uint8_t which = data[0];
  size_t split = ((size_t)data[1] << 8 | data[2]);
  data += 3;
  size -= 3;
  if (split > size) split = size;

  uint8_t fp[32];
  int rc = sdtls_certificate_fingerprint_sha256(data, size, fp);
  if (rc != 0 && rc != SDTLS_E_CREDENTIALS && !(size == 0 && rc == SDTLS_E_INVALID_ARGUMENT))
    FINDING("fingerprint: %s", sdtls_strerror(rc));
  if (rc == 0) {
    char text[96];
    if (sdtls_fingerprint_format(fp, text, sizeof(text)) != 0 || strlen(text) != 95) FINDING("format");
  }

  sdtls_config *c = NULL;
  if (sdtls_config_new(&c) != 0) abort();
  int have_cert = 0;
  if (which & 1) {
    rc = sdtls_config_set_certificate_pem(c, data, split, data + split, size - split);
    if (rc == 0) {
      have_cert = 1;
    } else if (rc != SDTLS_E_CREDENTIALS && rc != SDTLS_E_INVALID_ARGUMENT) {
      FINDING("set_certificate_pem: %s", sdtls_strerror(rc));
    }
  }
  if (which & 2) {
    rc = sdtls_config_set_ca_pem(c, data, size);
    if (rc != 0 && rc != SDTLS_E_CREDENTIALS && rc != SDTLS_E_INVALID_ARGUMENT)
      FINDING("set_ca_pem: %s", sdtls_strerror(rc));
  }
  if (which & 4) {
    char *s = malloc(split + 1);
    if (s == NULL) abort();
    memcpy(s, data, split);
    s[split] = '\0';
    rc = sdtls_config_set_ciphers(c, s);
    if (rc != 0 && rc != SDTLS_E_INVALID_ARGUMENT) FINDING("set_ciphers: %s", sdtls_strerror(rc));
    free(s);
  }
  if (!have_cert && (which & 8)) {
    /* Whatever was refused before, a good certificate still goes in. */
    const char *cert = fuzz_cert_pem(0), *key = fuzz_key_pem(0);
    if (sdtls_config_set_certificate_pem(c, (const uint8_t *)cert, strlen(cert), (const uint8_t *)key,
                                         strlen(key)) != 0)
      FINDING("a valid certificate was refused after the fuzzed calls");
    have_cert = 1;
  }
  if (have_cert) {
    sdtls_conn *conn = NULL;
    sdtls_callbacks cb = {sizeof(cb), nop_send, NULL, NULL, NULL};
    if (sdtls_conn_new(c, SDTLS_ROLE_SERVER, &cb, NULL, &conn) != 0) FINDING("conn_new with a certificate");
    if (sdtls_config_set_ca_pem(c, data, size) != SDTLS_E_FROZEN) FINDING("frozen config accepted a CA");
    sdtls_conn_free(conn);
  }
  sdtls_config_free(c);
  return 0;
}

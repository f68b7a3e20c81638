/* SPDX-License-Identifier: Apache-2.0 */
/* ALPN (RFC 7301): the config's list in wire form, offered by clients and
 * matched by servers in their own order of preference. */
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int sdtls_config_set_alpn(sdtls_config *config, const char *protocols) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  /* "a,bc" becomes "\x01a\x02bc": one byte more than the text. A server
   * refuses a ClientHello over 16 KiB (excessive_message_size; a list of
   * 16,268 wire bytes was the most that still handshook, on both engines),
   * so a longer list would be taken here and fail every handshake. */
  if (protocols == NULL || protocols[0] == '\0' || strlen(protocols) + 1 > SDTLS_MAX_ALPN_WIRE) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  size_t text_len = strlen(protocols);
  uint8_t *wire = malloc(text_len + 1);
  if (wire == NULL) {
    return SDTLS_E_NOMEM;
  }
  size_t len = 0;
  const char *p = protocols;
  for (;;) {
    const char *end = strchr(p, ',');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n == 0 || n > 255) {
      free(wire);
      return SDTLS_E_INVALID_ARGUMENT;
    }
    wire[len++] = (uint8_t)n;
    memcpy(wire + len, p, n);
    len += n;
    if (end == NULL) {
      break;
    }
    p = end + 1;
  }
  free(config->alpn);
  config->alpn = wire;
  config->alpn_len = len;
  return SDTLS_OK;
}

/* Server: the first of our protocols that the client offers. */
static int select_cb(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in,
                     unsigned in_len, void *arg) {
  (void)ssl;
  const sdtls_config *c = arg;
  for (size_t i = 0; i < c->alpn_len; i += 1 + (size_t)c->alpn[i]) {
    const uint8_t *ours = c->alpn + i + 1;
    uint8_t n = c->alpn[i];
    for (unsigned j = 0; j < in_len && j + 1 + in[j] <= in_len; j += 1 + (unsigned)in[j]) {
      if (in[j] == n && memcmp(in + j + 1, ours, n) == 0) {
        *out = in + j + 1;
        *out_len = n;
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

int Sdtls_alpn_install(sdtls_config *config) {
  if (config->alpn == NULL) {
    return SDTLS_OK;
  }
  /* Returns 0 on success (OpenSSL's convention for this one function). */
  if (SSL_CTX_set_alpn_protos(config->ctx, config->alpn, config->alpn_len) != 0) {
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  SSL_CTX_set_alpn_select_cb(config->ctx, select_cb, config);
  return SDTLS_OK;
}

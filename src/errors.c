/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes, their names and categories, and the mapping from the
 * engine's error queue to them. */
#include <ctype.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
  int code;
  const char *name;
  sdtls_category category;
} errors[] = {
    {SDTLS_OK, "success", SDTLS_CATEGORY_NONE},
    {SDTLS_E_INVALID_ARGUMENT, "invalid argument", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_NOMEM, "out of memory", SDTLS_CATEGORY_INTERNAL},
    {SDTLS_E_AGAIN, "try again", SDTLS_CATEGORY_AGAIN},
    {SDTLS_E_STATE, "call not valid in this state", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_IN_CALLBACK, "call not allowed inside a callback", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_CLOSED, "connection closed", SDTLS_CATEGORY_CLOSED},
    {SDTLS_E_ALERT, "fatal alert from the peer", SDTLS_CATEGORY_ALERT},
    {SDTLS_E_VERIFY, "peer certificate verification failed", SDTLS_CATEGORY_VERIFY},
    {SDTLS_E_TIMEOUT, "timed out", SDTLS_CATEGORY_TIMEOUT},
    {SDTLS_E_PROTOCOL, "protocol error", SDTLS_CATEGORY_PROTOCOL},
    {SDTLS_E_TOO_BIG, "message too big for one record", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_FILE, "file could not be read", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_CREDENTIALS, "bad certificate, key or trust data", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_FROZEN, "configuration is in use and cannot change", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_UNSUPPORTED, "not supported by the engine", SDTLS_CATEGORY_USAGE},
    {SDTLS_E_LIMIT, "limit reached", SDTLS_CATEGORY_INTERNAL},
    {SDTLS_E_INTERNAL, "internal error", SDTLS_CATEGORY_INTERNAL},
};

const char *sdtls_strerror(int err) {
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
    if (errors[i].code == err) {
      return errors[i].name;
    }
  }
  return "unknown error";
}

sdtls_category sdtls_error_category(int err) {
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
    if (errors[i].code == err) {
      return errors[i].category;
    }
  }
  return err < 0 ? SDTLS_CATEGORY_INTERNAL : SDTLS_CATEGORY_NONE;
}

/* Alerts the peer sends surface as reason codes SSL_AD_REASON_OFFSET +
 * alert number in the SSL library's error queue. */
int Sdtls_error_from_engine(SSL *ssl, int ssl_error, char *detail, size_t detail_len) {
  uint32_t packed = ERR_peek_error();
  int code = SDTLS_E_PROTOCOL;

  detail[0] = '\0';
  if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    snprintf(detail, detail_len, "peer sent close_notify");
    code = SDTLS_E_CLOSED;
  } else if (packed != 0 && ERR_GET_LIB(packed) == ERR_LIB_SSL &&
             ERR_GET_REASON(packed) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
    snprintf(detail, detail_len, "certificate verify failed: %s",
             v != X509_V_OK ? X509_verify_cert_error_string(v) : "rejected");
    code = SDTLS_E_VERIFY;
  } else if (packed != 0 && ERR_GET_LIB(packed) == ERR_LIB_SSL &&
             ERR_GET_REASON(packed) >= SSL_AD_REASON_OFFSET &&
             ERR_GET_REASON(packed) < SSL_AD_REASON_OFFSET + 256) {
    int alert = ERR_GET_REASON(packed) - SSL_AD_REASON_OFFSET;
    snprintf(detail, detail_len, "peer sent fatal alert: %s (%d)",
             SSL_alert_desc_string_long(alert), alert);
    code = SDTLS_E_ALERT;
  } else if (packed != 0) {
    /* The engine's reasons are identifiers ("NO_APPLICATION_PROTOCOL"):
     * written as words for people ("no application protocol"). */
    const char *reason = ERR_reason_error_string(packed);
    snprintf(detail, detail_len, "%s", reason != NULL ? reason : "engine error");
    for (char *c = detail; *c != '\0'; c++) {
      *c = *c == '_' ? ' ' : (char)tolower((unsigned char)*c);
    }
    if (ERR_GET_LIB(packed) == ERR_LIB_SSL &&
        ERR_GET_REASON(packed) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      code = SDTLS_E_VERIFY;
    }
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    snprintf(detail, detail_len, "I/O failure in the engine");
    code = SDTLS_E_INTERNAL;
  } else {
    snprintf(detail, detail_len, "%s", SSL_error_description(ssl_error) != NULL
                                            ? SSL_error_description(ssl_error)
                                            : "engine error");
  }
  ERR_clear_error();
  return code;
}

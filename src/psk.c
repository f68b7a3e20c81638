/* SPDX-License-Identifier: Apache-2.0 */
/* Pre-shared keys (RFC 4279): a table of identities and keys on the
 * config, an optional lookup for identities the table lacks, and the
 * engine's PSK callbacks over them. */
#include <openssl/err.h>
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static sdtls_config *config_of(const SSL *ssl) {
  return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static bool valid_text(const char *s) {
  return s != NULL && s[0] != '\0' && strlen(s) <= SDTLS_MAX_PSK_IDENTITY;
}

int sdtls_config_add_psk(sdtls_config *config, const char *identity, const uint8_t *key,
                         size_t key_len) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (!valid_text(identity) || key == NULL || key_len == 0 || key_len > SDTLS_MAX_PSK_KEY) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* A fresh array, the old one wiped: keys never linger in freed memory. */
  sdtls_psk *psks = calloc(config->n_psks + 1, sizeof(*psks));
  if (psks == NULL) {
    return SDTLS_E_NOMEM;
  }
  if (config->n_psks > 0) {
    memcpy(psks, config->psks, config->n_psks * sizeof(*psks));
    OPENSSL_cleanse(config->psks, config->n_psks * sizeof(*psks));
  }
  free(config->psks);
  sdtls_psk *k = &psks[config->n_psks];
  strcpy(k->identity, identity);
  memcpy(k->key, key, key_len);
  k->key_len = key_len;
  config->psks = psks;
  config->n_psks++;
  return SDTLS_OK;
}

int sdtls_config_set_psk_lookup(sdtls_config *config, sdtls_psk_lookup_cb cb, void *user_data) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  config->psk_lookup = cb;
  config->psk_lookup_user = cb != NULL ? user_data : NULL;
  return SDTLS_OK;
}

int sdtls_config_set_psk_identity_hint(sdtls_config *config, const char *hint) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (!valid_text(hint)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (!SSL_CTX_use_psk_identity_hint(config->ctx, hint)) {
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  return SDTLS_OK;
}

/* Client: offers the first PSK of the table. */
static unsigned client_cb(SSL *ssl, const char *hint, char *identity, unsigned max_identity_len,
                          uint8_t *psk, unsigned max_psk_len) {
  (void)hint;
  const sdtls_config *c = config_of(ssl);
  if (c == NULL || c->n_psks == 0) {
    return 0;
  }
  const sdtls_psk *k = &c->psks[0];
  size_t n = strlen(k->identity);
  if (n + 1 > max_identity_len || k->key_len > max_psk_len) {
    return 0;
  }
  memcpy(identity, k->identity, n + 1);
  memcpy(psk, k->key, k->key_len);
  return (unsigned)k->key_len;
}

/* The application's lookup, under the callback rule (conn.c): 0 when the
 * connection is being closed or freed, or the lookup does not know the
 * identity. */
static unsigned ask_lookup(const sdtls_config *c, SSL *ssl, const char *identity, uint8_t *psk,
                           unsigned max_psk_len) {
  sdtls_time saved_now;
  sdtls_conn *conn = Sdtls_conn_engine_callback_begin(ssl, &saved_now);
  if (conn == NULL) {
    return 0;
  }
  size_t n = c->psk_lookup(c->psk_lookup_user, identity, psk, max_psk_len);
  Sdtls_conn_engine_callback_end(conn, saved_now);
  return n <= max_psk_len ? (unsigned)n : 0;
}

static const sdtls_psk *table_find(const sdtls_config *c, const char *identity) {
  for (size_t i = 0; i < c->n_psks; i++) {
    if (strcmp(c->psks[i].identity, identity) == 0) {
      return &c->psks[i];
    }
  }
  return NULL;
}

/* Server: the table first, then the application's lookup. */
static unsigned server_cb(SSL *ssl, const char *identity, uint8_t *psk, unsigned max_psk_len) {
  const sdtls_config *c = config_of(ssl);
  if (c == NULL || identity == NULL) {
    return 0;
  }
  const sdtls_psk *k = table_find(c, identity);
  if (k != NULL) {
    if (k->key_len > max_psk_len) {
      return 0;
    }
    memcpy(psk, k->key, k->key_len);
    return (unsigned)k->key_len;
  }
  return c->psk_lookup != NULL ? ask_lookup(c, ssl, identity, psk, max_psk_len) : 0;
}

/* A resumed session skips the PSK callbacks. The session context already
 * binds it to this server's table (session.c); an identity that came from
 * a lookup is put to the lookup again, so an identity the application
 * has since dropped does not live on in its tickets. */
bool Sdtls_psk_still_known(sdtls_conn *conn) {
  SSL *ssl = Sdtls_conn_engine(conn);
  const sdtls_config *c = config_of(ssl);
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  if (!SSL_session_reused(ssl) || !SSL_is_server(ssl) || cipher == NULL ||
      SSL_CIPHER_get_auth_nid(cipher) != NID_auth_psk) {
    return true;
  }
  const char *identity = SSL_get_psk_identity(ssl);
  if (identity == NULL) {
    return false;
  }
  if (table_find(c, identity) != NULL) {
    return true;
  }
  if (c->psk_lookup == NULL) {
    return false;
  }
  uint8_t key[PSK_MAX_PSK_LEN];
  unsigned n = ask_lookup(c, ssl, identity, key, sizeof(key));
  OPENSSL_cleanse(key, sizeof(key));
  return n > 0;
}

int Sdtls_psk_install(sdtls_config *config) {
  if (Sdtls_config_has_psk(config)) {
    SSL_CTX_set_psk_client_callback(config->ctx, client_cb);
    SSL_CTX_set_psk_server_callback(config->ctx, server_cb);
  }
  return SDTLS_OK;
}

const char *sdtls_conn_psk_identity(const sdtls_conn *conn) {
  if (!Sdtls_conn_is_done(conn)) {
    return NULL;
  }
  const SSL *ssl = Sdtls_conn_engine((sdtls_conn *)conn);
  const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
  if (cipher == NULL || SSL_CIPHER_get_auth_nid(cipher) != NID_auth_psk) {
    return NULL;
  }
  return SSL_get_psk_identity(ssl);
}

/* Session resumption with RFC 5077 tickets. Servers protect tickets with
 * keys derived from a secret the application may set and rotate (the
 * current secret seals, the current and the previous one open); clients
 * carry sessions between connections as opaque bytes. */
#include <openssl/aes.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MIN_SECRET 32
#define MAX_SECRET 64

/* name, AES and HMAC keys: HMAC-SHA256(secret, label) for each. */
static int derive(const uint8_t *secret, size_t len, sdtls_ticket_key *out) {
  static const char *const labels[3] = {"sdtls ticket name", "sdtls ticket aes",
                                        "sdtls ticket hmac"};
  uint8_t *dst[3] = {out->name, out->aes, out->hmac};
  const size_t dst_len[3] = {sizeof(out->name), sizeof(out->aes), sizeof(out->hmac)};
  for (int i = 0; i < 3; i++) {
    uint8_t md[32];
    unsigned md_len = 0;
    if (HMAC(EVP_sha256(), secret, len, (const uint8_t *)labels[i], strlen(labels[i]), md,
             &md_len) == NULL) {
      OPENSSL_cleanse(out, sizeof(*out));
      return SDTLS_E_INTERNAL;
    }
    memcpy(dst[i], md, dst_len[i]);
    OPENSSL_cleanse(md, sizeof(md));
  }
  return SDTLS_OK;
}

/* Puts a new secret's keys in place (lock held). */
static void rotate(sdtls_config *c, const sdtls_ticket_key *key) {
  if (c->has_ticket_key) {
    c->ticket_previous = c->ticket_current;
    c->has_ticket_previous = true;
  }
  c->ticket_current = *key;
  c->has_ticket_key = true;
}

int sdtls_config_set_ticket_secret(sdtls_config *config, const uint8_t *secret, size_t len) {
  if (config == NULL || secret == NULL || len < MIN_SECRET || len > MAX_SECRET) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  sdtls_ticket_key key;
  int rc = derive(secret, len, &key);
  if (rc != SDTLS_OK) {
    return rc;
  }
  pthread_mutex_lock(&config->lock);
  rotate(config, &key);
  pthread_mutex_unlock(&config->lock);
  OPENSSL_cleanse(&key, sizeof(key));
  return SDTLS_OK;
}

/* The engine's ticket callback (see SSL_CTX_set_tlsext_ticket_key_cb for
 * its return values): seal with the current keys, open with the current or
 * the previous ones, and ask for a fresh ticket after the previous. */
static int ticket_cb(SSL *ssl, uint8_t *key_name, uint8_t *iv, EVP_CIPHER_CTX *cipher_ctx,
                     HMAC_CTX *hmac_ctx, int encrypt) {
  sdtls_config *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  sdtls_ticket_key key;
  int found = 0;
  pthread_mutex_lock(&c->lock);
  if (encrypt) {
    key = c->ticket_current;
    found = 1;
  } else if (CRYPTO_memcmp(key_name, c->ticket_current.name, 16) == 0) {
    key = c->ticket_current;
    found = 1;
  } else if (c->has_ticket_previous &&
             CRYPTO_memcmp(key_name, c->ticket_previous.name, 16) == 0) {
    key = c->ticket_previous;
    found = 2;
  }
  pthread_mutex_unlock(&c->lock);
  if (!found) {
    return 0; /* an unknown or retired key: a full handshake */
  }
  int rc;
  if (encrypt) {
    memcpy(key_name, key.name, 16);
    rc = RAND_bytes(iv, 16) &&
                 EVP_EncryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), NULL, key.aes, iv) &&
                 HMAC_Init_ex(hmac_ctx, key.hmac, sizeof(key.hmac), EVP_sha256(), NULL)
             ? 1
             : -1;
  } else {
    rc = EVP_DecryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), NULL, key.aes, iv) &&
                 HMAC_Init_ex(hmac_ctx, key.hmac, sizeof(key.hmac), EVP_sha256(), NULL)
             ? found
             : -1;
  }
  OPENSSL_cleanse(&key, sizeof(key));
  return rc;
}

/* Client: every session the engine establishes or receives a ticket for
 * (DTLS 1.3 sends tickets after the handshake) is kept on its connection;
 * taking the reference (return 1). */
static int new_session_cb(SSL *ssl, SSL_SESSION *session) {
  sdtls_conn *conn = SSL_get_app_data(ssl);
  if (conn == NULL || SSL_is_server(ssl)) {
    return 0;
  }
  sdtls_conn_set_latest_session(conn, session);
  return 1;
}

static int digest_order(const void *a, const void *b) { return memcmp(a, b, 32); }

/* The session context: a digest of everything that decided how the peer
 * was authenticated (verification mode, the name checked, the pinned
 * fingerprints, the client's PSK). A session is resumed only under the
 * same context, so a session made under one policy (or for one name, or
 * one pin) never stands in for authentication under another: the engine
 * does not authenticate the peer again on resumption. */
void sdtls_session_context(const sdtls_config *c, sdtls_role role, const char *server_name,
                           const sdtls_fingerprint *conn_pins, size_t n_conn_pins,
                           uint8_t out[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX h;
  SHA256_Init(&h);
  static const char label[] = "sdtls session context v1";
  SHA256_Update(&h, label, sizeof(label));
  const uint8_t mode[2] = {(uint8_t)c->verify_peer, (uint8_t)c->require_client_cert};
  SHA256_Update(&h, mode, sizeof(mode));
  const char *name = server_name != NULL ? server_name : "";
  SHA256_Update(&h, name, strlen(name) + 1);
  sdtls_fingerprint pins[2 * SDTLS_MAX_FINGERPRINTS];
  size_t n = 0;
  for (size_t i = 0; i < c->n_fingerprints; i++) pins[n++] = c->fingerprints[i];
  for (size_t i = 0; i < n_conn_pins; i++) pins[n++] = conn_pins[i];
  qsort(pins, n, sizeof(pins[0]), digest_order); /* the order they were given in is no policy */
  SHA256_Update(&h, pins, n * sizeof(pins[0]));
  if (role == SDTLS_ROLE_CLIENT && c->n_psks > 0) {
    uint8_t key_digest[SHA256_DIGEST_LENGTH];
    SHA256(c->psks[0].key, c->psks[0].key_len, key_digest);
    SHA256_Update(&h, c->psks[0].identity, strlen(c->psks[0].identity) + 1);
    SHA256_Update(&h, key_digest, sizeof(key_digest));
    OPENSSL_cleanse(key_digest, sizeof(key_digest));
  }
  SHA256_Final(out, &h);
}

int sdtls_session_install(sdtls_config *config) {
  /* What every connection without a server name or pins of its own uses:
   * the config no longer changes. */
  sdtls_session_context(config, SDTLS_ROLE_CLIENT, NULL, NULL, 0, config->session_ctx[0]);
  sdtls_session_context(config, SDTLS_ROLE_SERVER, NULL, NULL, 0, config->session_ctx[1]);
  /* No cache of the engine's own: the client's sessions go to its
   * connection (new_session_cb), the server's into tickets. */
  SSL_CTX_set_session_cache_mode(config->ctx,
                                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(config->ctx, new_session_cb);
  if (!config->session_tickets) {
    SSL_CTX_set_options(config->ctx, SSL_OP_NO_TICKET);
    return SDTLS_OK;
  }
  SSL_CTX_clear_options(config->ctx, SSL_OP_NO_TICKET);
  if (!config->has_ticket_key) {
    uint8_t secret[MIN_SECRET];
    sdtls_ticket_key key;
    if (!RAND_bytes(secret, sizeof(secret)) || derive(secret, sizeof(secret), &key) != 0) {
      return SDTLS_E_INTERNAL;
    }
    rotate(config, &key);
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(&key, sizeof(key));
  }
  SSL_CTX_set_tlsext_ticket_key_cb(config->ctx, ticket_cb);
  return SDTLS_OK;
}

int sdtls_conn_get_session(const sdtls_conn *conn, uint8_t **session, size_t *len) {
  if (conn == NULL || session == NULL || len == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (!sdtls_conn_is_done(conn)) {
    return SDTLS_E_STATE;
  }
  SSL_SESSION *s = sdtls_conn_latest_session(conn);
  if (s == NULL) {
    s = SSL_get_session(sdtls_conn_engine((sdtls_conn *)conn));
  }
  if (s == NULL || !SSL_SESSION_is_resumable(s)) {
    return SDTLS_E_STATE;
  }
  uint8_t *bytes = NULL;
  size_t n = 0;
  if (!SSL_SESSION_to_bytes(s, &bytes, &n)) {
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  *session = bytes; /* OPENSSL_malloc'd: sdtls_free() wipes and frees it */
  *len = n;
  return SDTLS_OK;
}

/* Sessions larger than this are parsed every time instead of being kept. */
#define MAX_IMPORT_KEPT 16384

/* A client that resumes many connections from one stored session would
 * otherwise parse it (certificates included) on every
 * sdtls_conn_set_session(). The engine treats a session object as
 * immutable once made (a renewed ticket makes a new one), so one parsed
 * object can be offered by any number of connections, as an application
 * using the engine directly would do; each offer is still checked against
 * its connection's session context when the handshake starts (begin() in
 * conn.c). One entry per config, keyed by the exact bytes: at most one
 * parsed session and one copy of its bytes (up to MAX_IMPORT_KEPT), both
 * wiped when replaced or when the config is freed. The bytes hold the
 * master secret, so they are compared in constant time. */
SSL_SESSION *sdtls_session_import(sdtls_config *config, const uint8_t *bytes, size_t len) {
  pthread_mutex_lock(&config->lock);
  if (config->import_session != NULL && config->import_len == len &&
      CRYPTO_memcmp(config->import_bytes, bytes, len) == 0) {
    SSL_SESSION *s = config->import_session;
    SSL_SESSION_up_ref(s);
    pthread_mutex_unlock(&config->lock);
    return s;
  }
  pthread_mutex_unlock(&config->lock);
  SSL_SESSION *s = SSL_SESSION_from_bytes(bytes, len, config->ctx);
  ERR_clear_error();
  if (s == NULL || len > MAX_IMPORT_KEPT) {
    return s;
  }
  uint8_t *copy = OPENSSL_malloc(len); /* OPENSSL_free wipes it */
  if (copy == NULL) {
    ERR_clear_error();
    return s; /* not kept: nothing else changes */
  }
  memcpy(copy, bytes, len);
  SSL_SESSION_up_ref(s);
  pthread_mutex_lock(&config->lock);
  SSL_SESSION *old = config->import_session;
  uint8_t *old_bytes = config->import_bytes;
  config->import_session = s;
  config->import_bytes = copy;
  config->import_len = len;
  pthread_mutex_unlock(&config->lock);
  SSL_SESSION_free(old);
  OPENSSL_free(old_bytes);
  return s;
}

void sdtls_session_import_clear(sdtls_config *config) {
  SSL_SESSION_free(config->import_session);
  OPENSSL_free(config->import_bytes);
  config->import_session = NULL;
  config->import_bytes = NULL;
  config->import_len = 0;
}

int sdtls_conn_session_resumed(const sdtls_conn *conn) {
  return sdtls_conn_is_done(conn) && SSL_session_reused(sdtls_conn_engine((sdtls_conn *)conn))
             ? 1
             : 0;
}

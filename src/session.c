/* SPDX-License-Identifier: Apache-2.0 */
/* Session resumption with RFC 5077 tickets (and DTLS 1.3's NewSessionTicket). Servers protect tickets with
 * keys derived from a secret the application may set and rotate (the
 * current secret seals, the current and the previous one open); clients
 * carry sessions between connections as opaque bytes. */
#include <openssl/aes.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
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
  Sdtls_conn_set_latest_session(conn, session);
  return 1;
}

static int digest_order(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Pins as a set: whole structs (hash id, length, zero-padded digest). */
static int pin_order(const void *a, const void *b) {
  return memcmp(a, b, sizeof(sdtls_fingerprint));
}

/* The trust anchors as a set: the certificates in the engine's store
 * (sorted, so the order they were added in does not matter) and the CA
 * directories' paths. Taken once, when the config is frozen. */
static int trust_digest(sdtls_config *c) {
  STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(c->ctx));
  size_t n = 0, count = sk_X509_OBJECT_num(objects);
  uint8_t(*certs)[32] = count > 0 ? malloc(count * 32) : NULL;
  if (count > 0 && certs == NULL) {
    return SDTLS_E_NOMEM;
  }
  for (size_t i = 0; i < count; i++) {
    X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
    uint8_t *der = NULL;
    int len = x != NULL ? i2d_X509(x, &der) : 0;
    if (len > 0) {
      SHA256(der, (size_t)len, certs[n++]);
    }
    OPENSSL_free(der);
  }
  ERR_clear_error();
  SHA256_CTX h;
  SHA256_Init(&h);
  SHA256_Update(&h, c->ca_dirs, sizeof(c->ca_dirs));
  if (n > 0) {
    qsort(certs, n, 32, digest_order);
    SHA256_Update(&h, certs, n * 32);
  }
  SHA256_Final(c->trust, &h);
  free(certs);
  return SDTLS_OK;
}

static int psk_order(const void *a, const void *b) {
  return strcmp(((const sdtls_psk *)a)->identity, ((const sdtls_psk *)b)->identity);
}

/* A PSK's identity and a digest of its key (the key itself never enters
 * a digest that is stored in tickets). */
static void hash_psk(SHA256_CTX *h, const sdtls_psk *k) {
  uint8_t key_digest[SHA256_DIGEST_LENGTH];
  SHA256(k->key, k->key_len, key_digest);
  SHA256_Update(h, k->identity, strlen(k->identity) + 1);
  SHA256_Update(h, key_digest, sizeof(key_digest));
  OPENSSL_cleanse(key_digest, sizeof(key_digest));
}

/* A server's PSKs: every identity and key of the table, in identity order
 * (a server accepts any of them), and whether a lookup answers for the
 * rest (a resumed session of a looked-up identity is checked again with
 * the lookup: Sdtls_psk_still_known()). */
static void hash_server_psks(SHA256_CTX *h, const sdtls_config *c) {
  const uint8_t lookup = c->psk_lookup != NULL;
  SHA256_Update(h, &lookup, 1);
  if (c->n_psks == 0) {
    return;
  }
  sdtls_psk *sorted = malloc(c->n_psks * sizeof(*sorted));
  if (sorted == NULL) {
    /* Unique to this config: its sessions resume nowhere else. */
    SHA256_Update(h, &c, sizeof(c));
    return;
  }
  memcpy(sorted, c->psks, c->n_psks * sizeof(*sorted));
  qsort(sorted, c->n_psks, sizeof(*sorted), psk_order);
  for (size_t i = 0; i < c->n_psks; i++) {
    hash_psk(h, &sorted[i]);
  }
  OPENSSL_cleanse(sorted, c->n_psks * sizeof(*sorted));
  free(sorted);
}

/* The session context: a digest of everything that decides how the peer
 * is authenticated on this side — the verification mode and the
 * client-certificate requirement, the trust anchors, the name checked, the
 * pinned fingerprints, the PSKs (a client's first, a server's whole table
 * and whether it has a lookup). The engine does not authenticate the peer
 * again on resumption, so a session resumes only under the same context:
 * a session made under one policy never stands in for authentication
 * under another (a server with another trust store, client-certificate
 * policy or PSK table makes a full handshake instead). Servers that share
 * a ticket secret therefore resume each other's sessions only when they
 * share this policy too (docs/design.md, "Sessions are bound to their
 * authentication policy"). */
void Sdtls_session_context(const sdtls_config *c, sdtls_role role, const char *server_name,
                           const sdtls_fingerprint *conn_pins, size_t n_conn_pins,
                           uint8_t out[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX h;
  SHA256_Init(&h);
  static const char label[] = "sdtls session context v2";
  SHA256_Update(&h, label, sizeof(label));
  const uint8_t mode[3] = {(uint8_t)c->verify_peer, (uint8_t)c->require_client_cert,
                           (uint8_t)role};
  SHA256_Update(&h, mode, sizeof(mode));
  SHA256_Update(&h, c->trust, sizeof(c->trust));
  const char *name = server_name != NULL ? server_name : "";
  SHA256_Update(&h, name, strlen(name) + 1);
  sdtls_fingerprint pins[2 * SDTLS_MAX_FINGERPRINTS];
  size_t n = 0;
  for (size_t i = 0; i < c->n_fingerprints; i++) pins[n++] = c->fingerprints[i];
  for (size_t i = 0; i < n_conn_pins; i++) pins[n++] = conn_pins[i];
  qsort(pins, n, sizeof(pins[0]), pin_order); /* the order they were given in is no policy */
  SHA256_Update(&h, pins, n * sizeof(pins[0]));
  if (role == SDTLS_ROLE_SERVER) {
    hash_server_psks(&h, c);
  } else if (c->n_psks > 0) {
    hash_psk(&h, &c->psks[0]);
  }
  SHA256_Final(out, &h);
}

int Sdtls_session_install(sdtls_config *config) {
  int rc = trust_digest(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  /* What every connection without a server name or pins of its own uses:
   * the config no longer changes. */
  Sdtls_session_context(config, SDTLS_ROLE_CLIENT, NULL, NULL, 0, config->session_ctx[0]);
  Sdtls_session_context(config, SDTLS_ROLE_SERVER, NULL, NULL, 0, config->session_ctx[1]);
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
  if (!Sdtls_conn_is_done(conn)) {
    return SDTLS_E_STATE;
  }
  SSL_SESSION *s = Sdtls_conn_latest_session(conn);
  if (s == NULL) {
    s = SSL_get_session(Sdtls_conn_engine((sdtls_conn *)conn));
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
/* Constant-time equality a word at a time: CRYPTO_memcmp goes byte by
 * byte, some 4,500 instructions for a typical session's bytes, which made
 * a resumed handshake 1.04x the engine's own (tests/bench). */
static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t len) {
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
    uint64_t x, y;
    memcpy(&x, a + i, sizeof(x));
    memcpy(&y, b + i, sizeof(y));
    diff |= x ^ y;
  }
  for (; i < len; i++) {
    diff |= (uint64_t)(a[i] ^ b[i]);
  }
  return diff == 0;
}

SSL_SESSION *Sdtls_session_import(sdtls_config *config, const uint8_t *bytes, size_t len) {
  pthread_mutex_lock(&config->lock);
  if (config->import_session != NULL && config->import_len == len &&
      same_bytes(config->import_bytes, bytes, len)) {
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

void Sdtls_session_import_clear(sdtls_config *config) {
  SSL_SESSION_free(config->import_session);
  OPENSSL_free(config->import_bytes);
  config->import_session = NULL;
  config->import_bytes = NULL;
  config->import_len = 0;
}

int sdtls_conn_session_resumed(const sdtls_conn *conn) {
  return Sdtls_conn_is_done(conn) && SSL_session_reused(Sdtls_conn_engine((sdtls_conn *)conn))
             ? 1
             : 0;
}

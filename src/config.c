/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_config: settings shared by connections, kept in an engine SSL_CTX
 * plus the few values sdtls applies per connection. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* ECDHE key exchange with AEAD ciphers only, strongest first per key type. */
static const char default_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* Largest credential file read; anything bigger is not a certificate. */
#define MAX_PEM_FILE (1 << 20)

static const struct option_range {
  sdtls_option option;
  int64_t min, max, def;
} option_ranges[] = {
    {SDTLS_OPT_VERIFY_PEER, 0, 1, 1},
    {SDTLS_OPT_REQUIRE_CLIENT_CERT, 0, 1, 0},
    {SDTLS_OPT_MTU, 256, 65507, 1200},
    {SDTLS_OPT_INITIAL_TIMEOUT_MS, 10, 60000, 1000},
    {SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 100, 3600000, 30000},
    {SDTLS_OPT_MIN_VERSION, 0, 0xffff, SDTLS_DTLS1_2},
    {SDTLS_OPT_MAX_VERSION, 0, 0xffff, SDTLS_DTLS1_2},
    {SDTLS_OPT_COOKIES, 0, 1, 1},
    {SDTLS_OPT_MAX_PEERS, 1, 1000000, 1024},
    {SDTLS_OPT_MAX_HANDSHAKES, 1, 1000000, 256},
    {SDTLS_OPT_IDLE_TIMEOUT_MS, 0, INT64_C(86400000), 300000},
    {SDTLS_OPT_COOKIE_LIFETIME_MS, 1000, 3600000, 60000},
    {SDTLS_OPT_PSK_ALLOW_CBC, 0, 1, 0},
    {SDTLS_OPT_SESSION_TICKETS, 0, 1, 1},
};

static int64_t *option_slot(sdtls_config *c, sdtls_option option) {
  switch (option) {
    case SDTLS_OPT_VERIFY_PEER: return &c->verify_peer;
    case SDTLS_OPT_REQUIRE_CLIENT_CERT: return &c->require_client_cert;
    case SDTLS_OPT_MTU: return &c->mtu;
    case SDTLS_OPT_INITIAL_TIMEOUT_MS: return &c->initial_timeout_ms;
    case SDTLS_OPT_HANDSHAKE_TIMEOUT_MS: return &c->handshake_timeout_ms;
    case SDTLS_OPT_MIN_VERSION: return &c->min_version;
    case SDTLS_OPT_MAX_VERSION: return &c->max_version;
    case SDTLS_OPT_COOKIES: return &c->cookies;
    case SDTLS_OPT_MAX_PEERS: return &c->max_peers;
    case SDTLS_OPT_MAX_HANDSHAKES: return &c->max_handshakes;
    case SDTLS_OPT_IDLE_TIMEOUT_MS: return &c->idle_timeout_ms;
    case SDTLS_OPT_COOKIE_LIFETIME_MS: return &c->cookie_lifetime_ms;
    case SDTLS_OPT_PSK_ALLOW_CBC: return &c->psk_allow_cbc;
    case SDTLS_OPT_SESSION_TICKETS: return &c->session_tickets;
  }
  return NULL;
}

static const struct option_range *option_range(sdtls_option option) {
  for (size_t i = 0; i < sizeof(option_ranges) / sizeof(option_ranges[0]); i++) {
    if (option_ranges[i].option == option) {
      return &option_ranges[i];
    }
  }
  return NULL;
}

/* Debian's engine (2022) speaks DTLS 1.2 only; upstream trees that know
 * DTLS 1.3 define its version number. */
/* Under the callback rule (conn.c: the engine is in the middle of a
 * handshake when it logs a secret). */
static void keylog_trampoline(const SSL *ssl, const char *line) {
  sdtls_config *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  if (c == NULL || c->keylog == NULL) {
    return;
  }
  sdtls_time saved_now;
  sdtls_conn *conn = Sdtls_conn_engine_callback_begin(ssl, &saved_now);
  if (conn != NULL) {
    c->keylog(c->keylog_user, line);
    Sdtls_conn_engine_callback_end(conn, saved_now);
  }
}

int sdtls_config_new(sdtls_config **out) {
  if (out == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  *out = NULL;
  sdtls_config *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    return SDTLS_E_NOMEM;
  }
  c->ctx = SSL_CTX_new(DTLS_method());
  if (c->ctx == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
    SSL_CTX_free(c->ctx);
    free(c);
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  atomic_init(&c->refs, 1);
  for (size_t i = 0; i < sizeof(option_ranges) / sizeof(option_ranges[0]); i++) {
    *option_slot(c, option_ranges[i].option) = option_ranges[i].def;
  }
  SSL_CTX_set_app_data(c->ctx, c);
  SSL_CTX_set_current_time_cb(c->ctx, Sdtls_engine_time_cb);
  SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
  /* No session cache of the engine's: resumption is by tickets, set up when
   * the config is frozen (session.c). */
  SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_OFF);
  c->max_version = Sdtls_engine_speaks(SDTLS_DTLS1_3) ? SDTLS_DTLS1_3 : SDTLS_DTLS1_2;
  if (!SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(c->ctx, (uint16_t)c->max_version) ||
      !SSL_CTX_set_strict_cipher_list(c->ctx, default_ciphers)) {
    sdtls_config_free(c);
    ERR_clear_error();
    return SDTLS_E_INTERNAL;
  }
#ifdef SSL_GROUP_X25519_MLKEM768
  /* Post-quantum by default where the engine has the hybrid (the engine's
   * own default is X25519, P-256, P-384), as Chrome and OpenSSL 3.5 do for
   * TLS. The engine's client sends key shares for the first group and for the
   * first classical one after it (X25519), so a peer without ML-KEM (or a
   * DTLS 1.2 one) costs no HelloRetryRequest. Debian's engine keeps its list. */
  static const uint16_t default_groups[] = {SSL_GROUP_X25519_MLKEM768, SSL_GROUP_X25519,
                                            SSL_GROUP_SECP256R1};
  if (!SSL_CTX_set1_group_ids(c->ctx, default_groups,
                              sizeof(default_groups) / sizeof(default_groups[0]))) {
    sdtls_config_free(c);
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
#endif
  *out = c;
  return SDTLS_OK;
}

void sdtls_config_free(sdtls_config *config) {
  if (config == NULL || atomic_fetch_sub(&config->refs, 1) != 1) {
    return;
  }
  Sdtls_session_import_clear(config); /* before the context it was parsed with */
  SSL_CTX_free(config->ctx);
  pthread_mutex_destroy(&config->lock);
  if (config->psks != NULL) {
    OPENSSL_cleanse(config->psks, config->n_psks * sizeof(*config->psks));
    free(config->psks);
  }
  free(config->ciphers);
  free(config->alpn);
  OPENSSL_cleanse(config, sizeof(*config)); /* ticket keys */
  free(config);
}

/* Suites added to the defaults when a PSK is configured. */
static const char psk_ciphers[] = ":ECDHE-PSK-CHACHA20-POLY1305";
static const char psk_cbc_ciphers[] =
    ":ECDHE-PSK-AES128-CBC-SHA:ECDHE-PSK-AES256-CBC-SHA:PSK-AES128-CBC-SHA:PSK-AES256-CBC-SHA";

/* Applies what was kept aside until first use: the cipher list (which
 * depends on the PSK settings), PSK, ticket and ALPN engine callbacks. */
static int finish(sdtls_config *c) {
  char list[sizeof(default_ciphers) + sizeof(psk_ciphers) + sizeof(psk_cbc_ciphers)];
  const char *ciphers = c->ciphers;
  if (ciphers == NULL && Sdtls_config_has_psk(c)) {
    /* The PSK suite first: a client given a key means to use it, and the
     * engine's servers follow the client's order. */
    snprintf(list, sizeof(list), "%s:%s%s", psk_ciphers + 1, default_ciphers,
             c->psk_allow_cbc ? psk_cbc_ciphers : "");
    ciphers = list;
  } else if (ciphers == NULL) {
    ciphers = default_ciphers;
  }
  if (!SSL_CTX_set_strict_cipher_list(c->ctx, ciphers)) {
    ERR_clear_error();
    return SDTLS_E_NOMEM; /* the list was checked when it was set */
  }
  if (Sdtls_config_has_psk(c) && c->max_version == SDTLS_DTLS1_3 &&
      c->min_version == SDTLS_DTLS1_2) {
    /* The engine's PSK suites (RFC 4279) are DTLS 1.2 suites: its DTLS 1.3
     * would need a certificate instead. */
    c->max_version = SDTLS_DTLS1_2;
    SSL_CTX_set_max_proto_version(c->ctx, DTLS1_2_VERSION);
  }
  int rc = Sdtls_psk_install(c);
  if (rc == SDTLS_OK) {
    rc = Sdtls_session_install(c);
  }
  if (rc == SDTLS_OK) {
    rc = Sdtls_alpn_install(c);
  }
  return rc;
}

int Sdtls_config_acquire(sdtls_config *config) {
  int rc = SDTLS_OK;
  pthread_mutex_lock(&config->lock);
  if (!config->frozen) {
    rc = finish(config);
    config->frozen = rc == SDTLS_OK;
  }
  pthread_mutex_unlock(&config->lock);
  if (rc == SDTLS_OK) {
    atomic_fetch_add(&config->refs, 1);
  }
  return rc;
}


int sdtls_config_set_option(sdtls_config *config, sdtls_option option, int64_t value) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  const struct option_range *r = option_range(option);
  if (r == NULL || value < r->min || value > r->max) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (option == SDTLS_OPT_MIN_VERSION || option == SDTLS_OPT_MAX_VERSION) {
    if (value != SDTLS_DTLS1_2 && value != SDTLS_DTLS1_3) {
      return SDTLS_E_INVALID_ARGUMENT;
    }
    if (!Sdtls_engine_speaks(value)) {
      return SDTLS_E_UNSUPPORTED;
    }
    /* DTLS version numbers count down: 1.2 is 0xfefd, 1.3 is 0xfefc. */
    int ok = option == SDTLS_OPT_MIN_VERSION
                 ? SSL_CTX_set_min_proto_version(config->ctx, (uint16_t)value)
                 : SSL_CTX_set_max_proto_version(config->ctx, (uint16_t)value);
    if (!ok) {
      ERR_clear_error();
      return SDTLS_E_UNSUPPORTED;
    }
  }
  *option_slot(config, option) = value;
  return SDTLS_OK;
}

int sdtls_config_get_option(const sdtls_config *config, sdtls_option option, int64_t *value) {
  if (config == NULL || value == NULL || option_range(option) == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  *value = *option_slot((sdtls_config *)config, option);
  return SDTLS_OK;
}

/* Reads a whole (small) file; the caller wipes and frees *out. */
static int read_file(const char *path, uint8_t **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return SDTLS_E_FILE;
  }
  uint8_t *buf = malloc(MAX_PEM_FILE);
  if (buf == NULL) {
    fclose(f);
    return SDTLS_E_NOMEM;
  }
  size_t n = fread(buf, 1, MAX_PEM_FILE, f);
  bool failed = ferror(f) || (n == MAX_PEM_FILE && fgetc(f) != EOF);
  fclose(f);
  if (failed) {
    OPENSSL_cleanse(buf, MAX_PEM_FILE);
    free(buf);
    return SDTLS_E_FILE;
  }
  *out = buf;
  *out_len = n;
  return SDTLS_OK;
}

static void wipe_free(uint8_t *buf) {
  if (buf != NULL) {
    OPENSSL_cleanse(buf, MAX_PEM_FILE);
    free(buf);
  }
}

/* Reads every certificate of a PEM buffer. Returns 0 with a non-empty
 * stack in *out (the caller frees it), SDTLS_E_CREDENTIALS when there is no
 * certificate or any PEM block is damaged (a chain with a corrupt member is
 * refused, not cut short), or SDTLS_E_NOMEM. */
static int read_pem_certificates(const uint8_t *pem, size_t len, STACK_OF(X509) **out) {
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  STACK_OF(X509) *certs = sk_X509_new_null();
  if (b == NULL || certs == NULL) {
    BIO_free(b);
    sk_X509_free(certs);
    return SDTLS_E_NOMEM;
  }
  int rc = SDTLS_OK;
  X509 *x;
  while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(certs, x)) {
      X509_free(x);
      rc = SDTLS_E_NOMEM;
      break;
    }
  }
  /* The loop ends at the end of the input (no further BEGIN line) or at
   * the first block that does not decode. */
  uint32_t err = ERR_peek_last_error();
  if (rc == SDTLS_OK && (sk_X509_num(certs) == 0 || ERR_GET_LIB(err) != ERR_LIB_PEM ||
                         ERR_GET_REASON(err) != PEM_R_NO_START_LINE)) {
    rc = SDTLS_E_CREDENTIALS;
  }
  ERR_clear_error();
  BIO_free(b);
  if (rc != SDTLS_OK) {
    sk_X509_pop_free(certs, X509_free);
    return rc;
  }
  *out = certs;
  return SDTLS_OK;
}

int sdtls_config_set_certificate_pem(sdtls_config *config, const uint8_t *cert_pem,
                                     size_t cert_len, const uint8_t *key_pem, size_t key_len) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (cert_pem == NULL || key_pem == NULL || cert_len == 0 || key_len == 0 ||
      cert_len > INT32_MAX || key_len > INT32_MAX) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* Everything is parsed and checked aside; the engine then swaps chain and
   * key in one step, after checking that they match. A refused call leaves
   * the config as it was. */
  STACK_OF(X509) *certs = NULL;
  rc = read_pem_certificates(cert_pem, cert_len, &certs);
  if (rc != SDTLS_OK) {
    return rc;
  }
  size_t n = sk_X509_num(certs);
  CRYPTO_BUFFER **der = calloc(n, sizeof(*der));
  BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
  EVP_PKEY *key = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
  rc = der == NULL ? SDTLS_E_NOMEM : SDTLS_OK;
  for (size_t i = 0; rc == SDTLS_OK && i < n; i++) {
    uint8_t *bytes = NULL;
    int len = i2d_X509(sk_X509_value(certs, i), &bytes);
    der[i] = len > 0 ? CRYPTO_BUFFER_new(bytes, (size_t)len, NULL) : NULL;
    OPENSSL_free(bytes);
    if (der[i] == NULL) {
      rc = SDTLS_E_NOMEM;
    }
  }
  if (rc == SDTLS_OK && (key == NULL || (EVP_PKEY_id(key) != EVP_PKEY_EC &&
                                         EVP_PKEY_id(key) != EVP_PKEY_RSA))) {
    rc = SDTLS_E_CREDENTIALS;
  }
  /* The key must belong to the leaf; checked here, before the engine sees
   * either: a current engine's SSL_CTX_set_chain_and_key that refuses the
   * pair has already dropped the credential set before. */
  if (rc == SDTLS_OK) {
    EVP_PKEY *leaf_key = X509_get_pubkey(sk_X509_value(certs, 0));
    if (leaf_key == NULL || EVP_PKEY_cmp(leaf_key, key) != 1) {
      rc = SDTLS_E_CREDENTIALS;
    }
    EVP_PKEY_free(leaf_key);
  }
  if (rc == SDTLS_OK && !SSL_CTX_set_chain_and_key(config->ctx, der, n, key, NULL)) {
    rc = SDTLS_E_CREDENTIALS; /* the key does not belong to the certificate */
  }
  if (rc == SDTLS_OK) {
    config->has_certificate = true;
  }
  ERR_clear_error();
  for (size_t i = 0; der != NULL && i < n; i++) {
    CRYPTO_BUFFER_free(der[i]);
  }
  free(der);
  sk_X509_pop_free(certs, X509_free);
  EVP_PKEY_free(key);
  BIO_free(kb);
  return rc;
}

int sdtls_config_set_certificate_file(sdtls_config *config, const char *cert_path,
                                      const char *key_path) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (cert_path == NULL || key_path == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  uint8_t *cert = NULL, *key = NULL;
  size_t cert_len = 0, key_len = 0;
  rc = read_file(cert_path, &cert, &cert_len);
  if (rc == SDTLS_OK) {
    rc = read_file(key_path, &key, &key_len);
  }
  if (rc == SDTLS_OK) {
    rc = cert_len == 0 || key_len == 0
             ? SDTLS_E_CREDENTIALS
             : sdtls_config_set_certificate_pem(config, cert, cert_len, key, key_len);
  }
  wipe_free(cert);
  wipe_free(key);
  return rc;
}

/* Adds parsed CA certificates to the trust store (the set-up before
 * cannot fail but for memory). */
static int add_trust(sdtls_config *config, STACK_OF(X509) *certs) {
  X509_STORE *store = SSL_CTX_get_cert_store(config->ctx);
  int rc = SDTLS_OK;
  for (size_t i = 0; i < sk_X509_num(certs); i++) {
    /* A certificate already in the store is not an error. */
    if (!X509_STORE_add_cert(store, sk_X509_value(certs, i)) &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
      rc = SDTLS_E_NOMEM;
    }
  }
  ERR_clear_error();
  if (rc == SDTLS_OK) {
    config->has_trust = true;
  }
  return rc;
}

int sdtls_config_set_ca_pem(sdtls_config *config, const uint8_t *pem, size_t len) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (pem == NULL || len == 0 || len > INT32_MAX) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  STACK_OF(X509) *certs = NULL;
  rc = read_pem_certificates(pem, len, &certs);
  if (rc == SDTLS_OK) {
    rc = add_trust(config, certs);
    sk_X509_pop_free(certs, X509_free);
  }
  return rc;
}

int sdtls_config_set_ca(sdtls_config *config, const char *ca_file, const char *ca_dir) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (ca_file == NULL && ca_dir == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* Both inputs are checked before either is added. */
  struct stat st;
  if (ca_dir != NULL && (stat(ca_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
    return SDTLS_E_FILE;
  }
  STACK_OF(X509) *certs = NULL;
  if (ca_file != NULL) {
    uint8_t *pem = NULL;
    size_t len = 0;
    rc = read_file(ca_file, &pem, &len);
    if (rc == SDTLS_OK) {
      rc = len == 0 ? SDTLS_E_CREDENTIALS : read_pem_certificates(pem, len, &certs);
    }
    wipe_free(pem);
    if (rc != SDTLS_OK) {
      return rc;
    }
  }
  if (ca_dir != NULL) {
    if (!X509_STORE_load_locations(SSL_CTX_get_cert_store(config->ctx), NULL, ca_dir)) {
      ERR_clear_error();
      sk_X509_pop_free(certs, X509_free);
      return SDTLS_E_NOMEM; /* a directory lookup is only recorded here */
    }
    /* Part of the trust policy a session is bound to (session.c). */
    SHA256_CTX h;
    SHA256_Init(&h);
    SHA256_Update(&h, config->ca_dirs, sizeof(config->ca_dirs));
    SHA256_Update(&h, ca_dir, strlen(ca_dir) + 1);
    SHA256_Final(config->ca_dirs, &h);
    config->has_trust = true;
  }
  if (certs != NULL) {
    rc = add_trust(config, certs);
    sk_X509_pop_free(certs, X509_free);
  }
  return rc;
}

int sdtls_config_set_ciphers(sdtls_config *config, const char *ciphers) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (ciphers == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* Try on a scratch context so a refused string leaves the config as it was. */
  SSL_CTX *probe = SSL_CTX_new(DTLS_method());
  if (probe == NULL) {
    return SDTLS_E_NOMEM;
  }
  rc = SDTLS_E_INVALID_ARGUMENT;
  if (SSL_CTX_set_strict_cipher_list(probe, ciphers)) {
    STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(probe);
    bool all_safe = sk_SSL_CIPHER_num(list) > 0;
    for (size_t i = 0; i < sk_SSL_CIPHER_num(list); i++) {
      const SSL_CIPHER *cipher = sk_SSL_CIPHER_value(list, i);
      bool safe = SSL_CIPHER_is_aead(cipher) && SSL_CIPHER_get_kx_nid(cipher) == NID_kx_ecdhe;
      bool allowed_psk = config->psk_allow_cbc && SSL_CIPHER_get_auth_nid(cipher) == NID_auth_psk;
      if (!safe && !allowed_psk) {
        all_safe = false;
      }
    }
    char *copy = all_safe ? strdup(ciphers) : NULL;
    if (copy != NULL) {
      free(config->ciphers);
      config->ciphers = copy; /* applied when the config is first used */
      rc = SDTLS_OK;
    } else if (all_safe) {
      rc = SDTLS_E_NOMEM;
    }
  }
  ERR_clear_error();
  SSL_CTX_free(probe);
  return rc;
}

int sdtls_config_set_keylog(sdtls_config *config, sdtls_keylog_cb cb, void *user_data) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  config->keylog = cb;
  config->keylog_user = user_data;
  SSL_CTX_set_keylog_callback(config->ctx, cb != NULL ? keylog_trampoline : NULL);
  return SDTLS_OK;
}

/* Whether a groups list (names joined by ':') has more than SDTLS_MAX_GROUPS
 * names, or a name twice: the engine would offer the repeats on the wire.
 * With each name once a list holds at most the groups the engine knows
 * (fewer than SDTLS_MAX_GROUPS, which bounds the quadratic check). */
static bool groups_over_limit(const char *list) {
  const char sep = ':';
  size_t names = 1;
  for (const char *p = list; (p = strchr(p, sep)) != NULL; p++) {
    if (++names > SDTLS_MAX_GROUPS) {
      return true;
    }
  }
  for (const char *a = list; *a != '\0';) {
    const char *a_end = strchr(a, sep);
    size_t a_len = a_end != NULL ? (size_t)(a_end - a) : strlen(a);
    if (a_end == NULL) {
      return false;
    }
    for (const char *b = a_end + 1;;) {
      const char *b_end = strchr(b, sep);
      size_t b_len = b_end != NULL ? (size_t)(b_end - b) : strlen(b);
      if (b_len == a_len && memcmp(a, b, a_len) == 0) {
        return true;
      }
      if (b_end == NULL) {
        break;
      }
      b = b_end + 1;
    }
    a = a_end + 1;
  }
  return false;
}

int sdtls_config_set_groups(sdtls_config *config, const char *groups) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (groups == NULL || groups[0] == '\0' || groups_over_limit(groups)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* The engine parses the whole list before it replaces the old one. */
  rc = SSL_CTX_set1_curves_list(config->ctx, groups) ? SDTLS_OK : SDTLS_E_INVALID_ARGUMENT;
  ERR_clear_error();
  return rc;
}

int sdtls_config_add_peer_fingerprint(sdtls_config *config, const char *fingerprint) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  sdtls_fingerprint fp;
  rc = Sdtls_pin_parse(fingerprint, &fp);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (config->n_fingerprints == SDTLS_MAX_FINGERPRINTS) {
    return SDTLS_E_LIMIT;
  }
  config->fingerprints[config->n_fingerprints++] = fp;
  return SDTLS_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Variants (b) and (c): an engine driven directly, the way an application
 * would use it without sdtls. The same file is compiled twice:
 *   - against the BoringSSL that sdtls embeds (the very archives that go
 *     into libsdtls, OPENSSL_IS_BORINGSSL defined): the floor sdtls adds to;
 *   - against Debian's OpenSSL 3 (libssl.so.3).
 *
 * Each SSL has one custom BIO (BIO_meth_new) that writes every datagram the
 * engine produces into the peer's inbox and reads one datagram per call
 * from its own; SSL_OP_NO_QUERY_MTU with SSL_set_mtu() fixes the datagram
 * size (without it OpenSSL asks the BIO, gets nothing and falls back to tiny
 * records). The engines read their own clock; no timeout fires in a
 * lossless exchange. Contexts mirror sdtls's (src/config.c): DTLS 1.2, one
 * cipher suite, no session cache, no tickets for full handshakes, no
 * certificate verification. */
#define _DEFAULT_SOURCE
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define CIPHER "ECDHE-ECDSA-AES128-GCM-SHA256"

typedef struct endpoint {
  SSL *ssl;
  bench_inbox inbox; /* datagrams sent to this endpoint */
  struct endpoint *peer;
  bool done;
} endpoint;

struct bench_pair {
  endpoint client, server;
};

static BIO_METHOD *method;
static EVP_PKEY *key;
static X509 *cert;
/* Full handshakes (no tickets, as sdtls) and resumption (tickets). */
static SSL_CTX *client_ctx, *server_ctx, *client_resume_ctx, *server_resume_ctx;
static SSL_SESSION *saved_session;
static uint8_t read_buf[16384];

/* ---- the BIO ---- */

static int bio_write(BIO *bio, const char *data, int len) {
  endpoint *e = BIO_get_data(bio);
  if (len <= 0) {
    return len;
  }
  bench_inbox_push(&e->peer->inbox, (const uint8_t *)data, (size_t)len);
  return len;
}

static int bio_read(BIO *bio, char *out, int len) {
  endpoint *e = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  bench_datagram *d = bench_inbox_pop(&e->inbox);
  if (d == NULL) {
    BIO_set_retry_read(bio);
    return -1;
  }
  size_t n = d->len < (size_t)len ? d->len : (size_t)len;
  memcpy(out, d->data, n);
  bench_datagram_release(d);
  return (int)n;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  (void)bio;
  (void)num;
  (void)ptr;
  /* OpenSSL flushes after each flight and treats a failed flush as "try
   * again": every write has already gone out. Everything else (MTU queries,
   * timeouts, peer addresses) is not known here. */
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

/* ---- set-up ---- */

/* A self-signed P-256 certificate shaped like sdtls_certificate_generate's:
 * CN and DNS subjectAltName, basicConstraints CA:FALSE. */
static int make_certificate(void) {
  EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
  if (kctx == NULL || EVP_PKEY_keygen_init(kctx) <= 0 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx, NID_X9_62_prime256v1) <= 0 ||
      EVP_PKEY_keygen(kctx, &key) <= 0) {
    return -1;
  }
  EVP_PKEY_CTX_free(kctx);
  cert = X509_new();
  X509_NAME *name = X509_NAME_new();
  X509_EXTENSION *san = X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name, "DNS:bench.test");
  X509_EXTENSION *bc = X509V3_EXT_nconf_nid(NULL, NULL, NID_basic_constraints,
                                            "critical,CA:FALSE");
  int ok = cert != NULL && name != NULL && san != NULL && bc != NULL &&
           X509_set_version(cert, 2) && ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) &&
           X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
           X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 86400) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                      (const unsigned char *)"bench.test", -1, -1, 0) &&
           X509_set_subject_name(cert, name) && X509_set_issuer_name(cert, name) &&
           X509_add_ext(cert, san, -1) && X509_add_ext(cert, bc, -1) &&
           X509_set_pubkey(cert, key) && X509_sign(cert, key, EVP_sha256()) > 0;
  X509_NAME_free(name);
  X509_EXTENSION_free(san);
  X509_EXTENSION_free(bc);
  return ok ? 0 : -1;
}

static SSL_CTX *ctx_new(bool server, bool tickets) {
  SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
  if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
      !SSL_CTX_set_cipher_list(ctx, CIPHER)) {
    return NULL;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | (tickets ? 0 : SSL_OP_NO_TICKET));
  /* Resumption goes by ticket alone: nothing is cached on either side. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  if (server && (!SSL_CTX_use_certificate(ctx, cert) || !SSL_CTX_use_PrivateKey(ctx, key) ||
                 !SSL_CTX_check_private_key(ctx))) {
    return NULL;
  }
  return ctx;
}

static int endpoint_init(endpoint *e, endpoint *peer, SSL_CTX *ctx, bool server, int mtu) {
  e->peer = peer;
  e->ssl = SSL_new(ctx);
  BIO *bio = e->ssl != NULL ? BIO_new(method) : NULL;
  if (bio == NULL) {
    return -1;
  }
  BIO_set_data(bio, e);
  SSL_set_bio(e->ssl, bio, bio); /* one BIO both ways, owned by the SSL */
  SSL_set_options(e->ssl, SSL_OP_NO_QUERY_MTU);
  if (!SSL_set_mtu(e->ssl, (unsigned)mtu)) {
    return -1;
  }
  if (server) {
    SSL_set_accept_state(e->ssl);
  } else {
    SSL_set_connect_state(e->ssl);
  }
  return 0;
}

static int pair_init_with(bench_pair *p, SSL_CTX *cctx, SSL_CTX *sctx, int mtu) {
  if (endpoint_init(&p->client, &p->server, cctx, false, mtu) != 0 ||
      endpoint_init(&p->server, &p->client, sctx, true, mtu) != 0) {
    return -1;
  }
  return 0;
}

static int pair_init(bench_pair *p, int mtu) {
  return pair_init_with(p, client_ctx, server_ctx, mtu);
}

/* One handshake step for `e`: reads what is in its inbox, writes what
 * follows. Returns 0 unless the handshake failed. */
static int step(endpoint *e) {
  if (e->done) {
    return e->inbox.head == NULL ? 0 : -1; /* nothing may follow the end */
  }
  int r = SSL_do_handshake(e->ssl);
  if (r == 1) {
    e->done = true;
    return 0;
  }
  if (SSL_get_error(e->ssl, r) == SSL_ERROR_WANT_READ) {
    return 0;
  }
  ERR_print_errors_fp(stderr);
  return -1;
}

static int pair_handshake(bench_pair *p) {
  for (int guard = 0; guard < 64; guard++) {
    if (step(&p->client) != 0 || step(&p->server) != 0) {
      return -1;
    }
    if (p->client.done && p->server.done && p->client.inbox.head == NULL &&
        p->server.inbox.head == NULL) {
      return 0;
    }
  }
  return -1;
}

static int pair_send(bench_pair *p, const uint8_t *data, size_t len) {
  if (SSL_write(p->client.ssl, data, (int)len) != (int)len) {
    return -1;
  }
  return SSL_read(p->server.ssl, read_buf, sizeof(read_buf)) == (int)len ? 0 : -1;
}

static void pair_destroy(bench_pair *p) {
  SSL_free(p->client.ssl);
  SSL_free(p->server.ssl);
  bench_inbox_clear(&p->client.inbox);
  bench_inbox_clear(&p->server.inbox);
}

static const char *group_name(SSL *ssl) {
#ifdef OPENSSL_IS_BORINGSSL
  return SSL_get_curve_name(SSL_get_curve_id(ssl));
#else
  return SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl));
#endif
}

static void pair_info(bench_pair *p, char *out, size_t out_len) {
  const char *group = group_name(p->client.ssl);
  snprintf(out, out_len, "\"library\":\"%s\",\"protocol\":\"%s\",\"cipher\":\"%s\",\"group\":\"%s\"",
           OpenSSL_version(OPENSSL_VERSION), SSL_get_version(p->client.ssl),
           SSL_CIPHER_standard_name(SSL_get_current_cipher(p->client.ssl)),
           group != NULL ? group : "?");
}

/* ---- resumption ---- */

/* Frees a pair as after an orderly close. OpenSSL marks the session of an
 * SSL freed without a shutdown not resumable (ssl_clear_bad_session), and
 * the client's session is the saved one; BoringSSL does not, but the same
 * call is made for both. */
static void pair_destroy_quietly(bench_pair *p) {
  if (p->client.ssl != NULL) {
    SSL_set_shutdown(p->client.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  if (p->server.ssl != NULL) {
    SSL_set_shutdown(p->server.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  pair_destroy(p);
}

/* A pair whose contexts issue and take tickets. */
static int pair_init_resume(bench_pair *p) {
  return pair_init_with(p, client_resume_ctx, server_resume_ctx, BENCH_MTU_HANDSHAKE);
}

static int offer_session(bench_pair *p) {
  return SSL_set_session(p->client.ssl, saved_session) ? 0 : -1;
}

static int both_resumed(bench_pair *p) {
  return SSL_session_reused(p->client.ssl) && SSL_session_reused(p->server.ssl) ? 0 : -1;
}

static int keep_session(bench_pair *p) {
  saved_session = SSL_get1_session(p->client.ssl);
  return saved_session != NULL && SSL_SESSION_is_resumable(saved_session) ? 0 : -1;
}

static int resumed_handshake(void) {
  return bench_pair_once(pair_init_resume, offer_session, both_resumed, pair_destroy_quietly);
}

/* A session from one full handshake with tickets on, for resumed_handshake. */
static int save_session(void) {
  return bench_pair_once(pair_init_resume, NULL, keep_session, pair_destroy_quietly);
}

static int init(void) {
  method = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "bench datagram");
  if (method == NULL || !BIO_meth_set_write(method, bio_write) ||
      !BIO_meth_set_read(method, bio_read) || !BIO_meth_set_ctrl(method, bio_ctrl) ||
      !BIO_meth_set_create(method, bio_create) || make_certificate() != 0) {
    return -1;
  }
  client_ctx = ctx_new(false, false);
  server_ctx = ctx_new(true, false);
  client_resume_ctx = ctx_new(false, true);
  server_resume_ctx = ctx_new(true, true);
  if (client_ctx == NULL || server_ctx == NULL || client_resume_ctx == NULL ||
      server_resume_ctx == NULL) {
    return -1;
  }
  return save_session();
}

const bench_backend bench_impl = {
    .pair_size = sizeof(bench_pair),
    .init = init,
    .pair_init = pair_init,
    .pair_handshake = pair_handshake,
    .pair_send = pair_send,
    .pair_destroy = pair_destroy,
    .pair_info = pair_info,
    .resumed_handshake = resumed_handshake,
    .server_note = "n/a (sdtls_server only)",
};

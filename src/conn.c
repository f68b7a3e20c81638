/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_conn: one DTLS association, sans-I/O.
 *
 * Datagrams reach the engine through a custom BIO whose read side returns the
 * datagram being fed by sdtls_conn_receive() (once) and whose write side hands
 * each engine write — one datagram, the engine packs records up to the MTU —
 * to the send callback. Callbacks are made only from inside the application's
 * own call; `depth`, `in_send` and `in_engine_cb` tell which calls are
 * allowed then (the header's callback rule). */
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "internal.h"
#include "ip_literal.h"

/* Largest plaintext of one DTLS record (RFC 6347 4.1). */
#define MAX_PLAINTEXT 16384
#define MAX_ADDR sizeof(struct sockaddr_in6) /* the largest address a server passes */
/* DTLSPlaintext and DTLS 1.2's DTLSCiphertext (RFC 6347 4.1): type,
 * version, epoch, 48-bit sequence number, length (bytes 11-12). */
#define RECORD_HEADER_LEN 13

struct sdtls_conn {
  sdtls_config *config;
  SSL *ssl;
  sdtls_role role;
  sdtls_state state;
  int error;
  char detail[480]; /* holds a fingerprint mismatch: two sha-512 fingerprints */

  sdtls_callbacks cb;
  void *user_data;
  /* on_data, resolved once at creation (the application's, the
   * server's through hooks_on_data(), or no_data()): the record path
   * makes one indirect call and no choice. */
  void (*data_fn)(void *arg, const uint8_t *data, size_t len);
  void *data_arg;
  /* The send callback, resolved the same way (never NULL; a client's
   * goes through client_send() until connected). */
  int (*send_fn)(void *arg, const uint8_t *datagram, size_t len);
  void *send_arg;
  const sdtls_conn_hooks *hooks; /* server connections: events go here */
  void *owner;
  void *app_data;
  uint8_t addr[MAX_ADDR];
  size_t addr_len;

  const uint8_t *in; /* datagram being fed to the engine, or NULL */
  size_t in_len;     /* its length; meaningless when `in` is NULL */
  bool bio_retry; /* bio_read() set the BIO's retry flags */

  /* Which callback runs. Every call asks "any of them?" first, so the
   * three share one word that answers in one load (in_callback()). */
  union {
    struct {
      uint8_t depth;     /* > 0 while an event callback runs: shallow, since
                            a callback cannot drive its own connection */
      bool in_send;      /* true while the send callback runs */
      bool in_engine_cb; /* true while the PSK lookup or the key log runs */
      uint8_t spare_;    /* zero: part of `busy` */
    };
    uint32_t busy;
  };
  /* Work asked for from inside a callback, applied when the outer call
   * returns; one word, as above (alive(), finish()). */
  union {
    struct {
      bool free_pending;  /* sdtls_conn_free() called from a callback */
      bool close_pending; /* sdtls_conn_close() from inside the engine, at close_at */
    };
    uint16_t pending;
  };
  sdtls_time close_at;
  bool close_reported;
  bool fingerprint_mismatch; /* the detail says which; it is the failure */
  bool dtls13;       /* connected with DTLS 1.3: timers run after the handshake */
  bool confirming;   /* DTLS 1.3: connected, its last flight not acknowledged yet */
  char *server_name; /* client: the name to send and check, or NULL */
  char *alpn;        /* the selected protocol once connected, or NULL */
  sdtls_fingerprint *fingerprints; /* expected peer digests (allocated) */
  size_t n_fingerprints;
  size_t max_data; /* sdtls_conn_max_data_size() once connected */
  /* Once connected with DTLS 1.2 and an AEAD (every suite but a PSK's
   * CBC ones): the bytes every record adds to its plaintext (header,
   * explicit nonce, tag), the same for each record; else 0 (padding and
   * DTLS 1.3's header forms vary it). A datagram of exactly that many
   * bytes more than the plaintext it gave was one record, wholly read. */
  size_t record_overhead;
  uint64_t read_seq; /* the engine's anti-replay mark when last looked at */
  SSL_SESSION *offered_session; /* client: from sdtls_conn_set_session() */
  SSL_SESSION *latest_session; /* client: the newest ticket's session, or NULL */

  sdtls_time handshake_deadline;
  sdtls_time retransmit_deadline;
  sdtls_time last_activity;

  /* Client: starting a damaged handshake over (see the section of that
   * name). Per connection: */
  SSL_SESSION *restart_session; /* the offered session, offered again */
  uint32_t restart_reason;      /* the engine error that caused the last restart */
  int restart_error;            /* its code, for a restart that hears nothing */
  unsigned backoff_ms;          /* longest retransmission timer so far */
  uint8_t restarts;
  bool restart_pending;         /* at retransmit_deadline; the old engine is done */
  bool cookie_exchange;         /* the server asked for a cookie */
  /* Per handshake attempt: */
  bool cookie_hello_sent;       /* its ClientHello with a cookie went out */
  bool heard;                   /* it heard from the server */
  uint8_t unanswered;           /* timers since it began, nothing heard */
  uint8_t stuck;                /* repeats of stuck_key without progress */
  uint32_t server_msgs;         /* 1 + highest epoch-0 message_seq heard */
  uint64_t sent_seq0;           /* highest epoch-0 record number sent */
  uint64_t stuck_key;           /* the first fed_key since the last progress */
  uint64_t stuck_seq;           /* the record number it was last counted with */
  /* The datagram being fed, as restart_screen() saw it: */
  bool fed_new;                 /* a handshake message not heard before */
  bool fed_protected;           /* a DTLS 1.3 encrypted record */
  uint64_t fed_key;             /* its first handshake fragment, or NO_KEY */
  uint64_t fed_seq;             /* that record's number */
  const char *fed_state;        /* the engine's state before it, or NULL */
  uint64_t fed_read_seq;        /* the engine's read sequence before it */
};

/* Client restarts (defined after sdtls_conn_start()). */
static void restart_note_sent(sdtls_conn *conn, const uint8_t *data, size_t len);
static bool restart_screen(sdtls_conn *conn);
static int restart_watch(sdtls_conn *conn, sdtls_time now);
static int restart_or_fail(sdtls_conn *conn, int ssl_error, sdtls_time now);
static bool restart_takes_timer(const sdtls_conn *conn);
static int restart_on_timer(sdtls_conn *conn, sdtls_time now);
static void restart_note_timer(sdtls_conn *conn, sdtls_time now);

/* ---- the BIO between engine and application ---- */

static int bio_write(BIO *bio, const char *data, int len) {
  sdtls_conn *conn = BIO_get_data(bio);
  if (len <= 0) {
    return len;
  }
  /* The engine's write cannot fail: a datagram the application could not
   * send is a lost datagram, which DTLS is built to survive. After a free
   * requested from a callback, no callback follows: the rest of the flight
   * is dropped. */
  if (conn->free_pending) {
    return len;
  }
  conn->in_send = true;
  conn->send_fn(conn->send_arg, (const uint8_t *)data, (size_t)len);
  conn->in_send = false;
  return len;
}

/* A client's send callback until it is connected: its handshake's
 * datagrams are noted for restarts first. */
static int client_send(void *arg, const uint8_t *datagram, size_t len) {
  sdtls_conn *conn = arg;
  if (conn->state == SDTLS_STATE_HANDSHAKING) {
    restart_note_sent(conn, datagram, len);
  }
  return conn->cb.send(conn->user_data, datagram, len);
}

/* A server's connection: its datagrams go to the server's hook. */
static int hooks_send(void *arg, const uint8_t *datagram, size_t len) {
  sdtls_conn *conn = arg;
  return conn->hooks->send(conn->owner, conn, datagram, len);
}

static int bio_read(BIO *bio, char *out, int len) {
  sdtls_conn *conn = BIO_get_data(bio);
  /* Only this function sets the BIO's retry flags: cleared when it did. */
  if (conn->bio_retry) {
    BIO_clear_retry_flags(bio);
    conn->bio_retry = false;
  }
  if (conn->in == NULL) {
    BIO_set_retry_read(bio);
    conn->bio_retry = true;
    return -1;
  }
  /* A datagram larger than the engine's buffer is truncated, as a socket
   * would; the record layer then drops it. */
  size_t n = conn->in_len < (size_t)len ? conn->in_len : (size_t)len;
  memcpy(out, conn->in, n);
  conn->in = NULL; /* in_len means nothing without it */
  return (int)n;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  (void)bio;
  (void)num;
  (void)ptr;
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1; /* every write already went out */
    default:
      return 0;
  }
}

static int bio_create(BIO *bio) {
  BIO_set_init(bio, 1);
  return 1;
}

static BIO_METHOD *bio_method;
static pthread_once_t bio_method_once = PTHREAD_ONCE_INIT;

static void bio_method_init(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "sdtls datagram");
  if (m != NULL && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
      BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create)) {
    bio_method = m;
  }
}

/* ---- events ---- */

static void emit_handshake_done(sdtls_conn *conn) {
  if (conn->free_pending || conn->close_pending) {
    return;
  }
  conn->depth++;
  if (conn->hooks != NULL) {
    if (conn->hooks->on_handshake_done != NULL) {
      conn->hooks->on_handshake_done(conn->owner, conn);
    }
  } else if (conn->cb.on_handshake_done != NULL) {
    conn->cb.on_handshake_done(conn->user_data);
  }
  conn->depth--;
}

/* A server's connection: its data goes to the server's hook. */
static void hooks_on_data(void *arg, const uint8_t *data, size_t len) {
  sdtls_conn *conn = arg;
  conn->hooks->on_data(conn->owner, conn, data, len);
}

/* No on_data: the record is dropped. */
static void no_data(void *arg, const uint8_t *data, size_t len) {
  (void)arg;
  (void)data;
  (void)len;
}

/* The caller has checked that no free or close is pending. */
static inline void emit_data(sdtls_conn *conn, const uint8_t *data, size_t len) {
  conn->depth++;
  conn->data_fn(conn->data_arg, data, len);
  conn->depth--;
}

static void emit_close(sdtls_conn *conn, int reason) {
  /* Not after a close the application asked for (it is not reported). */
  if (conn->free_pending || conn->close_pending || conn->close_reported) {
    return;
  }
  conn->close_reported = true;
  conn->depth++;
  if (conn->hooks != NULL) {
    if (conn->hooks->on_close != NULL) {
      conn->hooks->on_close(conn->owner, conn, reason);
    }
  } else if (conn->cb.on_close != NULL) {
    conn->cb.on_close(conn->user_data, reason);
  }
  conn->depth--;
}

/* Moves the connection to FAILED with `code`, reports it, returns `code`. */
static int fail(sdtls_conn *conn, int code) {
  if (conn->state == SDTLS_STATE_FAILED || conn->state == SDTLS_STATE_CLOSED) {
    return conn->error;
  }
  conn->state = SDTLS_STATE_FAILED;
  conn->error = code;
  conn->handshake_deadline = SDTLS_TIME_NEVER;
  conn->retransmit_deadline = SDTLS_TIME_NEVER;
  emit_close(conn, code);
  return code;
}

static int fail_from_engine(sdtls_conn *conn, int ssl_error) {
  if (conn->fingerprint_mismatch) {
    ERR_clear_error(); /* the detail already names both fingerprints */
    return fail(conn, SDTLS_E_VERIFY);
  }
  int code = Sdtls_error_from_engine(conn->ssl, ssl_error, conn->detail, sizeof(conn->detail));
  if (code == SDTLS_E_CLOSED) {
    /* The peer's close_notify: an orderly end, reported with reason 0. */
    conn->state = SDTLS_STATE_CLOSED;
    conn->error = SDTLS_E_CLOSED;
    conn->handshake_deadline = SDTLS_TIME_NEVER;
    conn->retransmit_deadline = SDTLS_TIME_NEVER;
    emit_close(conn, 0);
    return SDTLS_E_CLOSED;
  }
  return fail(conn, code);
}

/* ---- lifetime ---- */

static void destroy(sdtls_conn *conn) {
  SSL_SESSION_free(conn->restart_session);
  SSL_SESSION_free(conn->latest_session);
  SSL_free(conn->ssl); /* the engine wipes its keys */
  sdtls_config_free(conn->config);
  SSL_SESSION_free(conn->offered_session);
  free(conn->server_name);
  free(conn->alpn);
  free(conn->fingerprints);
  free(conn);
}

static bool in_callback(const sdtls_conn *conn) {
  return conn->busy != 0;
}

/* Every call that may make callbacks ends here: a close or a free
 * requested inside a callback happens once the outermost call unwinds. A
 * server's connection is closed by its server, which is inside its own
 * call then (it reaps the connection when that call returns). */
static int finish(sdtls_conn *conn, int rc) {
  if (conn->pending == 0 || in_callback(conn)) {
    return rc;
  }
  if (conn->close_pending && !conn->free_pending) {
    conn->close_pending = false;
    if (conn->hooks != NULL) {
      conn->hooks->close(conn->owner, conn, conn->close_at);
    } else {
      Sdtls_conn_shutdown(conn, conn->close_at);
    }
  }
  if (conn->free_pending) {
    destroy(conn);
  }
  return rc;
}

/* The PSK lookup and the key log are called by the engine from the middle
 * of its own work (a handshake message half processed), so inside them
 * nothing may drive this connection: like the send callback, they may
 * free it (deferred) and query it; unlike it, they may also close it, and
 * that close too waits until the application's call returns (see
 * finish()). Once a free or a close was asked for, no such callback
 * follows (NULL: skip it). The callback may drive other connections with
 * another clock: the engine's is restored after it. */
sdtls_conn *Sdtls_conn_engine_callback_begin(const SSL *ssl, sdtls_time *saved_now) {
  sdtls_conn *conn = SSL_get_app_data(ssl);
  if (conn == NULL || conn->free_pending || conn->close_pending || conn->in_engine_cb ||
      (conn->hooks != NULL && !conn->hooks->engine_callback(conn->owner, true))) {
    return NULL;
  }
  conn->in_engine_cb = true;
  *saved_now = Sdtls_engine_now;
  return conn;
}

void Sdtls_conn_engine_callback_end(sdtls_conn *conn, sdtls_time saved_now) {
  Sdtls_engine_time_set(saved_now);
  if (conn->hooks != NULL) {
    conn->hooks->engine_callback(conn->owner, false);
  }
  conn->in_engine_cb = false;
}

bool Sdtls_conn_in_engine_callback(const sdtls_conn *conn) { return conn->in_engine_cb; }

void Sdtls_conn_defer_close(sdtls_conn *conn, sdtls_time now) {
  if (!conn->close_pending) {
    conn->close_pending = true;
    conn->close_at = now;
  }
}

/* The application's own calls on a server's connection run inside the
 * server (enter ... leave), so that nothing the callbacks do frees the
 * connection or the server under them. leave() may free both: nothing
 * touches `conn` after it. */
static int owner_enter(const sdtls_conn *conn) {
  return conn->hooks != NULL ? conn->hooks->enter(conn->owner) : SDTLS_OK;
}

static int owner_leave(const sdtls_conn_hooks *hooks, void *owner, int rc) {
  if (hooks != NULL) {
    hooks->leave(owner);
  }
  return rc;
}

static enum ssl_verify_result_t accept_any(SSL *ssl, uint8_t *alert) {
  (void)ssl;
  (void)alert;
  return ssl_verify_ok;
}

/* The leaf's digests, each computed once, when a pin first needs it. */
typedef struct leaf_digests {
  const CRYPTO_BUFFER *leaf;
  bool have[SDTLS_HASH_SHA512 + 1];
  uint8_t digest[SDTLS_HASH_SHA512 + 1][SDTLS_FINGERPRINT_MAX_DIGEST];
} leaf_digests;

static bool fingerprint_listed(const sdtls_fingerprint *list, size_t n, leaf_digests *d) {
  for (size_t i = 0; i < n; i++) {
    int hash = list[i].hash;
    if (!d->have[hash]) {
      size_t len;
      Sdtls_digest(hash, CRYPTO_BUFFER_data(d->leaf), CRYPTO_BUFFER_len(d->leaf), d->digest[hash],
                   &len);
      d->have[hash] = true;
    }
    if (CRYPTO_memcmp(list[i].digest, d->digest[hash], list[i].len) == 0) {
      return true;
    }
  }
  return false;
}

/* Pinning (WebRTC): the peer's leaf must have one of the expected digests
 * (each in its own hash), set on the config or on the connection. */
static enum ssl_verify_result_t verify_fingerprint(SSL *ssl, uint8_t *alert) {
  sdtls_conn *conn = SSL_get_app_data(ssl);
  const STACK_OF(CRYPTO_BUFFER) *chain = SSL_get0_peer_certificates(ssl);
  if (chain == NULL || sk_CRYPTO_BUFFER_num(chain) == 0) {
    snprintf(conn->detail, sizeof(conn->detail), "peer sent no certificate to match its fingerprint");
    conn->fingerprint_mismatch = true;
    *alert = SSL_AD_HANDSHAKE_FAILURE;
    return ssl_verify_invalid;
  }
  leaf_digests d = {.leaf = sk_CRYPTO_BUFFER_value(chain, 0)};
  const sdtls_config *c = conn->config;
  if (fingerprint_listed(c->fingerprints, c->n_fingerprints, &d) ||
      fingerprint_listed(conn->fingerprints, conn->n_fingerprints, &d)) {
    return ssl_verify_ok;
  }
  /* The detail shows the first expected one and the peer's in its hash. */
  const sdtls_fingerprint *want = conn->n_fingerprints > 0 ? &conn->fingerprints[0]
                                                           : &c->fingerprints[0];
  char got_text[SDTLS_FINGERPRINT_MAX_TEXT], want_text[SDTLS_FINGERPRINT_MAX_TEXT];
  sdtls_fingerprint_format_hash(want->hash, d.digest[want->hash], want->len,
                                SDTLS_FINGERPRINT_SDP, got_text, sizeof(got_text));
  sdtls_fingerprint_format_hash(want->hash, want->digest, want->len, SDTLS_FINGERPRINT_SDP,
                                want_text, sizeof(want_text));
  size_t n = conn->n_fingerprints + c->n_fingerprints;
  snprintf(conn->detail, sizeof(conn->detail), "fingerprint mismatch: peer %s, expected %s%s",
           got_text, want_text, n > 1 ? " (or another)" : "");
  conn->fingerprint_mismatch = true;
  *alert = SSL_AD_BAD_CERTIFICATE;
  return ssl_verify_invalid;
}

static bool pins_fingerprints(const sdtls_conn *conn) {
  return conn->n_fingerprints > 0 || conn->config->n_fingerprints > 0;
}

/* The session context (see Sdtls_session_context() in session.c): a
 * connection that adds nothing of its own (no server name, no pins) has
 * its config's, computed once when the config was frozen. */
static void session_context(const sdtls_conn *conn, uint8_t out[SHA256_DIGEST_LENGTH]) {
  const sdtls_config *c = conn->config;
  if (conn->server_name == NULL && conn->n_fingerprints == 0) {
    memcpy(out, c->session_ctx[conn->role == SDTLS_ROLE_SERVER], SHA256_DIGEST_LENGTH);
    return;
  }
  Sdtls_session_context(c, conn->role, conn->server_name, conn->fingerprints,
                        conn->n_fingerprints, out);
}

/* A resumed handshake with pinned fingerprints: the session's peer
 * certificate must still match (the session context already ensures it;
 * this is the second lock). */
static bool resumed_pin_ok(sdtls_conn *conn) {
  if (!SSL_session_reused(conn->ssl) || !pins_fingerprints(conn)) {
    return true;
  }
  uint8_t alert = 0;
  return verify_fingerprint(conn->ssl, &alert) == ssl_verify_ok;
}

/* A new engine object for `conn`, set up for its config and role; NULL when
 * out of memory. */
static SSL *engine_new(sdtls_conn *conn, unsigned initial_timeout_ms) {
  const sdtls_config *config = conn->config;
  SSL *ssl = SSL_new(config->ctx);
  BIO *bio = ssl != NULL ? BIO_new(bio_method) : NULL;
  if (bio == NULL) {
    SSL_free(ssl);
    ERR_clear_error();
    return NULL;
  }
  BIO_set_data(bio, conn);
  SSL_set_bio(ssl, bio, bio); /* the SSL owns the one BIO */
  SSL_set_app_data(ssl, conn);
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl, (unsigned)config->mtu);
  DTLSv1_set_initial_timeout_duration(ssl, initial_timeout_ms);

  if (conn->role == SDTLS_ROLE_CLIENT) {
    SSL_set_connect_state(ssl);
    SSL_set_verify(ssl, config->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  } else {
    SSL_set_accept_state(ssl);
    int mode = SSL_VERIFY_NONE;
    if (config->require_client_cert) {
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_set_verify(ssl, mode, NULL);
    if (config->require_client_cert && !config->verify_peer) {
      /* Ask for a certificate, accept whichever comes (pinning is the
       * application's job then). */
      SSL_set_custom_verify(ssl, mode, accept_any);
    }
  }
  return ssl;
}

static int conn_create(sdtls_config *config, sdtls_role role, sdtls_conn **out) {
  if (pthread_once(&bio_method_once, bio_method_init) != 0 || bio_method == NULL) {
    return SDTLS_E_INTERNAL;
  }
  if (role == SDTLS_ROLE_SERVER && !config->has_certificate && !Sdtls_config_has_psk(config)) {
    return SDTLS_E_CREDENTIALS;
  }
  sdtls_conn *conn = calloc(1, sizeof(*conn));
  if (conn == NULL) {
    return SDTLS_E_NOMEM;
  }
  int rc = Sdtls_config_acquire(config);
  if (rc != SDTLS_OK) {
    free(conn);
    return rc;
  }
  conn->config = config;
  conn->role = role;
  conn->state = SDTLS_STATE_NEW;
  conn->handshake_deadline = SDTLS_TIME_NEVER;
  conn->retransmit_deadline = SDTLS_TIME_NEVER;

  conn->ssl = engine_new(conn, (unsigned)config->initial_timeout_ms);
  if (conn->ssl == NULL) {
    destroy(conn);
    return SDTLS_E_NOMEM;
  }
  *out = conn;
  return SDTLS_OK;
}

int sdtls_conn_new(sdtls_config *config, sdtls_role role, const sdtls_callbacks *callbacks,
                   void *user_data, sdtls_conn **out) {
  if (out != NULL) {
    *out = NULL;
  }
  if (config == NULL || callbacks == NULL || out == NULL ||
      callbacks->size < offsetof(sdtls_callbacks, send) + sizeof(callbacks->send) ||
      callbacks->send == NULL || (role != SDTLS_ROLE_CLIENT && role != SDTLS_ROLE_SERVER)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  sdtls_conn *conn;
  int rc = conn_create(config, role, &conn);
  if (rc != SDTLS_OK) {
    return rc;
  }
  /* Copy what the caller's version of the struct has; the rest stays NULL. */
  size_t n = callbacks->size < sizeof(conn->cb) ? callbacks->size : sizeof(conn->cb);
  memcpy(&conn->cb, callbacks, n);
  conn->cb.size = sizeof(conn->cb);
  conn->user_data = user_data;
  conn->data_fn = conn->cb.on_data != NULL ? conn->cb.on_data : no_data;
  conn->data_arg = user_data;
  /* A client's goes through client_send() until it is connected. */
  conn->send_fn = role == SDTLS_ROLE_CLIENT ? client_send : conn->cb.send;
  conn->send_arg = role == SDTLS_ROLE_CLIENT ? (void *)conn : user_data;
  *out = conn;
  return SDTLS_OK;
}

int Sdtls_conn_new_for_server(sdtls_config *config, const sdtls_conn_hooks *hooks, void *owner,
                              const uint8_t *addr, size_t addr_len, sdtls_conn **out) {
  if (config == NULL || hooks == NULL || hooks->send == NULL || out == NULL ||
      addr_len > MAX_ADDR || (addr == NULL && addr_len > 0)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  sdtls_conn *conn;
  int rc = conn_create(config, SDTLS_ROLE_SERVER, &conn);
  if (rc != SDTLS_OK) {
    return rc;
  }
  conn->hooks = hooks;
  conn->owner = owner;
  conn->data_fn = hooks->on_data != NULL ? hooks_on_data : no_data;
  conn->data_arg = conn;
  conn->send_fn = hooks_send;
  conn->send_arg = conn;
  if (addr_len > 0) {
    memcpy(conn->addr, addr, addr_len);
  }
  conn->addr_len = addr_len;
  *out = conn;
  return SDTLS_OK;
}

void sdtls_conn_free(sdtls_conn *conn) {
  /* A server's connection is freed by its server only (after on_close, or
   * with the server): a binding's finalizer that frees it anyway must not
   * pull it from under the server. */
  if (conn == NULL || conn->hooks != NULL) {
    return;
  }
  if (in_callback(conn)) {
    conn->free_pending = true;
    return;
  }
  destroy(conn);
}

void Sdtls_conn_destroy(sdtls_conn *conn) { destroy(conn); }

/* ---- driving the engine ---- */

/* Reads the engine's retransmission timer; the engine's clock is `now`. */
static void update_retransmit_deadline(sdtls_conn *conn, sdtls_time now) {
  struct timeval tv;
  if (conn->state == SDTLS_STATE_HANDSHAKING || conn->state == SDTLS_STATE_CONNECTED) {
    if (DTLSv1_get_timeout(conn->ssl, &tv)) {
      conn->retransmit_deadline = Sdtls_time_add(
          now, (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull);
      return;
    }
  }
  conn->retransmit_deadline = SDTLS_TIME_NEVER;
  if (conn->confirming) {
    /* Everything the handshake sent is acknowledged: no deadline now. */
    conn->confirming = false;
    conn->handshake_deadline = SDTLS_TIME_NEVER;
  }
}

static bool alive(const sdtls_conn *conn) {
  return conn->pending == 0 &&
         (conn->state == SDTLS_STATE_HANDSHAKING || conn->state == SDTLS_STATE_CONNECTED);
}

/* The handshake just finished: what stays fixed from now on is read once. */
static void connected(sdtls_conn *conn, sdtls_time now) {
  conn->state = SDTLS_STATE_CONNECTED;
  if (conn->hooks == NULL) {
    conn->send_fn = conn->cb.send; /* no more restarts: client_send() is done */
    conn->send_arg = conn->user_data;
  }
  conn->dtls13 = SSL_version(conn->ssl) == SDTLS_DTLS1_3;
  /* DTLS 1.3: a side is done before the peer has what it sent last (the
   * client's Finished, the server's tickets); the engine retransmits until
   * it is acknowledged, and the handshake deadline bounds that too: a peer
   * gone at that moment fails the connection instead of leaving it
   * retransmitting for ever. */
  conn->confirming = conn->dtls13;
  if (!conn->confirming) {
    conn->handshake_deadline = SDTLS_TIME_NEVER;
  }
  conn->last_activity = now;
  /* DTLS 1.2 stops the retransmission timer at the end of the handshake
   * and never starts it again without renegotiation (which is off): the
   * final flight is resent only when the peer resends its own. DTLS 1.3
   * acknowledges and retransmits after it. */
  conn->read_seq = SSL_get_read_sequence(conn->ssl);
  if (!conn->dtls13) {
    conn->retransmit_deadline = SDTLS_TIME_NEVER;
  }
  size_t overhead = SSL_max_seal_overhead(conn->ssl);
  const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
  conn->record_overhead =
      !conn->dtls13 && cipher != NULL && SSL_CIPHER_is_aead(cipher) ? overhead : 0;
  size_t mtu = (size_t)conn->config->mtu;
  size_t room = mtu > overhead ? mtu - overhead : 0;
  conn->max_data = room < MAX_PLAINTEXT ? room : MAX_PLAINTEXT;
  const uint8_t *alpn;
  unsigned alpn_len;
  SSL_get0_alpn_selected(conn->ssl, &alpn, &alpn_len);
  if (alpn_len > 0) {
    conn->alpn = malloc(alpn_len + 1); /* NULL (no memory): reported as none */
    if (conn->alpn != NULL) {
      memcpy(conn->alpn, alpn, alpn_len);
      conn->alpn[alpn_len] = '\0';
    }
  }
}

/* OPENSSL_cleanse without the call: memset, kept by the barrier. In
 * pieces of 2 KB, the largest size glibc's x86-64 memset still clears with
 * its vector loop (above `__x86_rep_stosb_threshold`, 2 KB by default, it
 * uses `rep stosb`): that loop costs about the same per byte, and
 * valgrind/callgrind, which the benchmark counts instructions with,
 * counts every byte a `rep stosb` stores as one instruction (8,000 for an
 * 8000-byte record, where four calls of the vector loop are some 500;
 * pieces of 1 KB cost 100 more in call overhead). */
#define WIPE_PIECE 2048
/* Called through a volatile pointer: with the size bounded, GCC would
 * otherwise inline memset as a `rep stosq`. */
static void *(*volatile const wipe_memset)(void *, int, size_t) = memset;
/* The plaintext of a small record (voice frames, game state, telemetry:
 * the common case) is cleared with one or four fixed-size vector stores
 * instead of a call (the buffer is larger than WIPE_SMALL; clearing past n
 * costs nothing more). */
#define WIPE_SMALL 64
static inline void wipe(uint8_t *p, size_t n) {
  if (n <= 16) {
    memset(p, 0, 16);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    return;
  }
  if (n <= WIPE_SMALL) {
    memset(p, 0, WIPE_SMALL);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    return;
  }
  for (size_t off = 0; off < n; off += WIPE_PIECE) {
    wipe_memset(p + off, 0, n - off < WIPE_PIECE ? n - off : WIPE_PIECE);
  }
  __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* One SSL_read of read_records() and feed_connected(): the record's
 * plaintext given to on_data, then wiped; its length, or 0 when the engine
 * has no record (*rc: SDTLS_OK, or the error that failed the connection). */
static inline __attribute__((always_inline)) int read_record(sdtls_conn *conn,
                                                             uint8_t plaintext[MAX_PLAINTEXT],
                                                             sdtls_time now, int *rc) {
  int r = SSL_read(conn->ssl, plaintext, MAX_PLAINTEXT);
  if (r <= 0) {
    int err = SSL_get_error(conn->ssl, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      *rc = fail_from_engine(conn, err);
    }
    return 0;
  }
  conn->last_activity = now;
  emit_data(conn, plaintext, (size_t)r);
  wipe(plaintext, (size_t)r);
  return r;
}

/* Reads the records of the datagram being fed (and whatever the engine
 * still holds of one): one SSL_read per record, none after the last, since
 * an SSL_read that finds nothing costs the engine a buffer allocation and
 * an error-queue reset. The caller has checked that the connection is
 * connected, not being freed, and has something to read. The caller's
 * clock is handed to the engine again after each callback (which may drive
 * other connections with another `now`). feed_connected() is the same
 * loop for a connected connection's datagram. */
static inline __attribute__((always_inline)) int read_records(sdtls_conn *conn, sdtls_time now) {
  /* On the stack, not in the connection: an idle connection costs only
   * what the engine needs. Each record's plaintext is wiped once on_data
   * has returned. */
  uint8_t plaintext[MAX_PLAINTEXT];
  int rc = SDTLS_OK;
  const size_t whole = conn->in != NULL ? conn->in_len : 0;
  for (;;) {
    int r = read_record(conn, plaintext, now, &rc);
    if (r == 0) {
      break;
    }
    Sdtls_engine_time_set(now);
    /* The callback may have closed or freed the connection (alive()). */
    if (conn->pending != 0 || conn->state != SDTLS_STATE_CONNECTED) {
      break;
    }
    /* Done once the datagram is read and the engine holds nothing more
     * of it: the record just read was the whole datagram (see
     * record_overhead), or the engine says so. */
    if (conn->in == NULL &&
        (whole == (size_t)r + conn->record_overhead || !SSL_has_pending(conn->ssl))) {
      break;
    }
  }
  return rc;
}

/* Idle time: once connected, a record that authenticated moves the
 * engine's anti-replay mark (a record that gave data has counted already). */
static inline void note_read_seq(sdtls_conn *conn, sdtls_time now) {
  uint64_t seq = SSL_get_read_sequence(conn->ssl);
  if (seq != conn->read_seq) {
    conn->read_seq = seq;
    conn->last_activity = now;
  }
}

static void feed_connected_end(sdtls_conn *conn, int rc, sdtls_time now);

/* Sdtls_conn_feed() of a connected connection with nothing pending, in no
 * callback, and a datagram (len > 0): straight to the records. Idle time:
 * once connected only a record that authenticates counts; while the
 * handshake runs any datagram does (Sdtls_conn_feed(): its deadline bounds
 * a peer that only sends junk). */
static __attribute__((noinline)) int feed_connected(sdtls_conn *conn, const uint8_t *datagram,
                                                    size_t len, sdtls_time now) {
  /* read_records() written out, so that the common ends return at once. */
  /* The plaintext of a record that is the whole datagram (no record has
   * len bytes of plaintext: with record_overhead 0, never). */
  const size_t one_record = len - conn->record_overhead;
  uint8_t plaintext[MAX_PLAINTEXT];
  int rc = SDTLS_OK;
  conn->in = datagram;
  conn->in_len = len;
  for (;;) {
    /* Again after each callback, which may drive other connections with
     * another clock. */
    Sdtls_engine_time_set(now);
    int r = read_record(conn, plaintext, now, &rc);
    if (r == 0) {
      break;
    }
    if (conn->pending != 0 || conn->state != SDTLS_STATE_CONNECTED) {
      break; /* the callback closed or freed the connection */
    }
    if (conn->in != NULL) {
      continue; /* the engine still held a record from before */
    }
    if ((size_t)r == one_record) {
      /* The datagram was this one DTLS 1.2 record (record_overhead), and
       * it authenticated: the engine's anti-replay mark (note_read_seq())
       * is now the higher of what it was and the record's own number,
       * epoch and sequence number as its header carries them (RFC 6347
       * 4.1; the engine takes records of its current epoch only). Its
       * data has counted for idle time. */
      const uint8_t *n = datagram + 3;
      const uint64_t seq = (uint64_t)n[0] << 56 | (uint64_t)n[1] << 48 |
                           (uint64_t)n[2] << 40 | (uint64_t)n[3] << 32 |
                           (uint64_t)n[4] << 24 | (uint64_t)n[5] << 16 | (uint64_t)n[6] << 8 | n[7];
      if (seq > conn->read_seq) {
        conn->read_seq = seq;
      }
      return SDTLS_OK; /* nothing pending: finish() has nothing to do */
    }
    if (!SSL_has_pending(conn->ssl)) {
      if (conn->dtls13) {
        Sdtls_engine_time_set(now);
        update_retransmit_deadline(conn, now);
      }
      note_read_seq(conn, now);
      return SDTLS_OK;
    }
  }
  feed_connected_end(conn, rc, now);
  return finish(conn, rc);
}

/* The rest of feed_connected() after an error or a callback's close or
 * free. */
static __attribute__((noinline)) void feed_connected_end(sdtls_conn *conn, int rc,
                                                         sdtls_time now) {
  if (conn->state == SDTLS_STATE_CONNECTED) {
    if (rc == SDTLS_OK && conn->dtls13 && alive(conn)) {
      update_retransmit_deadline(conn, now);
    }
    note_read_seq(conn, now);
  }
  conn->in = NULL;
  conn->in_len = 0;
}

/* Runs the handshake, then reads what follows it (read_records). The
 * caller's clock is handed to the engine once, and again after each
 * callback. */
static int drive(sdtls_conn *conn, sdtls_time now) {
  Sdtls_engine_time_set(now);
  if (conn->state == SDTLS_STATE_HANDSHAKING) {
    if (conn->role == SDTLS_ROLE_CLIENT && !restart_screen(conn)) {
      return SDTLS_OK; /* dropped */
    }
    int r = SSL_do_handshake(conn->ssl);
    if (r != 1) {
      int err = SSL_get_error(conn->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        update_retransmit_deadline(conn, now);
        return restart_watch(conn, now);
      }
      return restart_or_fail(conn, err, now);
    }
    if (!resumed_pin_ok(conn)) {
      return fail(conn, SDTLS_E_VERIFY); /* the detail names both fingerprints */
    }
    if (!Sdtls_psk_still_known(conn)) {
      snprintf(conn->detail, sizeof(conn->detail),
               "the resumed session's PSK identity is no longer accepted");
      SSL_send_fatal_alert(conn->ssl, SSL_AD_UNKNOWN_PSK_IDENTITY);
      ERR_clear_error();
      return fail(conn, SDTLS_E_VERIFY);
    }
    if (!alive(conn)) {
      return SDTLS_OK; /* closed or freed from the PSK lookup: finish() */
    }
    connected(conn, now);
    emit_handshake_done(conn);
    Sdtls_engine_time_set(now);
  }
  int rc = SDTLS_OK;
  if (alive(conn) && conn->state == SDTLS_STATE_CONNECTED &&
      (conn->in != NULL || SSL_has_pending(conn->ssl))) {
    rc = read_records(conn, now);
  }
  if (rc == SDTLS_OK && alive(conn) &&
      (conn->state == SDTLS_STATE_HANDSHAKING || conn->dtls13)) {
    update_retransmit_deadline(conn, now);
  }
  return rc;
}

static int begin(sdtls_conn *conn, sdtls_time now) {
  uint8_t ctx[SHA256_DIGEST_LENGTH];
  session_context(conn, ctx);
  if (!SSL_set_session_id_context(conn->ssl, ctx, sizeof(ctx))) {
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  if (conn->offered_session != NULL) {
    /* Offered only under the context it was made in; otherwise a full
     * handshake, as if there were none. */
    unsigned len = 0;
    const uint8_t *made = SSL_SESSION_get0_id_context(conn->offered_session, &len);
    if (len == sizeof(ctx) && CRYPTO_memcmp(made, ctx, sizeof(ctx)) == 0) {
      SSL_set_session(conn->ssl, conn->offered_session);
    }
    SSL_SESSION_free(conn->offered_session);
    conn->offered_session = NULL;
  }
  if (pins_fingerprints(conn)) {
    /* The expected fingerprint replaces chain and name checks; a server
     * then requires the client's certificate. */
    int mode = SSL_VERIFY_PEER;
    if (conn->role == SDTLS_ROLE_SERVER) {
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_set_custom_verify(conn->ssl, mode, verify_fingerprint);
  }
  conn->state = SDTLS_STATE_HANDSHAKING;
  conn->handshake_deadline =
      Sdtls_time_add(now, (uint64_t)conn->config->handshake_timeout_ms * NS_PER_MS);
  conn->last_activity = now;
  return drive(conn, now);
}

int sdtls_conn_set_server_name(sdtls_conn *conn, const char *name) {
  if (conn == NULL || name == NULL || name[0] == '\0' || strlen(name) > 255) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (in_callback(conn)) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (conn->state != SDTLS_STATE_NEW || conn->role != SDTLS_ROLE_CLIENT) {
    return SDTLS_E_STATE;
  }
  /* Kept until the handshake starts: the engine's verify parameters can
   * be set but never cleared, so a name given to them could not be
   * replaced by a later one. The last name set wins, wholly. */
  char *copy = strdup(name);
  if (copy == NULL) {
    return SDTLS_E_NOMEM;
  }
  free(conn->server_name);
  conn->server_name = copy;
  return SDTLS_OK;
}

/* Hands the server name to the engine: SNI (host names only, RFC 6066 3)
 * and the name or address the certificate must hold. */
static int apply_server_name(sdtls_conn *conn) {
  const char *name = conn->server_name;
  int ok;
  if (Sdtls_is_ip_literal(name)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), name);
  } else {
    ok = SSL_set_tlsext_host_name(conn->ssl, name) && SSL_set1_host(conn->ssl, name);
  }
  ERR_clear_error();
  return ok ? SDTLS_OK : SDTLS_E_NOMEM; /* the name was checked: only allocation fails */
}

int sdtls_conn_start(sdtls_conn *conn, sdtls_time now) {
  if (conn == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (in_callback(conn)) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (conn->state != SDTLS_STATE_NEW || conn->hooks != NULL) {
    return SDTLS_E_STATE; /* a server's connection starts with its ClientHello */
  }
  if (conn->role == SDTLS_ROLE_SERVER) {
    return SDTLS_OK; /* the handshake starts with the peer's ClientHello */
  }
  /* A client that pins fingerprints or uses a PSK has no name to check. */
  if (conn->server_name == NULL && conn->config->verify_peer && !pins_fingerprints(conn) &&
      !Sdtls_config_has_psk(conn->config)) {
    snprintf(conn->detail, sizeof(conn->detail),
             "a verifying client needs a server name (sdtls_conn_set_server_name)");
    return SDTLS_E_STATE;
  }
  if (conn->server_name != NULL) {
    int rc = apply_server_name(conn);
    if (rc != SDTLS_OK) {
      return rc;
    }
  }
  if (conn->offered_session != NULL) {
    /* begin() hands it to the engine; a restart offers it again. */
    SSL_SESSION_up_ref(conn->offered_session);
    conn->restart_session = conn->offered_session;
  }
  return finish(conn, begin(conn, now));
}

/* ---- client: starting a damaged handshake over ----
 *
 * Nothing in a handshake is authenticated before the server's Finished,
 * and a datagram damaged on the way can leave it unable to finish. The
 * engine fails at once on a damaged HelloVerifyRequest, HelloRetryRequest,
 * ServerHello, Certificate, ServerKeyExchange or NewSessionTicket, and on
 * the illegal_parameter alert with which a DTLS 1.3 server answers a
 * cookie that does not open (RFC 9147 5.1). Other damage stalls it until
 * its deadline, each side retransmitting what the other cannot use: a
 * damaged cookie makes the server answer with another HelloVerifyRequest
 * (RFC 6347 4.2.1), which the engine ignores (it takes one per handshake);
 * a damaged ClientHello or ClientKeyExchange leaves the two sides with
 * different keys; a damaged record number pushes a replay window past the
 * other side's next records.
 *
 * A client whose server asked for a cookie (so one that takes a new
 * handshake from the same address, RFC 6347 4.2.8, as sdtls_server does)
 * then begins again from a fresh ClientHello in a new engine object (same
 * config, server name, pins and offered session), at most MAX_RESTARTS
 * times and within the same handshake deadline. It first tells the server
 * (abandon()) and waits one initial retransmission timeout, dropping what
 * still arrives for the abandoned handshake; the new engine's first timer
 * is the longest one reached so far, so that restarting sends no faster
 * than retransmitting.
 *
 * A restart must not hide a real failure. An alert that is the server's
 * decision ends the connection at once (may_be_damage()). A failure the
 * engine reports twice in a row is real (a certificate that does not
 * verify) and ends the connection, at the cost of one retry; a restart
 * that hears nothing back by its second timer (a server that takes no new
 * handshake from this address) ends it with the failure that caused it.
 * Once connected, a connection never restarts. */
#define MAX_RESTARTS 2
/* Flights the server sends again without the handshake moving before it
 * is taken as stalled (restart_watch()). */
#define STUCK_REPEATS 3
#define NO_KEY 0

/* After a DTLSPlaintext header (RECORD_HEADER_LEN, above), a handshake
 * message's header: type, length, message_seq, fragment_offset,
 * fragment_length. */
#define HANDSHAKE_HEADER_LEN 12
#define CONTENT_HANDSHAKE 22
#define HS_CLIENT_HELLO 1
#define HS_SERVER_HELLO 2
#define HS_HELLO_VERIFY_REQUEST 3
#define EXT_COOKIE 44

/* The random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static uint64_t read_be(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    v = v << 8 | p[i];
  }
  return v;
}

/* Whether a datagram starts with a handshake record of epoch 0 (its
 * message type at RECORD_HEADER_LEN, message_seq 4 bytes further). */
static bool starts_with_handshake0(const uint8_t *d, size_t len) {
  return len >= RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN && d[0] == CONTENT_HANDSHAKE &&
         read_be(d + 3, 2) == 0;
}

static uint64_t message_seq(const uint8_t *d) { return read_be(d + RECORD_HEADER_LEN + 4, 2); }

/* Whether a datagram from the server asks for a cookie: a
 * HelloVerifyRequest or a HelloRetryRequest. Judged so that one damaged
 * byte does not hide it: a HelloVerifyRequest by its type or by its shape
 * (one record: server_version 0xfe.., then a cookie that ends it), a
 * HelloRetryRequest (a ServerHello) by its random (RFC 8446 4.1.3) or its
 * cookie extension. */
static bool asks_for_cookie(const uint8_t *d, size_t len) {
  if (len < RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN || read_be(d + 3, 2) != 0) {
    return false; /* not epoch 0 */
  }
  const uint8_t *body = d + RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN;
  const size_t n = len - RECORD_HEADER_LEN - HANDSHAKE_HEADER_LEN;
  if ((d[0] == CONTENT_HANDSHAKE && d[RECORD_HEADER_LEN] == HS_HELLO_VERIFY_REQUEST) ||
      (n >= 3 && body[0] == 0xfe && n == 3 + (size_t)body[2] &&
       read_be(d + 11, 2) == len - RECORD_HEADER_LEN)) {
    return true;
  }
  /* legacy_version, random, session id, cipher suite, compression method,
   * extensions */
  size_t off = 2 + sizeof(hrr_random);
  if (n < off + 1) {
    return false;
  }
  if (memcmp(body + 2, hrr_random, sizeof(hrr_random)) == 0) {
    return true;
  }
  if (d[RECORD_HEADER_LEN] != HS_SERVER_HELLO) {
    return false;
  }
  off += 1 + body[off] + 2 + 1;
  if (n < off + 2) {
    return false;
  }
  size_t end = off + 2 + (size_t)read_be(body + off, 2);
  end = end < n ? end : n;
  for (off += 2; off < end && end - off >= 4; off += 4 + (size_t)read_be(body + off + 2, 2)) {
    if (read_be(body + off, 2) == EXT_COOKIE) {
      return true;
    }
  }
  return false;
}

/* A datagram the client's engine sends: a ClientHello with message_seq 1
 * or more is the one that carries a cookie. */
static void restart_note_sent(sdtls_conn *conn, const uint8_t *data, size_t len) {
  if (starts_with_handshake0(data, len) && data[RECORD_HEADER_LEN] == HS_CLIENT_HELLO &&
      message_seq(data) != 0) {
    conn->cookie_hello_sent = true;
    conn->cookie_exchange = true;
  }
  for (size_t off = 0; len - off >= RECORD_HEADER_LEN && (data[off] & 0xe0) != 0x20;
       off += RECORD_HEADER_LEN + (size_t)read_be(data + off + 11, 2)) {
    if (read_be(data + off + 3, 2) == 0 && read_be(data + off + 5, 6) > conn->sent_seq0) {
      conn->sent_seq0 = read_be(data + off + 5, 6);
    }
  }
}

/* Ends the abandoned handshake on the server's side, which may hold a
 * connection for it and keep sending its flight, which could reach the
 * new handshake (and be taken for the answer to its ClientHello) until the
 * new handshake's cookie replaces that connection: a fatal user_canceled
 * alert from the engine, in its epoch, and the same in epoch 0 (a server
 * that has not taken our keys), three times, as alerts are not
 * retransmitted. After a failure, the engine has already sent its own. */
#define ABANDON_ALERTS 3

static void abandon(sdtls_conn *conn) {
  SSL_send_fatal_alert(conn->ssl, SSL_AD_USER_CANCELLED);
  ERR_clear_error();
  uint8_t alert[RECORD_HEADER_LEN + 2] = {SSL3_RT_ALERT, 0xfe, 0xfd}; /* epoch 0 */
  alert[12] = 2;                                             /* length */
  alert[13] = SSL3_AL_FATAL;
  alert[14] = SSL_AD_USER_CANCELLED;
  for (int n = 0; n < ABANDON_ALERTS; n++) {
    uint64_t seq = ++conn->sent_seq0;
    for (int i = 0; i < 6; i++) {
      alert[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    }
    BIO_write(SSL_get_wbio(conn->ssl), alert, sizeof(alert));
  }
}

static bool may_restart(const sdtls_conn *conn) {
  return conn->cookie_exchange && conn->restarts < MAX_RESTARTS && !conn->restart_pending &&
         conn->role == SDTLS_ROLE_CLIENT && conn->hooks == NULL && alive(conn) &&
         conn->state == SDTLS_STATE_HANDSHAKING;
}

static int schedule_restart(sdtls_conn *conn, sdtls_time now) {
  abandon(conn);
  conn->restart_pending = true;
  conn->retransmit_deadline =
      Sdtls_time_add(now, (uint64_t)conn->config->initial_timeout_ms * NS_PER_MS);
  return SDTLS_OK;
}

/* Before the engine takes a datagram for the client's handshake: false
 * drops it. Noted for restart_watch(): whether it holds a handshake
 * message not heard before in this attempt or a protected record, and the
 * engine's state. */
static bool restart_screen(sdtls_conn *conn) {
  const uint8_t *d = conn->in;
  const size_t len = conn->in_len;
  conn->fed_state = NULL;
  if (conn->restart_pending) {
    return false; /* for the abandoned handshake */
  }
  if (d == NULL) {
    return true;
  }
  if (asks_for_cookie(d, len)) {
    conn->cookie_exchange = true;
  }
  if (len == 0 || !((d[0] >= 20 && d[0] <= 23) || (d[0] & 0xe0) == 0x20)) {
    return true; /* not a DTLS record (or a damaged one): nothing to watch */
  }
  if (conn->restarts > 0 && !conn->cookie_hello_sent && starts_with_handshake0(d, len) &&
      message_seq(d) != 0) {
    /* Before a handshake's ClientHello with a cookie, a server that asks
     * for one sends it nothing past message_seq 0: this is the abandoned
     * handshake's flight, which the engine would keep for later. */
    return false;
  }
  conn->heard = true;
  conn->fed_new = false;
  conn->fed_protected = false;
  /* Its first handshake fragment: message_seq and fragment_offset (plus
   * one: 0 is none), and its record number. */
  conn->fed_key = NO_KEY;
  if (starts_with_handshake0(d, len)) {
    conn->fed_key = (message_seq(d) << 32 | read_be(d + RECORD_HEADER_LEN + 6, 3)) + 1;
    conn->fed_seq = read_be(d + 5, 6);
  }
  for (size_t off = 0; off < len;) {
    const uint8_t *rec = d + off;
    if ((rec[0] & 0xe0) == 0x20) {
      /* DTLS 1.3's encrypted records (unified header), the datagram's
       * last. (A DTLS 1.2 handshake's one encrypted message, Finished,
       * moves the state machine when it opens.) */
      conn->fed_protected = SSL_version(conn->ssl) == SDTLS_DTLS1_3;
      break;
    }
    if (len - off < RECORD_HEADER_LEN) {
      break;
    }
    if (starts_with_handshake0(rec, len - off) && message_seq(rec) >= conn->server_msgs) {
      conn->server_msgs = (uint32_t)message_seq(rec) + 1;
      conn->fed_new = true;
    }
    off += RECORD_HEADER_LEN + (size_t)read_be(rec + 11, 2);
  }
  conn->fed_state = SSL_state_string_long(conn->ssl);
  if (conn->fed_protected) {
    conn->fed_read_seq = SSL_get_read_sequence(conn->ssl);
  }
  return true;
}

/* After the engine took a datagram and its handshake goes on: did the
 * datagram move anything? A handshake message not heard before, a step of
 * the engine's state machine or a DTLS 1.3 encrypted record the engine
 * could open (its read sequence, epoch in the top 16 bits, moved past
 * epoch 0) is progress. A server that sends the same flight again (a datagram that
 * begins with the same handshake fragment, under a new record number: a
 * copy the network duplicated is not another sending) STUCK_REPEATS times
 * without any keeps sending what the engine cannot use, or its own flight
 * because it cannot use ours: retransmitting will not help. Loss alone
 * rarely does that: our flight lost as many times in a row while the
 * server's retransmissions arrive. */
static int restart_watch(sdtls_conn *conn, sdtls_time now) {
  if (conn->fed_state == NULL) {
    return SDTLS_OK;
  }
  /* (The engine's state names are static strings, one per state.) */
  bool moved = conn->fed_new || SSL_state_string_long(conn->ssl) != conn->fed_state;
  if (!moved && conn->fed_protected) {
    const uint64_t read_seq = SSL_get_read_sequence(conn->ssl);
    moved = read_seq != conn->fed_read_seq && (read_seq >> 48) != 0;
  }
  conn->fed_state = NULL;
  if (moved) {
    conn->stuck = 0;
    conn->stuck_key = NO_KEY;
  } else if (conn->stuck_key == NO_KEY) {
    conn->stuck_key = conn->fed_key;
    conn->stuck_seq = conn->fed_seq;
  } else if (conn->fed_key == conn->stuck_key && conn->fed_seq > conn->stuck_seq) {
    conn->stuck_seq = conn->fed_seq;
    if (++conn->stuck >= STUCK_REPEATS && may_restart(conn)) {
      return schedule_restart(conn, now);
    }
  }
  return SDTLS_OK;
}

/* Whether an engine error may come from damage on the way: the engine's
 * own findings (a message it cannot parse or verify, a certificate that
 * does not verify), and the alerts with which a server says the same of
 * what it received, handshake_failure included (a ClientHello whose
 * extensions were damaged leaves nothing to agree on). Other alerts are
 * the server's decision on what it received intact (a certificate
 * refused, a version or application protocol it will not speak), which a
 * new handshake would meet again: they end the connection at once. */
static bool may_be_damage(uint32_t error) {
  const int reason = ERR_GET_REASON(error);
  if (ERR_GET_LIB(error) != ERR_LIB_SSL || reason < SSL_AD_REASON_OFFSET ||
      reason >= SSL_AD_REASON_OFFSET + 256) {
    return true;
  }
  switch (reason - SSL_AD_REASON_OFFSET) {
    case SSL_AD_UNEXPECTED_MESSAGE:
    case SSL_AD_HANDSHAKE_FAILURE:
    case SSL_AD_BAD_RECORD_MAC:
    case SSL_AD_RECORD_OVERFLOW:
    case SSL_AD_ILLEGAL_PARAMETER:
    case SSL_AD_DECODE_ERROR:
    case SSL_AD_DECRYPT_ERROR:
      return true;
    default:
      return false;
  }
}

/* The engine failed the handshake: start over, or fail the connection. */
static int restart_or_fail(sdtls_conn *conn, int ssl_error, sdtls_time now) {
  const uint32_t reason = ERR_peek_error();
  if (ssl_error != SSL_ERROR_SSL || reason == 0 || reason == conn->restart_reason ||
      !may_be_damage(reason) || !may_restart(conn)) {
    return fail_from_engine(conn, ssl_error);
  }
  conn->restart_reason = reason;
  /* Kept for a restart that hears nothing back; the detail stays in
   * conn->detail until another failure. */
  conn->restart_error = conn->fingerprint_mismatch
                            ? SDTLS_E_VERIFY
                            : Sdtls_error_from_engine(conn->ssl, ssl_error, conn->detail,
                                                      sizeof(conn->detail));
  ERR_clear_error();
  return schedule_restart(conn, now);
}

static int restart_handshake(sdtls_conn *conn, sdtls_time now) {
  const unsigned initial_ms = (unsigned)conn->config->initial_timeout_ms;
  SSL *fresh = engine_new(conn, conn->backoff_ms > initial_ms ? conn->backoff_ms : initial_ms);
  if (fresh == NULL) {
    snprintf(conn->detail, sizeof(conn->detail), "out of memory starting the handshake over");
    return fail(conn, SDTLS_E_NOMEM);
  }
  SSL_free(conn->ssl);
  conn->ssl = fresh;
  conn->restarts++;
  conn->restart_pending = false;
  conn->cookie_hello_sent = false;
  conn->heard = false;
  conn->unanswered = 0;
  conn->stuck = 0;
  conn->stuck_key = NO_KEY;
  conn->server_msgs = 0;
  conn->sent_seq0 = 0;
  conn->fingerprint_mismatch = false;
  if (conn->restart_session != NULL) {
    SSL_SESSION_up_ref(conn->restart_session);
    conn->offered_session = conn->restart_session;
  }
  int rc = conn->server_name != NULL ? apply_server_name(conn) : SDTLS_OK;
  if (rc != SDTLS_OK) {
    return fail(conn, rc);
  }
  const sdtls_time deadline = conn->handshake_deadline;
  rc = begin(conn, now);
  if (conn->state == SDTLS_STATE_HANDSHAKING) {
    conn->handshake_deadline = deadline; /* a restart gets no more time */
  }
  return rc;
}

/* At a retransmission time: restart, or end a restart that heard nothing
 * back (restart_on_timer()), instead of retransmitting. */
static bool restart_takes_timer(const sdtls_conn *conn) {
  return conn->restart_pending || (conn->restart_error != 0 && !conn->heard && conn->unanswered > 0);
}

static int restart_on_timer(sdtls_conn *conn, sdtls_time now) {
  if (conn->restart_pending) {
    return restart_handshake(conn, now);
  }
  return fail(conn, conn->restart_error); /* with the detail of that failure */
}

/* After a retransmission: its timer, and whether a restart is unanswered. */
static void restart_note_timer(sdtls_conn *conn, sdtls_time now) {
  if (conn->role != SDTLS_ROLE_CLIENT) {
    return;
  }
  if (conn->retransmit_deadline != SDTLS_TIME_NEVER) {
    uint64_t ms = (conn->retransmit_deadline - now) / NS_PER_MS;
    conn->backoff_ms = ms > conn->backoff_ms ? (unsigned)ms : conn->backoff_ms;
  }
  if (conn->restarts > 0 && !conn->heard && conn->unanswered < UINT8_MAX) {
    conn->unanswered++;
  }
}

int Sdtls_conn_feed(sdtls_conn *conn, const uint8_t *datagram, size_t len, sdtls_time now) {
  if (conn->state == SDTLS_STATE_CLOSED || conn->state == SDTLS_STATE_FAILED) {
    return conn->error;
  }
  if (len == 0) {
    return SDTLS_OK;
  }
  if (conn->state == SDTLS_STATE_CONNECTED && conn->pending == 0) {
    return feed_connected(conn, datagram, len, now);
  }
  conn->in = datagram;
  conn->in_len = len;
  int rc = SDTLS_OK;
  if (conn->state == SDTLS_STATE_CONNECTED) {
    /* A close or free is pending (finish() applies it): no records. */
    note_read_seq(conn, now);
  } else if (conn->state == SDTLS_STATE_NEW) {
    rc = begin(conn, now);
  } else {
    conn->last_activity = now;
    rc = drive(conn, now);
  }
  conn->in = NULL;
  conn->in_len = 0;
  return finish(conn, rc);
}

/* sdtls_conn_receive() apart from its common case. */
static __attribute__((noinline)) int receive_other(sdtls_conn *conn, const uint8_t *datagram,
                                                   size_t len, sdtls_time now) {
  if (conn == NULL || (datagram == NULL && len > 0)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (in_callback(conn)) {
    return SDTLS_E_IN_CALLBACK;
  }
  /* A server's connection is fed by its server; a client is started by
   * sdtls_conn_start(). */
  if (conn->hooks != NULL ||
      (conn->state == SDTLS_STATE_NEW && conn->role == SDTLS_ROLE_CLIENT)) {
    return SDTLS_E_STATE;
  }
  return Sdtls_conn_feed(conn, datagram, len, now);
}

int sdtls_conn_receive(sdtls_conn *conn, const uint8_t *datagram, size_t len, sdtls_time now) {
  /* Most datagrams: a plain connection, connected, in no callback, with
   * nothing pending, and a datagram. Everything else, refusals included,
   * in receive_other(). */
  if (conn != NULL && datagram != NULL && len > 0 && !in_callback(conn) && conn->hooks == NULL &&
      conn->state == SDTLS_STATE_CONNECTED && conn->pending == 0) {
    return feed_connected(conn, datagram, len, now);
  }
  return receive_other(conn, datagram, len, now);
}

size_t sdtls_conn_max_data_size(const sdtls_conn *conn) {
  return conn != NULL && conn->state == SDTLS_STATE_CONNECTED ? conn->max_data : 0;
}

static int conn_send(sdtls_conn *conn, const uint8_t *data, size_t len, sdtls_time now) {
  if (conn->state != SDTLS_STATE_CONNECTED) {
    return conn->state == SDTLS_STATE_CLOSED || conn->state == SDTLS_STATE_FAILED
               ? conn->error
               : SDTLS_E_STATE;
  }
  if (len - 1 >= conn->max_data) { /* nothing (len 0) or too much */
    return len == 0 ? SDTLS_OK : SDTLS_E_TOO_BIG;
  }
  Sdtls_engine_time_set(now);
  int r = SSL_write(conn->ssl, data, (int)len);
  if (r != (int)len) {
    return fail_from_engine(conn, SSL_get_error(conn->ssl, r));
  }
  if (conn->dtls13) {
    /* A write may carry a queued KeyUpdate, whose ACK the engine awaits. */
    update_retransmit_deadline(conn, now);
  }
  return SDTLS_OK;
}

static int conn_key_update(sdtls_conn *conn, sdtls_time now) {
  if (conn->state == SDTLS_STATE_CLOSED || conn->state == SDTLS_STATE_FAILED) {
    return conn->error;
  }
  if (conn->state != SDTLS_STATE_CONNECTED || SSL_in_init(conn->ssl)) {
    return SDTLS_E_STATE;
  }
  if (!conn->dtls13) {
    return SDTLS_E_UNSUPPORTED; /* DTLS 1.2 has no KeyUpdate */
  }
  Sdtls_engine_time_set(now);
  if (!SSL_key_update(conn->ssl, SSL_KEY_UPDATE_REQUESTED)) {
    ERR_clear_error();
    return SDTLS_E_STATE;
  }
  /* The engine sends queued handshake messages (the KeyUpdate) when it is
   * next asked to read: a zero-length peek does that and consumes nothing
   * (any record it holds is still read by drive()). */
  uint8_t none;
  int r = SSL_peek(conn->ssl, &none, 0);
  if (r < 0) {
    int err = SSL_get_error(conn->ssl, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      return fail_from_engine(conn, err);
    }
  }
  update_retransmit_deadline(conn, now);
  return SDTLS_OK;
}

int sdtls_conn_key_update(sdtls_conn *conn, sdtls_time now) {
  if (conn == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (conn->in_send || conn->in_engine_cb) {
    return SDTLS_E_IN_CALLBACK;
  }
  const sdtls_conn_hooks *hooks = conn->hooks;
  void *owner = conn->owner;
  int rc = owner_enter(conn);
  if (rc != SDTLS_OK) {
    return rc;
  }
  rc = finish(conn, conn_key_update(conn, now));
  return owner_leave(hooks, owner, rc);
}

/* A server's connection: the send runs inside its server (enter, leave).
 * Apart, so that the plain connection's path stays short. */
static __attribute__((noinline)) int send_in_server(sdtls_conn *conn, const uint8_t *data,
                                                    size_t len, sdtls_time now) {
  const sdtls_conn_hooks *hooks = conn->hooks;
  void *owner = conn->owner;
  int rc = owner_enter(conn);
  if (rc != SDTLS_OK) {
    return rc;
  }
  rc = finish(conn, conn_send(conn, data, len, now));
  return owner_leave(hooks, owner, rc);
}

/* The end of sdtls_conn_send()'s common case when the write failed or
 * the send callback asked for a close or a free. */
static __attribute__((noinline)) int send_end(sdtls_conn *conn, int r, size_t len) {
  int rc = SDTLS_OK;
  if (r != (int)len) {
    rc = fail_from_engine(conn, SSL_get_error(conn->ssl, r));
  }
  return finish(conn, rc);
}

/* sdtls_conn_send() of a plain connection otherwise: refused, nothing to
 * send, or DTLS 1.3. Apart, so that the common case needs no frame. */
static __attribute__((noinline)) int send_other(sdtls_conn *conn, const uint8_t *data, size_t len,
                                                sdtls_time now) {
  return finish(conn, conn_send(conn, data, len, now));
}

int sdtls_conn_send(sdtls_conn *conn, const uint8_t *data, size_t len, sdtls_time now) {
  if (conn == NULL || (data == NULL && len > 0)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (conn->in_send || conn->in_engine_cb) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (conn->hooks != NULL) {
    return send_in_server(conn, data, len, now);
  }
  if (conn->state == SDTLS_STATE_CONNECTED && len - 1 < conn->max_data && !conn->dtls13) {
    /* conn_send()'s common case, written out: one DTLS 1.2 record (no
     * timer to read after it, so `now` is not needed afterwards). */
    Sdtls_engine_time_set(now);
    int r = SSL_write(conn->ssl, data, (int)len);
    if (r == (int)len && conn->pending == 0) {
      return SDTLS_OK;
    }
    return send_end(conn, r, len);
  }
  return send_other(conn, data, len, now);
}

sdtls_time sdtls_conn_next_deadline(const sdtls_conn *conn) {
  if (conn == NULL || conn->free_pending) {
    return SDTLS_TIME_NEVER;
  }
  if (conn->state != SDTLS_STATE_HANDSHAKING && conn->state != SDTLS_STATE_CONNECTED) {
    return SDTLS_TIME_NEVER;
  }
  return conn->handshake_deadline < conn->retransmit_deadline ? conn->handshake_deadline
                                                              : conn->retransmit_deadline;
}

int Sdtls_conn_tick(sdtls_conn *conn, sdtls_time now) {
  if (conn->state == SDTLS_STATE_CLOSED || conn->state == SDTLS_STATE_FAILED) {
    return conn->error;
  }
  if (conn->state == SDTLS_STATE_NEW) {
    return SDTLS_OK;
  }
  int rc = SDTLS_OK;
  if (now >= conn->handshake_deadline) {
    snprintf(conn->detail, sizeof(conn->detail),
             conn->state == SDTLS_STATE_CONNECTED
                 ? "the peer did not acknowledge the end of the handshake within %lld ms"
                 : "handshake not finished within %lld ms",
             (long long)conn->config->handshake_timeout_ms);
    rc = fail(conn, SDTLS_E_TIMEOUT);
  } else if (now >= conn->retransmit_deadline && restart_takes_timer(conn)) {
    rc = restart_on_timer(conn, now);
  } else if (now >= conn->retransmit_deadline) {
    Sdtls_engine_time_set(now);
    if (DTLSv1_handle_timeout(conn->ssl) < 0) {
      ERR_clear_error();
      snprintf(conn->detail, sizeof(conn->detail), "peer did not answer retransmissions");
      rc = fail(conn, SDTLS_E_TIMEOUT);
    } else if (alive(conn)) {
      update_retransmit_deadline(conn, now);
      restart_note_timer(conn, now);
    }
  }
  return finish(conn, rc);
}

int sdtls_conn_handle_timeout(sdtls_conn *conn, sdtls_time now) {
  if (conn == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (in_callback(conn)) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (conn->hooks != NULL) {
    return SDTLS_E_STATE; /* its server handles its timers */
  }
  return Sdtls_conn_tick(conn, now);
}

void Sdtls_conn_shutdown(sdtls_conn *conn, sdtls_time now) {
  if (conn->state == SDTLS_STATE_CLOSED || conn->state == SDTLS_STATE_FAILED) {
    return;
  }
  if (conn->state == SDTLS_STATE_CONNECTED) {
    Sdtls_engine_time_set(now);
    SSL_shutdown(conn->ssl); /* sends close_notify; the peer's is not awaited */
    ERR_clear_error();
  }
  conn->state = SDTLS_STATE_CLOSED;
  conn->error = SDTLS_E_CLOSED;
  conn->close_reported = true; /* the application asked; nothing to report */
  conn->handshake_deadline = SDTLS_TIME_NEVER;
  conn->retransmit_deadline = SDTLS_TIME_NEVER;
}

int sdtls_conn_close(sdtls_conn *conn, sdtls_time now) {
  if (conn == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (conn->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (conn->in_engine_cb) {
    Sdtls_conn_defer_close(conn, now); /* finish() applies it */
    return SDTLS_OK;
  }
  if (conn->hooks != NULL) {
    return conn->hooks->close(conn->owner, conn, now); /* as sdtls_server_close_peer() */
  }
  Sdtls_conn_shutdown(conn, now);
  return finish(conn, SDTLS_OK);
}

/* ---- queries ---- */

sdtls_state sdtls_conn_state(const sdtls_conn *conn) {
  return conn != NULL ? conn->state : SDTLS_STATE_FAILED;
}

sdtls_role sdtls_conn_role(const sdtls_conn *conn) {
  return conn != NULL ? conn->role : SDTLS_ROLE_CLIENT;
}

int sdtls_conn_error(const sdtls_conn *conn) {
  return conn != NULL ? conn->error : SDTLS_E_INVALID_ARGUMENT;
}

const char *sdtls_conn_error_detail(const sdtls_conn *conn) {
  return conn != NULL ? conn->detail : "";
}

bool Sdtls_conn_is_done(const sdtls_conn *conn) {
  return conn != NULL && !SSL_in_init(conn->ssl) &&
         (conn->state == SDTLS_STATE_CONNECTED || conn->state == SDTLS_STATE_CLOSED);
}

const char *sdtls_conn_version(const sdtls_conn *conn) {
  return Sdtls_conn_is_done(conn) ? SSL_get_version(conn->ssl) : NULL;
}

const char *sdtls_conn_cipher(const sdtls_conn *conn) {
  if (!Sdtls_conn_is_done(conn)) {
    return NULL;
  }
  const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
  return cipher != NULL ? SSL_CIPHER_standard_name(cipher) : NULL;
}

int sdtls_conn_peer_certificate(const sdtls_conn *conn, const uint8_t **der, size_t *len) {
  if (conn == NULL || der == NULL || len == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  const STACK_OF(CRYPTO_BUFFER) *chain =
      Sdtls_conn_is_done(conn) ? SSL_get0_peer_certificates(conn->ssl) : NULL;
  if (chain == NULL || sk_CRYPTO_BUFFER_num(chain) == 0) {
    return SDTLS_E_STATE;
  }
  const CRYPTO_BUFFER *leaf = sk_CRYPTO_BUFFER_value(chain, 0);
  *der = CRYPTO_BUFFER_data(leaf);
  *len = CRYPTO_BUFFER_len(leaf);
  return SDTLS_OK;
}

int sdtls_conn_peer_fingerprint_sha256(const sdtls_conn *conn, uint8_t out[32]) {
  const uint8_t *der;
  size_t len;
  if (out == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  int rc = sdtls_conn_peer_certificate(conn, &der, &len);
  if (rc == SDTLS_OK) {
    SHA256(der, len, out);
  }
  return rc;
}

int sdtls_conn_peer_fingerprint(const sdtls_conn *conn, int hash, uint8_t *out,
                                size_t *out_len) {
  const uint8_t *der;
  size_t len;
  if (out == NULL || out_len == NULL || Sdtls_digest_len(hash) == 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  int rc = sdtls_conn_peer_certificate(conn, &der, &len);
  if (rc == SDTLS_OK) {
    rc = Sdtls_digest(hash, der, len, out, out_len);
  }
  return rc;
}

int sdtls_conn_export_keying_material(const sdtls_conn *conn, uint8_t *out, size_t out_len,
                                      const char *label, size_t label_len,
                                      const uint8_t *context, size_t context_len) {
  if (conn == NULL || out == NULL || out_len == 0 || label == NULL ||
      (context == NULL && context_len > 0)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (conn->state != SDTLS_STATE_CONNECTED || SSL_in_init(conn->ssl)) {
    return SDTLS_E_STATE;
  }
  if (!SSL_export_keying_material(conn->ssl, out, out_len, label, label_len, context,
                                  context_len, context != NULL)) {
    ERR_clear_error();
    return SDTLS_E_INVALID_ARGUMENT;
  }
  return SDTLS_OK;
}

int sdtls_conn_add_peer_fingerprint(sdtls_conn *conn, const char *fingerprint) {
  if (conn == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (in_callback(conn)) {
    return SDTLS_E_IN_CALLBACK;
  }
  sdtls_fingerprint fp;
  int rc = Sdtls_pin_parse(fingerprint, &fp);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (conn->state != SDTLS_STATE_NEW) {
    return SDTLS_E_STATE;
  }
  if (conn->n_fingerprints == SDTLS_MAX_FINGERPRINTS) {
    return SDTLS_E_LIMIT;
  }
  sdtls_fingerprint *list =
      realloc(conn->fingerprints, (conn->n_fingerprints + 1) * sizeof(*list));
  if (list == NULL) {
    return SDTLS_E_NOMEM;
  }
  list[conn->n_fingerprints++] = fp;
  conn->fingerprints = list;
  return SDTLS_OK;
}

int Sdtls_conn_set_pins(sdtls_conn *conn, const sdtls_fingerprint *fps, size_t n) {
  sdtls_fingerprint *list = malloc(n * sizeof(*list));
  if (list == NULL) {
    return SDTLS_E_NOMEM;
  }
  memcpy(list, fps, n * sizeof(*list));
  free(conn->fingerprints);
  conn->fingerprints = list;
  conn->n_fingerprints = n;
  return SDTLS_OK;
}

int sdtls_conn_set_session(sdtls_conn *conn, const uint8_t *session, size_t len) {
  if (conn == NULL || session == NULL || len == 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (in_callback(conn)) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (conn->state != SDTLS_STATE_NEW || conn->role != SDTLS_ROLE_CLIENT) {
    return SDTLS_E_STATE;
  }
  /* Kept until the handshake starts, when the session context is known. */
  SSL_SESSION *s = Sdtls_session_import(conn->config, session, len);
  if (s == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  SSL_SESSION_free(conn->offered_session);
  conn->offered_session = s;
  return SDTLS_OK;
}

const char *sdtls_conn_group(const sdtls_conn *conn) {
  if (!Sdtls_conn_is_done(conn) ||
      (SSL_session_reused(conn->ssl) && SSL_version(conn->ssl) == DTLS1_2_VERSION)) {
    return NULL; /* a resumed DTLS 1.2 handshake exchanges no key (the engine
                    would name the original handshake's group) */
  }
  uint16_t id = SSL_get_curve_id(conn->ssl);
  return id != 0 ? SSL_get_curve_name(id) : NULL;
}

const char *sdtls_conn_alpn(const sdtls_conn *conn) {
  return Sdtls_conn_is_done(conn) ? conn->alpn : NULL;
}

void sdtls_conn_set_app_data(sdtls_conn *conn, void *app_data) {
  if (conn != NULL) {
    conn->app_data = app_data;
  }
}

void *sdtls_conn_get_app_data(const sdtls_conn *conn) {
  return conn != NULL ? conn->app_data : NULL;
}

int sdtls_conn_peer_address(const sdtls_conn *conn, const uint8_t **addr, size_t *addr_len) {
  if (conn == NULL || addr == NULL || addr_len == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (conn->hooks == NULL) {
    return SDTLS_E_STATE;
  }
  *addr = conn->addr;
  *addr_len = conn->addr_len;
  return SDTLS_OK;
}

/* ---- for the server ---- */

SSL *Sdtls_conn_engine(sdtls_conn *conn) { return conn->ssl; }

SSL_SESSION *Sdtls_conn_latest_session(const sdtls_conn *conn) { return conn->latest_session; }

void Sdtls_conn_set_latest_session(sdtls_conn *conn, SSL_SESSION *session) {
  SSL_SESSION_free(conn->latest_session);
  conn->latest_session = session;
}

sdtls_time Sdtls_conn_last_activity(const sdtls_conn *conn) { return conn->last_activity; }

sdtls_time Sdtls_conn_handshake_deadline(const sdtls_conn *conn) {
  return conn->handshake_deadline;
}

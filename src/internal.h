/* SPDX-License-Identifier: Apache-2.0 */
/* Private declarations shared by the library's modules. Not installed. */
#ifndef SDTLS_INTERNAL_H
#define SDTLS_INTERNAL_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#ifndef __cplusplus /* the engine glue is C++ and needs none of the C-only parts */
#include <stdatomic.h>
#endif

#include "sdtls.h"

#define NS_PER_MS UINT64_C(1000000) /* sdtls_time is in nanoseconds */

/* now + ns, saturating at SDTLS_TIME_NEVER: a clock near its end must not
 * wrap a deadline into the past. */
static inline sdtls_time Sdtls_time_add(sdtls_time now, uint64_t ns) {
  return now > SDTLS_TIME_NEVER - ns ? SDTLS_TIME_NEVER : now + ns;
}

/* ---- config.c ---- */

#define SDTLS_MAX_FINGERPRINTS 16
#define SDTLS_MAX_PSK_IDENTITY 128
#define SDTLS_MAX_PSK_KEY 64
/* The ALPN list in wire form (a length byte and the name, per protocol),
 * what sdtls_config_set_alpn() takes: with the rest of a ClientHello it
 * stays well under the 16 KiB a server accepts. */
#define SDTLS_MAX_ALPN_WIRE 4096
/* Names in sdtls_config_set_groups()' list, each at most once: more than
 * any engine knows. */
#define SDTLS_MAX_GROUPS 32

/* An expected peer certificate digest: the hash (SDTLS_HASH_*), the
 * digest's length and the digest, zero-padded (bytes only, no padding
 * between members: the session context hashes and sorts whole structs). */
typedef struct sdtls_fingerprint {
  uint8_t hash;
  uint8_t len;
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
} sdtls_fingerprint;

/* sdtls_fingerprint_parse() into a pin. Same return values. */
int Sdtls_pin_parse(const char *text, sdtls_fingerprint *out);

/* The length of a `hash` (SDTLS_HASH_*) digest, 0 for an unknown hash. */
size_t Sdtls_digest_len(int hash);

/* The `hash` (SDTLS_HASH_*) digest of data[0..len) into out (64 bytes) and
 * its length into *out_len. Returns 0 or SDTLS_E_INVALID_ARGUMENT (unknown
 * hash). */
int Sdtls_digest(int hash, const uint8_t *data, size_t len, uint8_t *out, size_t *out_len);

#ifndef __cplusplus
typedef struct sdtls_psk {
  char identity[SDTLS_MAX_PSK_IDENTITY + 1];
  uint8_t key[SDTLS_MAX_PSK_KEY];
  size_t key_len;
} sdtls_psk;

/* Session ticket protection derived from one secret. */
typedef struct sdtls_ticket_key {
  uint8_t name[16];
  uint8_t aes[16];
  uint8_t hmac[32];
} sdtls_ticket_key;

struct sdtls_config {
  atomic_int refs;
  pthread_mutex_t lock; /* guards freezing and the ticket keys */
  bool frozen;
  SSL_CTX *ctx; /* built at creation, finished when frozen */
  int64_t verify_peer, require_client_cert, mtu, initial_timeout_ms, handshake_timeout_ms;
  int64_t min_version, max_version;
  int64_t cookies, max_peers, max_handshakes, idle_timeout_ms, cookie_lifetime_ms;
  int64_t psk_allow_cbc, session_tickets;
  bool has_certificate;
  bool has_trust;
  char *ciphers; /* sdtls_config_set_ciphers(), or NULL: the defaults */
  sdtls_keylog_cb keylog;
  void *keylog_user;
  sdtls_fingerprint fingerprints[SDTLS_MAX_FINGERPRINTS];
  size_t n_fingerprints;
  sdtls_psk *psks;
  size_t n_psks;
  sdtls_psk_lookup_cb psk_lookup;
  void *psk_lookup_user;
  uint8_t *alpn; /* RFC 7301 wire form: length-prefixed names */
  size_t alpn_len;
  sdtls_ticket_key ticket_current, ticket_previous;
  bool has_ticket_key, has_ticket_previous;
  /* The session context of a client [0] and a server [1] connection that
   * add no server name or pins of their own (session.c, at freezing). */
  uint8_t session_ctx[2][32];
  /* The CA directories given to sdtls_config_set_ca(), as a running
   * SHA-256 over their paths (their files are read lazily, at
   * verification), and the digest of the whole trust policy's anchors
   * taken when the config is frozen (session.c). */
  uint8_t ca_dirs[32];
  uint8_t trust[32];
  /* The session sdtls_conn_set_session() last parsed and its bytes (lock
   * held; session.c): the same bytes again reuse it. */
  SSL_SESSION *import_session;
  uint8_t *import_bytes;
  size_t import_len;
};

/* A PSK is configured (table or lookup). */
static inline bool Sdtls_config_has_psk(const sdtls_config *c) {
  return c->n_psks > 0 || c->psk_lookup != NULL;
}
#endif

/* Freezes the config (first use: finishes the engine context) and takes a
 * reference. Returns 0, or the error that makes the config unusable.
 * Thread-safe. */
int Sdtls_config_acquire(sdtls_config *config);

/* SDTLS_E_INVALID_ARGUMENT for NULL, SDTLS_E_FROZEN once the config is in
 * use, else 0: the first check of every setter. */
int Sdtls_config_check_mutable(sdtls_config *config);

/* ---- psk.c, session.c, alpn.c: engine callbacks installed when the
 * config is frozen (with its lock held) ---- */
int Sdtls_psk_install(sdtls_config *config);
int Sdtls_session_install(sdtls_config *config);

/* The session context of a connection (see session.c). */
void Sdtls_session_context(const sdtls_config *c, sdtls_role role, const char *server_name,
                           const sdtls_fingerprint *conn_pins, size_t n_conn_pins,
                           uint8_t out[32]);

/* The session in `bytes` (a reference the caller frees), or NULL if they
 * are not one. Repeated bytes reuse the session parsed last time. */
SSL_SESSION *Sdtls_session_import(sdtls_config *config, const uint8_t *bytes, size_t len);

/* Frees (and wipes) what Sdtls_session_import() keeps. */
void Sdtls_session_import_clear(sdtls_config *config);
int Sdtls_alpn_install(sdtls_config *config);

/* ---- engine_time.c ---- */

/* The engine reads time through SSL_CTX_set_current_time_cb with no SSL
 * pointer, so the caller's "now" is handed over through a thread-local slot
 * set around each engine call. */
#ifndef __cplusplus
/* initial-exec: a plain offset from the thread pointer instead of a
 * __tls_get_addr call, for 8 bytes of the static TLS surplus that glibc
 * keeps for libraries loaded later (a Python extension that embeds
 * libsdtls.a is one). Set inline: it is on every record's path. */
extern _Thread_local sdtls_time Sdtls_engine_now
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
static inline void Sdtls_engine_time_set(sdtls_time now) { Sdtls_engine_now = now; }
#endif
void Sdtls_engine_time_cb(const SSL *ssl, struct timeval *out);

/* ---- errors.c ---- */

/* Maps the engine's error queue (after a failed call on `ssl`) to an sdtls
 * error code and writes a human-readable detail into `detail`. Clears the
 * queue. */
int Sdtls_error_from_engine(SSL *ssl, int ssl_error, char *detail, size_t detail_len);

/* ---- conn.c ---- */

/* Server hooks: a connection made by sdtls_server routes its events to the
 * server instead of sdtls_callbacks, and the application's own calls on it
 * (send, close) are bracketed by enter/leave so the server cannot be freed
 * or reap the connection while that call runs. */
typedef struct sdtls_conn_hooks {
  int (*send)(void *owner, sdtls_conn *conn, const uint8_t *datagram, size_t len);
  void (*on_handshake_done)(void *owner, sdtls_conn *conn);
  void (*on_data)(void *owner, sdtls_conn *conn, const uint8_t *data, size_t len);
  void (*on_close)(void *owner, sdtls_conn *conn, int reason);
  /* The application called sdtls_conn_close() on the connection: the
   * server closes the peer as sdtls_server_close_peer() does. */
  int (*close)(void *owner, sdtls_conn *conn, sdtls_time now);
  /* Returns SDTLS_E_IN_CALLBACK inside the server's send callback, where
   * only queries are allowed; then the call must not go on (nor leave). */
  int (*enter)(void *owner);
  /* May reap and free the connection (and the server): the connection's
   * call must not touch it afterwards. */
  void (*leave)(void *owner);
  /* The connection's PSK lookup or key log is about to start (true) or
   * has ended (false): meanwhile the server refuses what the callback rule
   * refuses. Returns false (at the start) when no callback may be made:
   * the server is being freed. */
  bool (*engine_callback)(void *owner, bool running);
} sdtls_conn_hooks;

/* Creates a server-role connection owned by a server: events go to `hooks`
 * with `owner`; `addr` (copied) is the peer address. */
int Sdtls_conn_new_for_server(sdtls_config *config, const sdtls_conn_hooks *hooks, void *owner,
                              const uint8_t *addr, size_t addr_len, sdtls_conn **out);

/* A server's connection, before on_connect: its pins are `fps[0..n)`
 * (n >= 1, copied; the address's sdtls_server_pin_peer() pins). Returns 0
 * or SDTLS_E_NOMEM (then the connection is unchanged). */
int Sdtls_conn_set_pins(sdtls_conn *conn, const sdtls_fingerprint *fps, size_t n);

/* The server's own calls on a connection it owns (the public ones refuse a
 * server's connection, or hand it to the server): */
int Sdtls_conn_feed(sdtls_conn *conn, const uint8_t *datagram, size_t len, sdtls_time now);
int Sdtls_conn_tick(sdtls_conn *conn, sdtls_time now);
void Sdtls_conn_shutdown(sdtls_conn *conn, sdtls_time now);
void Sdtls_conn_destroy(sdtls_conn *conn);

/* The handshake finished and the connection is (or was, before a close)
 * connected: the negotiated parameters can be read. NULL gives false. */
bool Sdtls_conn_is_done(const sdtls_conn *conn);

/* The callbacks the engine makes from inside its own call (the PSK
 * lookup, the key log) are bracketed by these (see conn.c): begin returns
 * the connection, or NULL when the callback must not be made (the
 * connection is being freed or closed); end restores the engine's clock
 * from `saved_now`. */
sdtls_conn *Sdtls_conn_engine_callback_begin(const SSL *ssl, sdtls_time *saved_now);
void Sdtls_conn_engine_callback_end(sdtls_conn *conn, sdtls_time saved_now);
bool Sdtls_conn_in_engine_callback(const sdtls_conn *conn);
/* Asks for a close that the outermost call on `conn` applies on return. */
void Sdtls_conn_defer_close(sdtls_conn *conn, sdtls_time now);

/* Server, resumed PSK session: the identity is still one this config
 * accepts (its table, or its lookup asked again). psk.c. */
bool Sdtls_psk_still_known(sdtls_conn *conn);

/* The engine object, for the cookie hand-over glue. */
SSL *Sdtls_conn_engine(sdtls_conn *conn);

/* Client: the newest resumable session the engine handed over (DTLS 1.3
 * tickets arrive after the handshake), owned by the connection; NULL when
 * none. Setting one frees the one before. */
SSL_SESSION *Sdtls_conn_latest_session(const sdtls_conn *conn);
void Sdtls_conn_set_latest_session(sdtls_conn *conn, SSL_SESSION *session);

/* Last time the peer was heard from (idle eviction): the start of the
 * handshake, any datagram while it runs (the handshake deadline bounds
 * that), its end, and afterwards only a record that authenticated. */
sdtls_time Sdtls_conn_last_activity(const sdtls_conn *conn);

/* Handshake deadline, or SDTLS_TIME_NEVER once connected (with DTLS 1.3:
 * once the handshake's last flights are acknowledged). */
sdtls_time Sdtls_conn_handshake_deadline(const sdtls_conn *conn);

/* ---- engine glue (src/engine/) ---- */

/* Prepares a fresh server SSL object to accept a ClientHello that carried a
 * valid cookie after one HelloVerifyRequest: sets the next expected and the
 * next written handshake message_seq to `message_seq`, and the epoch-0 write
 * record sequence to continue after `record_seq` (see docs/design.md). Returns 1
 * on success, 0 when this engine layout has no glue. */
int Sdtls_engine_cookie_handover(SSL *ssl, uint16_t message_seq, uint64_t record_seq);
int Sdtls_engine_has_cookie_handover(void);

/* DTLS 1.3 stateless HelloRetryRequest cookies (RFC 9147 5.1), where the
 * glue knows the engine: */
/* 1 when the two functions below work with this engine. */
int Sdtls_engine_has_hrr_cookie(void);
/* The cipher suite (its IANA number) and key exchange group the engine will
 * choose, as a DTLS 1.3 server made from `ctx`, for a ClientHello with these
 * cipher_suites (the u16 list's bytes) and supported_groups (idem), and
 * whether that suite's hash is SHA-384. Returns 1, or 0 when there is no
 * shared one or the choice cannot be foreseen. */
int Sdtls_engine_tls13_choose(SSL_CTX *ctx, const uint8_t *cipher_suites,
                              size_t cipher_suites_len, const uint8_t *groups, size_t groups_len,
                              uint16_t *cipher, uint16_t *group, int *sha384);
/* Prepares a fresh server SSL object for the second ClientHello of an
 * exchange whose HelloRetryRequest sdtls sent statelessly: as
 * Sdtls_engine_cookie_handover(), and the handshake transcript begins with
 * `prefix` (message_hash of the first ClientHello and the HelloRetryRequest,
 * laid out as the engine's transcript buffer takes them). Returns 1 or 0. */
int Sdtls_engine_hrr_handover(SSL *ssl, uint16_t message_seq, uint64_t record_seq,
                              const uint8_t *prefix, size_t prefix_len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdtls — DTLS for datagrams, behind a small, stable C ABI.
 *
 * The library is sans-I/O: it never opens a socket and never reads a clock.
 * The application
 *   - feeds every received datagram with sdtls_conn_receive() (or
 *     sdtls_server_receive() for a server with many peers),
 *   - sends every datagram the library hands to its send callback,
 *   - passes the current time into every call that may need it, asks
 *     sdtls_conn_next_deadline() when the library next needs to act and calls
 *     sdtls_conn_handle_timeout() then.
 *
 * Time: every sdtls_time is a count of NANOSECONDS passed in by the caller;
 * it must never go backwards for one handle. The rule (what every binding
 * and the sdtls tool pass): nanoseconds since the UNIX epoch, read from
 * CLOCK_REALTIME once per process and advanced by CLOCK_MONOTONIC from then
 * on. Monotonic, so that timers (retransmission, idle and handshake
 * timeouts) never jump when the wall clock is stepped. On the epoch, because
 * session tickets and cookies carry the time: a server refuses a ticket
 * issued in its future and expires one past its lifetime, and a cookie is
 * valid in the time window it names; so servers that share a ticket or
 * cookie secret (other processes, other hosts) and clients that keep a
 * session past a restart need one time base, and the epoch is the one hosts
 * share (to within their clock synchronisation). A program that shares
 * nothing may pass any monotonic clock (a test's virtual one).
 * SDTLS_TIME_NEVER means "no deadline"; a deadline that would fall after it
 * is SDTLS_TIME_NEVER (deadlines saturate, they never wrap).
 *
 * Errors: functions return 0 (SDTLS_OK) or a negative SDTLS_E_* code, or a
 * documented value. sdtls_strerror() names each code, sdtls_error_category()
 * tells what kind of failure it is, and a connection keeps a human-readable
 * detail of its last failure (sdtls_conn_error_detail()).
 *
 * Threads: an sdtls_config is frozen when the first connection or server is
 * made from it and may then be shared by any number of threads. A connection
 * or server is used by one thread at a time (the caller serialises). Distinct
 * handles may be used from distinct threads at once.
 *
 * Callbacks: every callback (the send callbacks; the event callbacks
 * on_connect, on_handshake_done, on_data and on_close; the PSK lookup and
 * the key log) is called only from inside an sdtls call the application
 * made, on that thread: a connection's from inside a call on it (start,
 * receive, handle_timeout, send, key_update, close), a server's and its
 * connections' from inside a call on the server or on one of its
 * connections. The one rule for calls made from inside a callback, on the
 * handle that called it (a server and its connections count as one):
 *   - any callback may free the handle (sdtls_conn_free(),
 *     sdtls_server_free()) and make every query (sdtls_conn_state() ...).
 *     A free is deferred until the outer call returns, and no callback of
 *     any kind follows it: datagrams the engine still had to send are
 *     dropped;
 *   - the event callbacks may also call sdtls_conn_send(),
 *     sdtls_conn_key_update(), sdtls_conn_close() and
 *     sdtls_server_close_peer();
 *   - the PSK lookup and the key log, which run in the middle of the
 *     engine's handshake, may also call sdtls_conn_close() and
 *     sdtls_server_close_peer() on their connection (0 is returned): the
 *     close is applied when the outer call returns, and no event of that
 *     connection follows it but a server's on_close (SDTLS_E_CLOSED);
 *   - every other call on that handle returns SDTLS_E_IN_CALLBACK and
 *     changes nothing.
 *
 * Handles and their lifetimes (what language bindings and garbage
 * collectors rely on):
 *   - An sdtls_config is reference counted: connections and servers hold
 *     their own reference, so it may be freed before them, in any order.
 *   - A connection made with sdtls_conn_new() and a server are freed by the
 *     caller, exactly once.
 *   - A server's connections (handed out by its callbacks) belong to the
 *     server: sdtls_conn_free() on one is ignored; sdtls_conn_close() on one
 *     is sdtls_server_close_peer(); sdtls_conn_start(), sdtls_conn_receive()
 *     and sdtls_conn_handle_timeout() on one return SDTLS_E_STATE (the server
 *     feeds it and runs its timers). Such a pointer is valid from on_connect
 *     until its on_close returns or the server is freed.
 *   - Caught and refused: NULL handles and arguments, calls from callbacks
 *     (above), frees from callbacks (deferred), the calls on a server's
 *     connections above. Undefined behaviour, not caught: using a handle
 *     after it was freed (a second free included), using a server's
 *     connection after its on_close returned or after its server was
 *     freed, and using one connection or server from two threads at once.
 *
 * ABI: only the functions and the frozen values of this header are part of
 * the ABI. Option and error values are never renumbered or reused. Structs
 * passed in carry their size as first member, so fields can be appended
 * later.
 */
#ifndef SDTLS_H
#define SDTLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SDTLS_EXTERN __attribute__((visibility("default")))
#else
#define SDTLS_EXTERN
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define SDTLS_VERSION_MAJOR 0
#define SDTLS_VERSION_MINOR 1
#define SDTLS_VERSION_PATCH 0
#define SDTLS_VERSION_STRING "0.1.0"
/* (major << 16) | (minor << 8) | patch */
#define SDTLS_VERSION_NUMBER \
  ((SDTLS_VERSION_MAJOR << 16) | (SDTLS_VERSION_MINOR << 8) | SDTLS_VERSION_PATCH)

/* Returns the library's version number as SDTLS_VERSION_NUMBER encodes it,
 * which may differ from the header's when a newer library is loaded.
 * If `string` is not NULL, *string is set to a static version string that
 * also names the embedded engine ("0.1.0 (BoringSSL ...)"); do not free it.
 * Thread-safe. */
SDTLS_EXTERN uint32_t sdtls_version(const char **string);

/* Features of the linked engine, for sdtls_has_feature(). Values are frozen. */
typedef enum sdtls_feature {
  SDTLS_FEATURE_DTLS1_2 = 1,
  SDTLS_FEATURE_DTLS1_3 = 2,
  /* sdtls_server can hand a cookie-verified ClientHello to the engine
   * (DTLS 1.2's HelloVerifyRequest; with an engine that speaks DTLS 1.3,
   * also its HelloRetryRequest cookie). */
  SDTLS_FEATURE_COOKIE_EXCHANGE = 3,
  /* Since SDTLS_1.1: DTLS-SRTP keying, pre-shared keys, session resumption
   * with tickets, ALPN. */
  SDTLS_FEATURE_SRTP = 4,
  SDTLS_FEATURE_PSK = 5,
  SDTLS_FEATURE_RESUMPTION = 6,
  SDTLS_FEATURE_ALPN = 7
} sdtls_feature;

/* Returns 1 if the linked library and engine support `feature`, else 0.
 * Thread-safe. */
SDTLS_EXTERN int sdtls_has_feature(sdtls_feature feature);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

#define SDTLS_OK 0
#define SDTLS_E_INVALID_ARGUMENT (-1) /* NULL handle, bad length, bad value */
#define SDTLS_E_NOMEM (-2)            /* allocation failed */
#define SDTLS_E_AGAIN (-3)            /* nothing to do yet; not an error */
#define SDTLS_E_STATE (-4)            /* call not valid in this state (order) */
#define SDTLS_E_IN_CALLBACK (-5)      /* call not allowed inside a callback */
#define SDTLS_E_CLOSED (-6)           /* connection is closed (close_notify) */
#define SDTLS_E_ALERT (-7)            /* peer sent a fatal alert */
#define SDTLS_E_VERIFY (-8)           /* peer certificate verification failed */
#define SDTLS_E_TIMEOUT (-9)          /* handshake did not finish in time */
#define SDTLS_E_PROTOCOL (-10)        /* peer violated the protocol */
#define SDTLS_E_TOO_BIG (-11)         /* message does not fit one record */
#define SDTLS_E_FILE (-12)            /* file could not be read */
#define SDTLS_E_CREDENTIALS (-13)     /* bad certificate, key or trust data */
#define SDTLS_E_FROZEN (-14)          /* config is in use and cannot change */
#define SDTLS_E_UNSUPPORTED (-15)     /* the linked engine cannot do this */
#define SDTLS_E_LIMIT (-16)           /* a configured limit was reached */
#define SDTLS_E_INTERNAL (-17)        /* bug or engine failure */

/* Categories a caller can branch on; values are frozen. */
typedef enum sdtls_category {
  SDTLS_CATEGORY_NONE = 0,     /* SDTLS_OK */
  SDTLS_CATEGORY_AGAIN = 1,    /* retry later; nothing failed */
  SDTLS_CATEGORY_CLOSED = 2,   /* orderly end */
  SDTLS_CATEGORY_ALERT = 3,    /* the peer ended it with an alert */
  SDTLS_CATEGORY_VERIFY = 4,   /* authentication failed */
  SDTLS_CATEGORY_TIMEOUT = 5,  /* the peer did not answer in time */
  SDTLS_CATEGORY_PROTOCOL = 6, /* the peer misbehaved */
  SDTLS_CATEGORY_USAGE = 7,    /* the caller misused the API or gave bad input */
  SDTLS_CATEGORY_INTERNAL = 8  /* resources or a bug */
} sdtls_category;

/* Returns a static, human-readable name for an error code ("unknown error"
 * for values not listed above). Never NULL; do not free. Thread-safe. */
SDTLS_EXTERN const char *sdtls_strerror(int err);

/* Returns the category of an error code. Thread-safe. */
SDTLS_EXTERN sdtls_category sdtls_error_category(int err);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */
/* ------------------------------------------------------------------------ */

typedef uint64_t sdtls_time; /* nanoseconds, the caller's (see "Time" above) */
#define SDTLS_TIME_NEVER UINT64_MAX

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

/* Every setter either succeeds or returns an error and leaves the config
 * exactly as it was: new credentials are parsed and checked aside and only
 * then put in place. */
typedef struct sdtls_config sdtls_config;

/* Creates a configuration with the secure defaults: DTLS 1.2 and later,
 * ECDHE key exchange with AEAD ciphers only, peer verification on (a client
 * checks the server's chain and name), renegotiation off.
 * On success stores a new handle in *out (owned by the caller; release with
 * sdtls_config_free()) and returns 0; otherwise SDTLS_E_INVALID_ARGUMENT or
 * SDTLS_E_NOMEM. Thread-safe. */
SDTLS_EXTERN int sdtls_config_new(sdtls_config **out);

/* Drops the caller's reference. Connections and servers made from the config
 * hold their own, so it may be freed while they live. NULL is ignored.
 * Thread-safe (reference counted). */
SDTLS_EXTERN void sdtls_config_free(sdtls_config *config);

/* Integer options for sdtls_config_set_option(). Values are frozen. */
typedef enum sdtls_option {
  /* 1 (default): verify the peer's certificate chain against the trust
   * store, and a client checks the server name given to
   * sdtls_conn_set_server_name(). 0: accept any peer certificate
   * (insecure; for tests and fingerprint-pinned deployments). */
  SDTLS_OPT_VERIFY_PEER = 1,
  /* Server: 1 asks for and requires a client certificate (verified against
   * the trust store when SDTLS_OPT_VERIFY_PEER is 1). Default 0. */
  SDTLS_OPT_REQUIRE_CLIENT_CERT = 2,
  /* Largest datagram the library sends, in bytes (UDP payload), 256..65507.
   * Handshake messages are fragmented to fit. Default 1200. */
  SDTLS_OPT_MTU = 3,
  /* First retransmission timeout in milliseconds, doubled after each
   * retransmission (capped by the engine at 60 s). 10..60000; default 1000. */
  SDTLS_OPT_INITIAL_TIMEOUT_MS = 4,
  /* A handshake not finished this many milliseconds after it started fails
   * with SDTLS_E_TIMEOUT; with DTLS 1.3 also a connection whose peer has
   * not acknowledged the handshake's last flight (Finished, tickets) by
   * then. A client whose server asked for a cookie starts a handshake
   * that a damaged datagram broke over from a fresh ClientHello (at most
   * twice) within this time; a failure that damage can cause (a
   * certificate that does not verify, a message that does not parse) is
   * then reported after one retry. 100..3600000; default 30000. */
  SDTLS_OPT_HANDSHAKE_TIMEOUT_MS = 5,
  /* Protocol version range as wire numbers: SDTLS_DTLS1_2 (0xfefd) or
   * SDTLS_DTLS1_3 (0xfefc). Defaults: min 1.2, max the newest the engine
   * speaks. DTLS 1.0 is not available. */
  SDTLS_OPT_MIN_VERSION = 6,
  SDTLS_OPT_MAX_VERSION = 7,
  /* Server (sdtls_server): 1 (default) answers a ClientHello without a valid
   * cookie with a stateless HelloVerifyRequest (DTLS 1.2), or, when it
   * offers DTLS 1.3 and the engine speaks it, a stateless HelloRetryRequest
   * with a cookie (RFC 9147 5.1). 0 switches the cookie
   * exchange off: only for deployments that verify the peer's address
   * another way (ICE in WebRTC), since without it a spoofed ClientHello
   * makes the server keep state and send a large flight. */
  SDTLS_OPT_COOKIES = 8,
  /* Server: most connections at once (handshaking or established). A
   * verified ClientHello beyond it is dropped. 1..1000000; default 1024. */
  SDTLS_OPT_MAX_PEERS = 9,
  /* Server: most connections still in their handshake. Default 256.
   * It also bounds the ClientHellos the server reassembles from addresses
   * without a connection (one that spans datagrams, as an X25519MLKEM768
   * one does): min(this, 256) addresses at once, at most 8 KiB each, for at
   * most 3 s. When that budget is full a new one evicts another, drawn at
   * random (under a per-server secret) from the older half of them, among
   * those whose network (the /24 of an IPv4 or IPv4-mapped address, the /64
   * of an IPv6 one) has the most in reassembly. So a reassembly outlives
   * half a budget of newer ones, whatever their source; spoofed first
   * fragments from fewer networks than half the budget (less the clients'
   * reassemblies in progress) never evict a client's that is alone in its
   * network, at any rate; past the half budget, a spoofer who forges any
   * source address evicts it with k more with a probability of about
   * 1 - exp(-2k / budget), drawn anew at each retransmission (one who
   * forges addresses in the client's own network, with a few more). */
  SDTLS_OPT_MAX_HANDSHAKES = 10,
  /* Server: a connection that has not heard from its peer for this many
   * milliseconds is evicted. Once connected, only a record that
   * authenticates counts (a spoofer's junk from the peer's address does
   * not); during the handshake any datagram does (the handshake timeout
   * bounds it). 0 disables; default 300000 (5 minutes). */
  SDTLS_OPT_IDLE_TIMEOUT_MS = 11,
  /* Server: how long a cookie stays valid, in milliseconds (it is accepted
   * for between one and two such periods). 1000..3600000; default 60000. */
  SDTLS_OPT_COOKIE_LIFETIME_MS = 12,
  /* Since SDTLS_1.1. PSK: 1 also allows the engine's PSK suites without
   * AEAD (CBC with HMAC: PSK-AES128-CBC-SHA, ECDHE-PSK-AES128-CBC-SHA ...),
   * for constrained peers that have nothing else. Default 0: with a PSK
   * only ECDHE-PSK-CHACHA20-POLY1305 is offered. */
  SDTLS_OPT_PSK_ALLOW_CBC = 13,
  /* Since SDTLS_1.1. Server: 1 (default) issues session tickets (RFC 5077)
   * so clients can resume (sdtls_conn_set_session()); 0 issues none. */
  SDTLS_OPT_SESSION_TICKETS = 14
} sdtls_option;

#define SDTLS_DTLS1_2 0xfefd
#define SDTLS_DTLS1_3 0xfefc

/* Sets an integer option. Returns 0, SDTLS_E_INVALID_ARGUMENT (unknown option
 * or value out of range), SDTLS_E_UNSUPPORTED (e.g. a version the engine does
 * not speak) or SDTLS_E_FROZEN (the config is already in use).
 * Not thread-safe until frozen (configure from one thread). */
SDTLS_EXTERN int sdtls_config_set_option(sdtls_config *config, sdtls_option option,
                                         int64_t value);

/* Reads an integer option's current value into *value. Returns 0 or
 * SDTLS_E_INVALID_ARGUMENT. Thread-safe once frozen. */
SDTLS_EXTERN int sdtls_config_get_option(const sdtls_config *config, sdtls_option option,
                                         int64_t *value);

/* Sets this endpoint's certificate chain and private key (ECDSA or RSA) from
 * PEM files: `cert_path` holds the leaf first, then any intermediates. The
 * paths are read during the call. Replaces the certificate, chain and key
 * set before. Returns 0, SDTLS_E_FILE (cannot read), SDTLS_E_CREDENTIALS (no
 * certificate, a damaged certificate anywhere in the chain, no usable ECDSA
 * or RSA key, or a key that does not match the certificate),
 * SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_certificate_file(sdtls_config *config, const char *cert_path,
                                                   const char *key_path);

/* Same as sdtls_config_set_certificate_file() from PEM bytes in memory; the
 * bytes are copied (the caller keeps ownership). Returns 0,
 * SDTLS_E_CREDENTIALS, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or
 * SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_certificate_pem(sdtls_config *config, const uint8_t *cert_pem,
                                                  size_t cert_len, const uint8_t *key_pem,
                                                  size_t key_len);

/* Adds trusted CA certificates from a PEM file (`ca_file`) and/or a hashed
 * directory as made by `openssl rehash` (`ca_dir`); either may be NULL, not
 * both. Returns 0, SDTLS_E_FILE (a file that cannot be read, a directory
 * that is not there), SDTLS_E_CREDENTIALS (no certificate in the file, or
 * a damaged one: then none of them is added), SDTLS_E_INVALID_ARGUMENT,
 * SDTLS_E_NOMEM or SDTLS_E_FROZEN. Without trust anchors, verification
 * fails unless SDTLS_OPT_VERIFY_PEER is 0.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_ca(sdtls_config *config, const char *ca_file,
                                     const char *ca_dir);

/* Adds trusted CA certificates from PEM bytes (copied). Returns 0,
 * SDTLS_E_CREDENTIALS (no certificate, or a damaged one: then none of them
 * is added), SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_ca_pem(sdtls_config *config, const uint8_t *pem, size_t len);

/* Restricts the cipher suites to an engine cipher string (OpenSSL syntax,
 * e.g. "ECDHE-ECDSA-AES128-GCM-SHA256"). The string is copied. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT (no suite matched, or a non-AEAD suite asked
 * for) or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_ciphers(sdtls_config *config, const char *ciphers);

/* Key logging (NSS key log format, for Wireshark): when set, `cb` is called
 * with one line (no newline, NUL-terminated, valid during the call) per
 * secret, from inside whichever sdtls call drives a handshake, on that
 * thread (the callback must be safe to call from every thread that drives
 * connections of this config), under the callback rule at the top of this
 * header (sdtls(3)). Off by default. `cb` NULL switches it off;
 * `user_data` is passed back and never freed. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
typedef void (*sdtls_keylog_cb)(void *user_data, const char *line);
SDTLS_EXTERN int sdtls_config_set_keylog(sdtls_config *config, sdtls_keylog_cb cb,
                                         void *user_data);

/* ------------------------------------------------------------------------ */
/* Certificates                                                              */
/* ------------------------------------------------------------------------ */

/* Creates a self-signed ECDSA P-256 certificate for `common_name` (also its
 * DNS subjectAltName), valid from one hour ago for `days` days (1..36500),
 * and its private key. On success sets *cert_pem and *key_pem to
 * NUL-terminated PEM strings allocated by the library (the caller owns them
 * and releases them with sdtls_free(), which wipes them) and returns 0; otherwise
 * SDTLS_E_INVALID_ARGUMENT or SDTLS_E_NOMEM, and sets nothing.
 * Thread-safe. */
SDTLS_EXTERN int sdtls_certificate_generate(const char *common_name, unsigned days,
                                            char **cert_pem, char **key_pem);

/* Writes the SHA-256 digest of the DER form of the first certificate in
 * `pem` into out[0..31]. Returns 0, SDTLS_E_CREDENTIALS (no certificate) or
 * SDTLS_E_INVALID_ARGUMENT. Thread-safe. */
SDTLS_EXTERN int sdtls_certificate_fingerprint_sha256(const uint8_t *pem, size_t len,
                                                      uint8_t out[32]);

/* Formats a 32-byte SHA-256 digest the way SDP (RFC 8122) writes
 * fingerprints, "AA:BB:..." (95 characters and a NUL), into `out`, which
 * holds `out_len` bytes (at least 96). Returns 0 or SDTLS_E_INVALID_ARGUMENT.
 * Thread-safe. */
SDTLS_EXTERN int sdtls_fingerprint_format(const uint8_t digest[32], char *out, size_t out_len);

/* Releases memory the library allocated for the caller, wiping it first.
 * NULL is ignored. Thread-safe. */
SDTLS_EXTERN void sdtls_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Connection                                                                */
/* ------------------------------------------------------------------------ */

typedef struct sdtls_conn sdtls_conn;

typedef enum sdtls_role { SDTLS_ROLE_CLIENT = 0, SDTLS_ROLE_SERVER = 1 } sdtls_role;

typedef enum sdtls_state {
  SDTLS_STATE_NEW = 0,         /* created, handshake not started */
  SDTLS_STATE_HANDSHAKING = 1, /* handshake in progress */
  SDTLS_STATE_CONNECTED = 2,   /* handshake done; data flows */
  SDTLS_STATE_CLOSED = 3,      /* close_notify sent or received */
  SDTLS_STATE_FAILED = 4       /* fatal error; see sdtls_conn_error() */
} sdtls_state;

/* The application's side of a connection. Set `size` to
 * sizeof(sdtls_callbacks); members added in later versions are appended,
 * and a library given a smaller size treats the missing ones as NULL.
 * Every callback receives the `user_data` given to sdtls_conn_new(). */
typedef struct sdtls_callbacks {
  size_t size;
  /* Required. Send one datagram (at most SDTLS_OPT_MTU bytes) to the peer.
   * The bytes are valid during the call only. Return 0, or a negative value
   * if it could not be sent: the datagram then counts as lost (handshake
   * flights are retransmitted; application data never is). */
  int (*send)(void *user_data, const uint8_t *datagram, size_t len);
  /* Optional. The handshake finished; the peer is authenticated. */
  void (*on_handshake_done)(void *user_data);
  /* Optional. One application datagram from the peer, boundaries kept
   * (one record = one call). Valid during the call only. */
  void (*on_data)(void *user_data, const uint8_t *data, size_t len);
  /* Optional. The connection ended: `reason` is 0 after the peer's
   * close_notify, otherwise the negative error that ended it (details in
   * sdtls_conn_error_detail()). Called at most once, and not for a close the
   * application asked for with sdtls_conn_close(). */
  void (*on_close)(void *user_data, int reason);
} sdtls_callbacks;

/* Creates a connection in SDTLS_STATE_NEW. `config` is frozen and
 * referenced; `callbacks` is copied; `user_data` is passed back to every
 * callback and not otherwise touched. Stores the handle in *out (owned by
 * the caller; release with sdtls_conn_free()).
 * Returns 0, SDTLS_E_INVALID_ARGUMENT (NULL, no send callback, bad role),
 * SDTLS_E_CREDENTIALS (a server role without a certificate) or SDTLS_E_NOMEM.
 * Thread-safe with respect to `config`. */
SDTLS_EXTERN int sdtls_conn_new(sdtls_config *config, sdtls_role role,
                                const sdtls_callbacks *callbacks, void *user_data,
                                sdtls_conn **out);

/* Frees the connection without sending anything (call sdtls_conn_close()
 * first for an orderly end). Key material is wiped. NULL is ignored, and so
 * is a server's connection (its server frees it). Inside one of this
 * connection's callbacks, the send callback included, the free is deferred
 * until the sdtls call that made the callback returns, and no further
 * callback is made.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN void sdtls_conn_free(sdtls_conn *conn);

/* Client: the name to send (SNI, host names only) and, when
 * SDTLS_OPT_VERIFY_PEER is 1, the name the server's certificate must hold
 * (DNS name or IP address). The string (1..255 bytes) is copied; a later
 * call replaces it wholly. Only in SDTLS_STATE_NEW. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT, SDTLS_E_STATE (started, or not a client) or
 * SDTLS_E_IN_CALLBACK. A verifying client with no server name fails to
 * start (SDTLS_E_STATE).
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_set_server_name(sdtls_conn *conn, const char *name);

/* Starts the handshake at time `now`. A client sends its first flight
 * through the send callback; a server waits for the peer's ClientHello
 * (sdtls_conn_receive() also starts a server; for a server sdtls_conn_start()
 * does nothing). Returns 0, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_IN_CALLBACK,
 * SDTLS_E_STATE (not NEW, a server's connection, or a verifying client
 * without a server name), SDTLS_E_NOMEM, or an error that also moves the
 * connection to FAILED.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_start(sdtls_conn *conn, sdtls_time now);

/* Feeds one datagram received from the peer, at time `now`. Handshake
 * progress, application data (on_data) and the end of the connection
 * (on_close) are reported through the callbacks during this call. Records
 * that fail authentication, replays and stale retransmissions are dropped
 * silently, as RFC 6347 asks. The bytes are not retained.
 * An empty datagram is ignored.
 * Returns 0 (also when records were dropped), SDTLS_E_INVALID_ARGUMENT,
 * SDTLS_E_IN_CALLBACK, SDTLS_E_STATE (a client not yet started, or a
 * server's connection), SDTLS_E_CLOSED / the failure's code if the
 * connection has ended, or the error that ended it now (also reported to
 * on_close).
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_receive(sdtls_conn *conn, const uint8_t *datagram, size_t len,
                                    sdtls_time now);

/* Sends `len` bytes as one record in one datagram. Returns 0,
 * SDTLS_E_STATE (handshake not finished), SDTLS_E_CLOSED / the failure's
 * code if the connection has ended, SDTLS_E_TOO_BIG (more than
 * sdtls_conn_max_data_size() bytes; nothing is sent),
 * SDTLS_E_INVALID_ARGUMENT or SDTLS_E_IN_CALLBACK (inside the send
 * callback). A zero-length send on a connected connection sends nothing and
 * returns 0.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_send(sdtls_conn *conn, const uint8_t *data, size_t len,
                                 sdtls_time now);

/* The largest `len` that sdtls_conn_send() accepts now (depends on the MTU
 * and the negotiated cipher), or 0 before the handshake is done.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN size_t sdtls_conn_max_data_size(const sdtls_conn *conn);

/* The next time at which sdtls_conn_handle_timeout() must be called, or
 * SDTLS_TIME_NEVER. Changes after every call that moves the connection on:
 * ask again after each.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN sdtls_time sdtls_conn_next_deadline(const sdtls_conn *conn);

/* Acts on expired timers at time `now`: retransmits the last flight, or
 * fails the connection with SDTLS_E_TIMEOUT once the handshake deadline has
 * passed (reported to on_close too). Calling it early is harmless.
 * Returns 0, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_IN_CALLBACK, SDTLS_E_STATE (a
 * server's connection: its server runs its timers), or the error that
 * ended the connection.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_handle_timeout(sdtls_conn *conn, sdtls_time now);

/* Sends close_notify (when connected) and moves to SDTLS_STATE_CLOSED; a
 * FAILED connection stays FAILED. No callback follows, except for a
 * server's connection, where this is sdtls_server_close_peer() (on_close
 * with SDTLS_E_CLOSED, then the server frees it). Returns 0,
 * SDTLS_E_INVALID_ARGUMENT or SDTLS_E_IN_CALLBACK (inside the send
 * callback); closing twice is harmless.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_close(sdtls_conn *conn, sdtls_time now);

/* Queries, sdtls_conn_state() to sdtls_conn_get_app_data(): each may be
 * called at any time, also inside callbacks, from the thread that uses the
 * connection; a returned string is owned by the connection (do not free
 * it). */

/* The connection's state (SDTLS_STATE_FAILED for NULL).
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN sdtls_state sdtls_conn_state(const sdtls_conn *conn);

/* The role given to sdtls_conn_new() (servers make server roles).
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN sdtls_role sdtls_conn_role(const sdtls_conn *conn);

/* The error that moved the connection to FAILED (or SDTLS_E_CLOSED after a
 * close), 0 while it is healthy, SDTLS_E_INVALID_ARGUMENT for NULL.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_error(const sdtls_conn *conn);

/* Human-readable detail of the last failure: the alert's name, the
 * verification failure, the engine's reason; "" when there is none. Valid
 * until the connection is freed; the text may change at the next failure.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN const char *sdtls_conn_error_detail(const sdtls_conn *conn);

/* Negotiated protocol ("DTLSv1.2"), or NULL before the handshake is done.
 * A static string.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN const char *sdtls_conn_version(const sdtls_conn *conn);

/* Negotiated cipher suite in IANA naming
 * ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), or NULL before the handshake
 * is done. A static string.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN const char *sdtls_conn_cipher(const sdtls_conn *conn);

/* The peer's leaf certificate in DER. On success sets *der (owned by the
 * connection, valid until it is freed) and *len and returns 0; returns
 * SDTLS_E_STATE when the peer sent none or the handshake is not done.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_peer_certificate(const sdtls_conn *conn, const uint8_t **der,
                                             size_t *len);

/* Writes the SHA-256 digest of the peer's leaf certificate (DER) into
 * out[0..31]. Returns 0, SDTLS_E_STATE (no peer certificate) or
 * SDTLS_E_INVALID_ARGUMENT.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_peer_fingerprint_sha256(const sdtls_conn *conn, uint8_t out[32]);

/* RFC 5705 keying material exporter: fills out[0..out_len) from the
 * connection's master secret, `label` (bytes, copied) and an optional
 * `context` (NULL = no context, which in DTLS 1.2 differs from an empty one;
 * in DTLS 1.3 the two are the same, RFC 8446 7.5).
 * Only once connected. Returns 0, SDTLS_E_STATE or SDTLS_E_INVALID_ARGUMENT.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_export_keying_material(const sdtls_conn *conn, uint8_t *out,
                                                   size_t out_len, const char *label,
                                                   size_t label_len, const uint8_t *context,
                                                   size_t context_len);

/* A pointer the application may hang on the connection (servers hand out
 * connections they create; this is where their per-peer state goes). The
 * library never dereferences or frees it. NULL conn is ignored.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN void sdtls_conn_set_app_data(sdtls_conn *conn, void *app_data);

/* The pointer last given to sdtls_conn_set_app_data(), or NULL.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN void *sdtls_conn_get_app_data(const sdtls_conn *conn);

/* ------------------------------------------------------------------------ */
/* DTLS-SRTP keying (RFC 5764). Since SDTLS_1.1.                             */
/* ------------------------------------------------------------------------ */

/* SRTP protection profiles, by their IANA numbers (frozen). */
#define SDTLS_SRTP_AES128_CM_SHA1_80 0x0001
#define SDTLS_SRTP_AES128_CM_SHA1_32 0x0002
#define SDTLS_SRTP_AEAD_AES_128_GCM 0x0007
#define SDTLS_SRTP_AEAD_AES_256_GCM 0x0008

/* Offers (client) or accepts (server) the use_srtp extension with these
 * profiles, most preferred first: their names joined by ':', e.g.
 * "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80" (the names are the
 * SDTLS_SRTP_* macros without "SDTLS_"), each at most once (so at most
 * the four profiles). The string is copied. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT (NULL, empty, an unknown name, a name twice),
 * SDTLS_E_NOMEM or SDTLS_E_FROZEN. Thread-safety: configure from one
 * thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_srtp_profiles(sdtls_config *config, const char *profiles);

/* The same as an array of names, `names[0..n)` ("SRTP_AEAD_AES_128_GCM"),
 * most preferred first (since SDTLS_1.2): names, like the string form and
 * SDP, so that every list setter takes the same kind of array
 * (sdtls_srtp_profile_name() gives a number's name). A name that is empty,
 * longer than 255 bytes or holds ',' or ':' is refused, as are NULL,
 * n == 0 and an unknown name; a refused call leaves the config unchanged.
 * Returns 0, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_srtp_profiles_list(sdtls_config *config,
                                                     const char *const *names, size_t n);

/* The negotiated SRTP profile (SDTLS_SRTP_*), or 0 when none was (no
 * use_srtp, or the handshake is not done). Thread-safety: one thread at a
 * time per connection. */
SDTLS_EXTERN int sdtls_conn_srtp_profile(const sdtls_conn *conn);

/* The name of an SRTP profile ("SRTP_AES128_CM_SHA1_80"), or NULL for an
 * unknown one. A static string. Thread-safe. */
SDTLS_EXTERN const char *sdtls_srtp_profile_name(int profile);

/* Longest master key followed by master salt of any profile: 32 + 14. */
#define SDTLS_SRTP_MAX_MASTER_LEN 46

/* SRTP master keys and salts as SRTP stacks take them (libsrtp's policy
 * key, GStreamer's srtp-key...): each array holds the master key
 * (`key_len` bytes) immediately followed by the master salt (`salt_len`
 * bytes). Set `size` to sizeof(sdtls_srtp_keying); fields added later are
 * appended. */
typedef struct sdtls_srtp_keying {
  size_t size;
  int profile;     /* SDTLS_SRTP_* */
  size_t key_len;  /* 16 or 32 */
  size_t salt_len; /* 14 (AES-CM) or 12 (AEAD) */
  uint8_t client_write[SDTLS_SRTP_MAX_MASTER_LEN]; /* protects the client's packets */
  uint8_t server_write[SDTLS_SRTP_MAX_MASTER_LEN]; /* protects the server's packets */
  uint8_t local_write[SDTLS_SRTP_MAX_MASTER_LEN];  /* this endpoint's: protect with it */
  uint8_t remote_write[SDTLS_SRTP_MAX_MASTER_LEN]; /* the peer's: unprotect with it */
} sdtls_srtp_keying;

/* Fills `*out` (its `size` set by the caller) with the SRTP keying material
 * of the negotiated profile, exported as RFC 5764 4.2 says
 * ("EXTRACTOR-dtls_srtp") and split by direction. The caller owns the
 * secrets in *out and should wipe them when done. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT (NULL, or `size` smaller than the first
 * version's struct) or SDTLS_E_STATE (not connected, or no profile was
 * negotiated). Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN int sdtls_conn_srtp_keying(const sdtls_conn *conn, sdtls_srtp_keying *out);

/* ------------------------------------------------------------------------ */
/* Peer certificate fingerprints (WebRTC, RFC 8122). Since SDTLS_1.1.        */
/* ------------------------------------------------------------------------ */

/* Expects the peer's certificate to have this fingerprint, given as SDP's
 * a=fingerprint writes it: "sha-256 AB:CD:..." (32 hex pairs, any case;
 * "sha-256:AB:CD:..." is accepted too; since SDTLS_1.2 also sha-384,
 * sha-512 and the bare form: whatever sdtls_fingerprint_parse() takes). Once a config or a connection has
 * an expected fingerprint, the peer must present a certificate (a server
 * asks the client for one) whose digest matches one of those set on the
 * config or the connection, and that check replaces the CA chain and name
 * check. A mismatch fails the handshake with SDTLS_E_VERIFY, and the error
 * detail names the peer's fingerprint and the expected one. At most 16 per
 * config and per connection. Returns 0, SDTLS_E_INVALID_ARGUMENT (NULL, not
 * a sha-256 fingerprint), SDTLS_E_UNSUPPORTED (another hash function),
 * SDTLS_E_LIMIT or SDTLS_E_FROZEN. Thread-safety: configure from one thread,
 * before the config is shared. */
SDTLS_EXTERN int sdtls_config_add_peer_fingerprint(sdtls_config *config, const char *fingerprint);

/* The same for one connection (WebRTC: each peer's SDP brings its own), in
 * SDTLS_STATE_NEW only (a server's connection: from on_connect). Returns 0,
 * SDTLS_E_INVALID_ARGUMENT, SDTLS_E_UNSUPPORTED, SDTLS_E_LIMIT (as
 * sdtls_config_add_peer_fingerprint() does), SDTLS_E_NOMEM, SDTLS_E_STATE
 * or SDTLS_E_IN_CALLBACK.
 * Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN int sdtls_conn_add_peer_fingerprint(sdtls_conn *conn, const char *fingerprint);

/* Since SDTLS_1.2: fingerprints with any of RFC 8122's current hashes, in
 * any of the forms peers write them. Before 1.2 the pins above took only
 * "sha-256 ..." / "sha-256:..." and SDTLS_E_UNSUPPORTED for sha-384 and
 * sha-512; since 1.2 they take every form sdtls_fingerprint_parse() does. */

/* The hash functions of a fingerprint (their values are frozen). */
#define SDTLS_HASH_SHA256 1
#define SDTLS_HASH_SHA384 2
#define SDTLS_HASH_SHA512 3

/* The longest digest (sha-512) and the longest text form with its NUL
 * ("sha-512 " and 64 hex pairs joined by ':'). */
#define SDTLS_FINGERPRINT_MAX_DIGEST 64
#define SDTLS_FINGERPRINT_MAX_TEXT 200

/* Text forms for sdtls_fingerprint_format_hash(). */
#define SDTLS_FINGERPRINT_SDP 0  /* "sha-256 AB:CD:..." (RFC 8122 a=fingerprint) */
#define SDTLS_FINGERPRINT_BARE 1 /* "AB:CD:..." */

/* Parses a fingerprint written as SDP writes it ("sha-256 AB:CD:..."), with
 * a colon after the hash's name ("sha-256:AB:CD:...") or bare ("AB:CD:...",
 * the hash then follows from the length: 32, 48 or 64 hex pairs are sha-256,
 * sha-384, sha-512). Hash names and hex digits in any case; nothing else
 * (no spaces around, no missing colons). On success sets *hash
 * (SDTLS_HASH_*), digest[0..*digest_len) (`digest` holds
 * SDTLS_FINGERPRINT_MAX_DIGEST bytes) and returns 0; returns
 * SDTLS_E_UNSUPPORTED for a hash named by RFC 8122 that is not taken
 * ("sha-1", "md5"...) and SDTLS_E_INVALID_ARGUMENT for anything else that
 * is no fingerprint (or a NULL argument); then sets nothing. The caller owns
 * every buffer. Thread-safe. */
SDTLS_EXTERN int sdtls_fingerprint_parse(const char *text, int *hash, uint8_t *digest,
                                         size_t *digest_len);

/* Formats a digest of hash `hash` (SDTLS_HASH_*, `digest_len` its length)
 * in the form `form` (SDTLS_FINGERPRINT_SDP: "sha-256 AB:CD:...",
 * SDTLS_FINGERPRINT_BARE: "AB:CD:..."), upper-case hex, NUL-terminated,
 * into `out`, which holds `out_len` bytes (SDTLS_FINGERPRINT_MAX_TEXT is
 * always enough). Returns 0 or SDTLS_E_INVALID_ARGUMENT (NULL, an unknown
 * hash or form, a length that is not the hash's, `out` too small: then
 * `out` is untouched). The caller owns the buffers. Thread-safe. */
SDTLS_EXTERN int sdtls_fingerprint_format_hash(int hash, const uint8_t *digest, size_t digest_len,
                                               int form, char *out, size_t out_len);

/* Writes the `hash` (SDTLS_HASH_*) digest of the DER form of the first
 * certificate in `pem` (`len` bytes) into `digest`, which holds
 * SDTLS_FINGERPRINT_MAX_DIGEST bytes, and its length into *digest_len.
 * Returns 0, SDTLS_E_CREDENTIALS (no certificate), SDTLS_E_NOMEM or
 * SDTLS_E_INVALID_ARGUMENT (NULL, an unknown hash). The caller owns the
 * buffers. Thread-safe. */
SDTLS_EXTERN int sdtls_certificate_fingerprint(const uint8_t *pem, size_t len, int hash,
                                               uint8_t *digest, size_t *digest_len);

/* Writes the `hash` (SDTLS_HASH_*) digest of the peer's leaf certificate
 * (DER) into `digest`, which holds SDTLS_FINGERPRINT_MAX_DIGEST bytes, and
 * its length into *digest_len. Returns 0, SDTLS_E_STATE (no peer certificate, or
 * the handshake is not done) or SDTLS_E_INVALID_ARGUMENT (NULL, an unknown
 * hash). The caller owns the buffers.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_peer_fingerprint(const sdtls_conn *conn, int hash, uint8_t *digest,
                                             size_t *digest_len);

/* ------------------------------------------------------------------------ */
/* Demultiplexing a shared socket (RFC 7983, RFC 9443). Since SDTLS_1.2.     */
/* ------------------------------------------------------------------------ */

/* What a datagram on a socket shared by several protocols is, by its first
 * byte (WebRTC runs STUN, DTLS and SRTP on one UDP port). The values are
 * frozen. */
#define SDTLS_PACKET_UNKNOWN 0      /* empty, or a first byte no range names */
#define SDTLS_PACKET_STUN 1         /* 0..3: to the ICE agent */
#define SDTLS_PACKET_ZRTP 2         /* 16..19 */
#define SDTLS_PACKET_DTLS 3         /* 20..63: to sdtls (DTLS 1.3 headers too) */
#define SDTLS_PACKET_TURN_CHANNEL 4 /* 64..79: TURN ChannelData */
#define SDTLS_PACKET_QUIC 5         /* 80..127 and 192..255 (RFC 9443) */
#define SDTLS_PACKET_RTP 6          /* 128..191: RTP or RTCP (SRTP, SRTCP) */

/* Classifies `datagram` (`len` bytes) by its first byte as RFC 7983 and
 * RFC 9443 divide the range: returns one of the SDTLS_PACKET_* values,
 * SDTLS_PACKET_UNKNOWN when `len` is 0 or `datagram` is NULL. A QUIC short
 * header may also begin with 64..79: RFC 9443 leaves those to TURN
 * channels where TURN is in use, and so does this function. Reads only
 * datagram[0]; the caller owns the buffer. Never fails. Thread-safe. */
SDTLS_EXTERN int sdtls_classify(const uint8_t *datagram, size_t len);

/* ------------------------------------------------------------------------ */
/* Pre-shared keys (RFC 4279). Since SDTLS_1.1.                              */
/* ------------------------------------------------------------------------ */

/* Adds a PSK: `identity` (1..128 bytes, copied; longer is refused) and
 * `key` (1..64 bytes, copied; wiped when the config is freed). A client
 * offers the first one it was given; a server accepts any of them. With a PSK the config offers
 * ECDHE-PSK-CHACHA20-POLY1305 (forward secret, AEAD) first, then the
 * certificate suites (SDTLS_OPT_PSK_ALLOW_CBC adds the engine's CBC PSK
 * suites; sdtls_config_set_ciphers() replaces the list); a server needs no
 * certificate then, and a client needs no server name.
 * TLS_PSK_WITH_AES_128_CCM_8 (CoAP's) does not exist in the engine. These
 * are DTLS 1.2 suites: with a PSK and SDTLS_OPT_MIN_VERSION at 1.2,
 * SDTLS_OPT_MAX_VERSION is lowered to 1.2 when the config is first used.
 * Returns 0, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_add_psk(sdtls_config *config, const char *identity,
                                      const uint8_t *key, size_t key_len);

/* Server: looks up the key of an identity the table (sdtls_config_add_psk)
 * does not hold. Writes the key into key[0..key_max) and returns its length
 * (1..key_max), or 0 for an unknown identity (the handshake then fails).
 * Called from inside the sdtls call that drives the handshake, on that
 * thread, under the callback rule at the top of this header (sdtls(3)): it
 * must be safe to call from every thread that drives connections of this
 * config. It is asked again when a session of an identity it answered for
 * resumes (see "Session resumption", sdtls_session(3)). */
typedef size_t (*sdtls_psk_lookup_cb)(void *user_data, const char *identity, uint8_t *key,
                                      size_t key_max);

/* Sets (or with `cb` NULL, removes) the lookup; `user_data` is passed back
 * and never freed. Returns 0, SDTLS_E_INVALID_ARGUMENT or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_psk_lookup(sdtls_config *config, sdtls_psk_lookup_cb cb,
                                             void *user_data);

/* Server: the identity hint sent to clients (1..128 bytes, copied; longer
 * is refused).
 * Returns 0, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_psk_identity_hint(sdtls_config *config, const char *hint);

/* The PSK identity the handshake used, or NULL (no PSK suite, or not done).
 * Owned by the connection. Thread-safety: one thread at a time per
 * connection. */
SDTLS_EXTERN const char *sdtls_conn_psk_identity(const sdtls_conn *conn);

/* ------------------------------------------------------------------------ */
/* Session resumption (RFC 5077 tickets). Since SDTLS_1.1.                   */
/* ------------------------------------------------------------------------ */

/* A resumed handshake does not authenticate the peer again, so a session
 * resumes only where a full handshake under the same config would have
 * authenticated the same peer: it is bound to a digest of everything that
 * decides authentication on the side that made it (SDTLS_OPT_VERIFY_PEER,
 * SDTLS_OPT_REQUIRE_CLIENT_CERT, the trust anchors, the server name, the
 * pinned fingerprints, the PSKs: a client's key, a server's whole table
 * and whether it has a lookup). Under another policy a client does not
 * offer the session and a server does not accept it: a full handshake
 * follows, which succeeds or fails on its own merits. A server asks its
 * PSK lookup again when a session of an identity the lookup answered for
 * resumes, and ends the handshake (SDTLS_E_VERIFY, an unknown_psk_identity
 * alert) if the lookup no longer knows it. So servers that share a ticket
 * secret resume each other's sessions only if they share this policy
 * too; give each policy its own secret to make that plain. */

/* Client: the session of a finished handshake as an opaque byte string,
 * for sdtls_conn_set_session() on a later connection to the same server.
 * It holds the session's master secret: keep it as secret as a key. On
 * success sets *session (allocated; release with sdtls_free(), which wipes
 * it) and *len and returns 0; SDTLS_E_STATE when the handshake is not done
 * or the session cannot be resumed (the server issued no ticket);
 * SDTLS_E_INVALID_ARGUMENT or SDTLS_E_NOMEM. With DTLS 1.3 the server's
 * ticket comes after the handshake (a NewSessionTicket message): ask once
 * data has flowed or the connection's timers are quiet.
 * Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN int sdtls_conn_get_session(const sdtls_conn *conn, uint8_t **session,
                                        size_t *len);

/* Client, in SDTLS_STATE_NEW: offers a session from sdtls_conn_get_session()
 * (copied). If the server still accepts it, the handshake is abbreviated
 * (sdtls_conn_session_resumed() says so); if not, a full handshake follows.
 * Sessions carry the caller's time (see "Time" above): one whose time is
 * in this connection's future (another time base) is not offered. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT (NULL, or bytes that are not a session),
 * SDTLS_E_STATE or SDTLS_E_IN_CALLBACK.
 * Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN int sdtls_conn_set_session(sdtls_conn *conn, const uint8_t *session, size_t len);

/* 1 if the handshake resumed a session, 0 otherwise (also before it is
 * done). Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN int sdtls_conn_session_resumed(const sdtls_conn *conn);

/* Server: replaces the secret that protects session tickets (32..64 bytes,
 * copied, wiped when replaced or freed). New tickets use it; tickets made
 * under the secret it replaces are still accepted (and renewed), older
 * ones are not (a full handshake follows). Servers behind one address that
 * set the same secrets accept each other's tickets when they share the
 * authentication policy (above) and a time base (the epoch, see "Time"
 * above), since tickets carry the time they were issued.
 * Without a call, a random secret is drawn when the config is first used.
 * Unlike the other setters, allowed at any time, also on a frozen config
 * in use by other threads (rotate it every few hours).
 * Returns 0, SDTLS_E_INVALID_ARGUMENT or SDTLS_E_INTERNAL. Thread-safe. */
SDTLS_EXTERN int sdtls_config_set_ticket_secret(sdtls_config *config, const uint8_t *secret,
                                                size_t len);

/* ------------------------------------------------------------------------ */
/* ALPN (RFC 7301). Since SDTLS_1.1.                                         */
/* ------------------------------------------------------------------------ */

/* The application protocols, most preferred first, joined by ','
 * ("coap,webrtc"; each 1..255 bytes, no commas; the whole string at most
 * 4095 bytes, 4096 on the wire, so that the ClientHello stays under the
 * 16 KiB a server accepts: a list of about 16,000 bytes would fail every
 * handshake). A client offers them; a
 * server picks the first of its own that the client offers, and ends the
 * handshake with a no_application_protocol alert when there is none (a
 * client that offers no ALPN is accepted). The string is copied. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_alpn(sdtls_config *config, const char *protocols);

/* The same as an array: `names[0..n)`, most preferred first (since
 * SDTLS_1.2). Each name is taken as it is: one that is empty, longer than
 * 255 bytes or holds ',' or ':' is refused (the joined form could not tell
 * it from two names), and so are NULL and n == 0; a refused call leaves the
 * config unchanged. The strings are copied; the caller keeps them. Returns
 * 0, SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_alpn_list(sdtls_config *config, const char *const *names,
                                            size_t n);

/* The protocol the handshake selected, or NULL (none, or not done). Owned
 * by the connection. Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN const char *sdtls_conn_alpn(const sdtls_conn *conn);

/* ------------------------------------------------------------------------ */
/* Key exchange groups. Since SDTLS_1.1.                                     */
/* ------------------------------------------------------------------------ */

/* The key exchange groups to offer and accept, most preferred first, by the
 * engine's names joined by ':' ("X25519:P-256"; with a current engine also
 * "X25519MLKEM768", the post-quantum hybrid). Default: with an engine that
 * has X25519MLKEM768, "X25519MLKEM768:X25519:P-256" on both roles, a client
 * sending key shares for the first two (a peer without the hybrid costs no
 * HelloRetryRequest); otherwise the engine's own list (Debian's engine:
 * X25519, P-256, P-384). Each name at most once, at most 32 names. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT (NULL, empty, a name the engine does not know, a
 * name twice, more than 32), SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_groups(sdtls_config *config, const char *groups);

/* The same as an array of names, `names[0..n)`, most preferred first
 * (since SDTLS_1.2). A name that is empty, longer than 255 bytes or holds
 * ',' or ':' is refused, as are NULL, n == 0 and an unknown name; a refused
 * call leaves the config unchanged. The strings are copied. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT, SDTLS_E_NOMEM or SDTLS_E_FROZEN.
 * Thread-safety: configure from one thread, before the config is shared. */
SDTLS_EXTERN int sdtls_config_set_groups_list(sdtls_config *config, const char *const *names,
                                              size_t n);

/* The group the handshake's key exchange used ("X25519"), or NULL (not
 * done, or no key exchange: a resumed DTLS 1.2 session, plain PSK). A static
 * string. Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN const char *sdtls_conn_group(const sdtls_conn *conn);

/* ------------------------------------------------------------------------ */
/* DTLS 1.3 key update. Since SDTLS_1.1.                                     */
/* ------------------------------------------------------------------------ */

/* DTLS 1.3 (RFC 9147 8): sends a KeyUpdate, so that this side's records
 * use fresh keys from now on, and asks the peer to update its own. The
 * engine retransmits it until the peer acknowledges it: keep serving
 * sdtls_conn_next_deadline(). Peers' KeyUpdates are answered without a
 * call. Allowed where sdtls_conn_send() is (also from the event callbacks).
 * A KeyUpdate asked for while one is still unacknowledged is sent once
 * that one is. Returns 0, SDTLS_E_STATE (not connected), SDTLS_E_UNSUPPORTED (a DTLS 1.2 connection), SDTLS_E_CLOSED
 * / the failure's code if the connection has ended, SDTLS_E_INVALID_ARGUMENT
 * or SDTLS_E_IN_CALLBACK (inside the send callback).
 * Thread-safety: one thread at a time per connection. */
SDTLS_EXTERN int sdtls_conn_key_update(sdtls_conn *conn, sdtls_time now);

/* ------------------------------------------------------------------------ */
/* Server: many peers behind one socket                                      */
/* ------------------------------------------------------------------------ */

/* Peer addresses are passed as the bytes of a struct sockaddr_in or
 * struct sockaddr_in6, exactly as recvfrom() fills them (the length is the
 * one recvfrom() returns). Two addresses are the same peer when family,
 * address, port (and for IPv6 the scope id) are equal. */

typedef struct sdtls_server sdtls_server;

typedef struct sdtls_server_callbacks {
  size_t size; /* sizeof(sdtls_server_callbacks) */
  /* Required. Send one datagram to `addr` (a sockaddr, as above). */
  int (*send)(void *user_data, const uint8_t *addr, size_t addr_len, const uint8_t *datagram,
              size_t len);
  /* Optional. A peer passed the cookie check and a connection was created.
   * The server owns `conn`; the application may set its app data here. */
  void (*on_connect)(void *user_data, sdtls_conn *conn, const uint8_t *addr, size_t addr_len);
  /* Optional. `conn`'s handshake finished. */
  void (*on_handshake_done)(void *user_data, sdtls_conn *conn);
  /* Optional. One application datagram from `conn`'s peer. */
  void (*on_data)(void *user_data, sdtls_conn *conn, const uint8_t *data, size_t len);
  /* Optional. `conn` ended: `reason` is 0 for the peer's close_notify,
   * SDTLS_E_CLOSED for sdtls_server_close_peer() or sdtls_conn_close() on
   * it, or when the peer restarted with a new, cookie-verified ClientHello
   * (RFC 6347 4.2.8), SDTLS_E_TIMEOUT for an
   * idle or handshake timeout (eviction), or the error that ended it. The
   * server frees `conn` after this returns. */
  void (*on_close)(void *user_data, sdtls_conn *conn, int reason);
} sdtls_server_callbacks;

/* Creates a server. The config (frozen, referenced) needs a certificate.
 * A random cookie secret is drawn. Returns 0, SDTLS_E_INVALID_ARGUMENT,
 * SDTLS_E_CREDENTIALS, SDTLS_E_NOMEM or SDTLS_E_UNSUPPORTED (cookies on, but
 * the linked engine has no cookie hand-over: see sdtls_has_feature()).
 * *out is owned by the caller.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN int sdtls_server_new(sdtls_config *config, const sdtls_server_callbacks *callbacks,
                                  void *user_data, sdtls_server **out);

/* Frees the server and every connection it holds, without sending. No
 * callback is made. NULL is ignored. Inside one of its callbacks (or those
 * of its connections) the free is deferred until the outer call returns,
 * and no callback follows it.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN void sdtls_server_free(sdtls_server *server);

/* Feeds one datagram from `addr`. Unknown peers get a stateless cookie
 * exchange; datagrams of known peers go to their connection. Returns 0
 * (also when the datagram was dropped; see the counters),
 * SDTLS_E_INVALID_ARGUMENT (bad address), SDTLS_E_NOMEM or
 * SDTLS_E_IN_CALLBACK.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN int sdtls_server_receive(sdtls_server *server, const uint8_t *addr, size_t addr_len,
                                      const uint8_t *datagram, size_t len, sdtls_time now);

/* Earliest deadline over all connections (retransmission, handshake and
 * idle timeouts), or SDTLS_TIME_NEVER.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN sdtls_time sdtls_server_next_deadline(const sdtls_server *server);

/* Handles the expired timers of every connection due at `now`, all in this
 * one call, and evicts expired peers (reported through on_close). Returns 0,
 * SDTLS_E_INVALID_ARGUMENT or SDTLS_E_IN_CALLBACK.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN int sdtls_server_handle_timeout(sdtls_server *server, sdtls_time now);

/* Sends close_notify to `conn`'s peer and removes it: on_close is called with
 * SDTLS_E_CLOSED (during this call, or when the current callback returns
 * if called from one) and the connection is freed. Returns 0,
 * SDTLS_E_INVALID_ARGUMENT (not one of this server's connections) or
 * SDTLS_E_IN_CALLBACK (inside the send callback).
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN int sdtls_server_close_peer(sdtls_server *server, sdtls_conn *conn,
                                         sdtls_time now);

/* The peer address of a server connection (owned by the connection). Returns
 * 0, SDTLS_E_INVALID_ARGUMENT, or SDTLS_E_STATE for a connection not made by
 * a server.
 * Thread-safety: one thread at a time per connection (the caller serialises). */
SDTLS_EXTERN int sdtls_conn_peer_address(const sdtls_conn *conn, const uint8_t **addr,
                                         size_t *addr_len);

/* Replaces the cookie secret (16..64 bytes, copied) at time `now`: the old
 * secret stays accepted for one more cookie lifetime, older ones are not.
 * Servers behind one address that share a secret and a time base (see
 * "Time" above) accept each other's cookies. Returns 0 or
 * SDTLS_E_INVALID_ARGUMENT.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN int sdtls_server_set_cookie_secret(sdtls_server *server, const uint8_t *secret,
                                                size_t len, sdtls_time now);

/* Since SDTLS_1.2: per-peer pins (WebRTC: each peer's SDP brings the
 * fingerprint of the certificate it will present). The server keeps a table
 * keyed by peer address (the same peer as above: family, address, port,
 * IPv6 scope id; here an IPv4 address and its IPv4-mapped IPv6 form, as a
 * dual-stack socket reports IPv4 peers, are one address); each lookup, pin
 * and unpin takes constant time on average, however many addresses are
 * pinned.
 *
 * Pins `fingerprint` (any form sdtls_fingerprint_parse() takes) for the
 * peer at `addr`: every connection the server makes for that address from
 * now on expects it, as if sdtls_conn_add_peer_fingerprint() had been
 * called on it before on_connect (so on_connect may add others, up to that
 * function's limit of 16 in all). A peer whose certificate matches none of
 * its address's pins and none of the config's fails its handshake with
 * SDTLS_E_VERIFY (reported through on_close); the server asks a pinned
 * peer for a certificate. Connections made before the call are not
 * affected. Up to 16 fingerprints per address; pinning one the address
 * already has changes nothing. The number of addresses is bounded by
 * memory only. The pins stay until sdtls_server_unpin_peer() or
 * sdtls_server_free(). Returns 0, SDTLS_E_INVALID_ARGUMENT (NULL, a bad
 * address, not a fingerprint), SDTLS_E_UNSUPPORTED (a hash that is not
 * taken), SDTLS_E_LIMIT (the address has 16), SDTLS_E_NOMEM,
 * SDTLS_E_INTERNAL (no randomness for the table's hash key, at the first
 * pin) or SDTLS_E_IN_CALLBACK (inside one of the server's callbacks, or
 * those of its connections); a refused call changes nothing. The caller owns `addr` and
 * `fingerprint` (copied). Thread-safety: one thread at a time per server
 * (the caller serialises). */
SDTLS_EXTERN int sdtls_server_pin_peer(sdtls_server *server, const uint8_t *addr, size_t addr_len,
                                       const char *fingerprint);

/* Removes every fingerprint pinned for the peer at `addr` (a sockaddr, as
 * above); connections already made keep theirs. Returns how many were
 * removed (0 when the address had none), SDTLS_E_INVALID_ARGUMENT (NULL, a
 * bad address) or SDTLS_E_IN_CALLBACK (as sdtls_server_pin_peer(); then
 * nothing is removed). Thread-safety: one thread at a time per server (the
 * caller serialises). */
SDTLS_EXTERN int sdtls_server_unpin_peer(sdtls_server *server, const uint8_t *addr,
                                         size_t addr_len);

/* Counters; values are frozen. */
typedef enum sdtls_server_counter {
  SDTLS_COUNTER_COOKIES_SENT = 1,        /* HelloVerify/HelloRetryRequests sent */
  SDTLS_COUNTER_COOKIES_REJECTED = 2,    /* ClientHellos with a bad cookie */
  SDTLS_COUNTER_CONNECTIONS_CREATED = 3,
  SDTLS_COUNTER_CONNECTIONS_CLOSED = 4,  /* ended by close or error */
  SDTLS_COUNTER_CONNECTIONS_EVICTED = 5, /* idle or handshake timeout */
  SDTLS_COUNTER_DROPPED_MALFORMED = 6,   /* not a parsable DTLS datagram */
  SDTLS_COUNTER_DROPPED_UNKNOWN_PEER = 7,/* not a ClientHello from an unknown peer */
  SDTLS_COUNTER_DROPPED_LIMIT = 8,       /* peer or handshake limit reached */
  SDTLS_COUNTER_PEERS = 9                /* connections now (a gauge) */
} sdtls_server_counter;

/* Reads a counter. Returns its value, or 0 for an unknown counter.
 * Thread-safety: one thread at a time per server (the caller serialises). */
SDTLS_EXTERN uint64_t sdtls_server_counter_get(const sdtls_server *server,
                                               sdtls_server_counter counter);

#ifdef __cplusplus
}
#endif
#endif /* SDTLS_H */

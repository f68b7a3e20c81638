/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Java part of the SWIG interface, after the header (bindings/sdtls.i
 * includes it): the holders that the Java layer
 * (bindings/java/src/main/java/dev/sdtls/) drives.
 *
 *   jconfig  the config and its key log queue; reference counted, since
 *            the C config calls the key log with it as user data for as
 *            long as any connection or server made from it lives
 *   jconn    one sdtls_conn and its datagram and event queues
 *   jserver  one sdtls_server, its queues and the slots that name its
 *            connections to Java by id (never by pointer); per-peer pins
 *            are the C server's own (sdtls_server_pin_peer())
 *
 * Every callback goes to a trampoline here that QUEUES what it produces
 * (datagrams to send, events, key log lines) in C; Java takes a whole queue
 * as one byte[] in one call and splits it itself, so no call crosses from C
 * into Java at all: no JNI global reference, no attached thread, nothing for
 * a garbage collector to order. Each Java object frees its holder exactly
 * once (close(), or its Cleaner). A connection or server holds its own
 * reference to the C config and to its jconfig, so the config may be closed
 * first (the header's lifetime rules).
 *
 * The PSK lookup (a callback that must answer synchronously) is not
 * wrapped for Java: pre-shared keys are added to the config.
 */

/* Holder functions take the JNIEnv they are called with. */
%typemap(in, numinputs=0) JNIEnv *jenv "$1 = jenv;"
%apply int *OUTPUT { int *lost };

/* The bound of every queue (bindings/sdtls.i), for the Java layer's errors
 * (their values taken from C at run time: C expressions, not Java ones). */
%javaconst(0) JQUEUE_MAX_RECORDS;
%javaconst(0) JQUEUE_MAX_BYTES;
%constant int JQUEUE_MAX_RECORDS = BQ_MAX_RECORDS;
%constant int JQUEUE_MAX_BYTES = (int)BQ_MAX_BYTES;

%{
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

/* ---- the config ----------------------------------------------------------- */

/* Key log lines beyond this many queued bytes are dropped (counted), so a
 * key log that is switched on and never read does not grow without end. */
#define JCONFIG_KEYLOG_MAX (4u << 20)

/* The config's holder. The Java Config holds one reference, and so does
 * every jconn and jserver made from it; the last release frees it, after
 * every C handle that could call the key log with it is gone. The key log
 * is called from whichever thread drives a connection: the queue has a
 * lock. */
typedef struct jconfig {
  atomic_int refs;
  sdtls_config *cfg; /* the Java Config's reference; NULL once it dropped it */
  pthread_mutex_t mu;
  bq keylog;         /* [uint32 len][line] ... under mu */
  uint64_t dropped;  /* key log lines dropped, under mu */
} jconfig;

static void jconfig_ref(jconfig *c) { atomic_fetch_add(&c->refs, 1); }

static void jconfig_unref(jconfig *c) {
  if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1) return;
  pthread_mutex_destroy(&c->mu);
  if (c->keylog.buf != NULL) memset(c->keylog.buf, 0, c->keylog.len); /* secrets */
  bq_free(&c->keylog);
  free(c);
}

static void jconfig_keylog_cb(void *user_data, const char *line) {
  jconfig *c = (jconfig *)user_data;
  size_t n = strlen(line);
  pthread_mutex_lock(&c->mu);
  if (c->keylog.len + n > JCONFIG_KEYLOG_MAX || bq_datagram(&c->keylog, (const uint8_t *)line, n) != 0)
    c->dropped++;
  pthread_mutex_unlock(&c->mu);
}

/* ---- the connection --------------------------------------------------------- */
typedef struct jconn {
  sdtls_conn *conn;
  jconfig *config; /* referenced */
  bq out; /* [uint32 len][bytes] ... (bq_datagram) */
  bq ev;  /* qrec records (bindings/sdtls.i), read by java/.../Connection.java */
  int lost; /* an event could not be queued (out of memory) */
} jconn;

static void jconn_event(jconn *c, const qrec *r) {
  if (qrec_put(&c->ev, r) != 0) c->lost = 1;
}

static int jconn_send_cb(void *user_data, const uint8_t *datagram, size_t len) {
  jconn *c = (jconn *)user_data;
  return bq_datagram(&c->out, datagram, len); /* a failure counts as lost */
}

static void jconn_on_handshake_done(void *user_data) {
  jconn *c = (jconn *)user_data;
  qrec r = {.kind = EV_HANDSHAKE_DONE, .version = sdtls_conn_version(c->conn), .cipher = sdtls_conn_cipher(c->conn)};
  jconn_event(c, &r);
}

static void jconn_on_data(void *user_data, const uint8_t *data, size_t len) {
  qrec r = {.kind = EV_DATA, .data = data, .data_len = (uint32_t)len};
  jconn_event((jconn *)user_data, &r);
}

static void jconn_on_close(void *user_data, int reason) {
  jconn *c = (jconn *)user_data;
  qrec r = {.kind = EV_CLOSE, .reason = reason, .detail = sdtls_conn_error_detail(c->conn)};
  jconn_event(c, &r);
}

/* The queue's bytes as a new byte[] (null when it is empty), and the queue
 * emptied. */
static jbyteArray jconn_take(JNIEnv *jenv, bq *q) {
  if (q->len == 0) return NULL;
  jbyteArray a = (*jenv)->NewByteArray(jenv, (jsize)q->len);
  if (a != NULL) (*jenv)->SetByteArrayRegion(jenv, a, 0, (jsize)q->len, (const jbyte *)q->buf);
  bq_reset(q); /* on OutOfMemoryError too: never hand the same records out twice */
  return a;
}
%}

%inline %{
/* A new config holder with the secure defaults: 0 and *out set, or
 * sdtls_config_new()'s error. */
int jconfig_new(jconfig **out) {
  if (out == NULL) return SDTLS_E_INVALID_ARGUMENT;
  *out = NULL;
  jconfig *c = (jconfig *)calloc(1, sizeof *c);
  if (c == NULL) return SDTLS_E_NOMEM;
  if (pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c);
    return SDTLS_E_NOMEM;
  }
  int rc = sdtls_config_new(&c->cfg);
  if (rc != 0) {
    pthread_mutex_destroy(&c->mu);
    free(c);
    return rc;
  }
  atomic_init(&c->refs, 1);
  *out = c;
  return 0;
}

/* Drops the Java Config's references (the C config's and the holder's).
 * Exactly once; NULL is ignored. Connections and servers keep theirs. */
void jconfig_free(jconfig *c) {
  if (c == NULL) return;
  sdtls_config_free(c->cfg);
  c->cfg = NULL;
  jconfig_unref(c);
}

/* The C config, for the header's setters. Valid until jconfig_free(). */
sdtls_config *jconfig_handle(jconfig *c) { return c ? c->cfg : NULL; }

/* Switches the key log on (lines queue in the holder) or off. */
int jconfig_set_keylog(jconfig *c, int on) {
  if (c == NULL) return SDTLS_E_INVALID_ARGUMENT;
  return sdtls_config_set_keylog(c->cfg, on ? jconfig_keylog_cb : NULL, on ? c : NULL);
}

/* The queued key log lines as one byte[] of [uint32 len][line] records, or
 * null when there are none; the number dropped since the last call in
 * *lost (an int[1]). */
jbyteArray jconfig_take_keylog(JNIEnv *jenv, jconfig *c, int *lost) {
  if (lost != NULL) *lost = 0;
  if (c == NULL) return NULL;
  pthread_mutex_lock(&c->mu);
  if (lost != NULL) *lost = c->dropped > INT32_MAX ? INT32_MAX : (int)c->dropped;
  c->dropped = 0;
  jbyteArray a = NULL;
  if (c->keylog.len != 0) {
    a = (*jenv)->NewByteArray(jenv, (jsize)c->keylog.len);
    if (a != NULL) (*jenv)->SetByteArrayRegion(jenv, a, 0, (jsize)c->keylog.len, (const jbyte *)c->keylog.buf);
    memset(c->keylog.buf, 0, c->keylog.len);
    bq_reset(&c->keylog);
  }
  pthread_mutex_unlock(&c->mu);
  return a;
}

/* A new holder with its connection in SDTLS_STATE_NEW: 0 and *out set, or
 * sdtls_conn_new()'s error (SDTLS_E_NOMEM when the holder cannot be
 * allocated). */
int jconn_new(jconfig *config, sdtls_role role, jconn **out) {
  if (out == NULL) return SDTLS_E_INVALID_ARGUMENT;
  *out = NULL;
  jconn *c = (jconn *)calloc(1, sizeof *c);
  if (c == NULL) return SDTLS_E_NOMEM;
  sdtls_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.send = jconn_send_cb;
  cb.on_handshake_done = jconn_on_handshake_done;
  cb.on_data = jconn_on_data;
  cb.on_close = jconn_on_close;
  int rc = sdtls_conn_new(config ? config->cfg : NULL, role, &cb, c, &c->conn);
  if (rc != 0) {
    free(c);
    return rc;
  }
  c->config = config;
  jconfig_ref(config);
  *out = c;
  return 0;
}

/* Frees the connection (without sending) and the holder. Exactly once;
 * NULL is ignored. */
void jconn_free(jconn *c) {
  if (c == NULL) return;
  sdtls_conn_free(c->conn); /* no callback follows a free */
  jconfig_unref(c->config); /* after the free: no key log call follows */
  bq_free(&c->out);
  bq_free(&c->ev);
  free(c);
}

/* The connection, for the header's functions (start, receive, send,
 * queries ...). Valid until jconn_free(). */
sdtls_conn *jconn_handle(jconn *c) { return c ? c->conn : NULL; }

/* The user's send and receive: refused with SDTLS_E_LIMIT before they run
 * when the queue they add to is full (bq_room in bindings/sdtls.i), which
 * the Java layer reports as "take what is queued first". */
int jconn_send(jconn *c, const uint8_t *data, size_t len, sdtls_time now) {
  if (c == NULL) return SDTLS_E_INVALID_ARGUMENT;
  if (!bq_room(&c->out, len)) return SDTLS_E_LIMIT;
  return sdtls_conn_send(c->conn, data, len, now);
}

int jconn_receive(jconn *c, const uint8_t *datagram, size_t len, sdtls_time now) {
  if (c == NULL) return SDTLS_E_INVALID_ARGUMENT;
  if (!bq_room(&c->ev, len)) return SDTLS_E_LIMIT;
  return sdtls_conn_receive(c->conn, datagram, len, now);
}

/* The queued datagrams as one byte[] of [uint32 len][bytes] records, or
 * null when there are none. */
jbyteArray jconn_take_datagrams(JNIEnv *jenv, jconn *c) {
  return c ? jconn_take(jenv, &c->out) : NULL;
}

/* The queued events as one byte[] of the records above, or null when there
 * are none; SDTLS_E_NOMEM in *lost when an event was dropped
 * for want of memory (lost is an int[1]). */
jbyteArray jconn_take_events(JNIEnv *jenv, jconn *c, int *lost) {
  if (c == NULL) return NULL;
  if (lost != NULL) *lost = c->lost ? SDTLS_E_NOMEM : 0;
  c->lost = 0;
  return jconn_take(jenv, &c->ev);
}
%}

/* ------------------------------------------------------------------------ */
/* SRTP keying                                                               */
/* ------------------------------------------------------------------------ */

%inline %{
/* The SRTP keying material of `conn` as one byte[]: three int32 in native
 * order (profile, key_len, salt_len), then client_write, server_write,
 * local_write and remote_write, key_len + salt_len bytes each; null with
 * sdtls_conn_srtp_keying()'s error in *lost (an int[1]) when there is
 * none. The C copy is wiped. */
jbyteArray jsrtp_keying(JNIEnv *jenv, sdtls_conn *conn, int *lost) {
  sdtls_srtp_keying k;
  memset(&k, 0, sizeof k);
  k.size = sizeof k;
  int rc = sdtls_conn_srtp_keying(conn, &k);
  if (lost != NULL) *lost = rc;
  jbyteArray a = NULL;
  size_t n = k.key_len + k.salt_len;
  if (rc == 0 && n <= SDTLS_SRTP_MAX_MASTER_LEN) {
    int32_t h[3] = {(int32_t)k.profile, (int32_t)k.key_len, (int32_t)k.salt_len};
    a = (*jenv)->NewByteArray(jenv, (jsize)(sizeof h + 4 * n));
    if (a != NULL) {
      (*jenv)->SetByteArrayRegion(jenv, a, 0, (jsize)sizeof h, (const jbyte *)h);
      (*jenv)->SetByteArrayRegion(jenv, a, (jsize)sizeof h, (jsize)n, (const jbyte *)k.client_write);
      (*jenv)->SetByteArrayRegion(jenv, a, (jsize)(sizeof h + n), (jsize)n, (const jbyte *)k.server_write);
      (*jenv)->SetByteArrayRegion(jenv, a, (jsize)(sizeof h + 2 * n), (jsize)n, (const jbyte *)k.local_write);
      (*jenv)->SetByteArrayRegion(jenv, a, (jsize)(sizeof h + 3 * n), (jsize)n, (const jbyte *)k.remote_write);
    }
  }
  memset(&k, 0, sizeof k);
  return a;
}
%}

/* ------------------------------------------------------------------------ */
/* The multi-peer server                                                     */
/* ------------------------------------------------------------------------ */

%{
/* A peer address as Java takes it, every field written one by one in
 * native order: int32 ip_len (4 or 16), 16 bytes of address (the first
 * ip_len used), int32 port, int32 IPv6 scope id. */
#define JADDR_LEN 28

static void jaddr_make(uint8_t out[JADDR_LEN], const uint8_t *addr, size_t addr_len) {
  int32_t ip_len = 0, port = 0, scope = 0;
  uint8_t ip[16];
  memset(ip, 0, sizeof ip);
  sa_family_t family = AF_UNSPEC;
  if (addr != NULL && addr_len >= sizeof family) memcpy(&family, addr, sizeof family);
  if (family == AF_INET && addr_len >= sizeof(struct sockaddr_in)) {
    struct sockaddr_in a;
    memcpy(&a, addr, sizeof a);
    ip_len = 4;
    memcpy(ip, &a.sin_addr, 4);
    port = ntohs(a.sin_port);
  } else if (family == AF_INET6 && addr_len >= sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 a;
    memcpy(&a, addr, sizeof a);
    ip_len = 16;
    memcpy(ip, &a.sin6_addr, 16);
    port = ntohs(a.sin6_port);
    scope = (int32_t)a.sin6_scope_id;
  }
  memcpy(out, &ip_len, 4);
  memcpy(out + 4, ip, 16);
  memcpy(out + 20, &port, 4);
  memcpy(out + 24, &scope, 4);
}

/* The sockaddr of (ip: 4 or 16 bytes, port, IPv6 scope id) in *ss; its
 * length, or 0 for a bad address. */
static size_t jsockaddr(struct sockaddr_storage *ss, const uint8_t *ip, size_t ip_len, int port,
                        int scope_id) {
  memset(ss, 0, sizeof *ss);
  if (ip == NULL || port < 0 || port > 65535) return 0;
  if (ip_len == 4) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    memcpy(&a.sin_addr, ip, 4);
    memcpy(ss, &a, sizeof a);
    return sizeof a;
  }
  if (ip_len == 16) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((uint16_t)port);
    a.sin6_scope_id = (uint32_t)scope_id;
    memcpy(&a.sin6_addr, ip, 16);
    memcpy(ss, &a, sizeof a);
    return sizeof a;
  }
  return 0;
}

/* The server's holder. Both its queues hold qrec records (bindings/sdtls.i)
 * whose addresses are in the form above: EV_DATAGRAM in `out`, the events
 * in `ev`. java/.../Server.java reads them with a ByteBuffer. */
typedef struct jserver {
  sdtls_server *srv;
  jconfig *config; /* referenced */
  bq out;
  bq ev;
  int lost;
  slot_table slots; /* the ids of its connections (bindings/sdtls.i) */
} jserver;

static int64_t jslot_id(const jserver *s, uint32_t i) { return (int64_t)slot_id(&s->slots, i); }

/* Queues an event; a peer's address (addr, non-NULL) goes in Java's form. */
static void jserver_event(jserver *s, int32_t kind, int32_t reason, int64_t id, const uint8_t *addr,
                          size_t addr_len, const void *data, size_t data_len, const char *detail,
                          const char *version, const char *cipher) {
  uint8_t a[JADDR_LEN];
  if (addr != NULL) jaddr_make(a, addr, addr_len);
  qrec r = {.kind = kind, .reason = reason, .id = id, .addr = addr != NULL ? a : NULL,
            .addr_len = addr != NULL ? JADDR_LEN : 0, .data = (const uint8_t *)data,
            .data_len = (uint32_t)data_len, .detail = detail, .version = version, .cipher = cipher};
  if (qrec_put(&s->ev, &r) != 0) s->lost = 1;
}

static int jserver_send_cb(void *user_data, const uint8_t *addr, size_t addr_len,
                           const uint8_t *datagram, size_t len) {
  jserver *s = (jserver *)user_data;
  uint8_t a[JADDR_LEN];
  jaddr_make(a, addr, addr_len);
  qrec r = {.kind = EV_DATAGRAM, .addr = a, .addr_len = JADDR_LEN, .data = datagram, .data_len = (uint32_t)len};
  return qrec_put(&s->out, &r) == 0 ? 0 : -1;
}

static void jserver_on_connect(void *user_data, sdtls_conn *conn, const uint8_t *addr,
                               size_t addr_len) {
  jserver *s = (jserver *)user_data;
  uint32_t i = slot_add(&s->slots, conn);
  if (i == NO_SLOT) {
    s->lost = 1;
    sdtls_server_close_peer(s->srv, conn, 0); /* cannot track it: refuse it */
    return;
  }
  jserver_event(s, EV_CONNECT, 0, jslot_id(s, i), addr, addr_len, NULL, 0, NULL, NULL, NULL);
}

static void jserver_on_handshake_done(void *user_data, sdtls_conn *conn) {
  jserver *s = (jserver *)user_data;
  jserver_event(s, EV_HANDSHAKE_DONE, 0, slot_id_of(&s->slots, conn), NULL, 0, NULL, 0, NULL,
                sdtls_conn_version(conn), sdtls_conn_cipher(conn));
}

static void jserver_on_data(void *user_data, sdtls_conn *conn, const uint8_t *data, size_t len) {
  jserver *s = (jserver *)user_data;
  jserver_event(s, EV_DATA, 0, slot_id_of(&s->slots, conn), NULL, 0, data, len, NULL, NULL, NULL);
}

static void jserver_on_close(void *user_data, sdtls_conn *conn, int reason) {
  jserver *s = (jserver *)user_data;
  uint32_t i = slot_of(&s->slots, conn);
  jserver_event(s, EV_CLOSE, reason, slot_id_of(&s->slots, conn), NULL, 0, NULL, 0,
                sdtls_conn_error_detail(conn), NULL, NULL);
  if (i != NO_SLOT) slot_remove(&s->slots, i); /* the server frees conn when this returns */
}
%}

%inline %{
/* A new server holder: 0 and *out set, or sdtls_server_new()'s error. */
int jserver_new(jconfig *config, jserver **out) {
  if (out == NULL) return SDTLS_E_INVALID_ARGUMENT;
  *out = NULL;
  jserver *s = (jserver *)calloc(1, sizeof *s);
  if (s == NULL) return SDTLS_E_NOMEM;
  slot_table_init(&s->slots);
  sdtls_server_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.send = jserver_send_cb;
  cb.on_connect = jserver_on_connect;
  cb.on_handshake_done = jserver_on_handshake_done;
  cb.on_data = jserver_on_data;
  cb.on_close = jserver_on_close;
  int rc = sdtls_server_new(config ? config->cfg : NULL, &cb, s, &s->srv);
  if (rc != 0) {
    free(s);
    return rc;
  }
  s->config = config;
  jconfig_ref(config);
  *out = s;
  return 0;
}

/* Frees the server and its connections (without sending) and the holder.
 * Exactly once; NULL is ignored. */
void jserver_free(jserver *s) {
  if (s == NULL) return;
  sdtls_server_free(s->srv); /* frees its connections; no callback follows */
  jconfig_unref(s->config);
  slot_table_free(&s->slots);
  bq_free(&s->out);
  bq_free(&s->ev);
  free(s);
}

/* The server, for the header's functions (deadline, timers, counters ...).
 * Valid until jserver_free(). */
sdtls_server *jserver_handle(jserver *s) { return s ? s->srv : NULL; }

/* The connection named by `id`, or NULL when it has ended. Valid until the
 * next call on the server. */
sdtls_conn *jserver_conn(jserver *s, int64_t id) {
  if (s == NULL || id < 0) return NULL;
  return slot_conn(&s->slots, (uint64_t)id);
}

/* Feeds one datagram from the peer at (addr: 4 or 16 bytes of IP address,
 * port, IPv6 scope id). */
int jserver_receive(jserver *s, const uint8_t *addr, size_t addr_len, int port, int scope_id,
                    const uint8_t *datagram, size_t len, sdtls_time now) {
  struct sockaddr_storage ss;
  size_t n = jsockaddr(&ss, addr, addr_len, port, scope_id);
  if (s == NULL || n == 0) return SDTLS_E_INVALID_ARGUMENT;
  if (!bq_room(&s->ev, len)) return SDTLS_E_LIMIT; /* as jconn_receive */
  return sdtls_server_receive(s->srv, (const uint8_t *)&ss, n, datagram, len, now);
}

/* A server connection's send, refused as jconn_send's. */
int jserver_conn_send(jserver *s, sdtls_conn *conn, const uint8_t *data, size_t len, sdtls_time now) {
  if (s == NULL) return SDTLS_E_INVALID_ARGUMENT;
  if (!bq_room(&s->out, len)) return SDTLS_E_LIMIT;
  return sdtls_conn_send(conn, data, len, now);
}

/* sdtls_server_pin_peer() for the peer at (addr, port, scope id). */
int jserver_pin(jserver *s, const uint8_t *addr, size_t addr_len, int port, int scope_id,
                const char *fingerprint) {
  struct sockaddr_storage ss;
  size_t n = jsockaddr(&ss, addr, addr_len, port, scope_id);
  if (s == NULL || n == 0) return SDTLS_E_INVALID_ARGUMENT;
  return sdtls_server_pin_peer(s->srv, (const uint8_t *)&ss, n, fingerprint);
}

/* sdtls_server_unpin_peer() for the peer at (addr, port, scope id): how
 * many pins it had. */
int jserver_unpin(jserver *s, const uint8_t *addr, size_t addr_len, int port, int scope_id) {
  struct sockaddr_storage ss;
  size_t n = jsockaddr(&ss, addr, addr_len, port, scope_id);
  if (s == NULL || n == 0) return SDTLS_E_INVALID_ARGUMENT;
  return sdtls_server_unpin_peer(s->srv, (const uint8_t *)&ss, n);
}

/* Sends close_notify to every peer and removes them (their close events
 * are queued). */
int jserver_close_all(jserver *s, sdtls_time now) {
  if (s == NULL) return SDTLS_E_INVALID_ARGUMENT;
  for (uint32_t i = 0; i < s->slots.n; i++) {
    if (s->slots.v[i].conn != NULL) {
      int rc = sdtls_server_close_peer(s->srv, s->slots.v[i].conn, now);
      if (rc != 0) return rc;
    }
  }
  return 0;
}

/* The queued datagrams as one byte[] of EV_DATAGRAM qrec records, or null
 * when there are none. */
jbyteArray jserver_take_datagrams(JNIEnv *jenv, jserver *s) {
  return s ? jconn_take(jenv, &s->out) : NULL;
}

/* The queued events as one byte[] of the records above, or null when there
 * are none; SDTLS_E_NOMEM in *lost when an event was dropped or a peer
 * refused for want of memory (lost is an int[1]). */
jbyteArray jserver_take_events(JNIEnv *jenv, jserver *s, int *lost) {
  if (s == NULL) return NULL;
  if (lost != NULL) *lost = s->lost ? SDTLS_E_NOMEM : 0;
  s->lost = 0;
  return jconn_take(jenv, &s->ev);
}
%}

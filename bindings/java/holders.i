/*
 * The Java part of the SWIG interface, after the header (bindings/sdtls.i
 * includes it): the connection holder that the Java layer
 * (bindings/java/src/main/java/dev/sdtls/Connection.java) drives.
 *
 * A holder ("jconn") owns one sdtls_conn and two queues. Its callbacks go
 * to trampolines here that QUEUE what they produce (datagrams to send,
 * events) in C; Java takes a whole queue as one byte[] in one call and
 * splits it itself, so no call crosses from C into Java at all: no JNI
 * global reference, no attached thread, nothing for a garbage collector to
 * order. The Java object frees the holder exactly once (close(), or its
 * Cleaner); the connection holds its own reference to the config, so the
 * config may be closed first (the header's lifetime rules).
 *
 * The key log and the PSK lookup (callbacks into the language) and the
 * multi-peer server are not wrapped for Java yet.
 */

/* Holder functions take the JNIEnv they are called with. */
%typemap(in, numinputs=0) JNIEnv *jenv "$1 = jenv;"
%apply int *OUTPUT { int *lost };

%{
/* The event queue's record, all fields in native byte order, copied in
 * with memcpy (no alignment assumed): six int32 (kind, reason, data_len,
 * detail_len, version_len, cipher_len), then the data, the error detail,
 * the protocol version and the cipher suite, as bytes (the strings are the
 * library's ASCII). java/.../Connection.java reads it with a ByteBuffer. */
typedef struct jconn {
  sdtls_conn *conn;
  bq out; /* [uint32 len][bytes] ... (bq_datagram) */
  bq ev;  /* the records above */
  int lost; /* an event could not be queued (out of memory) */
} jconn;

static void jconn_event(jconn *c, int32_t kind, int32_t reason, const void *data, size_t data_len,
                        const char *detail, const char *version, const char *cipher) {
  int32_t h[6];
  h[0] = kind;
  h[1] = reason;
  h[2] = (int32_t)data_len;
  h[3] = detail ? (int32_t)strlen(detail) : 0;
  h[4] = version ? (int32_t)strlen(version) : 0;
  h[5] = cipher ? (int32_t)strlen(cipher) : 0;
  if (bq_reserve(&c->ev, sizeof h + data_len + (size_t)h[3] + (size_t)h[4] + (size_t)h[5]) != 0) {
    c->lost = 1;
    return;
  }
  bq_put(&c->ev, h, sizeof h);
  bq_put(&c->ev, data, data_len);
  bq_put(&c->ev, detail, (size_t)h[3]);
  bq_put(&c->ev, version, (size_t)h[4]);
  bq_put(&c->ev, cipher, (size_t)h[5]);
}

static int jconn_send_cb(void *user_data, const uint8_t *datagram, size_t len) {
  jconn *c = (jconn *)user_data;
  return bq_datagram(&c->out, datagram, len); /* a failure counts as lost */
}

static void jconn_on_handshake_done(void *user_data) {
  jconn *c = (jconn *)user_data;
  jconn_event(c, EV_HANDSHAKE_DONE, 0, NULL, 0, NULL, sdtls_conn_version(c->conn),
              sdtls_conn_cipher(c->conn));
}

static void jconn_on_data(void *user_data, const uint8_t *data, size_t len) {
  jconn_event((jconn *)user_data, EV_DATA, 0, data, len, NULL, NULL, NULL);
}

static void jconn_on_close(void *user_data, int reason) {
  jconn *c = (jconn *)user_data;
  jconn_event(c, EV_CLOSE, reason, NULL, 0, sdtls_conn_error_detail(c->conn), NULL, NULL);
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
/* A new holder with its connection in SDTLS_STATE_NEW: 0 and *out set, or
 * sdtls_conn_new()'s error (SDTLS_E_NOMEM when the holder cannot be
 * allocated). */
int jconn_new(sdtls_config *config, sdtls_role role, jconn **out) {
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
  int rc = sdtls_conn_new(config, role, &cb, c, &c->conn);
  if (rc != 0) {
    free(c);
    return rc;
  }
  *out = c;
  return 0;
}

/* Frees the connection (without sending) and the holder. Exactly once;
 * NULL is ignored. */
void jconn_free(jconn *c) {
  if (c == NULL) return;
  sdtls_conn_free(c->conn); /* no callback follows a free */
  bq_free(&c->out);
  bq_free(&c->ev);
  free(c);
}

/* The connection, for the header's functions (start, receive, send,
 * queries ...). Valid until jconn_free(). */
sdtls_conn *jconn_handle(jconn *c) { return c ? c->conn : NULL; }

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

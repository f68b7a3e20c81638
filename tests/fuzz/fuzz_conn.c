/* SPDX-License-Identifier: Apache-2.0 */
/* See fuzz_conn.h. Besides the sanitizers, the driver checks what the
 * header promises and aborts (a finding) when it does not hold:
 *   - no datagram larger than the MTU; no callback after a free;
 *   - on_close at most once, and only with a state that has ended;
 *   - on_data within one record's plaintext; a send that fits is sent. */
#include "fuzz_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

typedef struct run {
  sdtls_conn *conn;
  sdtls_time now;
  int64_t mtu;
  int freed;      /* sdtls_conn_free() was called */
  int closes;     /* on_close calls */
  int free_in_cb; /* armed: the next event callback frees the connection */
  int echo;       /* on_data sends the data back */
} run;

static void maybe_free(run *r) {
  if (r->free_in_cb && !r->freed) {
    r->freed = 1;
    sdtls_conn_free(r->conn); /* deferred until the outer call returns */
  }
}

static int cb_send(void *user, const uint8_t *d, size_t len) {
  run *r = user;
  if (r->freed) FINDING("send callback after sdtls_conn_free()");
  if (len == 0 || (int64_t)len > r->mtu) FINDING("datagram of %zu bytes, MTU %lld", len, (long long)r->mtu);
  /* Only queries are allowed here. */
  (void)sdtls_conn_state(r->conn);
  if (sdtls_conn_send(r->conn, d, 1, r->now) != SDTLS_E_IN_CALLBACK)
    FINDING("sdtls_conn_send() inside the send callback was not refused");
  return 0;
}

static void cb_done(void *user) {
  run *r = user;
  if (r->freed) FINDING("on_handshake_done after sdtls_conn_free()");
  if (sdtls_conn_state(r->conn) != SDTLS_STATE_CONNECTED) FINDING("on_handshake_done while not connected");
  if (sdtls_conn_version(r->conn) == NULL || sdtls_conn_cipher(r->conn) == NULL)
    FINDING("connected without version or cipher");
  maybe_free(r);
}

static void cb_data(void *user, const uint8_t *d, size_t len) {
  run *r = user;
  if (r->freed) FINDING("on_data after sdtls_conn_free()");
  if (len == 0 || len > 16384) FINDING("on_data with %zu bytes", len);
  if (r->echo) {
    size_t n = len < sdtls_conn_max_data_size(r->conn) ? len : sdtls_conn_max_data_size(r->conn);
    int rc = sdtls_conn_send(r->conn, d, n, r->now);
    if (rc != 0 && sdtls_conn_state(r->conn) == SDTLS_STATE_CONNECTED)
      FINDING("echo from on_data failed: %s", sdtls_strerror(rc));
  }
  if (sdtls_conn_receive(r->conn, d, len, r->now) != SDTLS_E_IN_CALLBACK)
    FINDING("sdtls_conn_receive() inside on_data was not refused");
  maybe_free(r);
}

static void cb_close(void *user, int reason) {
  run *r = user;
  if (r->freed) FINDING("on_close after sdtls_conn_free()");
  if (++r->closes > 1) FINDING("on_close twice");
  sdtls_state st = sdtls_conn_state(r->conn);
  if (st != SDTLS_STATE_CLOSED && st != SDTLS_STATE_FAILED) FINDING("on_close in state %d", (int)st);
  if (reason > 0 || (reason == 0 && st != SDTLS_STATE_CLOSED)) FINDING("on_close reason %d, state %d", reason, (int)st);
  maybe_free(r);
}

static void misc(run *r, unsigned arg) {
  if (fuzz_script_switch(arg, &r->free_in_cb, &r->echo)) {
    return;
  }
  switch (arg % 8) {
    case FUZZ_MISC_CLOSE:
      if (sdtls_conn_close(r->conn, r->now) != 0) FINDING("sdtls_conn_close() failed");
      break;
    case FUZZ_MISC_EXPORT: {
      uint8_t out[60];
      static const char label[] = "EXTRACTOR-dtls_srtp";
      int rc = sdtls_conn_export_keying_material(r->conn, out, sizeof(out), label, sizeof(label) - 1,
                                                 NULL, 0);
      if (rc != 0 && rc != SDTLS_E_STATE) FINDING("exporter: %s", sdtls_strerror(rc));
      break;
    }
    case FUZZ_MISC_QUERY: {
      const uint8_t *der;
      size_t len;
      uint8_t fp[32];
      (void)sdtls_conn_error(r->conn);
      if (strlen(sdtls_conn_error_detail(r->conn)) >= 256) FINDING("detail too long");
      (void)sdtls_conn_role(r->conn);
      (void)sdtls_conn_max_data_size(r->conn);
      if (sdtls_conn_peer_certificate(r->conn, &der, &len) == 0 && len == 0) FINDING("empty peer certificate");
      (void)sdtls_conn_peer_fingerprint_sha256(r->conn, fp);
      break;
    }
    case FUZZ_MISC_DEADLINE:
      r->now = fuzz_script_deadline(r->now, sdtls_conn_next_deadline(r->conn));
      sdtls_conn_handle_timeout(r->conn, r->now);
      break;
    default:
      (void)sdtls_conn_next_deadline(r->conn);
      break;
  }
}

void fuzz_conn_run(sdtls_role role, const uint8_t *data, size_t size) {
  run r;
  memset(&r, 0, sizeof(r));
  r.now = FUZZ_START_TIME;
  fuzz_in in;
  sdtls_config *config = fuzz_script_start(data, size, role, &in, &r.mtu);
  sdtls_callbacks cb = {sizeof(cb), cb_send, cb_done, cb_data, cb_close};
  if (sdtls_conn_new(config, role, &cb, &r, &r.conn) != 0) abort();
  if (role == SDTLS_ROLE_CLIENT) {
    if (sdtls_conn_set_server_name(r.conn, FUZZ_SERVER_NAME) != 0 || sdtls_conn_start(r.conn, r.now) != 0)
      FINDING("client did not start");
  }
  uint8_t tag;
  while (!r.freed && fuzz_u8(&in, &tag)) {
    const uint8_t *bytes;
    size_t n;
    switch (tag & 3) {
      case FUZZ_OP_DATAGRAM:
        n = fuzz_take(&in, fuzz_u16_or_rest(&in), &bytes);
        sdtls_conn_receive(r.conn, bytes, n, r.now);
        break;
      case FUZZ_OP_TIME:
        r.now = fuzz_script_time(&in, r.now);
        sdtls_conn_handle_timeout(r.conn, r.now);
        break;
      case FUZZ_OP_SEND: {
        n = fuzz_script_send(&in, &bytes);
        int connected = sdtls_conn_state(r.conn) == SDTLS_STATE_CONNECTED;
        int rc = sdtls_conn_send(r.conn, n ? bytes : NULL, n, r.now);
        if (connected && n <= sdtls_conn_max_data_size(r.conn) && rc != 0 &&
            sdtls_conn_state(r.conn) == SDTLS_STATE_CONNECTED)
          FINDING("send of %zu bytes failed: %s", n, sdtls_strerror(rc));
        break;
      }
      default:
        misc(&r, tag >> 2);
        break;
    }
  }
  if (getenv("SDTLS_FUZZ_VERBOSE") != NULL) {
    fprintf(stderr, "fuzz_conn: %s, state %d, error %d (%s), on_close %d\n",
            role == SDTLS_ROLE_CLIENT ? "client" : "server", r.freed ? -1 : (int)sdtls_conn_state(r.conn),
            r.freed ? 0 : sdtls_conn_error(r.conn), r.freed ? "freed" : sdtls_conn_error_detail(r.conn), r.closes);
  }
  if (!r.freed) sdtls_conn_free(r.conn);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The C side of the Go binding; see glue.h. */
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "glue.h"
#include "_cgo_export.h"

#define INITIAL_CAP 2048
#define KEEP_CAP (64 * 1024)

sdtlsgo_box *sdtlsgo_box_new(void) { return calloc(1, sizeof(sdtlsgo_box)); }

void sdtlsgo_box_free(sdtlsgo_box *box) {
  if (box == NULL) return;
  free(box->buf);
  free(box);
}

void sdtlsgo_box_reset(sdtlsgo_box *box) {
  box->len = 0;
  if (box->cap > KEEP_CAP) {
    free(box->buf);
    box->buf = NULL;
    box->cap = 0;
  }
}

/* Appends one record; on a failed allocation the record is dropped (a
 * datagram lost, which DTLS tolerates) and counted. */
static void push(sdtlsgo_box *box, uint32_t kind, int32_t reason, const sdtls_conn *conn,
                 const uint8_t *addr, size_t addr_len, const uint8_t *data, size_t len) {
  size_t need = sizeof(sdtlsgo_rec) + ((addr_len + len + 7) & ~(size_t)7);
  if (len > UINT32_MAX || addr_len > UINT32_MAX || box->len + need < box->len) {
    box->dropped++;
    return;
  }
  if (box->len + need > box->cap) {
    size_t cap = box->cap ? box->cap : INITIAL_CAP;
    while (cap < box->len + need) cap *= 2;
    uint8_t *buf = realloc(box->buf, cap);
    if (buf == NULL) {
      box->dropped++;
      return;
    }
    box->buf = buf;
    box->cap = cap;
  }
  sdtlsgo_rec rec = {kind, reason, (uint32_t)addr_len, (uint32_t)len, (sdtls_conn *)conn};
  uint8_t *p = box->buf + box->len;
  memcpy(p, &rec, sizeof rec);
  if (addr_len) memcpy(p + sizeof rec, addr, addr_len);
  if (len) memcpy(p + sizeof rec + addr_len, data, len);
  box->len += need;
}

static void push_close(sdtlsgo_box *box, const sdtls_conn *conn, int reason) {
  const char *detail = sdtls_conn_error_detail(conn);
  push(box, SDTLSGO_CLOSE, reason, conn, NULL, 0, (const uint8_t *)detail,
       detail ? strlen(detail) : 0);
}

/* ---- the calls that may call back into Go ----
 *
 * Each call below that drives a handle pushes a frame naming the handle's
 * box on this thread's stack of them for its duration: the callbacks into
 * Go hand the innermost box to Go (a panic is recorded there, for the Go
 * caller of that call), and sdtlsgo_driving() tells Go whether the
 * goroutine asking runs inside a callback of a given handle's call. */

typedef struct frame {
  const sdtlsgo_box *box;
  const struct frame *outer;
} frame;

static _Thread_local const frame *innermost;

static void enter(frame *f, const sdtlsgo_box *box) {
  f->box = box;
  f->outer = innermost;
  innermost = f;
}

static void leave(const frame *f) { innermost = f->outer; }

/* The box of the call that made the callback in progress. */
static sdtlsgo_box *current_box(void) {
  return innermost != NULL ? (sdtlsgo_box *)innermost->box : NULL;
}

int sdtlsgo_driving(const sdtlsgo_box *box) {
  for (const frame *f = innermost; f != NULL; f = f->outer) {
    if (f->box == box) return 1;
  }
  return 0;
}

/* ---- a connection of its own (sdtls_conn_new) ---- */

static int conn_send(void *user, const uint8_t *datagram, size_t len) {
  push(user, SDTLSGO_SEND, 0, NULL, NULL, 0, datagram, len);
  return 0;
}
static void conn_done(void *user) { push(user, SDTLSGO_DONE, 0, NULL, NULL, 0, NULL, 0); }
static void conn_data(void *user, const uint8_t *data, size_t len) {
  push(user, SDTLSGO_DATA, 0, NULL, NULL, 0, data, len);
}
/* The detail needs the connection, which the callback does not get: the
 * record is completed by the caller (closeDetail in Go) instead. */
static void conn_close(void *user, int reason) {
  push(user, SDTLSGO_CLOSE, reason, NULL, NULL, 0, NULL, 0);
}

int sdtlsgo_conn_new(sdtls_config *config, int role, sdtlsgo_box *box, sdtls_conn **out) {
  sdtls_callbacks cb = {.size = sizeof(sdtls_callbacks),
                        .send = conn_send,
                        .on_handshake_done = conn_done,
                        .on_data = conn_data,
                        .on_close = conn_close};
  return sdtls_conn_new(config, (sdtls_role)role, &cb, box, out);
}

/* The end of each call below on a connection: the deadline it leaves, the
 * frame popped, the call's result passed on. */
static int conn_leave(const frame *f, const sdtls_conn *conn, int rc, sdtls_time *deadline) {
  *deadline = sdtls_conn_next_deadline(conn);
  leave(f);
  return rc;
}

int sdtlsgo_conn_start(sdtls_conn *conn, sdtlsgo_box *box, sdtls_time now, sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  return conn_leave(&f, conn, sdtls_conn_start(conn, now), deadline);
}

int sdtlsgo_conn_receive(sdtls_conn *conn, sdtlsgo_box *box, const uint8_t *data, size_t len,
                         sdtls_time now, sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  return conn_leave(&f, conn, sdtls_conn_receive(conn, data, len, now), deadline);
}

int sdtlsgo_conn_send(sdtls_conn *conn, sdtlsgo_box *box, const uint8_t *data, size_t len,
                      sdtls_time now, sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  return conn_leave(&f, conn, sdtls_conn_send(conn, data, len, now), deadline);
}

int sdtlsgo_conn_handle_timeout(sdtls_conn *conn, sdtlsgo_box *box, sdtls_time now,
                                sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  return conn_leave(&f, conn, sdtls_conn_handle_timeout(conn, now), deadline);
}

int sdtlsgo_conn_key_update(sdtls_conn *conn, sdtlsgo_box *box, sdtls_time now,
                            sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  return conn_leave(&f, conn, sdtls_conn_key_update(conn, now), deadline);
}

/* ---- a server and the connections it owns ---- */

static int server_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *datagram,
                       size_t len) {
  push(user, SDTLSGO_SEND, 0, NULL, addr, addr_len, datagram, len);
  return 0;
}
/* With a hook set, Go is asked here, inside on_connect, the one place where
 * a server's connection takes sdtls_conn_add_peer_fingerprint(). A refused
 * peer is closed before its ClientHello is fed (nothing is sent to it) and
 * gets no CONNECT record: its CLOSE record then names no view. */
static void server_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  sdtlsgo_box *box = user;
  if (box->on_connect != 0 &&
      sdtlsgoOnConnect(box->on_connect, box, conn, (uint8_t *)addr, addr_len) != 0) {
    sdtls_conn_close(conn, box->now);
    return;
  }
  push(box, SDTLSGO_CONNECT, 0, conn, addr, addr_len, NULL, 0);
}
static void server_done(void *user, sdtls_conn *conn) {
  push(user, SDTLSGO_DONE, 0, conn, NULL, 0, NULL, 0);
}
static void server_data(void *user, sdtls_conn *conn, const uint8_t *data, size_t len) {
  push(user, SDTLSGO_DATA, 0, conn, NULL, 0, data, len);
}
static void server_close(void *user, sdtls_conn *conn, int reason) {
  push_close(user, conn, reason);
}

int sdtlsgo_server_new(sdtls_config *config, sdtlsgo_box *box, sdtls_server **out) {
  sdtls_server_callbacks cb = {.size = sizeof(sdtls_server_callbacks),
                               .send = server_send,
                               .on_connect = server_connect,
                               .on_handshake_done = server_done,
                               .on_data = server_data,
                               .on_close = server_close};
  return sdtls_server_new(config, &cb, box, out);
}

int sdtlsgo_server_receive(sdtls_server *server, sdtlsgo_box *box, const uint8_t *addr,
                           size_t addr_len, const uint8_t *data, size_t len, sdtls_time now,
                           sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  box->now = now; /* for a refusal in server_connect */
  int rc = sdtls_server_receive(server, addr, addr_len, data, len, now);
  /* A busy server's reads never time out: run due timers here too. */
  if (rc == 0 && sdtls_server_next_deadline(server) <= now) {
    rc = sdtls_server_handle_timeout(server, now);
  }
  *deadline = sdtls_server_next_deadline(server);
  leave(&f);
  return rc;
}

int sdtlsgo_server_handle_timeout(sdtls_server *server, sdtlsgo_box *box, sdtls_time now,
                                  sdtls_time *deadline) {
  frame f;
  enter(&f, box);
  int rc = sdtls_server_handle_timeout(server, now);
  *deadline = sdtls_server_next_deadline(server);
  leave(&f);
  return rc;
}

/* ---- callbacks into Go, through a cgo.Handle ---- */

static size_t psk_lookup(void *user, const char *identity, uint8_t *key, size_t key_max) {
  return sdtlsgoPSKLookup((uintptr_t)user, current_box(), (char *)identity, key, key_max);
}

int sdtlsgo_config_set_psk_lookup(sdtls_config *config, uintptr_t handle) {
  return sdtls_config_set_psk_lookup(config, psk_lookup, (void *)handle);
}

static void keylog(void *user, const char *line) {
  sdtlsgoKeylog((uintptr_t)user, current_box(), (char *)line);
}

int sdtlsgo_config_set_keylog(sdtls_config *config, uintptr_t handle) {
  return sdtls_config_set_keylog(config, keylog, (void *)handle);
}

/* ---- for the tests ---- */

size_t sdtlsgo_c_sizeof(int which) {
  switch (which) {
    case 1: return sizeof(sdtls_callbacks);
    case 2: return sizeof(sdtls_server_callbacks);
    case 3: return sizeof(sdtls_srtp_keying);
    case 4: return sizeof(sdtlsgo_rec);
    case 5: return sizeof(sdtls_time);
    default: return 0;
  }
}

size_t sdtlsgo_c_offsetof(int which) {
  switch (which) {
    case 1: return offsetof(sdtls_srtp_keying, profile);
    case 2: return offsetof(sdtls_srtp_keying, key_len);
    case 3: return offsetof(sdtls_srtp_keying, salt_len);
    case 4: return offsetof(sdtls_srtp_keying, client_write);
    case 5: return offsetof(sdtls_srtp_keying, server_write);
    case 6: return offsetof(sdtls_srtp_keying, local_write);
    case 7: return offsetof(sdtls_srtp_keying, remote_write);
    case 8: return offsetof(sdtlsgo_rec, reason);
    case 9: return offsetof(sdtlsgo_rec, addr_len);
    case 10: return offsetof(sdtlsgo_rec, len);
    case 11: return offsetof(sdtlsgo_rec, conn);
    case 12: return offsetof(sdtls_server_callbacks, on_close);
    case 13: return offsetof(sdtls_callbacks, on_close);
    default: return (size_t)-1;
  }
}

size_t sdtlsgo_c_heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#else
  return 0;
#endif
}

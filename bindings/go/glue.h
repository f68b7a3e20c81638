/* SPDX-License-Identifier: Apache-2.0 */
/* The C side of the Go binding: trampolines that QUEUE what sdtls's
 * callbacks produce (datagrams to send, received data, events) in C memory,
 * so that Go crosses into C once per call and reads the whole queue after it
 * returns, instead of C calling into Go once per datagram. Only the PSK
 * lookup, the key log and a Listener's on_connect hook
 * (Config.GetPeerFingerprints) call into Go, and only when the user set
 * them.
 *
 * Nothing here keeps a Go pointer: a connection's or server's user_data is a
 * box allocated here; the PSK, key log and on_connect user_data is a
 * runtime/cgo.Handle (an integer). Declarations only: this header is included by a Go file
 * that has //export functions. */
#ifndef SDTLSGO_GLUE_H
#define SDTLSGO_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include <sdtls/sdtls.h>

/* Kinds of queue records. */
enum {
  SDTLSGO_SEND = 1,    /* a datagram to send (server: to addr) */
  SDTLSGO_DATA = 2,    /* application data from the peer */
  SDTLSGO_DONE = 3,    /* handshake finished */
  SDTLSGO_CLOSE = 4,   /* the connection ended: reason, payload = detail */
  SDTLSGO_CONNECT = 5  /* server: a cookie-verified peer got a connection */
};

/* One record in a queue: this header, then addr_len bytes of address, then
 * len bytes of payload, then padding to a multiple of 8. Go reads these
 * directly (recHeader in cgo.go mirrors it; a test checks the layout).
 * Not the qrec of bindings/sdtls.i, which Python and Java share: a cgo
 * package compiles only C files of its own directory, and can include a
 * header only from its module (a `go get` of sdtls.dev/sdtls fetches
 * bindings/go alone); and Go reads records in place, aligned, naming the
 * connection by pointer, where SWIG's languages copy them out and name
 * connections by slot id. */
typedef struct sdtlsgo_rec {
  uint32_t kind;
  int32_t reason;
  uint32_t addr_len;
  uint32_t len;
  sdtls_conn *conn; /* server records: the connection; else NULL */
} sdtlsgo_rec;

/* What callbacks produced since Go last read it. `dropped` counts records
 * lost to a failed allocation. A server's box also carries its on_connect
 * hook (a runtime/cgo.Handle, 0 for none) and the time of the call in
 * progress, which a refusal from the hook needs to close the peer.
 * `panicked` is set by Go when a user callback made during the call in
 * progress panicked (Go keeps the panic until the caller takes it). */
typedef struct sdtlsgo_box {
  uint8_t *buf;
  size_t len;
  size_t cap;
  uint64_t dropped;
  uintptr_t on_connect;
  sdtls_time now;
  int panicked;
} sdtlsgo_box;

sdtlsgo_box *sdtlsgo_box_new(void);
void sdtlsgo_box_free(sdtlsgo_box *box);
/* Empties the queue; gives memory back when a burst made it large. */
void sdtlsgo_box_reset(sdtlsgo_box *box);

int sdtlsgo_conn_new(sdtls_config *config, int role, sdtlsgo_box *box, sdtls_conn **out);
/* The calls that may produce records, each also returning the connection's
 * next deadline through *deadline, so one crossing does both. `box` is the
 * connection's (a server's connection: its server's): user callbacks made
 * during the call report to it (sdtlsgo_driving). */
int sdtlsgo_conn_start(sdtls_conn *conn, sdtlsgo_box *box, sdtls_time now, sdtls_time *deadline);
int sdtlsgo_conn_receive(sdtls_conn *conn, sdtlsgo_box *box, const uint8_t *data, size_t len,
                         sdtls_time now, sdtls_time *deadline);
int sdtlsgo_conn_send(sdtls_conn *conn, sdtlsgo_box *box, const uint8_t *data, size_t len,
                      sdtls_time now, sdtls_time *deadline);
int sdtlsgo_conn_handle_timeout(sdtls_conn *conn, sdtlsgo_box *box, sdtls_time now,
                                sdtls_time *deadline);
int sdtlsgo_conn_key_update(sdtls_conn *conn, sdtlsgo_box *box, sdtls_time now,
                            sdtls_time *deadline);

int sdtlsgo_server_new(sdtls_config *config, sdtlsgo_box *box, sdtls_server **out);
/* `box` is the server's (its user_data). */
int sdtlsgo_server_receive(sdtls_server *server, sdtlsgo_box *box, const uint8_t *addr,
                           size_t addr_len, const uint8_t *data, size_t len, sdtls_time now,
                           sdtls_time *deadline);
int sdtlsgo_server_handle_timeout(sdtls_server *server, sdtlsgo_box *box, sdtls_time now,
                                  sdtls_time *deadline);

/* 1 if the calling thread is inside one of the calls above made with
 * `box`, at any depth (a callback may drive other handles), else 0. A
 * goroutine that C calls back into stays on the calling thread until it
 * returns: this tells Go whether a goroutine runs inside a callback of a
 * given handle's call. `box` is only compared, never read. */
int sdtlsgo_driving(const sdtlsgo_box *box);

/* PSK lookup and key log through a runtime/cgo.Handle. */
int sdtlsgo_config_set_psk_lookup(sdtls_config *config, uintptr_t handle);
int sdtlsgo_config_set_keylog(sdtls_config *config, uintptr_t handle);

/* For the drift test: what the C compiler says about the header's structs. */
size_t sdtlsgo_c_sizeof(int which);
size_t sdtlsgo_c_offsetof(int which);
/* Bytes the C heap holds now (glibc's mallinfo2), for the benchmark. */
size_t sdtlsgo_c_heap_in_use(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark's two halves: the driver (bench_main.c: timing, counting,
 * JSON output, the in-memory wire) and one backend per executable
 * (backend_sdtls.c for sdtls through its public ABI, backend_raw.c for
 * BoringSSL or OpenSSL driven directly). The driver includes no TLS header,
 * so it is the same code in every executable; BoringSSL and OpenSSL export
 * the same symbol names and cannot share a process.
 *
 * Everything runs on one thread. Datagrams never touch a socket: what one
 * side sends is appended to the other side's inbox (a FIFO of datagrams),
 * and the backend feeds each inbox to its endpoint. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* MTU of the pairs used for handshakes, memory and the server figures. */
#define BENCH_MTU_HANDSHAKE 1200
/* MTU of the pairs used for the data figures: an 8000-byte record plus the
 * 37 bytes of DTLS 1.2 AES-GCM overhead must fit one datagram. The same for
 * every variant (only sdtls enforces it; the engines do not check the MTU on
 * application writes). */
#define BENCH_MTU_DATA 8192
/* Largest datagram the wire carries. */
#define BENCH_MAX_DATAGRAM (16384 + 2048)

/* ---- the wire (bench_main.c) ---- */

typedef struct bench_datagram {
  struct bench_datagram *next;
  size_t len;
  uint8_t data[BENCH_MAX_DATAGRAM];
} bench_datagram;

/* One endpoint's inbox: datagrams sent to it, oldest first. Two pointers;
 * the datagram buffers come from a pool made before anything is measured,
 * so the wire allocates nothing while the libraries run. */
typedef struct bench_inbox {
  bench_datagram *head, *tail;
} bench_inbox;

/* Copies one datagram into `inbox`. Aborts on a datagram larger than
 * BENCH_MAX_DATAGRAM. */
void bench_inbox_push(bench_inbox *inbox, const uint8_t *data, size_t len);
/* The oldest datagram, or NULL; give it back with bench_datagram_release(). */
bench_datagram *bench_inbox_pop(bench_inbox *inbox);
void bench_datagram_release(bench_datagram *d);
/* Drops everything in `inbox`. */
void bench_inbox_clear(bench_inbox *inbox);

/* Datagrams and bytes pushed since the start (for the info line). */
extern uint64_t bench_wire_datagrams, bench_wire_bytes;

/* The caller's clock for libraries that take time as an argument (sdtls):
 * CLOCK_MONOTONIC in nanoseconds, read by the driver once per batch of
 * measured operations (and before every setup step), not per call. */
extern uint64_t bench_cached_now;
static inline uint64_t bench_now(void) { return bench_cached_now; }

/* ---- allocation counting (malloc_count.c) ---- */

/* Calls of malloc, calloc, realloc and the aligned allocators, and of free
 * with a non-NULL pointer, since the start of the process. */
extern uint64_t bench_alloc_calls, bench_free_calls;

/* ---- the backend each executable links ---- */

typedef struct bench_pair bench_pair; /* backend-defined; pair_size bytes */

typedef struct bench_backend {
  size_t pair_size;

  /* Once, before anything else: certificates, configurations/contexts. The
   * certificate is a P-256 ECDSA one made now; nothing is read from disk.
   * Returns 0. */
  int (*init)(void);

  /* A client and a server in `p` (pair_size bytes, zeroed), each sending
   * datagrams of at most `mtu` bytes into the other's inbox, not started.
   * Returns 0. */
  int (*pair_init)(bench_pair *p, int mtu);
  /* Runs a full handshake to completion on both sides and drains the
   * inboxes. Returns 0 when both ends are established. */
  int (*pair_handshake)(bench_pair *p);
  /* The client writes `len` bytes as one record; the datagram goes into the
   * server's inbox and the server reads it. Returns 0 when the server got
   * exactly `len` bytes in one record. */
  int (*pair_send)(bench_pair *p, const uint8_t *data, size_t len);
  void (*pair_destroy)(bench_pair *p);
  /* Writes a JSON object body (no braces) describing an established pair:
   * protocol, cipher, engine, ... */
  void (*pair_info)(bench_pair *p, char *out, size_t out_len);

  /* One resumed (abbreviated) handshake: a fresh client and server, the
   * client offering a session saved from an earlier full handshake, freed
   * again. Returns 0 when both agree the session was resumed.
   * NULL: the variant cannot resume; `resume_note` says why. Adding
   * resumption to a variant is writing this one function. */
  int (*resumed_handshake)(void);
  const char *resume_note;

  /* sdtls_server only (NULL elsewhere; `server_note` says why). */
  int (*server_setup)(void);
  /* A ClientHello without cookie from address number `i` (all distinct
   * within a run); returns 0 when it was answered by one HelloVerifyRequest
   * and no state was kept. */
  int (*server_hello_verify)(uint64_t i);
  /* A new client at address number `i` through the whole exchange:
   * ClientHello, HelloVerifyRequest, ClientHello with cookie, handshake,
   * then close_notify, after which the server has no peer. Returns 0. */
  int (*server_connection)(uint64_t i);
  void (*server_teardown)(void);
  /* Memory per server peer (NULL where server_setup is): before
   * server_setup(), the most peers the server will hold (0: the default). */
  void (*server_set_max_peers)(size_t n);
  /* Makes `n` established, idle peers on the server set up by
   * server_setup(), each through the whole cookie exchange and handshake
   * from a new address (numbers first..first+n-1); each client is freed
   * once established, without close_notify, so that only the server's side
   * stays. Returns 0 when the server holds n more peers. */
  int (*server_peers_up)(uint64_t first, size_t n);
  const char *server_note;
} bench_backend;

extern const bench_backend bench_impl;

/* The frame of the backends' resumption steps (bench_main.c): in a pair
 * the driver keeps for it (zeroed first), made by `init`, then `before`
 * (none when NULL), the pair's handshake, `after`, each only when all
 * before it returned 0; `destroy` in any case. Returns 0 when all did. */
int bench_pair_once(int (*init)(bench_pair *p), int (*before)(bench_pair *p),
                    int (*after)(bench_pair *p), void (*destroy)(bench_pair *p));

#endif

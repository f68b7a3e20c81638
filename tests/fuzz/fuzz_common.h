/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the libFuzzer targets, their replay driver and the corpus maker.
 *
 * Everything here runs in the fuzz build only (cmake -DSDTLS_FUZZ=ON), where
 * the embedded engine is compiled in BoringSSL's UNSAFE fuzzer mode: its
 * randomness is a fixed stream, and it skips signature, Finished and record
 * authentication checks, so mutated handshakes get as deep as real ones.
 * The library's own time is the caller's clock, fixed here. An input thus
 * behaves the same in every run and every process (fuzz_begin() puts the
 * engine's random stream back to its start before each input).
 *
 * The inputs of the datagram targets are scripts of operations, so that
 * mutations keep datagram boundaries (tests/fuzz/README.md):
 *   tag byte: low 2 bits the operation, high 6 bits its argument
 *   FUZZ_OP_DATAGRAM  u16 length (big-endian), then the bytes: deliver it
 *                     (argument: the source address, for the server target)
 *   FUZZ_OP_TIME      u8 n: move the clock (fuzz_time_step) and run timers
 *   FUZZ_OP_SEND      u8 length, then the bytes: sdtls_conn_send()
 *   FUZZ_OP_MISC      argument picks: close, exporter, queries, run to the
 *                     next deadline, ...
 * A short or missing length takes what is left. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sdtls.h"

#define FUZZ_MS UINT64_C(1000000)
/* Nonzero, far from the ends of the range. */
#define FUZZ_START_TIME (UINT64_C(1000000) * FUZZ_MS)

#define FUZZ_OP_DATAGRAM 0
#define FUZZ_OP_TIME 1
#define FUZZ_OP_SEND 2
#define FUZZ_OP_MISC 3

/* FUZZ_OP_MISC arguments. */
#define FUZZ_MISC_CLOSE 0
#define FUZZ_MISC_EXPORT 1
#define FUZZ_MISC_QUERY 2
#define FUZZ_MISC_DEADLINE 3 /* clock to the next deadline, then the timers */
#define FUZZ_MISC_COUNT 4
#define FUZZ_MISC_FREE_IN_CB 4 /* the next callback frees the connection or server */
#define FUZZ_MISC_ECHO 5       /* on_data sends the data back, or no longer */

/* Configuration variants (the first byte of a datagram target's input). A
 * client of variant v is meant to talk to a server of variant v. */
#define FUZZ_CFG_PLAIN 0       /* no verification, ECDSA certificate */
#define FUZZ_CFG_VERIFY 1      /* client verifies "server.test" against its CA and
                                  shows a certificate; server requires one */
#define FUZZ_CFG_SMALL_MTU 2   /* MTU 256: fragmented handshake messages */
#define FUZZ_CFG_COUNT 3

#define FUZZ_SERVER_NAME "server.test"

/* A broken promise of the header: reported like a crash. */
#define FINDING(...)                                \
  do {                                              \
    fprintf(stderr, "FINDING: " __VA_ARGS__);       \
    fputc('\n', stderr);                            \
    abort();                                        \
  } while (0)

/* Once per process: certificates and configurations. Safe to call again. */
void fuzz_setup(void);
/* Before each input: the engine's random stream back to its start, the
 * error queue empty. */
void fuzz_begin(void);

/* Frozen configurations for a role and variant (owned here; the caller
 * must not free them). */
sdtls_config *fuzz_config(sdtls_role role, unsigned variant);

/* PEM of the set-up certificates (ECDSA P-256, made by the openssl CLI at
 * build time): 0 = "server.test", 1 = "client.test". And an RSA-2048
 * certificate (0) and its key (1). */
const char *fuzz_cert_pem(int which);
const char *fuzz_key_pem(int which);
const char *fuzz_rsa_pem(int key);

/* The clock step of FUZZ_OP_TIME: 10 ms steps up to 1.27 s, then 5 s steps
 * up to about 11 minutes (past every handshake and idle timeout). */
uint64_t fuzz_time_step(uint8_t n);

/* A reader over the input. */
typedef struct fuzz_in {
  const uint8_t *p;
  size_t n;
} fuzz_in;

int fuzz_u8(fuzz_in *in, uint8_t *out); /* 0 when the input is exhausted */
uint16_t fuzz_u16_or_rest(fuzz_in *in); /* a length; the rest when short */
/* Takes up to `want` bytes; returns how many (pointing *out at them). */
size_t fuzz_take(fuzz_in *in, size_t want, const uint8_t **out);

/* ---- the script of the datagram targets (fuzz_conn.c, server_frontend.c) ---- */

/* Its start: fuzz_setup(), fuzz_begin(), *in over the input, and the frozen
 * configuration for `role` of the variant its first byte picks (*mtu: that
 * configuration's MTU). */
sdtls_config *fuzz_script_start(const uint8_t *data, size_t size, sdtls_role role, fuzz_in *in,
                                int64_t *mtu);
/* FUZZ_OP_TIME's clock: its byte read, `now` moved by fuzz_time_step(). */
sdtls_time fuzz_script_time(fuzz_in *in, sdtls_time now);
/* FUZZ_OP_SEND's bytes: its length byte read, up to that many taken (*out);
 * returns how many. */
size_t fuzz_script_send(fuzz_in *in, const uint8_t **out);
/* FUZZ_MISC_DEADLINE's clock: `deadline` when it is later than `now` (and
 * not SDTLS_TIME_NEVER), else `now`. */
sdtls_time fuzz_script_deadline(sdtls_time now, sdtls_time deadline);
/* FUZZ_MISC_FREE_IN_CB arms *free_in_cb, FUZZ_MISC_ECHO flips *echo (by
 * `arg` % 8). Returns 1 when `arg` was one of them. */
int fuzz_script_switch(unsigned arg, int *free_in_cb, int *echo);

/* Peer addresses the server target can use: index & 3 -> two IPv4, one
 * IPv6 and one IPv4 that differs from the first only in the port. */
const uint8_t *fuzz_addr(unsigned index, size_t *len);

/* A growing output buffer (for the corpus maker). */
typedef struct fuzz_out {
  uint8_t *buf;
  size_t len, cap;
} fuzz_out;
void fuzz_out_u8(fuzz_out *o, uint8_t v);
void fuzz_out_u16(fuzz_out *o, uint16_t v);
void fuzz_out_bytes(fuzz_out *o, const uint8_t *d, size_t len);
void fuzz_out_datagram(fuzz_out *o, unsigned arg, const uint8_t *d, size_t len);
void fuzz_out_free(fuzz_out *o);

#endif

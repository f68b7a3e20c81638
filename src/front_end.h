/* SPDX-License-Identifier: Apache-2.0 */
/* The server's stateless front end (docs/design.md, "Stateless cookie
 * exchange"): what happens to a datagram before a connection exists for
 * its address. It parses the ClientHello (wire.c), reassembles one that
 * came in fragments within a bounded budget, answers statelessly with a
 * HelloVerifyRequest or a DTLS 1.3 HelloRetryRequest cookie (cookie.c), and
 * admits the ClientHello that proves its address: the server (server.c)
 * then creates the connection. It never calls the application: its
 * answers are returned for the server to send. Not thread-safe. Not
 * installed. */
#ifndef SDTLS_FRONT_END_H
#define SDTLS_FRONT_END_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "internal.h"
#include "peer_table.h"
#include "wire.h"

/* The largest ClientHello taken in fragments (an X25519MLKEM768 one is
 * about 1.5 KB). */
#define SDTLS_MAX_PENDING_BYTES 8192
/* How many addresses may have a ClientHello in reassembly at once (also at
 * most SDTLS_OPT_MAX_HANDSHAKES: the budget that front_end.c's
 * pending_make_room shares out). */
#define SDTLS_MAX_PENDING 256

/* A datagram as the server received it. */
typedef struct sdtls_received {
  sdtls_peer_key key;   /* its source, normalised */
  uint64_t hash;        /* the key's hash in the server's peer table */
  const uint8_t *addr;  /* its source as the send callback gets it */
  size_t addr_len;
  const uint8_t *data;  /* the datagram, or a reassembled ClientHello */
  size_t len;
  uint64_t bytes_in;    /* bytes received for it: an answer is never larger */
  sdtls_time now;
} sdtls_received;

typedef struct sdtls_pending_ch sdtls_pending_ch;

typedef struct sdtls_front_end {
  sdtls_cookie_keys keys;
  SSL_CTX *ctx;       /* the config's: which suite and group the engine picks */
  bool cookies;       /* SDTLS_OPT_COOKIES */
  bool hrr_cookies;   /* the engine glue takes a stateless HelloRetryRequest */
  bool allow_dtls13;  /* the config lets DTLS 1.3 be negotiated */
  uint64_t net_key[2];   /* keys the networks' ids (network_of) */
  uint64_t evict_key[2]; /* keys the eviction choices (draw) */
  uint64_t evict_draws;
  sdtls_pending_ch *pending[SDTLS_MAX_PENDING]; /* in reassembly, oldest first */
  size_t n_pending, max_pending;
  uint64_t *counters; /* the server's, indexed by sdtls_server_counter */
} sdtls_front_end;

/* Sets up `fe` for a server made from `config` (frozen), counting into
 * `counters`. Returns 0 or SDTLS_E_INTERNAL (no randomness); either way
 * Sdtls_front_end_free() is then safe. */
int Sdtls_front_end_init(sdtls_front_end *fe, const sdtls_config *config, uint64_t *counters);

/* Frees the reassemblies and wipes the cookie secrets. */
void Sdtls_front_end_free(sdtls_front_end *fe);

typedef enum sdtls_verdict {
  /* A datagram for the known peer's connection. */
  SDTLS_VERDICT_CONNECTION,
  /* Nothing to do: dropped (and counted), or a fragment kept. */
  SDTLS_VERDICT_NONE,
  /* Send `reply` to the source; nothing is kept. */
  SDTLS_VERDICT_REPLY,
  /* `hello` may create a connection (replacing the known peer's). */
  SDTLS_VERDICT_ADMIT
} sdtls_verdict;

/* What the front end decided, and what the server needs to act on it. */
typedef struct sdtls_decision {
  /* SDTLS_VERDICT_REPLY: */
  uint8_t reply[SDTLS_MAX_HRR];
  size_t reply_len;
  bool reply_is_cookie; /* counts as SDTLS_COUNTER_COOKIES_SENT once sent */
  /* SDTLS_VERDICT_ADMIT: the ClientHello datagram (`hello.data`, which may
   * be `whole`), parsed; whether the engine glue must take over the cookie
   * exchange's sequence numbers, and the DTLS 1.3 transcript it starts
   * from (prefix, or NULL). */
  sdtls_received hello;
  sdtls_client_hello ch;
  bool handover;
  const uint8_t *prefix;
  size_t prefix_len;
  uint8_t prefix_buf[SDTLS_MAX_HRR_TRANSCRIPT];
  /* A ClientHello reassembled from fragments (whole_len 0 when none): the
   * server wipes it when done. */
  uint8_t whole[SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN +
                SDTLS_MAX_PENDING_BYTES];
  size_t whole_len;
} sdtls_decision;

/* Decides what to do with `rx`, a datagram whose first record header is
 * valid, from an address with no connection (known_random NULL) or from a
 * known peer's (known_random: the client random of the ClientHello that
 * made its connection; a ClientHello with another one is the client
 * starting over, RFC 6347 4.2.8). Fills `out` as the verdict says (only
 * the members it names). Returns the verdict, or SDTLS_E_NOMEM. */
int Sdtls_front_end_receive(sdtls_front_end *fe, const sdtls_received *rx,
                            const uint8_t *known_random, sdtls_decision *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: an sdtls_conn attached to one side of a netsim, with
 * callbacks that record everything and can misbehave on request. */
#ifndef SIMPEER_H
#define SIMPEER_H

#include <stddef.h>
#include <stdint.h>

#include "netsim.h"
#include "sdtls.h"
#include "testcert.h"

#define PEER_MAX_MSGS 1024

typedef struct peer {
  netsim *sim;
  int side;
  const char *name;
  sdtls_conn *conn;

  /* What the callbacks saw. */
  int handshake_done; /* number of on_handshake_done calls */
  sdtls_time handshake_time;
  int close_calls;
  int close_reason;
  sdtls_time close_time;
  size_t n_msgs; /* on_data calls */
  uint8_t *msgs[PEER_MAX_MSGS];
  size_t msg_len[PEER_MAX_MSGS];
  int callbacks_after_free;
  int send_calls; /* send callback calls */

  /* Misbehaviour on request. */
  int echo;               /* on_data sends the data back */
  int echo_rc;            /* the last sdtls_conn_send() result from on_data */
  int reenter_in_data;    /* on_data calls receive/handle_timeout/start/... */
  int reenter_rc[5];      /* their results */
  int free_in_data;       /* on_data frees the connection */
  int free_in_handshake_done;
  int free_in_close;
  int close_in_data;      /* on_data calls sdtls_conn_close() */
  int close_in_data_rc;
  int send_in_send_cb;    /* the send callback calls sdtls_conn_send() */
  int send_in_send_rc;
  int query_in_send_cb;   /* the send callback reads state (allowed) */
  int free_in_send;       /* the send callback frees the connection */
  int drop_sends;         /* the send callback returns -1 */
  int greet_in_handshake_done; /* on_handshake_done sends "hello" */
  int greet_rc;
  int freed;
} peer;

/* Initialises `p` (zeroed) for side `side` of `sim`. */
void peer_init(peer *p, netsim *sim, int side, const char *name);
/* Creates p->conn with `config` and `role` and attaches it to the sim.
 * Returns the sdtls_conn_new() result. */
int peer_connect_new(peer *p, sdtls_config *config, sdtls_role role);
/* Frees the connection (if any) and recorded messages. */
void peer_cleanup(peer *p);
/* The callbacks used by peer_connect_new(). */
sdtls_callbacks peer_callbacks(void);

/* Two peers on one simulator: [0] the client on side A, [1] the server on
 * side B, with the configs they were made from. */
typedef struct fixture {
  netsim *sim;
  peer p[2];
  sdtls_config *cc, *sc;
} fixture;

#define CLIENT(fx) ((fx)->p[0].conn)
#define SERVER(fx) ((fx)->p[1].conn)

/* Step 1: zeroes `fx`, takes over the configs (freed by fixture_teardown(),
 * also after a failure; options may still be set on fx->cc / fx->sc) and
 * makes the simulator, its clock at `start`. Returns 1 when the configs and
 * the simulator are all there. */
int fixture_init(fixture *fx, uint64_t seed, sdtls_time start, sdtls_config *cc,
                 sdtls_config *sc);
/* Step 2: makes both connections, which freezes the configs. Returns 1, or
 * 0 on failure (printed). */
int fixture_conns(fixture *fx);
/* Frees the connections, the configs and the simulator; zeroes `fx`. */
void fixture_teardown(fixture *fx);

/* A config: `own` (may be NULL) as this endpoint's certificate,
 * VERIFY_PEER = verify, `trust` (may be NULL) as the CA. NULL on error
 * (printed). */
sdtls_config *config_make(const testcert *own, int verify, const testcert *trust);

/* Predicates for netsim_run(); ctx is a peer[2] array. */
int pair_connected(void *ctx); /* both saw on_handshake_done, or one ended */
int pair_ended(void *ctx);     /* either side FAILED or CLOSED */
int peer_ended(void *ctx);     /* ctx is one peer: FAILED, CLOSED or freed */

/* Runs a client (a) / server (b) handshake: starts a, runs the sim until both
 * are connected or one fails, at most `max_duration` virtual ns.
 * Returns 1 when both are CONNECTED. */
int pair_handshake(peer pair[2], sdtls_time max_duration);

/* Links of 10 ms both ways, and the client started at the simulator's
 * time: that time (0, with the failure recorded, when it did not start). */
sdtls_time start_on_slow_links(fixture *fx);

/* The server vanishes (its connection freed) and whatever the client sends
 * from now on is lost; runs until the client has ended, at most 60 s. */
void server_vanishes(fixture *fx);

/* Datagrams a test carries itself (sdtls_server tests without netsim):
 * at most DGRAM_QUEUE_LEN of at most 2048 bytes, the rest dropped. */
#define DGRAM_QUEUE_LEN 64
typedef struct dgram_queue {
  uint8_t data[DGRAM_QUEUE_LEN][2048];
  size_t len[DGRAM_QUEUE_LEN];
  size_t n;
} dgram_queue;

void dgram_push(dgram_queue *q, const uint8_t *d, size_t len);

/* Test payloads that check themselves: message `index` from `sender`
 * (len >= 8). */
void payload_make(uint8_t *buf, size_t len, int sender, unsigned index);
/* Returns the index of a valid payload from `sender`, or -1 if damaged. */
int payload_check(const uint8_t *buf, size_t len, int sender);

/* Lower-cased letters and digits of `s` only ("Unknown CA" -> "unknownca"). */
void squash(const char *s, char *out, size_t out_len);

#endif

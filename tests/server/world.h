/* SPDX-License-Identifier: Apache-2.0 */
/* The in-process world of the server tests: one sdtls_server and many sdtls
 * client connections, datagrams carried by queues, a virtual clock, and an
 * independent reading of the wire (RFC 6347) to look at what is sent.
 * Nothing here sleeps or touches a socket. Used by cookie_test.c,
 * front_end_test.c, server_test.c and wire_test.c (pin_table_test.c takes
 * its addresses from it). */
#ifndef SDTLS_SERVER_WORLD_H
#define SDTLS_SERVER_WORLD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check.h"
#include "heap.h"
#include "sdtls.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

/* ---- datagrams in flight ---- */

typedef struct pkt {
  struct sockaddr_in addr; /* source (to the server) or destination */
  size_t len;
  uint8_t *data;
} pkt;

typedef struct queue {
  pkt *items;
  size_t head, n, cap;
} queue;

void q_push(queue *q, const struct sockaddr_in *addr, const uint8_t *d, size_t len);

bool q_pop(queue *q, pkt *out);

void q_clear(queue *q);

/* ---- the world: one server, many clients ---- */

typedef struct world world;

typedef struct client {
  world *w;
  int id;
  struct sockaddr_in addr;
  sdtls_conn *conn;
  bool done, closed;
  int close_reason;
  uint8_t rx[8192];
  size_t rx_len;
  int rx_count;
  int sent; /* datagrams sent */
} client;

#define MAX_CLIENTS 64
#define MAX_LOG 256

struct world {
  sdtls_config *scfg, *ccfg;
  sdtls_server *server;
  queue to_server, to_client;
  client *clients[MAX_CLIENTS];
  int nclients;
  sdtls_time now;
  /* server events */
  int connects, handshakes, closes, data_events;
  int last_close_reason;
  sdtls_conn *last_closed;
  int last_closed_port;
  bool echo;
  bool close_on_data;     /* sdtls_server_close_peer() from on_data */
  bool conn_close_on_data; /* sdtls_conn_close() from on_data */
  int reentry_rc;         /* sdtls_server_receive() from on_data */
  bool try_reentry;
  sdtls_conn *last_conn;  /* the connection on_connect saw last */
  bool free_conn_in_connect, free_conn_in_data; /* sdtls_conn_free() on it: ignored */
  bool free_server_in_connect, free_server_in_data, free_server_in_send;
  bool server_freed;
  int callbacks_after_free;
  /* what the server sent, in order (copies of the first MAX_LOG) */
  pkt log[MAX_LOG];
  int nlog;
  size_t sends;
};

/* The world's server callbacks (world_new() installs them), for a test
 * that makes a server of its own in the world's way. */
int srv_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d,
             size_t len);
void srv_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len);
void srv_handshake_done(void *user, sdtls_conn *conn);
void srv_data(void *user, sdtls_conn *conn, const uint8_t *d, size_t len);
void srv_close(void *user, sdtls_conn *conn, int reason);

typedef struct world_opts {
  int64_t cookies, max_peers, max_handshakes, idle_ms, lifetime_ms, handshake_ms;
  /* The clients' newest version: DTLS 1.2, where the cookie exchange is a
   * HelloVerifyRequest, unless a test asks for DTLS 1.3. */
  int64_t client_max_version;
  const char *client_groups, *server_groups; /* NULL: sdtls's default */
  int64_t server_max_version, mtu;            /* 0: the default (both sides' MTU) */
} world_opts;

struct sockaddr_in addr_of(uint32_t ip, uint16_t port);

/* The IPv6 address `text` (it must parse) at `port`. */
struct sockaddr_in6 addr6_of(const char *text, uint16_t port);

world_opts default_opts(void);

/* default_opts() with another idle timeout and cookie lifetime (in ms; 0:
 * the default's). */
world_opts timed_opts(int64_t idle_ms, int64_t lifetime_ms);

world *world_new(world_opts o);

void world_free(world *w);

client *client_add(world *w, struct sockaddr_in addr);

client *client_by_addr(world *w, const struct sockaddr_in *a);

int deliver_to_server(world *w, const pkt *p);

/* Hands the oldest datagram on its way to the server to it (which must
 * take it: result 0). Returns false when none is waiting. */
bool deliver_one_to_server(world *w);

/* Hands the oldest datagram the server sent to the client it is addressed
 * to, if that one still has a connection. Returns false when none is
 * waiting. */
bool deliver_one_to_client(world *w);

/* Delivers everything in flight, both ways, until nothing moves. Time does
 * not move. Returns the number of datagrams delivered. */
int pump(world *w);

/* A new client at `addr`, started and pumped through its handshake (the
 * cookie exchange included) at one instant. NULL, with the failure
 * recorded, when it does not get connected. */
client *client_connect(world *w, struct sockaddr_in addr);

uint64_t ctr(world *w, sdtls_server_counter c);

/* What a test needs of the engine, for test_world(). */
enum { NEED_GLUE = 1, NEED_DTLS13 = 2 };

/* The world of one test, made from `o`: NULL when the test is skipped
 * (NEED_GLUE: skip_without_glue(); NEED_DTLS13: the engine does not speak
 * DTLS 1.3, said so) or, with the failure recorded, when the world cannot
 * be made. Either way the test returns. */
world *test_world(world_opts o, unsigned needs);

/* Declares `w`, the world of the test (test_world()), and returns from the
 * test when there is none. */
#define TEST_WORLD(w, o, needs)        \
  world *w = test_world((o), (needs)); \
  if (w == NULL) {                     \
    return;                            \
  }                                    \
  (void)0

/* A new client at `addr`, started: its first flight waits in to_server.
 * NULL, with the failure recorded, when it does not start. */
client *client_start(world *w, struct sockaddr_in addr);

/* `c` sends `text` (0, or sdtls_conn_send()'s error), then everything in
 * flight is delivered (pump()). */
int client_send(client *c, const char *text);

/* The clock moves on by `dt`, `c`'s timers run there (its retransmission),
 * then everything in flight is delivered (pump()). */
void client_timeout_after(client *c, sdtls_time dt);

/* The clock moves to `t` and the server handles its deadlines there:
 * sdtls_server_handle_timeout()'s result. */
int server_timeout_at(world *w, sdtls_time t);

/* The engine speaks DTLS 1.3: false, after saying so, when it does not
 * (the test is skipped). */
bool skip_without_dtls13(void);


/* ---- wire helpers (an independent reading of RFC 6347) ---- */

uint64_t be(const uint8_t *p, size_t n);

#define REC_TYPE(d) ((d)[0])
#define REC_EPOCH(d) be((d) + 3, 2)
#define REC_SEQ(d) be((d) + 5, 6)
#define HS_TYPE(d) ((d)[13])
#define HS_SEQ(d) be((d) + 17, 2)

bool is_hvr(const pkt *p);

/* The cookie in a HelloVerifyRequest. */
size_t hvr_cookie(const pkt *p, uint8_t *out);

/* A copy of ClientHello datagram `ch` with `cookie`, record sequence number
 * and message_seq replaced, lengths fixed up. */
size_t ch_rewrite(const uint8_t *ch, size_t len, const uint8_t *cookie, size_t cookie_len,
                  uint64_t rec_seq, uint16_t msg_seq, uint8_t *out);

/* The datagrams of a first flight as an sdtls client of the world sends
 * it, into out (at most `max`; the caller frees their data): how many. */
size_t first_flight(world *w, pkt *out, size_t max);

/* A first ClientHello as an sdtls client sends it. */
size_t template_client_hello(world *w, uint8_t *out);

/* Sends `ch` from `addr` and returns the cookie of the server's answer. */
size_t get_cookie(world *w, const uint8_t *ch, size_t len, struct sockaddr_in addr,
                  uint8_t *cookie);

/* Delivers a ClientHello carrying `cookie` from `addr`; returns whether a
 * connection was created for it. */
bool offer_cookie(world *w, const uint8_t *ch, size_t len, struct sockaddr_in addr,
                  const uint8_t *cookie, size_t cookie_len);

/* Tests that need the cookie hand-over (any with cookies on) begin with
 * it: true, after saying so, when this engine layout has no glue and the
 * test is skipped; where the layout has glue (SERVER_TEST_EXPECT_GLUE) its
 * absence is a failure instead. */
bool skip_without_glue(void);

/* check_main(), and 77 (ctest's "skipped") when every test that ran was
 * skipped by skip_without_glue(). */
int world_main(const check_test *tests, size_t n, int argc, char **argv);

#endif

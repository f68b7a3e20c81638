/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_server: many peers behind one socket (docs/design.md, "The flow
 * of one datagram").
 *
 * A datagram's trip, top-down: sdtls_server_receive() finds its address in
 * the peer table (peer_table.c, keyed by a SipHash of the normalised
 * address) and hands it to the stateless front end (front_end.c), which
 * decides: a known peer's datagram goes to its connection; one from an
 * unknown address is dropped, kept as a ClientHello fragment, answered
 * statelessly (a HelloVerifyRequest, a DTLS 1.3 HelloRetryRequest, an
 * alert: sent here), or admitted as a ClientHello that proved its address.
 * Only then does the server allocate: create_peer() makes the connection,
 * which the engine glue hands the exchange's sequence numbers (and, for
 * DTLS 1.3, the transcript) before it sees that ClientHello.
 *
 * Every peer is also in a min-heap ordered by its next deadline
 * (retransmission, handshake or idle; deadline_heap.c), so next_deadline is
 * O(1) and handle_timeout touches only the peers that are due. A peer's
 * place in the heap is refreshed after every server call that drives its
 * connection.
 *
 * Connections end through one path: whatever ends them (the engine, the
 * application, a timer) marks the peer dead; once the connection's own call
 * has returned, the server reports on_close and frees it ("reaping"), so no
 * connection is freed inside its own callbacks and the table never changes
 * under an iteration. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/siphash.h>

#include "deadline_heap.h"
#include "front_end.h"
#include "internal.h"
#include "peer_table.h"
#include "pin_table.h"

/* Larger than any UDP payload: not a datagram a socket delivers. */
#define MAX_DATAGRAM 65535

typedef struct peer {
  sdtls_table_entry entry; /* in server->table: the address */
  sdtls_deadline deadline; /* in server->deadlines: the earliest deadline */
  sdtls_server *server;
  sdtls_conn *conn;
  bool handshaking; /* counts against max_handshakes */
  bool dead;        /* ended; reaped when the current call unwinds */
  int reason;
  struct peer *next_dead;
  uint8_t random[SDTLS_RANDOM_LEN]; /* of the ClientHello that created it */
} peer;

struct sdtls_server {
  sdtls_config *config;
  sdtls_server_callbacks cb;
  void *user_data;
  sdtls_front_end front_end; /* what comes before a connection */
  uint64_t hash_key[2];      /* keys the peer table's hash */

  size_t max_peers, max_handshakes;
  uint64_t idle_ns;

  sdtls_peer_table table;        /* every peer, by address */
  sdtls_deadline_heap deadlines; /* every peer, by deadline */
  size_t handshakes;
  peer *dead_head;
  sdtls_pin_table pins; /* sdtls_server_pin_peer() */

  int depth;    /* > 0 inside a server call (callbacks may run) */
  bool in_send; /* inside the application's send callback */
  bool in_engine_cb; /* inside a connection's PSK lookup or key log */
  bool free_pending; /* sdtls_server_free() from a callback: no callback follows */

  uint64_t counters[SDTLS_COUNTER_PEERS + 1];
};

/* ---- peers ---- */

static peer *peer_of_entry(sdtls_table_entry *e) {
  return e == NULL ? NULL : (peer *)((char *)e - offsetof(peer, entry));
}

static peer *peer_of_deadline(sdtls_deadline *d) {
  return d == NULL ? NULL : (peer *)((char *)d - offsetof(peer, deadline));
}

static uint64_t key_hash(const sdtls_server *s, const sdtls_peer_key *key) {
  return SIPHASH_24(s->hash_key, key->bytes, sizeof(key->bytes));
}

static peer *table_find(const sdtls_server *s, const sdtls_peer_key *key, uint64_t hash) {
  return peer_of_entry(Sdtls_peer_table_find(&s->table, key, hash));
}

static sdtls_time idle_deadline(const sdtls_server *s, const peer *p) {
  if (s->idle_ns == 0) {
    return SDTLS_TIME_NEVER;
  }
  return Sdtls_time_add(Sdtls_conn_last_activity(p->conn), s->idle_ns);
}

/* Recomputes a peer's deadline (not before `floor`) and its heap place. */
static void refresh_due(sdtls_server *s, peer *p, sdtls_time floor) {
  sdtls_time d = SDTLS_TIME_NEVER;
  if (!p->dead) {
    d = sdtls_conn_next_deadline(p->conn);
    sdtls_time t = idle_deadline(s, p);
    if (t < d) {
      d = t;
    }
    t = Sdtls_conn_handshake_deadline(p->conn);
    if (t < d) {
      d = t;
    }
    if (d < floor) {
      d = floor;
    }
  }
  Sdtls_deadline_heap_update(&s->deadlines, &p->deadline, d);
}

/* Makes room for one more peer in the table and the heap. */
static int peers_reserve(sdtls_server *s) {
  int rc = Sdtls_peer_table_reserve(&s->table);
  return rc != 0 ? rc : Sdtls_deadline_heap_reserve(&s->deadlines);
}

static void peers_insert(sdtls_server *s, peer *p) {
  Sdtls_peer_table_insert(&s->table, &p->entry);
  p->deadline.due = SDTLS_TIME_NEVER;
  Sdtls_deadline_heap_insert(&s->deadlines, &p->deadline);
}

static void peers_remove(sdtls_server *s, peer *p) {
  Sdtls_peer_table_remove(&s->table, &p->entry);
  Sdtls_deadline_heap_remove(&s->deadlines, &p->deadline);
}

/* ---- ending connections ---- */

static void mark_dead(peer *p, int reason) {
  if (p->dead) {
    return;
  }
  p->dead = true;
  p->reason = reason;
  p->next_dead = p->server->dead_head;
  p->server->dead_head = p;
  refresh_due(p->server, p, 0); /* out of the timers' way until reaped */
}

/* Reports and frees every dead peer. Runs with depth > 0 (the on_close
 * callbacks may not re-enter) and only where no connection call is on the
 * stack. */
static void reap(sdtls_server *s) {
  while (s->dead_head != NULL) {
    peer *p = s->dead_head;
    s->dead_head = p->next_dead;
    if (p->handshaking) {
      p->handshaking = false;
      s->handshakes--;
    }
    s->counters[p->reason == SDTLS_E_TIMEOUT ? SDTLS_COUNTER_CONNECTIONS_EVICTED
                                             : SDTLS_COUNTER_CONNECTIONS_CLOSED]++;
    if (s->cb.on_close != NULL && !s->free_pending) {
      s->cb.on_close(s->user_data, p->conn, p->reason);
    }
    peers_remove(s, p);
    Sdtls_conn_destroy(p->conn);
    free(p);
  }
}

/* A connection that ended without telling (it always should) is ended
 * here too, so it cannot linger in the table. */
static void check_ended(peer *p) {
  sdtls_state st = sdtls_conn_state(p->conn);
  if (!p->dead && (st == SDTLS_STATE_CLOSED || st == SDTLS_STATE_FAILED)) {
    mark_dead(p, sdtls_conn_error(p->conn));
  }
}

static void destroy(sdtls_server *s) {
  for (size_t i = 0; i < s->deadlines.count; i++) {
    peer *p = peer_of_deadline(s->deadlines.items[i]);
    Sdtls_conn_destroy(p->conn);
    free(p);
  }
  Sdtls_deadline_heap_free(&s->deadlines);
  Sdtls_peer_table_free(&s->table);
  Sdtls_pin_table_free(&s->pins);
  Sdtls_front_end_free(&s->front_end);
  sdtls_config_free(s->config);
  OPENSSL_cleanse(s, sizeof(*s));
  free(s);
}

/* Leaves a server call: reaps at the outermost level, and frees the server
 * if the application asked for it from a callback. Returns true if `s` is
 * gone. */
static bool leave(sdtls_server *s) {
  if (s->depth == 1) {
    reap(s);
  }
  s->depth--;
  if (s->depth == 0 && s->free_pending) {
    destroy(s);
    return true;
  }
  return false;
}

/* ---- connection hooks ---- */

static int hook_send(void *owner, sdtls_conn *conn, const uint8_t *datagram, size_t len) {
  peer *p = owner;
  sdtls_server *s = p->server;
  const uint8_t *addr;
  size_t addr_len;
  if (sdtls_conn_peer_address(conn, &addr, &addr_len) != 0) {
    return -1;
  }
  if (s->free_pending) {
    return 0; /* no callback after a free: the datagram is lost */
  }
  bool was = s->in_send;
  s->in_send = true;
  int rc = s->cb.send(s->user_data, addr, addr_len, datagram, len);
  s->in_send = was;
  return rc;
}

static void hook_handshake_done(void *owner, sdtls_conn *conn) {
  peer *p = owner;
  sdtls_server *s = p->server;
  if (p->handshaking) {
    p->handshaking = false;
    s->handshakes--;
  }
  if (!p->dead && !s->free_pending && s->cb.on_handshake_done != NULL) {
    s->cb.on_handshake_done(s->user_data, conn);
  }
}

static void hook_data(void *owner, sdtls_conn *conn, const uint8_t *data, size_t len) {
  peer *p = owner;
  sdtls_server *s = p->server;
  if (!p->dead && !s->free_pending && s->cb.on_data != NULL) {
    s->cb.on_data(s->user_data, conn, data, len);
  }
}

static void hook_close(void *owner, sdtls_conn *conn, int reason) {
  (void)conn;
  mark_dead(owner, reason);
}

static int close_peer(sdtls_server *s, peer *p, sdtls_time now);

static int hook_app_close(void *owner, sdtls_conn *conn, sdtls_time now) {
  (void)conn;
  peer *p = owner;
  return close_peer(p->server, p, now);
}

static int hook_enter(void *owner) {
  sdtls_server *s = ((peer *)owner)->server;
  if (s->in_send || s->in_engine_cb) {
    return SDTLS_E_IN_CALLBACK;
  }
  s->depth++;
  return SDTLS_OK;
}

static void hook_leave(void *owner) { leave(((peer *)owner)->server); }

static bool hook_engine_callback(void *owner, bool running) {
  sdtls_server *s = ((peer *)owner)->server;
  if (running && s->free_pending) {
    return false; /* no callback after sdtls_server_free() */
  }
  s->in_engine_cb = running;
  return true;
}

static const sdtls_conn_hooks server_hooks = {
    .send = hook_send,
    .on_handshake_done = hook_handshake_done,
    .on_data = hook_data,
    .on_close = hook_close,
    .close = hook_app_close,
    .enter = hook_enter,
    .leave = hook_leave,
    .engine_callback = hook_engine_callback,
};

/* ---- life cycle ---- */

int sdtls_server_new(sdtls_config *config, const sdtls_server_callbacks *callbacks,
                     void *user_data, sdtls_server **out) {
  if (out != NULL) {
    *out = NULL;
  }
  if (config == NULL || callbacks == NULL || out == NULL ||
      callbacks->size < offsetof(sdtls_server_callbacks, send) + sizeof(callbacks->send) ||
      callbacks->send == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  sdtls_server *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    return SDTLS_E_NOMEM;
  }
  int rc = Sdtls_config_acquire(config); /* frozen from here on: its fields are stable */
  if (rc != SDTLS_OK) {
    free(s);
    return rc;
  }
  s->config = config;
  if (!config->has_certificate && !Sdtls_config_has_psk(config)) {
    rc = SDTLS_E_CREDENTIALS;
  } else if (config->cookies && !Sdtls_engine_has_cookie_handover()) {
    /* This engine layout has no hand-over glue (sdtls_has_feature). */
    rc = SDTLS_E_UNSUPPORTED;
  } else if (Sdtls_front_end_init(&s->front_end, config, s->counters) != 0 ||
             !RAND_bytes((uint8_t *)s->hash_key, sizeof(s->hash_key))) {
    rc = SDTLS_E_INTERNAL;
  }
  if (rc != SDTLS_OK) {
    Sdtls_front_end_free(&s->front_end);
    sdtls_config_free(config);
    free(s);
    return rc;
  }
  size_t n = callbacks->size < sizeof(s->cb) ? callbacks->size : sizeof(s->cb);
  memcpy(&s->cb, callbacks, n);
  s->cb.size = sizeof(s->cb);
  s->user_data = user_data;
  s->max_peers = (size_t)config->max_peers;
  s->max_handshakes = (size_t)config->max_handshakes;
  s->idle_ns = (uint64_t)config->idle_timeout_ms * NS_PER_MS;
  *out = s;
  return SDTLS_OK;
}

void sdtls_server_free(sdtls_server *server) {
  if (server == NULL) {
    return;
  }
  if (server->depth > 0) {
    server->free_pending = true; /* when the current call unwinds */
    return;
  }
  destroy(server);
}

/* ---- datagrams ---- */

/* Sends what the front end answers in place of a connection. */
static void send_reply(sdtls_server *s, const sdtls_received *rx, const sdtls_decision *d) {
  if (s->free_pending) {
    return;
  }
  s->in_send = true;
  s->cb.send(s->user_data, rx->addr, rx->addr_len, d->reply, d->reply_len);
  s->in_send = false;
  if (d->reply_is_cookie) {
    s->counters[SDTLS_COUNTER_COOKIES_SENT]++;
  }
}

/* Creates a connection for a ClientHello that may make one and feeds it. */
static int create_peer(sdtls_server *s, const sdtls_decision *admitted) {
  const sdtls_received *hello = &admitted->hello;
  const sdtls_client_hello *ch = &admitted->ch;
  const uint8_t *prefix = admitted->prefix;
  if (s->table.count >= s->max_peers || s->handshakes >= s->max_handshakes) {
    s->counters[SDTLS_COUNTER_DROPPED_LIMIT]++;
    return 0;
  }
  int rc = peers_reserve(s);
  if (rc != 0) {
    return rc;
  }
  peer *p = calloc(1, sizeof(*p));
  if (p == NULL) {
    return SDTLS_E_NOMEM;
  }
  p->server = s;
  p->entry.key = hello->key;
  p->entry.hash = hello->hash;
  memcpy(p->random, ch->random, SDTLS_RANDOM_LEN);
  rc = Sdtls_conn_new_for_server(s->config, &server_hooks, p, hello->addr, hello->addr_len,
                                 &p->conn);
  size_t n_pins;
  const sdtls_fingerprint *pins = Sdtls_pin_table_find(&s->pins, &hello->key, &n_pins);
  if (rc == 0 && n_pins > 0 && (rc = Sdtls_conn_set_pins(p->conn, pins, n_pins)) != 0) {
    Sdtls_conn_destroy(p->conn); /* never let a pinned peer in without its pins */
  }
  if (rc != 0) {
    free(p);
    return rc;
  }
  SSL *engine = Sdtls_conn_engine(p->conn);
  if (prefix != NULL ? !Sdtls_engine_hrr_handover(engine, ch->message_seq, ch->record_seq, prefix,
                                                  admitted->prefix_len)
                     : admitted->handover &&
                           !Sdtls_engine_cookie_handover(engine, ch->message_seq, ch->record_seq)) {
    /* Only a record number at the very end of the 48-bit space gets here. */
    Sdtls_conn_destroy(p->conn);
    free(p);
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    return 0;
  }
  if (prefix == NULL && (ch->cookie_len != 0 || ch->message_seq != 0)) {
    /* After a HelloVerifyRequest only DTLS 1.2 may follow (RFC 9147 5.3). */
    SSL_set_max_proto_version(engine, DTLS1_2_VERSION);
  }
  peers_insert(s, p);
  p->handshaking = true;
  s->handshakes++;
  s->counters[SDTLS_COUNTER_CONNECTIONS_CREATED]++;
  if (s->cb.on_connect != NULL && !s->free_pending) {
    s->cb.on_connect(s->user_data, p->conn, hello->addr, hello->addr_len);
  }
  if (!p->dead) {
    Sdtls_conn_feed(p->conn, hello->data, hello->len, hello->now);
    check_ended(p);
  }
  refresh_due(s, p, 0);
  return 0;
}

/* A ClientHello the front end admitted; `old`, when not NULL, is the
 * known peer at its address, whose client has started over (RFC 6347
 * 4.2.8): the old association is gone on its side. */
static int admit(sdtls_server *s, const sdtls_decision *d, peer *old) {
  if (old != NULL) {
    mark_dead(old, SDTLS_E_CLOSED);
    reap(s);
  }
  return create_peer(s, d);
}

int sdtls_server_receive(sdtls_server *server, const uint8_t *addr, size_t addr_len,
                         const uint8_t *datagram, size_t len, sdtls_time now) {
  if (server == NULL || (datagram == NULL && len > 0)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (server->depth > 0 || server->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  sdtls_received rx = {.addr = addr, .data = datagram, .len = len, .bytes_in = len, .now = now};
  if (Sdtls_peer_key_from_sockaddr(addr, addr_len, &rx.key) != 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* The address as the send callback gets it: the family's own struct,
   * whatever larger buffer (sockaddr_storage) the caller passed. */
  rx.addr_len = rx.key.bytes[0] == 4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  sdtls_server *s = server;
  s->depth++;
  int rc = 0;
  rx.hash = key_hash(s, &rx.key);
  peer *p = table_find(s, &rx.key, rx.hash);
  if (len == 0 || len > MAX_DATAGRAM ||
      !(Sdtls_record_header_ok(datagram, len) ||
        (p != NULL && Sdtls_record_is_unified(datagram, len)))) {
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    leave(s);
    return 0;
  }
  sdtls_decision d;
  int verdict = Sdtls_front_end_receive(&s->front_end, &rx, p != NULL ? p->random : NULL, &d);
  switch (verdict) {
    case SDTLS_VERDICT_CONNECTION:
      if (!p->dead) {
        Sdtls_conn_feed(p->conn, datagram, len, now);
        check_ended(p);
        refresh_due(s, p, 0);
      }
      break;
    case SDTLS_VERDICT_NONE:
      break;
    case SDTLS_VERDICT_REPLY:
      send_reply(s, &rx, &d);
      break;
    case SDTLS_VERDICT_ADMIT:
      rc = admit(s, &d, p);
      break;
    default:
      rc = verdict; /* an error */
      break;
  }
  if (d.whole_len != 0) {
    OPENSSL_cleanse(d.whole, d.whole_len);
  }
  leave(s);
  return rc;
}

/* ---- time ---- */

sdtls_time sdtls_server_next_deadline(const sdtls_server *server) {
  if (server == NULL) {
    return SDTLS_TIME_NEVER;
  }
  return Sdtls_deadline_heap_next(&server->deadlines);
}

/* Acts on one due peer: idle eviction, the handshake deadline, or the
 * connection's own timer. */
static void peer_timeout(sdtls_server *s, peer *p, sdtls_time now) {
  if (p->dead) {
    return; /* closed by a callback earlier in this round */
  }
  if (now >= idle_deadline(s, p)) {
    Sdtls_conn_shutdown(p->conn, now); /* close_notify if it was established */
    mark_dead(p, SDTLS_E_TIMEOUT);
    return;
  }
  if (now >= Sdtls_conn_handshake_deadline(p->conn)) {
    /* The connection fails itself with SDTLS_E_TIMEOUT (on_close). */
    Sdtls_conn_tick(p->conn, now);
    check_ended(p);
    mark_dead(p, SDTLS_E_TIMEOUT);
    return;
  }
  if (now >= sdtls_conn_next_deadline(p->conn)) {
    Sdtls_conn_tick(p->conn, now);
    check_ended(p);
  }
}

int sdtls_server_handle_timeout(sdtls_server *server, sdtls_time now) {
  if (server == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (server->depth > 0 || server->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  sdtls_server *s = server;
  s->depth++;
  /* Every peer due at `now` is handled once, in this call. The list is
   * taken before any is handled: the heap reorders as deadlines move, and
   * nothing joins or leaves it here (callbacks cannot add peers; removal
   * waits for reap()). A handled peer's deadline is pushed past `now`, so
   * next_deadline never asks for the same instant again. */
  sdtls_deadline *due = Sdtls_deadline_heap_collect(&s->deadlines, now);
  while (due != NULL) {
    peer *p = peer_of_deadline(due);
    due = due->next_due;
    peer_timeout(s, p, now);
    refresh_due(s, p, Sdtls_time_add(now, 1));
  }
  leave(s);
  return 0;
}

/* ---- control ---- */

/* Sends close_notify and removes the peer; the caller has checked that `p`
 * is one of this server's peers. */
static int close_peer(sdtls_server *s, peer *p, sdtls_time now) {
  if (s->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  if (p->dead) {
    return 0;
  }
  if (Sdtls_conn_in_engine_callback(p->conn)) {
    /* Its engine is mid-handshake: the connection's own call closes it
     * through here once the engine has returned. */
    Sdtls_conn_defer_close(p->conn, now);
    return 0;
  }
  s->depth++;
  Sdtls_conn_shutdown(p->conn, now);
  mark_dead(p, SDTLS_E_CLOSED);
  leave(s); /* reaps now unless called from a callback */
  return 0;
}

int sdtls_server_close_peer(sdtls_server *server, sdtls_conn *conn, sdtls_time now) {
  if (server == NULL || conn == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (server->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  const uint8_t *addr;
  size_t addr_len;
  sdtls_peer_key key;
  if (sdtls_conn_peer_address(conn, &addr, &addr_len) != 0 ||
      Sdtls_peer_key_from_sockaddr(addr, addr_len, &key) != 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  peer *p = table_find(server, &key, key_hash(server, &key));
  if (p == NULL || p->conn != conn) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  return close_peer(server, p, now);
}

int sdtls_server_set_cookie_secret(sdtls_server *server, const uint8_t *secret, size_t len,
                                   sdtls_time now) {
  if (server == NULL) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  return Sdtls_cookie_keys_rotate(&server->front_end.keys, secret, len, now);
}

uint64_t sdtls_server_counter_get(const sdtls_server *server, sdtls_server_counter counter) {
  if (server == NULL) {
    return 0;
  }
  switch (counter) {
    case SDTLS_COUNTER_PEERS:
      return server->table.count;
    case SDTLS_COUNTER_COOKIES_SENT:
    case SDTLS_COUNTER_COOKIES_REJECTED:
    case SDTLS_COUNTER_CONNECTIONS_CREATED:
    case SDTLS_COUNTER_CONNECTIONS_CLOSED:
    case SDTLS_COUNTER_CONNECTIONS_EVICTED:
    case SDTLS_COUNTER_DROPPED_MALFORMED:
    case SDTLS_COUNTER_DROPPED_UNKNOWN_PEER:
    case SDTLS_COUNTER_DROPPED_LIMIT:
      return server->counters[counter];
  }
  return 0;
}

/* ---- per-peer pins (src/pin_table.c) ---- */

int sdtls_server_pin_peer(sdtls_server *server, const uint8_t *addr, size_t addr_len,
                          const char *fingerprint) {
  sdtls_peer_key key;
  sdtls_fingerprint fp;
  if (server == NULL || Sdtls_peer_key_from_sockaddr(addr, addr_len, &key) != 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (server->depth > 0 || server->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  int rc = Sdtls_pin_parse(fingerprint, &fp);
  return rc != SDTLS_OK ? rc : Sdtls_pin_table_add(&server->pins, &key, &fp);
}

int sdtls_server_unpin_peer(sdtls_server *server, const uint8_t *addr, size_t addr_len) {
  sdtls_peer_key key;
  if (server == NULL || Sdtls_peer_key_from_sockaddr(addr, addr_len, &key) != 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (server->depth > 0 || server->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  return Sdtls_pin_table_remove(&server->pins, &key);
}

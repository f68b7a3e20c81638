/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_server: many peers behind one socket (docs/design.md, "Stateless cookie
 * exchange").
 *
 * An unknown address gets a stateless HelloVerifyRequest and nothing is kept
 * or allocated for it; only a ClientHello with a valid cookie creates a
 * connection, which is handed the exchange's sequence numbers by the engine
 * glue before it sees that ClientHello. Known peers are found in a hash
 * table keyed by the normalised address (keyed SipHash, open addressing with
 * linear probing and backward-shift deletion); every peer is also in a
 * binary min-heap ordered by its next deadline (retransmission, handshake or
 * idle), so next_deadline is O(1) and handle_timeout touches only the peers
 * that are due. A peer's place in the heap is refreshed after every server
 * call that drives its connection.
 *
 * DTLS 1.3 (an engine that speaks it; README.md, "DTLS 1.3 in the server"):
 * a ClientHello may span several datagrams (a post-quantum key share does
 * not fit one): its fragments are reassembled in a bounded buffer per
 * address (at most MAX_PENDING_BYTES, at most min(MAX_HANDSHAKES,
 * MAX_PENDING) addresses at once, each for at most PENDING_TTL; when all
 * are in use, a new one evicts one drawn at random from the older half,
 * fullest networks first: pending_make_room), and the whole ClientHello
 * then goes through the same checks as one that came in one datagram. A
 * ClientHello that offers DTLS 1.3 is answered with a stateless
 * HelloRetryRequest cookie (RFC 9147 5.1) when the engine glue can take
 * the second ClientHello over; a HelloVerifyRequest leads to DTLS 1.2 only
 * (RFC 9147 5.3; the engine's client enforces it). Later datagrams of
 * known peers, DTLS 1.3's unified-header records included, go to their
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

#include "cookie.h"
#include "internal.h"
#include "pin_table.h"

/* Larger than any UDP payload: not a datagram a socket delivers. */
#define MAX_DATAGRAM 65535

/* ClientHello reassembly: the largest ClientHello taken in fragments (an
 * X25519MLKEM768 one is about 1.5 KB), how many addresses may have one in
 * reassembly at once (also at most SDTLS_OPT_MAX_HANDSHAKES: the budget
 * pending_make_room shares out), and how long an incomplete one is kept. */
#define MAX_PENDING_BYTES 8192
#define MAX_PENDING 256
#define PENDING_TTL_NS (3000 * NS_PER_MS)

typedef struct peer {
  sdtls_server *server;
  sdtls_conn *conn;
  sdtls_peer_key key;
  uint64_t hash;
  size_t index;     /* position in server->peers (the heap) */
  sdtls_time due;   /* cached earliest deadline; the heap's key */
  bool handshaking; /* counts against max_handshakes */
  bool dead;        /* ended; reaped when the current call unwinds */
  int reason;
  struct peer *next_dead;
  struct peer *next_due; /* handle_timeout's list of due peers */
  uint8_t random[SDTLS_RANDOM_LEN]; /* of the ClientHello that created it */
} peer;

/* A ClientHello in reassembly from an address with no connection. */
typedef struct pending_ch {
  sdtls_peer_key key;
  uint64_t hash;
  uint64_t network;     /* prefix_id() of the address */
  size_t network_count; /* reassemblies from that network, this one included */
  sdtls_time expires;
  sdtls_ch_fragment first; /* record version, message_seq and length */
  uint64_t max_record_seq;
  uint64_t bytes_in; /* datagrams received: what an answer may not exceed */
  size_t covered;    /* bytes of the message received so far */
  uint8_t *body;     /* message_len bytes */
  uint8_t *seen;     /* one bit per byte of body */
} pending_ch;

struct sdtls_server {
  sdtls_config *config;
  sdtls_server_callbacks cb;
  void *user_data;
  sdtls_cookie_keys keys;
  uint64_t hash_key[2];

  bool cookies;
  size_t max_peers, max_handshakes;
  uint64_t idle_ns;

  peer **slots; /* hash table, `cap` slots (a power of two) or NULL */
  size_t cap;
  peer **peers; /* every peer: a min-heap on `due` */
  size_t count, peers_cap;
  size_t handshakes;
  bool allow_dtls13;  /* the config lets DTLS 1.3 be negotiated */
  bool hrr_cookies;   /* the engine glue takes a stateless HelloRetryRequest */
  pending_ch *pending[MAX_PENDING]; /* ClientHellos in reassembly, oldest first */
  size_t n_pending, max_pending;
  uint64_t evict_key[2]; /* keys the eviction choices (pending_random) */
  uint64_t evict_draws;
  peer *dead_head;
  sdtls_pin_table pins; /* sdtls_server_pin_peer() */

  int depth;    /* > 0 inside a server call (callbacks may run) */
  bool in_send; /* inside the application's send callback */
  bool in_engine_cb; /* inside a connection's PSK lookup or key log */
  bool free_pending; /* sdtls_server_free() from a callback: no callback follows */

  uint64_t counters[SDTLS_COUNTER_PEERS + 1];
};

/* ---- peer table ---- */

static uint64_t key_hash(const sdtls_server *s, const sdtls_peer_key *key) {
  return SIPHASH_24(s->hash_key, key->bytes, sizeof(key->bytes));
}

static peer *table_find(const sdtls_server *s, const sdtls_peer_key *key, uint64_t hash) {
  if (s->cap == 0) {
    return NULL;
  }
  size_t mask = s->cap - 1;
  for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
    peer *p = s->slots[i];
    if (p == NULL) {
      return NULL;
    }
    if (p->hash == hash && memcmp(p->key.bytes, key->bytes, sizeof(key->bytes)) == 0) {
      return p;
    }
  }
}

static void table_put(peer **slots, size_t cap, peer *p) {
  size_t mask = cap - 1;
  size_t i = (size_t)p->hash & mask;
  while (slots[i] != NULL) {
    i = (i + 1) & mask;
  }
  slots[i] = p;
}

/* ---- deadline heap (s->peers) ---- */

static void heap_set(sdtls_server *s, size_t i, peer *p) {
  s->peers[i] = p;
  p->index = i;
}

static void heap_fix(sdtls_server *s, size_t i) {
  peer *p = s->peers[i];
  while (i > 0 && s->peers[(i - 1) / 2]->due > p->due) {
    heap_set(s, i, s->peers[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->count) {
      break;
    }
    if (c + 1 < s->count && s->peers[c + 1]->due < s->peers[c]->due) {
      c++;
    }
    if (s->peers[c]->due >= p->due) {
      break;
    }
    heap_set(s, i, s->peers[c]);
    i = c;
  }
  heap_set(s, i, p);
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
  p->due = d;
  heap_fix(s, p->index);
}

/* Makes room for one more peer (load factor at most 1/2). */
static int table_reserve(sdtls_server *s) {
  if ((s->count + 1) * 2 > s->cap) {
    size_t cap = s->cap == 0 ? 16 : s->cap * 2;
    peer **slots = calloc(cap, sizeof(*slots));
    if (slots == NULL) {
      return SDTLS_E_NOMEM;
    }
    for (size_t i = 0; i < s->count; i++) {
      table_put(slots, cap, s->peers[i]);
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
  }
  if (s->count + 1 > s->peers_cap) {
    size_t cap = s->peers_cap == 0 ? 16 : s->peers_cap * 2;
    peer **peers = realloc(s->peers, cap * sizeof(*peers));
    if (peers == NULL) {
      return SDTLS_E_NOMEM;
    }
    s->peers = peers;
    s->peers_cap = cap;
  }
  return 0;
}

static void table_insert(sdtls_server *s, peer *p) {
  table_put(s->slots, s->cap, p);
  p->due = SDTLS_TIME_NEVER;
  heap_set(s, s->count++, p);
  heap_fix(s, p->index);
}

static void table_remove(sdtls_server *s, peer *p) {
  size_t mask = s->cap - 1;
  size_t i = (size_t)p->hash & mask;
  while (s->slots[i] != p) {
    i = (i + 1) & mask;
  }
  /* Backward-shift deletion: no tombstones, probes stay short. */
  size_t j = i;
  for (;;) {
    s->slots[i] = NULL;
    for (;;) {
      j = (j + 1) & mask;
      if (s->slots[j] == NULL) {
        goto removed;
      }
      size_t home = (size_t)s->slots[j]->hash & mask;
      /* Move slots[j] into the hole at i unless its home lies cyclically
       * in (i, j]. */
      if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) {
        continue;
      }
      break;
    }
    s->slots[i] = s->slots[j];
    i = j;
  }
removed:
  s->count--;
  if (p->index != s->count) {
    heap_set(s, p->index, s->peers[s->count]);
    heap_fix(s, p->index);
  }
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
    table_remove(s, p);
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

static void pending_free(pending_ch *c) {
  if (c != NULL) {
    free(c->body);
    free(c->seen);
    free(c);
  }
}

static void destroy(sdtls_server *s) {
  for (size_t i = 0; i < s->count; i++) {
    Sdtls_conn_destroy(s->peers[i]->conn);
    free(s->peers[i]);
  }
  for (size_t i = 0; i < s->n_pending; i++) {
    pending_free(s->pending[i]);
  }
  free(s->peers);
  free(s->slots);
  Sdtls_pin_table_free(&s->pins);
  Sdtls_cookie_keys_wipe(&s->keys);
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
  } else if (Sdtls_cookie_keys_init(&s->keys, (uint64_t)config->cookie_lifetime_ms) != 0 ||
             !RAND_bytes((uint8_t *)s->hash_key, sizeof(s->hash_key)) ||
             !RAND_bytes((uint8_t *)s->evict_key, sizeof(s->evict_key))) {
    rc = SDTLS_E_INTERNAL;
  }
  if (rc != SDTLS_OK) {
    Sdtls_cookie_keys_wipe(&s->keys);
    sdtls_config_free(config);
    free(s);
    return rc;
  }
  size_t n = callbacks->size < sizeof(s->cb) ? callbacks->size : sizeof(s->cb);
  memcpy(&s->cb, callbacks, n);
  s->cb.size = sizeof(s->cb);
  s->user_data = user_data;
  s->cookies = config->cookies != 0;
  s->max_peers = (size_t)config->max_peers;
  s->max_handshakes = (size_t)config->max_handshakes;
  s->idle_ns = (uint64_t)config->idle_timeout_ms * NS_PER_MS;
  s->allow_dtls13 = config->max_version == SDTLS_DTLS1_3 && sdtls_has_feature(SDTLS_FEATURE_DTLS1_3);
  s->hrr_cookies = Sdtls_engine_has_hrr_cookie() != 0;
  s->max_pending = s->max_handshakes < MAX_PENDING ? s->max_handshakes : MAX_PENDING;
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

static void send_hello_verify_request(sdtls_server *s, const sdtls_peer_key *key,
                                      const uint8_t *addr, size_t addr_len,
                                      const sdtls_client_hello *ch, size_t request_len,
                                      sdtls_time now) {
  uint8_t cookie[SDTLS_COOKIE_LEN];
  uint8_t hvr[SDTLS_HVR_LEN];
  Sdtls_cookie_make(&s->keys, key, ch, now, cookie);
  size_t n = Sdtls_hello_verify_request(ch, cookie, hvr, sizeof(hvr));
  if (n == 0 || n > request_len) {
    /* Never answer with more than was asked: no amplification. (A
     * well-formed ClientHello is always larger than the answer.) */
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    return;
  }
  if (s->free_pending) {
    return;
  }
  s->in_send = true;
  s->cb.send(s->user_data, addr, addr_len, hvr, n);
  s->in_send = false;
  s->counters[SDTLS_COUNTER_COOKIES_SENT]++;
}

/* Creates a connection for a ClientHello that may make one and feeds it. */
static int create_peer(sdtls_server *s, const sdtls_peer_key *key, uint64_t hash,
                       const uint8_t *addr, size_t addr_len, const sdtls_client_hello *ch,
                       bool handover, const uint8_t *prefix, size_t prefix_len,
                       const uint8_t *datagram, size_t len, sdtls_time now) {
  if (s->count >= s->max_peers || s->handshakes >= s->max_handshakes) {
    s->counters[SDTLS_COUNTER_DROPPED_LIMIT]++;
    return 0;
  }
  int rc = table_reserve(s);
  if (rc != 0) {
    return rc;
  }
  peer *p = calloc(1, sizeof(*p));
  if (p == NULL) {
    return SDTLS_E_NOMEM;
  }
  p->server = s;
  p->key = *key;
  p->hash = hash;
  memcpy(p->random, ch->random, SDTLS_RANDOM_LEN);
  rc = Sdtls_conn_new_for_server(s->config, &server_hooks, p, addr, addr_len, &p->conn);
  size_t n_pins;
  const sdtls_fingerprint *pins = Sdtls_pin_table_find(&s->pins, key, &n_pins);
  if (rc == 0 && n_pins > 0 && (rc = Sdtls_conn_set_pins(p->conn, pins, n_pins)) != 0) {
    Sdtls_conn_destroy(p->conn); /* never let a pinned peer in without its pins */
  }
  if (rc != 0) {
    free(p);
    return rc;
  }
  if (prefix != NULL ? !Sdtls_engine_hrr_handover(Sdtls_conn_engine(p->conn), ch->message_seq,
                                                  ch->record_seq, prefix, prefix_len)
                     : handover && !Sdtls_engine_cookie_handover(Sdtls_conn_engine(p->conn),
                                                                 ch->message_seq, ch->record_seq)) {
    /* Only a record number at the very end of the 48-bit space gets here. */
    Sdtls_conn_destroy(p->conn);
    free(p);
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    return 0;
  }
  if (prefix == NULL && (ch->cookie_len != 0 || ch->message_seq != 0)) {
    /* After a HelloVerifyRequest only DTLS 1.2 may follow (RFC 9147 5.3). */
    SSL_set_max_proto_version(Sdtls_conn_engine(p->conn), DTLS1_2_VERSION);
  }
  table_insert(s, p);
  p->handshaking = true;
  s->handshakes++;
  s->counters[SDTLS_COUNTER_CONNECTIONS_CREATED]++;
  if (s->cb.on_connect != NULL && !s->free_pending) {
    s->cb.on_connect(s->user_data, p->conn, addr, addr_len);
  }
  if (!p->dead) {
    Sdtls_conn_feed(p->conn, datagram, len, now);
    check_ended(p);
  }
  refresh_due(s, p, 0);
  return 0;
}

/* ---- DTLS 1.3: stateless HelloRetryRequest cookies (RFC 9147 5.1) ---- */

#define HRR_NOT_TAKEN 1 /* not a ClientHello the exchange can take: go on */

/* A ClientHello with a cookie that does not open (damaged on either way,
 * expired, forged): a second HelloRetryRequest is not allowed, so the
 * handshake is ended with an illegal_parameter alert (RFC 9147 5.1), which
 * tells the client to start over without a cookie instead of waiting for
 * its deadline. Stateless, as the HelloRetryRequest: the record number of
 * the ClientHello, 15 bytes (less than any ClientHello). */
static void send_illegal_parameter(sdtls_server *s, const uint8_t *addr, size_t addr_len,
                                   const sdtls_client_hello *ch) {
  /* A DTLS 1.2 record (RFC 9147 5.3), epoch 0 (bytes 3 and 4). */
  uint8_t alert[SDTLS_RECORD_HEADER_LEN + 2] = {SSL3_RT_ALERT, 0xfe, 0xfd};
  for (int i = 0; i < 6; i++) {
    alert[5 + i] = (uint8_t)(ch->record_seq >> (8 * (5 - i)));
  }
  alert[12] = 2; /* length */
  alert[13] = SSL3_AL_FATAL;
  alert[14] = SSL_AD_ILLEGAL_PARAMETER;
  if (!s->free_pending) {
    s->in_send = true;
    s->cb.send(s->user_data, addr, addr_len, alert, sizeof(alert));
    s->in_send = false;
  }
}

/* A DTLS 1.3 ClientHello with cookies on. The first one is answered with a
 * HelloRetryRequest whose cookie carries all the server needs later (the
 * hash of this ClientHello, the suite and group the engine will choose),
 * and nothing is kept. The second, with a valid cookie, creates the
 * connection; the engine glue gives it the transcript of the first round
 * (src/engine/handover_upstream.cc). */
static int handle_client_hello13(sdtls_server *s, const sdtls_peer_key *key, uint64_t hash,
                                 const uint8_t *addr, size_t addr_len,
                                 const sdtls_client_hello *ch, const sdtls_ch13 *x, peer *old,
                                 uint64_t bytes_in, const uint8_t *datagram, size_t len,
                                 sdtls_time now) {
  uint8_t hrr[512];
  sdtls_hrr_state st;
  if (!x->has_cookie) {
    int sha384 = 0;
    memset(&st, 0, sizeof(st));
    if (!Sdtls_engine_tls13_choose(s->config->ctx, ch->cipher_suites, ch->cipher_suites_len,
                                   x->groups, x->groups_len, &st.cipher, &st.group, &sha384)) {
      return HRR_NOT_TAKEN; /* no shared suite or group: the engine says so */
    }
    st.ask_share = !Sdtls_ch13_has_share(x, st.group);
    st.hash_len = Sdtls_client_hello_hash(datagram, len, sha384, st.hash);
    uint8_t cookie[SDTLS_HRR_COOKIE_MAX];
    size_t cookie_len = Sdtls_hrr_cookie_make(&s->keys, key, ch, now, &st, cookie);
    size_t n = Sdtls_hello_retry_request(ch, &st, cookie, cookie_len, hrr, sizeof(hrr));
    if (n == 0 || n > bytes_in) {
      /* Never answer with more than was asked: no amplification. */
      s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
      return 0;
    }
    if (!s->free_pending) {
      s->in_send = true;
      s->cb.send(s->user_data, addr, addr_len, hrr, n);
      s->in_send = false;
      s->counters[SDTLS_COUNTER_COOKIES_SENT]++;
    }
    return 0;
  }
  if (!Sdtls_hrr_cookie_open(&s->keys, key, ch, now, x->cookie, x->cookie_len, &st) ||
      !Sdtls_ch13_has_share(x, st.group)) {
    s->counters[SDTLS_COUNTER_COOKIES_REJECTED]++;
    send_illegal_parameter(s, addr, addr_len, ch);
    return 0;
  }
  /* The transcript so far, as the engine's buffer takes it: message_hash
   * (RFC 8446 4.4.1; header, 8 filler bytes the engine skips, the hash),
   * then the HelloRetryRequest in TLS form. */
  size_t n = Sdtls_hello_retry_request(ch, &st, x->cookie, x->cookie_len, hrr, sizeof(hrr));
  if (n == 0) {
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    return 0;
  }
  uint8_t prefix[4 + 8 + 48 + sizeof(hrr)];
  size_t p = 0;
  prefix[p++] = 254; /* message_hash */
  prefix[p++] = 0;
  prefix[p++] = 0;
  prefix[p++] = (uint8_t)st.hash_len;
  memset(&prefix[p], 0, 8);
  p += 8;
  memcpy(&prefix[p], st.hash, st.hash_len);
  p += st.hash_len;
  memcpy(&prefix[p], hrr + SDTLS_RECORD_HEADER_LEN, 4);
  p += 4;
  size_t hrr_body = SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN;
  memcpy(&prefix[p], hrr + hrr_body, n - hrr_body);
  p += n - hrr_body;
  if (old != NULL) {
    /* A new, address-proven handshake from a known peer (RFC 6347 4.2.8). */
    mark_dead(old, SDTLS_E_CLOSED);
    reap(s);
  }
  return create_peer(s, key, hash, addr, addr_len, ch, true, prefix, p, datagram, len, now);
}

/* A ClientHello at epoch 0 from an address with no connection (or one
 * replacing an established connection, RFC 6347 4.2.8). */
static int handle_client_hello(sdtls_server *s, const sdtls_peer_key *key, uint64_t hash,
                               const uint8_t *addr, size_t addr_len,
                               const sdtls_client_hello *ch, peer *old, uint64_t bytes_in,
                               const uint8_t *datagram, size_t len, sdtls_time now) {
  bool handover;
  sdtls_ch13 x;
  if (s->cookies && s->hrr_cookies && s->allow_dtls13 && Sdtls_client_hello_13(ch, &x) &&
      x.offers13) {
    int r = handle_client_hello13(s, key, hash, addr, addr_len, ch, &x, old, bytes_in, datagram,
                                  len, now);
    if (r != HRR_NOT_TAKEN) {
      return r;
    }
  }
  if (s->cookies) {
    if (ch->cookie_len == 0 || !Sdtls_cookie_verify(&s->keys, key, ch, now)) {
      if (ch->cookie_len != 0) {
        s->counters[SDTLS_COUNTER_COOKIES_REJECTED]++;
      }
      /* No state: the answer is a function of the request alone. */
      send_hello_verify_request(s, key, addr, addr_len, ch, len, now);
      return 0;
    }
    handover = true;
  } else {
    /* Without the exchange the first ClientHello has message_seq 0. A
     * client that went through one elsewhere (message_seq 1) needs the
     * hand-over; where there is glue, it is harmless for the others. */
    handover = Sdtls_engine_has_cookie_handover() != 0;
    if (!handover && ch->message_seq != 0) {
      s->counters[SDTLS_COUNTER_DROPPED_UNKNOWN_PEER]++;
      return 0;
    }
  }
  if (old != NULL) {
    /* The client proved its address with a fresh cookie: it has started
     * over, and the old association is gone on its side. */
    mark_dead(old, SDTLS_E_CLOSED);
    reap(s);
  }
  return create_peer(s, key, hash, addr, addr_len, ch, handover, NULL, 0, datagram, len, now);
}

/* ---- ClientHello reassembly ---- */

static pending_ch *pending_find(sdtls_server *s, const sdtls_peer_key *key, uint64_t hash,
                                size_t *index) {
  for (size_t i = 0; i < s->n_pending; i++) {
    pending_ch *c = s->pending[i];
    if (c->hash == hash && memcmp(c->key.bytes, key->bytes, sizeof(key->bytes)) == 0) {
      *index = i;
      return c;
    }
  }
  return NULL;
}

/* The network an address belongs to, which shares one part of the
 * reassembly budget: its /24 for IPv4 (an IPv4-mapped IPv6 address, as a
 * dual-stack socket reports IPv4 peers, counts as IPv4), its /64 and zone
 * for IPv6. As a keyed hash, so that networks compare as one number. */
static uint64_t prefix_id(const sdtls_server *s, const sdtls_peer_key *key) {
  static const uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  uint8_t net[16] = {0};
  const uint8_t *addr = &key->bytes[4];
  if (key->bytes[0] == 4) {
    net[0] = 4;
    memcpy(&net[1], addr, 3);
  } else if (memcmp(addr, kV4Mapped, sizeof(kV4Mapped)) == 0) {
    net[0] = 4;
    memcpy(&net[1], addr + sizeof(kV4Mapped), 3);
  } else {
    net[0] = 6;
    memcpy(&net[1], addr, 8);
    memcpy(&net[9], &key->bytes[20], 4); /* the zone (scope id) */
  }
  return SIPHASH_24(s->hash_key, net, sizeof(net));
}

/* A number a spoofer cannot predict: SipHash under a per-server random key
 * of a counter (cheaper than the engine's RAND_bytes per datagram). */
static uint64_t pending_random(sdtls_server *s) {
  uint64_t draw = s->evict_draws++;
  return SIPHASH_24(s->evict_key, (const uint8_t *)&draw, sizeof(draw));
}

/* Adds `c` as the newest reassembly; there is room. */
static void pending_add(sdtls_server *s, pending_ch *c) {
  c->network_count = 1;
  for (size_t i = 0; i < s->n_pending; i++) {
    if (s->pending[i]->network == c->network) {
      s->pending[i]->network_count++;
      c->network_count++;
    }
  }
  s->pending[s->n_pending++] = c;
}

/* Removes and frees one; the others keep their order (oldest first). */
static void pending_remove(sdtls_server *s, size_t i) {
  pending_ch *c = s->pending[i];
  for (size_t j = 0; j < s->n_pending; j++) {
    if (s->pending[j]->network == c->network) {
      s->pending[j]->network_count--;
    }
  }
  pending_free(c);
  memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof(s->pending[0]));
  s->n_pending--;
}

/* Makes room for a new reassembly: drops the expired ones and, when the
 * budget is still used up, evicts one. Not the oldest, which a spoofer's
 * first fragments sent between a client's two datagrams would reach after
 * exactly one budget's worth: one drawn at random, under a key a spoofer
 * cannot know, from the older half of the reassemblies, among those whose
 * network (prefix_id) has the most in reassembly. So
 * - a newcomer outlives half a budget of newer ones, whatever their source
 *   (the half is taken first: a spoofer who knows the client's network
 *   cannot make it the fullest and so pick the newcomer at once);
 * - a spoofer whose addresses lie in fewer networks than half the budget,
 *   less the clients' reassemblies in progress, never evicts the lone
 *   reassembly of a client's network, at any rate: more of the older half
 *   are its own than it has networks, so one of its networks has two;
 * - past that half budget, a spoofer who forges any source address evicts
 *   it after k more with probability about 1 - exp(-2k/budget), drawn anew
 *   for each retransmission; one who forges addresses in the client's own
 *   network evicts it within a few more. */
static void pending_make_room(sdtls_server *s, sdtls_time now) {
  for (size_t i = 0; i < s->n_pending;) {
    if (now >= s->pending[i]->expires) {
      pending_remove(s, i);
    } else {
      i++;
    }
  }
  if (s->n_pending == 0 || s->n_pending < s->max_pending) {
    return;
  }
  const size_t older = (s->n_pending + 1) / 2; /* the array is oldest first */
  size_t most = 0, candidates = 0;
  for (size_t i = 0; i < older; i++) {
    size_t count = s->pending[i]->network_count;
    if (count > most) {
      most = count;
      candidates = 1;
    } else if (count == most) {
      candidates++;
    }
  }
  /* Bias of the modulo: below 2^-56. */
  uint64_t pick = pending_random(s) % candidates;
  for (size_t i = 0; i < older; i++) {
    if (s->pending[i]->network_count == most && pick-- == 0) {
      pending_remove(s, i);
      return;
    }
  }
}

/* A fragment of a known peer's datagram that belongs to a new ClientHello
 * from its address (a restart, RFC 6347 4.2.8): the first fragment carries
 * another client random than the one that made the connection, the others
 * continue a reassembly such a first fragment began. */
static bool restart_fragment(sdtls_server *s, const peer *p, const sdtls_peer_key *key,
                             uint64_t hash, const uint8_t *datagram, size_t len,
                             sdtls_ch_fragment *f) {
  if (Sdtls_client_hello_fragment_parse(datagram, len, f) != SDTLS_CH_OK ||
      (f->fragment_offset == 0 && f->fragment_len == f->message_len)) {
    return false;
  }
  if (f->fragment_offset == 0) {
    /* client_version (2 bytes), then the random */
    return f->fragment_len >= 2 + SDTLS_RANDOM_LEN &&
           memcmp(f->fragment + 2, p->random, SDTLS_RANDOM_LEN) != 0;
  }
  size_t index;
  return pending_find(s, key, hash, &index) != NULL;
}

/* One fragment of a ClientHello from an address with no connection (or, as
 * a restart, from a known peer's, `old`). When it completes the message,
 * the whole ClientHello is handled as if it had come in one datagram. */
static int handle_fragment(sdtls_server *s, const sdtls_peer_key *key, uint64_t hash,
                           const uint8_t *addr, size_t addr_len, const sdtls_ch_fragment *f,
                           peer *old, size_t len, sdtls_time now) {
  if (f->message_len > MAX_PENDING_BYTES) {
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    return 0;
  }
  size_t index = 0;
  pending_ch *c = pending_find(s, key, hash, &index);
  if (c != NULL && (c->first.message_len != f->message_len ||
                    c->first.message_seq != f->message_seq || now >= c->expires)) {
    /* Another ClientHello (a restart, the one after a cookie): start over. */
    pending_remove(s, index);
    c = NULL;
  }
  if (c == NULL) {
    pending_make_room(s, now);
    c = calloc(1, sizeof(*c));
    if (c != NULL) {
      c->body = malloc(f->message_len);
      c->seen = calloc((f->message_len + 7) / 8, 1);
    }
    if (c == NULL || c->body == NULL || c->seen == NULL) {
      pending_free(c);
      return SDTLS_E_NOMEM;
    }
    c->key = *key;
    c->hash = hash;
    c->network = prefix_id(s, key);
    c->first = *f;
    c->first.fragment = NULL;
    c->expires = Sdtls_time_add(now, PENDING_TTL_NS);
    index = s->n_pending;
    pending_add(s, c);
  }
  c->bytes_in += len;
  if (f->record_seq > c->max_record_seq) {
    c->max_record_seq = f->record_seq;
  }
  for (size_t i = 0; i < f->fragment_len; i++) {
    size_t at = f->fragment_offset + i;
    uint8_t bit = (uint8_t)(1u << (at % 8));
    if (!(c->seen[at / 8] & bit)) {
      c->seen[at / 8] |= bit;
      c->body[at] = f->fragment[i];
      c->covered++;
    } else if (c->body[at] != f->fragment[i]) {
      /* Bytes that differ from what came before: another ClientHello (or
       * a spoofed fragment) took this place. The newest begins again. */
      memset(c->seen, 0, (c->first.message_len + 7) / 8);
      c->covered = 0;
      c->bytes_in = len;
      c->max_record_seq = f->record_seq;
      i = (size_t)-1; /* this fragment again, from its start */
    }
  }
  if (c->covered < c->first.message_len) {
    return 0;
  }
  /* Whole: one unfragmented record carrying the last record number. */
  uint8_t whole[SDTLS_RECORD_HEADER_LEN + SDTLS_HANDSHAKE_HEADER_LEN + MAX_PENDING_BYTES];
  sdtls_ch_fragment head = c->first;
  head.record_seq = c->max_record_seq;
  size_t n = Sdtls_client_hello_assemble(&head, c->body, whole, sizeof(whole));
  uint64_t bytes_in = c->bytes_in;
  pending_remove(s, index);
  sdtls_client_hello ch;
  if (n == 0 || Sdtls_client_hello_parse(whole, n, &ch) != SDTLS_CH_OK) {
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
    return 0;
  }
  /* A known peer's connection may have ended while this one came in. */
  if (old != NULL && (old->dead || table_find(s, key, hash) != old)) {
    old = NULL;
  }
  if (old != NULL && memcmp(ch.random, old->random, SDTLS_RANDOM_LEN) == 0) {
    OPENSSL_cleanse(whole, n);
    return 0; /* its own ClientHello after all: the connection has it */
  }
  int rc = handle_client_hello(s, key, hash, addr, addr_len, &ch, old, bytes_in, whole, n, now);
  OPENSSL_cleanse(whole, n);
  return rc;
}

int sdtls_server_receive(sdtls_server *server, const uint8_t *addr, size_t addr_len,
                         const uint8_t *datagram, size_t len, sdtls_time now) {
  if (server == NULL || (datagram == NULL && len > 0)) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  if (server->depth > 0 || server->in_send) {
    return SDTLS_E_IN_CALLBACK;
  }
  sdtls_peer_key key;
  if (Sdtls_peer_key_from_sockaddr(addr, addr_len, &key) != 0) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* The address as the send callback gets it: the family's own struct,
   * whatever larger buffer (sockaddr_storage) the caller passed. */
  addr_len = key.bytes[0] == 4 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
  sdtls_server *s = server;
  s->depth++;
  int rc = 0;
  uint64_t hash = key_hash(s, &key);
  peer *p = table_find(s, &key, hash);
  sdtls_client_hello ch;

  if (len == 0 || len > MAX_DATAGRAM ||
      !(Sdtls_record_header_ok(datagram, len) ||
        (p != NULL && Sdtls_record_is_unified(datagram, len)))) {
    s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
  } else if (p != NULL) {
    /* A ClientHello with another client random than the one that made the
     * connection is a client starting over from the same address (RFC 6347
     * 4.2.8): it goes through the cookie exchange, and only a valid cookie
     * replaces the connection. Retransmitted and duplicated ClientHellos
     * (same random) are the connection's business. */
    sdtls_ch_fragment frag;
    if (s->cookies && Sdtls_client_hello_parse(datagram, len, &ch) == SDTLS_CH_OK &&
        memcmp(ch.random, p->random, SDTLS_RANDOM_LEN) != 0) {
      rc = handle_client_hello(s, &key, hash, addr, addr_len, &ch, p, len, datagram, len, now);
    } else if (s->cookies && restart_fragment(s, p, &key, hash, datagram, len, &frag)) {
      /* The same, in fragments (an X25519MLKEM768 ClientHello). */
      rc = handle_fragment(s, &key, hash, addr, addr_len, &frag, p, len, now);
    } else if (!p->dead) {
      Sdtls_conn_feed(p->conn, datagram, len, now);
      check_ended(p);
      refresh_due(s, p, 0);
    }
  } else {
    sdtls_ch_fragment frag;
    switch (Sdtls_client_hello_parse(datagram, len, &ch)) {
      case SDTLS_CH_OK:
        rc = handle_client_hello(s, &key, hash, addr, addr_len, &ch, NULL, len, datagram, len,
                                 now);
        break;
      case SDTLS_CH_NOT_CLIENT_HELLO:
        s->counters[SDTLS_COUNTER_DROPPED_UNKNOWN_PEER]++;
        break;
      case SDTLS_CH_MALFORMED:
        /* A fragment of a ClientHello (RFC 6347 4.2.3) is reassembled. */
        if (Sdtls_client_hello_fragment_parse(datagram, len, &frag) == SDTLS_CH_OK &&
            (frag.fragment_offset != 0 || frag.fragment_len != frag.message_len)) {
          rc = handle_fragment(s, &key, hash, addr, addr_len, &frag, NULL, len, now);
        } else {
          s->counters[SDTLS_COUNTER_DROPPED_MALFORMED]++;
        }
        break;
    }
  }
  leave(s);
  return rc;
}

/* ---- time ---- */

sdtls_time sdtls_server_next_deadline(const sdtls_server *server) {
  if (server == NULL || server->count == 0) {
    return SDTLS_TIME_NEVER;
  }
  return server->peers[0]->due;
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

/* Links every peer due at `now` into a list: the heap's due peers form a
 * subtree at its root, walked here (depth at most the heap's height). */
static void collect_due(const sdtls_server *s, size_t i, sdtls_time now, peer **list) {
  if (i >= s->count || s->peers[i]->due > now) {
    return;
  }
  s->peers[i]->next_due = *list;
  *list = s->peers[i];
  collect_due(s, 2 * i + 1, now, list);
  collect_due(s, 2 * i + 2, now, list);
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
  peer *due = NULL;
  collect_due(s, 0, now, &due);
  while (due != NULL) {
    peer *p = due;
    due = p->next_due;
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
  return Sdtls_cookie_keys_rotate(&server->keys, secret, len, now);
}

uint64_t sdtls_server_counter_get(const sdtls_server *server, sdtls_server_counter counter) {
  if (server == NULL) {
    return 0;
  }
  switch (counter) {
    case SDTLS_COUNTER_PEERS:
      return server->count;
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

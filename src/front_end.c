/* SPDX-License-Identifier: Apache-2.0 */
/* The server's stateless front end (see front_end.h): a datagram from an
 * address with no connection, from parsing to the decision.
 *
 * An unknown address gets a stateless HelloVerifyRequest and nothing is kept
 * or allocated for it; only a ClientHello with a valid cookie is admitted.
 * A ClientHello that offers DTLS 1.3 is answered with a stateless
 * HelloRetryRequest cookie (RFC 9147 5.1) when the engine glue can take the
 * second ClientHello over; a HelloVerifyRequest leads to DTLS 1.2 only
 * (RFC 9147 5.3; the engine's client enforces it).
 *
 * A ClientHello may span several datagrams (a post-quantum key share does
 * not fit one): its fragments are reassembled in a bounded buffer per
 * address (at most SDTLS_MAX_PENDING_BYTES, at most min(MAX_HANDSHAKES,
 * SDTLS_MAX_PENDING) addresses at once, each for at most PENDING_TTL; when
 * all are in use, a new one evicts one drawn at random from the older half,
 * fullest networks first: pending_make_room), and the whole ClientHello then
 * goes through the same checks as one that came in one datagram. */
#include "front_end.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/siphash.h>

/* How long an incomplete ClientHello is kept. */
#define PENDING_TTL_NS (3000 * NS_PER_MS)

/* A ClientHello in reassembly from an address with no connection. */
struct sdtls_pending_ch {
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
};

int Sdtls_front_end_init(sdtls_front_end *fe, const sdtls_config *config, uint64_t *counters) {
  memset(fe, 0, sizeof(*fe));
  fe->counters = counters;
  fe->ctx = config->ctx;
  fe->cookies = config->cookies != 0;
  fe->hrr_cookies = Sdtls_engine_has_hrr_cookie() != 0;
  fe->allow_dtls13 =
      config->max_version == SDTLS_DTLS1_3 && sdtls_has_feature(SDTLS_FEATURE_DTLS1_3);
  size_t max_handshakes = (size_t)config->max_handshakes;
  fe->max_pending = max_handshakes < SDTLS_MAX_PENDING ? max_handshakes : SDTLS_MAX_PENDING;
  if (Sdtls_cookie_keys_init(&fe->keys, (uint64_t)config->cookie_lifetime_ms) != 0 ||
      !RAND_bytes((uint8_t *)fe->net_key, sizeof(fe->net_key)) ||
      !RAND_bytes((uint8_t *)fe->evict_key, sizeof(fe->evict_key))) {
    return SDTLS_E_INTERNAL;
  }
  return 0;
}

static void pending_free(sdtls_pending_ch *c) {
  if (c != NULL) {
    free(c->body);
    free(c->seen);
    free(c);
  }
}

void Sdtls_front_end_free(sdtls_front_end *fe) {
  for (size_t i = 0; i < fe->n_pending; i++) {
    pending_free(fe->pending[i]);
  }
  fe->n_pending = 0;
  Sdtls_cookie_keys_wipe(&fe->keys);
}

/* ---- decisions ---- */

/* The ClientHello in `hello` may create a connection. */
static int admit(const sdtls_received *hello, const sdtls_client_hello *ch, bool handover,
                 const uint8_t *prefix, size_t prefix_len, sdtls_decision *out) {
  out->hello = *hello;
  out->ch = *ch;
  out->handover = handover;
  out->prefix = prefix;
  out->prefix_len = prefix_len;
  return SDTLS_VERDICT_ADMIT;
}

static int reply(size_t len, bool is_cookie, sdtls_decision *out) {
  out->reply_len = len;
  out->reply_is_cookie = is_cookie;
  return SDTLS_VERDICT_REPLY;
}

static int drop(sdtls_front_end *fe, sdtls_server_counter counter) {
  fe->counters[counter]++;
  return SDTLS_VERDICT_NONE;
}

/* No state: the answer is a function of the request alone. */
static int hello_verify_request(sdtls_front_end *fe, const sdtls_received *rx,
                                const sdtls_client_hello *ch, sdtls_decision *out) {
  uint8_t cookie[SDTLS_COOKIE_LEN];
  Sdtls_cookie_make(&fe->keys, &rx->key, ch, rx->now, cookie);
  size_t n = Sdtls_hello_verify_request(ch, cookie, out->reply, sizeof(out->reply));
  if (n == 0 || n > rx->len) {
    /* Never answer with more than was asked: no amplification. (A
     * well-formed ClientHello is always larger than the answer.) */
    return drop(fe, SDTLS_COUNTER_DROPPED_MALFORMED);
  }
  return reply(n, true, out);
}

/* ---- DTLS 1.3: stateless HelloRetryRequest cookies (RFC 9147 5.1) ---- */

#define HRR_NOT_TAKEN (SDTLS_VERDICT_ADMIT + 1) /* not one the exchange takes: go on */

/* A DTLS 1.3 ClientHello with cookies on. The first one is answered with a
 * HelloRetryRequest whose cookie carries all the server needs later (the
 * hash of this ClientHello, the suite and group the engine will choose),
 * and nothing is kept. The second, with a valid cookie, is admitted with
 * the transcript of the first round, which the engine glue gives the
 * connection (src/engine/handover_upstream.cc). */
static int handle_client_hello13(sdtls_front_end *fe, const sdtls_received *rx,
                                 const sdtls_client_hello *ch, const sdtls_ch13 *x,
                                 sdtls_decision *out) {
  sdtls_hrr_state st;
  if (!x->has_cookie) {
    int sha384 = 0;
    memset(&st, 0, sizeof(st));
    if (!Sdtls_engine_tls13_choose(fe->ctx, ch->cipher_suites, ch->cipher_suites_len,
                                   x->groups, x->groups_len, &st.cipher, &st.group, &sha384)) {
      return HRR_NOT_TAKEN; /* no shared suite or group: the engine says so */
    }
    st.ask_share = !Sdtls_ch13_has_share(x, st.group);
    st.hash_len = Sdtls_client_hello_hash(rx->data, rx->len, sha384, st.hash);
    uint8_t cookie[SDTLS_HRR_COOKIE_MAX];
    size_t cookie_len = Sdtls_hrr_cookie_make(&fe->keys, &rx->key, ch, rx->now, &st, cookie);
    size_t n = Sdtls_hello_retry_request(ch, &st, cookie, cookie_len, out->reply,
                                         sizeof(out->reply));
    if (n == 0 || n > rx->bytes_in) {
      /* Never answer with more than was asked: no amplification. */
      return drop(fe, SDTLS_COUNTER_DROPPED_MALFORMED);
    }
    return reply(n, true, out);
  }
  if (!Sdtls_hrr_cookie_open(&fe->keys, &rx->key, ch, rx->now, x->cookie, x->cookie_len, &st) ||
      !Sdtls_ch13_has_share(x, st.group)) {
    /* Damaged on either way, expired or forged: a second HelloRetryRequest
     * is not allowed, so the handshake is ended with an illegal_parameter
     * alert (RFC 9147 5.1), which tells the client to start over without a
     * cookie instead of waiting for its deadline. Stateless, as the
     * HelloRetryRequest: the record number of the ClientHello, 15 bytes
     * (less than any ClientHello). */
    fe->counters[SDTLS_COUNTER_COOKIES_REJECTED]++;
    return reply(Sdtls_fatal_alert(ch->record_seq, SSL_AD_ILLEGAL_PARAMETER, out->reply), false,
                 out);
  }
  /* The HelloRetryRequest again, for the transcript. */
  uint8_t hrr[SDTLS_MAX_HRR];
  size_t n = Sdtls_hello_retry_request(ch, &st, x->cookie, x->cookie_len, hrr, sizeof(hrr));
  size_t prefix_len = n == 0 ? 0 : Sdtls_hrr_transcript(&st, hrr, n, out->prefix_buf,
                                                        sizeof(out->prefix_buf));
  if (prefix_len == 0) {
    return drop(fe, SDTLS_COUNTER_DROPPED_MALFORMED);
  }
  return admit(rx, ch, true, out->prefix_buf, prefix_len, out);
}

/* A ClientHello at epoch 0, whole: from an address with no connection, or
 * one replacing a known peer's connection (RFC 6347 4.2.8). */
static int handle_client_hello(sdtls_front_end *fe, const sdtls_received *rx,
                               const sdtls_client_hello *ch, sdtls_decision *out) {
  sdtls_ch13 x;
  if (fe->cookies && fe->hrr_cookies && fe->allow_dtls13 && Sdtls_client_hello_13(ch, &x) &&
      x.offers13) {
    int r = handle_client_hello13(fe, rx, ch, &x, out);
    if (r != HRR_NOT_TAKEN) {
      return r;
    }
  }
  if (fe->cookies) {
    if (ch->cookie_len == 0 || !Sdtls_cookie_verify(&fe->keys, &rx->key, ch, rx->now)) {
      if (ch->cookie_len != 0) {
        fe->counters[SDTLS_COUNTER_COOKIES_REJECTED]++;
      }
      return hello_verify_request(fe, rx, ch, out);
    }
    /* The client proved its address with a fresh cookie. */
    return admit(rx, ch, true, NULL, 0, out);
  }
  /* Without the exchange the first ClientHello has message_seq 0. A client
   * that went through one elsewhere (message_seq 1) needs the hand-over;
   * where there is glue, it is harmless for the others. */
  bool handover = Sdtls_engine_has_cookie_handover() != 0;
  if (!handover && ch->message_seq != 0) {
    return drop(fe, SDTLS_COUNTER_DROPPED_UNKNOWN_PEER);
  }
  return admit(rx, ch, handover, NULL, 0, out);
}

/* ---- ClientHello reassembly ---- */

static sdtls_pending_ch *pending_find(sdtls_front_end *fe, const sdtls_peer_key *key,
                                      uint64_t hash, size_t *index) {
  for (size_t i = 0; i < fe->n_pending; i++) {
    sdtls_pending_ch *c = fe->pending[i];
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
static uint64_t prefix_id(const sdtls_front_end *fe, const sdtls_peer_key *key) {
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
  return SIPHASH_24(fe->net_key, net, sizeof(net));
}

/* A number a spoofer cannot predict: SipHash under a per-server random key
 * of a counter (cheaper than the engine's RAND_bytes per datagram). */
static uint64_t pending_random(sdtls_front_end *fe) {
  uint64_t draw = fe->evict_draws++;
  return SIPHASH_24(fe->evict_key, (const uint8_t *)&draw, sizeof(draw));
}

/* Adds `c` as the newest reassembly; there is room. */
static void pending_add(sdtls_front_end *fe, sdtls_pending_ch *c) {
  c->network_count = 1;
  for (size_t i = 0; i < fe->n_pending; i++) {
    if (fe->pending[i]->network == c->network) {
      fe->pending[i]->network_count++;
      c->network_count++;
    }
  }
  fe->pending[fe->n_pending++] = c;
}

/* Removes and frees one; the others keep their order (oldest first). */
static void pending_remove(sdtls_front_end *fe, size_t i) {
  sdtls_pending_ch *c = fe->pending[i];
  for (size_t j = 0; j < fe->n_pending; j++) {
    if (fe->pending[j]->network == c->network) {
      fe->pending[j]->network_count--;
    }
  }
  pending_free(c);
  memmove(&fe->pending[i], &fe->pending[i + 1], (fe->n_pending - i - 1) * sizeof(fe->pending[0]));
  fe->n_pending--;
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
static void pending_make_room(sdtls_front_end *fe, sdtls_time now) {
  for (size_t i = 0; i < fe->n_pending;) {
    if (now >= fe->pending[i]->expires) {
      pending_remove(fe, i);
    } else {
      i++;
    }
  }
  if (fe->n_pending == 0 || fe->n_pending < fe->max_pending) {
    return;
  }
  const size_t older = (fe->n_pending + 1) / 2; /* the array is oldest first */
  size_t most = 0, candidates = 0;
  for (size_t i = 0; i < older; i++) {
    size_t count = fe->pending[i]->network_count;
    if (count > most) {
      most = count;
      candidates = 1;
    } else if (count == most) {
      candidates++;
    }
  }
  /* Bias of the modulo: below 2^-56. */
  uint64_t pick = pending_random(fe) % candidates;
  for (size_t i = 0; i < older; i++) {
    if (fe->pending[i]->network_count == most && pick-- == 0) {
      pending_remove(fe, i);
      return;
    }
  }
}

/* A fragment of a known peer's datagram that belongs to a new ClientHello
 * from its address (a restart, RFC 6347 4.2.8): the first fragment carries
 * another client random than the one that made the connection, the others
 * continue a reassembly such a first fragment began. */
static bool restart_fragment(sdtls_front_end *fe, const sdtls_received *rx,
                             const uint8_t *known_random, sdtls_ch_fragment *f) {
  if (Sdtls_client_hello_fragment_parse(rx->data, rx->len, f) != SDTLS_CH_OK ||
      (f->fragment_offset == 0 && f->fragment_len == f->message_len)) {
    return false;
  }
  if (f->fragment_offset == 0) {
    /* client_version (2 bytes), then the random */
    return f->fragment_len >= 2 + SDTLS_RANDOM_LEN &&
           memcmp(f->fragment + 2, known_random, SDTLS_RANDOM_LEN) != 0;
  }
  size_t index;
  return pending_find(fe, &rx->key, rx->hash, &index) != NULL;
}

/* Adds the fragment `f` of `rx` to its address's reassembly (a new one
 * when there is none, or when it belongs to another ClientHello). Returns
 * it, or NULL when memory ran out; *index is its place. */
static sdtls_pending_ch *pending_take(sdtls_front_end *fe, const sdtls_received *rx,
                                      const sdtls_ch_fragment *f, size_t *index) {
  sdtls_pending_ch *c = pending_find(fe, &rx->key, rx->hash, index);
  if (c != NULL && (c->first.message_len != f->message_len ||
                    c->first.message_seq != f->message_seq || rx->now >= c->expires)) {
    /* Another ClientHello (a restart, the one after a cookie): start over. */
    pending_remove(fe, *index);
    c = NULL;
  }
  if (c == NULL) {
    pending_make_room(fe, rx->now);
    c = calloc(1, sizeof(*c));
    if (c != NULL) {
      c->body = malloc(f->message_len);
      c->seen = calloc((f->message_len + 7) / 8, 1);
    }
    if (c == NULL || c->body == NULL || c->seen == NULL) {
      pending_free(c);
      return NULL;
    }
    c->key = rx->key;
    c->hash = rx->hash;
    c->network = prefix_id(fe, &rx->key);
    c->first = *f;
    c->first.fragment = NULL;
    c->expires = Sdtls_time_add(rx->now, PENDING_TTL_NS);
    *index = fe->n_pending;
    pending_add(fe, c);
  }
  c->bytes_in += rx->len;
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
      c->bytes_in = rx->len;
      c->max_record_seq = f->record_seq;
      i = (size_t)-1; /* this fragment again, from its start */
    }
  }
  return c;
}

/* One fragment of a ClientHello from an address with no connection (or, as
 * a restart, from a known peer's). When it completes the message, the whole
 * ClientHello is decided on as if it had come in one datagram. */
static int handle_fragment(sdtls_front_end *fe, const sdtls_received *rx,
                           const sdtls_ch_fragment *f, const uint8_t *known_random,
                           sdtls_decision *out) {
  if (f->message_len > SDTLS_MAX_PENDING_BYTES) {
    return drop(fe, SDTLS_COUNTER_DROPPED_MALFORMED);
  }
  size_t index = 0;
  sdtls_pending_ch *c = pending_take(fe, rx, f, &index);
  if (c == NULL) {
    return SDTLS_E_NOMEM;
  }
  if (c->covered < c->first.message_len) {
    return SDTLS_VERDICT_NONE;
  }
  /* Whole: one unfragmented record carrying the last record number. */
  sdtls_ch_fragment head = c->first;
  head.record_seq = c->max_record_seq;
  sdtls_received whole = *rx;
  whole.data = out->whole;
  whole.len = Sdtls_client_hello_assemble(&head, c->body, out->whole, sizeof(out->whole));
  whole.bytes_in = c->bytes_in;
  out->whole_len = whole.len;
  pending_remove(fe, index);
  sdtls_client_hello ch;
  if (whole.len == 0 || Sdtls_client_hello_parse(whole.data, whole.len, &ch) != SDTLS_CH_OK) {
    return drop(fe, SDTLS_COUNTER_DROPPED_MALFORMED);
  }
  if (known_random != NULL && memcmp(ch.random, known_random, SDTLS_RANDOM_LEN) == 0) {
    return SDTLS_VERDICT_NONE; /* its own ClientHello after all: the connection has it */
  }
  return handle_client_hello(fe, &whole, &ch, out);
}

/* ---- the entry ---- */

int Sdtls_front_end_receive(sdtls_front_end *fe, const sdtls_received *rx,
                            const uint8_t *known_random, sdtls_decision *out) {
  out->whole_len = 0;
  sdtls_client_hello ch;
  sdtls_ch_fragment frag;
  if (known_random != NULL) {
    /* A ClientHello with another client random than the one that made the
     * connection is a client starting over from the same address (RFC 6347
     * 4.2.8): it goes through the cookie exchange, and only a valid cookie
     * replaces the connection. Retransmitted and duplicated ClientHellos
     * (same random) are the connection's business. */
    if (fe->cookies && Sdtls_client_hello_parse(rx->data, rx->len, &ch) == SDTLS_CH_OK &&
        memcmp(ch.random, known_random, SDTLS_RANDOM_LEN) != 0) {
      return handle_client_hello(fe, rx, &ch, out);
    }
    if (fe->cookies && restart_fragment(fe, rx, known_random, &frag)) {
      /* The same, in fragments (an X25519MLKEM768 ClientHello). */
      return handle_fragment(fe, rx, &frag, known_random, out);
    }
    return SDTLS_VERDICT_CONNECTION;
  }
  switch (Sdtls_client_hello_parse(rx->data, rx->len, &ch)) {
    case SDTLS_CH_OK:
      return handle_client_hello(fe, rx, &ch, out);
    case SDTLS_CH_NOT_CLIENT_HELLO:
      return drop(fe, SDTLS_COUNTER_DROPPED_UNKNOWN_PEER);
    case SDTLS_CH_MALFORMED:
      break;
  }
  /* A fragment of a ClientHello (RFC 6347 4.2.3) is reassembled. */
  if (Sdtls_client_hello_fragment_parse(rx->data, rx->len, &frag) == SDTLS_CH_OK &&
      (frag.fragment_offset != 0 || frag.fragment_len != frag.message_len)) {
    return handle_fragment(fe, rx, &frag, NULL, out);
  }
  return drop(fe, SDTLS_COUNTER_DROPPED_MALFORMED);
}

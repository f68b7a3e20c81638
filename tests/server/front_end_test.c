/* SPDX-License-Identifier: Apache-2.0 */
/* src/front_end.c through sdtls_server: the DTLS 1.3 stateless
 * HelloRetryRequest cookie (fragmented and small ClientHellos, a flood,
 * damaged cookies, a restart), and the reassembly of fragmented
 * ClientHellos within its budget, also under floods of spoofed first
 * fragments. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "world.h"

/* ---- DTLS 1.3 (with an engine that speaks it) ---- */

/* Runs the world until every client is connected (or ended), moving time
 * to the next deadline of the server or a client when nothing is in
 * flight, for at most `limit`. */
static void run_timers(world *w, sdtls_time limit, bool until_quiet) {
  sdtls_time end = w->now + limit;
  for (int guard = 0; guard < 100000; guard++) {
    pump(w);
    bool all = !until_quiet;
    sdtls_time next = sdtls_server_next_deadline(w->server);
    for (int i = 0; i < w->nclients; i++) {
      client *c = w->clients[i];
      if (c->conn == NULL) {
        continue;
      }
      if (!c->done && !c->closed) {
        all = false;
      }
      sdtls_time t = sdtls_conn_next_deadline(c->conn);
      next = t < next ? t : next;
      if (until_quiet && t != SDTLS_TIME_NEVER) {
        all = false;
      }
    }
    if (all || next == SDTLS_TIME_NEVER || next > end) {
      return;
    }
    w->now = next > w->now ? next : w->now;
    sdtls_server_handle_timeout(w->server, w->now);
    for (int i = 0; i < w->nclients; i++) {
      if (w->clients[i]->conn != NULL) {
        sdtls_conn_handle_timeout(w->clients[i]->conn, w->now);
      }
    }
  }
}

/* Both sides name the post-quantum hybrid (the default list has it first
 * too; these tests are about the server's reassembly, not the default). */
static world_opts pq_opts(void) {
  world_opts o = default_opts();
  o.client_max_version = SDTLS_DTLS1_3;
  o.client_groups = "X25519MLKEM768:X25519:P-256";
  o.server_groups = "X25519MLKEM768:X25519:P-256";
  return o;
}

/* Until every client is connected (or ended). */
static void settle(world *w, sdtls_time limit) { run_timers(w, limit, false); }

static size_t sent_to(world *w, uint16_t port) {
  size_t n = 0;
  for (int i = 0; i < w->nlog; i++) {
    if (ntohs(w->log[i].addr.sin_port) == port) {
      n += w->log[i].len;
    }
  }
  return n;
}

static bool is_hrr(const pkt *p) {
  static const uint8_t kHrrRandom[4] = {0xcf, 0x21, 0xad, 0x74};
  return p->len > 25 + 2 + 32 && REC_TYPE(p->data) == 22 && HS_TYPE(p->data) == 2 &&
         memcmp(p->data + 25 + 2, kHrrRandom, 4) == 0;
}

/* An X25519MLKEM768 ClientHello does not fit a 1200-byte datagram: the
 * server reassembles it, validates the address with a stateless
 * HelloRetryRequest cookie (no state kept, the answer smaller than the
 * request), takes the second ClientHello (also in fragments) and routes the
 * client's unified-header records; data flows both ways, at one instant (no
 * retransmission). */
static void test_dtls13_fragmented_client_hello(void) {
  TEST_WORLD(w, pq_opts(), NEED_GLUE | NEED_DTLS13);
  w->echo = true;
  client *c = client_start(w, addr_of(0x7f000001, 40001));
  REQUIRE(c != NULL);
  CHECKF(w->to_server.n >= 2, "the ClientHello took %zu datagram(s)", w->to_server.n);
  const size_t ch_datagrams = w->to_server.n;
  size_t ch_bytes = 0;
  for (size_t i = 0; i < w->to_server.n; i++) {
    ch_bytes += w->to_server.items[w->to_server.head + i].len;
    CHECK(w->to_server.items[w->to_server.head + i].len <= 1200);
  }
  const sdtls_time t0 = w->now;
  /* The first ClientHello: a HelloRetryRequest and nothing kept. */
  while (deliver_one_to_server(w)) {
  }
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  REQUIRE_EQ(w->to_client.n, 1);
  pkt *hrr = &w->to_client.items[w->to_client.head];
  CHECK(is_hrr(hrr));
  CHECKF(hrr->len < ch_bytes, "HelloRetryRequest of %zu bytes", hrr->len);
  printf("  HelloRetryRequest %zu bytes\n", hrr->len);
  pump(w);
  REQUIRE(c->done);
  CHECK_EQ(w->now, t0); /* no retransmission was needed */
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
  CHECK_STREQ(sdtls_conn_group(c->conn), "X25519MLKEM768");
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(w->handshakes, 1);
  size_t flight = sent_to(w, 40001);
  printf("  ClientHello %zu bytes in %zu datagrams, server sent %zu bytes\n", ch_bytes,
         ch_datagrams, flight);
  for (int i = 0; i < 5; i++) {
    char msg[32];
    int n = snprintf(msg, sizeof(msg), "ping%d", i);
    CHECK_EQ(sdtls_conn_send(c->conn, (const uint8_t *)msg, (size_t)n, w->now), 0);
  }
  pump(w);
  CHECK_EQ(w->data_events, 5);
  CHECK_EQ(c->rx_count, 5);
  CHECK(c->rx_len > 0 && memcmp(c->rx, "echo:ping0:40001", 16) == 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_UNKNOWN_PEER), 0);
  /* A KeyUpdate and data after it. */
  CHECK_EQ(sdtls_conn_key_update(c->conn, w->now), 0);
  CHECK_EQ(sdtls_conn_send(c->conn, (const uint8_t *)"after", 5, w->now), 0);
  /* Timers settle once everything is acknowledged; idle eviction stays. */
  run_timers(w, 30 * SEC, true);
  CHECK_EQ(w->data_events, 6);
  CHECK_EQ(c->rx_count, 6);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED), 0);
  CHECK_EQ(sdtls_conn_next_deadline(c->conn), SDTLS_TIME_NEVER);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(sdtls_conn_close(c->conn, w->now), 0);
  pump(w);
  CHECK_EQ(w->closes, 1);
  world_free(w);
}

/* A ClientHello with an X25519 share (one datagram): the HelloRetryRequest
 * asks for no other share, and the handshake completes at once. */
static void test_dtls13_small_client_hello(void) {
  world_opts o = default_opts();
  o.client_max_version = SDTLS_DTLS1_3;
  o.client_groups = "X25519";
  TEST_WORLD(w, o, NEED_GLUE | NEED_DTLS13);
  client *c = client_start(w, addr_of(0x7f000001, 40002));
  REQUIRE(c != NULL);
  const sdtls_time t0 = w->now;
  settle(w, 10 * SEC);
  REQUIRE(c->done);
  CHECK_EQ(w->now, t0);
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
  CHECK_STREQ(sdtls_conn_group(c->conn), "X25519");
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 1);
  printf("  X25519-only client: connected after %llu ms, server sent %zu bytes\n",
         (unsigned long long)((w->now - t0) / MS), sent_to(w, 40002));
  world_free(w);
}

/* A client capped at DTLS 1.2 gets the HelloVerifyRequest and the
 * hand-over, with this engine too. */
static void test_dtls13_engine_hvr_for_dtls12(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE | NEED_DTLS13);
  const sdtls_time t0 = w->now;
  client *c = client_connect(w, addr_of(0x7f000001, 40003));
  REQUIRE(c != NULL);
  CHECK_EQ(w->now, t0);
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.2");
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 1);
  world_free(w);
}

/* A flood of spoofed DTLS 1.3 ClientHellos (X25519MLKEM768, two datagrams
 * each, from distinct addresses): each gets a stateless HelloRetryRequest
 * smaller than the request and nothing is kept; a real client still gets
 * through with DTLS 1.3. Prints the measurement. */
static void test_dtls13_flood(void) {
  TEST_WORLD(w, pq_opts(), NEED_GLUE | NEED_DTLS13);
  /* The first flight of a real X25519MLKEM768 client, as captured. */
  pkt frag[4];
  const size_t nfrag = first_flight(w, frag, 4);
  size_t flight_len = 0;
  for (size_t f = 0; f < nfrag; f++) {
    flight_len += frag[f].len;
  }
  REQUIRE(nfrag >= 2);
  /* Warm up (lazy engine state, the log of sent datagrams). */
  for (int i = 0; i < 300; i++) {
    struct sockaddr_in a = addr_of(0x0b000000u + (uint32_t)i, 7);
    for (size_t f = 0; f < nfrag; f++) {
      pkt in = {a, frag[f].len, frag[f].data};
      deliver_to_server(w, &in);
    }
  }
  q_clear(&w->to_client);

  const int kFlood = 20000;
  size_t before = heap_in_use();
  size_t bytes = 0, hrrs = 0, too_big = 0, largest = 0;
  for (int i = 0; i < kFlood; i++) {
    struct sockaddr_in a = addr_of(0x0c000000u + (uint32_t)i, (uint16_t)(2000 + i % 50000));
    for (size_t f = 0; f < nfrag; f++) {
      pkt in = {a, frag[f].len, frag[f].data};
      CHECK_EQ(deliver_to_server(w, &in), 0);
    }
    pkt out;
    while (q_pop(&w->to_client, &out)) {
      bytes += out.len;
      hrrs += is_hrr(&out);
      too_big += out.len > flight_len;
      largest = out.len > largest ? out.len : largest;
      free(out.data);
    }
  }
  long long grown = (long long)heap_in_use() - (long long)before;
  CHECKF(grown < 64 * 1024, "heap grew by %lld bytes over the flood", grown);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 0);
  CHECK_EQ(hrrs, (size_t)kFlood);
  CHECK_EQ(too_big, 0);
  CHECK_EQ(sdtls_server_next_deadline(w->server), SDTLS_TIME_NEVER);
  printf("  flood of %d spoofed ClientHellos (%zu datagrams, %zu bytes each): no connection, "
         "heap %+lld bytes; %zu HelloRetryRequests of %zu bytes, %.1f bytes sent per datagram "
         "received (%.3f of the bytes received)\n",
         kFlood, nfrag, flight_len, grown, hrrs, largest,
         (double)bytes / (double)(kFlood * (int)nfrag),
         (double)bytes / (double)((size_t)kFlood * flight_len));

  /* A real client in the middle of it: DTLS 1.3, address validated. */
  client *c = client_start(w, addr_of(0x7f000001, 40004));
  REQUIRE(c != NULL);
  settle(w, 5 * SEC);
  CHECK(c->done);
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
  for (size_t f = 0; f < nfrag; f++) {
    free(frag[f].data);
  }
  world_free(w);
}

/* The server's answer to a second ClientHello whose cookie it refuses: an
 * illegal_parameter alert (RFC 9147 5.1: the client starts over instead
 * of waiting for its deadline), in a DTLS 1.2 epoch-0 record carrying the
 * ClientHello's record number, smaller than the ClientHello. */
static void expect_illegal_parameter(world *w, const struct sockaddr_in *to, const pkt *ch2) {
  pkt p;
  REQUIRE(q_pop(&w->to_client, &p));
  CHECK(p.addr.sin_addr.s_addr == to->sin_addr.s_addr && p.addr.sin_port == to->sin_port);
  static const uint8_t head[] = {21, 0xfe, 0xfd, 0, 0};
  CHECK_EQ(p.len, 15);
  CHECK(p.len == 15 && memcmp(p.data, head, sizeof(head)) == 0);
  CHECK(p.len == 15 && memcmp(p.data + 5, ch2->data + 5, 6) == 0); /* the record number */
  CHECK(p.len == 15 && p.data[11] == 0 && p.data[12] == 2 && p.data[13] == 2 && p.data[14] == 47);
  CHECK(p.len < ch2->len);
  free(p.data);
}

/* Second ClientHellos with a forged, altered or replayed-elsewhere cookie
 * are refused and make nothing but the alert. */
static void test_dtls13_bad_cookies(void) {
  world_opts o = default_opts();
  o.client_max_version = SDTLS_DTLS1_3;
  o.client_groups = "X25519"; /* each ClientHello in one datagram */
  TEST_WORLD(w, o, NEED_GLUE | NEED_DTLS13);
  client *c = client_start(w, addr_of(0x7f000001, 40006));
  REQUIRE(c != NULL);
  deliver_one_to_server(w);                 /* ClientHello 1 */
  REQUIRE(deliver_one_to_client(w));        /* the HelloRetryRequest */
  pkt ch2;
  REQUIRE(q_pop(&w->to_server, &ch2));      /* ClientHello 2, with the cookie */
  /* The same from another address: the cookie is bound to the address. */
  pkt other = {addr_of(0x7f000002, 40006), ch2.len, ch2.data};
  CHECK_EQ(deliver_to_server(w, &other), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), 1);
  expect_illegal_parameter(w, &other.addr, &ch2);
  /* One flipped byte anywhere in the cookie's MAC or fields. */
  uint8_t bad[2048];
  memcpy(bad, ch2.data, ch2.len);
  size_t at = ch2.len - 1;
  for (size_t i = 25 + 2 + 32; i + 6 < ch2.len; i++) {
    if (bad[i] == 0 && bad[i + 1] == 44) { /* the cookie extension */
      at = i + 6 + 3;
      break;
    }
  }
  bad[at] ^= 1;
  pkt forged = {c->addr, ch2.len, bad};
  CHECK_EQ(deliver_to_server(w, &forged), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), 2);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  /* (Not delivered: the client would start over, which the simulator
   * tests cover; here the genuine ClientHello follows.) */
  expect_illegal_parameter(w, &c->addr, &ch2);
  /* The genuine one goes through. */
  pkt good = {c->addr, ch2.len, ch2.data};
  CHECK_EQ(deliver_to_server(w, &good), 0);
  free(ch2.data);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  pump(w);
  CHECK(c->done);
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
  world_free(w);
}

/* A DTLS 1.3 client starts over from the same address with a new
 * X25519MLKEM768 ClientHello (in fragments): after the HelloRetryRequest
 * cookie it replaces the old connection (RFC 6347 4.2.8); a spoofed first
 * fragment alone replaces nothing. */
static void test_dtls13_client_restart(void) {
  TEST_WORLD(w, pq_opts(), NEED_GLUE | NEED_DTLS13);
  struct sockaddr_in a = addr_of(0x7f000001, 40007);
  client *first = client_connect(w, a);
  REQUIRE(first != NULL);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  /* The same client, restarted: a new connection object at the address. */
  sdtls_conn_free(first->conn);
  first->conn = NULL;
  first->addr = addr_of(0, 0); /* no longer routed to */
  /* Only its first fragment, spoofed: nothing changes. */
  client *spoof = client_start(w, a);
  REQUIRE(spoof != NULL);
  pkt f0;
  REQUIRE(q_pop(&w->to_server, &f0));
  q_clear(&w->to_server);
  CHECK_EQ(deliver_to_server(w, &f0), 0);
  free(f0.data);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(w->closes, 0);
  sdtls_conn_free(spoof->conn);
  spoof->conn = NULL;
  spoof->addr = addr_of(0, 0);
  q_clear(&w->to_client);
  /* The real restart. */
  client *again = client_start(w, a);
  REQUIRE(again != NULL);
  pump(w);
  CHECK(again->done);
  CHECK_STREQ(sdtls_conn_version(again->conn), "DTLSv1.3");
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_CLOSED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 2);
  world_free(w);
}

/* ClientHello fragments that never complete: bounded memory, no state
 * beyond it, no answer; a real client still connects. */
static void test_dtls13_incomplete_fragments(void) {
  TEST_WORLD(w, pq_opts(), NEED_GLUE | NEED_DTLS13);
  pkt first;
  REQUIRE(first_flight(w, &first, 1) == 1);
  /* Warm up, then measure 10000 addresses' first fragments. */
  for (int i = 0; i < 300; i++) {
    struct sockaddr_in a = addr_of(0x0e000000u + (uint32_t)i, 7);
    pkt in = {a, first.len, first.data};
    deliver_to_server(w, &in);
  }
  size_t before = heap_in_use();
  for (int i = 0; i < 10000; i++) {
    struct sockaddr_in a = addr_of(0x0f000000u + (uint32_t)i, 7);
    pkt in = {a, first.len, first.data};
    CHECK_EQ(deliver_to_server(w, &in), 0);
  }
  long long grown = (long long)heap_in_use() - (long long)before;
  CHECKF(grown < 64 * 1024, "heap grew by %lld bytes", grown);
  printf("  10000 addresses' first ClientHello fragments (%zu bytes each) after 300: heap "
         "%+lld bytes, nothing sent\n", first.len, grown);
  CHECK_EQ(w->to_client.n, 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 0);
  /* A fragment that does not fit its message, one of a too large message. */
  uint8_t bad[64];
  memcpy(bad, first.data, sizeof(bad));
  bad[22] = 0xff; /* fragment_offset beyond the message */
  struct sockaddr_in a = addr_of(0x7f000002, 9);
  pkt in = {a, sizeof(bad), bad};
  uint64_t malformed = ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED);
  CHECK_EQ(deliver_to_server(w, &in), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED), malformed + 1);
  free(first.data);
  client *c = client_start(w, addr_of(0x7f000001, 40005));
  REQUIRE(c != NULL);
  settle(w, 5 * SEC);
  CHECK(c->done);
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
  world_free(w);
}

/* ---- ClientHello reassembly under a flood of spoofed first fragments ---- */

static void put_be(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    p[n - 1 - i] = (uint8_t)(v >> (8 * i));
  }
}

/* Whether `p` is one fragment of a ClientHello, not all of it. */
static bool is_ch_fragment(const pkt *p) {
  return p->len > 25 && REC_TYPE(p->data) == 22 && REC_EPOCH(p->data) == 0 &&
         HS_TYPE(p->data) == 1 && be(p->data + 22, 3) < be(p->data + 14, 3);
}

/* The ClientHello datagram `ch` (one record, all of the message) as two
 * datagrams of one fragment each, as a client with a small MTU sends it:
 * the first `at` bytes of the message, then the rest in the next record.
 * The caller frees both. */
static void split_client_hello(const pkt *ch, size_t at, pkt *first, pkt *second) {
  const size_t msg_len = ch->len - 25;
  const size_t lens[2] = {at, msg_len - at};
  pkt *out[2] = {first, second};
  for (size_t i = 0; i < 2; i++) {
    out[i]->addr = ch->addr;
    out[i]->len = 25 + lens[i];
    out[i]->data = malloc(out[i]->len);
    memcpy(out[i]->data, ch->data, 25);
    memcpy(out[i]->data + 25, ch->data + 25 + (i == 0 ? 0 : at), lens[i]);
    put_be(out[i]->data + 5, REC_SEQ(ch->data) + i, 6);
    put_be(out[i]->data + 11, 12 + lens[i], 2);
    put_be(out[i]->data + 19, i == 0 ? 0 : at, 3);
    put_be(out[i]->data + 22, lens[i], 3);
  }
}

static int receive_from(world *w, const void *addr, size_t addr_len, const pkt *p) {
  return sdtls_server_receive(w->server, addr, addr_len, p->data, p->len, w->now);
}

/* The i-th spoofed source of a flood: a sockaddr_in or sockaddr_in6. */
typedef size_t (*spoof_source)(size_t i, struct sockaddr_storage *out);

static size_t spoof_any_net24(size_t i, struct sockaddr_storage *out) {
  /* a new /24 each, from 64.0.0.0 on (a spoofer forging any source) */
  struct sockaddr_in a = addr_of(0x40000000u + ((uint32_t)i << 8) + 1, 1024);
  memcpy(out, &a, sizeof(a));
  return sizeof(a);
}

/* The i-th of addresses in the /24s from `net` on (`nets` of them), any
 * host, ports from 1024 on. */
static size_t spoof_in_net24s(uint32_t net, uint32_t nets, size_t i,
                              struct sockaddr_storage *out) {
  uint32_t host = (uint32_t)(i / nets % 254 + 1);
  struct sockaddr_in a = addr_of(net + ((uint32_t)(i % nets) << 8) + host,
                                 (uint16_t)(1024 + i / (nets * 254)));
  memcpy(out, &a, sizeof(a));
  return sizeof(a);
}

static size_t spoof_one_net24(size_t i, struct sockaddr_storage *out) {
  return spoof_in_net24s(0xc6336400u, 1, i, out); /* 198.51.100.0/24 */
}

static size_t spoof_sixteen_net24s(size_t i, struct sockaddr_storage *out) {
  return spoof_in_net24s(0x0a010000u, 16, i, out); /* 10.1.0.0/20 */
}

static size_t spoof_client_net24(size_t i, struct sockaddr_storage *out) {
  return spoof_in_net24s(0xc0000200u, 1, i, out); /* 192.0.2.0/24, the client's */
}

static size_t spoof_one_net64(size_t i, struct sockaddr_storage *out) {
  /* 2001:db8:2::/64, any interface identifier */
  struct sockaddr_in6 a = addr6_of("2001:db8:2::", 5000);
  put_be(a.sin6_addr.s6_addr + 8, i + 1, 8);
  memcpy(out, &a, sizeof(a));
  return sizeof(a);
}

static size_t spoof_mapped_net24(size_t i, struct sockaddr_storage *out) {
  /* ::ffff:198.51.100.0/120, as a dual-stack socket reports IPv4 sources */
  struct sockaddr_in6 a = addr6_of("::ffff:198.51.100.0", (uint16_t)(1024 + i / 254));
  a.sin6_addr.s6_addr[15] = (uint8_t)(i % 254 + 1);
  memcpy(out, &a, sizeof(a));
  return sizeof(a);
}

/* `before` spoofed first fragments from spoof_before(0..), the first
 * fragment of a ClientHello from `real`, `between` spoofed ones from
 * spoof_between(0..), then its second fragment, all at one instant: whether
 * the server answered the real address (the spoofed ones, incomplete, get
 * nothing). */
static bool reassembly_survives(const void *real, size_t real_len, size_t before,
                                spoof_source spoof_before, size_t between,
                                spoof_source spoof_between) {
  world *w = world_new(default_opts());
  if (w == NULL) {
    return false;
  }
  uint8_t ch[2048];
  pkt whole = {addr_of(0, 0), template_client_hello(w, ch), ch};
  pkt first, second;
  split_client_hello(&whole, whole.len / 2, &first, &second);
  for (size_t i = 0; i < before + 1 + between; i++) {
    if (i == before) {
      CHECK_EQ(receive_from(w, real, real_len, &first), 0);
      continue;
    }
    struct sockaddr_storage from;
    size_t from_len = i < before ? spoof_before(i, &from) : spoof_between(i - before - 1, &from);
    CHECK_EQ(receive_from(w, &from, from_len, &first), 0);
  }
  CHECK_EQ(w->sends, 0);
  CHECK_EQ(receive_from(w, real, real_len, &second), 0);
  bool answered = w->sends == 1 && w->nlog == 1 && is_hvr(&w->log[0]);
  free(first.data);
  free(second.data);
  world_free(w);
  return answered;
}

/* The ClientHello reassembly budget (min(SDTLS_OPT_MAX_HANDSHAKES, 256)
 * reassemblies; 256 here) against spoofed first fragments sent between the
 * two datagrams of a real ClientHello. The one that expired first used to
 * be evicted, so a budget's worth of them, from anywhere, evicted the real
 * one; and among reassemblies begun at the same instant (a batch of
 * datagrams handed over with one time) the tie went to an array slot, so
 * once the budget was full two sufficed. Now a newcomer outlives half a
 * budget of newer ones from anywhere, its own network included, and
 * spoofers in a few /24s (IPv4, IPv4-mapped IPv6) or one /64 evict only
 * their own, however many they send. */
static void test_reassembly_budget(void) {
  if (skip_without_glue()) {
    return;
  }
  struct sockaddr_in v4 = addr_of(0xc0000201u, 4433); /* 192.0.2.1 */
  struct sockaddr_in6 v6 = addr6_of("2001:db8:1::1", 4433);
  struct sockaddr_in6 mapped = addr6_of("::ffff:192.0.2.7", 4433);
  const size_t budget = 256, half = 128;
  CHECK(reassembly_survives(&v4, sizeof(v4), 0, NULL, 0, spoof_one_net24));
  CHECK(reassembly_survives(&v4, sizeof(v4), 0, NULL, 255, spoof_one_net24));
  CHECKF(reassembly_survives(&v4, sizeof(v4), 0, NULL, 256, spoof_one_net24),
         "256 spoofed first fragments from one /24 evicted the real reassembly");
  CHECKF(reassembly_survives(&v4, sizeof(v4), 0, NULL, 5000, spoof_sixteen_net24s),
         "5000 spoofed first fragments from sixteen /24s evicted the real reassembly");
  CHECKF(reassembly_survives(&v6, sizeof(v6), 0, NULL, 5000, spoof_one_net64),
         "5000 spoofed first fragments from one /64 evicted the real reassembly");
  CHECKF(reassembly_survives(&mapped, sizeof(mapped), 0, NULL, 5000, spoof_mapped_net24),
         "5000 spoofed first fragments from one IPv4-mapped /24 evicted the real reassembly");
  CHECKF(reassembly_survives(&v4, sizeof(v4), budget, spoof_any_net24, 2, spoof_any_net24),
         "the budget full, 2 spoofed first fragments at the same instant evicted the real one");
  CHECKF(reassembly_survives(&v4, sizeof(v4), budget, spoof_any_net24, half, spoof_any_net24),
         "the budget full, half a budget of spoofed first fragments from anywhere evicted the "
         "real reassembly");
  CHECKF(reassembly_survives(&v4, sizeof(v4), budget, spoof_any_net24, half, spoof_client_net24),
         "the budget full, half a budget of spoofed first fragments from the client's /24 "
         "evicted the real reassembly");
}

/* ---- a real client's handshake through a flood of spoofed first fragments ---- */

typedef struct flood {
  world *w;
  pkt first;         /* what every spoofed datagram carries: a real first fragment */
  bool any_source;   /* each from another /24; else from 10.0.0.0/18's 64 /24s */
  size_t between;    /* spoofed datagrams between two fragments of a ClientHello */
  size_t budget;     /* as many as the reassembly budget holds */
  bool split;        /* ClientHellos come in one datagram: split each in two */
  uint32_t sent;     /* spoofed datagrams so far */
  double seconds;    /* CPU time the server took for them */
} flood;

static void flood_spoof(flood *f, size_t n) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (size_t i = 0; i < n; i++, f->sent++) {
    uint32_t k = f->sent;
    struct sockaddr_storage from;
    if (f->any_source) {
      spoof_any_net24(k & 0x3fffffu, &from);
    } else {
      spoof_in_net24s(0x0a000000u, 64, k, &from);
    }
    pkt in;
    memcpy(&in.addr, &from, sizeof(in.addr));
    in.len = f->first.len;
    in.data = f->first.data;
    CHECK_EQ(deliver_to_server(f->w, &in), 0);
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  f->seconds += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Hands one datagram of the real client to the server behind the flood:
 * before a ClientHello's first fragment the flood has filled the budget (it
 * has been going on for a while), before each later fragment `between` more
 * come. Counts the tries of each ClientHello (message_seq 0, then 1 after
 * the server's cookie); false, and nothing delivered, on one beyond
 * `max_tries`. */
static bool flood_deliver(flood *f, pkt *p, int tries[2], int max_tries) {
  if (is_ch_fragment(p)) {
    if (be(p->data + 19, 3) == 0) {
      uint64_t seq = HS_SEQ(p->data);
      if (seq < 2 && ++tries[seq] > max_tries) {
        return false;
      }
      flood_spoof(f, f->budget);
    } else {
      flood_spoof(f, f->between);
    }
  }
  CHECK_EQ(deliver_to_server(f->w, p), 0);
  return true;
}

/* One real client's handshake from `addr` through the flood, in virtual
 * time (its retransmission timer moves the clock). Returns whether it
 * connected with no ClientHello sent more than `max_tries` times;
 * *tries_out gets the most times one was sent (max_tries + 1: too many). */
static bool flood_trial(flood *f, struct sockaddr_in addr, int max_tries, int *tries_out) {
  world *w = f->w;
  client *c = client_add(w, addr);
  int tries[2] = {0, 0};
  bool within = sdtls_conn_start(c->conn, w->now) == 0;
  for (int guard = 0; within && !c->done && !c->closed && guard < 100000; guard++) {
    pkt p;
    if (q_pop(&w->to_server, &p)) {
      if (f->split && !is_ch_fragment(&p) && p.len > 25 && REC_TYPE(p.data) == 22 &&
          REC_EPOCH(p.data) == 0 && HS_TYPE(p.data) == 1) {
        pkt halves[2];
        split_client_hello(&p, (p.len - 25) / 2, &halves[0], &halves[1]);
        within = flood_deliver(f, &halves[0], tries, max_tries) &&
                 flood_deliver(f, &halves[1], tries, max_tries);
        free(halves[0].data);
        free(halves[1].data);
      } else {
        within = flood_deliver(f, &p, tries, max_tries);
      }
      free(p.data);
      continue;
    }
    if (deliver_one_to_client(w)) {
      continue;
    }
    sdtls_time next = sdtls_server_next_deadline(w->server);
    sdtls_time t = sdtls_conn_next_deadline(c->conn);
    next = t < next ? t : next;
    if (next == SDTLS_TIME_NEVER) {
      break;
    }
    w->now = next > w->now ? next : w->now;
    sdtls_server_handle_timeout(w->server, w->now);
    sdtls_conn_handle_timeout(c->conn, w->now);
  }
  bool ok = within && c->done;
  if (ok && sdtls_has_feature(SDTLS_FEATURE_DTLS1_3)) {
    CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
    CHECK_STREQ(sdtls_conn_group(c->conn), "X25519MLKEM768");
  }
  *tries_out = tries[0] > tries[1] ? tries[0] : tries[1];
  sdtls_conn_free(c->conn);
  c->conn = NULL;
  q_clear(&w->to_server);
  q_clear(&w->to_client);
  return ok;
}

/* Runs `trials` clients through one flood; prints the figures. Returns how
 * many connected within `max_tries` of each ClientHello; `first_try` gets
 * how many needed only one. */
static int flood_run(bool any_source, size_t between, int trials, int max_tries,
                     int *first_try) {
  world_opts o = sdtls_has_feature(SDTLS_FEATURE_DTLS1_3) ? pq_opts() : default_opts();
  world *w = world_new(o);
  if (w == NULL) {
    return 0;
  }
  flood f = {.w = w, .any_source = any_source, .between = between, .budget = 256};
  /* The first datagram of a real client's ClientHello: what is spoofed. */
  pkt ch;
  if (first_flight(w, &ch, 1) != 1) {
    CHECK_FAIL_("no ClientHello");
    world_free(w);
    return 0;
  }
  f.split = !is_ch_fragment(&ch);
  CHECKF(!f.split || !sdtls_has_feature(SDTLS_FEATURE_DTLS1_3),
         "the X25519MLKEM768 ClientHello fits one datagram");
  if (f.split) {
    pkt rest;
    split_client_hello(&ch, (ch.len - 25) / 2, &f.first, &rest);
    free(rest.data);
    free(ch.data);
  } else {
    f.first = ch;
  }
  int ok = 0, tries_hist[5] = {0};
  *first_try = 0;
  for (int i = 0; i < trials; i++) {
    int tries = 0;
    /* 192.0.2.0/24, a network the flood does not use */
    if (flood_trial(&f, addr_of(0xc0000200u + (uint32_t)i + 1, 4433), max_tries, &tries)) {
      ok++;
      *first_try += tries == 1;
    }
    tries_hist[tries < 4 ? tries : 4]++;
  }
  printf("  flood of spoofed first fragments (%zu bytes) from %s: %zu between a ClientHello's "
         "two datagrams (at one instant; the server took them at %.0f per CPU second): %d of %d %s "
         "handshakes connected within %d tries of each ClientHello (most tries 1: %d, 2: %d, "
         "3: %d, more: %d)\n",
         f.first.len, any_source ? "a new /24 each" : "64 /24s", between,
         (double)f.sent / f.seconds, ok, trials,
         f.split ? "DTLS 1.2 (ClientHellos split in two)" : "X25519MLKEM768", max_tries,
         tries_hist[1], tries_hist[2], tries_hist[3], tries_hist[4]);
  free(f.first.data);
  world_free(w);
  return ok;
}

/* A real client's handshake (X25519MLKEM768 where the engine has it: both
 * ClientHellos in two datagrams; else DTLS 1.2 with each ClientHello split
 * in two) through a flood of spoofed first fragments that keeps the
 * reassembly budget (256) full, at one virtual instant: the highest rate
 * there is, as many between the two datagrams as the test sends.
 * - From 64 /24s, 2000 between the datagrams: the client's reassemblies
 *   are never the ones evicted; every handshake connects at the first try.
 * - From a new /24 each (a spoofer forging any source), 128 between: half
 *   the budget, which a newcomer always outlives: the same.
 * - From a new /24 each, 256 between: the budget's worth, which evicted the
 *   real reassembly every time when the oldest went first. Now each one
 *   survives with probability about exp(-1), and a retransmission is a new
 *   draw: only asserted that some handshakes connect within 3 tries (all
 *   failed before); the figures are printed. 512 between: printed only. */
static void test_reassembly_flood(void) {
  if (skip_without_glue()) {
    return;
  }
  int first_try = 0;
  CHECK_EQ(flood_run(false, 2000, 8, 3, &first_try), 8);
  CHECK_EQ(first_try, 8);
  CHECK_EQ(flood_run(true, 128, 8, 3, &first_try), 8);
  CHECK_EQ(first_try, 8);
  CHECK(flood_run(true, 256, 16, 3, &first_try) > 0);
  (void)flood_run(true, 512, 8, 3, &first_try);
}

/* ---- post-quantum by default (a current engine) ---- */

/* Whether HelloRetryRequest `p` asks for a key share (RFC 8446 4.1.4: a
 * key_share extension naming the group): the client's first shares missed
 * the server's choice, and the second ClientHello carries a new one. */
static bool hrr_asks_share(const pkt *p) {
  size_t off = 25 + 2 + 32;
  off += 1 + p->data[off]; /* legacy_session_id_echo */
  off += 2 + 1;            /* cipher_suite, legacy_compression_method */
  if (off + 2 > p->len) {
    return false;
  }
  const size_t end = off + 2 + be(p->data + off, 2);
  for (off += 2; off + 4 <= end && end <= p->len; off += 4 + be(p->data + off + 2, 2)) {
    if (be(p->data + off, 2) == 51) {
      return true;
    }
  }
  return false;
}

/* What crossed the wire while pump_counting() ran. */
typedef struct wire_count {
  int client_hellos;     /* ClientHello messages (their first fragments) */
  int client_datagrams;  /* datagrams carrying ClientHello fragments */
  int hrrs, hrrs_asking; /* HelloRetryRequests, those that ask for a key share */
  int hvrs;              /* HelloVerifyRequests */
  size_t largest;        /* the largest datagram, either way */
} wire_count;

/* pump(), counting the handshake messages that open a datagram (each of
 * these is the first record of its datagram). */
static wire_count pump_counting(world *w) {
  wire_count n;
  memset(&n, 0, sizeof(n));
  for (int guard = 0; guard < 100000; guard++) {
    const pkt *p;
    if (w->to_server.n > 0) {
      p = &w->to_server.items[w->to_server.head];
      if (p->len > 25 && REC_TYPE(p->data) == 22 && REC_EPOCH(p->data) == 0 &&
          HS_TYPE(p->data) == 1) {
        n.client_datagrams++;
        n.client_hellos += be(p->data + 19, 3) == 0; /* fragment_offset */
      }
    } else if (w->to_client.n > 0) {
      p = &w->to_client.items[w->to_client.head];
      n.hrrs += is_hrr(p);
      n.hrrs_asking += is_hrr(p) && hrr_asks_share(p);
      n.hvrs += is_hvr(p);
    } else {
      return n;
    }
    n.largest = p->len > n.largest ? p->len : n.largest;
    if (w->to_server.n > 0) {
      deliver_one_to_server(w);
    } else {
      deliver_one_to_client(w);
    }
  }
  CHECK_FAIL_("pump does not settle");
  return n;
}

/* Two default configs on an engine with X25519MLKEM768 agree on it, at a
 * 1200-byte MTU with cookies on: the ClientHello spans datagrams, the only
 * HelloRetryRequest is the cookie's (the client's first key shares already
 * hold the server's choice), and the handshake needs no retransmission. */
static void test_pq_default_groups(void) {
  world_opts o = default_opts();
  o.client_max_version = SDTLS_DTLS1_3; /* the world pins 1.2 by default */
  o.mtu = 1200;
  TEST_WORLD(w, o, NEED_DTLS13);
  client *c = client_start(w, addr_of(0x7f000001, 40010));
  REQUIRE(c != NULL);
  const sdtls_time t0 = w->now;
  wire_count n = pump_counting(w);
  REQUIRE(c->done);
  CHECK_EQ(w->now, t0);
  CHECK_STREQ(sdtls_conn_version(c->conn), "DTLSv1.3");
  CHECK_STREQ(sdtls_conn_group(c->conn), "X25519MLKEM768");
  CHECK_STREQ(sdtls_conn_group(w->last_conn), "X25519MLKEM768");
  CHECK_EQ(n.client_hellos, 2); /* the first, and the one with the cookie */
  CHECKF(n.client_datagrams >= 4, "the two ClientHellos took %d datagrams", n.client_datagrams);
  CHECK_EQ(n.hrrs, 1);
  CHECK_EQ(n.hrrs_asking, 0);
  CHECKF(n.largest <= 1200, "a datagram of %zu bytes", n.largest);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 1);
  world_free(w);
}

/* A default client against a server without the hybrid (X25519 only, or
 * DTLS 1.2 only) connects in as many round trips as with one that has it:
 * no HelloRetryRequest beyond the cookie's. The last row is the control: a
 * client whose classical share (P-256) misses the server's only group pays
 * the extra round trip, which these counts see. */
static void test_pq_default_without_hybrid_peer(void) {
  if (skip_without_dtls13()) {
    return;
  }
  static const struct {
    const char *client_groups, *server_groups;
    int64_t server_max, cookies;
    const char *version, *group;
    int client_hellos, hrrs, hrrs_asking, hvrs;
  } rows[] = {
      {NULL, "X25519", 0, 0, "DTLSv1.3", "X25519", 1, 0, 0, 0},
      {NULL, "X25519", 0, 1, "DTLSv1.3", "X25519", 2, 1, 0, 0},
      {NULL, NULL, SDTLS_DTLS1_2, 0, "DTLSv1.2", "X25519", 1, 0, 0, 0},
      {NULL, NULL, SDTLS_DTLS1_2, 1, "DTLSv1.2", "X25519", 2, 0, 0, 1},
      {"X25519MLKEM768:P-256:X25519", "X25519", 0, 0, "DTLSv1.3", "X25519", 2, 1, 1, 0},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    world_opts o = default_opts();
    o.client_max_version = SDTLS_DTLS1_3;
    o.client_groups = rows[i].client_groups;
    o.server_groups = rows[i].server_groups;
    o.server_max_version = rows[i].server_max;
    o.cookies = rows[i].cookies;
    o.mtu = 1200;
    world *w = world_new(o);
    REQUIRE(w != NULL);
    client *c = client_start(w, addr_of(0x7f000001, (uint16_t)(40020 + i)));
    REQUIRE(c != NULL);
    wire_count n = pump_counting(w);
    CHECKF(c->done, "row %zu: not connected", i);
    if (c->done) {
      CHECK_STREQ(sdtls_conn_version(c->conn), rows[i].version);
      CHECK_STREQ(sdtls_conn_group(c->conn), rows[i].group);
    }
    CHECKF(n.client_hellos == rows[i].client_hellos, "row %zu: %d ClientHellos", i,
           n.client_hellos);
    CHECKF(n.hrrs == rows[i].hrrs && n.hrrs_asking == rows[i].hrrs_asking,
           "row %zu: %d HelloRetryRequests, %d asking for a key share", i, n.hrrs,
           n.hrrs_asking);
    CHECKF(n.hvrs == rows[i].hvrs, "row %zu: %d HelloVerifyRequests", i, n.hvrs);
    world_free(w);
  }
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"dtls13_fragmented_client_hello", test_dtls13_fragmented_client_hello},
      {"dtls13_small_client_hello", test_dtls13_small_client_hello},
      {"dtls13_engine_hvr_for_dtls12", test_dtls13_engine_hvr_for_dtls12},
      {"dtls13_flood", test_dtls13_flood},
      {"dtls13_bad_cookies", test_dtls13_bad_cookies},
      {"pq_default_groups", test_pq_default_groups},
      {"pq_default_without_hybrid_peer", test_pq_default_without_hybrid_peer},
      {"dtls13_client_restart", test_dtls13_client_restart},
      {"dtls13_incomplete_fragments", test_dtls13_incomplete_fragments},
      {"reassembly_budget", test_reassembly_budget},
      {"reassembly_flood", test_reassembly_flood},
  };
  return world_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

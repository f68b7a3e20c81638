/* SPDX-License-Identifier: Apache-2.0 */
/* src/cookie.c and the HelloVerifyRequest exchange through sdtls_server:
 * the hand-over to a connection, no state kept for a flood, which cookies
 * are accepted (peer, fields, time buckets, secret rotation), retransmitted
 * ClientHellos, and a server without the exchange. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "world.h"

static const char kGlueMessage[] =
    "the engine fields set by the cookie hand-over glue (src/engine/handover_android.cc) no "
    "longer mean what docs/design.md (\"Stateless cookie exchange\") says";

/* One sdtls client through the cookie exchange: the hand-over must let the
 * handshake finish at once, with no retransmission timeout. */
static void test_handshake_with_cookie(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  w->echo = true;
  client *c = client_start(w, addr_of(0x7f000001, 40000));
  REQUIRE(c != NULL);

  /* ClientHello 1 -> HelloVerifyRequest: same record number, no state. */
  pkt ch1;
  REQUIRE(q_pop(&w->to_server, &ch1));
  CHECK_EQ(deliver_to_server(w, &ch1), 0);
  REQUIRE_EQ(w->nlog, 1);
  pkt *hvr = &w->log[0];
  REQUIRE(is_hvr(hvr));
  CHECK(hvr->len <= ch1.len);
  CHECK_EQ(REC_SEQ(hvr->data), REC_SEQ(ch1.data));
  CHECK_EQ(REC_EPOCH(hvr->data), 0);
  CHECK_EQ(HS_SEQ(hvr->data), 0);
  CHECK_EQ(be(hvr->data + 1, 2), 0xfeff);  /* record version DTLS 1.0 */
  CHECK_EQ(be(hvr->data + 25, 2), 0xfeff); /* server_version DTLS 1.0 */
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 1);
  free(ch1.data);

  /* The rest at one instant: handle_timeout is never called. */
  pump(w);
  REQUIREF(w->nlog >= 2, "no ServerHello after the cookie");
  pkt *sh = &w->log[1];
  CHECKF(REC_EPOCH(sh->data) == 0 && HS_TYPE(sh->data) == 2 && HS_SEQ(sh->data) == 1,
         "ServerHello has message_seq %llu (want 1): %s", (unsigned long long)HS_SEQ(sh->data),
         kGlueMessage);
  CHECKF(REC_SEQ(sh->data) > REC_SEQ(hvr->data),
         "ServerHello record number %llu is not above the HelloVerifyRequest's %llu: %s",
         (unsigned long long)REC_SEQ(sh->data), (unsigned long long)REC_SEQ(hvr->data),
         kGlueMessage);
  CHECKF(c->done && w->handshakes == 1,
         "handshake after the cookie exchange did not finish without a retransmission "
         "timeout: %s",
         kGlueMessage);
  CHECK_EQ(sdtls_conn_state(c->conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(w->connects, 1);

  /* Data both ways. */
  CHECK_EQ(client_send(c, "ping"), 0);
  CHECK_EQ(w->data_events, 1);
  CHECK_EQ(c->rx_count, 1);
  CHECK(c->rx_len == 15 && memcmp(c->rx, "echo:ping:40000", 15) == 0);

  /* The client's close_notify ends the server's connection with reason 0. */
  CHECK_EQ(sdtls_conn_close(c->conn, w->now), 0);
  pump(w);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CLOSED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  world_free(w);
}

static size_t flood_sends, flood_too_big;
static size_t flood_request_len;
static int flood_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d,
                      size_t len) {
  (void)user;
  (void)addr;
  (void)addr_len;
  (void)d;
  flood_sends++;
  if (len > flood_request_len) {
    flood_too_big++;
  }
  return 0;
}

/* 100,000 ClientHellos from distinct spoofed addresses: answers only, no
 * connection, no memory per peer. */
static void test_flood_keeps_no_state(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  uint8_t ch[2048];
  size_t n = template_client_hello(w, ch);
  REQUIRE(n > 0);
  sdtls_server_free(w->server);
  sdtls_server_callbacks cb = {sizeof(cb), flood_send, srv_connect, srv_handshake_done,
                               srv_data, srv_close};
  REQUIRE_EQ(sdtls_server_new(w->scfg, &cb, w, &w->server), 0);
  flood_request_len = n;
  flood_sends = flood_too_big = 0;

  const int kFlood = 100000;
  struct sockaddr_in a;
  for (int i = 0; i < 100; i++) { /* warm up any lazy engine state */
    a = addr_of(0x0a000000u + (uint32_t)i, 1);
    sdtls_server_receive(w->server, (const uint8_t *)&a, sizeof(a), ch, n, w->now);
  }
  /* The measurement sees allocations of the size it guards against. */
  size_t probe_before = heap_in_use();
  void *volatile probe = malloc(64 * 1024);
  memset(probe, 1, 64 * 1024);
  CHECKF(heap_in_use() >= probe_before + 64 * 1024, "heap measurement does not work");
  free(probe);

  size_t before = heap_in_use();
  for (int i = 0; i < kFlood; i++) {
    a = addr_of(0x0b000000u + (uint32_t)i, (uint16_t)(1024 + i % 50000));
    if (sdtls_server_receive(w->server, (const uint8_t *)&a, sizeof(a), ch, n,
                             w->now + (uint64_t)i) != 0) {
      CHECK_FAIL_("receive failed at %d", i);
      break;
    }
  }
  size_t after = heap_in_use();
  long long delta = (long long)after - (long long)before;
  CHECKF(delta < 64 * 1024, "heap grew by %lld bytes over the flood", delta);
  CHECK_EQ(flood_sends, (size_t)kFlood + 100);
  CHECK_EQ(flood_too_big, 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), kFlood + 100);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(w->connects, 0);
  CHECK_EQ(sdtls_server_next_deadline(w->server), SDTLS_TIME_NEVER);
  world_free(w);
}

static void test_cookie_checks(void) {
  /* buckets of 10 s; the clock starts at 100.001 s */
  TEST_WORLD(w, timed_opts(0, 10000), NEED_GLUE);
  uint8_t ch[2048], cookie[255], bad[255];
  size_t n = template_client_hello(w, ch);
  REQUIRE(n > 0);
  const sdtls_time t0 = w->now;

  /* A valid cookie is accepted (control). */
  struct sockaddr_in a = addr_of(0x0a000001, 1000);
  size_t cl = get_cookie(w, ch, n, a, cookie);
  CHECK_EQ(cl, 32);
  CHECK(offer_cookie(w, ch, n, a, cookie, cl));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), 0);

  /* Wrong cookie: each byte flipped in turn, and other lengths. */
  a = addr_of(0x0a000002, 1000);
  cl = get_cookie(w, ch, n, a, cookie);
  uint64_t sent = ctr(w, SDTLS_COUNTER_COOKIES_SENT);
  for (size_t i = 0; i < cl; i++) {
    memcpy(bad, cookie, cl);
    bad[i] ^= 0x01;
    CHECK(!offer_cookie(w, ch, n, a, bad, cl));
  }
  CHECK(!offer_cookie(w, ch, n, a, cookie, cl - 1));
  memcpy(bad, cookie, cl);
  bad[cl] = 0;
  CHECK(!offer_cookie(w, ch, n, a, bad, cl + 1));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), cl + 2);
  /* each rejected ClientHello got a fresh HelloVerifyRequest */
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), sent + cl + 2);

  /* A cookie made for another address (another port is enough). */
  struct sockaddr_in other = addr_of(0x0a000002, 1001);
  CHECK(!offer_cookie(w, ch, n, other, cookie, cl));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), cl + 3);
  /* A cookie for other ClientHello fields (another client random). */
  uint8_t ch2[2048];
  memcpy(ch2, ch, n);
  ch2[30] ^= 0x55;
  CHECK(!offer_cookie(w, ch2, n, a, cookie, cl));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), cl + 4);

  /* Time: accepted through the next bucket, not after. */
  CHECK_EQ(w->now, t0);
  a = addr_of(0x0a000003, 1000);
  cl = get_cookie(w, ch, n, a, cookie);
  struct sockaddr_in a4 = addr_of(0x0a000004, 1000);
  size_t cl4 = get_cookie(w, ch, n, a4, bad);
  w->now = 120 * SEC - 1;
  CHECK(offer_cookie(w, ch, n, a, cookie, cl));
  w->now = 120 * SEC;
  uint64_t rejected = ctr(w, SDTLS_COUNTER_COOKIES_REJECTED);
  CHECK(!offer_cookie(w, ch, n, a4, bad, cl4));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), rejected + 1);
  world_free(w);
}

static void test_cookie_secret_rotation(void) {
  TEST_WORLD(w, timed_opts(0, 10000), NEED_GLUE);
  uint8_t ch[2048], c0a[255], c0b[255], c0c[255], c1[255];
  size_t n = template_client_hello(w, ch);
  REQUIRE(n > 0);
  uint8_t s1[32], s2[32];
  memset(s1, 0x11, sizeof(s1));
  memset(s2, 0x22, sizeof(s2));
  struct sockaddr_in a = addr_of(0x0a000101, 7), b = addr_of(0x0a000102, 7),
                     c = addr_of(0x0a000103, 7), d = addr_of(0x0a000104, 7);

  CHECK_EQ(sdtls_server_set_cookie_secret(w->server, s1, 15, w->now), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_set_cookie_secret(w->server, s1, 65, w->now), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_set_cookie_secret(w->server, NULL, 32, w->now),
           SDTLS_E_INVALID_ARGUMENT);

  /* Cookies under the initial (random) secret S0. */
  size_t la = get_cookie(w, ch, n, a, c0a);
  size_t lb = get_cookie(w, ch, n, b, c0b);
  size_t lc = get_cookie(w, ch, n, c, c0c);
  REQUIRE_EQ(sdtls_server_set_cookie_secret(w->server, s1, sizeof(s1), w->now), 0);
  /* S0 is the previous secret: still accepted. */
  CHECK(offer_cookie(w, ch, n, a, c0a, la));
  size_t l1 = get_cookie(w, ch, n, d, c1); /* under S1 */
  w->now += 1 * MS;
  REQUIRE_EQ(sdtls_server_set_cookie_secret(w->server, s2, sizeof(s2), w->now), 0);
  /* S0 is two secrets ago now: refused. S1 is the previous one: accepted. */
  CHECK(!offer_cookie(w, ch, n, b, c0b, lb));
  CHECK(offer_cookie(w, ch, n, d, c1, l1));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_REJECTED), 1);

  /* The previous secret is accepted for one lifetime after the rotation. */
  world_free(w);
  w = world_new(timed_opts(0, 10000));
  REQUIRE(w != NULL);
  n = template_client_hello(w, ch);
  lc = get_cookie(w, ch, n, c, c0c);
  REQUIRE_EQ(sdtls_server_set_cookie_secret(w->server, s1, sizeof(s1), w->now), 0);
  w->now += 10 * SEC; /* still within the cookie's second bucket */
  CHECK(!offer_cookie(w, ch, n, c, c0c, lc));
  /* Servers sharing a secret accept each other's cookies. */
  uint8_t shared[255];
  size_t ls = get_cookie(w, ch, n, a, shared); /* under S1 */
  world *w2 = world_new(timed_opts(0, 10000));
  REQUIRE(w2 != NULL);
  w2->now = w->now;
  REQUIRE_EQ(sdtls_server_set_cookie_secret(w2->server, s1, sizeof(s1), w2->now), 0);
  CHECK(offer_cookie(w2, ch, n, a, shared, ls));
  world_free(w2);
  world_free(w);
}

static void test_retransmitted_client_hellos(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  client *c = client_start(w, addr_of(0x7f000001, 40001));
  REQUIRE(c != NULL);
  pkt ch1, ch2;
  REQUIRE(q_pop(&w->to_server, &ch1));
  /* The first ClientHello twice: two answers, still no state. */
  CHECK_EQ(deliver_to_server(w, &ch1), 0);
  CHECK_EQ(deliver_to_server(w, &ch1), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 2);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  /* The client takes one answer and sends the second ClientHello. */
  pkt hvr;
  REQUIRE(q_pop(&w->to_client, &hvr));
  sdtls_conn_receive(c->conn, hvr.data, hvr.len, w->now);
  free(hvr.data);
  q_clear(&w->to_client);
  REQUIRE(q_pop(&w->to_server, &ch2));
  CHECK_EQ(HS_SEQ(ch2.data), 1);
  /* The second ClientHello twice: one connection; the copy goes to it. */
  CHECK_EQ(deliver_to_server(w, &ch2), 0);
  size_t flight = w->to_client.n;
  CHECK(flight > 0);
  CHECK_EQ(deliver_to_server(w, &ch2), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  /* The first ClientHello again, now that the connection exists: it goes to
   * the connection (no HelloVerifyRequest). */
  CHECK_EQ(deliver_to_server(w, &ch1), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 2);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(w->to_client.n, flight);
  pump(w);
  CHECK(c->done);
  CHECK_EQ(w->handshakes, 1);
  /* A late duplicate of the second ClientHello (valid cookie, same random)
   * after the handshake: the connection ignores it and lives on. */
  CHECK_EQ(deliver_to_server(w, &ch2), 0);
  CHECK_EQ(deliver_to_server(w, &ch1), 0);
  pump(w);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 2);
  CHECK_EQ(w->closes, 0);
  CHECK_EQ(client_send(c, "after"), 0);
  CHECK_EQ(w->data_events, 1);
  free(ch1.data);
  free(ch2.data);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED), 0);
  world_free(w);
}

static void test_without_cookies(void) {
  world_opts o = default_opts();
  o.cookies = 0;
  TEST_WORLD(w, o, 0);
  w->echo = true;
  client *c = client_connect(w, addr_of(0x7f000001, 44000));
  REQUIRE(c != NULL);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(client_send(c, "hi"), 0);
  CHECK_EQ(c->rx_count, 1);
  world_free(w);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"handshake_with_cookie", test_handshake_with_cookie},
      {"flood_keeps_no_state", test_flood_keeps_no_state},
      {"cookie_checks", test_cookie_checks},
      {"cookie_secret_rotation", test_cookie_secret_rotation},
      {"retransmitted_client_hellos", test_retransmitted_client_hellos},
      {"without_cookies", test_without_cookies},
  };
  return world_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* src/server.c through its API: many clients, deadlines (retransmission,
 * handshake, idle) and their order, limits, garbage, the callbacks and
 * what may be called from them, a client starting over, and the calls on a
 * server's connection. In process, on a virtual clock (world.h). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "world.h"

static void test_fifty_clients(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  w->echo = true;
  const int kClients = 50;
  for (int i = 0; i < kClients; i++) {
    /* distinct addresses, some sharing an IP, some a port */
    client *c = client_start(w, addr_of(0x7f000001u + (uint32_t)(i % 7), (uint16_t)(20000 + i)));
    REQUIRE(c != NULL);
  }
  pump(w);
  for (int i = 0; i < kClients; i++) {
    CHECKF(w->clients[i]->done, "client %d not connected", i);
  }
  CHECK_EQ(w->handshakes, kClients);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), kClients);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), kClients);
  /* Everyone sends before anything is delivered: interleaved at the server. */
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < kClients; i++) {
      char msg[64];
      int len = snprintf(msg, sizeof(msg), "client-%d-round-%d", i, round);
      CHECK_EQ(sdtls_conn_send(w->clients[i]->conn, (const uint8_t *)msg, (size_t)len, w->now),
               0);
    }
    pump(w);
  }
  CHECK_EQ(w->data_events, 3 * kClients);
  for (int i = 0; i < kClients; i++) {
    client *c = w->clients[i];
    char expect[1024];
    size_t el = 0;
    for (int round = 0; round < 3; round++) {
      el += (size_t)snprintf(expect + el, sizeof(expect) - el, "echo:client-%d-round-%d:%d", i,
                             round, 20000 + i);
    }
    CHECK_EQ(c->rx_count, 3);
    CHECKF(c->rx_len == el && memcmp(c->rx, expect, el) == 0, "client %d got \"%.*s\"", i,
           (int)c->rx_len, (const char *)c->rx);
  }
  world_free(w);
}

static void test_idle_eviction(void) {
  TEST_WORLD(w, timed_opts(1000, 0), NEED_GLUE);
  client *c = client_connect(w, addr_of(0x7f000001, 40002));
  REQUIRE(c != NULL);
  const sdtls_time t = w->now;
  CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1000 * MS);
  /* Traffic pushes the deadline. */
  CHECK_EQ(server_timeout_at(w, t + 600 * MS), 0);
  CHECK_EQ(client_send(c, "x"), 0);
  CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1600 * MS);
  CHECK_EQ(server_timeout_at(w, t + 1599 * MS), 0);
  CHECK_EQ(w->closes, 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(server_timeout_at(w, t + 1600 * MS), 0);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_TIMEOUT);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_EVICTED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CLOSED), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(sdtls_server_next_deadline(w->server), SDTLS_TIME_NEVER);
  /* The evicted peer was told (close_notify). */
  pump(w);
  CHECK(c->closed);
  CHECK_EQ(c->close_reason, 0);
  world_free(w);
}

/* Many peers with staggered deadlines: the earliest is always reported and
 * evictions come in deadline order, also after removals in the middle. */
static void test_deadline_order(void) {
  TEST_WORLD(w, timed_opts(1000, 0), NEED_GLUE);
  const sdtls_time t = w->now;
  const int kClients = 20;
  for (int i = 0; i < kClients; i++) {
    /* connected in reverse address order, 10 ms apart */
    w->now = t + (sdtls_time)i * 10 * MS;
    REQUIRE(client_connect(w, addr_of(0x7f000001, (uint16_t)(47100 - i))) != NULL);
  }
  CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1000 * MS);
  /* Client 0 talks: its deadline moves to the back. */
  w->now = t + 195 * MS;
  CHECK_EQ(client_send(w->clients[0], "x"), 0);
  CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1010 * MS);
  /* Client 7 leaves with close_notify: out of the middle. */
  CHECK_EQ(sdtls_conn_close(w->clients[7]->conn, w->now), 0);
  pump(w);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), kClients - 1);
  /* Early: nothing happens. */
  CHECK_EQ(sdtls_server_handle_timeout(w->server, t + 1009 * MS), 0);
  CHECK_EQ(w->closes, 1);
  /* Then one at a time, in order: 1..6, 8..19, 0. */
  int expect[20], ne = 0;
  for (int i = 1; i < kClients; i++) {
    if (i != 7) expect[ne++] = i;
  }
  expect[ne++] = 0;
  for (int k = 0; k < ne; k++) {
    sdtls_time d = sdtls_server_next_deadline(w->server);
    sdtls_time want = k < ne - 1 ? t + (sdtls_time)expect[k] * 10 * MS + 1000 * MS
                                 : t + 1195 * MS;
    CHECKF(d == want, "step %d: deadline %llu, want %llu", k, (unsigned long long)d,
           (unsigned long long)want);
    CHECK_EQ(server_timeout_at(w, d), 0);
    CHECK_EQ(w->closes, 2 + k);
    CHECK_EQ(w->last_closed_port, 47100 - expect[k]);
  }
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_EVICTED), kClients - 1);
  CHECK_EQ(sdtls_server_next_deadline(w->server), SDTLS_TIME_NEVER);
  world_free(w);
}

static void test_handshake_deadline_eviction(void) {
  world_opts o = default_opts();
  o.handshake_ms = 3000;
  TEST_WORLD(w, o, NEED_GLUE);
  client *c = client_start(w, addr_of(0x7f000001, 40003));
  REQUIRE(c != NULL);
  /* ClientHello, HelloVerifyRequest, ClientHello 2; then the client is gone. */
  REQUIRE(deliver_one_to_server(w));
  REQUIRE(deliver_one_to_client(w));
  REQUIRE(deliver_one_to_server(w));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  const sdtls_time t = w->now;
  int steps = 0;
  while (w->closes == 0 && steps++ < 100) {
    sdtls_time d = sdtls_server_next_deadline(w->server);
    REQUIRE(d != SDTLS_TIME_NEVER && d >= w->now);
    CHECK_EQ(server_timeout_at(w, d), 0);
  }
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_TIMEOUT);
  CHECK(w->now >= t + 3000 * MS && w->now <= t + 3000 * MS + 1);
  CHECK(w->to_client.n > 1); /* the flight was retransmitted meanwhile */
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_EVICTED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  world_free(w);
}

static void test_limits(void) {
  world_opts o = default_opts();
  o.max_peers = 2;
  TEST_WORLD(w, o, NEED_GLUE);
  for (int i = 0; i < 3; i++) {
    client *c = client_start(w, addr_of(0x7f000001, (uint16_t)(41000 + i)));
    REQUIRE(c != NULL);
    pump(w);
  }
  CHECK(w->clients[0]->done && w->clients[1]->done);
  CHECK(!w->clients[2]->done);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 2);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_LIMIT), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 2);
  /* A place frees up: the refused client's retransmission gets in. */
  sdtls_conn_close(w->clients[0]->conn, w->now);
  pump(w);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  client *late = w->clients[2];
  client_timeout_after(late, 1000 * MS);
  CHECK(late->done);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 2);
  world_free(w);

  /* The handshake limit. */
  o = default_opts();
  o.max_handshakes = 1;
  w = test_world(o, 0);
  REQUIRE(w != NULL);
  client *a = client_start(w, addr_of(0x7f000001, 42000));
  client *b = client_start(w, addr_of(0x7f000001, 42001));
  REQUIRE(a != NULL && b != NULL);
  /* Both through the cookie exchange; a's flight is held back. */
  for (int i = 0; i < 2; i++) {
    REQUIRE(deliver_one_to_server(w));
  }
  for (int i = 0; i < 2; i++) {
    REQUIRE(deliver_one_to_client(w));
  }
  for (int i = 0; i < 2; i++) {
    REQUIRE(deliver_one_to_server(w));
  }
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_LIMIT), 1);
  pump(w);
  CHECK(a->done);
  CHECK(!b->done);
  /* Once a's handshake is done, b's retransmission is let in. */
  client_timeout_after(b, 1000 * MS);
  CHECK(b->done);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 2);
  world_free(w);
}

static void test_garbage(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  uint8_t ch[2048];
  size_t n = template_client_hello(w, ch);
  REQUIRE(n > 0);
  struct sockaddr_in u = addr_of(0x0a0a0a0a, 5555);
  const uint8_t *ua = (const uint8_t *)&u;
  uint64_t malformed = 0;

  /* Unknown peer: empty, short, every prefix of a ClientHello, huge. */
  CHECK_EQ(sdtls_server_receive(w->server, ua, sizeof(u), NULL, 0, w->now), 0);
  malformed++;
  for (size_t i = 1; i < n; i++) {
    uint8_t *copy = malloc(i);
    memcpy(copy, ch, i);
    CHECK_EQ(sdtls_server_receive(w->server, ua, sizeof(u), copy, i, w->now), 0);
    free(copy);
    malformed++;
  }
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED), malformed);
  uint8_t *huge = calloc(1, 70000);
  memcpy(huge, ch, n);
  CHECK_EQ(sdtls_server_receive(w->server, ua, sizeof(u), huge, 70000, w->now), 0);
  malformed++;
  /* Random bytes. */
  uint32_t x = 12345;
  for (int i = 0; i < 2000; i++) {
    size_t len = 1 + (size_t)(i * 37 % 1500);
    for (size_t j = 0; j < len; j++) {
      x = x * 1103515245u + 12345u;
      huge[j] = (uint8_t)(x >> 16);
    }
    CHECK_EQ(sdtls_server_receive(w->server, ua, sizeof(u), huge, len, w->now), 0);
  }
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED) + ctr(w, SDTLS_COUNTER_DROPPED_UNKNOWN_PEER) ==
        malformed + 2000);
  CHECK(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED) >= malformed + 1900);
  /* Well-formed records that are not a ClientHello. */
  uint64_t unknown = ctr(w, SDTLS_COUNTER_DROPPED_UNKNOWN_PEER);
  uint8_t appdata[40] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 5, 0, 27};
  CHECK_EQ(sdtls_server_receive(w->server, ua, sizeof(u), appdata, sizeof(appdata), w->now), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_UNKNOWN_PEER), unknown + 1);
  /* Bad addresses. */
  CHECK_EQ(sdtls_server_receive(w->server, ua, 8, ch, n, w->now), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_receive(w->server, NULL, 16, ch, n, w->now), SDTLS_E_INVALID_ARGUMENT);
  struct sockaddr_in6 v6;
  memset(&v6, 0, sizeof(v6));
  v6.sin6_family = AF_INET6;
  CHECK_EQ(sdtls_server_receive(w->server, (const uint8_t *)&v6, sizeof(struct sockaddr_in),
                                ch, n, w->now),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_receive(w->server, (const uint8_t *)&v6, sizeof(v6), ch, n, w->now), 0);
  struct sockaddr sa = {.sa_family = AF_UNIX};
  CHECK_EQ(sdtls_server_receive(w->server, (const uint8_t *)&sa, sizeof(sa), ch, n, w->now),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_receive(NULL, ua, sizeof(u), ch, n, w->now), SDTLS_E_INVALID_ARGUMENT);

  /* Known peer: garbage is counted and does not hurt the connection. */
  w->echo = true;
  client *c = client_connect(w, addr_of(0x7f000001, 43000));
  REQUIRE(c != NULL);
  struct sockaddr_in ka = c->addr;
  const uint8_t *kap = (const uint8_t *)&ka;
  malformed = ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED);
  CHECK_EQ(sdtls_server_receive(w->server, kap, sizeof(ka), huge, 70000, w->now), 0);
  CHECK_EQ(sdtls_server_receive(w->server, kap, sizeof(ka), huge, 5, w->now), 0);
  CHECK_EQ(sdtls_server_receive(w->server, kap, sizeof(ka), NULL, 0, w->now), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_DROPPED_MALFORMED), malformed + 3);
  for (int i = 0; i < 500; i++) {
    size_t len = 1 + (size_t)(i * 53 % 1400);
    for (size_t j = 0; j < len; j++) {
      x = x * 1103515245u + 12345u;
      huge[j] = (uint8_t)(x >> 16);
    }
    if (i % 2 == 0 && len > 13) { /* a plausible header, garbage body */
      huge[0] = 23;
      huge[1] = 0xfe;
      huge[2] = 0xfd;
      huge[3] = 0;
      huge[4] = 1;
      huge[11] = (uint8_t)((len - 13) >> 8);
      huge[12] = (uint8_t)(len - 13);
    }
    CHECK_EQ(sdtls_server_receive(w->server, kap, sizeof(ka), huge, len, w->now), 0);
  }
  free(huge);
  CHECK_EQ(sdtls_conn_state(c->conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(client_send(c, "still"), 0);
  CHECK(c->rx_len >= 5 && memcmp(c->rx, "echo:still", 10) == 0);
  world_free(w);
}

/* Calls from callbacks: close_peer inside on_data (reported once it has
 * returned), re-entering receive is refused, freeing the server inside a
 * callback is deferred. */
static void test_callbacks(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  client *c = client_connect(w, addr_of(0x7f000001, 45000));
  REQUIRE(c != NULL);
  w->try_reentry = true;
  w->close_on_data = true;
  CHECK_EQ(client_send(c, "bye"), 0);
  CHECK_EQ(w->reentry_rc, SDTLS_E_IN_CALLBACK);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_CLOSED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CLOSED), 1);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK(c->closed); /* close_notify reached the client */
  CHECK_EQ(c->close_reason, 0);
  CHECK_EQ(sdtls_server_close_peer(w->server, NULL, w->now), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_close_peer(w->server, c->conn, w->now), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_handle_timeout(NULL, w->now), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_counter_get(w->server, (sdtls_server_counter)99), 0);

  /* The application closes a server connection itself: the server notices,
   * reports SDTLS_E_CLOSED and frees it. */
  w->try_reentry = w->close_on_data = false;
  w->conn_close_on_data = true;
  client *c2 = client_connect(w, addr_of(0x7f000001, 45001));
  REQUIRE(c2 != NULL);
  CHECK_EQ(client_send(c2, "bye"), 0);
  CHECK_EQ(w->closes, 2);
  CHECK_EQ(w->last_close_reason, SDTLS_E_CLOSED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK(c2->closed);
  world_free(w);
}

/* A client that starts over from the same address (RFC 6347 4.2.8): the
 * new ClientHello gets a cookie exchange while the old connection lives;
 * the cookie-verified one replaces it. */
static void test_client_restart(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  w->echo = true;
  struct sockaddr_in a = addr_of(0x7f000001, 46000);
  client *c1 = client_connect(w, a);
  REQUIRE(c1 != NULL);
  sdtls_conn_free(c1->conn); /* gone without a word */
  c1->conn = NULL;
  c1->addr.sin_port = 0;
  client *c2 = client_start(w, a);
  REQUIRE(c2 != NULL);
  REQUIRE(deliver_one_to_server(w));
  CHECK_EQ(ctr(w, SDTLS_COUNTER_COOKIES_SENT), 2);
  CHECK_EQ(w->closes, 0);
  pump(w);
  CHECK(c2->done);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_CLOSED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CREATED), 2);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  CHECK_EQ(client_send(c2, "again"), 0);
  CHECK_EQ(c2->rx_count, 1);
  world_free(w);
}

/* A binding's finalizer may call sdtls_conn_free() on a connection the
 * server owns, at any time: it is ignored, and the peer goes on working. */
static void test_conn_free_on_server_conn(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  w->echo = true;
  w->free_conn_in_connect = true;
  w->free_conn_in_data = true;
  client *c = client_connect(w, addr_of(0x7f000001, 45100));
  REQUIRE(c != NULL);
  CHECK_EQ(client_send(c, "one"), 0);
  CHECK_EQ(c->rx_count, 1);
  /* Outside any callback too. */
  w->free_conn_in_connect = w->free_conn_in_data = false;
  sdtls_conn_free(w->last_conn);
  CHECK_EQ(sdtls_conn_state(w->last_conn), SDTLS_STATE_CONNECTED);
  CHECK_EQ(client_send(c, "two"), 0);
  CHECK_EQ(c->rx_count, 2);
  CHECK_EQ(w->closes, 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 1);
  world_free(w);
}

/* sdtls_conn_close() on a server's connection outside its callbacks is
 * sdtls_server_close_peer(): close_notify, on_close with SDTLS_E_CLOSED and
 * the peer removed, all during the call. Calls the server itself makes on
 * its connections are refused to the application. */
static void test_conn_calls_on_server_conn(void) {
  TEST_WORLD(w, default_opts(), NEED_GLUE);
  client *c = client_connect(w, addr_of(0x7f000001, 45200));
  REQUIRE(c != NULL);
  sdtls_conn *sc = w->last_conn;
  REQUIRE(sc != NULL);
  const uint8_t junk[4] = {1, 2, 3, 4};
  CHECK_EQ(sdtls_conn_receive(sc, junk, 4, w->now), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_handle_timeout(sc, w->now), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_start(sc, w->now), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_state(sc), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_send(sc, (const uint8_t *)"hi", 2, w->now), 0); /* replies are fine */
  CHECK_EQ(sdtls_conn_close(sc, w->now), 0);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_CLOSED);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_CONNECTIONS_CLOSED), 1);
  CHECK_EQ(sdtls_server_next_deadline(w->server), SDTLS_TIME_NEVER);
  pump(w);
  CHECK_EQ(c->rx_count, 1);
  CHECK(c->closed);
  CHECK_EQ(c->close_reason, 0);
  world_free(w);
}

/* The server freed from inside each kind of callback: deferred until the
 * server's call returns, and no callback follows. */
static void test_server_free_in_callbacks(void) {
  if (skip_without_glue()) {
    return;
  }
  for (int where = 0; where < 3; where++) {
    TEST_WORLD(w, default_opts(), 0);
    w->echo = true;
    client *c = NULL;
    if (where == 0) {
      w->free_server_in_connect = true;
      c = client_start(w, addr_of(0x7f000001, 45300));
      REQUIRE(c != NULL);
      pump(w);
      CHECK(w->server_freed);
      CHECK(!c->done);
    } else {
      c = client_connect(w, addr_of(0x7f000001, 45300));
      REQUIRE(c != NULL);
      if (where == 1) {
        w->free_server_in_data = true;
        CHECK_EQ(sdtls_conn_send(c->conn, (const uint8_t *)"x", 1, w->now), 0);
      } else {
        /* The application replies outside any server call; the send
         * callback frees the server. */
        w->free_server_in_send = true;
        CHECK_EQ(sdtls_conn_send(w->last_conn, (const uint8_t *)"x", 1, w->now), 0);
      }
      pump(w);
      CHECK(w->server_freed);
    }
    CHECK_EQ(w->callbacks_after_free, 0);
    CHECK_EQ(w->closes, 0);
    world_free(w);
  }
}

/* Datagrams that do not authenticate from an established peer's address
 * (a spoofer's junk) do not count as activity: the idle deadline stays. */
static void test_junk_does_not_keep_peer_alive(void) {
  TEST_WORLD(w, timed_opts(1000, 0), NEED_GLUE);
  struct sockaddr_in a = addr_of(0x7f000001, 45400);
  client *c = client_connect(w, a);
  REQUIRE(c != NULL);
  const sdtls_time t = w->now;
  CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1000 * MS);
  /* 20-byte application-data records at epoch 1 with fresh sequence
   * numbers and junk instead of a valid AEAD body, every 300 ms. */
  for (int i = 1; i <= 3; i++) {
    w->now = t + (sdtls_time)i * 300 * MS;
    uint8_t junk[20] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, (uint8_t)(100 + i), 0, 7,
                        1, 2, 3, 4, 5, 6, 7};
    pkt p = {a, sizeof(junk), junk};
    CHECK_EQ(deliver_to_server(w, &p), 0);
    CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1000 * MS);
  }
  CHECK_EQ(server_timeout_at(w, t + 1000 * MS), 0);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_TIMEOUT);
  CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  world_free(w);
}

/* After records that gave data, delivered out of order (the read path
 * notes a one-record datagram's record number itself instead of asking
 * the engine), a replay of one of them authenticates nothing new and does
 * not count as activity: the idle deadline is the last data's. */
static void test_replay_after_data_does_not_keep_peer_alive(void) {
  if (skip_without_glue()) {
    return;
  }
  world_opts o = default_opts();
  o.idle_ms = 1000;
  world *w = world_new(o);
  REQUIRE(w != NULL);
  struct sockaddr_in a = addr_of(0x7f000001, 45450);
  client *c = client_connect(w, a);
  REQUIRE(c != NULL);
  const sdtls_time t = w->now;
  w->now = t + 200 * MS;
  CHECK_EQ(sdtls_conn_send(c->conn, (const uint8_t *)"one", 3, w->now), 0);
  CHECK_EQ(sdtls_conn_send(c->conn, (const uint8_t *)"two", 3, w->now), 0);
  pkt first, second;
  REQUIRE(q_pop(&w->to_server, &first));
  REQUIRE(q_pop(&w->to_server, &second));
  CHECK_EQ(deliver_to_server(w, &second), 0);
  w->now = t + 300 * MS;
  CHECK_EQ(deliver_to_server(w, &first), 0);
  CHECK_EQ(w->data_events, 2);
  CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1300 * MS);
  for (int i = 1; i <= 3; i++) {
    w->now = t + (sdtls_time)(300 + 300 * i) * MS;
    CHECK_EQ(deliver_to_server(w, i % 2 ? &second : &first), 0);
    CHECK_EQ(sdtls_server_next_deadline(w->server), t + 1300 * MS);
  }
  CHECK_EQ(w->data_events, 2);
  free(first.data);
  free(second.data);
  w->now = t + 1300 * MS;
  CHECK_EQ(sdtls_server_handle_timeout(w->server, w->now), 0);
  CHECK_EQ(w->closes, 1);
  CHECK_EQ(w->last_close_reason, SDTLS_E_TIMEOUT);
  world_free(w);
}

/* Every peer due at `now` is handled in one call, up to the end of time. */
static void test_timeout_handles_every_due_peer(void) {
  TEST_WORLD(w, timed_opts(1000, 0), NEED_GLUE);
  for (int round = 0; round < 2; round++) {
    /* Five peers due at one instant; the second five handled at the end of time. */
    const sdtls_time due = round == 0 ? w->now + 1000 * MS : SDTLS_TIME_NEVER;
    for (int i = 0; i < 5; i++) {
      const uint16_t port = (uint16_t)(45500 + 100 * round + i);
      REQUIRE(client_connect(w, addr_of(0x7f000001, port)) != NULL);
    }
    CHECK_EQ(server_timeout_at(w, due), 0);
    CHECK_EQ(w->closes, 5 * (round + 1));
    CHECK_EQ(ctr(w, SDTLS_COUNTER_PEERS), 0);
  }
  world_free(w);
}

static void test_feature_and_errors(void) {
  if (skip_without_glue()) {
    return;
  }
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_COOKIE_EXCHANGE), 1);
  sdtls_config *cfg;
  REQUIRE_EQ(sdtls_config_new(&cfg), 0);
  sdtls_server *s = NULL;
  sdtls_server_callbacks cb = {sizeof(cb), srv_send, NULL, NULL, NULL, NULL};
  CHECK_EQ(sdtls_server_new(cfg, &cb, NULL, &s), SDTLS_E_CREDENTIALS);
  CHECK(s == NULL);
  cb.send = NULL;
  CHECK_EQ(sdtls_server_new(cfg, &cb, NULL, &s), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_server_new(NULL, &cb, NULL, &s), SDTLS_E_INVALID_ARGUMENT);
  sdtls_server_free(NULL);
  sdtls_config_free(cfg);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"fifty_clients", test_fifty_clients},
      {"idle_eviction", test_idle_eviction},
      {"deadline_order", test_deadline_order},
      {"handshake_deadline_eviction", test_handshake_deadline_eviction},
      {"limits", test_limits},
      {"garbage", test_garbage},
      {"callbacks", test_callbacks},
      {"client_restart", test_client_restart},
      {"feature_and_errors", test_feature_and_errors},
      {"conn_free_on_server_conn", test_conn_free_on_server_conn},
      {"conn_calls_on_server_conn", test_conn_calls_on_server_conn},
      {"server_free_in_callbacks", test_server_free_in_callbacks},
      {"junk_does_not_keep_peer_alive", test_junk_does_not_keep_peer_alive},
      {"replay_after_data_does_not_keep_peer_alive", test_replay_after_data_does_not_keep_peer_alive},
      {"timeout_handles_every_due_peer", test_timeout_handles_every_due_peer},
  };
  return world_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* src/peer_table.c: address keys, and the table the server finds its peers
 * in, against a plain array as the model, with hashes that collide on
 * purpose (long probe runs, runs that wrap past the last slot). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "peer_table.h"

static sdtls_peer_key key_of(uint32_t n) {
  sdtls_peer_key k;
  memset(&k, 0, sizeof(k));
  k.bytes[0] = 4;
  memcpy(&k.bytes[4], &n, sizeof(n));
  return k;
}

static void test_key_from_sockaddr(void) {
  struct sockaddr_in a, b;
  memset(&a, 0, sizeof(a));
  memset(&b, 0xa5, sizeof(b)); /* padding (sin_zero) differs */
  a.sin_family = b.sin_family = AF_INET;
  a.sin_port = b.sin_port = htons(4433);
  a.sin_addr.s_addr = b.sin_addr.s_addr = htonl(0x7f000001);
  sdtls_peer_key ka, kb;
  REQUIRE_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&a, sizeof(a), &ka), 0);
  REQUIRE_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&b, sizeof(b), &kb), 0);
  CHECK(memcmp(&ka, &kb, sizeof(ka)) == 0);
  CHECK_EQ(ka.bytes[0], 4);
  b.sin_port = htons(4434);
  REQUIRE_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&b, sizeof(b), &kb), 0);
  CHECK(memcmp(&ka, &kb, sizeof(ka)) != 0);

  /* IPv6: the scope id is part of the address; a larger buffer (a
   * sockaddr_storage) is accepted, a shorter one refused. */
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(5000);
  inet_pton(AF_INET6, "fe80::1", &s6->sin6_addr);
  s6->sin6_scope_id = 2;
  sdtls_peer_key k6, k6b;
  REQUIRE_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&ss, sizeof(ss), &k6), 0);
  CHECK_EQ(k6.bytes[0], 6);
  s6->sin6_scope_id = 3;
  REQUIRE_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&ss, sizeof(*s6), &k6b), 0);
  CHECK(memcmp(&k6, &k6b, sizeof(k6)) != 0);
  CHECK_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&ss, sizeof(*s6) - 1, &k6b),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&a, sizeof(a) - 1, &kb),
           SDTLS_E_INVALID_ARGUMENT);
  ss.ss_family = AF_UNIX;
  CHECK_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&ss, sizeof(ss), &kb),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(Sdtls_peer_key_from_sockaddr(NULL, sizeof(a), &kb), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&a, sizeof(a), NULL),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(Sdtls_peer_key_from_sockaddr((const uint8_t *)&a, 1, &kb), SDTLS_E_INVALID_ARGUMENT);
}

static void test_empty(void) {
  sdtls_peer_table t = {0};
  sdtls_peer_key k = key_of(1);
  CHECK(Sdtls_peer_table_find(&t, &k, 1) == NULL);
  Sdtls_peer_table_free(&t);
  CHECK(t.slots == NULL && t.cap == 0 && t.count == 0);
}

#define N 600

/* Random inserts and removals; after each, every entry the model holds is
 * found (and only those). `spread` hash values: 3 makes every probe run
 * long; hashes near the top of the table make runs wrap to slot 0. */
static void churn(uint64_t spread, uint64_t offset, unsigned seed) {
  static sdtls_table_entry entries[N];
  static bool in[N];
  memset(in, 0, sizeof(in));
  sdtls_peer_table t = {0};
  srand(seed);
  for (uint32_t i = 0; i < N; i++) {
    entries[i].key = key_of(i);
    entries[i].hash = offset + i % spread;
  }
  size_t count = 0;
  for (int op = 0; op < 4 * N; op++) {
    uint32_t i = (uint32_t)rand() % N;
    if (!in[i]) {
      REQUIRE_EQ(Sdtls_peer_table_reserve(&t), 0);
      Sdtls_peer_table_insert(&t, &entries[i]);
      in[i] = true;
      count++;
    } else {
      Sdtls_peer_table_remove(&t, &entries[i]);
      in[i] = false;
      count--;
    }
    REQUIRE_EQ(t.count, count);
    REQUIRE(t.cap >= 2 * t.count); /* load factor at most 1/2 */
    if (op % 61 == 0 || op == 4 * N - 1) {
      for (uint32_t j = 0; j < N; j++) {
        sdtls_peer_key k = key_of(j);
        sdtls_table_entry *e = Sdtls_peer_table_find(&t, &k, entries[j].hash);
        REQUIREF(e == (in[j] ? &entries[j] : NULL), "entry %u (hash %llu) after op %d", j,
                 (unsigned long long)entries[j].hash, op);
      }
    }
  }
  /* The same key under another hash is another key's slot: not found. */
  for (uint32_t j = 0; j < N; j++) {
    if (in[j]) {
      sdtls_peer_key k = key_of(j);
      CHECK(Sdtls_peer_table_find(&t, &k, entries[j].hash + spread) == NULL);
      break;
    }
  }
  Sdtls_peer_table_free(&t);
}

static void test_colliding_hashes(void) { churn(3, 0, 1); }
static void test_wrapping_runs(void) { churn(5, (uint64_t)-3, 2); }
static void test_spread_hashes(void) { churn(UINT64_C(1) << 40, UINT64_C(0x9e3779b97f4a7c15), 3); }

/* Emptied entirely, then filled again: removal leaves no trace. */
static void test_empty_again(void) {
  static sdtls_table_entry e[64];
  sdtls_peer_table t = {0};
  for (int round = 0; round < 3; round++) {
    for (uint32_t i = 0; i < 64; i++) {
      e[i].key = key_of(i);
      e[i].hash = i % 4;
      REQUIRE_EQ(Sdtls_peer_table_reserve(&t), 0);
      Sdtls_peer_table_insert(&t, &e[i]);
    }
    for (uint32_t i = 0; i < 64; i++) {
      Sdtls_peer_table_remove(&t, &e[(i * 37) % 64]);
    }
    CHECK_EQ(t.count, 0);
    for (size_t i = 0; i < t.cap; i++) {
      CHECK(t.slots[i] == NULL);
    }
  }
  Sdtls_peer_table_free(&t);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"key_from_sockaddr", test_key_from_sockaddr},
      {"empty", test_empty},
      {"colliding_hashes", test_colliding_hashes},
      {"wrapping_runs", test_wrapping_runs},
      {"spread_hashes", test_spread_hashes},
      {"empty_again", test_empty_again},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

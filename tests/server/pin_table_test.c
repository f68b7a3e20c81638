/* SPDX-License-Identifier: Apache-2.0 */
/* src/pin_table.c on its own: the per-peer pin table behind
 * sdtls_server_pin_peer() (tests/sim/pin_test.c drives it through a
 * server). Keys come from real sockaddrs, as the server makes them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "pin_table.h"
#include "world.h" /* addr_of(), addr6_of() */

static sdtls_peer_key key_of(const void *addr, size_t len) {
  sdtls_peer_key k;
  Sdtls_peer_key_from_sockaddr(addr, len, &k);
  return k;
}

static sdtls_peer_key v4(uint32_t ip, uint16_t port) {
  const struct sockaddr_in a = addr_of(ip, port);
  return key_of(&a, sizeof(a));
}

static sdtls_peer_key v6(const char *ip, uint16_t port, uint32_t scope) {
  struct sockaddr_in6 a = addr6_of(ip, port);
  a.sin6_scope_id = scope;
  return key_of(&a, sizeof(a));
}

/* A distinct sha-256 pin per `seed`. */
static sdtls_fingerprint pin(unsigned seed) {
  sdtls_fingerprint fp;
  memset(&fp, 0, sizeof(fp));
  fp.hash = SDTLS_HASH_SHA256;
  fp.len = 32;
  memcpy(fp.digest, &seed, sizeof(seed));
  return fp;
}

static size_t count(const sdtls_pin_table *t, sdtls_peer_key k) {
  size_t n;
  Sdtls_pin_table_find(t, &k, &n);
  return n;
}

static void test_empty_table(void) {
  sdtls_pin_table t = {0};
  sdtls_peer_key k = v4(0x7f000001, 1);
  size_t n = 99;
  CHECK(Sdtls_pin_table_find(&t, &k, &n) == NULL);
  CHECK_EQ(n, 0);
  CHECK_EQ(Sdtls_pin_table_remove(&t, &k), 0);
  Sdtls_pin_table_free(&t);
  Sdtls_pin_table_free(&t); /* empty again: harmless */
}

static void test_pins_of_one_address(void) {
  sdtls_pin_table t = {0};
  sdtls_peer_key a = v4(0xc0000201, 5000), other_port = v4(0xc0000201, 5001);
  sdtls_fingerprint one = pin(1), two = pin(2);
  REQUIRE_EQ(Sdtls_pin_table_add(&t, &a, &one), 0);
  REQUIRE_EQ(Sdtls_pin_table_add(&t, &a, &two), 0);
  CHECK_EQ(Sdtls_pin_table_add(&t, &a, &one), 0); /* already there: nothing changes */
  size_t n;
  const sdtls_fingerprint *got = Sdtls_pin_table_find(&t, &a, &n);
  REQUIRE_EQ(n, 2);
  CHECK(memcmp(&got[0], &one, sizeof(one)) == 0 && memcmp(&got[1], &two, sizeof(two)) == 0);
  CHECK_EQ(count(&t, other_port), 0); /* another port is another peer */
  CHECK_EQ(t.count, 1);

  for (unsigned i = 3; i <= SDTLS_MAX_FINGERPRINTS; i++) {
    sdtls_fingerprint fp = pin(i);
    REQUIRE_EQ(Sdtls_pin_table_add(&t, &a, &fp), 0);
  }
  sdtls_fingerprint extra = pin(1000);
  CHECK_EQ(Sdtls_pin_table_add(&t, &a, &extra), SDTLS_E_LIMIT);
  CHECK_EQ(count(&t, a), SDTLS_MAX_FINGERPRINTS); /* the refusal changed nothing */

  CHECK_EQ(Sdtls_pin_table_remove(&t, &a), SDTLS_MAX_FINGERPRINTS);
  CHECK_EQ(Sdtls_pin_table_remove(&t, &a), 0);
  CHECK_EQ(count(&t, a), 0);
  CHECK_EQ(t.count, 0);
  Sdtls_pin_table_free(&t);
}

static void test_address_forms(void) {
  sdtls_pin_table t = {0};
  sdtls_fingerprint fp = pin(7);
  /* A dual-stack socket reports 192.0.2.1 as ::ffff:192.0.2.1. */
  sdtls_peer_key plain = v4(0xc0000201, 443), mapped = v6("::ffff:192.0.2.1", 443, 0);
  REQUIRE_EQ(Sdtls_pin_table_add(&t, &mapped, &fp), 0);
  CHECK_EQ(count(&t, plain), 1);
  CHECK_EQ(Sdtls_pin_table_add(&t, &plain, &fp), 0); /* the same address, the same pin */
  CHECK_EQ(count(&t, mapped), 1);
  /* IPv6 addresses differ by scope id; a scoped mapped address stays IPv6. */
  sdtls_peer_key link0 = v6("fe80::1", 443, 1), link1 = v6("fe80::1", 443, 2);
  REQUIRE_EQ(Sdtls_pin_table_add(&t, &link0, &fp), 0);
  CHECK_EQ(count(&t, link0), 1);
  CHECK_EQ(count(&t, link1), 0);
  CHECK_EQ(count(&t, v6("::ffff:192.0.2.1", 443, 3)), 0);
  CHECK_EQ(Sdtls_pin_table_remove(&t, &plain), 1);
  CHECK_EQ(count(&t, mapped), 0);
  Sdtls_pin_table_free(&t);
}

/* Many addresses: growth keeps every entry, and removing every other one
 * (backward-shift deletion) leaves the rest findable. */
static void test_many_addresses(void) {
  enum { N = 50000 };
  sdtls_pin_table t = {0};
  for (uint32_t i = 0; i < N; i++) {
    sdtls_peer_key k = v4(0x0a000000 + i, (uint16_t)(1000 + i % 7));
    sdtls_fingerprint fp = pin(i);
    REQUIREF(Sdtls_pin_table_add(&t, &k, &fp) == 0, "pin %u", i);
  }
  CHECK_EQ(t.count, N);
  CHECK(t.cap >= 2 * t.count); /* the load factor stays at most 1/2 */
  int missing = 0;
  for (uint32_t i = 0; i < N; i += 2) {
    sdtls_peer_key k = v4(0x0a000000 + i, (uint16_t)(1000 + i % 7));
    missing += Sdtls_pin_table_remove(&t, &k) != 1;
  }
  CHECK_EQ(missing, 0);
  int wrong = 0;
  for (uint32_t i = 0; i < N; i++) {
    sdtls_peer_key k = v4(0x0a000000 + i, (uint16_t)(1000 + i % 7));
    size_t n;
    const sdtls_fingerprint *got = Sdtls_pin_table_find(&t, &k, &n);
    sdtls_fingerprint want = pin(i);
    if (i % 2 == 0 ? n != 0 : n != 1 || memcmp(got, &want, sizeof(want)) != 0) wrong++;
  }
  CHECK_EQ(wrong, 0);
  CHECK_EQ(t.count, N / 2);
  Sdtls_pin_table_free(&t);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"empty_table", test_empty_table},
      {"pins_of_one_address", test_pins_of_one_address},
      {"address_forms", test_address_forms},
      {"many_addresses", test_many_addresses},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

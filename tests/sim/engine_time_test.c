/* SPDX-License-Identifier: Apache-2.0 */
/* The caller's clock handed to the engine (src/engine_time.c): the
 * engine's retransmission timers run on the `now` of the calls, not on
 * the machine's clock. The simulator's clock is virtual (a handshake of
 * seconds runs in microseconds), so a lossy handshake completes only if
 * the engine reads that clock: from a clock that starts at 0 (the
 * engine's own "no timer" value, kept out of reach by an offset) and from
 * one far in the future. */
#include <stdint.h>

#include "feature_fixture.h"

static void handshake_under_loss_from(sdtls_time start, uint64_t seed) {
  fixture fx;
  REQUIRE(fixture_init(&fx, seed, start, config_make(NULL, 0, NULL), config_make(&g_server, 0, NULL)));
  netsim_link lossy = {0};
  lossy.drop = 0.5;
  netsim_set_link(fx.sim, NETSIM_A, &lossy);
  netsim_set_link(fx.sim, NETSIM_B, &lossy);
  REQUIRE(fixture_conns(&fx));
  CHECKF(pair_handshake(fx.p, 120 * NETSIM_SEC), "start %llu, seed %llu",
         (unsigned long long)start, (unsigned long long)seed);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  fixture_teardown(&fx);
}

static void test_clock_from_zero(void) {
  for (uint64_t seed = 1; seed <= 5; seed++) {
    handshake_under_loss_from(0, seed);
  }
}

static void test_clock_far_ahead(void) {
  for (uint64_t seed = 1; seed <= 5; seed++) {
    handshake_under_loss_from((sdtls_time)1 << 62, seed);
  }
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"clock_from_zero", test_clock_from_zero},
      {"clock_far_ahead", test_clock_far_ahead},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Key exchange groups (sdtls_config_set_groups()) in the simulator: the
 * group both sides agree on, and the list's limit. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

static void test_groups(void) {
  /* DTLS 1.2 also checks the ECDSA certificate's curve (P-256) against
   * the client's list, so P-256 stays in it. */
  static const char *const kRefused[] = {"X25519:NO-SUCH-GROUP", "", NULL};
  fixture fx;
  CHECK(sdtls_conn_group(NULL) == NULL);
  REQUIRE(run_pair_set(&fx, 50, sdtls_config_set_groups, "P-384:P-256", "P-384:P-256", kRefused));
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "P-384"); /* the refused list changed nothing */
  CHECK_STREQ(sdtls_conn_group(SERVER(&fx)), "P-384");
  fixture_teardown(&fx);

  /* Defaults on both sides: the engine's first choice. */
  REQUIRE(run_pair(&fx, 51, config_make(NULL, 0, NULL), config_make(&g_server, 0, NULL), NULL));
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "X25519");
  fixture_teardown(&fx);
}

/* The same for groups: each group once, so the list is at most the
 * engine's groups. */
static void test_groups_limit(void) {
  check_list_limit(sdtls_config_set_groups, "X25519", ':', "P-256:X25519:P-256",
                   "P-256:X25519:P-384");
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"groups", test_groups},
      {"groups_limit", test_groups_limit},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

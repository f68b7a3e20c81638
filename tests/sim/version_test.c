/* SPDX-License-Identifier: Apache-2.0 */
/* src/version.c: what sdtls_has_feature() reports for the features every
 * engine has. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

static void test_features(void) {
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_SRTP), 1);
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_PSK), 1);
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_RESUMPTION), 1);
  CHECK_EQ(sdtls_has_feature(SDTLS_FEATURE_ALPN), 1);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"features", test_features},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

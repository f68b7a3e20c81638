/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_free() (src/memory.c): what the library hands out is released with
 * it, NULL included; under ASan and valgrind a leak or a mismatched free
 * fails the run. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "sdtls.h"

static void test_frees_what_the_library_returns(void) {
  sdtls_free(NULL); /* like free(NULL): nothing */
  char *cert = NULL, *key = NULL;
  REQUIRE(sdtls_certificate_generate("memory.test", 30, &cert, &key) == 0);
  CHECK(cert != NULL && strstr(cert, "BEGIN CERTIFICATE") != NULL);
  CHECK(key != NULL && strstr(key, "PRIVATE KEY") != NULL);
  sdtls_free(cert);
  sdtls_free(key);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"frees_what_the_library_returns", test_frees_what_the_library_returns},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

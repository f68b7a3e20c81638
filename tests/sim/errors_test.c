/* SPDX-License-Identifier: Apache-2.0 */
/* src/errors.c: every error code's name and category, as sdtls.h lists
 * them, which callers print and branch on. (The mapping of the engine's
 * errors is seen through handshakes: conn_test.c, fingerprint_pinning_test.c.) */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "sdtls.h"

static const struct {
  int code;
  sdtls_category category; /* as sdtls.h documents each code */
} kCodes[] = {
    {SDTLS_OK, SDTLS_CATEGORY_NONE},
    {SDTLS_E_INVALID_ARGUMENT, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_NOMEM, SDTLS_CATEGORY_INTERNAL},
    {SDTLS_E_AGAIN, SDTLS_CATEGORY_AGAIN},
    {SDTLS_E_STATE, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_IN_CALLBACK, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_CLOSED, SDTLS_CATEGORY_CLOSED},
    {SDTLS_E_ALERT, SDTLS_CATEGORY_ALERT},
    {SDTLS_E_VERIFY, SDTLS_CATEGORY_VERIFY},
    {SDTLS_E_TIMEOUT, SDTLS_CATEGORY_TIMEOUT},
    {SDTLS_E_PROTOCOL, SDTLS_CATEGORY_PROTOCOL},
    {SDTLS_E_TOO_BIG, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_FILE, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_CREDENTIALS, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_FROZEN, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_UNSUPPORTED, SDTLS_CATEGORY_USAGE},
    {SDTLS_E_LIMIT, SDTLS_CATEGORY_INTERNAL},
    {SDTLS_E_INTERNAL, SDTLS_CATEGORY_INTERNAL},
};
#define N_CODES (sizeof(kCodes) / sizeof(kCodes[0]))

/* Each code has its own name (never the unknown one) and its category. */
static void test_names_and_categories(void) {
  for (size_t i = 0; i < N_CODES; i++) {
    const char *name = sdtls_strerror(kCodes[i].code);
    CHECKF(name != NULL && name[0] != '\0' && strcmp(name, "unknown error") != 0,
           "code %d has no name", kCodes[i].code);
    CHECKF(sdtls_error_category(kCodes[i].code) == kCodes[i].category,
           "code %d: category %d, not %d", kCodes[i].code,
           (int)sdtls_error_category(kCodes[i].code), (int)kCodes[i].category);
    for (size_t j = 0; j < i; j++) {
      CHECKF(strcmp(name, sdtls_strerror(kCodes[j].code)) != 0, "codes %d and %d share \"%s\"",
             kCodes[i].code, kCodes[j].code, name);
    }
  }
}

/* The codes are the contiguous range SDTLS_OK..SDTLS_E_INTERNAL; anything
 * else is unknown: a failure of some kind when negative, none otherwise. */
static void test_unknown_codes(void) {
  CHECK_EQ(N_CODES, 1 - SDTLS_E_INTERNAL);
  static const int kUnknown[] = {SDTLS_E_INTERNAL - 1, -1000, 1, 77, 100000};
  for (size_t i = 0; i < sizeof(kUnknown) / sizeof(kUnknown[0]); i++) {
    int code = kUnknown[i];
    CHECK_STREQ(sdtls_strerror(code), "unknown error");
    CHECK_EQ(sdtls_error_category(code),
             code < 0 ? SDTLS_CATEGORY_INTERNAL : SDTLS_CATEGORY_NONE);
  }
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"names_and_categories", test_names_and_categories},
      {"unknown_codes", test_unknown_codes},
  };
  return check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

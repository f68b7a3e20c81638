/* SPDX-License-Identifier: Apache-2.0 */
/* A very small test framework for the C tests (the `sdtls_check` library,
 * which does not link libsdtls: the sim tests and tests/server use it).
 *
 * CHECK(cond) records a failure (with file:line and the expression) and goes
 * on; REQUIRE(cond) records it and returns from the current test function.
 * CHECKF / REQUIREF do the same with a printf-style message instead of the
 * expression; CHECK_FAIL_(fmt, ...) records a failure unconditionally.
 * CHECK_EQ / CHECK_STREQ print both values. Register tests in a table of
 * check_test and call check_main(); it runs every test (or those whose name
 * contains argv[1]), prints each one, and returns 1 if any check failed. */
#ifndef CHECK_H
#define CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int check_failures;

#define CHECK_FAIL_(...)                                  \
  do {                                                    \
    fprintf(stderr, "%s:%d: CHECK failed: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                         \
    fputc('\n', stderr);                                  \
    check_failures++;                                     \
  } while (0)

#define CHECK(cond)                                  \
  do {                                               \
    if (!(cond)) CHECK_FAIL_("%s", #cond);           \
  } while (0)

#define REQUIRE(cond)                                \
  do {                                               \
    if (!(cond)) {                                   \
      CHECK_FAIL_("%s (required; test stops)", #cond); \
      return;                                        \
    }                                                \
  } while (0)

#define CHECKF(cond, ...)                            \
  do {                                               \
    if (!(cond)) CHECK_FAIL_(__VA_ARGS__);           \
  } while (0)

#define REQUIREF(cond, ...)                          \
  do {                                               \
    if (!(cond)) {                                   \
      CHECK_FAIL_(__VA_ARGS__);                      \
      return;                                        \
    }                                                \
  } while (0)

#define CHECK_EQ(a, b)                                                               \
  do {                                                                               \
    const long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
    if (check_a_ != check_b_)                                                        \
      CHECK_FAIL_("%s == %s (%lld vs %lld)", #a, #b, check_a_, check_b_);            \
  } while (0)

#define REQUIRE_EQ(a, b)                                                             \
  do {                                                                               \
    const long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
    if (check_a_ != check_b_) {                                                      \
      CHECK_FAIL_("%s == %s (%lld vs %lld; required; test stops)", #a, #b, check_a_, \
                  check_b_);                                                         \
      return;                                                                        \
    }                                                                                \
  } while (0)

#define CHECK_STREQ(a, b)                                                            \
  do {                                                                               \
    const char *check_a_ = (a), *check_b_ = (b);                                     \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)                   \
      CHECK_FAIL_("%s == %s (\"%s\" vs \"%s\")", #a, #b, check_a_ ? check_a_ : "(null)", \
                  check_b_ ? check_b_ : "(null)");                                   \
  } while (0)

typedef struct check_test {
  const char *name;
  void (*fn)(void);
} check_test;

/* Runs the tests; returns the process exit status. */
int check_main(const check_test *tests, size_t n, int argc, char **argv);

#endif

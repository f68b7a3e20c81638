/* The server tests' tiny framework: CHECK records a failure and goes on,
 * REQUIRE records it and returns from the test function; CHECKF/REQUIREF
 * add a message. check_run() runs the tests whose name contains argv[1]. */
#ifndef SERVER_CHECK_H
#define SERVER_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK_FAIL_(...)                                           \
  do {                                                             \
    fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);        \
    fprintf(stderr, __VA_ARGS__);                                  \
    fputc('\n', stderr);                                           \
    check_failures++;                                              \
  } while (0)

#define CHECK(cond)                                \
  do {                                             \
    if (!(cond)) CHECK_FAIL_("%s", #cond);         \
  } while (0)
#define CHECKF(cond, ...)                          \
  do {                                             \
    if (!(cond)) CHECK_FAIL_(__VA_ARGS__);         \
  } while (0)
#define REQUIRE(cond)                              \
  do {                                             \
    if (!(cond)) {                                 \
      CHECK_FAIL_("%s (test stops)", #cond);       \
      return;                                      \
    }                                              \
  } while (0)
#define REQUIREF(cond, ...)                        \
  do {                                             \
    if (!(cond)) {                                 \
      CHECK_FAIL_(__VA_ARGS__);                    \
      return;                                      \
    }                                              \
  } while (0)
#define CHECK_EQ(a, b)                                                                 \
  do {                                                                                 \
    const long long ca_ = (long long)(a), cb_ = (long long)(b);                        \
    if (ca_ != cb_) CHECK_FAIL_("%s == %s (%lld vs %lld)", #a, #b, ca_, cb_);          \
  } while (0)
#define REQUIRE_EQ(a, b)                                                               \
  do {                                                                                 \
    const long long ca_ = (long long)(a), cb_ = (long long)(b);                        \
    if (ca_ != cb_) {                                                                  \
      CHECK_FAIL_("%s == %s (%lld vs %lld; test stops)", #a, #b, ca_, cb_);            \
      return;                                                                          \
    }                                                                                  \
  } while (0)

typedef struct check_test {
  const char *name;
  void (*fn)(void);
} check_test;

static int check_run(const check_test *tests, size_t n, int argc, char **argv) {
  int ran = 0;
  for (size_t i = 0; i < n; i++) {
    if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL) {
      continue;
    }
    int before = check_failures;
    tests[i].fn();
    ran++;
    printf("%-40s %s\n", tests[i].name, check_failures == before ? "ok" : "FAILED");
    fflush(stdout);
  }
  if (ran == 0) {
    fprintf(stderr, "no test matches\n");
    return 1;
  }
  return check_failures == 0 ? 0 : 1;
}

#endif

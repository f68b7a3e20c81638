/* SPDX-License-Identifier: Apache-2.0 */
#include "check.h"

#include <stdlib.h>
#include <time.h>

int check_failures = 0;

int check_main(const check_test *tests, size_t n, int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  int failed_tests = 0, ran = 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  for (size_t i = 0; i < n; i++) {
    if (filter && !strstr(tests[i].name, filter)) continue;
    printf("[ RUN      ] %s\n", tests[i].name);
    const int before = check_failures;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tests[i].fn();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    fflush(stderr);
    ran++;
    if (check_failures != before) {
      failed_tests++;
      printf("[  FAILED  ] %s (%d check(s), %ld ms)\n", tests[i].name, check_failures - before,
             ms);
    } else {
      printf("[       OK ] %s (%ld ms)\n", tests[i].name, ms);
    }
  }
  if (ran == 0) {
    printf("no test matches \"%s\"\n", filter ? filter : "");
    return 1;
  }
  printf("%d test(s), %d failed\n", ran, failed_tests);
  return failed_tests ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers of every bench executable (the driver bench_main.c,
 * udp_bench.c, load.c): no TLS header, all static inline. Define BENCH_PROG
 * (the prefix of bench_die()'s message) before including this. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef BENCH_PROG
#error "BENCH_PROG must name the program"
#endif

/* "BENCH_PROG: message" on stderr, then exit(1). */
static inline __attribute__((format(printf, 1, 2), noreturn)) void bench_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", BENCH_PROG);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* `clock` (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...) in nanoseconds. */
static inline uint64_t bench_clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif

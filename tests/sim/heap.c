/* SPDX-License-Identifier: Apache-2.0 */
#include "heap.h"

#include <malloc.h>

#ifdef HAVE_ASAN
/* From the sanitizer runtime (its header is not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#if !defined(HAVE_ASAN) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif

size_t heap_in_use(void) {
#ifdef HAVE_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
#ifdef HAVE_VALGRIND
  if (RUNNING_ON_VALGRIND) {
    unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
    VALGRIND_DO_QUICK_LEAK_CHECK;
    VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
    return leaked + dubious + reachable + suppressed;
  }
#endif
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

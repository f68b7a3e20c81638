/* SPDX-License-Identifier: Apache-2.0 */
/* A counting allocator compiled into each benchmark executable (no
 * LD_PRELOAD, no --wrap).
 *
 * glibc lets a program replace malloc by defining malloc, free, calloc,
 * realloc and the aligned allocators itself ("Replacing malloc" in the glibc
 * manual). The definitions below are in the executable, so the dynamic
 * linker binds every shared object's calls to them too (libsdtls.so,
 * OpenSSL's libssl/libcrypto, libc's own internal allocations), and static
 * code (libsdtls.a, the BoringSSL archives) calls them directly. Each counts
 * the call and forwards to glibc's allocator through its __libc_* entry
 * points, so mallinfo2() still describes the heap. The counters are plain
 * integers: the benchmark is single-threaded. The project compiles with
 * -fvisibility=hidden, so each definition is marked EXPORT: a hidden one
 * would not be in the dynamic symbol table and shared objects would go on
 * calling glibc's. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "bench.h"

uint64_t bench_alloc_calls, bench_free_calls;

#define EXPORT __attribute__((visibility("default")))

/* glibc's own allocator, exported for exactly this purpose. */
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

EXPORT void *malloc(size_t size) {
  bench_alloc_calls++;
  return __libc_malloc(size);
}

EXPORT void free(void *ptr) {
  if (ptr != NULL) {
    bench_free_calls++;
  }
  __libc_free(ptr);
}

EXPORT void *calloc(size_t n, size_t size) {
  bench_alloc_calls++;
  return __libc_calloc(n, size);
}

EXPORT void *realloc(void *ptr, size_t size) {
  /* realloc(p, 0) frees; any other call may allocate. */
  if (ptr != NULL && size == 0) {
    bench_free_calls++;
  } else {
    bench_alloc_calls++;
  }
  return __libc_realloc(ptr, size);
}

EXPORT void *memalign(size_t alignment, size_t size) {
  bench_alloc_calls++;
  return __libc_memalign(alignment, size);
}

EXPORT void *aligned_alloc(size_t alignment, size_t size) {
  bench_alloc_calls++;
  return __libc_memalign(alignment, size);
}

EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) {
    return EINVAL;
  }
  bench_alloc_calls++;
  void *p = __libc_memalign(alignment, size);
  if (p == NULL) {
    return ENOMEM;
  }
  *out = p;
  return 0;
}

EXPORT void *valloc(size_t size) {
  bench_alloc_calls++;
  return __libc_valloc(size);
}

EXPORT void *pvalloc(size_t size) {
  bench_alloc_calls++;
  return __libc_pvalloc(size);
}

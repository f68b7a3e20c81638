/* SPDX-License-Identifier: Apache-2.0 */
/* How much heap a test program holds, for the tests that bound a library's
 * memory (floods, eviction, long runs). Part of sdtls_check. */
#ifndef SDTLS_TEST_HEAP_H
#define SDTLS_TEST_HEAP_H

#include <stddef.h>

/* HAVE_ASAN: built with AddressSanitizer, whose allocator replaces glibc's
 * (tests size their floods and skip glibc tunables by it). */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

/* Bytes the program has allocated and not freed: ASan's counter under ASan;
 * under valgrind (whose allocator mallinfo2() does not see) the sum of its
 * quick leak check, which classifies every live block; else mallinfo2(). */
size_t heap_in_use(void);

#endif

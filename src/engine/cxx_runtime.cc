// SPDX-License-Identifier: Apache-2.0
// The two pieces of the C++ runtime that upstream BoringSSL's C++ code
// refers to (measured: the link of libsdtls.a into a C program lists exactly
// these) without needing libstdc++ for them:
//   - operator delete(void*, size_t): named by the deleting destructors of
//     classes with virtual destructors. The engine never allocates with
//     `new` (nothing refers to operator new): its objects come from
//     OPENSSL_malloc through bssl::New and go through bssl::Delete, so a
//     deleting destructor, if one ever ran, would free such memory.
//   - std::__throw_out_of_range_fmt: the failure path of a bounds-checked
//     access; the engine is built without exceptions, so it aborts.
// Both are hidden: libsdtls.so exports neither and needs no libstdc++.so,
// and libsdtls.a keeps them local (a C++ program's own runtime is
// untouched). tests/abi/exports_test.sh and the static side-by-side test
// check that.
// Against libstdc++ only: with libc++ (zig's toolchain, which builds the
// release wheels; packaging/release.sh) the engine's code names libc++'s
// own helpers, and that build links libc++'s static runtime, hidden in the
// module (bindings/python/CMakeLists.txt).
#include <cstddef>
#include <cstdlib>

#include <openssl/mem.h>

#if defined(__GLIBCXX__)
__attribute__((visibility("hidden"))) void operator delete(void *p, size_t) noexcept {
  OPENSSL_free(p);
}

namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_out_of_range_fmt(const char *,
                                                                              ...) {
  abort();
}
}  // namespace std
#endif

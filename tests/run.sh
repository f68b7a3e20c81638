#!/bin/sh
# The whole test suite: installs what is missing, builds sdtls (and the
# embedded BoringSSL) in build/, runs the C tests under ASan+UBSan, then every
# test through ctest. The last lines are ctest's summary.
#
#   sh tests/run.sh            (BUILD_DIR and JOBS may be set)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
sh "$root/packaging/setup-debian.sh"

# Sanitizers first: the in-process C tests (simulator, server, ABI).
cmake -S "$root" -B "$build/asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSDTLS_SANITIZE=ON \
      -DSDTLS_BUILD_TOOL=OFF >/dev/null
ninja -C "$build/asan" -j "$jobs"
(cd "$build/asan" && ctest -j "$jobs" -L memcheck --output-on-failure)

cmake -S "$root" -B "$build/release" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build/release" -j "$jobs"
cd "$build/release"
exec ctest -j "$jobs" --output-on-failure

#!/bin/sh
# The whole test suite: installs what is missing, builds sdtls (and the
# embedded BoringSSL) in build/, runs the C tests under ASan+UBSan, then
# every test through ctest on a Release build made with Debian's hardening
# flags, as a distribution builds it, and the Python package's suite.
# Warnings are errors in both C builds.
# The last lines are ctest's summary.
#
#   sh tests/run.sh            (BUILD_DIR and JOBS may be set)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}
sh "$root/packaging/setup-debian.sh"

# Sanitizers first: the in-process C tests (simulator, server, ABI).
cmake -S "$root" -B "$build/asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSDTLS_SANITIZE=ON \
      -DSDTLS_WERROR=ON -DSDTLS_BUILD_TOOL=OFF >/dev/null
ninja -C "$build/asan" -j "$jobs"
(cd "$build/asan" && ctest -j "$jobs" -L memcheck --output-on-failure)

# Debian's build flags with every hardening feature (what dpkg-buildpackage
# passes to a package build).
flags() { DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"; }
CFLAGS="$(flags CPPFLAGS) $(flags CFLAGS)" CXXFLAGS="$(flags CPPFLAGS) $(flags CXXFLAGS)" \
LDFLAGS="$(flags LDFLAGS)" \
  cmake -S "$root" -B "$build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSDTLS_WERROR=ON >/dev/null
ninja -C "$build/release" -j "$jobs"

# ---- Python (bindings/python, python/) --------------------------------------
# Builds the wheel with pip, installs it in a fresh venv and runs mypy and
# pytest against it (interop with the tool just built). Its own script:
sh "$root/python/run-tests.sh" "$build"
# ------------------------------------------------------------------------------

cd "$build/release"
exec ctest -j "$jobs" --output-on-failure

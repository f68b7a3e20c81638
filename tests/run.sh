#!/bin/sh
# The whole test suite: installs what is missing, builds sdtls (and the
# embedded BoringSSL) in build/, runs the C tests under ASan+UBSan, then
# every test through ctest on a Release build made with Debian's hardening
# flags, as a distribution builds it, after the Rust bindings' tests against
# that build. Warnings are errors in both builds.
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

# ---- Rust bindings (bindings/rust) --------------------------------------
# cargo test (unit, integration, doc tests) against this build's
# libsdtls.so; the interop tests drive this build's sdtls tool and fail
# without it. Then clippy, warnings as errors, where it is installed.
PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
command -v cargo >/dev/null || { echo "run.sh: cargo not found (Rust bindings)" >&2; exit 1; }
rust() {
    sub=$1
    shift
    SDTLS_LIB_DIR="$build/release/src" SDTLS_INCLUDE_DIR="$root/abi" \
    LD_LIBRARY_PATH="$build/release/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    SDTLS_TOOL="$build/release/src/tool/sdtls" CARGO_TARGET_DIR="$build/rust" \
        cargo "$sub" --locked --manifest-path "$root/bindings/rust/Cargo.toml" -j "$jobs" "$@"
}
rust test
if cargo clippy --version >/dev/null 2>&1; then
    rust clippy --all-targets -- -D warnings
else
    echo "run.sh: cargo clippy is not installed; Rust lints not run" >&2
fi
# ---- end of the Rust bindings stage ---------------------------------------

cd "$build/release"
exec ctest -j "$jobs" --output-on-failure

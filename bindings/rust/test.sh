#!/bin/sh
# The Rust stage of tests/run.sh: cargo test (unit, integration, doc tests)
# against a release build's libsdtls.so, the interop tests driving that
# build's sdtls tool (they fail without it), then clippy with warnings as
# errors where it is installed.
#
#   sh bindings/rust/test.sh BUILD_DIR     (BUILD_DIR/release holds the build)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
jobs=${JOBS:-$(nproc)}
PATH=$PATH:${CARGO_HOME:-${HOME:-/root}/.cargo}/bin
command -v cargo >/dev/null || { echo "bindings/rust/test.sh: cargo not found" >&2; exit 1; }
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
    echo "bindings/rust/test.sh: cargo clippy is not installed; Rust lints not run" >&2
fi

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Rust stage of tests/run.sh: cargo test (unit, integration, doc tests)
# against a release build's libsdtls.so, the interop tests driving that
# build's sdtls tool (they fail without it), then clippy with warnings as
# errors where it is installed, and the licence files in each crate.
#
#   sh bindings/rust/test.sh BUILD_DIR [VARIANT]
#
# BUILD_DIR/VARIANT holds the CMake build (VARIANT: release, the default;
# tests/run.sh also passes current, the build on the current engine, where
# only the tests run: clippy and the crates' contents once are enough).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
variant=${2:-release}
jobs=${JOBS:-$(nproc)}
PATH=$PATH:${CARGO_HOME:-${HOME:-/root}/.cargo}/bin
command -v cargo >/dev/null || { echo "bindings/rust/test.sh: cargo not found" >&2; exit 1; }
rust() {
    sub=$1
    shift
    SDTLS_LIB_DIR="$build/$variant/src" SDTLS_INCLUDE_DIR="$root/abi" \
    LD_LIBRARY_PATH="$build/$variant/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    SDTLS_TOOL="$build/$variant/src/tool/sdtls" CARGO_TARGET_DIR="$build/rust" \
        cargo "$sub" --locked --manifest-path "$root/bindings/rust/Cargo.toml" -j "$jobs" "$@"
}
rust test
[ "$variant" = release ] || exit 0
if cargo clippy --version >/dev/null 2>&1; then
    rust clippy --all-targets -- -D warnings
else
    echo "bindings/rust/test.sh: cargo clippy is not installed; Rust lints not run" >&2
fi

# Each crate carries LICENSE and NOTICE: links to the repository's own, which
# cargo packages as the files they point to (a crate holds only what lies
# under its directory). --allow-dirty: the file list is checked, not the
# checkout.
for crate in sdtls-sys sdtls; do
    list=$(cargo package --list --allow-dirty --offline --locked \
           --manifest-path "$root/bindings/rust/$crate/Cargo.toml" 2>"$build/rust/package.err") ||
        { cat "$build/rust/package.err" >&2; exit 1; }
    for f in LICENSE NOTICE; do
        printf '%s\n' "$list" | grep -qx "$f" ||
            { echo "bindings/rust/test.sh: the $crate crate does not carry $f" >&2; exit 1; }
        cmp -s "$root/bindings/rust/$crate/$f" "$root/$f" ||
            { echo "bindings/rust/test.sh: bindings/rust/$crate/$f is not the repository's $f" >&2; exit 1; }
    done
done
echo "rust: both crates carry LICENSE and NOTICE"

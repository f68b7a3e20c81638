#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The packaged crates as a user of the registry gets them: a new cargo
# project outside the repository depends on sdtls with the `vendored`
# feature, taking both .crate files (unpacked) in place of crates.io's; it
# builds (sdtls-sys compiles the C library and the engine it carries, in
# OUT_DIR: the unpacked crates must be unchanged afterwards) and runs a
# program that sees the current engine (DTLS 1.3). Prints the .crate sizes
# against crates.io's 10 MB limit.
#
#   sh tests/release/crate_test.sh DIST_DIR
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dist=$(cd "$1" && pwd)
fail() { printf 'crate_test: FAIL: %s\n' "$*" >&2; exit 1; }
version=$(sed -n 's/^#define SDTLS_VERSION_STRING "\(.*\)"$/\1/p' "$root/abi/sdtls.h")
work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-crate-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
for c in sdtls-sys sdtls; do
    f=$dist/$c-$version.crate
    size=$(stat -c %s "$f")
    [ "$size" -lt 10485760 ] || fail "$c-$version.crate is $size bytes, over crates.io's 10 MB"
    echo "crate_test: $c-$version.crate: $size bytes"
    tar -xzf "$f" -C "$work"
done
(cd "$work" && find sdtls-sys-"$version" sdtls-"$version" -type f -exec sha256sum {} + | sort) >"$work/before"

mkdir -p "$work/app/src"
cat >"$work/app/Cargo.toml" <<TOML
[package]
name = "app"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
sdtls = { version = "=$version", features = ["vendored"] }

[patch.crates-io]
sdtls = { path = "../sdtls-$version" }
sdtls-sys = { path = "../sdtls-sys-$version" }
TOML
cat >"$work/app/src/main.rs" <<'RS'
fn main() {
    let (_, version) = sdtls::version();
    assert!(sdtls::has_feature(sdtls::Feature::Dtls13), "no DTLS 1.3: {version}");
    println!("{version}, DTLS 1.3");
}
RS
(cd "$work/app" && CARGO_TARGET_DIR="$work/target" cargo run -q --release >"$work/run.out" 2>"$work/run.err") ||
    fail "cargo run: $(tail -n 30 "$work/run.err")"
(cd "$work" && find sdtls-sys-"$version" sdtls-"$version" -type f -exec sha256sum {} + | sort) >"$work/after"
cmp -s "$work/before" "$work/after" || fail "the build wrote into the crates: $(diff "$work/before" "$work/after" | head)"
echo "crate_test: a new project with sdtls (vendored) from the .crate files: $(cat "$work/run.out")"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One version everywhere: abi/sdtls.h's SDTLS_VERSION_STRING (and its
# MAJOR.MINOR.PATCH) is the version of the CMake project, the Rust
# workspace (both crates inherit it), the Java artefact, the Debian
# package's upstream part; the Python package reads it from the header
# (python/pyproject.toml), so the sdist and wheels of packaging/release.sh
# carry it too; CHANGELOG.md has the version's section. A release changes
# the header and these files together.
#
#   sh tests/abi/versions_test.sh SOURCE_DIR
set -eu
root=$1
fail() { printf 'versions: FAIL: %s\n' "$*" >&2; exit 1; }
h=$root/abi/sdtls.h
v=$(sed -n 's/^#define SDTLS_VERSION_STRING "\(.*\)"$/\1/p' "$h")
[ -n "$v" ] || fail "no SDTLS_VERSION_STRING in abi/sdtls.h"
parts=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define SDTLS_VERSION_$p \([0-9]*\)$/\1/p" "$h"; done |
    paste -sd.)
[ "$parts" = "$v" ] || fail "SDTLS_VERSION_MAJOR.MINOR.PATCH is $parts, the string $v"
check() { # WHAT FOUND
    [ "$2" = "$v" ] || fail "$1 says '$2', abi/sdtls.h $v"
}
check CMakeLists.txt "$(sed -n 's/^project(sdtls VERSION \([^ ]*\) .*/\1/p' "$root/CMakeLists.txt")"
check bindings/rust/Cargo.toml "$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' \
    "$root/bindings/rust/Cargo.toml")"
for c in sdtls sdtls-sys; do
    grep -qx 'version.workspace = true' "$root/bindings/rust/$c/Cargo.toml" ||
        fail "bindings/rust/$c/Cargo.toml has a version of its own"
done
check bindings/java/pom.xml "$(sed -n '/<artifactId>sdtls<\/artifactId>/{n;s/^ *<version>\(.*\)<\/version>$/\1/p;}' \
    "$root/bindings/java/pom.xml")"
check packaging/debian/changelog "$(sed -n '1s/^sdtls (\([^-)]*\)-[^)]*).*/\1/p' "$root/packaging/debian/changelog")"
grep -q "^input = \"../abi/sdtls.h\"$" "$root/python/pyproject.toml" ||
    fail "python/pyproject.toml no longer takes the version from abi/sdtls.h"
grep -q "^## \\[$v\\] - [0-9]\\{4\\}-[0-9][0-9]-[0-9][0-9]$" "$root/CHANGELOG.md" ||
    fail "CHANGELOG.md has no section '## [$v] - YYYY-MM-DD'"
echo "versions: $v everywhere"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# abi/check-symbols.sh catches what it is there for: on a scratch copy of
# abi/ it adds a function to the header only, then to the list, then to a
# new node of the map (SDTLS_1.99, a node no release has yet), and checks that each step fails with the
# line that names the fix, and that the last one passes.
# Argument: the source tree.
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/abi" "$work/packaging/debian"
cp "$src/abi/check-symbols.sh" "$src/abi/sdtls.h" "$src/abi/sdtls.map" "$src/abi/symbols-in-versions" "$work/abi/"
cp "$src/packaging/debian/libsdtls1.symbols" "$work/packaging/debian/"
check() { sh "$work/abi/check-symbols.sh" --debian >"$work/out" 2>&1; }
fail() { echo "FAIL: $*"; cat "$work/out"; exit 1; }
expect_fail() { # step, expected line (fixed string)
    ! check || fail "$1: the check passed"
    grep -qF -- "$2" "$work/out" || fail "$1: no line \"$2\""
    echo "ok: $1"
}

check || fail "the unchanged copy does not pass"
# A declaration over two lines, and one inside a comment that must not count.
awk '/^#ifdef __cplusplus$/ && ++n == 2 {
         print "SDTLS_EXTERN int"; print "    sdtls_selftest_new(int x);"
         print "/* SDTLS_EXTERN int sdtls_selftest_commented(void); */" } { print }' \
    "$src/abi/sdtls.h" >"$work/abi/sdtls.h"
grep -q sdtls_selftest_new "$work/abi/sdtls.h" || fail "could not add a declaration to the copy"
expect_fail "header only" "FAIL: sdtls_selftest_new is declared in abi/sdtls.h but not listed in abi/symbols-in-versions"
grep -q sdtls_selftest_commented "$work/out" && fail "a commented-out declaration counted"

echo "sdtls_selftest_new SDTLS_1.99 9.9.0" >>"$work/abi/symbols-in-versions"
expect_fail "header and list" "FAIL: sdtls_selftest_new (SDTLS_1.99 in abi/symbols-in-versions) is not exported by abi/sdtls.map"
grep -qF "node SDTLS_1.99 (in abi/symbols-in-versions) is not defined in abi/sdtls.map" "$work/out" ||
    fail "header and list: the missing node is not named"

printf 'SDTLS_1.99 {\n  global:\n    sdtls_selftest_new;\n} SDTLS_1;\n' >>"$work/abi/sdtls.map"
expect_fail "header, list and map" "sdtls_selftest_new@SDTLS_1.99 9.9.0"
sh "$work/abi/check-symbols.sh" --write-debian >/dev/null
check || fail "header, list, map and Debian symbols: still failing"
echo "ok: all four agree"

# The other way round: listed, but gone from the header.
cp "$src/abi/sdtls.h" "$work/abi/sdtls.h"
expect_fail "list without header" "FAIL: sdtls_selftest_new is listed in abi/symbols-in-versions but not declared SDTLS_EXTERN in abi/sdtls.h"

# A wildcard in the map is refused.
cp "$src/abi/sdtls.h" "$src/abi/symbols-in-versions" "$work/abi/"
sed 's/^    sdtls_version;$/    sdtls_*;/' "$src/abi/sdtls.map" >"$work/abi/sdtls.map"
cp "$src/packaging/debian/libsdtls1.symbols" "$work/packaging/debian/"
expect_fail "wildcard" "exports the pattern \"sdtls_*\""
echo PASS

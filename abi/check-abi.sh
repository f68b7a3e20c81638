#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The ABI only grows. Compares a built libsdtls against the recorded baseline
# (abi/libsdtls.abi, written by `abidw`) and fails when a function or type of
# the public header was removed or changed. Added functions pass
# (they must go into a new version node after a release; exports_test checks
# that every function has one).
#
# Usage: check-abi.sh LIBRARY ABI_DIR         compare
#        check-abi.sh --update LIBRARY ABI_DIR write a new baseline
set -eu
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib=$1
dir=$2
baseline=$dir/libsdtls.abi
command -v abidiff >/dev/null || { echo "abidiff not found (apt-get install abigail-tools)"; exit 1; }
if [ $update -eq 1 ]; then
    abidw --headers-dir "$dir" --drop-private-types --exported-interfaces-only --no-show-locs \
          --no-corpus-path --no-comp-dir-path "$lib" >"$baseline"
    echo "wrote $baseline"
    exit 0
fi
set +e
abidiff --headers-dir2 "$dir" --no-added-syms "$baseline" "$lib"
rc=$?
set -e
# abidiff exits 0 when the only difference is added functions; any change
# of an existing function or type (4), incompatible or not (8), fails: a
# changed parameter type is "compatible" to abidiff but breaks callers.
if [ $rc -ne 0 ]; then
    echo "FAIL: ABI change against $baseline (abidiff exit $rc)"
    exit 1
fi
echo "OK: no incompatible change against $baseline (abidiff exit $rc)"

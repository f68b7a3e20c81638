#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A manylinux wheel of packaging/release.sh as its users meet it:
# `auditwheel show` finds it consistent with manylinux_2_17 for its
# architecture and needing no library outside the policy's (glibc's); then,
# for this machine's architecture, `pip install --no-index` of the wheel
# alone in a clean venv and a DTLS exchange with the C tool's server over
# loopback (tests/release/exchange.py). A cp39-abi3 wheel also: pip, asked
# for CPython 3.9 from the wheel's directory, takes it (and for 3.12 the
# cp311-abi3 wheel beside it), and the same exchange runs under CPython 3.9
# (tests/release/python39.sh) when PYTHON39 is given.
#
#   sh tests/release/wheel_test.sh WHEEL TOOL TOOLS_PYTHON [PYTHON39]
# TOOLS_PYTHON: an interpreter with auditwheel (the release tools' venv).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wheel=$1 tools_py=$3 python39=${4:-}
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
fail() { printf 'wheel_test: FAIL: %s\n' "$*" >&2; exit 1; }
arch=$(basename "$wheel" .whl | sed 's/.*_\(x86_64\|aarch64\)$/\1/')

case $(basename "$wheel") in
*-manylinux_2_17_"$arch".whl | *.manylinux_2_17_"$arch".whl) ;;
*) fail "$(basename "$wheel") is not tagged manylinux_2_17_$arch" ;;
esac
# auditwheel names the oldest policy the symbols allow: glibc 2.17 or older.
show=$("$tools_py" -m auditwheel show "$wheel" 2>&1) || fail "auditwheel show: $show"
minor=$(printf '%s\n' "$show" | tr '\n' ' ' |
    sed -n "s/.*consistent with the following platform tag: \"manylinux_2_\([0-9]*\)_$arch\".*/\1/p")
[ -n "$minor" ] && [ "$minor" -le 17 ] || fail "not manylinux_2_17_$arch: $show"
! printf '%s\n' "$show" | grep -q "external shared libraries are required" ||
    fail "external libraries: $show"
# The module exports its init function alone (the engine and the C++
# runtime stay inside).
mkdir -p "${TMPDIR:-/tmp}"
unpacked=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-wheel-unpacked.XXXXXX")
python3 -m zipfile -e "$wheel" "$unpacked"
exported=$(nm -D --defined-only "$unpacked"/sdtls/_sdtls_ext*.so | awk '{ print $3 }')
rm -rf "$unpacked"
[ "$exported" = PyInit__sdtls_ext ] || fail "the module exports: $exported"
[ "$arch" = "$(uname -m)" ] || { echo "wheel_test: $(basename "$wheel"): manylinux_2_17_$arch"; exit 0; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-wheel-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
PIP_NO_CACHE_DIR=1 "$work/venv/bin/python" -m pip install -q --disable-pip-version-check --no-index "$wheel" ||
    fail "pip install"
summary=$(cd "$work" && "$work/venv/bin/python" "$here/exchange.py" "$tool" chromium) || fail "the exchange"
echo "wheel_test: $(basename "$wheel"): manylinux_2_17_$arch; $summary"
case $(basename "$wheel") in *-cp39-abi3-*) ;; *) exit 0 ;; esac

# Which wheel pip takes for each CPython, from the directory of both.
version=$(basename "$wheel" | cut -d- -f2)
picked() { # PYTHON_VERSION: prints the tag of the wheel pip installs
    rm -rf "$work/picked"
    PIP_NO_CACHE_DIR=1 python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --no-index --find-links "$(dirname "$wheel")" --only-binary=:all: --target "$work/picked" \
        --platform "manylinux_2_17_$arch" --implementation cp --python-version "$1" "sdtls==$version" >&2 ||
        fail "pip install for CPython $1"
    sed -n 's/^Tag: \([^-]*-[^-]*\)-.*/\1/p' "$work"/picked/sdtls-*.dist-info/WHEEL | sort -u
}
[ "$(picked 3.9)" = cp39-abi3 ] || fail "pip took $(picked 3.9) for CPython 3.9"
[ "$(picked 3.12)" = cp311-abi3 ] || fail "pip took $(picked 3.12) for CPython 3.12"
echo "wheel_test: pip takes cp39-abi3 for CPython 3.9, cp311-abi3 for 3.12"
[ -n "$python39" ] || { echo "wheel_test: $(basename "$wheel") not run by CPython 3.9 (none given)"; exit 0; }
picked 3.9 >/dev/null
summary=$(cd "$work" && PYTHONPATH="$work/picked" PYTHONDONTWRITEBYTECODE=1 "$python39" "$here/exchange.py" "$tool" chromium) ||
    fail "the exchange under CPython 3.9"
echo "wheel_test: $(basename "$wheel") under CPython $("$python39" -c 'import platform; print(platform.python_version())'): $summary"

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The aarch64 wheel run for real: an arm64 CPython (Debian's, unpacked by
# tests/release/arm64_sysroot.sh) under qemu-aarch64-static imports the
# wheel's package (the wheel unpacked as pip would lay it out in
# site-packages) and talks DTLS 1.3 with X25519MLKEM768 to the x86_64 tool's
# server over loopback (tests/release/exchange.py); then the Python suite's
# interop tests (python/tests/test_interop.py: the package against the x86_64
# C tool and OpenSSL's s_server and s_client, and pyOpenSSL beside it in
# one interpreter) run under qemu with pytest and pyOpenSSL of the versions
# python/requirements-test.txt pins, their aarch64 wheels from PyPI. One
# test is left out: it starts `python -m sdtls` as a child, which needs the
# arm64 interpreter run by binfmt (not used here); the
# Python stage of tests/run.sh runs it on x86_64. A cp39-abi3 wheel's
# exchange also runs under Debian 11's arm64 CPython 3.9
# (tests/release/python39.sh) when PYTHON39 is given.
#
#   sh tests/release/wheel_qemu_test.sh WHEEL TOOL SYSROOT_PYTHON [PYTHON39]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wheel=$1 python=$3 python39=${4:-}
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
sysroot=${python%/usr/bin/*}
fail() { printf 'wheel_qemu_test: FAIL: %s\n' "$*" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-qemu-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 -m zipfile -e "$wheel" "$work/site"
file "$work"/site/sdtls/_sdtls_ext*.so | grep -q 'ARM aarch64' || fail "the module is not aarch64"
summary=$(cd "$work" && PYTHONPATH="$work/site" PYTHONDONTWRITEBYTECODE=1 \
    qemu-aarch64-static -L "$sysroot" "$python" "$here/exchange.py" "$tool" chromium) ||
    fail "the exchange under qemu"
echo "wheel_qemu_test: $(basename "$wheel") under qemu-aarch64: $summary"
case $(basename "$wheel") in *-cp39-abi3-*) [ -z "$python39" ] || {
    summary=$(cd "$work" && PYTHONPATH="$work/site" PYTHONDONTWRITEBYTECODE=1 \
        qemu-aarch64-static -L "$sysroot" "$python39" "$here/exchange.py" "$tool" chromium) ||
        fail "the exchange under qemu and CPython 3.9"
    echo "wheel_qemu_test: $(basename "$wheel") under qemu-aarch64 and CPython 3.9: $summary"
} ;; esac

pins=$(grep -E '^(pytest|pytest-asyncio|pytest-timeout|pyOpenSSL|cryptography)==' "$here/../../python/requirements-test.txt")
# shellcheck disable=SC2086 # one argument per pin
PIP_NO_CACHE_DIR=1 python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$work/deps" \
    --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp --only-binary=:all: $pins ||
    fail "pip install of the test tools for aarch64"
started=$(date +%s)
(cd "$here/../../python/tests" && PYTHONPATH="$work/site:$work/deps" PYTHONDONTWRITEBYTECODE=1 \
    SDTLS_TOOL="$tool" SDTLS_TEST_STRICT=1 \
    qemu-aarch64-static -L "$sysroot" "$python" -m pytest -q -p no:cacheprovider test_interop.py \
    -k "not test_python_m_sdtls_against_the_tool") ||
    fail "python/tests/test_interop.py under qemu"
echo "wheel_qemu_test: python/tests/test_interop.py under qemu-aarch64 in $(($(date +%s) - started)) s"

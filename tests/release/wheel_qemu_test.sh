#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The aarch64 wheel run for real: an arm64 CPython (Debian's, unpacked by
# tests/release/arm64_sysroot.sh) under qemu-aarch64-static imports the
# wheel's package (the wheel unpacked as pip would lay it out in
# site-packages) and talks DTLS 1.3 with X25519MLKEM768 to the x86_64 tool's
# server over loopback (tests/release/exchange.py).
#
#   sh tests/release/wheel_qemu_test.sh WHEEL TOOL SYSROOT_PYTHON
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wheel=$1 python=$3
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

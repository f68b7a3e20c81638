#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The sdist as its users install it: `pip install sdtls-VERSION.tar.gz` in a
# clean venv, with no pip cache, an empty home (no engine cache), and apt,
# apt-get and apt-cache replaced on PATH by stand-ins that record any call
# (the fetch scripts' only way to the engine): the build must use the engine
# the sdist carries, with the compiler, CMake and PyPI alone. Then a DTLS
# exchange with the C tool's server over loopback (tests/release/exchange.py:
# DTLS 1.3, X25519MLKEM768, sdtls.__engine__ names the chromium engine).
#
#   sh tests/release/sdist_test.sh SDIST TOOL
# Prints the install time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdist=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-sdist-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { printf 'sdist_test: FAIL: %s\n' "$*" >&2; exit 1; }

mkdir -p "$work/bin" "$work/home" "$work/tmp"
for cmd in apt apt-get apt-cache; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/apt-used"\nexit 100\n' "$cmd" "$work" >"$work/bin/$cmd"
    chmod +x "$work/bin/$cmd"
done
python3 -m venv "$work/venv"
start=$(date +%s)
env -u SDTLS_BORINGSSL_DIR -u CMAKE_ARGS -u PIP_CONSTRAINT HOME="$work/home" \
    XDG_CACHE_HOME="$work/home/.cache" TMPDIR="$work/tmp" PATH="$work/bin:$PATH" \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$work/venv/bin/python" -m pip install -q "$sdist" >"$work/pip.log" 2>&1 ||
    fail "pip install of the sdist: $(tail -n 30 "$work/pip.log")"
took=$(($(date +%s) - start))
[ ! -e "$work/apt-used" ] || fail "the build called apt: $(cat "$work/apt-used")"
[ ! -e "$work/home/.cache/sdtls" ] || fail "the build fetched an engine into the cache"
# The module exports its init function alone (the engine stays inside).
module=$(ls "$work"/venv/lib/python3*/site-packages/sdtls/_sdtls_ext*.so)
exported=$(nm -D --defined-only "$module" | awk '{ print $3 }')
[ "$exported" = PyInit__sdtls_ext ] || fail "the module exports: $exported"
summary=$(cd "$work" && "$work/venv/bin/python" "$here/exchange.py" "$tool" chromium) ||
    fail "the exchange with the tool"
echo "sdist_test: pip install of $(basename "$sdist") took $took s; $summary"

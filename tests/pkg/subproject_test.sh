#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sdtls inside another project's build (add_subdirectory, then FetchContent):
# tests/pkg/subproject builds tests/abi/example.c against sdtls::sdtls and
# sdtls::sdtls_static and runs both. Compiles the engine again (about a
# minute on two cores; seconds with ccache), so it is not part of ctest.
#
# Usage: sh tests/pkg/subproject_test.sh [BORINGSSL_DIR]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
engine=${1:-$(sh "$src/packaging/fetch-boringssl.sh")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
        -out "$work/cert.pem" -subj /CN=localhost -days 1 2>/dev/null
for mode in OFF ON; do
    b=$work/build-$mode
    cmake -S "$src/tests/pkg/subproject" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=Release \
          -DSDTLS_SOURCE_DIR="$src" -DSDTLS_EXAMPLE="$src/tests/abi/example.c" \
          -DSDTLS_BORINGSSL_DIR="$engine" -DSDTLS_USE_FETCHCONTENT=$mode >"$work/log" 2>&1 ||
        { cat "$work/log"; echo "FAIL: configure (FetchContent=$mode)"; exit 1; }
    ninja -C "$b" example_shared example_static >"$work/log" 2>&1 ||
        { tail -30 "$work/log"; echo "FAIL: build (FetchContent=$mode)"; exit 1; }
    [ ! -e "$b/sdtls/src/tool/sdtls" ] && [ ! -e "$b/_deps/sdtls-build/src/tool/sdtls" ] ||
        { echo "FAIL: the tool was built in a subproject"; exit 1; }
    for flavour in shared static; do
        "$b/example_$flavour" "$work/cert.pem" "$work/key.pem" | grep -q '^client received: hello, datagram world$' ||
            { echo "FAIL: example_$flavour (FetchContent=$mode)"; exit 1; }
        echo "ok: FetchContent=$mode example_$flavour"
    done
done
echo PASS

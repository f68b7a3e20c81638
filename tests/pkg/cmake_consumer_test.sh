#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The CMake package as a user meets it: `cmake --install` into a scratch
# prefix, the prefix moved elsewhere (the package must be relocatable), then
# tests/pkg/consumer (find_package(sdtls 0.1 CONFIG REQUIRED)) builds
# tests/abi/example.c against sdtls::sdtls and sdtls::sdtls_static, and both
# programs run a handshake and an echo. The static one needs no libsdtls.so.
# SameMajorVersion: 1.0 and 0.2 are refused for 0.1.0.
#
# Usage: cmake_consumer_test.sh BUILD_DIR SOURCE_DIR CERT KEY [PREFIX]
# With PREFIX (e.g. /usr, after installing the .debs) nothing is installed
# and that prefix is used as it is.
set -eu
build=$1 src=$2 cert=$3 key=$4 prefix=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
generator=
command -v ninja >/dev/null && generator="-G Ninja"

if [ -z "$prefix" ]; then
    cmake --install "$build" --prefix "$work/staged" >/dev/null
    mv "$work/staged" "$work/moved"
    prefix=$work/moved
fi
config=$(find "$prefix"/lib* "$prefix"/share -path '*/cmake/sdtls/sdtlsConfig.cmake' 2>/dev/null | head -n 1)
[ -n "$config" ] || fail "no sdtlsConfig.cmake under $prefix"
echo "package: $config"

configure() { # build-dir, extra arguments
    out=$1; shift
    cmake -S "$src/tests/pkg/consumer" -B "$out" $generator -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_PREFIX_PATH="$prefix" -DSDTLS_EXAMPLE="$src/tests/abi/example.c" "$@"
}
configure "$work/app" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "find_package(sdtls 0.1) failed"; }
grep 'found sdtls' "$work/configure.log"
cmake --build "$work/app" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "the consumer did not build"; }

for flavour in shared static; do
    exe=$work/app/example_$flavour
    out=$("$exe" "$cert" "$key") || { echo "$out"; fail "example_$flavour exited $?"; }
    echo "$out" | grep -Eq '^connected DTLSv1\.[23] TLS_' || { echo "$out"; fail "$flavour: no handshake"; }
    echo "$out" | grep -q '^client received: hello, datagram world$' || { echo "$out"; fail "$flavour: no echo"; }
    needed=$(objdump -p "$exe" | awk '/NEEDED/ { print $2 }' | tr '\n' ' ')
    case $flavour in
        shared) case "$needed" in *libsdtls.so.1*) ;; *) fail "example_shared does not need libsdtls.so.1 ($needed)" ;; esac ;;
        static) case "$needed" in *libsdtls*|*libssl*|*libcrypto*|*libstdc++*) fail "example_static needs $needed" ;; esac ;;
    esac
    echo "ok: example_$flavour (needs: $needed)"
done

for want in 1.0 0.2; do
    if configure "$work/want$want" -DSDTLS_WANT=$want >"$work/want.log" 2>&1; then
        fail "find_package(sdtls $want) accepted sdtls 0.1.x"
    fi
    grep -q 'sdtlsConfigVersion.cmake\|version' "$work/want.log" || { cat "$work/want.log"; fail "refused $want for another reason"; }
    echo "ok: find_package(sdtls $want) refuses 0.1.x"
done
echo PASS

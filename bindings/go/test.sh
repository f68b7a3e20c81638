#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests the Go binding against a CMake build of sdtls:
#   sh bindings/go/test.sh BUILD_DIR
# installs BUILD_DIR into a staging directory (DESTDIR), points cgo at it
# through pkg-config (PKG_CONFIG_SYSROOT_DIR, as a distribution would see
# the installed sdtls.pc), runs go vet and the race-enabled tests with the
# shared library, a one-iteration smoke run of the benchmarks, and the
# static variant (-tags sdtls_static): a test binary linked with libsdtls.a
# that must not need libsdtls.so at run time; then examples/webrtc-go
# against headless Chromium. tests/run.sh calls this with its release build
# (and the current engine's). GO may name the go command.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: test.sh BUILD_DIR}" && pwd)
go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
if ! [ -x "$go" ] && ! command -v "$go" >/dev/null 2>&1; then
    echo "go: no Go toolchain found (set GO); the Go binding is not tested" >&2
    exit 0
fi

stage=$build/go-stage
rm -rf "$stage"
DESTDIR=$stage cmake --install "$build" >/dev/null
pc=$(find "$stage" -name sdtls.pc | head -n 1)
libdir=$(dirname "$(find "$stage" -name 'libsdtls.a' | head -n 1)")
incdir=$(dirname "$(dirname "$(find "$stage" -path '*/sdtls/sdtls.h' | head -n 1)")")
[ -n "$pc" ] && [ -d "$libdir" ] && [ -d "$incdir" ] || { echo "go: install of $build is incomplete" >&2; exit 1; }

cd "$here"
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$stage"
export CGO_ENABLED=1 GOFLAGS=-mod=readonly

echo "go: $("$go" version)"
"$go" vet ./...
LD_LIBRARY_PATH=$libdir "$go" test -race -count=1 -timeout 180s ./...
LD_LIBRARY_PATH=$libdir "$go" test -count=1 -run '^$' -bench . -benchtime 1x -timeout 120s . >/dev/null

# The static variant: no run-time dependency on libsdtls.
bin=$stage/sdtls-static.test
CGO_CFLAGS="-I$incdir" CGO_LDFLAGS="-L$libdir" "$go" test -tags sdtls_static -c -o "$bin" .
if ldd "$bin" | grep -q libsdtls; then
    echo "go: the sdtls_static test binary still needs libsdtls.so" >&2
    exit 1
fi
(cd "$here" && env -u LD_LIBRARY_PATH "$bin" -test.count=1 -test.run 'TestConnHandshakeAndData|TestDialListen|TestEveryFunctionIsBound|TestListenerPeerFingerprints$')
# examples/webrtc-go (its own module: pion/ice and pion/srtp are the
# example's, not the package's): go vet, then headless Chromium against it
# on loopback (tests/webrtc/browser_test.sh; exits 77 where Chromium cannot
# be installed).
(cd "$root/examples/webrtc-go" && "$go" vet . && "$go" build -o "$stage/webrtc-go" .)
LD_LIBRARY_PATH=$libdir sh "$root/tests/webrtc/browser_test.sh" --go "$stage/webrtc-go" || [ $? -eq 77 ]
echo "go: all Go tests passed"

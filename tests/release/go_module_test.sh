#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Go module as a user without a clone gets it: sdtls installed to a
# prefix (`cmake --install`, as libsdtls-dev would provide it), the module
# served from a file:// GOPROXY as the zip `go mod download` fetches (the
# committed bindings/go at HEAD, nothing else of the repository), required
# by a new module; then, from the module cache copy: go vet, the Example
# tests, and a program of the new module that imports it and runs.
#
#   sh tests/release/go_module_test.sh BUILD_DIR    (GO may name go)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
fail() { printf 'go_module_test: FAIL: %s\n' "$*" >&2; exit 1; }
[ -x "$go" ] || command -v "$go" >/dev/null 2>&1 || { echo "go_module_test: no Go toolchain: skipped" >&2; exit 77; }
version=v$(sed -n 's/^#define SDTLS_VERSION_STRING "\(.*\)"$/\1/p' "$root/abi/sdtls.h")
work=$(mktemp -d "${TMPDIR:-/tmp}/sdtls-go-module.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
pc=$(dirname "$(find "$work/prefix" -name sdtls.pc | head -n 1)")
lib=$(dirname "$(find "$work/prefix" -name 'libsdtls.so.1' | head -n 1)")

# The module proxy: list, info, go.mod and the zip (every path below
# sdtls.dev/sdtls@VERSION/), from bindings/go as committed.
m=$work/proxy/sdtls.dev/sdtls/@v
mkdir -p "$m" "$work/tree"
git -C "$root" archive HEAD:bindings/go | tar -x -C "$work/tree"
echo "$version" >"$m/list"
printf '{"Version":"%s","Time":"%s"}\n' "$version" "$(git -C "$root" log -1 --format=%cI HEAD)" >"$m/$version.info"
cp "$work/tree/go.mod" "$m/$version.mod"
python3 - "$work/tree" "$m/$version.zip" "sdtls.dev/sdtls@$version" <<'PY'
import os, sys, zipfile
tree, out, prefix = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, files in sorted(os.walk(tree)):
        for f in sorted(files):
            p = os.path.join(d, f)
            z.write(p, prefix + "/" + os.path.relpath(p, tree))
PY

mkdir -p "$work/app"
cat >"$work/app/main.go" <<'GO'
package main

import (
	"fmt"

	"sdtls.dev/sdtls"
)

func main() {
	fmt.Println("dtls1.2:", sdtls.HasFeature(sdtls.FeatureDTLS12))
}
GO
# A new module cache; the module's own requirements (pion, x/crypto) come
# from the machine's cache (in proxy layout), else from the public proxy.
# No checksum database: the local module is in none.
cache=$("$go" env GOMODCACHE)/cache/download
export GOMODCACHE="$work/modcache" GOPROXY="file://$work/proxy,file://$cache,https://proxy.golang.org" \
    GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local \
    PKG_CONFIG_PATH="$pc" LD_LIBRARY_PATH="$lib" CGO_ENABLED=1
cd "$work/app"
"$go" mod init example.com/app >/dev/null 2>&1
"$go" get "sdtls.dev/sdtls@$version" >"$work/get.log" 2>&1 || fail "go get: $(cat "$work/get.log")"
src=$GOMODCACHE/sdtls.dev/sdtls@$version
[ -f "$src/go.mod" ] || fail "not in the module cache"
out=$("$go" run .) || fail "go run"
[ "$out" = "dtls1.2: true" ] || fail "the program printed: $out"
"$go" vet sdtls.dev/sdtls || fail "go vet"
"$go" test -count=1 -run '^Example' sdtls.dev/sdtls || fail "the Example tests"
echo "go_module_test: sdtls.dev/sdtls $version from a module proxy and cache: vet, Examples and a program pass"

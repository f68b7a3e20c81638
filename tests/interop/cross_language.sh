#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Cross-language interop: real processes over UDP on 127.0.0.1, data both
# ways (the client sends, the server echoes, the client checks), one
# close_notify at the end:
#   Go client   (bindings/go/cmd/sdtls-echo-client) <-> Python server (python -m sdtls server)
#   Rust client (bindings/rust/sdtls/tests/interop_tool.rs) <-> C tool server (sdtls server --echo)
#   Go client   <-> Rust server (bindings/rust/sdtls/examples/echo_server.rs)
#
#   bash tests/interop/cross_language.sh BUILD_DIR
#
# Runs after the Go, Python and Rust stages of tests/run.sh and reuses what
# they leave in BUILD_DIR: release/ (the tool), release/go-stage (the Go
# staging install), python-venv (the installed wheel), rust (cargo's target
# directory). Servers listen on port 0 (a free port the kernel picks; the
# "listening" line says which); every process runs under `timeout`. A
# missing peer fails the script: nothing is skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: cross_language.sh BUILD_DIR}" && pwd)
go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
PATH=$PATH:${CARGO_HOME:-${HOME:-/root}/.cargo}/bin
n=${XLANG_LINES:-20}

fail() { echo "cross-language: FAIL: $*" >&2; exit 1; }

tool=$build/release/src/tool/sdtls
venv_py=$build/python-venv/bin/python
stage=$build/release/go-stage
[ -x "$tool" ] || fail "no C tool at $tool (build BUILD_DIR/release first)"
[ -x "$venv_py" ] && "$venv_py" -c 'import sdtls' ||
    fail "no venv with sdtls at $build/python-venv (run python/run-tests.sh $build first)"
[ -d "$stage" ] || fail "no Go staging install at $stage (run bindings/go/test.sh $build/release first)"
command -v "$go" >/dev/null || fail "no Go toolchain ($go; set GO)"
command -v cargo >/dev/null || fail "cargo not found"

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The Go client, built as bindings/go/test.sh builds (pkg-config over the
# staging install; its build cache makes this quick).
pc=$(find "$stage" -name sdtls.pc | head -n 1)
golib=$(dirname "$(find "$stage" -name 'libsdtls.so*' | head -n 1)")
[ -n "$pc" ] && [ -d "$golib" ] || fail "the Go staging install $stage is incomplete"
(cd "$root/bindings/go" &&
    PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$stage CGO_ENABLED=1 GOFLAGS=-mod=readonly \
        timeout 300 "$go" build -o "$work/sdtls-echo-client" ./cmd/sdtls-echo-client) ||
    fail "building the Go echo client"
go_client() { LD_LIBRARY_PATH=$golib timeout 60 "$work/sdtls-echo-client" "$@"; }

# Cargo with bindings/rust/test.sh's environment: the same target directory
# and inputs, so nothing is rebuilt.
rust() {
    local sub=$1
    shift
    SDTLS_LIB_DIR="$build/release/src" SDTLS_INCLUDE_DIR="$root/abi" \
    LD_LIBRARY_PATH="$build/release/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    SDTLS_TOOL="$tool" CARGO_TARGET_DIR="$build/rust" \
        timeout 600 cargo "$sub" --locked --manifest-path "$root/bindings/rust/Cargo.toml" "$@"
}
rust build -q -p sdtls --example echo_server --example client || fail "building the Rust examples"
rust_server=$build/rust/debug/examples/echo_server
rust_client=$build/rust/debug/examples/client
[ -x "$rust_server" ] && [ -x "$rust_client" ] || fail "no $rust_server or $rust_client after cargo build"

# One certificate for the servers, from the C tool (prints its fingerprint).
fp=$("$tool" cert --cert "$work/srv.pem" --key "$work/srv.key" --cn localhost) || fail "sdtls cert"
[[ $fp == sha-256\ * ]] || fail "sdtls cert printed '$fp', not a fingerprint"

# start_server NAME CMD...: starts a server (stderr to NAME.log), waits for
# its "listening HOST:PORT" line and sets ADDR to HOST:PORT.
start_server() {
    local name=$1
    shift
    timeout 120 "$@" </dev/null >"$work/$name.out" 2>"$work/$name.log" &
    pids+=($!)
    for _ in $(seq 300); do
        ADDR=$(sed -n 's/^listening //p' "$work/$name.log" | head -n 1)
        [ -n "$ADDR" ] && return 0
        kill -0 "$!" 2>/dev/null || break
        sleep 0.05
    done
    cat "$work/$name.log" >&2
    fail "$name did not start listening"
}

# expect_close NAME: the server logged the client's close_notify
# ("closed HOST:PORT" and nothing more) within 10 s.
expect_close() {
    for _ in $(seq 200); do
        grep -Eq '^closed 127\.0\.0\.1:[0-9]+$' "$work/$1.log" && return 0
        sleep 0.05
    done
    cat "$work/$1.log" >&2
    fail "$1 logged no clean close"
}

# pair LABEL SERVER_NAME GO_CLIENT_ARGS...: the Go client against ADDR.
go_pair() {
    local label=$1 name=$2
    shift 2
    go_client -n "$n" "$@" "$ADDR" 2>"$work/$name.client" || {
        cat "$work/$name.client" "$work/$name.log" >&2
        fail "$label"
    }
    grep -q "^echoed $n\$" "$work/$name.client" || fail "$label: no 'echoed $n'"
    grep -q '^accepted 127\.0\.0\.1:' "$work/$name.log" || fail "$label: the server accepted no peer"
    expect_close "$name"
    echo "cross-language: ok: $label ($n datagrams each way; $(sed -n 's/^connected //p' "$work/$name.client"))"
}

# 1. Go client <-> Python server (CA verification and the server name).
start_server python "$venv_py" -u -m sdtls server --listen 127.0.0.1:0 \
    --cert "$work/srv.pem" --key "$work/srv.key"
go_pair "Go client <-> Python server" python -ca "$work/srv.pem" -server-name localhost

# 2. Rust client <-> C tool server: the test interop_tool.rs already has
# (rust_client_against_the_tool_server), run against this build's tool.
rust test -q -p sdtls --test interop_tool -- --exact rust_client_against_the_tool_server \
    >"$work/rust-tool.log" 2>&1 || { cat "$work/rust-tool.log" >&2; fail "Rust client <-> C tool server"; }
grep -q '^test result: ok\. 1 passed' "$work/rust-tool.log" ||
    { cat "$work/rust-tool.log" >&2; fail "Rust client <-> C tool server: the test did not run"; }
echo "cross-language: ok: Rust client <-> C tool server (interop_tool.rs)"

# 2b. The Rust guide's example client (examples/client.rs, word for word the
# README's) runs as shown: ca.pem in its directory, against the tool.
start_server tool "$tool" server --listen 127.0.0.1:0 --echo --cert "$work/srv.pem" --key "$work/srv.key"
cp "$work/srv.pem" "$work/ca.pem"
(cd "$work" && LD_LIBRARY_PATH="$build/release/src" timeout 60 "$rust_client" "$ADDR") >"$work/rust-example.out" 2>&1 ||
    { cat "$work/rust-example.out" >&2; fail "the Rust guide's example client"; }
grep -qx hello "$work/rust-example.out" || { cat "$work/rust-example.out" >&2; fail "the Rust example printed no hello"; }
echo "cross-language: ok: the Rust guide's example client <-> C tool server"

# 3. Go client <-> Rust server (the certificate pinned by fingerprint).
start_server rust env LD_LIBRARY_PATH="$build/release/src" "$rust_server" --listen 127.0.0.1:0 --once --cert "$work/srv.pem" --key "$work/srv.key"
go_pair "Go client <-> Rust server" rust -fingerprint "$fp"
wait "${pids[-1]}" || fail "Go client <-> Rust server: echo_server --once exited with $?"

echo "cross-language: all 3 pairs passed"

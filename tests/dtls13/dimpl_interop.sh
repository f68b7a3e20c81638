#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DTLS 1.3 interop with dimpl (an independent sans-I/O DTLS 1.2/1.3 stack in
# Rust, built here with cargo as a test peer; dimpl-peer/), both directions,
# X25519 (dimpl has no ML-KEM), and DTLS 1.2 between the two. Also sdtls to
# sdtls with X25519MLKEM768 at MTU 1200 through the tool's sdtls_server.
# Skipped (77) with an engine that does not speak DTLS 1.3, or without cargo
# or dimpl's crates.
# Arguments: the sdtls tool, a scratch directory, cargo's target directory.
. "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TARGET=${3:?usage: $0 SDTLS_TOOL SCRATCH_DIR CARGO_TARGET_DIR}
setup "$@"

"$SDTLS" client --help >/dev/null 2>&1 || fail "no tool"
make_cert srv localhost
make_cert cli client
# dimpl takes DER and PKCS#8 DER keys.
for n in srv cli; do
    openssl x509 -in $n.pem -outform DER -out $n.der || fail "DER of $n.pem"
    openssl pkcs8 -topk8 -nocrypt -in $n.key -outform DER -out $n.key.der || fail "PKCS#8 of $n.key"
done

# Does this engine speak DTLS 1.3? (--max-version 1.3 is refused otherwise.)
if "$SDTLS" client 127.0.0.1:9 --insecure --max-version 1.3 --handshake-timeout 0.2 \
        </dev/null 2>probe.err; then :; fi
if grep -q 'max-version' probe.err; then
    echo "SKIP: the engine does not speak DTLS 1.3"
    exit 77
fi

command -v cargo >/dev/null || { echo "SKIP: no cargo"; exit 77; }
note "building dimpl-peer (cargo, offline first)"
if ! CARGO_TARGET_DIR=$TARGET cargo build -q --release --offline \
        --manifest-path "$HERE/dimpl-peer/Cargo.toml" >cargo.log 2>&1 &&
   ! CARGO_TARGET_DIR=$TARGET cargo build -q --release \
        --manifest-path "$HERE/dimpl-peer/Cargo.toml" >>cargo.log 2>&1; then
    tail -5 cargo.log
    echo "SKIP: dimpl-peer does not build (see cargo.log)"
    exit 77
fi
DIMPL=$TARGET/release/dimpl-peer
[ -x "$DIMPL" ] || fail "no $DIMPL"

printf 'one\ntwo\nthree\n' >lines.txt

# ---- sdtls client -> dimpl server, DTLS 1.3 (and with its HRR cookie) ----
for cookie in "" --cookie; do
    port=$(free_port)
    spawn DPID "$DIMPL" server --listen 127.0.0.1:$port --cert srv.der --key srv.key.der \
        --version 1.3 $cookie --timeout 20 >dimpl-srv.out 2>dimpl-srv.err
    wait_for dimpl-srv.err '^listening ' 10 || fail "dimpl server did not start"
    # dimpl's server asks for a client certificate (WebRTC's way).
    timeout 20 "$SDTLS" client 127.0.0.1:$port --ca srv.pem --server-name localhost \
        --cert cli.pem --key cli.key <lines.txt >c13.out 2>c13.err ||
        fail "sdtls client vs dimpl server $cookie: exit $?"
    assert_same_lines lines.txt c13.out
    grep -Eq '^connected DTLSv1\.3 TLS_[A-Z0-9_]+ X25519 peer sha-256 ' c13.err ||
        fail "connected line: $(cat c13.err)"
    wait_exit "$DPID" 10 || fail "dimpl server did not end"
    [ "$EXIT_STATUS" = 0 ] || fail "dimpl server exited $EXIT_STATUS"
    grep -q '^accepted DTLSv1\.3' dimpl-srv.err || fail "dimpl did not report DTLS 1.3"
    note "sdtls client -> dimpl server DTLS 1.3 ${cookie:-(no cookie)}: ok"
done

# ---- dimpl client -> sdtls server (cookies on), DTLS 1.3 ----
start_sdtls_server srv13 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
timeout 20 "$DIMPL" client 127.0.0.1:$SERVER_PORT --cert cli.der --key cli.key.der \
    --version 1.3 --send one --send two --send three >d13.out 2>d13.err ||
    fail "dimpl client vs sdtls server: exit $?"
grep -q '^connected DTLSv1\.3' d13.err || fail "dimpl client: $(cat d13.err)"
[ "$(grep -c '^one$\|^two$\|^three$' d13.out)" = 3 ] || fail "dimpl client got: $(cat d13.out)"
wait_for srv13.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.3 TLS_[A-Z0-9_]+ X25519( |$)' 5 ||
    fail "sdtls server accepted line: $(cat srv13.err)"
note "dimpl client -> sdtls server DTLS 1.3: ok"

# ---- DTLS 1.2 both ways (the server's HelloVerifyRequest and hand-over) ----
timeout 20 "$DIMPL" client 127.0.0.1:$SERVER_PORT --cert cli.der --key cli.key.der \
    --version 1.2 --send one --send two --send three >d12.out 2>d12.err ||
    fail "dimpl 1.2 client vs sdtls server: exit $?"
grep -q '^connected DTLSv1\.2' d12.err || fail "dimpl 1.2 client: $(cat d12.err)"
wait_for srv13.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 ' 5 ||
    fail "sdtls server accepted no DTLS 1.2 peer: $(cat srv13.err)"
port=$(free_port)
spawn DPID "$DIMPL" server --listen 127.0.0.1:$port --cert srv.der --key srv.key.der \
    --version 1.2 --timeout 20 >dimpl12.out 2>dimpl12.err
wait_for dimpl12.err '^listening ' 10 || fail "dimpl 1.2 server did not start"
timeout 20 "$SDTLS" client 127.0.0.1:$port --ca srv.pem --server-name localhost \
    --cert cli.pem --key cli.key --max-version 1.2 <lines.txt >c12.out 2>c12.err ||
    fail "sdtls 1.2 client vs dimpl: exit $?"
assert_same_lines lines.txt c12.out
grep -q '^connected DTLSv1\.2 ' c12.err || fail "connected line: $(cat c12.err)"
note "DTLS 1.2 both ways: ok"

# ---- sdtls to sdtls: X25519MLKEM768 at MTU 1200 through sdtls_server ----
# The engine's default groups lack the hybrid: both sides name it. The
# ClientHello spans two datagrams; the server reassembles it, answers within
# its amplification budget, and no datagram is dropped as malformed.
start_sdtls_server srvpq --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --groups X25519MLKEM768:X25519:P-256 --mtu 1200
timeout 20 "$SDTLS" client 127.0.0.1:$SERVER_PORT --ca srv.pem --server-name localhost \
    --groups X25519MLKEM768:X25519 --mtu 1200 <lines.txt >pq.out 2>pq.err ||
    fail "X25519MLKEM768 client: exit $?"
assert_same_lines lines.txt pq.out
grep -Eq '^connected DTLSv1\.3 TLS_[A-Z0-9_]+ X25519MLKEM768 peer sha-256 ' pq.err ||
    fail "connected line: $(cat pq.err)"
wait_for srvpq.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.3 TLS_[A-Z0-9_]+ X25519MLKEM768' 5 ||
    fail "server: $(cat srvpq.err)"
server_stats srvpq "$SERVER_PID"
[ "$(stat_of created)" -eq 1 ] && [ "$(stat_of dropped_malformed)" -eq 0 ] ||
    fail "server counters: $STATS"
note "sdtls X25519MLKEM768 via sdtls_server at MTU 1200: ok ($STATS)"
echo PASS

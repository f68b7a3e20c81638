#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --psk-identity/--psk: a PSK-only server (no certificate) with a hint, a
# client with the right key (ECDHE-PSK-CHACHA20-POLY1305, data both ways),
# a wrong key (records that do not authenticate are dropped, as DTLS does:
# the handshake runs out of time), an unknown identity (alert), and a server
# with a certificate and a PSK that serves both kinds of client.
. "$(dirname "$0")/lib.sh"
setup "$@"

KEY=000102030405060708090a0b0c0d0e0f
start_sdtls_server psk --listen 127.0.0.1:0 --psk-identity device-1 --psk "$KEY" \
    --psk-hint "sdtls test" --echo
grep -q '^listening ' psk.err || fail "PSK-only server did not start"

run_client() { # NAME ARGS...
    local name=$1
    shift
    printf 'psk-%s\n' "$name" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" "$@" \
        >"$name.out" 2>"$name.err"
    RC=$?
}
run_client good --psk-identity device-1 --psk "$(echo $KEY | tr a-f A-F)"
[ $RC -eq 0 ] || fail "PSK client exited $RC: $(cat good.err)"
[ "$(cat good.out)" = "psk-good" ] || fail "no echo: $(cat good.out)"
grep -Eqx 'connected DTLSv1\.2 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256( (X25519[A-Z0-9]*|P-[0-9]+))? psk device-1' good.err ||
    fail "client summary: $(cat good.err)"
wait_for psk.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256( (X25519[A-Z0-9]*|P-[0-9]+))? psk device-1$' 5 ||
    fail "server summary: $(cat psk.err)"

run_client wrongkey --psk-identity device-1 --psk 0f0e0d0c0b0a09080706050403020100 --handshake-timeout 1.5
[ $RC -eq 1 ] || fail "wrong key: exit $RC"
[ ! -s wrongkey.out ] || fail "wrong key: data came through"
grep -q '^sdtls: error: handshake with .* failed: timed out' wrongkey.err || fail "wrong key: $(cat wrongkey.err)"

run_client unknown --psk-identity device-2 --psk "$KEY"
[ $RC -eq 1 ] || fail "unknown identity: exit $RC"
grep -q 'unknown PSK identity' unknown.err || fail "unknown identity: $(cat unknown.err)"

# A certificate client cannot talk to a PSK-only server.
make_cert srv localhost
run_client cert --ca srv.pem --server-name localhost --handshake-timeout 5
[ $RC -eq 1 ] || fail "certificate client to a PSK-only server: exit $RC"
[ "$(grep -c '^accepted' psk.err)" -eq 1 ] || fail "the server accepted more than the good client"

# Certificate and PSK on one server: each client gets its kind.
kill "$SERVER_PID"
wait_exit "$SERVER_PID" 5 || fail "server did not stop"
start_sdtls_server both --listen 127.0.0.1:0 --cert srv.pem --key srv.key \
    --psk-identity device-1 --psk "$KEY" --echo
run_client both-psk --psk-identity device-1 --psk "$KEY"
[ $RC -eq 0 ] || fail "PSK client to a certificate+PSK server: $(cat both-psk.err)"
grep -q ' psk device-1$' both-psk.err || fail "summary: $(cat both-psk.err)"
run_client both-cert --ca srv.pem --server-name localhost
[ $RC -eq 0 ] || fail "certificate client to a certificate+PSK server: $(cat both-cert.err)"
grep -q '^connected DTLSv1\.2 TLS_ECDHE_ECDSA_.* peer sha-256 ' both-cert.err ||
    fail "summary: $(cat both-cert.err)"

# Usage.
expect_usage() {
    "$SDTLS" "$@" </dev/null >u.out 2>u.err
    local rc=$?
    [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2: $(cat u.err)"
}
expect_usage client 127.0.0.1:9 --psk "$KEY"
expect_usage client 127.0.0.1:9 --psk-identity x
expect_usage client 127.0.0.1:9 --psk-identity x --psk 0
expect_usage client 127.0.0.1:9 --psk-identity x --psk zz
expect_usage client 127.0.0.1:9 --psk-identity x --psk "$(printf '00%.0s' $(seq 65))"
expect_usage client 127.0.0.1:9 --psk-identity x --psk "$KEY" --insecure
expect_usage client 127.0.0.1:9 --psk-identity "$(printf 'x%.0s' $(seq 129))" --psk "$KEY"
expect_usage server --listen 127.0.0.1:0
expect_usage server --listen 127.0.0.1:0 --psk-identity x
expect_usage server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --psk-hint h
echo PASS

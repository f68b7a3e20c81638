#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --fingerprint pins the peer's certificate instead of the CA and name
# checks: a client pins the server, a server pins client certificates (and
# requires one). It takes "sha-256:AA:...", SDP's "sha-256 AA:..." and the
# bare "AA:..." that `sdtls cert`'s fingerprint ends in and sdtls.fingerprint()
# (Python) returns. A wrong fingerprint fails the handshake (exit 1) with a
# message naming the peer's fingerprint and the expected one.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv not-the-name-we-dial   # no CA and no name check could pass
make_cert cli client.example
make_cert other other.example
srv_fp=$(openssl_fp srv.pem)
cli_fp=$(openssl_fp cli.pem)
other_fp=$(openssl_fp other.pem)
[ "$(cat srv.fp)" = "sha-256 $srv_fp" ] || fail "sdtls cert printed $(cat srv.fp), openssl $srv_fp"

# ---- client pins the server ----
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
run_client() { # NAME ARGS...: 0 and the echo, or sets RC
    local name=$1
    shift
    echo "pinned-$name" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" "$@" \
        >"$name.out" 2>"$name.err"
    RC=$?
}
run_client colon --fingerprint "sha-256:$srv_fp"
[ $RC -eq 0 ] || fail "pinned client exited $RC: $(cat colon.err)"
[ "$(cat colon.out)" = "pinned-colon" ] || fail "no echo: $(cat colon.out)"
grep -q "^connected DTLSv1\.[23] .* peer sha-256 $srv_fp\$" colon.err || fail "summary: $(cat colon.err)"
# The bare form (the hash from its length) and sha-384 and sha-512.
run_client bare --fingerprint "$srv_fp"
[ $RC -eq 0 ] || fail "client with the bare fingerprint exited $RC: $(cat bare.err)"
srv_fp384=$(openssl x509 -in srv.pem -noout -fingerprint -sha384 | sed 's/^.*=//')
srv_fp512=$(openssl x509 -in srv.pem -noout -fingerprint -sha512 | sed 's/^.*=//')
run_client sha384 --fingerprint "sha-384 $srv_fp384"
[ $RC -eq 0 ] || fail "client pinning sha-384 exited $RC: $(cat sha384.err)"
run_client sha512 --fingerprint "$srv_fp512"
[ $RC -eq 0 ] || fail "client pinning a bare sha-512 exited $RC: $(cat sha512.err)"
last=00
[ "${srv_fp512: -2}" = 00 ] && last=FF
run_client wrong512 --fingerprint "sha-512 ${srv_fp512%??}$last"
[ $RC -eq 1 ] || fail "wrong sha-512 fingerprint: exit $RC"
grep -q "sha-512 $srv_fp512" wrong512.err || fail "message does not name the peer's sha-512: $(cat wrong512.err)"
# SDP's form, lower case, and one right among wrong ones.
lower=$(echo "$srv_fp" | tr A-F a-f)
run_client sdp --fingerprint "sha-256:$other_fp" --fingerprint "sha-256 $lower"
[ $RC -eq 0 ] || fail "client with the right fingerprint second exited $RC: $(cat sdp.err)"

# The bare form, upper and lower case.
run_client bare --fingerprint "$srv_fp"
[ $RC -eq 0 ] || fail "bare fingerprint: exit $RC: $(cat bare.err)"
grep -q "^connected DTLSv1\.[23] .* peer sha-256 $srv_fp\$" bare.err || fail "summary: $(cat bare.err)"
run_client barelower --fingerprint "$lower"
[ $RC -eq 0 ] || fail "bare lower-case fingerprint: exit $RC: $(cat barelower.err)"
# ... pins as the others do.
run_client barewrong --fingerprint "$other_fp"
[ $RC -eq 1 ] || fail "wrong bare fingerprint: exit $RC"
grep -q "$other_fp" barewrong.err || fail "message does not name the expected fingerprint: $(cat barewrong.err)"

run_client wrong --fingerprint "sha-256:$other_fp"
[ $RC -eq 1 ] || fail "wrong fingerprint: exit $RC"
[ ! -s wrong.out ] || fail "wrong fingerprint: data came through"
grep -q '^sdtls: error: handshake with 127\.0\.0\.1:[0-9]* failed: .*fingerprint' wrong.err ||
    fail "message: $(cat wrong.err)"
grep -q "$srv_fp" wrong.err || fail "message does not name the server's fingerprint: $(cat wrong.err)"
grep -q "$other_fp" wrong.err || fail "message does not name the expected fingerprint: $(cat wrong.err)"
[ "$(wc -l <wrong.err)" -eq 1 ] || fail "more than one line: $(cat wrong.err)"
# Without the pin the same server fails the CA check: the pin is what passed.
run_client unpinned --ca srv.pem --server-name localhost
[ $RC -eq 1 ] || fail "the CA and name check passed (exit $RC): the test proves nothing"

# ---- server pins client certificates ----
kill "$SERVER_PID"
wait_exit "$SERVER_PID" 5 || fail "server did not stop"
start_sdtls_server pinning --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --fingerprint "$cli_fp"
run_client good --fingerprint "sha-256:$srv_fp" --cert cli.pem --key cli.key
[ $RC -eq 0 ] || fail "client with the pinned certificate exited $RC: $(cat good.err)"
wait_for pinning.err "^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.[23] .* peer sha-256 $cli_fp\$" 5 ||
    fail "accepted line: $(cat pinning.err)"
run_client nocert --fingerprint "sha-256:$srv_fp"
[ $RC -eq 1 ] || fail "client without a certificate: exit $RC"
run_client othercert --fingerprint "sha-256:$srv_fp" --cert other.pem --key other.key
[ $RC -eq 1 ] || fail "client with another certificate: exit $RC"
wait_count pinning.err '^failed ' 2 5 || fail "server did not log two failures: $(cat pinning.err)"
grep '^failed ' pinning.err | grep -q "$other_fp.*$cli_fp\|$cli_fp.*$other_fp" ||
    fail "server's failed line does not name both fingerprints: $(grep '^failed' pinning.err)"
[ "$(grep -c '^accepted' pinning.err)" -eq 1 ] || fail "server accepted a client it should not have"

# Usage.
expect_usage() {
    "$SDTLS" "$@" </dev/null >u.out 2>u.err
    local rc=$?
    [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
}
expect_usage client 127.0.0.1:9 --fingerprint "sha-1 AA:BB"
grep -q 'sha-256' u.err || fail "sha-1: $(cat u.err)"
expect_usage client 127.0.0.1:9 --fingerprint "sha-256 $srv_fp:00"
expect_usage client 127.0.0.1:9 --fingerprint "AB:CD"
expect_usage client 127.0.0.1:9 --fingerprint "sha-256:AA:BB"
# A bare form that is not 32 pairs: the message quotes it as given.
expect_usage client 127.0.0.1:9 --fingerprint "${srv_fp%:*}"
grep -Fq "not '${srv_fp%:*}'" u.err || fail "bare, short: $(cat u.err)"
expect_usage client 127.0.0.1:9 --fingerprint "$srv_fp:00"
expect_usage server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --fingerprint "AB:CD"
expect_usage client 127.0.0.1:9 --fingerprint "sha-256:$srv_fp" --insecure
expect_usage client 127.0.0.1:9 --fingerprint "sha-256:$srv_fp" --ca srv.pem
expect_usage server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --fingerprint "sha-256:$cli_fp" \
    --ca cli.pem --require-client-cert
echo PASS

#!/bin/bash
# --require-client-cert with --ca: a client with a certificate the CA list
# holds is accepted (and its fingerprint logged); without one, or with
# another, the handshake fails on both sides. A client without one is told
# that the server requires one (DTLS 1.2: handshake_failure after a
# CertificateRequest; DTLS 1.3: certificate_required), a client with
# another one is not, nor is a client whose handshake fails for another
# reason.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
make_cert cli client.example
make_cert other client.example
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ca cli.pem --require-client-cert

echo "with cert" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name localhost --cert cli.pem --key cli.key >good.out 2>good.err ||
    fail "client with a certificate exited $?"
[ "$(cat good.out)" = "with cert" ] || fail "got: $(cat good.out)"
wait_for server.err "^accepted 127\.0\.0\.1:[0-9]+ .* peer sha-256 $(openssl_fp cli.pem)\$" 5 ||
    fail "accepted line without the client's fingerprint"

HINT='sdtls: the server requires a client certificate (--cert/--key)'
for name in none none12 other; do
    args=()
    [ $name = other ] && args=(--cert other.pem --key other.key)
    [ $name = none12 ] && args=(--max-version 1.2)
    echo "x" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost "${args[@]}" >$name.out 2>$name.err
    rc=$?
    [ $rc -eq 1 ] || fail "client ($name) exited $rc, expected 1"
    # DTLS 1.3: the client has finished its side when the server refuses its
    # certificate, so it is the connection that fails.
    grep -Eq '^sdtls: error: (handshake|connection) with .* failed' $name.err ||
        fail "($name) message: $(cat $name.err)"
    # Said once: not "fatal alert from the peer: peer sent fatal alert: ...".
    if grep -qi 'alert.*alert' $name.err; then fail "($name) said twice: $(cat $name.err)"; fi
    [ ! -s $name.out ] || fail "($name) got data"
    if [ $name = other ]; then
        grep -Fq "$HINT" $name.err && fail "($name) sent a certificate, told to send one"
    else
        grep -Fxq "$HINT" $name.err || fail "($name) not told why: $(cat $name.err)"
    fi
done
wait_for server.err '^failed .*' 5 || fail "server did not log the failures"
wait_count server.err '^failed ' 3 5 || fail "server did not log the three failures"
# Said once: not "peer certificate verification failed: certificate verify failed: ...".
if grep '^failed ' server.err | grep -qi 'verif.*verif'; then
    fail "a failed line says 'verif' twice: $(grep '^failed' server.err)"
fi
[ "$(grep -c '^accepted' server.err)" -eq 1 ] || fail "server accepted a client it should not have"
kill "$SERVER_PID"

# handshake_failure for another reason (no common group: no CertificateRequest
# was sent) is not blamed on the certificate.
start_sdtls_server groups --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ca cli.pem --require-client-cert --groups X25519
for v in 1.2 default; do
    args=()
    [ $v = 1.2 ] && args=(--max-version 1.2)
    echo "x" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost --groups P-384 "${args[@]}" >nogroup.out 2>nogroup.err
    rc=$?
    [ $rc -eq 1 ] || fail "no common group ($v): exit $rc: $(cat nogroup.err)"
    grep -q 'handshake failure (40)' nogroup.err || fail "no common group ($v): $(cat nogroup.err)"
    grep -Fq "$HINT" nogroup.err && fail "no common group ($v) blamed on the certificate"
done
echo PASS

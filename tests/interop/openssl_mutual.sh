#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Client certificates across implementations: `openssl s_client -cert` to an
# sdtls server that requires one, and an sdtls client with --cert to
# `openssl s_server -Verify`. Each side checks the other's certificate.
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl

make_cert srv localhost
make_cert cli client.example

# OpenSSL client -> sdtls server (--require-client-cert).
mkfifo ossl.in
exec 9<>ossl.in
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ca cli.pem --require-client-cert
spawn OSSL_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$SERVER_PORT" -servername localhost \
    -CAfile srv.pem -verify_return_error -cert cli.pem -key cli.key <ossl.in >ossl.out 2>ossl.err
wait_for server.err "^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 .* peer sha-256 $(openssl_fp cli.pem)\$" 15 ||
    fail "sdtls server did not accept s_client's certificate"
echo "mutual" >&9
wait_for ossl.out '^mutual$' 5 || fail "s_client did not get the echo"
exec 9>&-
wait_exit "$OSSL_PID" 10 || fail "s_client did not exit"

# sdtls client (--cert) -> OpenSSL server (-Verify 1: a client certificate is required).
mkfifo ss.in
exec 8<>ss.in
for attempt in 1 2 3; do
    port=$(free_port)
    rm -f ss.out
    spawn SS_PID openssl s_server -dtls1_2 -4 -accept "127.0.0.1:$port" -naccept 1 \
        -cert srv.pem -key srv.key -Verify 1 -CAfile cli.pem -verify_return_error \
        <ss.in >ss.out 2>ss.err
    wait_for ss.out '^ACCEPT' 5 && break
done
wait_for ss.out '^ACCEPT' 1 || fail "openssl s_server did not start"
(echo "client-authenticated"; sleep 1) | timeout 20 "$SDTLS" client "127.0.0.1:$port" --ca srv.pem \
    --server-name localhost --cert cli.pem --key cli.key --timeout 0.5 >client.out 2>client.err ||
    fail "sdtls client with a certificate exited $?"
wait_for ss.out 'client-authenticated' 5 || fail "s_server did not get the data"
grep -q 'subject=CN = client.example' ss.out || grep -q 'subject=/CN=client.example' ss.out ||
    fail "s_server did not see the client certificate"

# Without a certificate s_server refuses the sdtls client: exit 1 with a message.
wait_exit "$SS_PID" 10 || fail "s_server -naccept 1 did not exit"
spawn SS2_PID openssl s_server -dtls1_2 -4 -accept "127.0.0.1:$port" -naccept 1 \
    -cert srv.pem -key srv.key -Verify 1 -CAfile cli.pem -verify_return_error \
    <ss.in >ss2.out 2>ss2.err
wait_for ss2.out '^ACCEPT' 5 || fail "second s_server did not start"
echo x | timeout 20 "$SDTLS" client "127.0.0.1:$port" --ca srv.pem --server-name localhost \
    >nocert.out 2>nocert.err
rc=$?
[ $rc -eq 1 ] || fail "client without a certificate exited $rc"
grep -q '^sdtls: error: handshake with .* failed' nocert.err || fail "message: $(cat nocert.err)"
echo PASS

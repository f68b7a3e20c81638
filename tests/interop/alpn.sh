#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ALPN (RFC 7301) against OpenSSL: an sdtls client offering protocols to
# `openssl s_server -alpn` gets OpenSSL's pick (and no common protocol ends
# with no_application_protocol); `openssl s_client -alpn` gets the sdtls
# server's pick.
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl

make_cert srv localhost

# ---- sdtls client -> openssl s_server -alpn ----
start_openssl_server ossl -naccept 2 -cert srv.pem -key srv.key -alpn webrtc,coap
echo "alpn" | timeout 20 "$SDTLS" client "127.0.0.1:$OSSL_PORT" --ca srv.pem --server-name localhost \
    --alpn coap,h3 --timeout 0.5 >client.out 2>client.err
rc=$?
[ $rc -eq 0 ] || fail "sdtls client exited $rc: $(cat client.err)"
grep -Eq '^connected DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} alpn coap$' client.err ||
    fail "sdtls client summary: $(cat client.err)"
wait_for ossl.out '^ALPN protocols selected: coap$' 5 || fail "s_server: $(grep ALPN ossl.out)"
grep -q '^ALPN protocols advertised by the client: coap, h3$' ossl.out ||
    fail "s_server saw other protocols: $(grep ALPN ossl.out)"

echo "x" | timeout 20 "$SDTLS" client "127.0.0.1:$OSSL_PORT" --ca srv.pem --server-name localhost \
    --alpn h3 --timeout 0.5 >nomatch.out 2>nomatch.err
rc=$?
[ $rc -eq 1 ] || fail "no common protocol: exit $rc"
grep -q '^sdtls: error: handshake with .* failed: peer sent fatal alert: no application protocol' nomatch.err ||
    fail "message: $(cat nomatch.err)"

# ---- openssl s_client -alpn -> sdtls server ----
mkfifo sc.in
exec 9<>sc.in
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --alpn webrtc,coap
spawn SC_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$SERVER_PORT" -servername localhost \
    -CAfile srv.pem -verify_return_error -alpn coap,webrtc <sc.in >sc.out 2>sc.err
wait_for server.err '^accepted ' 15 || fail "sdtls server did not accept s_client"
grep -Eq '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? alpn webrtc$' server.err ||
    fail "sdtls server summary: $(cat server.err)"
wait_for sc.out '^ALPN protocol: webrtc$' 5 || fail "s_client: $(grep -i alpn sc.out)"
echo "over alpn" >&9
wait_for sc.out '^over alpn$' 5 || fail "no echo to s_client"
exec 9>&-
expect_exit "s_client" "$SC_PID"
echo PASS

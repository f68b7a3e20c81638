#!/bin/bash
# `openssl s_client -dtls1_2` -> sdtls server: the server's cookie exchange
# (HelloVerifyRequest, seen on the wire), OpenSSL verifies the sdtls server's
# certificate and name, data goes both ways, OpenSSL's close_notify
# ends the peer on the sdtls side.
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl

make_cert srv localhost
mkfifo server.in ossl.in
exec 8<>server.in 9<>ossl.in
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key
# Through a logging relay: the sdtls server must make a cookie exchange.
start_relay "$SERVER_PORT"

spawn OSSL_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$RELAY_PORT" -servername localhost \
    -CAfile srv.pem -verify_return_error -verify_hostname localhost \
    <ossl.in >ossl.out 2>ossl.err
wait_for server.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_' 15 ||
    fail "sdtls server did not accept s_client"
wait_for ossl.out 'Verify return code: 0 \(ok\)' 5 || fail "s_client did not verify the server"
grep -q 'Protocol *: DTLSv1.2' ossl.out || fail "s_client did not negotiate DTLSv1.2"

# OpenSSL -> sdtls (s_client sends each stdin line with its newline, which
# the server prints as an empty line after it).
# One line at a time: the peer sends whatever one read() of its stdin gave.
echo "from-openssl one" >&9
wait_for server.out '^from-openssl one$' 5 || fail "sdtls server did not receive the data"
echo "from-openssl two" >&9
wait_for server.out '^from-openssl two$' 5 || fail "sdtls server did not receive the second line"
printf 'from-openssl one\n\nfrom-openssl two\n\n' >expected.txt
assert_same_lines expected.txt server.out

# The handshake went through the cookie exchange (HelloVerifyRequest).
if grep -q 'no cookie exchange' server.err; then
    note "this engine has no cookie exchange; not checked"
else
    assert_cookie_exchange
fi

# sdtls -> OpenSSL.
echo "from-sdtls" >&8
wait_for ossl.out '^from-sdtls$' 5 || fail "s_client did not receive the server's data"

# s_client closes at the end of its input: the sdtls server logs the close.
exec 9>&-
wait_for server.err '^closed 127\.0\.0\.1:[0-9]+$' 10 || fail "server did not log the close"
wait_exit "$OSSL_PID" 10 || fail "s_client did not exit"
[ "$EXIT_STATUS" = 0 ] || fail "s_client exited $EXIT_STATUS"
echo PASS

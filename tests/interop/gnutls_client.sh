#!/bin/bash
# `gnutls-cli --udp` -> sdtls server: the server's cookie exchange
# (HelloVerifyRequest, seen on the wire), GnuTLS verifies the sdtls server's
# certificate and name, data goes both ways, GnuTLS's close ends the peer.
. "$(dirname "$0")/common.sh"
setup "$@"
require gnutls-cli

make_cert srv localhost
mkfifo server.in gnutls.in
exec 8<>server.in 9<>gnutls.in
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key
# Through a logging relay: the sdtls server must make a cookie exchange.
start_relay "$SERVER_PORT"

spawn GNUTLS_PID gnutls-cli --udp -p "$RELAY_PORT" --x509cafile srv.pem \
    --verify-hostname localhost --sni-hostname localhost 127.0.0.1 \
    <gnutls.in >gnutls.out 2>gnutls.err
wait_for server.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_' 15 ||
    fail "sdtls server did not accept gnutls-cli"
wait_for gnutls.out 'Handshake was completed' 5 || fail "gnutls-cli did not complete the handshake"
grep -q 'The certificate is trusted' gnutls.out || fail "gnutls-cli did not verify the server"

# GnuTLS -> sdtls (gnutls-cli sends each line with its newline).
# One line at a time: the peer sends whatever one read() of its stdin gave.
echo "from-gnutls one" >&9
wait_for server.out '^from-gnutls one$' 5 || fail "sdtls server did not receive the data"
echo "from-gnutls two" >&9
wait_for server.out '^from-gnutls two$' 5 || fail "sdtls server did not receive the second line"
printf 'from-gnutls one\n\nfrom-gnutls two\n\n' >expected.txt
assert_same_lines expected.txt server.out

# The handshake went through the cookie exchange (HelloVerifyRequest).
if grep -q 'no cookie exchange' server.err; then
    note "this engine has no cookie exchange; not checked"
else
    assert_cookie_exchange
fi

# sdtls -> GnuTLS.
echo "from-sdtls" >&8
wait_for gnutls.out '^from-sdtls$' 5 || fail "gnutls-cli did not receive the server's data"

# gnutls-cli ends at the end of its input, sending close_notify.
exec 9>&-
wait_for server.err '^closed 127\.0\.0\.1:[0-9]+$' 10 || fail "server did not log the close"
wait_exit "$GNUTLS_PID" 10 || fail "gnutls-cli did not exit"
[ "$EXIT_STATUS" = 0 ] || fail "gnutls-cli exited $EXIT_STATUS"
echo PASS

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sdtls client -> `openssl s_server -dtls1_2`, which answers the first
# ClientHello with a HelloVerifyRequest (checked in its -trace and on the
# wire through a relay). Data both ways, keying material equal on both sides,
# close_notify seen by OpenSSL.
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl python3

make_cert srv localhost
mkfifo ossl.in client.in
exec 8<>ossl.in 9<>client.in

for attempt in 1 2 3; do
    port=$(free_port)
    rm -f ossl.out
    spawn OSSL_PID openssl s_server -dtls1_2 -4 -accept "127.0.0.1:$port" -naccept 1 \
        -cert srv.pem -key srv.key -trace -keymatexport EXPERIMENTAL-sdtls -keymatexportlen 48 \
        <ossl.in >ossl.out 2>ossl.err
    wait_for ossl.out '^ACCEPT' 5 && break
    note "openssl s_server did not start on $port; retrying"
done
wait_for ossl.out '^ACCEPT' 1 || fail "openssl s_server did not start"
start_relay "$port"

spawn CLIENT_PID "$SDTLS" client "127.0.0.1:$RELAY_PORT" --ca srv.pem --server-name localhost \
    --export EXPERIMENTAL-sdtls:48 --timeout 1 <client.in >client.out 2>client.err
wait_for client.err '^connected DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+( [A-Za-z0-9_-]+)? peer sha-256 ' 15 ||
    fail "client did not connect"
grep -q "peer sha-256 $(openssl_fp srv.pem)\$" client.err || fail "wrong peer fingerprint"

# The cookie exchange, as OpenSSL traced it and as the wire shows it.
wait_for ossl.out 'Keying material:' 5 || fail "s_server did not finish the handshake"
grep -q 'HelloVerifyRequest' ossl.out || fail "s_server trace shows no HelloVerifyRequest"
[ "$(grep -c 'ClientHello, Length' ossl.out)" -ge 2 ] || fail "s_server did not get two ClientHellos"
assert_cookie_exchange

# RFC 5705 exporter: both sides derive the same bytes.
ours=$(sed -n 's/^EXPORT EXPERIMENTAL-sdtls \([0-9a-f]*\)$/\1/p' client.out)
theirs=$(sed -n 's/^ *Keying material: \([0-9A-F]*\)$/\1/p' ossl.out | tr A-F a-f)
[ ${#ours} -eq 96 ] || fail "client exported '$ours'"
[ "$ours" = "$theirs" ] || fail "keying material differs: sdtls $ours, openssl $theirs"

# sdtls -> OpenSSL (s_server writes what it receives to stdout as is).
echo "from-sdtls one" >&9
echo "from-sdtls two" >&9
wait_for ossl.out 'from-sdtls two' 5 || fail "s_server did not receive the data"
grep -q 'from-sdtls one' ossl.out || fail "s_server lost the first datagram"

# OpenSSL -> sdtls (s_server sends each stdin line with its newline).
echo "from-openssl" >&8
wait_for client.out '^from-openssl$' 5 || fail "client did not receive s_server's data"

# End of the client's input: close_notify reaches OpenSSL; exit 0.
exec 9>&-
expect_exit client "$CLIENT_PID"
wait_for ossl.out 'description=close notify' 5 || fail "s_server saw no close_notify"
echo PASS

#!/bin/bash
# sdtls client -> `gnutls-serv --udp --echo`, which makes a cookie exchange
# (HelloVerifyRequest, checked on the wire through a relay). Datagrams come
# back intact; both IPv4 and IPv6 (gnutls-serv listens on both).
. "$(dirname "$0")/common.sh"
setup "$@"
require gnutls-serv python3

make_cert srv localhost
for attempt in 1 2 3; do
    port=$(free_port)
    rm -f gnutls.out gnutls.err
    spawn GNUTLS_PID gnutls-serv --udp --echo --disable-client-cert -p "$port" \
        --x509certfile srv.pem --x509keyfile srv.key </dev/null >gnutls.out 2>gnutls.err
    wait_for gnutls.err 'listening on IPv4 .* port' 5 && break
    note "gnutls-serv did not start on $port; retrying"
    kill "$GNUTLS_PID" 2>/dev/null
done
wait_for gnutls.err 'listening on IPv4' 1 || fail "gnutls-serv did not start"
start_relay "$port"

{
    echo "first datagram"
    echo "second, with spaces and symbols: <>&;|*"
    # gnutls-serv echoes in pieces of at most 128 bytes: keep lines shorter.
    head -c 120 /dev/zero | tr '\0' 'z'; echo
    echo "last"
} >expected.txt

timeout 20 "$SDTLS" client "127.0.0.1:$RELAY_PORT" --ca srv.pem --server-name localhost \
    <expected.txt >client.out 2>client.err
rc=$?
[ $rc -eq 0 ] || fail "client exited $rc"
grep -Eq '^connected DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+ peer sha-256 ' client.err ||
    fail "connected line: $(cat client.err)"
assert_same_lines expected.txt client.out
assert_cookie_exchange
grep -Eq '^c2s epoch=1 .* alert' relay.log || fail "relay: no close_notify from the client"

# IPv6, straight to gnutls-serv.
if grep -q 'listening on IPv6' gnutls.err; then
    printf 'over ipv6\n' | timeout 20 "$SDTLS" client "[::1]:$port" --ca srv.pem \
        --server-name localhost >v6.out 2>v6.err || fail "IPv6 client exited $?"
    [ "$(cat v6.out)" = "over ipv6" ] || fail "IPv6 client got: $(cat v6.out)"
fi
echo PASS

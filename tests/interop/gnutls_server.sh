#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
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

# gnutls-serv echoes in pieces of at most 128 bytes: keep lines shorter.
sample_lines 120 >expected.txt
echo_client client "127.0.0.1:$RELAY_PORT" expected.txt
grep -Eq '^connected DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+( [A-Za-z0-9_-]+)? peer sha-256 ' client.err ||
    fail "connected line: $(cat client.err)"
assert_cookie_exchange
grep -Eq '^c2s epoch=1 .* alert' relay.log || fail "relay: no close_notify from the client"

# IPv6, straight to gnutls-serv.
if grep -q 'listening on IPv6' gnutls.err; then
    echo "over ipv6" >v6.txt
    echo_client v6 "[::1]:$port" v6.txt
fi
echo PASS

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --alpn on both roles: the server picks its first protocol that the client
# offers and both summary lines name it; no common protocol ends the
# handshake with no_application_protocol (exit 1); a client that offers
# none is accepted.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --alpn webrtc,coap

run_client() { # NAME ARGS...
    local name=$1
    shift
    echo "alpn-$name" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost "$@" >"$name.out" 2>"$name.err"
    RC=$?
}
run_client pick --alpn coap,webrtc
[ $RC -eq 0 ] || fail "client exited $RC: $(cat pick.err)"
grep -Eq '^connected DTLSv1\.[23] .* alpn webrtc$' pick.err || fail "client summary: $(cat pick.err)"
wait_for server.err '^accepted 127\.0\.0\.1:[0-9]+ .* alpn webrtc$' 5 || fail "server summary: $(cat server.err)"

run_client only-coap --alpn coap
[ $RC -eq 0 ] || fail "client exited $RC"
grep -Eq ' alpn coap$' only-coap.err || fail "summary: $(cat only-coap.err)"

run_client none
[ $RC -eq 0 ] || fail "client without ALPN exited $RC"
grep -q ' alpn ' none.err && fail "an ALPN without an offer: $(cat none.err)"

run_client nomatch --alpn h3,http/1.1
[ $RC -eq 1 ] || fail "no common protocol: exit $RC"
grep -q '^sdtls: error: handshake with .* failed: .*no application protocol' nomatch.err ||
    fail "client message: $(cat nomatch.err)"
wait_for server.err '^failed 127\.0\.0\.1:[0-9]+ .*(no.application.protocol|NO_APPLICATION_PROTOCOL)' 5 ||
    fail "server line: $(cat server.err)"

"$SDTLS" client 127.0.0.1:9 --insecure --alpn 'a,,b' </dev/null >u.out 2>u.err
[ $? -eq 2 ] || fail "empty protocol name: not a usage error"
echo PASS

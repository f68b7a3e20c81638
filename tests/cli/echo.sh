#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Client and server over loopback (IPv4 or IPv6: $3 = 4 or 6): handshake with
# verification against the server's own certificate, several datagrams
# through an echoing server, intact and in order; the status lines; a clean
# close on both sides and exit 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
family=${3:-4}
setup "$1" "$2"
case $family in
    4) listen=127.0.0.1:0; host=127.0.0.1 ;;
    6) listen='[::1]:0'; host='[::1]'
       python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' \
           2>/dev/null || { echo "FAIL: no IPv6 loopback (::1)"; exit 1; } ;;
    *) fail "family must be 4 or 6" ;;
esac

make_cert srv localhost
start_sdtls_server server --listen "$listen" --cert srv.pem --key srv.key --echo
grep -Eq "^listening ${host//[/\\[}:$SERVER_PORT\$" server.err || fail "listening line: $(cat server.err)"

sample_lines 1000 >expected.txt
echo_client client "$host:$SERVER_PORT" expected.txt

# "connected DTLSv1.2 <IANA cipher> [<group>] peer sha-256 <server fingerprint>"
fp=$(openssl_fp srv.pem)
grep -Eq "^connected DTLSv1\.[23] TLS_[A-Z0-9_]+( [A-Za-z0-9_-]+)? peer sha-256 $fp\$" client.err ||
    fail "connected line: $(cat client.err)"

# The server reported the peer, then its close_notify.
wait_for server.err "^closed ${host//[/\\[}:[0-9]+\$" 5 || fail "server did not report the close"
grep -Eq "^accepted ${host//[/\\[}:[0-9]+ DTLSv1\.[23] TLS_[A-Z0-9_]+" server.err ||
    fail "accepted line: $(cat server.err)"
[ "$(grep -c '^accepted' server.err)" -eq 1 ] || fail "more than one peer accepted"
[ ! -s server.out ] || fail "echo server wrote to stdout"

# A second client on the same server (the first left no state behind).
echo again >again.txt
echo_client client2 "$host:$SERVER_PORT" again.txt

# SIGTERM: clean exit 0.
kill -TERM "$SERVER_PID"
expect_exit server "$SERVER_PID" 5
echo PASS

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# One server, two clients at once: both handshakes complete while the other
# connection is open, and each client gets back exactly its own datagrams.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo

slow_lines() { # PREFIX: 8 lines over ~1.6 s
    for i in $(seq 8); do echo "$1-line-$i"; sleep 0.2; done
}
for c in a b; do
    for i in $(seq 8); do echo "$c-line-$i"; done >"expected-$c.txt"
done
spawn PID_A bash -c "$(declare -f slow_lines); slow_lines a | \"\$0\" client 127.0.0.1:$SERVER_PORT --ca srv.pem --server-name localhost >a.out 2>a.err" "$SDTLS"
spawn PID_B bash -c "$(declare -f slow_lines); slow_lines b | \"\$0\" client 127.0.0.1:$SERVER_PORT --ca srv.pem --server-name localhost >b.out 2>b.err" "$SDTLS"
expect_exit "client a" "$PID_A" 20
expect_exit "client b" "$PID_B" 20
assert_same_lines expected-a.txt a.out
assert_same_lines expected-b.txt b.out

# Two peers with distinct ports, both accepted before either closed.
wait_for server.err '^closed .*' 5 || fail "no close logged"
[ "$(grep -c '^accepted' server.err)" -eq 2 ] || fail "expected 2 accepted peers"
ports=$(sed -n 's/^accepted 127\.0\.0\.1:\([0-9]*\) .*/\1/p' server.err | sort -u | wc -l)
[ "$ports" -eq 2 ] || fail "the two peers share a port"
first_close=$(grep -n '^closed' server.err | head -n1 | cut -d: -f1)
last_accept=$(grep -n '^accepted' server.err | tail -n1 | cut -d: -f1)
[ "$last_accept" -lt "$first_close" ] || fail "the connections did not overlap"
echo PASS

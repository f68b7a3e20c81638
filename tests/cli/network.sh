#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The client against the network:
# - no server on the port: the ICMP port unreachable (ECONNREFUSED on the
#   client's connected socket) ends the handshake at once, exit 1, "connection
#   refused" (IPv4 and IPv6), instead of waiting for the handshake timeout;
# - a peer that never answers: --handshake-timeout bounds the wait (exit 1,
#   "timed out");
# - a server whose first datagrams from the client are lost: the client
#   retransmits and connects;
# - a server that dies without close_notify: the client's next datagram is
#   refused and it ends (exit 1, "connection ... failed: connection refused").
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost

# ---- no server: refused at once (the default handshake timeout is 30 s) ----
for target in 127.0.0.1 '[::1]'; do
    port=$(free_port)
    [ -n "$port" ] || fail "no free port"
    start=$(date +%s%N)
    echo x | timeout 20 "$SDTLS" client "$target:$port" --ca srv.pem --server-name localhost \
        >refused.out 2>refused.err
    rc=$?
    elapsed=$(ms_since "$start")
    [ $rc -eq 1 ] || fail "client to $target:$port without a server exited $rc, expected 1"
    grep -Fxq "sdtls: error: handshake with $target:$port failed: connection refused" \
        refused.err || fail "no server ($target): message: $(cat refused.err)"
    [ "$elapsed" -lt 5000 ] || fail "no server ($target): gave up after $elapsed ms"
    [ ! -s refused.out ] || fail "no server ($target): wrote data"
done

# ---- a peer that never answers: --handshake-timeout bounds the wait ----
start_udp_peer silent silent
expect_handshake_timeout "client to a silent peer" silent 1400 6000 "127.0.0.1:$PEER_PORT" \
    --ca srv.pem --server-name localhost --handshake-timeout 1.5
# The ClientHello and at least one retransmission reached it.
wait_count silent.log '^got ' 2 2 || fail "silent peer got: $(cat silent.log)"
kill "$PEER_PID"

# ---- lost first flights: the client retransmits and connects ----
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
start_udp_peer relay relay "$SERVER_PORT" 1.2
echo "after a loss" >lossy.txt
echo_client lossy "127.0.0.1:$PEER_PORT" lossy.txt
grep -q '^dropped ' relay.log || fail "the relay dropped nothing: $(cat relay.log)"
grep -q '^s2c ' relay.log || fail "the relay carried nothing back: $(cat relay.log)"

# ---- the server dies (SIGKILL: no close_notify) under a connected client ----
mkfifo client.in
exec 9<>client.in
spawn CLIENT_PID "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    <client.in >alive.out 2>alive.err
wait_for alive.err '^connected ' 10 || fail "client did not connect"
echo "first" >&9
wait_for alive.out '^first$' 5 || fail "no echo before the kill"
kill -KILL "$(child_pid "$SERVER_PID")" || fail "cannot kill the server"
wait_exit "$SERVER_PID" 5 || fail "server still running"
echo "into the void" >&9
wait_exit "$CLIENT_PID" 5 || fail "client did not end after its datagram was refused"
[ "$EXIT_STATUS" -eq 1 ] || fail "client exited $EXIT_STATUS, expected 1"
grep -Fxq "sdtls: error: connection with 127.0.0.1:$SERVER_PORT failed: connection refused" \
    alive.err || fail "dead server: message: $(cat alive.err)"
exec 9>&-
echo PASS

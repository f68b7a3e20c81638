#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The server's limits and cookies: --max-peers refuses a client beyond the
# limit (after its cookie exchange) and lets one in again when a peer
# leaves; --idle-timeout evicts a silent peer (and not one that talks);
# --no-cookies still serves, without a cookie exchange. The server's lines
# and counters (SIGUSR1) show each.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
# DTLS 1.2 (also with a current engine): the cookie exchange counted here
# is the HelloVerifyRequest.
client_args=(--ca srv.pem --server-name localhost --max-version 1.2)

# ---- --max-peers 2 ----
start_sdtls_server full --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --max-peers 2
mkfifo a.in b.in
exec 8<>a.in 9<>b.in # the two first clients stay connected while these are open
spawn A_PID "$SDTLS" client "127.0.0.1:$SERVER_PORT" "${client_args[@]}" <a.in >a.out 2>a.err
wait_for a.err '^connected ' 10 || fail "client a did not connect"
spawn B_PID "$SDTLS" client "127.0.0.1:$SERVER_PORT" "${client_args[@]}" <b.in >b.out 2>b.err
wait_for b.err '^connected ' 10 || fail "client b did not connect"
wait_count full.err '^accepted ' 2 5 || fail "server did not log two peers"
port_a=$(sed -n 's/^accepted 127\.0\.0\.1:\([0-9]*\) .*/\1/p' full.err | head -n1)

# A third is refused: its handshake times out (exit 1) and the server says why.
expect_handshake_timeout "third client" c 1800 8000 "127.0.0.1:$SERVER_PORT" "${client_args[@]}" \
    --handshake-timeout 2
[ ! -s c.out ] || fail "third client got data"
grep -Eq '^dropped 127\.0\.0\.1:[0-9]+ limit$' full.err || fail "no dropped line"
[ "$(grep -c '^accepted ' full.err)" -eq 2 ] || fail "server accepted a third peer"
server_stats full "$SERVER_PID"
[ "$(stat_of created)" -eq 2 ] && [ "$(stat_of peers)" -eq 2 ] || fail "peers: $STATS"
[ "$(stat_of dropped_limit)" -ge 1 ] || fail "no drop counted: $STATS"
if cookies_expected full; then
    # The refused client got its cookie; its ClientHello with it was dropped.
    [ "$(stat_of cookies_sent)" -ge 3 ] || fail "cookies: $STATS"
fi

# The two peers still work; when one leaves, a new client gets its place.
echo "still here" >&9
wait_for b.out '^still here$' 5 || fail "client b lost its connection"
exec 8>&-
expect_exit "client a" "$A_PID"
wait_for full.err "^closed 127\\.0\\.0\\.1:$port_a\$" 5 || fail "server did not log a's close"
echo "in again" >d.txt
echo_client d "127.0.0.1:$SERVER_PORT" d.txt --handshake-timeout 5
exec 9>&-
expect_exit "client b" "$B_PID"
kill -TERM "$SERVER_PID"
expect_exit server "$SERVER_PID" 5
# At exit it prints its counters once more.
STATS=$(grep '^stats ' full.err | tail -n1)
[ "$(stat_of created)" -eq 3 ] && [ "$(stat_of closed)" -eq 3 ] || fail "at exit: $STATS"

# ---- --idle-timeout 1 ----
start_sdtls_server idle --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --idle-timeout 1
mkfifo silent.in
exec 8<>silent.in
spawn SILENT_PID "$SDTLS" client "127.0.0.1:$SERVER_PORT" "${client_args[@]}" \
    <silent.in >silent.out 2>silent.err
wait_for silent.err '^connected ' 10 || fail "silent client did not connect"
echo "one line, then silence" >&8
wait_for silent.out '^one line, then silence$' 5 || fail "no echo"
start=$(date +%s%N)
silent_port=$(sed -n 's/^accepted 127\.0\.0\.1:\([0-9]*\) .*/\1/p' idle.err | head -n1)
# A client that sends a line every 0.4 s for 2.4 s is never idle for 1 s.
spawn TALK_PID bash -c 'for i in 1 2 3 4 5 6; do echo "talk $i"; sleep 0.4; done |
    "$0" client "127.0.0.1:$1" --ca srv.pem --server-name localhost' "$SDTLS" "$SERVER_PORT" \
    >talk.out 2>talk.err
wait_for idle.err "^evicted 127\\.0\\.0\\.1:$silent_port idle\$" 5 ||
    fail "silent peer not evicted"
elapsed=$(ms_since "$start")
[ "$elapsed" -ge 800 ] || fail "evicted after $elapsed ms of silence (--idle-timeout 1)"
# The eviction sent close_notify: the client ends by itself, exit 0.
expect_exit "evicted client" "$SILENT_PID" 5
grep -q '^closed by peer' silent.err || fail "evicted client: $(cat silent.err)"
exec 8>&-
expect_exit "talking client" "$TALK_PID"
for i in 1 2 3 4 5 6; do echo "talk $i"; done >talk.txt
assert_same_lines talk.txt talk.out
wait_count idle.err '^closed 127\.0\.0\.1:[0-9]+$' 1 5 || fail "talking client's close not logged"
[ "$(grep -c '^evicted ' idle.err)" -eq 1 ] || fail "more than one peer evicted"
server_stats idle "$SERVER_PID"
[ "$(stat_of evicted)" -eq 1 ] && [ "$(stat_of closed)" -eq 1 ] || fail "idle: $STATS"

# ---- --no-cookies (and --idle-timeout 0: never) ----
start_sdtls_server nocookies --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --no-cookies --idle-timeout 0
grep -q 'no cookie exchange' nocookies.err && fail "--no-cookies printed the engine warning"
echo "no cookie" >nc.txt
echo_client nc "127.0.0.1:$SERVER_PORT" nc.txt
wait_for nocookies.err '^closed 127\.0\.0\.1:[0-9]+$' 5 || fail "close not logged"
server_stats nocookies "$SERVER_PID"
[ "$(stat_of cookies_sent)" -eq 0 ] || fail "--no-cookies sent cookies: $STATS"
[ "$(stat_of created)" -eq 1 ] || fail "no-cookies: $STATS"
echo PASS

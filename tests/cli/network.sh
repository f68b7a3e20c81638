#!/bin/bash
# The client against the network: a server that comes up late (the client's
# first flights meet ECONNREFUSED and are retransmitted), and no server at
# all (the handshake times out: exit 1 with a message).
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost

# No server: --handshake-timeout bounds the wait.
port=$(free_port)
[ -n "$port" ] || fail "no free port"
start=$(date +%s%N)
echo x | timeout 20 "$SDTLS" client "127.0.0.1:$port" --ca srv.pem --server-name localhost \
    --handshake-timeout 1.5 >none.out 2>none.err
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 1 ] || fail "client without a server exited $rc, expected 1"
grep -q '^sdtls: error: handshake with 127\.0\.0\.1:[0-9]* failed: timed out' none.err ||
    fail "message: $(cat none.err)"
[ "$elapsed_ms" -ge 1400 ] && [ "$elapsed_ms" -lt 6000 ] || fail "gave up after ${elapsed_ms} ms"

# Late server: the client starts first; the server binds its port a second
# later (retried on another port if someone else took it meanwhile).
for attempt in 1 2 3; do
    port=$(free_port)
    rm -f late.out late.err server.err
    mkfifo client.in 2>/dev/null
    exec 9<>client.in
    spawn CLIENT_PID "$SDTLS" client "127.0.0.1:$port" --ca srv.pem --server-name localhost \
        --handshake-timeout 15 <client.in >late.out 2>late.err
    sleep 1
    spawn SERVER_PID "$SDTLS" server --listen "127.0.0.1:$port" --cert srv.pem --key srv.key \
        --echo </dev/null >server.out 2>server.err
    if wait_for server.err '^listening' 5; then
        break
    fi
    note "port $port taken; retrying"
    kill "$CLIENT_PID"
    exec 9>&-
done
wait_for late.err '^connected ' 15 || fail "client did not connect to the late server"
echo "late hello" >&9
exec 9>&-
expect_exit client "$CLIENT_PID"
[ "$(cat late.out)" = "late hello" ] || fail "got: $(cat late.out)"
echo PASS

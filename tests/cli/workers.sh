#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sdtls server --workers N: N threads, each with its own socket on the port
# (SO_REUSEPORT) and its own peers, sharing the configuration, the ticket
# secret and one cookie secret. Many clients at once all echo, and the
# stats line sums the workers; a ClientHello whose cookie came from
# another worker passes; a session resumes whichever worker a client
# reaches; SIGHUP rotates for every worker; N > 1 without --echo is a usage
# error.
. "$(dirname "$0")/lib.sh"
setup "$@"
N=${WORKERS_CLIENTS:-40}

make_cert srv localhost
umask 077
head -c 48 /dev/urandom >ticket.key

# Stdin lines go to "the latest peer", which one worker cannot know of
# another: more than one worker needs --echo.
for args in "--workers 2" "--workers auto" "--workers 0" "--workers 1025" "--workers x"; do
    "$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key srv.key $args </dev/null \
        >u.out 2>u.err
    [ $? -eq 2 ] || fail "'$args' without --echo: exit $?, expected 2: $(cat u.err)"
done

start_sdtls_server w2 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --workers 2 \
    --ticket-secret-file ticket.key
W2_PID=$SERVER_PID W2_PORT=$SERVER_PORT
# Two sockets on the port, one per worker thread.
sockets=$(awk -v p="$(printf ':%04X' "$W2_PORT")" '$2 ~ p"$"' /proc/net/udp | wc -l)
[ "$sockets" -eq 2 ] || fail "$sockets sockets on port $W2_PORT, expected 2"

# N clients at once (each keeps its stdin open until the gate closes).
mkfifo gate
exec 7<>gate
pids=()
for i in $(seq "$N"); do
    printf 'client %s line 1\nclient %s line 2\n' "$i" "$i" >"in$i.txt"
    spawn CLIENT_PID bash -c '{ exec 3<gate; cat "$1"; cat <&3 >/dev/null; } |
        "$0" client "127.0.0.1:$2" --ca srv.pem --server-name localhost --timeout 1' \
        "$SDTLS" "in$i.txt" "$W2_PORT" >"c$i.out" 2>"c$i.err"
    pids+=("$CLIENT_PID")
done
wait_count w2.err '^accepted ' "$N" 40 || fail "only $(grep -c '^accepted ' w2.err) of $N accepted"
for i in $(seq "$N"); do
    wait_count "c$i.out" . 2 10 || fail "client $i: its echoes did not come back"
done
server_stats w2 "$W2_PID"
[ "$(stat_of peers)" -eq "$N" ] && [ "$(stat_of created)" -eq "$N" ] ||
    fail "the stats line does not sum the workers: $STATS"
exec 7>&-
for i in $(seq "$N"); do
    expect_exit "client $i" "${pids[i - 1]}" 20
    assert_same_lines "in$i.txt" "c$i.out"
done
wait_count w2.err '^closed 127\.0\.0\.1:[0-9]+$' "$N" 10 || fail "not every close logged"
# Every line whole (workers write at once): nothing but known lines.
bad=$(grep -Ev '^(listening|accepted|closed|stats) ' w2.err | head -n 3)
[ -z "$bad" ] || fail "unexpected lines: $bad"

# A session made through one worker resumes from many addresses (the
# kernel spreads them over both workers).
echo first | timeout 20 "$SDTLS" client "127.0.0.1:$W2_PORT" --ca srv.pem \
    --server-name localhost --session first.sess >first.out 2>first.err || fail "first: $(cat first.err)"
for i in $(seq 12); do
    cp first.sess "r$i.sess"
    echo "r$i" | timeout 20 "$SDTLS" client "127.0.0.1:$W2_PORT" --ca srv.pem \
        --server-name localhost --session "r$i.sess" >"r$i.out" 2>"r$i.err" ||
        fail "resume $i: $(cat "r$i.err")"
    grep -q '^connected .* resumed$' "r$i.err" || fail "resume $i: $(cat "r$i.err")"
done

# SIGHUP with workers: one rotation line, and the rotated secret in use.
kill -HUP "$(child_pid "$W2_PID")"
wait_for w2.err '^rotated ticket-secret$' 5 || fail "no rotation: $(cat w2.err)"

# SIGTERM: the workers close their peers, one summed stats line, exit 0.
before=$(grep -c '^stats ' w2.err)
kill "$W2_PID"
expect_exit "server" "$W2_PID" 10
[ "$(grep -c '^stats ' w2.err)" -eq $((before + 1)) ] || fail "no final stats line"
grep '^stats ' w2.err | tail -n1 | grep -q " created=$((N + 13)) " ||
    fail "final stats: $(grep '^stats ' w2.err | tail -n1)"

# A ClientHello with the cookie of the other worker passes. A ClientHello
# of a real client (DTLS 1.2, so that cookies are made) is captured on its
# way to a one-worker server, then replayed from many addresses while the
# script's own SO_REUSEPORT socket in the group is closed between the
# HelloVerifyRequests and the cookie-bearing ClientHellos.
start_sdtls_server one --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
if cookies_expected one; then
    start_udp_peer capture relay "$SERVER_PORT" 0
    echo x | timeout 20 "$SDTLS" client "127.0.0.1:$PEER_PORT" --ca srv.pem --server-name localhost \
        --max-version 1.2 >cap.out 2>cap.err || fail "capture client: $(cat cap.err)"
    hello=$(sed -n 's/^c2s [0-9]* //p' capture.log | head -n1)
    [ -n "$hello" ] || fail "no ClientHello captured"
    spawn MOVER_PID python3 "$(dirname "$UDP_PEER")/reuseport_cookie.py" mover.port ready \
        "$hello" 16
    wait_for mover.port '^[0-9]+$' 10 || fail "reuseport_cookie.py did not start"
    start_sdtls_server moved --listen "127.0.0.1:$(cat mover.port)" --cert srv.pem --key srv.key \
        --echo --workers 2
    touch ready
    wait_exit "$MOVER_PID" 30 || fail "reuseport_cookie.py did not end"
    [ "$EXIT_STATUS" -eq 0 ] || fail "a cookie of one worker failed on the other (exit $EXIT_STATUS)"
    server_stats moved "$SERVER_PID"
    [ "$(stat_of cookies_rejected)" -eq 0 ] || fail "cookies rejected: $STATS"
    [ "$(stat_of created)" -eq 16 ] || fail "created: $STATS"
else
    note "this engine makes no cookie exchange: the shared cookie secret is not tested"
fi
echo PASS

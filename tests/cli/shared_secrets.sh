#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Servers that share secret files work as one (a fleet behind a load
# balancer): a cookie from server A is accepted by server B with the same
# --cookie-secret-file (and refused by one with another), a session made on
# A resumes on B with the same --ticket-secret-file; SIGHUP rotates both
# secrets to the files' new contents: a session still resumes after one
# rotation, not after two, and a file gone bad keeps the current secret and
# the server serving.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
umask 077
head -c 32 /dev/urandom >cookie.key
head -c 32 /dev/urandom >other-cookie.key
head -c 48 /dev/urandom >ticket.key

start_server() { # NAME ARGS...: sets PORT_<NAME> and PID_<NAME>
    local name=$1
    shift
    start_sdtls_server "$name" --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo "$@"
    printf -v "PORT_$name" '%s' "$SERVER_PORT"
    printf -v "PID_$name" '%s' "$SERVER_PID"
}
# client NAME PORT [ARGS...]: one echo over DTLS 1.2 (which always makes the
# cookie exchange: a DTLS 1.3 server skips it while it is not busy).
client() {
    local name=$1 port=$2
    shift 2
    echo "hello $name" | timeout 20 "$SDTLS" client "127.0.0.1:$port" --ca srv.pem \
        --server-name localhost --max-version 1.2 "$@" >"$name.out" 2>"$name.err" ||
        fail "client $name exited $?: $(cat "$name.err")"
    [ "$(cat "$name.out")" = "hello $name" ] || fail "client $name: no echo"
}
# resumes NAME PORT SESSION_FILE: whether a client offering (a copy of)
# SESSION_FILE resumes.
resumes() {
    cp "$3" "$1.sess"
    client "$1" "$2" --session "$1.sess"
    grep -q '^connected .* resumed$' "$1.err"
}

start_server A --cookie-secret-file cookie.key --ticket-secret-file ticket.key
start_server B --cookie-secret-file cookie.key --ticket-secret-file ticket.key
start_server C --cookie-secret-file other-cookie.key

# A's cookie on B: the relay sends the ClientHello with A's cookie to B.
if cookies_expected A; then
    start_udp_peer ab switch "$PORT_A" "$PORT_B"
    client via-ab "$PEER_PORT"
    grep -q '^c2s B ' ab.log || fail "the relay never switched to B: $(cat ab.log)"
    server_stats A "$PID_A"
    [ "$(stat_of cookies_sent)" -ge 1 ] && [ "$(stat_of created)" -eq 0 ] || fail "A: $STATS"
    server_stats B "$PID_B"
    [ "$(stat_of cookies_sent)" -eq 0 ] && [ "$(stat_of cookies_rejected)" -eq 0 ] &&
        [ "$(stat_of created)" -eq 1 ] || fail "B did not take A's cookie: $STATS"
    # C, with another secret, refuses it (and makes its own exchange).
    start_udp_peer ac switch "$PORT_A" "$PORT_C"
    client via-ac "$PEER_PORT"
    server_stats C "$PID_C"
    [ "$(stat_of cookies_rejected)" -ge 1 ] || fail "C took a cookie of another secret: $STATS"
else
    note "this engine makes no cookie exchange: the shared cookie is not tested"
fi

# A session made on A resumes on B (one ticket secret); not on C.
client first "$PORT_A" --session first.sess
grep -q '^connected .* full$' first.err || fail "first: $(cat first.err)"
resumes on-b "$PORT_B" first.sess || fail "A's session did not resume on B: $(cat on-b.err)"
resumes on-c "$PORT_C" first.sess && fail "A's session resumed on C (another ticket secret)"

# SIGHUP: the new secrets are installed; the replaced ticket secret is still
# accepted, the one before it is not.
hup() { # NAME PID WHAT: SIGHUP, then wait for one more "rotated WHAT" line
    local before
    before=$(grep -c "^rotated $3\$" "$1.err")
    kill -HUP "$(child_pid "$2")" || fail "$1: cannot signal the server"
    wait_count "$1.err" "^rotated $3\$" $((before + 1)) 5 || fail "$1: no 'rotated $3': $(cat "$1.err")"
}
head -c 48 /dev/urandom >ticket.key
head -c 32 /dev/urandom >cookie.key
hup A "$PID_A" ticket-secret
grep -q '^rotated cookie-secret$' A.err || fail "A: no 'rotated cookie-secret'"
hup B "$PID_B" cookie-secret
resumes after-one "$PORT_A" first.sess || fail "no resumption after one rotation: $(cat after-one.err)"
cp after-one.sess second.sess # a session under the second secret
head -c 48 /dev/urandom >ticket.key
hup A "$PID_A" ticket-secret
resumes after-two "$PORT_A" first.sess &&
    fail "a session of two rotations ago resumed: $(cat after-two.err)"
resumes second-after-one "$PORT_A" second.sess || fail "second.sess: $(cat second-after-one.err)"

# The rotated cookie secret is still shared: A's new cookies pass on B.
if cookies_expected A; then
    server_stats B "$PID_B"
    sent=$(stat_of cookies_sent) created=$(stat_of created)
    start_udp_peer ab2 switch "$PORT_A" "$PORT_B"
    client via-ab2 "$PEER_PORT"
    server_stats B "$PID_B"
    [ "$(stat_of cookies_sent)" -eq "$sent" ] && [ "$(stat_of cookies_rejected)" -eq 0 ] &&
        [ "$(stat_of created)" -eq $((created + 1)) ] ||
        fail "B refused A's cookie after both rotated: $STATS"
fi

# A file gone bad: one error line each, no rotation, the server serves on
# with the secrets it had (a session of the current secret resumes).
client third "$PORT_A" --session third.sess
rotations=$(grep -c '^rotated ' A.err)
head -c 8 /dev/urandom >ticket.key
rm cookie.key
kill -HUP "$(child_pid "$PID_A")"
wait_for A.err 'ticket.key: a ticket secret file holds 32 to 64 bytes, not 8' 5 ||
    fail "A: no error for the short ticket secret: $(cat A.err)"
wait_for A.err 'cookie.key: cannot read the cookie secret file' 5 ||
    fail "A: no error for the missing cookie secret: $(cat A.err)"
[ "$(grep -c '^rotated ' A.err)" -eq "$rotations" ] || fail "A rotated to a bad file"
resumes after-bad "$PORT_A" third.sess || fail "after a bad reload: $(cat after-bad.err)"

# Bad files at start are refused (exit 1, named); with --no-cookies, a
# usage error.
head -c 15 /dev/urandom >short-cookie.key
"$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key srv.key \
    --cookie-secret-file short-cookie.key </dev/null >bad.out 2>bad.err
[ $? -eq 1 ] || fail "short cookie secret: exit $?"
grep -q 'short-cookie.key: a cookie secret file holds 16 to 64 bytes, not 15' bad.err ||
    fail "short cookie secret: $(cat bad.err)"
"$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --no-cookies \
    --cookie-secret-file other-cookie.key </dev/null >nc.out 2>nc.err
[ $? -eq 2 ] || fail "--no-cookies with --cookie-secret-file: exit $?"
echo PASS

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A stdin line longer than the tool's 64 KiB line buffer is refused whole
# (a message on stderr; no piece of it is sent) and the lines after it still
# go out: client -> server, server -> client, and a long last line without a
# newline at the end of input.
. "$(dirname "$0")/lib.sh"
setup "$@"

# long_line BYTES TAIL: BYTES 'x' then TAIL (no newline); a split at 64 KiB
# would send a datagram holding TAIL.
long_line() {
    head -c "$1" /dev/zero | tr '\0' 'x'
    printf '%s' "$2"
}

make_cert srv localhost
mkfifo server.in client.in
exec 8<>server.in 9<>client.in
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key
spawn CLIENT_PID "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    --timeout 1 <client.in >client.out 2>client.err
wait_for client.err '^connected ' 10 || fail "client did not connect"
wait_for server.err '^accepted ' 5 || fail "server did not log the peer"

# Client -> server: 65536 + 9 bytes, between two short lines.
{ echo "before"; long_line 65536 "CLIENTTAIL"; echo; echo "after"; } >&9
wait_for server.out '^after$' 10 || fail "server did not get the line after the long one"
printf 'before\nafter\n' >expected-server.txt
assert_same_lines expected-server.txt server.out
grep -q '^sdtls: error: line of 65546 bytes not sent' client.err ||
    fail "client did not refuse the long line: $(cat client.err)"

# Server -> client.
{ long_line 70000 "SERVERTAIL"; echo; echo "from server"; } >&8
wait_for client.out '^from server$' 10 || fail "client did not get the line after the long one"
echo "from server" >expected-client.txt
assert_same_lines expected-client.txt client.out
grep -q '^line of 70010 bytes not sent' server.err ||
    fail "server did not refuse the long line: $(cat server.err)"

# A long last line without a newline, then the end of the client's input.
long_line 100000 "LASTTAIL" >&9
exec 9>&-
expect_exit client "$CLIENT_PID"
[ "$(grep -c '^sdtls: error: line of [0-9]* bytes not sent' client.err)" -eq 2 ] ||
    fail "client did not refuse the last line: $(cat client.err)"
grep -q '^sdtls: error: line of 100008 bytes not sent' client.err ||
    fail "wrong length for the last line: $(cat client.err)"
wait_for server.err '^closed 127\.0\.0\.1:' 5 || fail "server did not log the close"
assert_same_lines expected-server.txt server.out
echo PASS

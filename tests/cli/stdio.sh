#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A server without --echo: received datagrams go to its stdout, its stdin
# lines go to the peer; the client keeps running while its stdin is open.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
mkfifo server.in client.in
exec 8<>server.in 9<>client.in   # hold both fifos open (writers)
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key

spawn CLIENT_PID "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    --timeout 3 <client.in >client.out 2>client.err
wait_for client.err '^connected ' 10 || fail "client did not connect"
wait_for server.err '^accepted ' 5 || fail "server did not log the peer"

echo "to-server one" >&9
echo "to-server two" >&9
wait_for server.out '^to-server two$' 5 || fail "server did not print the client's data"
printf 'to-server one\nto-server two\n' >expected-server.txt
assert_same_lines expected-server.txt server.out

echo "to-client" >&8
wait_for client.out '^to-client$' 5 || fail "client did not print the server's data"

# End of the client's stdin: it waits up to --timeout for replies (none
# come: 1 received < 2 sent), then closes.
start=$(date +%s%N)
exec 9>&-
expect_exit client "$CLIENT_PID"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -ge 2500 ] || fail "client left after ${elapsed_ms} ms, before --timeout 3"
[ "$(cat client.out)" = to-client ] || fail "client output: $(cat client.out)"
wait_for server.err '^closed 127\.0\.0\.1:' 5 || fail "server did not log the close"

# No peer now: a line is not sent, and the server says so.
echo "nobody" >&8
wait_for server.err 'no connected peer' 5 || fail "no message for a line without a peer"
echo PASS

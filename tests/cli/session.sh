#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --session FILE: the first run makes a full handshake and saves the session
# (mode 0600); the next resumes it (both summary lines say so); a file that
# holds no session means a full handshake with a warning. --ticket-secret-file
# lets a restarted server resume the sessions of the one before; another
# secret cannot.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
head -c 48 /dev/urandom >ticket.key
head -c 48 /dev/urandom >other.key
start_sdtls_server s1 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ticket-secret-file ticket.key

run_client() { # NAME
    echo "session-$1" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost --session sess.bin >"$1.out" 2>"$1.err" ||
        fail "client $1 exited $?: $(cat "$1.err")"
    [ "$(cat "$1.out")" = "session-$1" ] || fail "client $1: no echo"
}
expect_summary() { # NAME full|resumed
    grep -Eq "^connected DTLSv1\\.[23] [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} $2\$" "$1.err" ||
        fail "client $1: expected '$2': $(cat "$1.err")"
}

run_client first
expect_summary first full
[ -s sess.bin ] || fail "no session saved"
[ "$(stat -c %a sess.bin)" = 600 ] || fail "session file mode $(stat -c %a sess.bin)"
run_client second
expect_summary second resumed
wait_count s1.err '^accepted ' 2 5 || fail "server did not accept twice"
[ "$(grep '^accepted ' s1.err | sed -n 1p | grep -c ' resumed$')" -eq 0 ] || fail "server: first resumed"
grep '^accepted ' s1.err | sed -n 2p | grep -q ' resumed$' || fail "server: second not resumed: $(cat s1.err)"
# Resumed handshakes keep a session to save.
run_client third
expect_summary third resumed

# Not a session: a warning and a full handshake; the file is replaced.
echo "not a session" >sess.bin
run_client junk
grep -q "^warning: sess.bin holds no session" junk.err || fail "no warning: $(cat junk.err)"
expect_summary junk full
run_client after-junk
expect_summary after-junk resumed

# A restarted server with the same ticket secret resumes; with another it cannot.
kill "$SERVER_PID"
wait_exit "$SERVER_PID" 5 || fail "server did not stop"
start_sdtls_server s2 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ticket-secret-file ticket.key
run_client restarted
expect_summary restarted resumed
kill "$SERVER_PID"
wait_exit "$SERVER_PID" 5 || fail "server did not stop"
start_sdtls_server s3 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ticket-secret-file other.key
run_client other-secret
expect_summary other-secret full

# Without --session there is no full/resumed word.
echo x | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    >plain.out 2>plain.err || fail "plain client exited $?"
grep -Eq ' (full|resumed)$' plain.err && fail "plain client: $(cat plain.err)"

# A ticket secret file of the wrong size is refused (exit 1, named).
head -c 16 /dev/urandom >short.key
"$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --ticket-secret-file short.key \
    </dev/null >bad.out 2>bad.err
[ $? -eq 1 ] || fail "short ticket secret: exit $?"
grep -q 'short.key' bad.err || fail "short ticket secret: $(cat bad.err)"
echo PASS

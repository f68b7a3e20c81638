#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A session must not get around fingerprint pinning. A client that pins a
# fingerprint and offers a session made with a server whose certificate has
# another one must not connect: the library does not offer that session (a
# full handshake, which the pin then fails). It once resumed, and the client
# connected to a server whose certificate matched none of its pins.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
make_cert other other.example
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
run_client() { # NAME FINGERPRINT
    echo "pin-$1" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --fingerprint "$2" \
        --session sess.bin >"$1.out" 2>"$1.err"
    RC=$?
}
run_client first "$(cat srv.fp)"
[ $RC -eq 0 ] || fail "first client exited $RC: $(cat first.err)"
grep -q ' full$' first.err || fail "first: $(cat first.err)"
# The same pin: resuming is fine.
run_client same "$(cat srv.fp)"
[ $RC -eq 0 ] || fail "client with the same pin exited $RC: $(cat same.err)"
grep -q ' resumed$' same.err || fail "same pin did not resume: $(cat same.err)"
# Another pin: the server's certificate does not match it; no connection.
run_client other "$(cat other.fp)"
[ $RC -eq 1 ] || fail "a client pinning $(cat other.fp) connected (exit $RC) to the server of $(cat srv.fp) by resuming a session: $(cat other.err)"
[ ! -s other.out ] || fail "data went through: $(cat other.out)"
grep -q 'fingerprint' other.err || fail "message: $(cat other.err)"
echo PASS

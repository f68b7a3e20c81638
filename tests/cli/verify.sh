#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Verification failures end the client with exit 1 and a message naming the
# failure; nothing reaches stdout and the server logs the failed handshake.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
make_cert other localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo

expect_verify_failure() { # NAME ARGS...
    local name=$1
    shift
    echo "secret" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" "$@" \
        >"$name.out" 2>"$name.err"
    local rc=$?
    [ $rc -eq 1 ] || fail "$name: exited $rc, expected 1"
    grep -q '^sdtls: error: handshake with 127.0.0.1:[0-9]* failed: .*verif' "$name.err" ||
        fail "$name: message: $(cat "$name.err")"
    grep -q '^connected' "$name.err" && fail "$name: reported connected"
    [ ! -s "$name.out" ] || fail "$name: wrote data"
}

# Wrong name: the certificate is for localhost.
expect_verify_failure wrongname --ca srv.pem --server-name not-localhost.example
grep -qi 'hostname\|name' wrongname.err || fail "wrong name: the detail does not mention the name"
# The address is not in the certificate either (server name defaults to HOST).
expect_verify_failure defaultname --ca srv.pem
# Wrong CA: another certificate for the same name.
expect_verify_failure wrongca --ca other.pem --server-name localhost
# Trust that does not hold the server's certificate (the system bundle, if any).
# Without --ca the system bundle (Debian's ca-certificates) is the trust store.
[ -r /etc/ssl/certs/ca-certificates.crt ] || fail "no system CA bundle (ca-certificates)"
expect_verify_failure systemca --server-name localhost

# The server saw three (or four) failed handshakes and accepted none.
wait_for server.err '^failed ' 5 || fail "server did not log the failures"
grep -q '^accepted' server.err && fail "server accepted a peer"
# Each failure is said once: "failed <peer> peer sent fatal alert: bad
# certificate (42)", not "fatal alert from the peer: peer sent fatal alert: ...".
wait_for server.err '^failed 127\.0\.0\.1:[0-9]+ [^:]*alert: bad certificate \(42\)$' 5 ||
    fail "no failed line for the alert: $(grep '^failed' server.err)"
if grep '^failed ' server.err | grep -qi 'alert.*alert'; then
    fail "a failed line says 'alert' twice: $(grep '^failed' server.err)"
fi
for name in wrongname defaultname wrongca systemca; do
    if grep -qi 'verif.*verif' $name.err; then
        fail "$name: the client says 'verif' twice: $(cat $name.err)"
    fi
done

# With the right CA and name it works (so the failures above were real).
echo ok | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    >good.out 2>good.err || fail "good client exited $?"
[ "$(cat good.out)" = ok ] || fail "good client got: $(cat good.out)"
# --insecure skips verification.
echo ok | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --insecure >ins.out 2>ins.err ||
    fail "insecure client exited $?"
[ "$(cat ins.out)" = ok ] || fail "insecure client got: $(cat ins.out)"
echo PASS

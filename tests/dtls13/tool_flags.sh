#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The tool's --groups and --max-version (client and server) and the group in
# its connected/accepted lines, on whichever engine it was built with.
. "$(dirname "$0")/../cli/lib.sh"
setup "$@"
make_cert srv localhost

# Usage errors (exit 2) and refused values (exit 1, naming the option).
"$SDTLS" client 127.0.0.1:9 --max-version 1.4 </dev/null >/dev/null 2>u.err
[ $? -eq 2 ] || fail "--max-version 1.4 was not a usage error"
grep -q -- '--max-version must be 1.2 or 1.3' u.err || fail "message: $(cat u.err)"
"$SDTLS" client 127.0.0.1:9 --insecure --groups NoSuchGroup </dev/null >/dev/null 2>g.err
[ $? -eq 1 ] || fail "an unknown group was not refused"
grep -q -- '--groups' g.err || fail "message: $(cat g.err)"

has13=1
"$SDTLS" client 127.0.0.1:9 --insecure --max-version 1.3 --handshake-timeout 0.2 \
    </dev/null >/dev/null 2>v.err
grep -q -- '--max-version' v.err && has13=0

# DTLS 1.2 on every engine, with the group asked for on both sides.
start_sdtls_server s12 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --groups P-256
echo hi | timeout 20 "$SDTLS" client 127.0.0.1:$SERVER_PORT --ca srv.pem --server-name localhost \
    --max-version 1.2 --groups P-256:X25519 >c12.out 2>c12.err || fail "1.2 client exited $?"
grep -Eq '^connected DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+ P-256 peer sha-256 ' c12.err ||
    fail "connected line: $(cat c12.err)"
wait_for s12.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_[A-Z0-9_]+ P-256$' 5 ||
    fail "accepted line: $(cat s12.err)"
kill "$SERVER_PID"

if [ $has13 = 1 ]; then
    start_sdtls_server s13 --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
        --max-version 1.3 --groups X25519MLKEM768:X25519
    echo hi | timeout 20 "$SDTLS" client 127.0.0.1:$SERVER_PORT --ca srv.pem \
        --server-name localhost --groups X25519MLKEM768 >c13.out 2>c13.err ||
        fail "1.3 client exited $?"
    grep -Eq '^connected DTLSv1\.3 TLS_[A-Z0-9_]+ X25519MLKEM768 peer sha-256 ' c13.err ||
        fail "connected line: $(cat c13.err)"
    # A server capped at 1.2 talks 1.2 to the same client.
    kill "$SERVER_PID"
    start_sdtls_server s13b --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --max-version 1.2
    echo hi | timeout 20 "$SDTLS" client 127.0.0.1:$SERVER_PORT --ca srv.pem \
        --server-name localhost >c13b.out 2>c13b.err || fail "client vs 1.2 server exited $?"
    grep -Eq '^connected DTLSv1\.2 .* X25519 peer sha-256 ' c13b.err || fail "$(cat c13b.err)"
    note "DTLS 1.3 engine: --max-version and --groups work"
else
    note "engine without DTLS 1.3: --max-version 1.3 refused ($(head -n1 v.err))"
fi
echo PASS

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DTLS 1.2 between sdtls built with Debian's engine (DTLS 1.2 only) and sdtls
# built with a current one (DTLS 1.3): each side's server with the other's
# client, the cookie exchange on (tests/run.sh runs it in its second-engine
# stage, with both tools built).
# Arguments: the Debian engine's tool, the current engine's tool, a scratch dir.
. "$(dirname "$0")/../cli/lib.sh"
OLD=$(realpath "${1:?usage: $0 OLD_TOOL NEW_TOOL SCRATCH_DIR}")
NEW=$(realpath "${2:?usage: $0 OLD_TOOL NEW_TOOL SCRATCH_DIR}")
setup "$NEW" "${3:?usage: $0 OLD_TOOL NEW_TOOL SCRATCH_DIR}"
[ -x "$OLD" ] || fail "not executable: $OLD"
make_cert srv localhost
printf 'one\ntwo\nthree\n' >lines.txt

pair() { # SERVER_TOOL CLIENT_TOOL NAME
    SDTLS=$1 start_sdtls_server "$3-srv" --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
    timeout 20 "$2" client 127.0.0.1:$SERVER_PORT --ca srv.pem --server-name localhost \
        <lines.txt >"$3.out" 2>"$3.err" || fail "$3: client exited $?"
    assert_same_lines lines.txt "$3.out"
    grep -Eq '^connected DTLSv1\.2 TLS_ECDHE_' "$3.err" || fail "$3: $(cat "$3.err")"
    wait_for "$3-srv.err" '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 ' 5 || fail "$3 server: $(cat "$3-srv.err")"
    grep -q 'no cookie exchange' "$3-srv.err" && fail "$3: the server made no cookie exchange"
    kill "$SERVER_PID"
    note "$3: DTLS 1.2 with the cookie exchange"
}
pair "$OLD" "$NEW" debian-server-current-client
pair "$NEW" "$OLD" current-server-debian-client
echo PASS

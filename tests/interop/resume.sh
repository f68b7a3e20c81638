#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Session resumption (RFC 5077 tickets) against OpenSSL, both ways:
#   sdtls client --session FILE -> openssl s_server: the second run resumes
#     (our summary says "resumed", s_server says "Reused session-id" and sent
#     its certificate only once)
#   openssl s_client -sess_out / -sess_in -> sdtls server: the second
#     connection is "Reused" for OpenSSL and "resumed" for the sdtls server
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl

make_cert srv localhost

# ---- sdtls client -> openssl s_server ----
start_openssl_server ossl -naccept 2 -cert srv.pem -key srv.key -trace
for run in first second; do
    echo "$run" | timeout 20 "$SDTLS" client "127.0.0.1:$OSSL_PORT" --ca srv.pem \
        --server-name localhost --session sess.bin --timeout 0.5 >$run.out 2>$run.err ||
        fail "sdtls client ($run) exited $?: $(cat $run.err)"
    wait_for ossl.out "^$run" 5 || fail "s_server did not receive '$run'"
done
[ "$(stat -c %a sess.bin)" = 600 ] || fail "session file mode $(stat -c %a sess.bin)"
grep -Eq '^connected DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} full$' first.err ||
    fail "first run: $(cat first.err)"
grep -Eq '^connected DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} resumed$' second.err ||
    fail "second run: $(cat second.err)"
[ "$(grep -c '^Reused session-id' ossl.out)" -eq 1 ] || fail "s_server did not report one reused session"
[ "$(grep -c '^ *NewSessionTicket, Length' ossl.out)" -ge 1 ] || fail "s_server issued no ticket"
[ "$(grep -c '^ *Certificate, Length' ossl.out)" -eq 1 ] ||
    fail "s_server sent its certificate $(grep -c '^ *Certificate, Length' ossl.out) times in two handshakes"

# ---- openssl s_client -sess_out / -sess_in -> sdtls server ----
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
for run in out in; do
    (echo "sess-$run"; sleep 1) | timeout 20 openssl s_client -dtls1_2 \
        -connect "127.0.0.1:$SERVER_PORT" -servername localhost -CAfile srv.pem \
        -verify_return_error -sess_$run ossl.sess >sc-$run.out 2>sc-$run.err
    grep -q "^sess-$run\$" sc-$run.out || fail "s_client ($run) got no echo: $(cat sc-$run.err)"
done
grep -q '^New, TLSv1.2, Cipher is' sc-out.out || fail "first s_client: $(grep -E '^(New|Reused)' sc-out.out)"
grep -q '^Reused, TLSv1.2, Cipher is' sc-in.out || fail "second s_client: $(grep -E '^(New|Reused)' sc-in.out)"
wait_count server.err '^accepted ' 2 5 || fail "server did not accept twice"
grep '^accepted ' server.err | sed -n 1p | grep -q ' resumed$' && fail "server: the first resumed"
grep '^accepted ' server.err | sed -n 2p | grep -q ' resumed$' || fail "server: second not resumed: $(cat server.err)"
echo PASS

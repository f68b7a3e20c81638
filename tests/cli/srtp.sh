#!/bin/bash
# --srtp on both roles: the summary lines name the negotiated profile (the
# server's preference among those the client offers), --export on both
# sides prints the same EXTRACTOR-dtls_srtp keying material for one
# connection, no common profile is a handshake without SRTP that the client
# warns about (a failure, exit 1, with --require-srtp), an unknown profile
# name is a usage error.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --srtp SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 --export EXTRACTOR-dtls_srtp:60

client() { # client NAME PROFILES
    echo "rtp-$1" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost --srtp "$2" --export EXTRACTOR-dtls_srtp:60 \
        >"$1.out" 2>"$1.err" || fail "client $1 exited $?"
    [ "$(sed -n 2p "$1.out")" = "rtp-$1" ] || fail "client $1: no echo"
}

# The client's order does not matter: the server picks its first.
client gcm SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM
grep -q 'warning' gcm.err && fail "a warning with a profile negotiated: $(cat gcm.err)"
grep -Eq '^connected DTLSv1\.[23] [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} srtp SRTP_AEAD_AES_128_GCM$' gcm.err ||
    fail "client summary: $(cat gcm.err)"
wait_for server.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.[23] [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? srtp SRTP_AEAD_AES_128_GCM$' 5 ||
    fail "server summary: $(cat server.err)"
ours=$(sed -n 's/^EXPORT EXTRACTOR-dtls_srtp \([0-9a-f]\{120\}\)$/\1/p' gcm.out)
[ -n "$ours" ] || fail "client export: $(cat gcm.out)"
wait_for server.out "^EXPORT EXTRACTOR-dtls_srtp $ours\$" 5 ||
    fail "server exported other keying material: $(cat server.out), client $ours"

client cm SRTP_AES128_CM_SHA1_80
grep -Eq ' srtp SRTP_AES128_CM_SHA1_80$' cm.err || fail "client summary: $(cat cm.err)"
wait_count server.out '^EXPORT EXTRACTOR-dtls_srtp [0-9a-f]{120}$' 2 5 || fail "no second server export"
cm=$(sed -n 's/^EXPORT EXTRACTOR-dtls_srtp //p' cm.out)
grep -qx "EXPORT EXTRACTOR-dtls_srtp $cm" server.out || fail "second connection: exports differ"
[ "$cm" != "$ours" ] || fail "two connections, one key"

# No common profile: use_srtp is an extension, the handshake goes on without it.
client none SRTP_AEAD_AES_256_GCM
grep -q ' srtp ' none.err && fail "a profile was negotiated: $(cat none.err)"
grep -q '^connected ' none.err || fail "no connection: $(cat none.err)"
grep -Fxq 'warning: the server chose no SRTP profile (offered SRTP_AEAD_AES_256_GCM): no SRTP keys' \
    none.err || fail "no warning that SRTP was not negotiated: $(cat none.err)"
wait_count server.err '^accepted ' 3 5 || fail "server did not accept the third client"
grep '^accepted ' server.err | tail -n1 | grep -q ' srtp ' && fail "server line names a profile"

# --require-srtp: the same is a failure; nothing is sent, no keys exported.
echo "rtp-required" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name localhost --srtp SRTP_AEAD_AES_256_GCM --require-srtp \
    --export EXTRACTOR-dtls_srtp:60 >required.out 2>required.err
rc=$?
[ $rc -eq 1 ] || fail "--require-srtp without a profile exited $rc, expected 1: $(cat required.err)"
grep -Fxq 'sdtls: error: the server chose no SRTP profile (offered SRTP_AEAD_AES_256_GCM)' \
    required.err || fail "--require-srtp message: $(cat required.err)"
[ ! -s required.out ] || fail "--require-srtp: data or keys on stdout: $(cat required.out)"
# It said close_notify: the server's line for it is "closed", not a failure.
wait_count server.err '^accepted ' 4 5 || fail "server did not accept the fourth client"
wait_for server.err "^closed $(sed -n 's/^accepted \(127[0-9.:]*\) .*/\1/p' server.err | tail -n1)\$" 5 ||
    fail "the client did not close: $(cat server.err)"
# ... and a profile negotiated passes it.
echo "rtp-ok" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name localhost --srtp SRTP_AES128_CM_SHA1_80 --require-srtp >ok.out 2>ok.err ||
    fail "--require-srtp with a profile negotiated exited $?: $(cat ok.err)"
[ "$(cat ok.out)" = "rtp-ok" ] || fail "--require-srtp: no echo: $(cat ok.out)"

# Names are checked before anything starts; --require-srtp needs --srtp.
"$SDTLS" client 127.0.0.1:9 --insecure --require-srtp </dev/null >bad.out 2>bad.err
[ $? -eq 2 ] || fail "--require-srtp without --srtp: exit $?"
grep -q -- '--require-srtp needs --srtp' bad.err || fail "message: $(cat bad.err)"
"$SDTLS" client 127.0.0.1:9 --insecure --srtp SRTP_NULL_SHA1_80 </dev/null >bad.out 2>bad.err
[ $? -eq 2 ] || fail "unknown profile: exit $?"
grep -q 'SRTP_AES128_CM_SHA1_80' bad.err || fail "the message does not list the profiles: $(cat bad.err)"
"$SDTLS" server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --srtp 'SRTP_AES128_CM_SHA1_80:' \
    </dev/null >bad.out 2>bad.err
[ $? -eq 2 ] || fail "empty profile name: exit $?"
echo PASS

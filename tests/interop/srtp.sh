#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DTLS-SRTP (RFC 5764) against OpenSSL, both ways: the negotiated profile is
# the same on both sides, and the EXTRACTOR-dtls_srtp keying material (60
# bytes for SRTP_AES128_CM_SHA1_80: two 16-byte keys, two 14-byte salts)
# that sdtls exports equals what OpenSSL exports for the same connection.
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl

make_cert srv localhost

# ---- sdtls client -> openssl s_server -use_srtp ----
start_openssl_server ossl -naccept 1 -cert srv.pem -key srv.key \
    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 60
mkfifo client.in
exec 9<>client.in
spawn CLIENT_PID "$SDTLS" client "127.0.0.1:$OSSL_PORT" --ca srv.pem --server-name localhost \
    --srtp SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 --export EXTRACTOR-dtls_srtp:60 \
    --timeout 1 <client.in >client.out 2>client.err
wait_for client.err '^connected ' 15 || fail "sdtls client did not connect: $(cat client.err)"
grep -Eq '^connected DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} srtp SRTP_AES128_CM_SHA1_80$' client.err ||
    fail "sdtls client summary: $(cat client.err)"
wait_for ossl.out 'Keying material: ' 5 || fail "s_server printed no keying material"
grep -q '^SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80$' ossl.out ||
    fail "s_server did not negotiate SRTP_AES128_CM_SHA1_80: $(grep -i srtp ossl.out)"
ours=$(sed -n 's/^EXPORT EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' client.out)
theirs=$(openssl_keying_material ossl.out)
[ ${#ours} -eq 120 ] || fail "sdtls client exported '$ours'"
[ "$ours" = "$theirs" ] || fail "keying material differs: sdtls $ours, openssl $theirs"
note "sdtls client / openssl s_server: EXTRACTOR-dtls_srtp $ours on both sides"
# Data still flows beside the keying.
echo "rtp-ready" >&9
wait_for ossl.out 'rtp-ready' 5 || fail "s_server did not get the data"
exec 9>&-
expect_exit "sdtls client" "$CLIENT_PID"

# ---- openssl s_client -use_srtp -> sdtls server ----
mkfifo server.in sc.in
exec 7<>server.in 9<>sc.in
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key \
    --srtp SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 --export EXTRACTOR-dtls_srtp:60
spawn SC_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$SERVER_PORT" -servername localhost \
    -CAfile srv.pem -verify_return_error -use_srtp SRTP_AES128_CM_SHA1_80 \
    -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 60 <sc.in >sc.out 2>sc.err
wait_for server.err '^accepted ' 15 || fail "sdtls server did not accept s_client: $(cat server.err)"
grep -Eq '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? srtp SRTP_AES128_CM_SHA1_80$' server.err ||
    fail "sdtls server summary: $(cat server.err)"
wait_for sc.out 'Keying material: ' 5 || fail "s_client printed no keying material"
grep -q '^SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80$' sc.out ||
    fail "s_client did not negotiate SRTP_AES128_CM_SHA1_80: $(grep -i srtp sc.out)"
wait_for server.out '^EXPORT EXTRACTOR-dtls_srtp ' 5 || fail "sdtls server printed no EXPORT line"
ours=$(sed -n 's/^EXPORT EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' server.out)
theirs=$(openssl_keying_material sc.out)
[ ${#ours} -eq 120 ] || fail "sdtls server exported '$ours'"
[ "$ours" = "$theirs" ] || fail "keying material differs: sdtls $ours, openssl $theirs"
note "openssl s_client / sdtls server: EXTRACTOR-dtls_srtp $ours on both sides"
echo "rtcp-ready" >&9
wait_for server.out '^rtcp-ready$' 5 || fail "sdtls server did not get s_client's data"
exec 9>&-
wait_for server.err '^closed 127\.0\.0\.1:[0-9]+$' 10 || fail "server did not log the close"
expect_exit "s_client" "$SC_PID"
echo PASS

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

# same_srtp_keys WHO OURS THEIRS: OpenSSL (output THEIRS) negotiated
# SRTP_AES128_CM_SHA1_80 and printed keying material equal to the 60 bytes
# of EXTRACTOR-dtls_srtp that the sdtls WHO printed in OURS.
same_srtp_keys() {
    local ours theirs
    wait_for "$3" 'Keying material: ' 5 || fail "openssl printed no keying material"
    grep -q '^SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80$' "$3" ||
        fail "openssl did not negotiate SRTP_AES128_CM_SHA1_80: $(grep -i srtp "$3")"
    ours=$(sed -n 's/^EXPORT EXTRACTOR-dtls_srtp \([0-9a-f]*\)$/\1/p' "$2")
    theirs=$(openssl_keying_material "$3")
    [ ${#ours} -eq 120 ] || fail "sdtls $1 exported '$ours'"
    [ "$ours" = "$theirs" ] || fail "keying material differs: sdtls $ours, openssl $theirs"
    note "sdtls $1 / openssl: EXTRACTOR-dtls_srtp $ours on both sides"
}

# ---- sdtls client -> openssl s_server -use_srtp ----
start_openssl_server ossl -naccept 1 -cert srv.pem -key srv.key \
    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 60
spawn_sdtls_client "127.0.0.1:$OSSL_PORT" --ca srv.pem --server-name localhost \
    --srtp SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 --export EXTRACTOR-dtls_srtp:60 --timeout 1
wait_for client.err '^connected ' 15 || fail "sdtls client did not connect: $(cat client.err)"
grep -Eq '^connected DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? peer sha-256 [0-9A-F:]{95} srtp SRTP_AES128_CM_SHA1_80$' client.err ||
    fail "sdtls client summary: $(cat client.err)"
same_srtp_keys client client.out ossl.out
# Data still flows beside the keying.
echo "rtp-ready" >&9
wait_for ossl.out 'rtp-ready' 5 || fail "s_server did not get the data"
exec 9>&-
expect_exit "sdtls client" "$CLIENT_PID"

# ---- openssl s_client -use_srtp -> sdtls server ----
start_server_for_s_client --listen 127.0.0.1:0 --cert srv.pem --key srv.key \
    --srtp SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 --export EXTRACTOR-dtls_srtp:60
spawn SC_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$SERVER_PORT" -servername localhost \
    -CAfile srv.pem -verify_return_error -use_srtp SRTP_AES128_CM_SHA1_80 \
    -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 60 <sc.in >sc.out 2>sc.err
wait_for server.err '^accepted ' 15 || fail "sdtls server did not accept s_client: $(cat server.err)"
grep -Eq '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 [A-Z0-9_]+( (X25519[A-Z0-9]*|P-[0-9]+))? srtp SRTP_AES128_CM_SHA1_80$' server.err ||
    fail "sdtls server summary: $(cat server.err)"
wait_for server.out '^EXPORT EXTRACTOR-dtls_srtp ' 5 || fail "sdtls server printed no EXPORT line"
same_srtp_keys server server.out sc.out
echo "rtcp-ready" >&9
wait_for server.out '^rtcp-ready$' 5 || fail "sdtls server did not get s_client's data"
exec 9>&-
wait_for server.err '^closed 127\.0\.0\.1:[0-9]+$' 10 || fail "server did not log the close"
expect_exit "s_client" "$SC_PID"
echo PASS

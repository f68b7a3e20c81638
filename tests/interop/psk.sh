#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Pre-shared keys (RFC 4279) across implementations, with the suite they all
# share, ECDHE-PSK-CHACHA20-POLY1305 (forward secret, AEAD):
#   sdtls client -> openssl s_server -nocert -psk     data both ways
#   openssl s_client -psk -> sdtls server (PSK only)  data both ways, the hint
#   sdtls client -> gnutls-serv --pskpasswd --echo    data there and back;
#                                                      a wrong key fails
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl gnutls-serv

KEY=000102030405060708090a0b0c0d0e0f
SUITE=TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256

# ---- sdtls client -> openssl s_server -nocert -psk ----
start_openssl_server ossl -naccept 1 -nocert -psk "$KEY" -psk_identity device-1
spawn_sdtls_client "127.0.0.1:$OSSL_PORT" --psk-identity device-1 --psk "$KEY" --timeout 1
wait_for client.err '^connected ' 15 || fail "sdtls client did not connect: $(cat client.err)"
grep -Eqx "connected DTLSv1\\.2 $SUITE( (X25519[A-Z0-9]*|P-[0-9]+))? psk device-1" client.err || fail "summary: $(cat client.err)"
wait_for ossl.out '^CIPHER is ECDHE-PSK-CHACHA20-POLY1305$' 5 || fail "s_server: $(cat ossl.out)"
echo "to-openssl" >&9
wait_for ossl.out 'to-openssl' 5 || fail "s_server did not receive the data"
echo "from-openssl" >&8
wait_for client.out '^from-openssl$' 5 || fail "sdtls client did not receive s_server's data"
exec 9>&-
expect_exit "sdtls client" "$CLIENT_PID"

# ---- openssl s_client -psk -> sdtls server (no certificate) ----
start_server_for_s_client --listen 127.0.0.1:0 --psk-identity device-1 --psk "$KEY" \
    --psk-hint "sdtls interop"
spawn SC_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$SERVER_PORT" \
    -psk "$KEY" -psk_identity device-1 <sc.in >sc.out 2>sc.err
wait_for server.err '^accepted ' 15 || fail "sdtls server did not accept s_client: $(cat server.err sc.err)"
grep -Eq "^accepted 127\\.0\\.0\\.1:[0-9]+ DTLSv1\\.2 $SUITE( (X25519[A-Z0-9]*|P-[0-9]+))? psk device-1\$" server.err ||
    fail "server summary: $(cat server.err)"
wait_for sc.out 'PSK identity hint: sdtls interop' 5 || fail "s_client did not see the hint"
grep -q 'Cipher is ECDHE-PSK-CHACHA20-POLY1305' sc.out || fail "s_client cipher: $(grep -i cipher sc.out)"
echo "to-sdtls" >&9
wait_for server.out '^to-sdtls$' 5 || fail "sdtls server did not receive s_client's data"
echo "from-sdtls" >&7
wait_for sc.out '^from-sdtls$' 5 || fail "s_client did not receive the server's data"
exec 9>&-
wait_for server.err '^closed 127\.0\.0\.1:[0-9]+$' 10 || fail "server did not log the close"
expect_exit "s_client" "$SC_PID"

# ---- sdtls client -> gnutls-serv --udp --pskpasswd ----
printf 'device-1:%s\n' "$KEY" >psk.passwd
for attempt in 1 2 3; do
    port=$(free_port)
    rm -f gnutls.err
    spawn GNUTLS_PID gnutls-serv --udp --echo -p "$port" --pskpasswd psk.passwd \
        --priority 'NORMAL:+ECDHE-PSK:+CHACHA20-POLY1305' </dev/null >gnutls.out 2>gnutls.err
    wait_for gnutls.err 'listening on IPv4 .* port' 5 && break
    note "gnutls-serv did not start on $port; retrying"
    kill "$GNUTLS_PID" 2>/dev/null
done
wait_for gnutls.err 'listening on IPv4' 1 || fail "gnutls-serv did not start"
printf 'psk to gnutls\nand back\n' >expected.txt
timeout 20 "$SDTLS" client "127.0.0.1:$port" --psk-identity device-1 --psk "$KEY" \
    <expected.txt >gnutls-client.out 2>gnutls-client.err || fail "client to gnutls-serv exited $?"
assert_same_lines expected.txt gnutls-client.out
grep -Eqx "connected DTLSv1\\.2 $SUITE( (X25519[A-Z0-9]*|P-[0-9]+))? psk device-1" gnutls-client.err ||
    fail "summary: $(cat gnutls-client.err)"
# A wrong key: GnuTLS cannot decrypt the Finished, the handshake fails.
echo x | timeout 20 "$SDTLS" client "127.0.0.1:$port" --psk-identity device-1 \
    --psk 0f0e0d0c0b0a09080706050403020100 --handshake-timeout 3 >wrong.out 2>wrong.err
rc=$?
[ $rc -eq 1 ] || fail "wrong key against gnutls-serv: exit $rc"
[ ! -s wrong.out ] || fail "wrong key: data came back"
echo PASS

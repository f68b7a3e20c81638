#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --version and --verbose, on either engine:
# - --version names the library and engine, the protocol versions, features
#   and key exchange groups, and what it lists holds: DTLS 1.3 is negotiated
#   exactly when it is listed, each group listed is negotiated when asked
#   for, the cookie exchange is made exactly when it is listed;
# - client -v, its first ClientHello lost on the way (a relay drops it): one
#   line per datagram of the handshake, sizes as they went over the wire,
#   the retransmission marked "(timer)"; the handshake's time; the
#   negotiated parameters; the server's certificate (subject, alt names,
#   key, fingerprint as openssl computes it); the data alone on stdout;
# - client -vv (DTLS 1.2, and DTLS 1.3 where the engine speaks it): every
#   datagram, each followed by one line per record, as tests/cli/records.py
#   reads the relayed bytes on its own;
# - server -v: each peer's handshake time and client certificate;
# - no such line without -v.
. "$(dirname "$0")/lib.sh"
RECORDS=$(cd "$(dirname "$0")" && pwd)/records.py
setup "$@"

make_cert srv dbg.example
make_cert cli cli.example

# ---- --version ----
"$SDTLS" --version >version.out 2>version.err || fail "--version exited $?"
[ ! -s version.err ] || fail "--version wrote to stderr: $(cat version.err)"
grep -Eq '^sdtls [0-9]+\.[0-9]+\.[0-9]+ \(BoringSSL' version.out || fail "engine: $(cat version.out)"
grep -Eqx 'protocols: DTLS1\.2( DTLS1\.3)?' version.out || fail "protocols: $(cat version.out)"
grep -Eqx 'features:( [a-z-]+)+' version.out || fail "features: $(cat version.out)"
for f in srtp psk resumption alpn; do
    grep -Eq "^features:.* $f( |\$)" version.out || fail "features lack $f: $(cat version.out)"
done
groups=$(sed -n 's/^groups: //p' version.out)
for g in X25519 P-256; do
    [[ " $groups " == *" $g "* ]] || fail "groups lack $g: $(cat version.out)"
done
dtls13=false
grep -q '^protocols:.* DTLS1\.3' version.out && dtls13=true

start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
if grep -Eq '^features:.* cookie-exchange( |$)' version.out; then
    cookies_expected server || fail "--version lists the cookie exchange, the server has none"
else
    ! cookies_expected server || fail "--version does not list the cookie exchange"
fi
echo ping | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name dbg.example >plain.out 2>plain.err || fail "plain client exited $?"
want=DTLSv1.2
$dtls13 && want=DTLSv1.3
grep -q "^connected $want " plain.err || fail "--version says $want is the newest: $(cat plain.err)"
# Without -v: no verbose line.
grep -q '^\*' plain.err && fail "lines of --verbose without it: $(cat plain.err)"
kill "$SERVER_PID"

# Each group listed is negotiated when both sides ask for it (P-256 beside
# it for the client: in DTLS 1.2 the group list also names the curves its
# ECDSA certificate may use).
for g in $groups; do
    offer=$g:P-256
    [ "$g" = P-256 ] && offer=$g
    start_sdtls_server "g-$g" --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --groups "$g"
    echo x | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name dbg.example --groups "$offer" >"g-$g.client.out" 2>"g-$g.client.err" ||
        fail "group $g: client exited $?: $(cat "g-$g.client.err")"
    grep -q "^connected DTLSv1\.[23] [A-Z0-9_]* $g " "g-$g.client.err" ||
        fail "group $g not negotiated: $(cat "g-$g.client.err")"
    kill "$SERVER_PID"
done

# ---- client -v, the first ClientHello lost ----
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo
start_udp_peer lossy relay "$SERVER_PORT" 0.5
printf 'one\ntwo\n' >lines.txt
timeout 20 "$SDTLS" client "127.0.0.1:$PEER_PORT" --ca srv.pem --server-name dbg.example -v \
    <lines.txt >v.out 2>v.err || fail "client -v exited $?: $(cat v.err)"
assert_same_lines lines.txt v.out
# (A post-quantum ClientHello, the default where the engine has
# X25519MLKEM768, spans two datagrams: each a part.)
grep -Eq '^\* 0\.[0-9] ms > [0-9]+ bytes: ClientHello( \(part\))?$' v.err || fail "first datagram: $(cat v.err)"
grep -Eq '^\* [0-9]+\.[0-9] ms > [0-9]+ bytes \(timer\): ClientHello( \(part\))?$' v.err ||
    fail "no retransmission on a timer: $(cat v.err)"
grep -Eq '^\* [0-9.]+ ms < [0-9]+ bytes: (HelloVerifyRequest|HelloRetryRequest|ServerHello)' v.err ||
    fail "no answer of the server: $(cat v.err)"
ms=$(sed -n 's/^\* handshake done in \([0-9]*\)\.[0-9] ms: sent [0-9]* datagrams, [0-9]* bytes (\([0-9]*\) on a timer); received [0-9]* datagrams\{0,1\}, [0-9]* bytes$/\1 \2/p' v.err)
[ -n "$ms" ] || fail "no handshake time: $(cat v.err)"
read -r ms timer <<<"$ms"
# The lost ClientHello cost at least the 0.5 s of the loss.
[ "$ms" -ge 500 ] || fail "handshake done in $ms ms, with a 0.5 s loss"
[ "$timer" -ge 1 ] || fail "$timer datagrams on a timer"
grep -qx "\\* version: $want" v.err || fail "version line: $(cat v.err)"
grep -Eqx '\* cipher: TLS_[A-Z0-9_]+' v.err || fail "cipher line: $(cat v.err)"
grep -Eqx '\* group: (X25519[A-Z0-9]*|P-[0-9]+|MLKEM[0-9]+)' v.err || fail "group line: $(cat v.err)"
grep -qx '\* ALPN: none' v.err || fail "ALPN line: $(cat v.err)"
grep -qx '\* SRTP profile: none' v.err || fail "SRTP line: $(cat v.err)"
grep -qx '\* resumed: no' v.err || fail "resumed line: $(cat v.err)"
grep -qx '\* PSK identity: none' v.err || fail "PSK line: $(cat v.err)"
grep -Eqx '\* peer certificate \(the leaf, [0-9]+ bytes\):' v.err || fail "certificate: $(cat v.err)"
grep -qx '\*   subject: CN=dbg\.example' v.err || fail "subject: $(cat v.err)"
grep -qx '\*   issuer: CN=dbg\.example (the subject: self-issued)' v.err || fail "issuer: $(cat v.err)"
grep -Eqx '\*   validity: [0-9-]{10} [0-9:]{8} UTC to [0-9-]{10} [0-9:]{8} UTC' v.err ||
    fail "validity: $(cat v.err)"
grep -qx '\*   subject alt names: DNS:dbg\.example' v.err || fail "alt names: $(cat v.err)"
grep -qx '\*   key: EC P-256, signed with ecdsa-with-SHA256' v.err || fail "key: $(cat v.err)"
grep -qx "\\*   fingerprint: sha-256 $(openssl_fp srv.pem)" v.err || fail "fingerprint: $(cat v.err)"
grep -q "^connected $want " v.err || fail "no connected line: $(cat v.err)"
wait_count lossy.log '^(dropped|c2s) ' 2 5 || fail "relay: $(cat lossy.log)"
python3 "$RECORDS" lossy.log v.err 1 >v.check 2>&1 || fail "$(cat v.check)"
kill "$PEER_PID"

# ---- client -vv: every datagram and record ----
vv() { # NAME ARGS...: a client -vv through a relay, checked against the wire
    local name=$1
    shift
    start_udp_peer "$name" relay "$SERVER_PORT" 0
    timeout 20 "$SDTLS" client "127.0.0.1:$PEER_PORT" --ca srv.pem --server-name dbg.example \
        -vv "$@" <lines.txt >"$name.out" 2>"$name.err" || fail "$name: client exited $?"
    assert_same_lines lines.txt "$name.out"
    # The client's last datagram (close_notify) is in the relay's log.
    local sent
    sent=$(grep -Ec '^\* [0-9.]+ ms > ' "$name.err")
    wait_count "$name.log" '^c2s ' "$sent" 5 || fail "$name: relay logged fewer than $sent"
    python3 "$RECORDS" "$name.log" "$name.err" 2 >"$name.check" 2>&1 ||
        fail "$name: $(cat "$name.check")"
    kill "$PEER_PID"
}
vv vv12 --max-version 1.2
grep -Eq '^\*   > record handshake\(22\) DTLS 1\.[02] epoch 0 seq 0, length [0-9]+: ClientHello\(1\) message 0, length [0-9]+$' vv12.err ||
    fail "ClientHello record: $(cat vv12.err)"
grep -Eq '^\*   < record handshake\(22\) DTLS 1\.2 epoch 0 seq [0-9]+, length [0-9]+: ServerHello\(2\) ' vv12.err ||
    fail "ServerHello record: $(cat vv12.err)"
grep -Eq '^\*   > record change_cipher_spec\(20\) DTLS 1\.2 epoch 0 seq [0-9]+, length 1$' vv12.err ||
    fail "ChangeCipherSpec record: $(cat vv12.err)"
[ "$(grep -Ec '^\*   > record application_data\(23\) DTLS 1\.2 epoch 1 seq [0-9]+, length [0-9]+: encrypted$' vv12.err)" -eq 2 ] ||
    fail "not two application data records sent: $(cat vv12.err)"
grep -Eq '^\*   > record alert\(21\) DTLS 1\.2 epoch 1 seq [0-9]+, length [0-9]+: encrypted$' vv12.err ||
    fail "no close_notify record: $(cat vv12.err)"
if $dtls13; then
    vv vv13
    grep -q '^\*   < record DTLS 1\.3 ciphertext, epoch 2 (low bits), length [0-9]*, content type encrypted$' vv13.err ||
        fail "DTLS 1.3 handshake records: $(cat vv13.err)"
    grep -q '^\*   > record DTLS 1\.3 ciphertext, epoch 3 (low bits), length [0-9]*, content type encrypted$' vv13.err ||
        fail "DTLS 1.3 application records: $(cat vv13.err)"
fi
kill "$SERVER_PID"

# ---- server -v: the client's certificate, each peer's handshake time ----
start_sdtls_server vserver --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --ca cli.pem --require-client-cert -v
echo hi | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name dbg.example --cert cli.pem --key cli.key >cli.out 2>cli.err ||
    fail "client with a certificate exited $?: $(cat cli.err)"
peer=$(sed -n 's/^accepted \(127\.0\.0\.1:[0-9]*\) .*/\1/p' vserver.err)
[ -n "$peer" ] || wait_for vserver.err '^accepted ' 5 || fail "not accepted: $(cat vserver.err)"
peer=$(sed -n 's/^accepted \(127\.0\.0\.1:[0-9]*\) .*/\1/p' vserver.err)
wait_for vserver.err "^\\* $peer   fingerprint: " 5 || fail "server -v: $(cat vserver.err)"
grep -Eq "^\\* $peer handshake done in [0-9]+\\.[0-9] ms: " vserver.err ||
    fail "server: no handshake time: $(cat vserver.err)"
grep -qx "\\* $peer   subject: CN=cli\\.example" vserver.err || fail "server: subject: $(cat vserver.err)"
grep -qx "\\* $peer   fingerprint: sha-256 $(openssl_fp cli.pem)" vserver.err ||
    fail "server: fingerprint: $(cat vserver.err)"
grep -Eq "^\\* $peer [0-9.]+ ms < [0-9]+ bytes: ClientHello" vserver.err ||
    fail "server: no datagram line: $(cat vserver.err)"
echo PASS

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The key log decrypts a capture: an sdtls client and an echoing sdtls
# server, both with --keylog, talk through a relay that writes every datagram
# to a pcap file. tshark (Wireshark's dissector, an implementation
# independent of BoringSSL) then decrypts the Finished messages and the
# application data of both directions with either side's key log, and
# decrypts nothing without one or with the key log of another session.
# DTLS 1.2 (the clients cap it): Debian 12's tshark 4.0 does not decrypt DTLS
# 1.3, which a current engine would otherwise negotiate.
. "$(dirname "$0")/common.sh"
setup "$@"
require tshark python3

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo \
    --keylog server.keys
start_relay "$SERVER_PORT" capture.pcap
printf 'keylog-one\nkeylog-two\n' >lines.txt
echo_client client "127.0.0.1:$RELAY_PORT" lines.txt --keylog client.keys --max-version 1.2
# A session that is not in the capture.
echo other | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
    --server-name localhost --keylog other.keys --max-version 1.2 >other.out 2>other.err || fail "other client exited $?"
kill "$RELAY_PID"
wait_exit "$RELAY_PID" 5 || fail "relay did not stop"
cmp -s client.keys <(head -n1 server.keys) || fail "client and server logged different secrets"
[ -s capture.pcap ] || fail "no capture"

# decrypted KEYLOG: the frames and plaintext (hex) tshark decrypts with KEYLOG
# ("" for none), and the Finished messages it can read, into decrypted.txt.
decrypted() {
    local opts=(-r capture.pcap -d "udp.port==$SERVER_PORT,dtls")
    [ -n "$1" ] && opts+=(-o "tls.keylog_file:$1")
    tshark "${opts[@]}" -Y data -T fields -e data.data >decrypted.txt 2>tshark.log ||
        fail "tshark failed: $(cat tshark.log)"
    FINISHED=$(tshark "${opts[@]}" -Y 'dtls.handshake.type == 20' 2>>tshark.log | wc -l)
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
printf '%s\n' "$(hex keylog-one)" "$(hex keylog-one)" "$(hex keylog-two)" "$(hex keylog-two)" |
    sort >expected.txt

# The capture holds the session: every record of it went through the relay.
[ "$(tshark -r capture.pcap -d "udp.port==$SERVER_PORT,dtls" -Y 'dtls.record.content_type == 23' 2>/dev/null | wc -l)" -ge 4 ] ||
    fail "the capture lacks the application data records"

decrypted ""
[ ! -s decrypted.txt ] && [ "$FINISHED" -eq 0 ] || fail "tshark decrypted without a key log"
decrypted other.keys
[ ! -s decrypted.txt ] && [ "$FINISHED" -eq 0 ] || fail "another session's key log decrypted the capture"

for keys in client.keys server.keys; do
    decrypted "$keys"
    sort decrypted.txt >got.txt
    assert_same_lines expected.txt got.txt
    [ "$FINISHED" -eq 2 ] || fail "$keys: tshark read $FINISHED Finished messages, expected 2"
done
note "tshark decrypted with the key log: $(tr '\n' ' ' <decrypted.txt)"
echo PASS

#!/bin/bash
# server --keylog FILE appends one NSS key log line per handshake (mode 0600)
# that matches the session (Wireshark's CLIENT_RANDOM format).
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --keylog keys.log
for i in 1 2; do
    echo "x$i" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost >c$i.out 2>c$i.err || fail "client $i exited $?"
    [ "$(cat c$i.out)" = "x$i" ] || fail "client $i got: $(cat c$i.out)"
done
[ -f keys.log ] || fail "no key log file"
[ "$(stat -c %a keys.log)" = 600 ] || fail "key log mode $(stat -c %a keys.log)"
# DTLS 1.2: one CLIENT_RANDOM line; DTLS 1.3 (a current engine): its five
# traffic secrets, one CLIENT_TRAFFIC_SECRET_0 per handshake.
grep -Evx 'CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}|(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64}([0-9a-f]{32})?' \
    keys.log && fail "unexpected key log lines"
[ $(($(grep -c '^CLIENT_RANDOM' keys.log) + $(grep -c '^CLIENT_TRAFFIC_SECRET_0' keys.log))) -eq 2 ] ||
    fail "expected 2 handshakes: $(cat keys.log)"
[ "$(cut -d' ' -f2 keys.log | sort -u | wc -l)" -eq 2 ] || fail "two handshakes, one client random"
echo PASS

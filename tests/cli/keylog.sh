#!/bin/bash
# --keylog FILE (server and client) appends one NSS key log line per
# handshake (a new file is made 0600) that matches the session (Wireshark's CLIENT_RANDOM
# format); client and server log the same line for one handshake.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --keylog keys.log
for i in 1 2; do
    echo "x$i" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost --keylog client.log >c$i.out 2>c$i.err || fail "client $i exited $?"
    [ "$(cat c$i.out)" = "x$i" ] || fail "client $i got: $(cat c$i.out)"
done
for f in keys.log client.log; do
    [ -f $f ] || fail "no key log file $f"
    [ "$(stat -c %a $f)" = 600 ] || fail "$f mode $(stat -c %a $f)"
    # DTLS 1.2: one CLIENT_RANDOM line; DTLS 1.3 (a current engine): its five
    # traffic secrets, one CLIENT_TRAFFIC_SECRET_0 per handshake.
    grep -Evx 'CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}|(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64}([0-9a-f]{32})?' \
        $f && fail "unexpected key log lines in $f"
    [ $(($(grep -c '^CLIENT_RANDOM' $f) + $(grep -c '^CLIENT_TRAFFIC_SECRET_0' $f))) -eq 2 ] ||
        fail "expected 2 handshakes in $f: $(cat $f)"
    [ "$(cut -d' ' -f2 $f | sort -u | wc -l)" -eq 2 ] || fail "two handshakes, one client random"
done
cmp -s keys.log client.log || fail "client and server logged different secrets"

# A key log file that was there with a looser mode is refused, untouched:
# group and others could read the secrets.
: >loose.log
chmod 644 loose.log
echo y | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    --keylog loose.log >c3.out 2>c3.err
rc=$?
[ $rc -eq 1 ] || fail "loose key log: exit $rc, expected 1"
grep -q '^sdtls: error: loose\.log: refusing to write the key log file: group or others can read it (mode 0644); chmod 600 loose\.log, or name a new file$' c3.err ||
    fail "loose key log: $(cat c3.err)"
[ "$(stat -c %a loose.log)" = 644 ] || fail "loose.log mode changed to $(stat -c %a loose.log)"
[ ! -s loose.log ] || fail "key log lines written to loose.log"
[ ! -s c3.out ] || fail "loose key log: the client connected anyway"
# Once the user makes it 0600, it is appended to.
chmod 600 loose.log
echo z | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem --server-name localhost \
    --keylog loose.log >c4.out 2>c4.err || fail "client 4 exited $?"
grep -Eq '^(CLIENT_RANDOM|CLIENT_TRAFFIC_SECRET_0) ' loose.log || fail "nothing logged to loose.log"
echo PASS

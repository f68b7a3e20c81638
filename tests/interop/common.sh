# SPDX-License-Identifier: Apache-2.0
# Helpers for the interop tests (on top of tests/cli/lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

RELAY_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/relay.py

# start_relay SERVER_PORT [PCAP]: a logging relay (relay.py) in front of
# 127.0.0.1:SERVER_PORT; sets RELAY_PORT, logs records to relay.log (and
# the datagrams to the pcap file PCAP).
start_relay() {
    rm -f relay.port
    spawn RELAY_PID python3 "$RELAY_PY" relay.port 127.0.0.1 "$1" relay.log 60 ${2:+"$2"}
    for _ in $(seq 100); do
        [ -s relay.port ] && break
        sleep 0.05
    done
    RELAY_PORT=$(cat relay.port 2>/dev/null)
    [ -n "$RELAY_PORT" ] || fail "relay did not start"
}

# The relay saw the cookie exchange: ClientHello without a cookie, then a
# HelloVerifyRequest from the server, then a ClientHello with a cookie.
assert_cookie_exchange() {
    grep -Eq '^c2s epoch=0 .* ClientHello msg_seq=0 cookie=0$' relay.log ||
        fail "relay: no first ClientHello without a cookie"
    grep -Eq '^s2c epoch=0 .* HelloVerifyRequest' relay.log ||
        fail "relay: the server sent no HelloVerifyRequest"
    grep -Eq '^c2s epoch=0 .* ClientHello msg_seq=1 cookie=[1-9][0-9]*$' relay.log ||
        fail "relay: no second ClientHello carrying the cookie"
    grep -Eq '^s2c epoch=0 .* ServerHello msg_seq=1' relay.log ||
        fail "relay: no ServerHello after the cookie exchange"
}

# The sdtls server (log server.err) made the cookie exchange, on the wire
# (relay.log), unless the engine cannot, which the server says at start.
assert_server_cookie_exchange() {
    if cookies_expected server; then
        assert_cookie_exchange
    else
        note "this engine has no cookie exchange; not checked"
    fi
}

# start_server_for_client PEER: an sdtls server (not echoing; its stdin, the
# fifo server.in, held open on fd 8) behind a logging relay (RELAY_PORT), and
# the fifo PEER.in, held open on fd 9, for the other stack's client's stdin.
start_server_for_client() {
    make_cert srv localhost
    mkfifo server.in "$1.in"
    exec 8<>server.in 9<>"$1.in"
    start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key
    # Through a logging relay: the sdtls server must make a cookie exchange.
    start_relay "$SERVER_PORT"
}

# wait_accepted WHAT: the sdtls server accepted a DTLS 1.2 ECDSA peer.
wait_accepted() {
    wait_for server.err '^accepted 127\.0\.0\.1:[0-9]+ DTLSv1\.2 TLS_ECDHE_ECDSA_WITH_' 15 ||
        fail "sdtls server did not accept $1"
}

# exchange_with_client LABEL PEER PID: once the other stack's client (stdin
# PEER.in on fd 9, output PEER.out, process PID) is connected: two lines from
# it (each sent with its newline, which the server prints as an empty line
# after it), the cookie exchange, a line from the server to it, and its
# close_notify at the end of its input; it exits 0.
exchange_with_client() {
    local label=$1 peer=$2 pid=$3
    # One line at a time: the peer sends whatever one read() of its stdin gave.
    echo "from-$label one" >&9
    wait_for server.out "^from-$label one\$" 5 || fail "sdtls server did not receive the data"
    echo "from-$label two" >&9
    wait_for server.out "^from-$label two\$" 5 || fail "sdtls server did not receive the second line"
    printf 'from-%s one\n\nfrom-%s two\n\n' "$label" "$label" >expected.txt
    assert_same_lines expected.txt server.out
    assert_server_cookie_exchange

    echo "from-sdtls" >&8
    wait_for "$peer.out" '^from-sdtls$' 5 || fail "$label client did not receive the server's data"

    exec 9>&-
    wait_for server.err '^closed 127\.0\.0\.1:[0-9]+$' 10 || fail "server did not log the close"
    expect_exit "$label client" "$pid"
}

require() {
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null || { echo "FAIL: $p not installed (sh packaging/setup-debian.sh installs it)"; exit 1; }
    done
}

# start_openssl_server NAME ARGS...: `openssl s_server -dtls1_2 -4 -accept
# 127.0.0.1:PORT ARGS` on a free port (retried if the bind races), its stdin
# the fifo NAME.in held open on fd 8 (s_server ends when its stdin closes:
# write lines to fd 8 to send them), output NAME.out / NAME.err. Sets
# OSSL_PID and OSSL_PORT.
start_openssl_server() {
    local name=$1 attempt
    shift
    [ -p "$name.in" ] || mkfifo "$name.in"
    exec 8<>"$name.in"
    for attempt in 1 2 3; do
        OSSL_PORT=$(free_port)
        rm -f "$name.out"
        spawn OSSL_PID openssl s_server -dtls1_2 -4 -accept "127.0.0.1:$OSSL_PORT" "$@" \
            <"$name.in" >"$name.out" 2>"$name.err"
        wait_for "$name.out" '^ACCEPT' 5 && return 0
        note "openssl s_server did not start on $OSSL_PORT; retrying"
        kill "$OSSL_PID" 2>/dev/null
    done
    fail "openssl s_server did not start: $(cat "$name.err")"
}

# spawn_sdtls_client ARGS...: `sdtls client ARGS` in the background (sets
# CLIENT_PID), its stdin the fifo client.in held open on fd 9 (write lines
# to fd 9 to send them, close it to end the client), output client.out /
# client.err.
spawn_sdtls_client() {
    mkfifo client.in
    exec 9<>client.in
    spawn CLIENT_PID "$SDTLS" client "$@" <client.in >client.out 2>client.err
}

# start_server_for_s_client ARGS...: `start_sdtls_server server ARGS`, its
# stdin the fifo server.in held open on fd 7, and the fifo sc.in held open
# on fd 9, for openssl s_client's stdin.
start_server_for_s_client() {
    mkfifo server.in sc.in
    exec 7<>server.in 9<>sc.in
    start_sdtls_server server "$@"
}

# openssl_keying_material FILE: the last "Keying material: HEX" that
# s_server or s_client printed, in lower case.
openssl_keying_material() {
    sed -n 's/^ *Keying material: \([0-9A-F]*\)$/\1/p' "$1" | tail -n1 | tr A-F a-f
}

# Helpers for the interop tests (on top of tests/cli/lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

RELAY_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/relay.py

# start_relay SERVER_PORT: a logging relay (relay.py) in front of
# 127.0.0.1:SERVER_PORT; sets RELAY_PORT, logs records to relay.log.
start_relay() {
    rm -f relay.port
    spawn RELAY_PID python3 "$RELAY_PY" relay.port 127.0.0.1 "$1" relay.log 60
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

require() {
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null || { echo "FAIL: $p not installed (sh packaging/setup-debian.sh installs it)"; exit 1; }
    done
}

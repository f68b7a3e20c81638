# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the CLI and interop tests (bash). Source it after
# setting nothing; call `setup "$@"` with the test's arguments:
#   $1 = path of the sdtls tool, $2 = scratch directory (emptied).
# Every wait is bounded; every process started with `spawn` is killed at exit.

set -u

SDTLS=
SCRATCH=
PIDS=()

fail() {
    echo "FAIL: $*" >&2
    dump_logs
    exit 1
}

note() { echo "--- $*" >&2; }

# Prints the scratch logs (for --output-on-failure).
dump_logs() {
    [ -n "$SCRATCH" ] || return 0
    local f
    for f in "$SCRATCH"/*.out "$SCRATCH"/*.err "$SCRATCH"/*.log; do
        [ -f "$f" ] || continue
        echo "===== $(basename "$f") =====" >&2
        tail -n 60 "$f" >&2
    done
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        # Bounded: a peer that ignores SIGTERM gets SIGKILL after ~2 s.
        for _ in $(seq 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
    done
    # Fifo holders opened with exec.
    exec 7>&- 8>&- 9>&-
}

setup() {
    [ $# -ge 2 ] || { echo "usage: $0 SDTLS_TOOL SCRATCH_DIR" >&2; exit 2; }
    SDTLS=$1
    SCRATCH=$2
    [ -x "$SDTLS" ] || { echo "not executable: $SDTLS" >&2; exit 2; }
    rm -rf "$SCRATCH"
    mkdir -p "$SCRATCH"
    cd "$SCRATCH" || exit 2
    trap cleanup EXIT
    trap 'exit 1' INT TERM
}

# spawn VAR CMD...: runs CMD in the background, records its pid in VAR.
# timeout(1) bounds its life even if this script is killed without cleanup;
# it passes SIGTERM on and exits with CMD's status.
PEER_TTL=${PEER_TTL:-90}
spawn() {
    local __var=$1
    shift
    # <&0: keep the caller's stdin (a background job would get /dev/null);
    # fds 7-9 are the tests' fifo holders: children must not hold them open.
    timeout -k 2 "$PEER_TTL" "$@" <&0 7>&- 8>&- 9>&- &
    local pid=$!
    PIDS+=("$pid")
    printf -v "$__var" '%s' "$pid"
}

# wait_for FILE REGEX [SECONDS]: waits until FILE has a line matching REGEX
# (grep -E). Returns 1 after SECONDS (default 10).
wait_for() {
    local file=$1 re=$2 secs=${3:-10}
    local i
    for i in $(seq $((secs * 20))); do
        if [ -f "$file" ] && grep -Eq -- "$re" "$file"; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# wait_count FILE REGEX COUNT [SECONDS]: waits until FILE has at least COUNT
# lines matching REGEX. Returns 1 after SECONDS (default 10).
wait_count() {
    local file=$1 re=$2 count=$3 secs=${4:-10}
    local i
    for i in $(seq $((secs * 20))); do
        if [ -f "$file" ] && [ "$(grep -Ec -- "$re" "$file")" -ge "$count" ]; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# wait_exit PID [SECONDS]: waits for a background child (started by this
# shell, not in a subshell) to end and sets EXIT_STATUS to its exit status.
# Returns 1 if it is still running after SECONDS (default 10).
EXIT_STATUS=
wait_exit() {
    local pid=$1 secs=${2:-10} i
    EXIT_STATUS=
    for i in $(seq $((secs * 20))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            EXIT_STATUS=$?
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# expect_exit WHAT PID [SECONDS]: waits (default 10 s) for a background
# child to end with status 0.
expect_exit() {
    wait_exit "$2" "${3:-10}" || fail "$1 did not exit"
    [ "$EXIT_STATUS" = 0 ] || fail "$1 exited $EXIT_STATUS"
}

# A UDP port that is free now on 127.0.0.1 and ::1 (a later bind may still
# race with another process; callers retry).
free_port() {
    python3 - <<'EOF'
import random, socket
for _ in range(200):
    port = random.randint(20000, 60000)
    socks = []
    try:
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind((host, port))
        print(port)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
EOF
}

# The certificate's SHA-256 fingerprint as openssl prints it (AA:BB:...).
openssl_fp() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# ms_since START: the milliseconds since START (a `date +%s%N`).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# expect_handshake_timeout WHAT NAME MIN_MS MAX_MS ARGS...: `sdtls client
# ARGS` (a line on stdin, output NAME.out / NAME.err) whose handshake gets
# no answer: it exits 1 with "handshake with ... failed: timed out" after
# MIN_MS and before MAX_MS. WHAT names the client in the messages.
expect_handshake_timeout() {
    local what=$1 name=$2 min=$3 max=$4 start rc elapsed
    shift 4
    start=$(date +%s%N)
    echo "$name" | timeout 20 "$SDTLS" client "$@" >"$name.out" 2>"$name.err"
    rc=$?
    elapsed=$(ms_since "$start")
    [ $rc -eq 1 ] || fail "$what exited $rc, expected 1"
    grep -q '^sdtls: error: handshake with 127\.0\.0\.1:[0-9]* failed: timed out' "$name.err" ||
        fail "$what: message: $(cat "$name.err")"
    [ "$elapsed" -ge "$min" ] && [ "$elapsed" -lt "$max" ] || fail "$what gave up after $elapsed ms"
}

# start_sdtls_server NAME ARGS...: starts `sdtls server ARGS` (stdin from
# $NAME.in if it is a fifo, else /dev/null), logs to NAME.out / NAME.err,
# waits for its "listening" line and sets SERVER_PID and SERVER_PORT.
start_sdtls_server() {
    local name=$1
    shift
    local in=/dev/null
    [ -p "$name.in" ] && in=$name.in
    spawn SERVER_PID "$SDTLS" server "$@" <"$in" >"$name.out" 2>"$name.err"
    wait_for "$name.err" '^listening ' 10 || fail "$name: no 'listening' line"
    SERVER_PORT=$(sed -n 's/^listening .*:\([0-9][0-9]*\)$/\1/p' "$name.err" | head -n1)
    [ -n "$SERVER_PORT" ] || fail "$name: cannot parse the port"
}

# start_udp_peer NAME MODE ARGS...: udp_peer.py (beside this file) in the
# background, logging to NAME.log; sets PEER_PID and PEER_PORT.
UDP_PEER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/udp_peer.py
start_udp_peer() {
    local name=$1
    shift
    local mode=$1
    shift
    spawn PEER_PID python3 "$UDP_PEER" "$mode" "$name.port" "$name.log" "$@"
    wait_for "$name.port" '^[0-9]+$' 10 || fail "$name: udp_peer.py did not start"
    PEER_PORT=$(cat "$name.port")
}

# make_cert NAME CN: NAME.pem / NAME.key via `sdtls cert`.
make_cert() {
    "$SDTLS" cert --cert "$1.pem" --key "$1.key" --cn "$2" >"$1.fp" 2>"$1.cert.err" ||
        fail "sdtls cert for $1"
}

# assert_same_lines EXPECTED_FILE ACTUAL_FILE
assert_same_lines() {
    if ! cmp -s "$1" "$2"; then
        echo "expected:" >&2
        cat -A "$1" >&2
        echo "actual:" >&2
        cat -A "$2" >&2
        fail "$2 differs from $1"
    fi
}

# sample_lines LONG: test datagrams (spaces, a tab, punctuation, UTF-8) and
# one line of LONG bytes, on stdout.
sample_lines() {
    echo "hello"
    echo "two words and	a tab"
    echo 'punctuation: !"#$%&()*+,-./:;<=>?@[\]^_`{|}~'
    echo "utf-8: grüße, 日本語"
    head -c "$1" /dev/zero | tr '\0' 'x'; echo
    echo "last line"
}

# echo_client NAME HOST:PORT INPUT [ARGS...]: an sdtls client that trusts
# srv.pem for the name localhost sends the lines of INPUT to an echoing
# server; logs to NAME.out / NAME.err. Fails unless it exits 0 with exactly
# INPUT back.
echo_client() {
    local name=$1 target=$2 input=$3
    shift 3
    timeout 20 "$SDTLS" client "$target" --ca srv.pem --server-name localhost "$@" \
        <"$input" >"$name.out" 2>"$name.err"
    local rc=$?
    [ $rc -eq 0 ] || fail "$name: client exited $rc"
    assert_same_lines "$input" "$name.out"
}

# child_pid PID: the command that `spawn`'s timeout(1) (PID) runs, for a
# signal that timeout does not pass on (SIGUSR1).
child_pid() {
    local kids
    kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
    echo "${kids%% *}"
}

# server_stats NAME PID: asks the server (spawned as PID) for its counters
# (SIGUSR1) and sets STATS to the "stats ..." line it prints on NAME.err.
STATS=
server_stats() {
    local name=$1 pid before
    pid=$(child_pid "$2")
    [ -n "$pid" ] || fail "$name: no server process under $2"
    before=$(grep -c '^stats ' "$name.err")
    kill -USR1 "$pid" || fail "$name: cannot signal the server"
    wait_count "$name.err" '^stats ' $((before + 1)) 5 || fail "$name: no stats line after SIGUSR1"
    STATS=$(grep '^stats ' "$name.err" | tail -n1)
}

# stat_of COUNTER: a counter's value in $STATS (-1 if it is not there).
stat_of() {
    local v
    v=$(printf '%s\n' "$STATS" | sed -n "s/.* $1=\([0-9][0-9]*\).*/\1/p")
    echo "${v:--1}"
}

# The server (its log NAME.err) makes a cookie exchange, unless the engine
# cannot, which it says at start.
cookies_expected() {
    ! grep -q 'no cookie exchange' "$1.err"
}

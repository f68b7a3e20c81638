#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A fleet: three `sdtls server --echo` backends behind Debian's nginx (stream
# module, UDP, tests/fleet/nginx.conf as README.md shows it), in network
# namespaces made for the run, with the many-clients program fleet_client:
#
#   clients ns   c0 10.77.1.2, 10.77.1.10-59 (one source address per group of
#                clients: nginx hashes on the address) and 10.77.1.200-219
#   balancer ns  l0 10.77.1.1 (nginx listens on 10.77.1.1:4433), l1 10.77.2.1
#   backends ns  b0 10.77.2.11, .12, .13 (one server on each, port 4433)
#
# nginx proxies transparently (the backends see each client's own address
# and port), so their replies route back through the balancer's namespace,
# where a rule delivers them to nginx's sockets. Every backend gets the same
# certificate, --cookie-secret-file and --ticket-secret-file. Parts:
#   1. 500 clients connect through nginx and echo (full handshakes).
#   2. 20 clients get their cookies from backend A (nginx maps everything to
#      A), nginx is reloaded to map everything to B, then the clients send
#      their cookie-bearing ClientHellos: B accepts all 20 (20 cookie
#      requests in all: B asked for none).
#   3. The 500 resume their sessions and echo for 20 s; once all are
#      connected, backend B is killed (SIGKILL). Every client that B had
#      accepted, and only those, loses its connection (echo timeout),
#      connects again from a new socket through nginx and resumes on another
#      backend; the others lose nothing.
#   4. B restarted, 50 clients keep reconnecting (resuming) every second
#      while the ticket (and cookie) secret is rotated on every backend
#      (the files rewritten, SIGHUP) twice: 20 sessions from before the
#      first rotation resume after it and not after the second (full
#      handshakes), as abi/sdtls.h documents; the 50 resume every time.
# Prints each part's counts (connected, resumed, full, cookies, lost,
# reconnected, failed) and fails on any client that never (re)connects or
# any count that differs. IPVS (ipvsadm) is not tested: the script says so.
# Needs root (namespaces; apt-get for nginx when missing, with invoke-rc.d
# denied so its package starts no service); as another user, or where
# nginx cannot be installed, it says it skips (exit 77). Nothing outside the namespaces is touched but the
# package install; everything made is removed on exit, failure included.
# Bounded: each wait has a limit, the whole about a minute here (the
# limits are generous: the machine is shared).
#
#   bash tests/fleet/fleet_test.sh BUILD_DIR     (a build with the tool and
#                                                 tests/fleet/fleet_client)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
tool=$build/src/tool/sdtls
client=$build/tests/fleet/fleet_client
say() { echo "fleet: $*"; }
fail() { echo "fleet: FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    say "SKIP: needs root (network namespaces)"
    exit 77
fi
[ -x "$tool" ] && [ -x "$client" ] || fail "no $tool or $client: build them first"
if [ -e /proc/net/ip_vs ]; then
    say "IPVS: not tested (this test drives nginx only)"
else
    say "IPVS part skipped: /proc/net/ip_vs is absent (this kernel has no IPVS)"
fi

ns=sdtls-fleet-$$
work=$(mktemp -d)
backend_pid=() nginx_pid= background_pid= made_policy=
cleanup() {
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
    for pid in "${backend_pid[@]}" $background_pid; do
        kill -KILL "$pid" 2>/dev/null || :
    done
    # nginx: TERM to the master, which ends its workers.
    if [ -n "$nginx_pid" ]; then
        kill -TERM "$nginx_pid" 2>/dev/null || :
    fi
    wait 2>/dev/null || :
    for n in c l b; do
        ip netns del "$ns-$n" 2>/dev/null || :
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
if ! command -v nginx >/dev/null || [ ! -e "$stream_module" ]; then
    if ! command -v apt-get >/dev/null; then
        say "SKIP: no nginx with its stream module, and no apt-get to install them"
        exit 77
    fi
    say "installing nginx libnginx-mod-stream"
    # The package's postinst would start nginx as a service (port 80): a
    # policy-rc.d denies it (removed after), unless the system has its own.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        made_policy=1
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends nginx libnginx-mod-stream; } >&2; then
        say "SKIP: nginx and libnginx-mod-stream could not be installed with apt"
        exit 77
    fi
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
    made_policy=
fi

cd "$work"
started=$(date +%s)

# ---- the topology ----
for n in c l b; do
    ip netns add "$ns-$n"
    ip -n "$ns-$n" link set lo up
done
ip link add c0 netns "$ns-c" type veth peer name l0 netns "$ns-l"
ip link add l1 netns "$ns-l" type veth peer name b0 netns "$ns-b"
ip -n "$ns-c" addr add 10.77.1.2/24 dev c0
for i in $(seq 10 59) $(seq 200 219); do
    ip -n "$ns-c" addr add 10.77.1.$i/24 dev c0
done
ip -n "$ns-l" addr add 10.77.1.1/24 dev l0
ip -n "$ns-l" addr add 10.77.2.1/24 dev l1
for i in 11 12 13; do
    ip -n "$ns-b" addr add 10.77.2.$i/24 dev b0
done
ip -n "$ns-c" link set c0 up
ip -n "$ns-l" link set l0 up
ip -n "$ns-l" link set l1 up
ip -n "$ns-b" link set b0 up
# The backends answer the clients' own addresses: through the balancer,
# which takes everything that comes from them as its own (local delivery),
# so that the answers reach nginx's transparent sockets.
ip -n "$ns-b" route add 10.77.1.0/24 via 10.77.2.1
ip -n "$ns-l" rule add iif l1 lookup 100
ip -n "$ns-l" route add local 0.0.0.0/0 dev lo table 100

# ---- the backends ----
"$tool" cert --cert cert.pem --key key.pem --cn fleet.test >fingerprint
fingerprint=$(cat fingerprint)
head -c 48 /dev/urandom >ticket-secret
head -c 32 /dev/urandom >cookie-secret
start_backend() { # N (11, 12 or 13)
    ip netns exec "$ns-b" "$tool" server --listen "10.77.2.$1:4433" --cert cert.pem --key key.pem \
        --echo --max-peers 2000 --ticket-secret-file ticket-secret \
        --cookie-secret-file cookie-secret >/dev/null 2>>"backend-$1.log" &
    backend_pid[$1]=$!
}
for i in 11 12 13; do
    start_backend $i
done
# wait_for FILE PATTERN COUNT SECONDS: until FILE has COUNT lines matching.
wait_for() {
    local limit=$(($(date +%s) + $4))
    local n
    until n=$(grep -c -- "$2" "$1" 2>/dev/null) || n=0; [ "$n" -ge "$3" ]; do
        [ "$(date +%s)" -lt $limit ] || fail "$1: fewer than $3 lines '$2' after $4 s"
        sleep 0.1
    done
}
for i in 11 12 13; do
    wait_for backend-$i.log '^listening' 1 20
done

# ---- nginx ----
cp "$here/nginx.conf" nginx.conf
grep -q "load_module $stream_module;" nginx.conf || fail "nginx.conf loads no $stream_module"
# In the foreground (its own master, ended by the trap); logs here.
ip netns exec "$ns-l" nginx -p "$work" -c "$work/nginx.conf" -e stderr -g 'daemon off;' 2>nginx.err &
nginx_pid=$!
wait_for error.log 'start worker process ' 1 20
sleep 0.5
workers=$(grep -c 'start worker process ' error.log)
# reload CONFIG: nginx with this configuration: its new workers started,
# the old ones no longer listening.
reload() {
    local before
    before=$(grep -c 'gracefully shutting down' error.log || :)
    cp "$1" nginx.conf
    kill -HUP "$nginx_pid"
    wait_for error.log 'gracefully shutting down' $((before + workers)) 20
    sleep 0.5
}

# run NAME ARGS...: fleet_client in the clients' namespace; its output in
# NAME.out, its counts line in $counts.
run() {
    local name=$1
    shift
    ip netns exec "$ns-c" "$client" --server 10.77.1.1:4433 --fingerprint "$fingerprint" "$@" \
        >"$name.out" || fail "$name: $(tail -n 1 "$name.out"), see above"
    counts=$(tail -n 1 "$name.out")
    say "$name: $counts"
}
# expect NAME KEY=VALUE...: each count as given.
expect() {
    local name=$1 kv
    shift
    for kv in "$@"; do
        case " $counts " in *" $kv "*) ;; *) fail "$name: expected $kv, got: $counts" ;; esac
    done
}
log_lines() { wc -l <"backend-$1.log"; }
# counter N NAME: backend N's counter NAME now (its stats line on SIGUSR1).
counter() {
    local before
    before=$(grep -c '^stats ' "backend-$1.log") || before=0
    kill -USR1 "${backend_pid[$1]}"
    wait_for "backend-$1.log" '^stats ' $((before + 1)) 20
    grep '^stats ' "backend-$1.log" | tail -n 1 | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}
# The peers backend N accepted after line FROM of its log, sorted.
accepted_since() {
    tail -n +$(($2 + 1)) "backend-$1.log" | awk '$1 == "accepted" { print $2 }' | sort
}

# ---- 1. 500 clients through the balancer ----
mkdir sessions-0 sessions-1 sessions-2
run connect --sources 10.77.1.10+50 --clients 500 --save sessions-0 --seconds 2
expect connect connected=500 full=500 resumed=0 lost=0 failed=0
for i in 11 12 13; do
    n=$(accepted_since $i 0 | wc -l)
    say "backend 10.77.2.$i: $n clients"
    [ "$n" -gt 0 ] || fail "nginx sent no client to 10.77.2.$i"
done

# ---- 2. a cookie from backend A, accepted by backend B ----
sed '/server 10\.77\.2\.1[23]:/d' nginx.conf >only-a.conf
sed '/server 10\.77\.2\.1[13]:/d' nginx.conf >only-b.conf
cp nginx.conf all.conf
reload only-a.conf
a_from=$(log_lines 11) b_from=$(log_lines 12)
b_cookies=$(counter 12 cookies_sent)
mkfifo go
ip netns exec "$ns-c" "$client" --server 10.77.1.1:4433 --fingerprint "$fingerprint" \
    --sources 10.77.1.200+20 --clients 20 --pause-after-cookie <go >cookie.out &
background_pid=$!
exec 3>go
wait_for cookie.out '^paused$' 1 30
reload only-b.conf
echo go >&3
exec 3>&-
wait "$background_pid" || fail "cookie: $(tail -n 1 cookie.out)"
background_pid=
counts=$(tail -n 1 cookie.out)
say "cookie moved from A to B: $counts"
expect cookie connected=20 full=20 cookies=20 lost=0 failed=0
[ "$(accepted_since 12 "$b_from" | grep -c '^10\.77\.1\.2[01][0-9]:')" -eq 20 ] ||
    fail "cookie: backend B did not accept the 20 clients"
[ "$(accepted_since 11 "$a_from" | wc -l)" -eq 0 ] || fail "cookie: backend A accepted clients"
[ "$(counter 12 cookies_sent)" -eq "$b_cookies" ] || fail "cookie: backend B asked for cookies"
reload all.conf

# ---- 3. a backend killed: its clients resume elsewhere ----
for i in 11 12 13; do
    from[$i]=$(log_lines $i)
done
ip netns exec "$ns-c" "$client" --server 10.77.1.1:4433 --fingerprint "$fingerprint" \
    --sources 10.77.1.10+50 --clients 500 --sessions sessions-0 --save sessions-1 \
    --seconds 20 >failover.out &
background_pid=$!
# Once all 500 are connected (resumed), B goes.
limit=$(($(date +%s) + 60))
until [ "$( (for i in 11 12 13; do accepted_since $i "${from[$i]}"; done) | wc -l)" -ge 500 ]; do
    [ "$(date +%s)" -lt $limit ] || fail "failover: the 500 clients did not connect within 60 s"
    sleep 0.2
done
accepted_since 12 "${from[12]}" >on-b
kill -KILL "${backend_pid[12]}"
wait "${backend_pid[12]}" 2>/dev/null || :
say "failover: killed backend 10.77.2.12 with $(wc -l <on-b) clients"
wait "$background_pid" || fail "failover: $(tail -n 1 failover.out)"
background_pid=
counts=$(tail -n 1 failover.out)
say "failover: $counts"
lost=$(wc -l <on-b)
[ "$lost" -gt 0 ] || fail "failover: the killed backend had no clients"
expect failover connected=500 resumed=$((500 + lost)) full=0 lost=$lost reconnected=$lost failed=0
awk '$1 == "lost" { print $2 }' failover.out | sort >lost
cmp -s lost on-b || fail "failover: the clients that lost their connection are not those of the" \
    "killed backend: $(comm -3 lost on-b | head -n 5 | tr '\n' ' ')"

# ---- 4. ticket secrets rotated while clients resume ----
start_backend 12
wait_for backend-12.log '^listening' 2 20
# rotate: new secrets in the files, SIGHUP to every backend, each says so.
rotations=0
rotate() {
    rotations=$((rotations + 1))
    head -c 48 /dev/urandom >ticket-secret
    head -c 32 /dev/urandom >cookie-secret
    for i in 11 12 13; do
        kill -HUP "${backend_pid[$i]}"
    done
    for i in 11 12 13; do
        wait_for backend-$i.log '^rotated ticket-secret' $rotations 20
        wait_for backend-$i.log '^rotated cookie-secret' $rotations 20
    done
}
ip netns exec "$ns-c" "$client" --server 10.77.1.1:4433 --fingerprint "$fingerprint" \
    --sources 10.77.1.10+50 --clients 50 --sessions sessions-1 --reconnect-every 1000 \
    --seconds 15 >churn.out &
background_pid=$!
sleep 3
rotate
# The sessions of part 1, made before this rotation, still resume.
run one-rotation --sources 10.77.1.10+50 --clients 20 --sessions sessions-0 --save sessions-2
expect one-rotation connected=20 resumed=20 full=0 failed=0
rotate
# ... and no longer after a second one: full handshakes.
run two-rotations --sources 10.77.1.10+50 --clients 20 --sessions sessions-0
expect two-rotations connected=20 resumed=0 full=20 failed=0
wait "$background_pid" || fail "rotation: $(tail -n 1 churn.out)"
background_pid=
counts=$(tail -n 1 churn.out)
say "50 clients reconnecting every second through two rotations: $counts"
expect churn connected=50 full=0 lost=0 failed=0
resumed=$(echo "$counts" | sed -n 's/.* resumed=\([0-9]*\) .*/\1/p')
[ "${resumed:-0}" -ge 150 ] || fail "churn: fewer than 150 resumptions (3 a client) in 15 s"

say "PASS in $(($(date +%s) - started)) s"

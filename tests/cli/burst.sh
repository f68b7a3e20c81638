#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bursts: 5000 real ClientHellos from distinct ports in bursts of 200 get
# 5000 HelloVerifyRequests: the server's socket buffer holds a burst (the
# default --rcvbuf) that comes while the server has no CPU (it is stopped
# while each burst is sent, as a loaded host would leave it), and what the
# kernel drops anyway is counted in the stats line (kernel_drops, from
# SO_RXQ_OVFL). The run's rise of
# RcvbufErrors (/proc/net/snmp) is in the message when it fails. A buffer
# beyond net.core.rmem_max is granted to root (SO_RCVBUFFORCE) only.
. "$(dirname "$0")/lib.sh"
setup "$@"
TOTAL=${BURST_TOTAL:-5000}
BURST=${BURST_SIZE:-200}

make_cert srv localhost
start_sdtls_server srv --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo -v
granted=$(sed -n 's/^\* socket buffers: receive \([0-9]*\) bytes.*/\1/p' srv.err)
[ -n "$granted" ] || fail "-v did not say what the kernel granted: $(cat srv.err)"
# Without root, net.core.rmem_max caps the buffer (stock Debian: 208 KiB,
# reported as 416 KiB): the bursts are then what that holds, at 3 KiB per
# ClientHello (the kernel counts 2.3 KiB for one of 1 KiB on loopback) -
# still more than the kernel's default buffer of 208 KiB holds (about 90).
if [ $((granted / 3072)) -lt "$BURST" ]; then
    BURST=$((granted / 3072))
    note "the kernel granted $granted bytes (net.core.rmem_max $(cat /proc/sys/net/core/rmem_max), not root): bursts of $BURST"
fi
cookies_expected srv || { note "this engine makes no cookie exchange: no HelloVerifyRequests to count"; echo PASS; exit 0; }
# A real client's ClientHello (DTLS 1.2: always a cookie exchange), seen
# on its way through a relay; its ALPN list makes it about 1,100 bytes, the
# size of one with a post-quantum key share (X25519MLKEM768), which is what
# fills a receive buffer first.
alpn=$(for i in $(seq 30); do printf 'protocol-%02d-padding-to-size,' "$i"; done)
start_udp_peer capture relay "$SERVER_PORT" 0
echo x | timeout 20 "$SDTLS" client "127.0.0.1:$PEER_PORT" --ca srv.pem --server-name localhost \
    --max-version 1.2 --alpn "${alpn%,}" >cap.out 2>cap.err || fail "capture client: $(cat cap.err)"
hello=$(sed -n 's/^c2s [0-9]* //p' capture.log | head -n1)
[ -n "$hello" ] || fail "no ClientHello captured"
note "a ClientHello of $((${#hello} / 2)) bytes"

server_stats srv "$SERVER_PID"
sent_before=$(stat_of cookies_sent)
pid=$(child_pid "$SERVER_PID")
result=$(timeout 60 python3 "$(dirname "$UDP_PEER")/burst.py" "$SERVER_PORT" "$hello" "$TOTAL" \
    "$BURST" "$pid") ||
    fail "burst.py failed"
note "$result"
server_stats srv "$SERVER_PID"
answered=$(sed -n 's/.* answered=\([0-9]*\).*/\1/p' <<<"$result")
[ "$answered" -eq "$TOTAL" ] ||
    fail "$answered of $TOTAL ClientHellos answered ($result; server: $STATS; receive buffer" \
        "$granted bytes as the kernel counts them, net.core.rmem_max $(cat /proc/sys/net/core/rmem_max))"
[ "$(($(stat_of cookies_sent) - sent_before))" -eq "$TOTAL" ] || fail "cookies_sent: $STATS"
[ "$(stat_of kernel_drops)" -eq 0 ] || fail "kernel_drops: $STATS"

# A buffer beyond net.core.rmem_max: granted to root (SO_RCVBUFFORCE),
# capped at rmem_max otherwise; the kernel reports twice the bytes.
rmem_max=$(cat /proc/sys/net/core/rmem_max)
ask=$((rmem_max * 2))
start_sdtls_server big --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo -v --rcvbuf "$ask"
got=$(sed -n 's/^\* socket buffers: receive \([0-9]*\) bytes.*/\1/p' big.err)
if [ "$(id -u)" -eq 0 ]; then
    [ "$got" -eq $((ask * 2)) ] || fail "root asked for $ask bytes beyond rmem_max $rmem_max, got $got/2"
else
    [ "$got" -eq $((rmem_max * 2)) ] || fail "asked for $ask bytes (rmem_max $rmem_max), got $got/2"
fi

# What the kernel drops is counted: with the system's smallest buffer
# (--rcvbuf 1) most of each burst is lost, and kernel_drops says how many
# (as of the last datagram received: one more comes after the bursts).
start_sdtls_server small --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo --rcvbuf 1
pid=$(child_pid "$SERVER_PID")
result=$(timeout 60 python3 "$(dirname "$UDP_PEER")/burst.py" "$SERVER_PORT" "$hello" 1000 \
    "$BURST" "$pid") || fail "burst.py failed"
note "--rcvbuf 1: $result"
python3 -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", int(sys.argv[1])))' "$SERVER_PORT"
wait_for_stat() { # NAME PID COUNTER VALUE
    for _ in $(seq 50); do
        server_stats "$1" "$2"
        [ "$(stat_of "$3")" -ge "$4" ] && return 0
        sleep 0.1
    done
    return 1
}
wait_for_stat small "$SERVER_PID" dropped_malformed 1 || fail "the last datagram never came: $STATS"
answered=$(sed -n 's/.* answered=\([0-9]*\).*/\1/p' <<<"$result")
[ "$answered" -lt 1000 ] || fail "--rcvbuf 1 lost nothing ($result): the test cannot see drops"
[ "$(stat_of kernel_drops)" -eq $((1000 - answered)) ] ||
    fail "kernel_drops is not the $((1000 - answered)) unanswered: $STATS ($result)"
echo PASS

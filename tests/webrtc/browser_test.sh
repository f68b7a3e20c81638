#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# WebRTC against a real browser: Debian's headless Chromium and
# examples/webrtc/answerer.py on loopback, DTLS-SRTP keyed by sdtls, audio
# echoed over SRTP. Passes when, for each run that should work, the browser
# is connected, the answerer decrypted at least 50 RTP packets and the
# browser received at least 50 back (its getStats(), reported to the
# answerer); and when a fingerprint damaged on either side (the pin sdtls
# holds, the one the browser holds) fails the run within 10 s. Runs:
#   passive   a=setup:passive, one sdtls.Server (cookie exchange) for the browser
#   active    a=setup:active, sdtls.aio.TransportConnection as the DTLS client
#   two       two page loads at once, one sdtls.Server on one port
#   offer     the browser's fingerprint damaged in the offer: sdtls refuses it
#   answer    ours damaged in the answer: the browser refuses the handshake
#   hybrid    where the engine has X25519MLKEM768 (the current one), sdtls
#             preferring it: the browser must agree on it (DTLS 1.3)
# Each run is bounded (20 s, 10 s for the failures; about 4 s each here) and
# the whole by a minute: a run that would outlast it is cut short and fails.
# It ends only the processes it started (the answerer, and Chromium's
# process group).
#
#   sh tests/webrtc/browser_test.sh PYTHON [DIR]
#   sh tests/webrtc/browser_test.sh --go BINARY
#
# PYTHON is an interpreter that imports sdtls (DIR, when given, goes first on
# its PYTHONPATH: a build's python/ directory); the example's requirements
# are installed into it when missing. With --go, BINARY is examples/webrtc-go
# built (bindings/go/test.sh builds it), and the runs are passive, offer and
# answer. Chromium is installed with apt when missing (as root); where it
# cannot be, the test says so and exits 77.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
# Absolute: the answerer runs from the example's directory.
absolute() { case $1 in */*) echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;; *) echo "$1" ;; esac; }
go_answerer= python=
if [ "$1" = --go ]; then
    go_answerer=$(absolute "$2")
else
    python=$(absolute "$1")
    [ $# -ge 2 ] && export PYTHONPATH="$(cd "$2" && pwd)${PYTHONPATH:+:$PYTHONPATH}"
fi
example=$root/examples/webrtc

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        # With its recommended packages, as the test was made with them.
        echo "webrtc: installing chromium" >&2
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >&2 ||
            { echo "webrtc: SKIP: chromium could not be installed with apt" >&2; exit 77; }
    else
        echo "webrtc: SKIP: no chromium, and installing it needs root and apt" >&2
        exit 77
    fi
fi
[ -n "$go_answerer" ] || "$python" -c 'import aioice, pylibsrtp' 2>/dev/null ||
    "$python" -m pip install -q --disable-pip-version-check -r "$example/requirements.txt"

work=$(mktemp -d)
answerer_pid= browser_pgid=
# Ends what run() started: the answerer, and Chromium's process group (TERM,
# then KILL for what is left after 5 s).
stop() {
    if [ -n "$browser_pgid" ]; then
        kill -TERM "-$browser_pgid" 2>/dev/null || :
        i=0
        while kill -0 "-$browser_pgid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "-$browser_pgid" 2>/dev/null || :
        wait "$browser_pgid" 2>/dev/null || :
    fi
    if [ -n "$answerer_pid" ]; then
        kill -TERM "$answerer_pid" 2>/dev/null || :
        wait "$answerer_pid" 2>/dev/null || :
    fi
    answerer_pid= browser_pgid=
}
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

# run NAME LIMIT EXPECT SETUP PEERS QUERY [ARGS...]: the answerer (with
# ARGS), then Chromium with PEERS page loads of ?QUERY; EXPECT is pass (exit
# 0 and PASS) or fail (the answerer reports the failure). Prints the
# answerer's lines.
failures=0 runs=0 deadline=$(($(date +%s) + 60))
run() {
    name=$1 limit=$2 expect=$3 setup=$4 peers=$5 query=$6
    shift 6
    runs=$((runs + 1))
    left=$((deadline - $(date +%s)))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -le 0 ]; then
        echo "webrtc $name: FAIL: the test's minute is over" >&2
        failures=$((failures + 1))
        return
    fi
    log=$work/$name.log
    : >"$log"
    if [ -n "$go_answerer" ]; then  # a=setup:passive only
        (cd "$root/examples/webrtc-go" && exec "$go_answerer" -http-port 0 -peers "$peers" "$@") >"$log" 2>&1 &
    else
        (cd "$example" && exec "$python" -u answerer.py --http-port 0 --setup "$setup" --peers "$peers" "$@") >"$log" 2>&1 &
    fi
    answerer_pid=$!
    i=0
    until url=$(sed -n 's|^open \(http://[^ ]*\) .*|\1|p' "$log") && [ -n "$url" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$answerer_pid" 2>/dev/null; then
            echo "webrtc $name: FAIL: the answerer did not start:" >&2; cat "$log" >&2
            failures=$((failures + 1)); stop; return
        fi
        sleep 0.1
    done
    start=$(date +%s)
    # One headless Chromium per page load (headless mode takes one URL), all
    # in a process group of their own (setsid), ended as one.
    setsid sh -c 'n=0
        while [ $n -lt "$1" ]; do
            n=$((n + 1))
            chromium --headless=new --no-sandbox --no-first-run --user-data-dir="$2-$n" \
                --allow-loopback-in-peer-connection --use-fake-device-for-media-stream \
                --use-fake-ui-for-media-stream --autoplay-policy=no-user-gesture-required \
                ${SDTLS_WEBRTC_CHROMIUM_FLAGS:-} "$3" &
        done
        wait' - "$peers" "$work/profile-$name" "$url?$query" >"$work/chromium-$name.log" 2>&1 &
    browser_pgid=$!
    rc=0
    timeout "$limit" sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.2; done' - "$answerer_pid" || rc=124
    if [ $rc -eq 124 ]; then
        result=timeout
    else
        wait "$answerer_pid" && result=pass || result=fail
        answerer_pid=
    fi
    elapsed=$(($(date +%s) - start))
    stop
    sed "s/^/webrtc $name: /" "$log"
    if [ "$result" = "$expect" ]; then
        echo "webrtc $name: ok ($expect in ${elapsed} s)"
    else
        echo "webrtc $name: FAIL: expected $expect, got $result after ${elapsed} s; Chromium's last lines:" >&2
        tail -n 20 "$work/chromium-$name.log" >&2
        failures=$((failures + 1))
    fi
}

if [ -n "$go_answerer" ]; then
    run go-passive 20 pass passive 1 ""
    run go-offer 10 fail passive 1 corrupt=offer
    run go-answer 10 fail passive 1 corrupt=answer
    echo "webrtc: $((runs - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
    exit
fi
run passive 20 pass passive 1 ""
run active 20 pass active 1 ""
run two 20 pass passive 2 ""
# Both browsers went through the cookie exchange of the one sdtls.Server.
if ! grep -Eq 'sdtls.Server: ([2-9]|[1-9][0-9]+) cookies sent, 2 connections' "$work/two.log"; then
    echo "webrtc two: FAIL: not two browsers through the Server's cookie exchange" >&2
    failures=$((failures + 1))
fi
run offer 10 fail passive 1 corrupt=offer
run answer 10 fail passive 1 corrupt=answer
if "$python" -c 'import sdtls; sdtls.Config(groups=["X25519MLKEM768"])' 2>/dev/null; then
    run hybrid 20 pass passive 1 "" --groups X25519MLKEM768,X25519
    if ! grep -q 'DTLSv1.3 .* group X25519MLKEM768 ' "$work/hybrid.log"; then
        echo "webrtc hybrid: FAIL: the handshake did not use DTLS 1.3 with X25519MLKEM768" >&2
        failures=$((failures + 1))
    fi
else
    echo "webrtc hybrid: not run: this engine has no X25519MLKEM768"
fi
echo "webrtc: $((runs - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]

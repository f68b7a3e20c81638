#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The fuzz stage: builds the libFuzzer targets with clang (ASan + UBSan,
# the engine in BoringSSL's unsafe fuzzer mode), makes the seed corpora from
# real handshakes, replays every regression reproducer, then runs each
# target for a bounded time and prints its executions and coverage. A
# crash, leak or FINDING fails the stage; its input is kept as hex under
# BUILD/findings/ to become a regression (tests/fuzz/README.md).
#
#   sh tests/fuzz/run.sh [TARGET...]
#   FUZZ_SECONDS=30  seconds per target (0: build, seeds and replay only)
#   FUZZ_JOBS=2      targets run at once
#   BUILD_DIR        as for tests/run.sh (the build goes to BUILD_DIR/fuzz)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}/fuzz
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
targets=${*:-client_datagrams server_datagrams server_frontend pem api_sequence}

if ! command -v clang >/dev/null 2>&1; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "fuzz: installing clang" >&2
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        clang libclang-rt-14-dev >&2
fi
launcher=
command -v ccache >/dev/null 2>&1 && launcher="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
start=$(date +%s)
# -O1: the engine compiles about twice as fast as at -O2 and fuzzes nearly
# as fast.
# shellcheck disable=SC2086
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS=-O1 -DCMAKE_CXX_FLAGS=-O1 -DSDTLS_FUZZ=ON -DSDTLS_BUILD_TOOL=OFF \
    -DSDTLS_WERROR=ON $launcher >/dev/null
ninja -C "$build" fuzz_all >/dev/null
echo "fuzz: built in $(( $(date +%s) - start )) s"

bin=$build/tests/fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rm -rf "$build/seeds"
"$bin/fuzz_make_corpus" "$build/seeds"

# Regressions first: every reproducer ever found, replayed without libFuzzer.
for t in $targets; do
    dir=$root/tests/fuzz/regressions/$t
    if [ -d "$dir" ] && [ -n "$(ls "$dir")" ]; then
        printf 'fuzz: %s regressions: ' "$t"
        "$bin/replay_$t" "$dir"
    fi
done
[ "$seconds" -gt 0 ] || exit 0

# One target: fuzz, then report. Returns non-zero on a finding.
fuzz_one() {
    t=$1
    log=$build/logs/$t.log
    mkdir -p "$build/corpus/$t" "$build/findings/$t" "$build/logs"
    rc=0
    "$bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/findings/$t/" "$build/corpus/$t" "$build/seeds/$t" >"$log" 2>&1 || rc=$?
    edges=$(sed -n 's/.*Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -n 1)
    done_line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$done_line" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    pct=$(awk -v c="${cov:-0}" -v e="${edges:-0}" 'BEGIN { if (e > 0) printf "%.1f", 100 * c / e; else print "?" }')
    echo "fuzz: $t: ${runs:-?} runs in ${seconds} s (${rate:-?}/s), coverage ${cov:-?} of ${edges:-?} edges (${pct}%), ${ft:-?} features, corpus ${corp:-?}"
    if [ "$rc" -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $rc); the log's end:"
        tail -n 40 "$log"
        for f in "$build/findings/$t"/*; do
            [ -f "$f" ] || continue
            case $f in *.hex) continue ;; esac
            { echo "# $t: $(basename "$f") ($(date -u +%Y-%m-%d)); describe the bug here"; od -An -v -tx1 "$f"; } >"$f.hex"
            echo "fuzz: reproducer: $f.hex (copy it to tests/fuzz/regressions/$t/ once fixed)"
        done
        return 1
    fi
}

mkdir -p "$build/logs"
failed=0
pids=
running=0
for t in $targets; do
    fuzz_one "$t" >"$build/logs/$t.summary" 2>&1 &
    pids="$pids $!:$t"
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
for p in $pids; do
    t=${p#*:}
    cat "$build/logs/$t.summary"
    grep -q "FAILED" "$build/logs/$t.summary" && failed=1
done
echo "fuzz: stage took $(( $(date +%s) - start )) s"
exit $failed

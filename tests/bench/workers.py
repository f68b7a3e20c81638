#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How `sdtls server --workers N` scales over loopback: full handshakes per
second and 1200-byte echo datagrams per second for 1 and 2 workers, with
the clients in other processes (bench_load), and the ratio.

    tests/bench/workers.py [--tool build/release/src/tool/sdtls]
                           [--bin-dir build/release/tests/bench]
                           [--workers 1,2] [--rounds 3] [--seconds 3]
                           [--clients 1] [--conns 32] [--json FILE] [--quick]

Each round starts one server per worker count (interleaved, so that a
change in the machine's load hits every count alike) and runs against it,
in turn: --clients bench_load processes of --conns connections each making
full handshakes (DTLS 1.2, ECDHE-ECDSA P-256, X25519, no resumption, then
close_notify and a new port), then the same making echoes of 1200 bytes
(8 in flight per connection). Besides the rates it reports the server's
CPU time per operation (from /proc/PID/stat), which says what the server
would do with cores of its own: on a 2-core machine the clients share the
cores with the workers, so the rates' ratio is bounded by them. Prints a
Markdown table (median and range over the rounds); --json writes every
figure. --quick (one short round, few connections) is the CI smoke run:
it checks that every figure is there, never how large it is. Exits 1 when
a process fails or a figure is missing.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process and its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Server:
    def __init__(self, tool, workdir, workers):
        self.err = open(os.path.join(workdir, f"server-{workers}.err"), "w+")
        self.proc = subprocess.Popen(
            [tool, "server", "--listen", "127.0.0.1:0", "--cert",
             os.path.join(workdir, "srv.pem"), "--key", os.path.join(workdir, "srv.key"),
             "--echo", "--mtu", "1472", "--max-peers", "100000", "--workers", str(workers)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err)
        end = time.monotonic() + 10
        self.port = None
        while self.port is None:
            if time.monotonic() > end or self.proc.poll() is not None:
                sys.exit(f"workers.py: the server with {workers} workers did not start")
            time.sleep(0.05)
            self.err.seek(0)
            m = re.search(r"^listening .*:(\d+)$", self.err.read(), re.M)
            self.port = m.group(1) if m else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.err.close()


def load(bin_dir, port, mode, clients, conns, seconds):
    """Runs `clients` bench_load processes at once; returns their figures
    summed (rates) or averaged (per-operation costs)."""
    cmd = [os.path.join(bin_dir, "bench_load"), "--target", f"127.0.0.1:{port}", "--mode", mode,
           "--conns", str(conns), "--seconds", str(seconds)]
    if mode == "echo":
        cmd += ["--size", "1200", "--window", "8"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(clients)]
    figures = {}
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 60)
        if p.returncode != 0:
            sys.exit(f"workers.py: bench_load --mode {mode} exited {p.returncode}")
        for line in out.splitlines():
            fig = json.loads(line)
            figures.setdefault(fig["metric"], []).append(fig["value"])
    return {k: (sum(v) if not k.startswith("client_cpu") else statistics.mean(v))
            for k, v in figures.items()}


def measure(args, workdir, workers):
    server = Server(args.tool, workdir, workers)
    result = {}
    try:
        for mode, rate, unit in (("handshakes", "handshakes_per_s", "handshake"),
                                 ("echo", "echo1200_dgrams_per_s", "echo")):
            cpu0 = cpu_seconds(server.proc.pid)
            figures = load(args.bin_dir, server.port, mode, args.clients, args.conns, args.seconds)
            cpu = cpu_seconds(server.proc.pid) - cpu0
            ops = figures[rate] * args.seconds
            result[rate] = figures[rate]
            result[f"server_cpu_us_per_{unit}"] = cpu * 1e6 / ops if ops > 0 else float("nan")
            result[f"client_cpu_us_per_{unit}"] = figures[f"client_cpu_us_per_{unit}"]
            if mode == "handshakes":
                result["handshakes_failed"] = figures["handshakes_failed"]
    finally:
        server.stop()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", default=os.path.join(ROOT, "build/release/src/tool/sdtls"))
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build/release/tests/bench"))
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.conns = 1, 0.3, 4
    counts = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as workdir:
        subprocess.run([args.tool, "cert", "--cert", os.path.join(workdir, "srv.pem"), "--key",
                        os.path.join(workdir, "srv.key"), "--cn", "localhost"],
                       check=True, stdout=subprocess.DEVNULL)
        rounds = {w: [] for w in counts}
        for _ in range(args.rounds):
            for w in counts:
                rounds[w].append(measure(args, workdir, w))
    metrics = list(rounds[counts[0]][0].keys())
    print(f"sdtls server --workers, loopback, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.seconds} s, "
          f"{args.clients} client process(es) x {args.conns} connections\n")
    print("| figure | " + " | ".join(f"{w} worker{'s' if w > 1 else ''}" for w in counts) + " |")
    print("|---|" + "---|" * len(counts))
    table = {}
    for m in metrics:
        cells = []
        for w in counts:
            values = [r[m] for r in rounds[w]]
            table.setdefault(w, {})[m] = {"median": statistics.median(values),
                                         "min": min(values), "max": max(values)}
            cells.append(f"{statistics.median(values):,.1f} ({min(values):,.1f}-{max(values):,.1f})")
        print(f"| {m} | " + " | ".join(cells) + " |")
    if len(counts) > 1:
        base = table[counts[0]]
        for w in counts[1:]:
            for m in ("handshakes_per_s", "echo1200_dgrams_per_s"):
                ratio = table[w][m]["median"] / base[m]["median"]
                print(f"\n{m}: {w} workers / {counts[0]} = {ratio:.2f}x", end="")
                table[w][f"{m}_ratio"] = ratio
        print()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": {str(w): rounds[w] for w in counts},
                       "summary": {str(w): table[w] for w in counts}}, f, indent=1)
    missing = [m for w in counts for m in ("handshakes_per_s", "echo1200_dgrams_per_s")
               if not table[w][m]["median"] > 0]
    if missing:
        sys.exit(f"workers.py: missing figures: {missing}")


main()

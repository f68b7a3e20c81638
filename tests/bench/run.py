#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sdtls benchmark driver: sdtls (shared and static) against the BoringSSL it
embeds, driven directly, and against Debian's OpenSSL 3.

Runs the four bench_* executables (tests/bench/CMakeLists.txt) in interleaved
rounds, each printing one JSON line per figure, then the memory case once per
variant, and reports median, min and max of every figure with the ratios
sdtls/raw BoringSSL and sdtls/OpenSSL as a Markdown table (stdout) and JSON
(--json). With --callgrind, each throughput case (and the full handshake)
also runs under `valgrind --tool=callgrind` for a fixed count, counting only
inside bench_measured(): instructions per record, free of timing noise.

    tests/bench/run.py [--bin-dir DIR] [--json FILE] [--quick] [--callgrind] [--udp]

With --udp (or --udp-only), bench_udp also runs an sdtls client end to end
over loopback UDP against an sdtls_server echo thread (plain and with
recvmmsg/sendmmsg) and against `gnutls-serv --udp --echo` (started here):
handshake time, ping round trips, echo throughput.

Exits 1 when a variant failed or a figure is missing (the smoke test's check),
never because something is slow. Standard library only.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (name in the JSON, executable, column heading)
VARIANTS = [
    ("sdtls-shared", "bench_sdtls_shared", "sdtls .so"),
    ("sdtls-static", "bench_sdtls_static", "sdtls .a"),
    ("boringssl", "bench_boringssl", "BoringSSL raw"),
    ("openssl", "bench_openssl", "OpenSSL 3 raw"),
]
RAW = ("boringssl", "openssl")
SIZES = (16, 1200, 8000)

# (metric, label, which variants have it: "all", "raw" or "sdtls")
METRICS = [
    ("handshakes_per_s", "Full handshakes/s (client+server pairs)", "all"),
    ("resumed_per_s", "Resumed handshakes/s", "all"),
]
for _s in SIZES:
    METRICS += [
        ("data%d_mb_per_s" % _s, "%d B records: MB/s one way" % _s, "all"),
        ("data%d_records_per_s" % _s, "%d B records: records/s" % _s, "all"),
    ]
METRICS += [
    ("heap_per_pair", "Heap per idle established pair (B, mallinfo2)", "all"),
    ("rss_per_pair", "RSS per idle established pair (B)", "all"),
    ("blocks_per_pair", "Live heap blocks per idle pair", "all"),
    ("server_heap_per_peer", "sdtls_server heap per established idle peer (B, mallinfo2)", "sdtls"),
    ("server_blocks_per_peer", "sdtls_server live heap blocks per idle peer", "sdtls"),
]
for _s in SIZES:
    METRICS.append(("data%d_allocs" % _s, "Allocations per %d B datagram (send+receive)" % _s, "all"))
METRICS += [
    ("handshake_allocs", "Allocations per full handshake (pair)", "all"),
    ("resumed_allocs", "Allocations per resumed handshake (pair)", "all"),
    ("server_hvr_per_s", "sdtls_server HelloVerifyRequests/s", "sdtls"),
    ("server_hvr_allocs", "sdtls_server allocations per HelloVerifyRequest", "sdtls"),
    ("server_conns_per_s", "sdtls_server connections/s (cookie exchange, handshake, close)", "sdtls"),
    ("server_conn_allocs", "sdtls_server allocations per connection", "sdtls"),
]
# Callgrind cases: (key, row label, executable arguments, count, quick count).
CALLGRIND_CASES = [
    ("16", "16 B record", ["--cases", "data", "--sizes", "16"], 20000, 2000),
    ("1200", "1200 B record", ["--cases", "data", "--sizes", "1200"], 10000, 1000),
    ("8000", "8000 B record", ["--cases", "data", "--sizes", "8000"], 2000, 200),
    ("handshake", "Full handshake (pair)", ["--cases", "handshake"], 200, 10),
    ("resumed", "Resumed handshake (pair)", ["--cases", "resume"], 1000, 20),
]


def expected(variant, scope):
    return scope == "all" or (scope == "raw") == (variant in RAW)


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summary(v):
    """Median, min, max and count of the values `v` of one figure; None when there are none."""
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


class Run:
    def __init__(self, args):
        self.args = args
        self.values = {}   # (variant, metric) -> [value, ...]
        self.notes = {}    # (variant, metric) -> note of an n/a figure
        self.units = {}    # metric -> unit
        self.info = {}     # variant -> info object
        self.errors = []
        self.callgrind = {}  # variant -> {case key: instructions per operation}

    def exe(self, exe_name):
        return os.path.join(self.args.bin_dir, exe_name)

    def run_exe(self, variant, exe_name, extra):
        cmd = [self.exe(exe_name)] + extra
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.errors.append("%s: %s" % (variant, e))
            return
        for line in proc.stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                self.errors.append("%s: not JSON: %r" % (variant, line))
                continue
            if "info" in obj:
                self.info[variant] = obj["info"]
                continue
            key = (variant, obj["metric"])
            self.units[obj["metric"]] = obj.get("unit", "")
            if obj.get("value") is None:
                self.notes[key] = obj.get("note", "n/a")
            else:
                self.values.setdefault(key, []).append(float(obj["value"]))
        if proc.returncode != 0:
            self.errors.append("%s %s: exit %d: %s" % (variant, " ".join(extra), proc.returncode,
                                                        proc.stderr.strip()[-500:]))

    def timed(self):
        a = self.args
        cases = "info,handshake,resume,data,server"
        for r in range(1, a.rounds + 1):
            # Interleaved, and each round starts with another variant, so
            # that no variant always runs first (or last) on a busy machine.
            order = VARIANTS[(r - 1) % len(VARIANTS):] + VARIANTS[:(r - 1) % len(VARIANTS)]
            for variant, exe_name, _ in order:
                log("round %d/%d: %s" % (r, a.rounds, variant))
                self.run_exe(variant, exe_name, ["--round", str(r), "--cases", cases,
                                                 "--seconds", str(a.seconds)])
        for variant, exe_name, _ in VARIANTS:
            log("memory: %s, %d pairs, %d server peers" % (variant, a.pairs, a.peers))
            self.run_exe(variant, exe_name, ["--cases", "memory,server_memory",
                                             "--pairs", str(a.pairs), "--peers", str(a.peers)])

    def run_callgrind(self):
        a = self.args
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            self.errors.append("--callgrind: valgrind not found")
            return
        outdir = a.callgrind_dir or tempfile.mkdtemp(prefix="sdtls-callgrind-")
        os.makedirs(outdir, exist_ok=True)
        self.callgrind_dir = outdir
        self.callgrind_counts = {}
        for variant, exe_name, _ in VARIANTS:
            for key, label, args, count, quick_count in CALLGRIND_CASES:
                n = quick_count if a.quick else count
                self.callgrind_counts[key] = n
                out = os.path.join(outdir, "callgrind.%s.%s.out" % (variant, key))
                log("callgrind: %s, %d x %s" % (variant, n, label))
                cmd = [valgrind, "--tool=callgrind", "--callgrind-out-file=" + out,
                       "--collect-atstart=no", "--toggle-collect=bench_measured",
                       "--dump-instr=no", self.exe(exe_name)] + args + ["--count", str(n)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                total = None
                if proc.returncode == 0 and os.path.exists(out):
                    with open(out) as f:
                        for line in f:
                            m = re.match(r"^(summary|totals):\s+(\d+)", line)
                            if m:
                                total = int(m.group(2))
                                break
                if total == 0:
                    total = None  # nothing counted: the toggle matched no call
                if total is None:
                    self.errors.append("callgrind %s %s: exit %d: %s" % (
                        variant, key, proc.returncode, proc.stderr.strip()[-500:]))
                    continue
                self.callgrind.setdefault(variant, {})[key] = total / n
        # Where sdtls spends more than the engine alone, 16-byte records.
        n16 = self.callgrind_counts["16"]
        self.callgrind_extra = top_extra(
            os.path.join(outdir, "callgrind.sdtls-shared.16.out"), n16,
            os.path.join(outdir, "callgrind.boringssl.16.out"), n16)

    def stats(self, variant, metric):
        return summary(self.values.get((variant, metric)))

    def missing(self):
        out = []
        for variant, _, _ in VARIANTS:
            if variant not in self.info:
                out.append("%s: info" % variant)
            for metric, _, scope in METRICS:
                key = (variant, metric)
                if expected(variant, scope):
                    if not self.values.get(key):
                        out.append("%s: %s" % (variant, metric))
                elif key not in self.notes and not self.values.get(key):
                    out.append("%s: %s (not even marked n/a)" % (variant, metric))
            if self.args.callgrind:
                for key, _, _, _, _ in CALLGRIND_CASES:
                    if key not in self.callgrind.get(variant, {}):
                        out.append("%s: callgrind %s" % (variant, key))
        return out

    def ratio(self, num, den, metric):
        a, b = self.stats(num, metric), self.stats(den, metric)
        if a is None or b is None or b["median"] == 0:
            return None
        return a["median"] / b["median"]

    def to_json(self):
        figures = {}
        for metric, label, _ in METRICS:
            row = {"label": label, "unit": self.units.get(metric, ""), "variants": {}}
            for variant, _, _ in VARIANTS:
                st = self.stats(variant, metric)
                if st is not None:
                    row["variants"][variant] = dict(st, values=self.values[(variant, metric)])
                elif (variant, metric) in self.notes:
                    row["variants"][variant] = {"note": self.notes[(variant, metric)]}
            row["ratios"] = {
                "sdtls-shared/boringssl": self.ratio("sdtls-shared", "boringssl", metric),
                "sdtls-static/boringssl": self.ratio("sdtls-static", "boringssl", metric),
                "sdtls-shared/openssl": self.ratio("sdtls-shared", "openssl", metric),
            }
            figures[metric] = row
        doc = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpu": cpu_model(), "cpus": os.cpu_count(), "commit": git_commit(),
            "mode": "quick" if self.args.quick else "full",
            "rounds": self.args.rounds, "seconds_per_case": self.args.seconds,
            "memory_pairs": self.args.pairs, "server_memory_peers": self.args.peers,
            "info": self.info, "figures": figures,
            "errors": self.errors,
        }
        if self.args.callgrind:
            doc["callgrind"] = {
                "instructions_per_operation": self.callgrind,
                "ratios": {k: {
                    "sdtls-shared/boringssl": cg_ratio(self.callgrind, "sdtls-shared", "boringssl", k),
                    "sdtls-static/boringssl": cg_ratio(self.callgrind, "sdtls-static", "boringssl", k),
                    "sdtls-shared/openssl": cg_ratio(self.callgrind, "sdtls-shared", "openssl", k),
                } for k, _, _, _, _ in CALLGRIND_CASES},
                "counts": getattr(self, "callgrind_counts", {}),
                "files": getattr(self, "callgrind_dir", None),
                "top_extra_16B_sdtls_shared_vs_boringssl": getattr(self, "callgrind_extra", []),
            }
        return doc


def annotate_exclusive(path):
    """Exclusive instructions per function of one callgrind.out file, by
    callgrind_annotate, with the source path cut to its file name and the
    object name dropped (so one function in libsdtls.so and in a static
    executable compares as the same)."""
    tool = shutil.which("callgrind_annotate")
    if tool is None:
        return None
    out = subprocess.run([tool, "--inclusive=no", "--auto=no", "--threshold=100", path],
                         capture_output=True, text=True).stdout
    costs = {}
    started = False
    for line in out.splitlines():
        if line.rstrip().endswith("file:function"):
            started = True
            continue
        if not started:
            continue
        m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S.*)$", line)
        if not m:
            if costs and not line.startswith("-"):
                break  # the end of the function table
            continue
        name = re.sub(r"\s+\[[^\]]*\]$", "", m.group(2))
        if ":" in name:
            f, fn = name.split(":", 1)
            f = os.path.basename(f)
            if f in ("backend_sdtls.c", "backend_raw.c"):
                f = "backend_*.c"  # the harness's side of each variant
            name = f + ":" + re.sub(r"\(.*\)$", "", fn).strip()
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def top_extra(a_path, a_count, b_path, b_count, n=12):
    """The functions with the most more instructions per record in a than in b."""
    a, b = annotate_exclusive(a_path), annotate_exclusive(b_path)
    if a is None or b is None:
        return []
    rows = []
    for name in set(a) | set(b):
        pa, pb = a.get(name, 0) / a_count, b.get(name, 0) / b_count
        rows.append((pa - pb, name, pa, pb))
    rows.sort(reverse=True)
    return [{"function": name, "extra": d, "sdtls": pa, "raw": pb}
            for d, name, pa, pb in rows[:n] if d > 0]


def cg_ratio(cg, num, den, key):
    a, b = cg.get(num, {}).get(key), cg.get(den, {}).get(key)
    return a / b if a and b else None


def fmt(x):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_ratio(x):
    return "–" if x is None else "%.2f" % x


def cell(run, variant, metric):
    st = run.stats(variant, metric)
    if st is None:
        note = run.notes.get((variant, metric))
        return note if note else "missing"
    if st["n"] == 1 or st["min"] == st["max"]:
        return fmt(st["median"])
    return "%s (%s–%s)" % (fmt(st["median"]), fmt(st["min"]), fmt(st["max"]))


TABLE_TAIL = " | .so / BoringSSL | .a / BoringSSL | .so / OpenSSL |"


def markdown_timed(run):
    a = run.args
    heads = [h for _, _, h in VARIANTS]
    lines = ["| Figure | " + " | ".join(heads) + TABLE_TAIL,
             "|---|" + "---:|" * (len(heads) + 3)]
    for metric, label, _ in METRICS:
        row = [label] + [cell(run, v, metric) for v, _, _ in VARIANTS]
        row += [fmt_ratio(run.ratio("sdtls-shared", "boringssl", metric)),
                fmt_ratio(run.ratio("sdtls-static", "boringssl", metric)),
                fmt_ratio(run.ratio("sdtls-shared", "openssl", metric))]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Median (min–max) of %d round(s) of %.2g s per case; memory from %d pairs "
                 "and %d server peers, measured once. MB = 10^6 bytes." % (
                     a.rounds, a.seconds, a.pairs, a.peers))
    return "\n".join(lines)


def markdown_callgrind(run):
    heads = [h for _, _, h in VARIANTS]
    lines = ["| Instructions per operation (callgrind) | " + " | ".join(heads) + TABLE_TAIL,
             "|---|" + "---:|" * (len(heads) + 3)]
    for key, label, _, _, _ in CALLGRIND_CASES:
        row = [label] + [fmt(run.callgrind.get(v, {}).get(key)) for v, _, _ in VARIANTS]
        row += [fmt_ratio(cg_ratio(run.callgrind, "sdtls-shared", "boringssl", key)),
                fmt_ratio(cg_ratio(run.callgrind, "sdtls-static", "boringssl", key)),
                fmt_ratio(cg_ratio(run.callgrind, "sdtls-shared", "openssl", key))]
        lines.append("| " + " | ".join(row) + " |")
    counts = getattr(run, "callgrind_counts", {})
    lines.append("")
    lines.append("A record is one client write + server read; counted inside bench_measured() only, "
                 "over %s; callgrind output in %s" % (
                     ", ".join("%s x %s" % (counts.get(k, "?"), label)
                               for k, label, _, _, _ in CALLGRIND_CASES),
                     getattr(run, "callgrind_dir", "?")))
    extra = getattr(run, "callgrind_extra", [])
    if extra:
        lines += ["", "Top extra functions, 16 B records, sdtls .so against raw BoringSSL "
                  "(exclusive instructions per record, callgrind_annotate --inclusive=no):", "",
                  "| Function | sdtls .so | BoringSSL raw | extra |", "|---|---:|---:|---:|"]
        for r in extra:
            lines.append("| `%s` | %s | %s | %s |" % (r["function"], fmt(r["sdtls"]), fmt(r["raw"]),
                                                   fmt(r["extra"])))
    return "\n".join(lines)


# ---- --udp: end to end over loopback UDP (bench_udp, udp_bench.c) ----

# (key, column heading, bench_udp --server, sizes); "gnutls" is started here.
UDP_SERVERS = [
    ("sdtls", "sdtls_server thread (recvfrom/sendto)", "sdtls", "16,1200"),
    ("sdtls-mmsg", "sdtls_server thread (recvmmsg/sendmmsg)", "sdtls-mmsg", "16,1200"),
    # gnutls-serv's UDP echo answers at most 254 bytes of a record: 16 B only.
    ("gnutls", "gnutls-serv --udp --echo", None, "16"),
]
UDP_METRICS = [
    ("udp_handshake_ms", "Handshake over loopback (ms, one)"),
    ("udp_rtt16_median_us", "16 B ping round trip, median (µs)"),
    ("udp_rtt16_p99_us", "16 B ping round trip, p99 (µs)"),
    ("udp_rtt1200_median_us", "1200 B ping round trip, median (µs)"),
    ("udp_rtt1200_p99_us", "1200 B ping round trip, p99 (µs)"),
    ("udp_echo16_dgrams_per_s", "16 B echo: datagrams/s"),
    ("udp_echo16_mb_per_s", "16 B echo: MB/s"),
    ("udp_echo16_client_cpu_us", "16 B echo: client CPU per echo (µs)"),
    ("udp_echo1200_dgrams_per_s", "1200 B echo: datagrams/s"),
    ("udp_echo1200_mb_per_s", "1200 B echo: MB/s"),
    ("udp_echo1200_client_cpu_us", "1200 B echo: client CPU per echo (µs)"),
    ("udp_echo16_lost", "16 B echo: datagrams lost"),
    ("udp_echo1200_lost", "1200 B echo: datagrams lost"),
]


def free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


class Udp:
    """bench_udp against each server, a.rounds interleaved rounds."""

    def __init__(self, args):
        self.args = args
        self.values = {}   # (server key, metric) -> [value, ...]
        self.errors = []
        self.skipped = {}  # server key -> why

    def start_gnutls(self, tmp):
        gnutls, openssl = shutil.which("gnutls-serv"), shutil.which("openssl")
        if gnutls is None or openssl is None:
            self.skipped["gnutls"] = "gnutls-serv or openssl (for its certificate) not found"
            return None, None
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "30", "-subj", "/CN=bench.test"],
                       capture_output=True, check=True)
        port = free_udp_port()
        # It prints every datagram it echoes: to /dev/null.
        proc = subprocess.Popen([gnutls, "--udp", "--echo", "-q", "-p", str(port),
                                 "--x509certfile", cert, "--x509keyfile", key],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return proc, "127.0.0.1:%d" % port

    def run(self):
        a = self.args
        exe = os.path.join(a.bin_dir, "bench_udp")
        tmp = tempfile.mkdtemp(prefix="sdtls-udp-")
        proc, addr = self.start_gnutls(tmp)
        try:
            for r in range(1, a.rounds + 1):
                servers = UDP_SERVERS[(r - 1) % len(UDP_SERVERS):] + \
                    UDP_SERVERS[:(r - 1) % len(UDP_SERVERS)]
                for key, _, server, sizes in servers:
                    if key in self.skipped:
                        continue
                    if server is None:
                        server = addr
                    log("udp round %d/%d: %s" % (r, a.rounds, key))
                    cmd = [exe, "--server", server, "--label", key, "--sizes", sizes,
                           "--seconds", str(a.udp_seconds), "--pings", str(a.udp_pings)]
                    try:
                        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                    except subprocess.TimeoutExpired:
                        self.errors.append("udp %s: timeout" % key)
                        continue
                    for line in p.stdout.splitlines():
                        try:
                            obj = json.loads(line)
                        except ValueError:
                            continue
                        if obj.get("value") is not None:
                            self.values.setdefault((key, obj["metric"]), []).append(
                                float(obj["value"]))
                    if p.returncode != 0:
                        self.errors.append("udp %s: exit %d: %s" % (key, p.returncode,
                                                                      p.stderr.strip()[-300:]))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
            shutil.rmtree(tmp, ignore_errors=True)

    def stats(self, key, metric):
        return summary(self.values.get((key, metric)))

    def missing(self):
        out = []
        for key, _, _, sizes in UDP_SERVERS:
            if key in self.skipped:
                continue
            for metric, _ in UDP_METRICS:
                m = re.search(r"(\d+)_", metric)
                if m and m.group(1) not in sizes.split(","):
                    continue
                if not self.values.get((key, metric)):
                    out.append("udp %s: %s" % (key, metric))
        return out

    def markdown(self):
        a = self.args
        heads = [h for _, h, _, _ in UDP_SERVERS]
        lines = ["| Loopback UDP, sdtls client against | " + " | ".join(heads) + " |",
                 "|---|" + "---:|" * len(heads)]
        for metric, label in UDP_METRICS:
            row = [label]
            for key, _, _, _ in UDP_SERVERS:
                st = self.stats(key, metric)
                if key in self.skipped:
                    row.append("skipped")
                elif st is None:
                    row.append("–")
                elif st["n"] == 1 or st["min"] == st["max"]:
                    row.append(fmt(st["median"]))
                else:
                    row.append("%s (%s–%s)" % (fmt(st["median"]), fmt(st["min"]), fmt(st["max"])))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append("Median (min–max) of %d round(s); per size %d pings, then %.2g s of echo with "
                     "32 records in flight; wall-clock rates, client and server on one 2-way "
                     "machine. MB = 10^6 bytes of payload echoed." % (
                         a.rounds, a.udp_pings, a.udp_seconds))
        for key, why in self.skipped.items():
            lines.append("%s skipped: %s" % (key, why))
        return "\n".join(lines)

    def to_json(self):
        out = {}
        for key, head, _, _ in UDP_SERVERS:
            out[key] = {"label": head, "figures": {}}
            if key in self.skipped:
                out[key]["skipped"] = self.skipped[key]
            for metric, label in UDP_METRICS:
                st = self.stats(key, metric)
                if st is not None:
                    out[key]["figures"][metric] = dict(st, label=label,
                                                       values=self.values[(key, metric)])
        return {"servers": out, "rounds": self.args.rounds, "pings": self.args.udp_pings,
                "seconds": self.args.udp_seconds, "errors": self.errors}


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "release", "tests", "bench"),
                   help="directory of the bench_* executables (default: build/release/tests/bench)")
    p.add_argument("--json", help="write the results as JSON to this file")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 round, short cases, 500 pairs (a few seconds)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 5; quick 1)")
    p.add_argument("--seconds", type=float, help="seconds per timed case (default 0.75; quick 0.05)")
    p.add_argument("--pairs", type=int, help="pairs for the memory case (default 10000; quick 500)")
    p.add_argument("--callgrind", action="store_true",
                   help="also count instructions per record (and per handshake) under "
                        "valgrind --tool=callgrind")
    p.add_argument("--callgrind-only", action="store_true",
                   help="only the callgrind measurement (implies --callgrind)")
    p.add_argument("--callgrind-dir", help="keep the callgrind.out files here")
    p.add_argument("--peers", type=int,
                   help="sdtls_server peers for the server memory case (default 2000; quick 200)")
    p.add_argument("--udp", action="store_true",
                   help="also the end-to-end loopback UDP section (bench_udp; about 30 s)")
    p.add_argument("--udp-only", action="store_true", help="only the UDP section (implies --udp)")
    p.add_argument("--udp-seconds", type=float, help="seconds of echo per size (default 1; quick 0.1)")
    p.add_argument("--udp-pings", type=int, help="pings per size (default 2000; quick 200)")
    a = p.parse_args()
    if a.callgrind_only:
        a.callgrind = True
    if a.udp_only:
        a.udp = True
    a.peers = a.peers or (200 if a.quick else 2000)
    a.udp_seconds = a.udp_seconds or (0.1 if a.quick else 1.0)
    a.udp_pings = a.udp_pings or (200 if a.quick else 2000)
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.seconds = a.seconds or (0.05 if a.quick else 0.75)
    a.pairs = a.pairs or (500 if a.quick else 10000)
    needed = [] if a.udp_only else [e for _, e, _ in VARIANTS]
    if a.udp:
        needed.append("bench_udp")
    for exe_name in needed:
        path = os.path.join(a.bin_dir, exe_name)
        if not os.access(path, os.X_OK):
            sys.exit("run.py: %s not found; build first: ninja -C build/release %s" % (path, exe_name))

    run = Run(a)
    t0 = time.monotonic()
    only = a.callgrind_only or a.udp_only
    if not only:
        run.timed()
    if a.callgrind and not a.udp_only:
        run.run_callgrind()
    udp = None
    if a.udp:
        udp = Udp(a)
        udp.run()
    log("done in %.0f s" % (time.monotonic() - t0))

    print("CPU: %s (%d CPUs), commit %s, %s mode" % (
        cpu_model(), os.cpu_count(), git_commit(), "quick" if a.quick else "full"))
    for variant, _, _ in VARIANTS:
        if variant in run.info:
            i = run.info[variant]
            print("  %-13s %s, %s, %s, group %s; handshake %s datagrams / %s B; 16 B record = %s B "
                  "on the wire" % (variant, i.get("library"), i.get("protocol"), i.get("cipher"),
                                   i.get("group"), i.get("handshake_datagrams"),
                                   i.get("handshake_bytes"), i.get("record16_wire_bytes")))
    if not only:
        print()
        print(markdown_timed(run))
    if a.callgrind and not a.udp_only:
        print()
        print(markdown_callgrind(run))
    if udp is not None:
        print()
        print(udp.markdown())
    doc = run.to_json()
    if udp is not None:
        doc["udp"] = udp.to_json()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    missing = run.missing()
    if a.callgrind_only:
        missing = [m for m in missing if "callgrind" in m]
    if a.udp_only:
        missing = []
    if udp is not None:
        missing += udp.missing()
        run.errors += udp.errors
    problems = run.errors + missing
    if problems:
        print("\nPROBLEMS:", file=sys.stderr)
        for e in problems:
            print("  " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

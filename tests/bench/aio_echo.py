#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Echo round trips/s over loopback UDP: the asyncio server (sdtls.aio.serve,
a handler task per peer; and sdtls.aio.create_server, a PeerProtocol per
peer: the "protocol" rows) against the C tool's server (`sdtls server
--echo`), with the same client.

Not a test: nothing fails because something is slow.

    tests/bench/aio_echo.py --tool build/release/src/tool/sdtls [--rounds 5]
        [--seconds 2] [--clients 1,20] [--size 16] [--quick]

Needs `sdtls` importable (PYTHONPATH=build/release/python, or the wheel).
Each round starts the servers afresh, each in a process of its own (the C
tool; this script with --serve [--protocol] for asyncio, and the same with
--uvloop when uvloop is importable), and runs the client against each in turn, interleaved, so
that a machine whose load changes affects every server alike. The client is
this script with --client, in another process: N sans-I/O sdtls client
connections on N connected UDP sockets, each with one 16-byte record in
flight (send, wait for its echo, send the next). Prints one line per round
and server, then the median and range (min-max) of each, and the ratio
asyncio / C with its range over the rounds.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Optional

import sdtls
import sdtls.aio


def serve(cert: str, key: str, use_uvloop: bool, protocol: bool) -> None:
    """The asyncio echo server, as a user writes it (a handler task per
    peer, or with protocol a PeerProtocol per peer); prints its address."""
    import asyncio

    async def handler(peer: sdtls.aio.DTLSServerConnection) -> None:
        async for data in peer:
            peer.send(data)

    class Echo(sdtls.aio.PeerProtocol):
        def connection_made(self, peer: sdtls.aio.DTLSServerConnection) -> None:
            self.send = peer.send

        def datagram_received(self, data: bytes) -> None:
            self.send(data)

    async def main() -> None:
        config = sdtls.Config(certificate=cert, private_key=key)
        if protocol:
            server = await sdtls.aio.create_server(Echo, "127.0.0.1", 0, config)
        else:
            server = await sdtls.aio.serve(handler, "127.0.0.1", 0, config)
        print("listening %s:%d" % server.address[:2], file=sys.stderr, flush=True)
        await server.serve_forever()

    if use_uvloop:
        import uvloop
        uvloop.run(main())
    else:
        asyncio.run(main())


def serve_plain() -> None:
    """The floor: an asyncio UDP echo without DTLS, shaped like the DTLS
    server (a datagram wakes its peer's task, which sends the answer)."""
    import asyncio

    class Echo(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.peers: dict[Any, asyncio.Queue[bytes]] = {}

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            q = self.peers.get(addr)
            if q is None:
                q = self.peers[addr] = asyncio.Queue()
                asyncio.get_running_loop().create_task(self.peer(q, addr))
            q.put_nowait(data)

        async def peer(self, q: "asyncio.Queue[bytes]", addr: Any) -> None:
            while True:
                self.transport.sendto(await q.get(), addr)

    async def main() -> None:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        print("listening %s:%d" % transport.get_extra_info("sockname")[:2], file=sys.stderr, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def plain_client(host: str, port: int, clients: int, seconds: float, size: int) -> None:
    """As client(), without DTLS: N sockets, one datagram each in flight."""
    sel = selectors.DefaultSelector()
    payload = b"x" * (size + 37)  # a DTLS record's size on the wire
    socks = []
    for n in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((host, port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, n)
        socks.append(s)
    count = 0
    start = time.monotonic()
    end = start + seconds
    for s in socks:
        s.send(payload)
    while time.monotonic() < end:
        for key, _ in sel.select(0.05):
            s = socks[key.data]
            while True:
                try:
                    s.recv(2048)
                except BlockingIOError:
                    break
                count += 1
                s.send(payload)
    print("%.1f %d" % (count / (time.monotonic() - start), count))


def client(host: str, port: int, clients: int, seconds: float, size: int) -> None:
    """N connections, one record each in flight; prints round trips/s."""
    config = sdtls.Config(verify=False)
    sel = selectors.DefaultSelector()
    conns: list[tuple[socket.socket, sdtls.Connection]] = []
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((host, port))
        s.setblocking(False)
        conn = sdtls.Connection(config, "client", server_name="localhost")
        conn.start()
        for d in conn.datagrams_to_send():
            s.send(d)
        sel.register(s, selectors.EVENT_READ, len(conns))
        conns.append((s, conn))
    payload = b"x" * size
    connected = 0
    count = 0
    start = end = 0.0
    deadline = time.monotonic() + 10 + seconds
    while time.monotonic() < deadline:
        if start and time.monotonic() >= end:
            break
        for key, _ in sel.select(0.05):
            s, conn = conns[key.data]
            while True:
                try:
                    data = s.recv(2048)
                except BlockingIOError:
                    break
                conn.receive_datagram(data)
            while (ev := conn.next_event()) is not None:
                if isinstance(ev, sdtls.HandshakeCompleted):
                    connected += 1
                    if connected == clients:  # everyone in: start the clock
                        start = time.monotonic()
                        end = start + seconds
                        for _, c in conns:
                            c.send(payload)
                elif isinstance(ev, sdtls.DatagramReceived):
                    if start:
                        count += 1
                        conn.send(payload)
                elif isinstance(ev, sdtls.ConnectionTerminated):
                    sys.exit("client: connection ended: %r" % (ev.error,))
            for d in conn.datagrams_to_send():
                s.send(d)
        for s, conn in conns:  # retransmissions (a datagram lost on a loaded machine)
            t = conn.get_timer()
            if t is not None and t <= time.monotonic():
                conn.handle_timer()
                for d in conn.datagrams_to_send():
                    s.send(d)
    if not start:
        sys.exit("client: %d of %d handshakes done" % (connected, clients))
    print("%.1f %d" % (count / (time.monotonic() - start), count))


def start_server(argv: list[str], pythonpath: Optional[str]) -> tuple[subprocess.Popen[str], str, int]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    said = []
    for line in proc.stderr:
        if line.startswith("listening "):
            host, _, port = line.split()[1].rpartition(":")
            return proc, host, int(port)
        said.append(line)
    proc.kill()
    raise SystemExit("server did not start: %s\n%s" % (" ".join(argv), "".join(said)))


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    """The user + system CPU time a process has used (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_client(host: str, port: int, clients: int, seconds: float, size: int, plain: bool) -> tuple[float, float]:
    """Round trips/s and the round trips the client made."""
    out = subprocess.run([sys.executable, __file__, "--client", "%s:%d" % (host, port), "--clients", str(clients),
                          "--seconds", str(seconds), "--size", str(size)] + (["--plain"] if plain else []),
                         capture_output=True, text=True, timeout=60 + seconds)
    if out.returncode != 0:
        raise SystemExit("client failed: %s" % out.stderr.strip())
    rate, count = out.stdout.split()
    return float(rate), float(count)


def summary(values: list[float], fmt: str = "%.0f") -> str:
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(values), min(values), max(values))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", help="the C tool (sdtls); without it only the asyncio servers run")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--clients", default="1,20", help="comma-separated client counts")
    ap.add_argument("--size", type=int, default=16, help="payload bytes")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 round of 0.2 s")
    ap.add_argument("--floor", action="store_true",
                    help="also an asyncio UDP echo without DTLS, with a client without DTLS (what asyncio costs)")
    ap.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", metavar="PYTHONPATH",
                    help="also run the asyncio server with the sdtls package found there (another build)")
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--uvloop", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--protocol", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cert", help=argparse.SUPPRESS)
    ap.add_argument("--key", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve and a.plain:
        serve_plain()
        return
    if a.serve:
        serve(a.cert, a.key, a.uvloop, a.protocol)
        return
    if a.client:
        host, _, port = a.client.rpartition(":")
        (plain_client if a.plain else client)(host, int(port), int(a.clients), a.seconds, a.size)
        return
    if a.quick:
        a.rounds, a.seconds = 1, 0.2

    tmp = tempfile.mkdtemp(prefix="sdtls-aio-echo-")
    cert_pem, key_pem = sdtls.generate_certificate("localhost")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    with open(cert, "wb") as f:
        f.write(cert_pem)
    with open(key, "wb") as f:
        f.write(key_pem)
    # (name, command, PYTHONPATH for it or None for this one's)
    servers: list[tuple[str, list[str], Optional[str]]] = []
    if a.tool:
        servers.append(("C tool", [a.tool, "server", "--listen", "127.0.0.1:0", "--cert", cert, "--key", key,
                                   "--echo"], None))
    me = [sys.executable, __file__, "--serve", "--cert", cert, "--key", key]
    servers.append(("asyncio", me, None))
    servers.append(("protocol", me + ["--protocol"], None))
    try:
        import uvloop  # noqa: F401
        servers.append(("asyncio+uvloop", me + ["--uvloop"], None))
        servers.append(("protocol+uvloop", me + ["--uvloop", "--protocol"], None))
    except ImportError:
        print("uvloop not importable: its rows are left out", file=sys.stderr)
    if a.baseline:
        servers.append(("baseline", me, a.baseline))
    if a.floor:
        servers.append(("floor (no DTLS)", [sys.executable, __file__, "--serve", "--plain"], None))

    counts = [int(n) for n in a.clients.split(",")]
    results: dict[tuple[str, int], list[float]] = {}
    cpu_us: dict[tuple[str, int], list[float]] = {}
    for r in range(a.rounds):
        for n in counts:
            for name, argv, pythonpath in servers:
                proc, host, port = start_server(argv, pythonpath)
                try:
                    cpu = cpu_seconds(proc.pid)
                    rate, count = run_client(host, port, n, a.seconds, a.size, name.startswith("floor"))
                    cpu = cpu_seconds(proc.pid) - cpu
                finally:
                    stop(proc)
                # The server's CPU per round trip (its handshakes included)
                # tells more than the rate on a machine that others load.
                us = 1e6 * cpu / max(count, 1)
                results.setdefault((name, n), []).append(rate)
                cpu_us.setdefault((name, n), []).append(us)
                print("round %d  %-15s %2d client(s): %8.0f round trips/s, server CPU %5.1f us per round trip"
                      % (r + 1, name, n, rate, us), flush=True)
    print("\n%d-byte echo: median (min-max) over %d round(s) of %.1f s"
          % (a.size, a.rounds, a.seconds))
    for n in counts:
        for name, _, _ in servers:
            print("%-15s %2d client(s): %s round trips/s, server CPU per round trip %s us"
                  % (name, n, summary(results[(name, n)]), summary(cpu_us[(name, n)], "%.1f")))
        if a.tool:
            for name, _, _ in servers[1:]:
                ratios = [x / y for x, y in zip(results[(name, n)], results[("C tool", n)])]
                print("%-15s %2d client(s): %.2f x the C tool (%.2f-%.2f)"
                      % (name, n, statistics.median(ratios), min(ratios), max(ratios)))


if __name__ == "__main__":
    main()

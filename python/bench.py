# SPDX-License-Identifier: Apache-2.0
"""Throughput of the sans-I/O API against pyOpenSSL's memory-BIO DTLS.

Not a test: ``python python/bench.py [--seconds S] [--c-bench PATH]``.

Measures, in one process and on one thread, with both peers in memory (no
socket, no clock beyond the timing itself):
  - datagrams/s client -> server at 16 and 1200 bytes: encrypt, hand over,
    decrypt, and take the data out as an event (sdtls) or a read (pyOpenSSL);
  - full handshakes/s (ECDHE-ECDSA P-256, new connections each time; sdtls
    through its multi-peer Server with the cookie exchange, pyOpenSSL
    without one).
``--c-bench`` runs a C benchmark binary for scale when one is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable

import sdtls

try:
    from OpenSSL import SSL

    # The memory-BIO pump the interop tests use too.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))
    import pyopenssl_pump
except ImportError:  # pragma: no cover
    SSL = None  # type: ignore[assignment]


# Datagrams carry up to 1200 bytes of data (a bit more on the wire).
MTU = 1400


def rate(fn: Callable[[int], int], seconds: float) -> float:
    """Runs fn(batch) until `seconds` pass; returns operations per second."""
    fn(10)  # warm up
    n, start = 0, time.perf_counter()
    batch = 100
    while True:
        n += fn(batch)
        el = time.perf_counter() - start
        if el >= seconds:
            return n / el


# ---- sdtls ----------------------------------------------------------------------


def sdtls_pair(cert: bytes, key: bytes) -> tuple[sdtls.Connection, sdtls.Connection]:
    cli = sdtls.Connection(sdtls.Config(cadata=cert, mtu=MTU), "client", server_name="localhost")
    srv = sdtls.Connection(sdtls.Config(certificate=cert, private_key=key, mtu=MTU), "server")
    cli.start()
    for _ in range(10):
        for d in cli.datagrams_to_send():
            srv.receive_datagram(d)
        for d in srv.datagrams_to_send():
            cli.receive_datagram(d)
    assert cli.state == sdtls.State.CONNECTED
    while cli.next_event() or srv.next_event():
        pass
    return cli, srv


def sdtls_datagrams(cert: bytes, key: bytes, size: int) -> Callable[[int], int]:
    cli, srv = sdtls_pair(cert, key)
    payload = b"x" * size

    def run(n: int) -> int:
        send, take, recv, event = cli.send, cli.datagrams_to_send, srv.receive_datagram, srv.next_event
        for _ in range(n):
            send(payload)
            for d in take():
                recv(d)
            ev = event()
            assert ev.data  # type: ignore[union-attr]
        return n

    return run


def sdtls_handshakes(cert: bytes, key: bytes) -> Callable[[int], int]:
    ccfg = sdtls.Config(cadata=cert)
    server = sdtls.Server(sdtls.Config(certificate=cert, private_key=key))
    port = [1024]

    def run(n: int) -> int:
        for _ in range(n):
            port[0] = port[0] + 1 if port[0] < 65000 else 1024
            addr = ("127.0.0.1", port[0])
            cli = sdtls.Connection(ccfg, "client", server_name="localhost")
            cli.start()
            while True:
                for d in cli.datagrams_to_send():
                    server.receive_datagram(d, addr)
                out = server.datagrams_to_send()
                for d, _a in out:
                    cli.receive_datagram(d)
                if not out:
                    break
            assert cli.state == sdtls.State.CONNECTED
            cli.close()
            for d in cli.datagrams_to_send():
                server.receive_datagram(d, addr)
            while server.next_event() is not None:
                pass
            while cli.next_event() is not None:
                pass
        return n

    return run


# ---- pyOpenSSL ----------------------------------------------------------------


def ossl_ctx(cert_file: str, key_file: str, server: bool) -> "SSL.Context":
    ctx = SSL.Context(SSL.DTLS_METHOD)
    ctx.set_options(SSL.OP_NO_QUERY_MTU)
    if server:
        ctx.use_certificate_chain_file(cert_file)
        ctx.use_privatekey_file(key_file)
    else:
        ctx.load_verify_locations(cert_file)
        ctx.set_verify(SSL.VERIFY_PEER, lambda *a: bool(a[-1]))
    return ctx


def ossl_handshake(cctx: "SSL.Context", sctx: "SSL.Context") -> tuple["SSL.Connection", "SSL.Connection"]:
    c, s = SSL.Connection(cctx, None), SSL.Connection(sctx, None)
    for x in (c, s):
        x.set_ciphertext_mtu(MTU)
    c.set_connect_state()
    s.set_accept_state()
    pyopenssl_pump.handshake(c, s)
    return c, s


def ossl_datagrams(cert_file: str, key_file: str, size: int) -> Callable[[int], int]:
    c, s = ossl_handshake(ossl_ctx(cert_file, key_file, False), ossl_ctx(cert_file, key_file, True))
    payload = b"x" * size

    def run(n: int) -> int:
        write, bio_read, bio_write, read = c.write, c.bio_read, s.bio_write, s.recv
        for _ in range(n):
            write(payload)
            bio_write(bio_read(65536))
            assert read(65536)
        return n

    return run


def ossl_handshakes(cert_file: str, key_file: str) -> Callable[[int], int]:
    cctx, sctx = ossl_ctx(cert_file, key_file, False), ossl_ctx(cert_file, key_file, True)

    def run(n: int) -> int:
        for _ in range(n):
            ossl_handshake(cctx, sctx)
        return n

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    ap.add_argument("--c-bench", help="a C benchmark to run for scale (its output is printed as is)")
    a = ap.parse_args()
    cert, key = sdtls.generate_certificate("localhost", 2)
    with tempfile.TemporaryDirectory() as d:
        cf, kf = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        with open(cf, "wb") as f:
            f.write(cert)
        with open(kf, "wb") as f:
            f.write(key)
        rows = []
        for label, ours, theirs in (
            ("datagrams/s, 16 B", sdtls_datagrams(cert, key, 16), SSL and ossl_datagrams(cf, kf, 16)),
            ("datagrams/s, 1200 B", sdtls_datagrams(cert, key, 1200), SSL and ossl_datagrams(cf, kf, 1200)),
            ("handshakes/s", sdtls_handshakes(cert, key), SSL and ossl_handshakes(cf, kf)),
        ):
            r1 = rate(ours, a.seconds)
            r2 = rate(theirs, a.seconds) if theirs else float("nan")
            rows.append((label, r1, r2))
    print(f"sdtls {sdtls.engine_version}, Python {sys.version.split()[0]}"
          + (f", pyOpenSSL over {SSL.SSLeay_version(SSL.SSLEAY_VERSION).decode()}" if SSL else ""))
    print()
    print("| measure | sdtls (sans-I/O) | pyOpenSSL (memory BIO) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, r1, r2 in rows:
        print(f"| {label} | {r1:,.0f} | {r2:,.0f} | {r1 / r2:.1f}x |")
    if a.c_bench:
        print()
        print(subprocess.run([a.c_bench], capture_output=True, text=True, timeout=600).stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: Apache-2.0
"""Two pyOpenSSL DTLS connections over memory BIOs, pumped by hand: the
peer the interop tests and python/bench.py set beside sdtls in one
interpreter. Imports OpenSSL (pyOpenSSL) when used."""

from __future__ import annotations

from OpenSSL import SSL


def drain(conn: SSL.Connection) -> bytes:
    """Everything the connection has written to its memory BIO."""
    out = b""
    while True:
        try:
            out += conn.bio_read(65536)
        except SSL.WantReadError:
            return out


def handshake(a: SSL.Connection, b: SSL.Connection, rounds: int = 20) -> None:
    """Moves datagrams between two connections (one in connect state, one in
    accept state) until both finish their handshakes; RuntimeError after
    ROUNDS rounds."""
    done = [False, False]
    for _ in range(rounds):
        for i, (x, y) in enumerate(((a, b), (b, a))):
            if not done[i]:
                try:
                    x.do_handshake()
                    done[i] = True
                except SSL.WantReadError:
                    pass
            d = drain(x)
            if d:
                y.bio_write(d)
        if all(done):
            return
    raise RuntimeError("pyOpenSSL handshake did not finish")

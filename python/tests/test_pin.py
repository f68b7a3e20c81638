# SPDX-License-Identifier: Apache-2.0
"""Server.pin_peer / unpin_peer: a WebRTC server pins each peer's SDP
fingerprint by address before the peer connects (the C server's pin
table), in the sans-I/O Server and the blocking and asyncio servers."""

from __future__ import annotations

import asyncio
import select
import socket
import time
from typing import Any, Optional

import pytest

import sdtls
import sdtls.aio
from conftest import Certs, Link, serve_in_thread, versions

A = ("127.0.0.1", 40001)
B = ("127.0.0.1", 40002)


def client(certs: Certs, cred: Optional[tuple[bytes, bytes]], version: Optional[str] = None) -> sdtls.Connection:
    kw: dict[str, Any] = {} if version is None else {"max_version": version}
    if cred is not None:
        kw.update(certificate=cred[0], private_key=cred[1])
    return sdtls.Connection(sdtls.Config(cadata=certs.cert, initial_timeout=0.1, **kw), "client",
                            server_name="localhost")


def link_to(server: sdtls.Server, conn: sdtls.Connection, addr: tuple[Any, ...]) -> Link:
    link = Link(conn, server, addr=addr)
    conn.start(link.now)
    return link


def ended(link: Link) -> bool:
    return any(isinstance(e, sdtls.ConnectionTerminated) for e in link.b_events)


@pytest.mark.parametrize("version", versions())
def test_pinned_peers(certs: Certs, client_a: tuple[bytes, bytes], client_b: tuple[bytes, bytes],
                      version: str) -> None:
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    fp_a = sdtls.Fingerprint.of_certificate(client_a[0])
    server.pin_peer(A, fp_a)                                     # a Fingerprint
    server.pin_peer(A, str(fp_a))                                # its SDP form: already there
    server.pin_peer(B, sdtls.fingerprint(client_a[0]))           # bare: B must show A's certificate

    good = link_to(server, client(certs, client_a, version), A)
    good.run(good.connected)
    assert server.connections[0].peer_fingerprint == sdtls.fingerprint(client_a[0])

    bad = link_to(server, client(certs, client_b, version), B)
    bad.run(lambda: ended(bad))
    end = next(e for e in bad.b_events if isinstance(e, sdtls.ConnectionTerminated))
    assert isinstance(end.error, sdtls.VerifyError)
    assert not any(isinstance(e, sdtls.HandshakeCompleted) for e in bad.b_events)

    # Unpinned, B takes any certificate again; A's connection is not touched.
    assert server.unpin_peer(B) == 1
    assert server.unpin_peer(B) == 0
    again = link_to(server, client(certs, client_b, version), B)
    again.run(again.connected)
    assert sorted(v.address for v in server.connections) == [A, B]
    assert server.unpin_peer(A) == 1


def test_a_pinned_peer_needs_a_certificate(certs: Certs, client_a: tuple[bytes, bytes]) -> None:
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    server.pin_peer(A, sdtls.fingerprint(client_a[0]))
    anonymous = link_to(server, client(certs, None), A)
    anonymous.run(lambda: ended(anonymous))
    assert not any(isinstance(e, sdtls.HandshakeCompleted) for e in anonymous.b_events)


def test_refused_calls_change_nothing(certs: Certs, client_a: tuple[bytes, bytes]) -> None:
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    fp = sdtls.fingerprint(client_a[0])
    for bad in ["", "AB:CD", "sha-256 not-a-fingerprint", fp + "\x00", "sha-1 AA:BB"]:
        with pytest.raises(sdtls.UsageError):
            server.pin_peer(A, bad)
    with pytest.raises(TypeError):
        server.pin_peer(A, b"\x01" * 32)  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        server.pin_peer(("localhost", 1), fp)  # numeric addresses only
    assert server.unpin_peer(A) == 0
    # 16 per address, none of them fp (its first byte is random).
    others = [b for b in range(256) if b != int(fp[:2], 16)][:16]
    for b in others:
        server.pin_peer(A, f"{b:02X}" + fp[2:])
    with pytest.raises(sdtls.Error) as limit:
        server.pin_peer(A, fp)
    assert limit.value.code == sdtls._sdtls.SDTLS_E_LIMIT
    assert server.unpin_peer(A) == 16
    # An IPv4-mapped IPv6 address is the IPv4 address.
    server.pin_peer(("::ffff:127.0.0.1", 40001, 0, 0), fp)
    assert server.unpin_peer(A) == 1
    server.close()
    with pytest.raises(sdtls.ConnectionClosed):
        server.pin_peer(A, fp)
    with pytest.raises(sdtls.ConnectionClosed):
        server.unpin_peer(A)


def test_not_from_inside_on_connect(certs: Certs, client_a: tuple[bytes, bytes]) -> None:
    raised: list[BaseException] = []
    fp = sdtls.fingerprint(client_a[0])

    def on_connect(addr: Any) -> None:
        for call in (lambda: server.pin_peer(addr, fp), lambda: server.unpin_peer(addr)):
            try:
                call()
            except sdtls.UsageError as e:
                raised.append(e)

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    link = link_to(server, client(certs, None), A)
    link.run(link.connected)  # nothing was pinned
    assert len(raised) == 2 and all(e.code == sdtls._sdtls.SDTLS_E_IN_CALLBACK for e in raised), raised
    assert server.unpin_peer(A) == 0


def test_many_pins(certs: Certs, client_a: tuple[bytes, bytes]) -> None:
    # A WebRTC server pins one peer per expected connection: 20,000 here
    # (the C table's cost per pin does not grow with their number; the
    # benchmark, tests/bench/bench_pins, takes 100,000).
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    fp = sdtls.fingerprint(client_a[0])
    addrs = [(f"10.0.{i >> 8}.{i & 0xff}", 1024 + i % 7) for i in range(20_000)]
    for a in addrs:
        server.pin_peer(a, fp)
    assert sum(server.unpin_peer(a) for a in addrs) == len(addrs)


# ---- over UDP: the client's own socket, so its address is known first ---------


def handshake_from(sock: socket.socket, conn: sdtls.Connection, server: tuple[str, int], timeout: float = 10.0) -> sdtls.Event:
    """Runs conn's handshake over `sock` until it completes or ends; returns that event."""
    conn.start()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for d in conn.datagrams_to_send():
            sock.sendto(d, server)
        while (e := conn.next_event()) is not None:
            if isinstance(e, (sdtls.HandshakeCompleted, sdtls.ConnectionTerminated)):
                return e
        timer = conn.get_timer()
        wait = 0.5 if timer is None else min(0.5, max(0.0, timer - time.monotonic()))
        if select.select([sock], [], [], wait)[0]:
            conn.receive_datagram(sock.recv(65536))
        elif timer is not None and time.monotonic() >= timer:
            conn.handle_timer()
    raise AssertionError("no end to the handshake")


def client_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def test_blocking_server(certs: Certs, client_a: tuple[bytes, bytes], client_b: tuple[bytes, bytes]) -> None:
    server = sdtls.DTLSServer(lambda peer, data: peer.send(data.upper()), "127.0.0.1", 0,
                                  sdtls.Config(certificate=certs.cert, private_key=certs.key))
    stop = serve_in_thread(server)
    try:
        with client_socket() as a, client_socket() as b:
            fp_a = sdtls.fingerprint(client_a[0])
            server.pin_peer(a.getsockname(), fp_a)  # from this thread, while it serves
            server.pin_peer(b.getsockname(), fp_a)
            assert isinstance(handshake_from(a, client(certs, client_a), server.server_address),
                              sdtls.HandshakeCompleted)
            wrong = handshake_from(b, client(certs, client_b), server.server_address)
            if isinstance(wrong, sdtls.HandshakeCompleted):  # DTLS 1.3: the client is done first
                assert wrong.version == "DTLSv1.3"
            else:
                assert isinstance(wrong.error, (sdtls.AlertError, sdtls.VerifyError)), wrong
            assert server.unpin_peer(a.getsockname()) == 1
            assert server.unpin_peer(b.getsockname()) == 1
    finally:
        stop()


async def test_aio_server(certs: Certs, client_a: tuple[bytes, bytes], client_b: tuple[bytes, bytes]) -> None:
    config = sdtls.Config(certificate=certs.cert, private_key=certs.key)

    async def upper(peer: sdtls.aio.DTLSServerConnection) -> None:
        async for data in peer:
            peer.send(data.upper())

    async with await sdtls.aio.serve(upper, "127.0.0.1", 0, config) as server:
        with client_socket() as a, client_socket() as b:
            server.pin_peer(a.getsockname(), sdtls.fingerprint(client_a[0]))
            server.pin_peer(b.getsockname(), sdtls.fingerprint(client_a[0]))
            done = await asyncio.to_thread(handshake_from, a, client(certs, client_a), server.address)
            assert isinstance(done, sdtls.HandshakeCompleted)
            wrong = await asyncio.to_thread(handshake_from, b, client(certs, client_b), server.address)
            assert isinstance(wrong, sdtls.ConnectionTerminated) or wrong.version == "DTLSv1.3", wrong
            assert server.unpin_peer(a.getsockname()) == 1
            assert server.unpin_peer(b.getsockname()) == 1

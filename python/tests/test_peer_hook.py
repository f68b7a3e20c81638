# SPDX-License-Identifier: Apache-2.0
"""Server(on_connect=...): deciding per peer as it connects (refuse, or pin
its certificate), in the sans-I/O Server and the blocking and asyncio
servers; hooks that raise, and close/GC orders around the hook."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import weakref
from typing import Any, Callable, Iterable, Iterator, Optional, Union

import pytest

import sdtls
import sdtls.aio
from sdtls import _sdtls as c
from conftest import DTLS13, Certs, Link, serve_in_thread, versions

A = ("127.0.0.1", 40001)
B = ("127.0.0.1", 40002)
V6 = ("::1", 40003, 0, 0)

Answer = Union[None, bool, str, Iterable[str]]


def client(certs: Certs, cred: Optional[tuple[bytes, bytes]], version: str = "1.2", **kw: Any) -> sdtls.Connection:
    cfg = sdtls.Config(cadata=certs.cert, max_version=version, **kw)
    if cred is not None:
        cfg = sdtls.Config(cadata=certs.cert, certificate=cred[0], private_key=cred[1], max_version=version, **kw)
    return sdtls.Connection(cfg, "client", server_name="localhost")


def link_to(server: sdtls.Server, conn: sdtls.Connection, addr: tuple[Any, ...]) -> Link:
    link = Link(conn, server, addr=addr)
    conn.start(link.now)
    return link


def first(events: list[sdtls.Event], kind: type) -> Any:
    return next(e for e in events if isinstance(e, kind))


# ---- pinning per peer ----------------------------------------------------------


@pytest.mark.parametrize("version", versions())
def test_pins_each_peer_on_its_own(certs: Certs, client_a: tuple[bytes, bytes], client_b: tuple[bytes, bytes],
                                   version: str) -> None:
    pins = {A: "sha-256 " + sdtls.fingerprint(client_a[0]),  # SDP's form
            B: [sdtls.fingerprint(client_a[0])]}             # bare, in a list: B must show A's certificate
    asked: list[Any] = []

    def on_connect(addr: Any) -> Answer:
        asked.append(addr)
        return pins.get(addr)

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    assert server.on_connect is on_connect
    good = link_to(server, client(certs, client_a, version), A)
    good.run(good.connected)
    view = first(good.b_events, sdtls.PeerConnected).connection
    assert view.address == A and view.alive
    assert view.peer_fingerprint == sdtls.fingerprint(client_a[0])
    assert asked == [A]

    # B shows its own certificate: the pin for B fails it, on both sides
    bad = link_to(server, client(certs, client_b, version), B)
    bad.run(lambda: any(isinstance(e, sdtls.ConnectionTerminated) for e in bad.b_events))
    end = first(bad.b_events, sdtls.ConnectionTerminated)
    assert isinstance(end.error, sdtls.VerifyError)
    assert sdtls.fingerprint(client_b[0]) in end.error.detail  # the detail names what B showed
    assert not any(isinstance(e, sdtls.HandshakeCompleted) for e in bad.b_events)
    bad.run(lambda: any(isinstance(e, sdtls.ConnectionTerminated) for e in bad.a_events))
    client_end = first(bad.a_events, sdtls.ConnectionTerminated)
    assert isinstance(client_end.error, sdtls.AlertError), client_end  # the server's alert
    if version == "1.2":
        assert not any(isinstance(e, sdtls.HandshakeCompleted) for e in bad.a_events)
    else:  # DTLS 1.3: the client is done before the server has checked its certificate
        done = first(bad.a_events, sdtls.HandshakeCompleted)
        assert done.version == "DTLSv1.3" and bad.a_events.index(done) < bad.a_events.index(client_end)
    assert asked == [A, B]
    # A is still served
    assert [v.address for v in server.connections] == [A]


def test_pin_asks_for_a_certificate(certs: Certs, client_a: tuple[bytes, bytes]) -> None:
    # With a pin the server asks for a client certificate: one without fails.
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key),
                          on_connect=lambda addr: sdtls.fingerprint(client_a[0]))
    anonymous = link_to(server, client(certs, None), A)
    anonymous.run(lambda: any(isinstance(e, sdtls.ConnectionTerminated) for e in anonymous.b_events))
    assert not any(isinstance(e, sdtls.HandshakeCompleted) for e in anonymous.b_events)
    assert isinstance(first(anonymous.b_events, sdtls.ConnectionTerminated).error,
                      (sdtls.VerifyError, sdtls.AlertError, sdtls.ProtocolError))


@pytest.mark.parametrize("answer", [None, True, [], ()])
def test_accepting_keeps_the_configs_verification(certs: Certs, client_b: tuple[bytes, bytes],
                                                  answer: Answer) -> None:
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=lambda a: answer)
    link = link_to(server, client(certs, client_b), V6)
    link.run(link.connected)
    assert first(link.b_events, sdtls.PeerConnected).connection.address == V6
    assert server.connections[0].peer_fingerprint is None  # no pin: no certificate was asked for


# ---- refusing ------------------------------------------------------------------


def run_refused(server: sdtls.Server, conn: sdtls.Connection, addr: tuple[Any, ...],
                errors: Optional[list[BaseException]] = None) -> Link:
    """Runs a client against a server that refuses it, until the client
    gives up; exceptions out of receive_datagram go to `errors` (or fail)."""
    link = link_to(server, conn, addr)
    for _ in range(200):
        if any(isinstance(e, sdtls.ConnectionTerminated) for e in link.a_events):
            break
        try:
            moved = link.step()
        except Exception as exc:
            if errors is None:
                raise
            errors.append(exc)
            moved = 1
            # the failed call still did its work: take what it queued
            for d, to in server.datagrams_to_send():
                if to == addr:
                    link.a.receive_datagram(d, link.now)
            link.drain()
        if moved == 0 and not link.advance():
            break
    return link


def test_refused_peer_gets_no_connection(certs: Certs) -> None:
    asked: list[Any] = []

    def on_connect(addr: Any) -> Answer:
        asked.append(addr)
        return bool(addr != A)

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    refused = run_refused(server, client(certs, None, handshake_timeout=5), A)
    end = first(refused.a_events, sdtls.ConnectionTerminated)
    assert isinstance(end.error, sdtls.PeerTimeout)  # never answered after the cookie
    assert refused.b_events == []  # no PeerConnected, no ConnectionTerminated
    assert server.connections == []
    counters = server.counters()
    assert counters["peers"] == 0
    assert counters["connections_created"] == len(asked) >= 2  # each retransmission asks again
    assert set(asked) == {A}
    # the server goes on serving others
    ok = link_to(server, client(certs, None), B)
    ok.run(ok.connected)
    assert [v.address for v in server.connections] == [B]


def test_hook_that_raises_refuses_and_surfaces(certs: Certs, client_a: tuple[bytes, bytes]) -> None:
    class Boom(Exception):
        pass

    def on_connect(addr: Any) -> Answer:
        raise Boom(f"no {addr}")

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    errors: list[BaseException] = []
    link = run_refused(server, client(certs, client_a, handshake_timeout=5), A, errors)
    assert errors and all(isinstance(e, Boom) and str(e) == f"no {A}" for e in errors)
    assert errors[0].__traceback__ is not None
    assert link.b_events == [] and server.connections == []
    assert server.counters()["peers"] == 0
    assert isinstance(first(link.a_events, sdtls.ConnectionTerminated).error, sdtls.PeerTimeout)


@pytest.mark.parametrize("answer, exc", [
    ("sha-256 not-a-fingerprint", sdtls.UsageError),
    ("sha-1 AA:BB", sdtls.Error),
    (["AA" * 32], sdtls.UsageError),
    (42, TypeError),
    ([b"\x01" * 32], TypeError),
    (["sha-256 " + ":".join(["AB"] * 32)] * 17, sdtls.Error),  # more than 16: SDTLS_E_LIMIT
])
def test_bad_answers_refuse_and_surface(certs: Certs, answer: Any, exc: type) -> None:
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=lambda a: answer)
    errors: list[BaseException] = []
    link = run_refused(server, client(certs, None, handshake_timeout=3), A, errors)
    assert errors and all(isinstance(e, exc) for e in errors), errors
    assert link.b_events == [] and server.counters()["peers"] == 0


def test_not_callable() -> None:
    cert, key = sdtls.generate_certificate("localhost")
    with pytest.raises(TypeError):
        sdtls.Server(sdtls.Config(certificate=cert, private_key=key), on_connect=42)  # type: ignore[arg-type]


# ---- close and GC orders -----------------------------------------------------------


def test_close_from_the_hook_is_deferred(certs: Certs) -> None:
    server_box: list[sdtls.Server] = []

    def on_connect(addr: Any) -> Answer:
        if addr == A:
            srv = server_box[0]
            srv.close()  # deferred until receive_datagram returns
            assert not srv.closed
        return None  # accepted, but the close wins

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    server_box.append(server)
    other = link_to(server, client(certs, None), B)
    other.run(other.connected)
    peer_b = first(other.b_events, sdtls.PeerConnected).connection
    cli = client(certs, None)
    cli.start(other.now)
    for _ in range(3):
        for d in cli.datagrams_to_send():
            server.receive_datagram(d, A, other.now)
        if server.closed:
            break
        for d, to in server.datagrams_to_send():
            cli.receive_datagram(d, other.now)
    assert server.closed
    out = server.datagrams_to_send()
    assert [to for _, to in out] == [B]  # B's close_notify; nothing for A, refused
    other.a.receive_datagram(out[0][0], other.now)
    assert isinstance(other.a.next_event(), sdtls.ConnectionTerminated)
    assert not peer_b.alive
    assert server.connections == []
    with pytest.raises(sdtls.ConnectionClosed):
        server.receive_datagram(b"x", A)


@pytest.mark.parametrize("call", ["next_event", "datagrams_to_send", "get_timer", "receive"])
def test_other_calls_from_the_hook_raise(certs: Certs, call: str) -> None:
    server_box: list[sdtls.Server] = []

    def on_connect(addr: Any) -> Answer:
        srv = server_box[0]
        if call == "receive":
            srv.receive_datagram(b"x", B)
        else:
            getattr(srv, call)()
        return None

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    server_box.append(server)
    errors: list[BaseException] = []
    link = run_refused(server, client(certs, None, handshake_timeout=3), A, errors)
    assert errors and all(isinstance(e, sdtls.UsageError) for e in errors), errors
    assert link.b_events == [] and server.counters()["peers"] == 0
    assert not server.closed


def test_hook_kept_by_the_server_then_collected(certs: Certs) -> None:
    class Hook:
        def __init__(self) -> None:
            self.asked = 0

        def __call__(self, addr: Any) -> Answer:
            self.asked += 1
            return None

    hook = Hook()
    gone = weakref.ref(hook)
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=hook)
    del hook
    gc.collect()
    assert gone() is not None  # the server holds it
    link = link_to(server, client(certs, None), A)
    link.run(link.connected)
    assert gone().asked == 1  # type: ignore[union-attr]
    server_gone = weakref.ref(server)
    del server, link
    gc.collect()
    assert server_gone() is None and gone() is None


def test_hook_and_server_in_a_cycle_are_collected(certs: Certs) -> None:
    box: dict[str, Any] = {}

    def on_connect(addr: Any) -> Answer:
        return box["server"] is not None  # the hook refers to the server

    box["server"] = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    link = link_to(box["server"], client(certs, None), A)
    link.run(link.connected)
    view = first(link.b_events, sdtls.PeerConnected).connection
    server_gone = weakref.ref(box["server"])
    hook_gone = weakref.ref(on_connect)
    del on_connect, link
    box.clear()
    gc.collect()
    assert server_gone() is None and hook_gone() is None
    assert not view.alive


def test_server_dropped_from_inside_the_hook(certs: Certs) -> None:
    box: dict[str, Any] = {}

    def on_connect(addr: Any) -> Answer:
        box.clear()  # the last reference but the running call's
        gc.collect()
        return None

    box["server"] = server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key),
                                          on_connect=on_connect)
    gone = weakref.ref(server)
    link = link_to(server, client(certs, None), A)
    del server
    link.run(link.connected)
    assert gone() is not None  # the link holds it
    del link
    gc.collect()
    assert gone() is None


def test_capsule_outliving_its_server_refuses(certs: Certs) -> None:
    # The C holder keeps only a weak reference to the Server: once the
    # Server is collected, a peer reaching the holder is refused, no crash.
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=lambda a: None)
    cap = server._cap
    gone = weakref.ref(server)
    del server
    gc.collect()
    assert gone() is None
    cli = client(certs, None)
    cli.start(1.0)
    now = 1_000_000_000
    for _ in range(4):
        for d in cli.datagrams_to_send():
            assert c.pyserver_receive(cap, d, A, now) == 0
        for d, _addr in c.pyserver_take_datagrams(cap):
            cli.receive_datagram(d, 1.0)
    rc, created = c.pyserver_query(cap, c.sdtls_server_counter_get, (c.SDTLS_COUNTER_CONNECTIONS_CREATED,))
    assert rc == 0 and created >= 1
    assert tuple(c.pyserver_query(cap, c.sdtls_server_counter_get, (c.SDTLS_COUNTER_PEERS,))) == (0, 0)
    assert c.pyserver_take_events(cap) == []
    del cap
    gc.collect()


def test_exception_pending_when_the_server_is_collected(certs: Certs) -> None:
    # A raised hook whose server is dropped right after: the exception still
    # comes out, and a later server's calls do not see it again.
    def on_connect(addr: Any) -> Answer:
        raise KeyError("late")

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=on_connect)
    cli = client(certs, None)
    link = link_to(server, cli, A)
    with pytest.raises(KeyError):
        for _ in range(4):
            link.step()
    del server, link
    gc.collect()
    fresh = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    ok = link_to(fresh, client(certs, None), B)
    ok.run(ok.connected)


# ---- the blocking and asyncio servers -------------------------------------------------


@pytest.fixture
def pinned(certs: Certs, client_a: tuple[bytes, bytes]) -> Callable[[Any], Answer]:
    def on_connect(addr: Any) -> Answer:
        if addr[1] in refused_ports:
            return False
        if addr[1] in raising_ports:
            raise RuntimeError("on_connect failed on purpose")
        return sdtls.fingerprint(client_a[0])
    return on_connect


refused_ports: set[int] = set()
raising_ports: set[int] = set()


@contextlib.contextmanager
def every_port_in(ports: set[int]) -> Iterator[None]:
    """Within the block, whichever port the next client gets is in ``ports``."""
    ports.update(range(1, 65536))
    try:
        yield
    finally:
        ports.clear()


@pytest.fixture
def blocking_server(certs: Certs, pinned: Callable[[Any], Answer]) -> Iterator[sdtls.DTLSServer]:
    server = sdtls.DTLSServer(lambda peer, data: peer.send(data.upper()), "127.0.0.1", 0,
                                  sdtls.Config(certificate=certs.cert, private_key=certs.key), on_connect=pinned)
    stop_server = serve_in_thread(server)
    yield server
    stop_server()


def test_blocking_server(blocking_server: sdtls.DTLSServer, certs: Certs, client_a: tuple[bytes, bytes],
                         client_b: tuple[bytes, bytes], caplog: pytest.LogCaptureFixture) -> None:
    port = blocking_server.server_address[1]

    def cfg(cred: tuple[bytes, bytes]) -> sdtls.Config:
        return sdtls.Config(cadata=certs.cert, certificate=cred[0], private_key=cred[1], initial_timeout=0.1)

    with sdtls.connect("127.0.0.1", port, cfg(client_a), server_name="localhost", timeout=10) as a:
        a.send(b"hi")
        assert a.recv(timeout=5) == b"HI"
    if DTLS13:  # the client is done before the server checks its certificate; the server's alert comes next
        with sdtls.connect("127.0.0.1", port, cfg(client_b), server_name="localhost", timeout=10) as b:
            assert b.connection.version == "DTLSv1.3"
            with pytest.raises(sdtls.AlertError):
                b.recv(timeout=5)
    else:
        with pytest.raises((sdtls.AlertError, sdtls.VerifyError)):
            sdtls.connect("127.0.0.1", port, cfg(client_b), server_name="localhost", timeout=10)
    with caplog.at_level(logging.ERROR, logger="sdtls"):
        with every_port_in(raising_ports), pytest.raises(sdtls.PeerTimeout):
            sdtls.connect("127.0.0.1", port, cfg(client_a), server_name="localhost", timeout=1)
    assert "on_connect failed on purpose" in caplog.text
    # the server goes on
    with sdtls.connect("127.0.0.1", port, cfg(client_a), server_name="localhost", timeout=10) as a:
        a.send(b"again")
        assert a.recv(timeout=5) == b"AGAIN"


async def upper(peer: sdtls.aio.DTLSServerConnection) -> None:
    async for data in peer:
        peer.send(data.upper())


async def test_aio_server(certs: Certs, client_a: tuple[bytes, bytes], client_b: tuple[bytes, bytes],
                          pinned: Callable[[Any], Answer], caplog: pytest.LogCaptureFixture) -> None:
    def cfg(cred: tuple[bytes, bytes]) -> sdtls.Config:
        return sdtls.Config(cadata=certs.cert, certificate=cred[0], private_key=cred[1], initial_timeout=0.1)

    server_config = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    async with await sdtls.aio.serve(upper, "127.0.0.1", 0, server_config, on_connect=pinned) as server:
        port = server.address[1]
        a = await sdtls.aio.connect("127.0.0.1", port, cfg(client_a), server_name="localhost")
        a.send(b"hi")
        assert await asyncio.wait_for(a.recv(), 5) == b"HI"
        a.close()
        if DTLS13:  # the client is done before the server checks its certificate; the server's alert comes next
            b = await sdtls.aio.connect("127.0.0.1", port, cfg(client_b), server_name="localhost")
            with pytest.raises(sdtls.AlertError):  # (it may have come before connect() returned)
                await asyncio.wait_for(b.recv(), 5)
            b.close()
        else:
            with pytest.raises((sdtls.AlertError, sdtls.VerifyError)):
                await sdtls.aio.connect("127.0.0.1", port, cfg(client_b), server_name="localhost")
        with every_port_in(refused_ports), pytest.raises(sdtls.PeerTimeout):
            await sdtls.aio.connect("127.0.0.1", port, cfg(client_a), server_name="localhost", timeout=0.5)
        with caplog.at_level(logging.ERROR, logger="sdtls"), every_port_in(raising_ports):
            with pytest.raises(sdtls.PeerTimeout):
                await sdtls.aio.connect("127.0.0.1", port, cfg(client_a), server_name="localhost", timeout=0.5)
        assert "on_connect failed on purpose" in caplog.text
        assert server.server.connections == []
        b = await sdtls.aio.connect("127.0.0.1", port, cfg(client_a), server_name="localhost")
        b.send(b"again")
        assert await asyncio.wait_for(b.recv(), 5) == b"AGAIN"
        b.close()


async def test_aio_close_from_the_hook(certs: Certs) -> None:
    box: list[sdtls.aio.DTLSServer] = []

    def on_connect(addr: Any) -> Answer:
        box[0].close()
        return None

    server = await sdtls.aio.serve(upper, "127.0.0.1", 0, sdtls.Config(certificate=certs.cert, private_key=certs.key),
                                   on_connect=on_connect)
    box.append(server)
    with pytest.raises((sdtls.PeerTimeout, ConnectionRefusedError)):
        await sdtls.aio.connect("127.0.0.1", server.address[1],
                                sdtls.Config(cadata=certs.cert, initial_timeout=0.1), server_name="localhost",
                                timeout=0.5)
    await asyncio.wait_for(server.wait_closed(), 5)
    assert server.server.closed


async def test_aio_close_from_the_hook_refuses_that_peer(certs: Certs) -> None:
    # As Server.close() from inside the hook: the peer being decided is
    # refused, so it gets nothing after its cookie (not the server's flight,
    # which with DTLS 1.3 would complete its handshake against a closed server).
    box: list[sdtls.aio.DTLSServer] = []
    asked: list[Any] = []

    def on_connect(addr: Any) -> Answer:
        asked.append(addr)
        box[0].close()
        return None

    server = await sdtls.aio.serve(upper, "127.0.0.1", 0, sdtls.Config(certificate=certs.cert, private_key=certs.key),
                                   on_connect=on_connect)
    box.append(server)
    got: list[bytes] = []
    arrived = asyncio.Event()

    class Raw(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            got.append(data)
            arrived.set()

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Raw, remote_addr=("127.0.0.1", server.address[1]))
    try:
        cli = sdtls.Connection(sdtls.Config(cadata=certs.cert), "client", server_name="localhost")
        cli.start()
        for d in cli.datagrams_to_send():
            transport.sendto(d)
        await asyncio.wait_for(arrived.wait(), 5)  # the cookie (HelloVerifyRequest / HelloRetryRequest)
        assert asked == []
        for d in got:
            cli.receive_datagram(d)
        got.clear()
        for d in cli.datagrams_to_send():  # the ClientHello with the cookie: the hook runs, and closes
            transport.sendto(d)
        await asyncio.wait_for(server.wait_closed(), 5)
        await asyncio.sleep(0.2)
        assert len(asked) == 1 and server.server.closed
        assert got == []
    finally:
        transport.close()

# SPDX-License-Identifier: Apache-2.0
"""sdtls.aio: asyncio clients and a multi-peer server on one socket."""

from __future__ import annotations

import asyncio
import socket
from typing import Callable

import pytest

import sdtls
import sdtls.aio
from conftest import Certs


async def echo(peer: sdtls.aio.DTLSServerConnection) -> None:
    async for data in peer:
        if data == b"raise":
            raise RuntimeError("handler failed on purpose")
        peer.send(b"echo " + data)


async def test_several_peers(server_config: sdtls.Config, client_config: sdtls.Config, certs: Certs) -> None:
    async with await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config) as server:
        port = server.address[1]

        async def one(n: int) -> list[bytes]:
            async with await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost") as c:
                assert c.connection.peer_fingerprint == sdtls.fingerprint(certs.cert)
                out = []
                for i in range(10):
                    c.send(b"%d-%d" % (n, i))
                    out.append(await asyncio.wait_for(c.recv(), 5))
                return out

        results = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(6))), 30)
        for n, got in enumerate(results):
            assert got == [b"echo %d-%d" % (n, i) for i in range(10)]
        assert server.server.counters()["connections_created"] == 6


async def test_recv_cancellation_loses_nothing(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    async with await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config) as server:
        c = await sdtls.aio.connect("127.0.0.1", server.address[1], client_config, server_name="localhost")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.recv(), 0.05)  # cancelled while waiting
        c.send(b"a")
        c.send(b"b")
        await asyncio.sleep(0.2)
        task = asyncio.ensure_future(c.recv())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [await c.recv(), await c.recv()] == [b"echo a", b"echo b"]
        c.close()
        with pytest.raises(sdtls.ConnectionClosed):
            await c.recv()


async def test_handler_raising_and_server_close(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    server = await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config)
    port = server.address[1]
    bad = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
    good = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
    bad.send(b"raise")
    with pytest.raises(sdtls.ConnectionClosed):
        await asyncio.wait_for(bad.recv(), 5)  # the handler's peer was closed
    good.send(b"x")
    assert await asyncio.wait_for(good.recv(), 5) == b"echo x"
    server.close()
    await asyncio.wait_for(server.wait_closed(), 5)
    with pytest.raises(sdtls.ConnectionClosed):
        await asyncio.wait_for(good.recv(), 5)  # close_notify from the server
    good.close()
    bad.close()


async def test_connect_errors(server_config: sdtls.Config, other_certs: tuple[bytes, bytes]) -> None:
    async with await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config) as server:
        with pytest.raises(sdtls.VerifyError):
            await sdtls.aio.connect("127.0.0.1", server.address[1], sdtls.Config(cadata=other_certs[0]),
                                    server_name="localhost")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        with pytest.raises(sdtls.PeerTimeout):
            await sdtls.aio.connect("127.0.0.1", silent.getsockname()[1], sdtls.Config(verify=False), timeout=0.3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        await sdtls.aio.connect("127.0.0.1", port, sdtls.Config(verify=False), timeout=5)


async def test_connect_cancelled_leaves_no_socket(client_config: sdtls.Config) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        task = asyncio.ensure_future(
            sdtls.aio.connect("127.0.0.1", silent.getsockname()[1], client_config, server_name="localhost"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await asyncio.sleep(0)
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert pending == []


async def test_idle_eviction_waits_for_silence(certs: Certs, client_config: sdtls.Config) -> None:
    """A peer that keeps talking is not evicted, though every datagram moves
    its idle deadline past the one the server's timer was armed for; once
    it falls silent it is evicted about idle_timeout later."""
    idle = 0.4
    ended: list[tuple[float, BaseException]] = []
    loop = asyncio.get_running_loop()

    async def handler(peer: sdtls.aio.DTLSServerConnection) -> None:
        try:
            while True:
                peer.send(await peer.recv())
        except sdtls.Error as e:
            ended.append((loop.time(), e))

    config = sdtls.Config(certificate=certs.cert, private_key=certs.key, idle_timeout=idle)
    async with await sdtls.aio.serve(handler, "127.0.0.1", 0, config) as server:
        c = await sdtls.aio.connect("127.0.0.1", server.address[1], client_config, server_name="localhost")
        talk_until = loop.time() + 3 * idle
        while True:
            c.send(b"ping")
            assert await asyncio.wait_for(c.recv(), 5) == b"ping"
            silent_since = loop.time()  # the server's last datagram is just before this
            if silent_since >= talk_until:
                break
            await asyncio.sleep(idle / 8)
        assert ended == []
        for _ in range(100):
            if ended:
                break
            await asyncio.sleep(idle / 8)
        assert len(ended) == 1
        at, error = ended[0]
        assert isinstance(error, sdtls.PeerTimeout)
        assert idle * 0.8 <= at - silent_since <= idle + 2.0
        c.close()


async def test_retransmission_through_a_lossy_relay(server_config: sdtls.Config, certs: Certs) -> None:
    """The first flights are dropped by a relay: the event loop's timers
    retransmit and the handshake completes."""
    loop = asyncio.get_running_loop()
    async with await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config) as server:
        target = server.address
        dropped = {"n": 0}
        client_addr: list[tuple[str, int]] = []

        class Relay(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.t = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                if addr == target[:2]:
                    if client_addr:
                        self.t.sendto(data, client_addr[0])  # type: ignore[attr-defined]
                    return
                client_addr[:] = [addr]
                if dropped["n"] < 2:  # lose the first two client datagrams
                    dropped["n"] += 1
                    return
                self.t.sendto(data, target)  # type: ignore[attr-defined]

        transport, _ = await loop.create_datagram_endpoint(Relay, local_addr=("127.0.0.1", 0))
        try:
            cfg = sdtls.Config(cadata=certs.cert, initial_timeout=0.05)
            port = transport.get_extra_info("sockname")[1]
            c = await asyncio.wait_for(sdtls.aio.connect("127.0.0.1", port, cfg, server_name="localhost"), 10)
            c.send(b"through")
            assert await asyncio.wait_for(c.recv(), 5) == b"echo through"
            assert dropped["n"] == 2
            c.close()
        finally:
            transport.close()


async def test_a_burst_is_answered_in_order(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    """More datagrams at once than the server reads per call into C (a
    batch of 16) and per wake-up (64): each is answered, in order."""
    async with await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config) as server:
        async with await sdtls.aio.connect("127.0.0.1", server.address[1], client_config,
                                           server_name="localhost") as c:
            for i in range(100):
                c.send(b"%d" % i)
            got = [await asyncio.wait_for(c.recv(), 5) for _ in range(100)]
    assert got == [b"echo %d" % i for i in range(100)]


async def test_ipv6(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    addresses: list[sdtls.Address] = []

    async def handler(peer: sdtls.aio.DTLSServerConnection) -> None:
        addresses.append(peer.address)
        await echo(peer)

    async with await sdtls.aio.serve(handler, "::1", 0, server_config) as server:
        assert server.address[0] == "::1" and len(server.address) == 4
        async with await sdtls.aio.connect("::1", server.address[1], client_config, server_name="localhost") as c:
            c.send(b"six")
            assert await asyncio.wait_for(c.recv(), 5) == b"echo six"
            assert addresses[0][:2] == c._transport.get_extra_info("sockname")[:2]  # type: ignore[union-attr]
            assert len(addresses[0]) == 4


async def test_sends_to_a_peer_gone_leave_the_server_serving(server_config: sdtls.Config,
                                                             client_config: sdtls.Config) -> None:
    """A peer whose socket closed without close_notify: what the server
    still sends it comes back as ICMP port unreachable, and the server goes
    on serving the others."""
    async def handler(peer: sdtls.aio.DTLSServerConnection) -> None:
        async for data in peer:
            if data == b"later":
                await asyncio.sleep(0.1)
                for _ in range(5):
                    peer.send(b"late")
                    await asyncio.sleep(0.01)
            else:
                peer.send(b"echo " + data)

    async with await sdtls.aio.serve(handler, "127.0.0.1", 0, server_config) as server:
        port = server.address[1]
        gone = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
        stays = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
        gone.send(b"later")
        gone._shut()  # the socket closes; no close_notify
        await asyncio.sleep(0.3)
        for i in range(3):
            stays.send(b"%d" % i)
            assert await asyncio.wait_for(stays.recv(), 5) == b"echo %d" % i
        stays.close()


@pytest.mark.parametrize("form", ["handler", "protocol"])
async def test_dtls_server_over_a_transport(server_config: sdtls.Config, client_config: sdtls.Config,
                                            form: str) -> None:
    """A DTLSServer made by its constructor is an asyncio DatagramProtocol
    too: over the transport create_datagram_endpoint() gives it, with a
    handler or a protocol_factory."""
    loop = asyncio.get_running_loop()

    def make() -> sdtls.aio.DTLSServer:
        if form == "handler":
            return sdtls.aio.DTLSServer(echo, server_config)
        return sdtls.aio.DTLSServer(None, server_config, protocol_factory=Recorder)

    transport, server = await loop.create_datagram_endpoint(make, local_addr=("127.0.0.1", 0))
    async with server:
        async with await sdtls.aio.connect("127.0.0.1", server.address[1], client_config,
                                           server_name="localhost") as c:
            for i in range(3):
                c.send(b"%d" % i)
                assert await asyncio.wait_for(c.recv(), 5) == b"echo %d" % i
    assert transport.is_closing()


def test_uvloop(server_config: sdtls.Config, certs: Certs) -> None:
    """The server's socket is watched with loop.add_reader(), which uvloop
    has too: handshakes, echoes and the close under uvloop."""
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        cfg = sdtls.Config(cadata=certs.cert)
        async with await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config) as server:
            clients = [await sdtls.aio.connect("127.0.0.1", server.address[1], cfg, server_name="localhost")
                       for _ in range(3)]
            for n, c in enumerate(clients):
                c.send(b"%d" % n)
            assert [await asyncio.wait_for(c.recv(), 5) for c in clients] == [b"echo %d" % n for n in range(3)]
            clients[0].close()
        for c in clients[1:]:
            with pytest.raises(sdtls.ConnectionClosed):
                await asyncio.wait_for(c.recv(), 5)  # close_notify from the server
            c.close()

    uvloop.run(main())


class Recorder(sdtls.aio.PeerProtocol):
    """A PeerProtocol that echoes, and records its calls in ``log``."""

    log: list[tuple[str, object]] = []
    refuse = False  # connection_made raises

    def connection_made(self, peer: sdtls.aio.DTLSServerConnection) -> None:
        self.peer = peer
        self.log.append(("made", peer.address))
        if self.refuse:
            raise RuntimeError("connection_made failed on purpose")

    def datagram_received(self, data: bytes) -> None:
        self.log.append(("data", data))
        if data == b"raise":
            raise RuntimeError("datagram_received failed on purpose")
        if data == b"close":
            self.peer.close()
            self.log.append(("closed", None))  # connection_lost comes after, not inside
            return
        self.peer.send(b"echo " + data)

    def connection_lost(self, error: object) -> None:
        self.log.append(("lost", type(error).__name__ if error is not None else None))


async def until(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 5 s")


async def test_create_server_calls_the_protocol(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    """create_server(): each peer's protocol sees connection_made, its
    datagrams in order, then connection_lost once; a callback that raises
    closes its peer only."""
    log: list[tuple[str, object]] = []

    class factory(Recorder):
        pass

    factory.log = log
    async with await sdtls.aio.create_server(factory, "127.0.0.1", 0, server_config) as server:
        port = server.address[1]
        async with await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost") as c:
            for i in range(5):
                c.send(b"%d" % i)
            assert [await asyncio.wait_for(c.recv(), 5) for _ in range(5)] == [b"echo %d" % i for i in range(5)]
        await until(lambda: log[-1][0] == "lost")
        assert [e[0] for e in log] == ["made"] + ["data"] * 5 + ["lost"]
        assert [e[1] for e in log[1:6]] == [b"%d" % i for i in range(5)]
        assert log[-1] == ("lost", None)  # the client's close_notify

        # A peer whose datagram_received raises is closed; another goes on.
        log.clear()
        bad = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
        good = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
        bad.send(b"raise")
        with pytest.raises(sdtls.ConnectionClosed):
            await asyncio.wait_for(bad.recv(), 5)
        good.send(b"x")
        assert await asyncio.wait_for(good.recv(), 5) == b"echo x"
        await until(lambda: ("lost", "ConnectionClosed") in log)

        # close() from inside datagram_received: connection_lost after it returned.
        log.clear()
        good.send(b"close")
        with pytest.raises(sdtls.ConnectionClosed):
            await asyncio.wait_for(good.recv(), 5)
        await until(lambda: log[-1][0] == "lost")
        assert log == [("data", b"close"), ("closed", None), ("lost", "ConnectionClosed")]

        # connection_made raising: the peer is closed, no connection_lost.
        log.clear()
        factory.refuse = True
        refused = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
        with pytest.raises(sdtls.ConnectionClosed):
            await asyncio.wait_for(refused.recv(), 5)
        await asyncio.sleep(0.05)
        assert [e[0] for e in log] == ["made"]
        factory.refuse = False

        # The server's close: connection_lost(ConnectionClosed) for those left.
        log.clear()
        last = await sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost")
        await until(lambda: log == [("made", log[0][1])] if log else False)
        server.close()
        await until(lambda: len(log) == 2)
        assert log[1] == ("lost", "ConnectionClosed")
        with pytest.raises(sdtls.ConnectionClosed):
            await asyncio.wait_for(last.recv(), 5)
        for client in (bad, good, refused, last):
            client.close()


async def test_dtls_server_takes_a_handler_or_a_protocol_factory(server_config: sdtls.Config) -> None:
    with pytest.raises(TypeError):
        sdtls.aio.DTLSServer(None, server_config)
    with pytest.raises(TypeError):
        sdtls.aio.DTLSServer(echo, server_config, protocol_factory=Recorder)

# SPDX-License-Identifier: Apache-2.0
"""Several servers on one port (reuse_port), as N processes run them: what
they must share, the cookie secret and the ticket secret, lets a client
move between them. Each server here has a Config of its own, as each
process would; the cookie and session tests address each server by its own
port, so that which server a datagram reaches is decided here, not by the
kernel's hash."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Optional

import pytest

import sdtls
import sdtls.aio
from conftest import DTLS13, Certs


async def echo(peer: sdtls.aio.DTLSServerConnection) -> None:
    async for data in peer:
        peer.send(data)


async def close_all(*servers: sdtls.aio.DTLSServer) -> None:
    for s in servers:
        s.close()
    for s in servers:
        await s.wait_closed()


def server_config(certs: Certs, ticket_secret: Optional[bytes] = None) -> sdtls.Config:
    return sdtls.Config(certificate=certs.cert, private_key=certs.key, ticket_secret=ticket_secret)


async def test_reuse_port_shares_one_port(certs: Certs, client_config: sdtls.Config) -> None:
    a = await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config(certs), reuse_port=True)
    port = a.address[1]
    b = await sdtls.aio.serve(echo, "127.0.0.1", port, server_config(certs), reuse_port=True)
    try:
        assert b.address == a.address
        with pytest.raises(OSError):  # without the option the port is taken
            await sdtls.aio.serve(echo, "127.0.0.1", port, server_config(certs))
        # The kernel spreads clients (by their address) over both sockets.
        for n in range(64):
            async with await asyncio.wait_for(
                    sdtls.aio.connect("127.0.0.1", port, client_config, server_name="localhost"), 10) as c:
                c.send(b"%d" % n)
                assert await asyncio.wait_for(c.recv(), 5) == b"%d" % n
            if all(s.server.counters()["connections_created"] for s in (a, b)):
                break
        assert a.server.counters()["connections_created"] >= 1
        assert b.server.counters()["connections_created"] >= 1
    finally:
        await close_all(a, b)


@pytest.mark.parametrize("shared", [True, False])
async def test_a_session_made_on_one_server_resumes_on_another(certs: Certs, client_config: sdtls.Config,
                                                                shared: bool) -> None:
    secret = os.urandom(32)
    a = await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config(certs, secret), reuse_port=True)
    b = await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config(certs, secret if shared else os.urandom(32)),
                              reuse_port=True)
    try:
        first = await sdtls.aio.connect("127.0.0.1", a.address[1], client_config, server_name="localhost")
        first.send(b"ticket?")  # the ticket comes after the handshake
        assert await asyncio.wait_for(first.recv(), 5) == b"ticket?"
        session = first.connection.get_session()
        first.close()
        assert session is not None
        again = await sdtls.aio.connect("127.0.0.1", b.address[1], client_config, server_name="localhost",
                                        session=session)
        assert again.connection.session_resumed is shared
        again.close()
    finally:
        await close_all(a, b)


@pytest.mark.parametrize("shared", [True, False])
async def test_a_cookie_made_by_one_server_is_accepted_by_another(certs: Certs, client_config: sdtls.Config,
                                                                   shared: bool) -> None:
    """The client's first ClientHello goes to server A, which answers with a
    cookie; its ClientHello with that cookie goes to server B (a balancer
    or the kernel's hash may do that). With the same cookie secret B takes
    it and the handshake completes with B; without, B refuses it and
    creates nothing."""
    secret = os.urandom(32)
    loop = asyncio.get_running_loop()
    a = await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config(certs), reuse_port=True, cookie_secret=secret)
    b = await sdtls.aio.serve(echo, "127.0.0.1", 0, server_config(certs), reuse_port=True,
                              cookie_secret=secret if shared else os.urandom(32))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        conn = sdtls.Connection(client_config, "client", server_name="localhost")
        conn.start()
        for d in conn.datagrams_to_send():
            sock.sendto(d, a.address)
        conn.receive_datagram(await asyncio.wait_for(loop.sock_recv(sock, 4096), 5))  # A's cookie
        assert a.server.counters()["cookies_sent"] == 1
        for d in conn.datagrams_to_send():
            sock.sendto(d, b.address)
        for _ in range(20):  # the rest of the handshake, with B
            if conn.state != sdtls.State.HANDSHAKING:
                break
            conn.receive_datagram(await asyncio.wait_for(loop.sock_recv(sock, 4096), 5))
            if not shared:
                break  # B's answer: its own cookie (DTLS 1.2) or an alert (1.3)
            for d in conn.datagrams_to_send():
                sock.sendto(d, b.address)
        counters = b.server.counters()
        if shared:
            assert conn.state == sdtls.State.CONNECTED
            assert (counters["cookies_sent"], counters["connections_created"]) == (0, 1)
        else:
            # DTLS 1.2: B asks again with a cookie of its own; DTLS 1.3: B
            # refuses with an alert, since a client may not be sent a
            # second HelloRetryRequest (RFC 8446, section 4.1.4).
            assert (counters["cookies_sent"], counters["cookies_rejected"], counters["connections_created"]) \
                == (0 if DTLS13 else 1, 1, 0)
        assert a.server.counters()["connections_created"] == 0
    finally:
        sock.close()
        await close_all(a, b)


def test_blocking_servers_share_a_port_and_a_cookie_secret(certs: Certs) -> None:
    secret = os.urandom(32)
    a = sdtls.DTLSServer(lambda conn, data: None, "127.0.0.1", 0, server_config(certs), reuse_port=True,
                         cookie_secret=secret)
    b = sdtls.DTLSServer(lambda conn, data: None, "127.0.0.1", a.server_address[1], server_config(certs),
                         reuse_port=True, cookie_secret=secret)
    try:
        assert a.server_address == b.server_address
        with pytest.raises(OSError):
            sdtls.DTLSServer(lambda conn, data: None, "127.0.0.1", a.server_address[1], server_config(certs))
        # The secret is the one given: a cookie of A's secret passes B.
        conn = sdtls.Connection(sdtls.Config(cadata=certs.cert), "client", server_name="localhost")
        conn.start()
        probe = sdtls.Server(server_config(certs))
        probe.set_cookie_secret(secret)
        for hello in conn.datagrams_to_send():  # two with ML-KEM's key share
            probe.receive_datagram(hello, ("127.0.0.1", 9))
        conn.receive_datagram(probe.datagrams_to_send()[0][0])
        for with_cookie in conn.datagrams_to_send():
            b.server.receive_datagram(with_cookie, ("127.0.0.1", 9))
        assert b.server.counters()["connections_created"] == 1
        probe.close()
    finally:
        for s in (a, b):
            s.shutdown()
            s.serve_forever()  # returns at once, closing the socket

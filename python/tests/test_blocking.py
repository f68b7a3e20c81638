# SPDX-License-Identifier: Apache-2.0
"""Blocking connect() and serve() over loopback UDP."""

from __future__ import annotations

import logging
import queue
import select
import socket
import threading
import time
from typing import Iterator, Optional

import pytest

import sdtls
from conftest import DTLS13, Certs, free_udp_port, serve_in_thread


@pytest.fixture
def echo_server(server_config: sdtls.Config) -> Iterator[sdtls.DTLSServer]:
    def handler(conn: sdtls.ServerConnection, data: bytes) -> None:
        if data == b"raise":
            raise RuntimeError("handler failed on purpose")
        conn.send(b"echo " + data)

    server = sdtls.DTLSServer(handler, "127.0.0.1", 0, server_config)
    stop_server = serve_in_thread(server)
    yield server
    stop_server()


def test_connect_send_recv(echo_server: sdtls.DTLSServer, client_config: sdtls.Config, certs: Certs) -> None:
    host, port = echo_server.server_address[:2]
    with sdtls.connect("127.0.0.1", port, client_config, server_name="localhost", timeout=10) as client:
        assert client.connection.peer_fingerprint == sdtls.fingerprint(certs.cert)
        for i in range(20):
            client.send(b"n%d" % i)
            assert client.recv(timeout=5) == b"echo n%d" % i
        with pytest.raises(TimeoutError):
            client.recv(timeout=0.05)
    client.close()


def test_handler_raising_closes_that_peer(echo_server: sdtls.DTLSServer, client_config: sdtls.Config,
                                          caplog: pytest.LogCaptureFixture) -> None:
    port = echo_server.server_address[1]
    other = sdtls.connect("127.0.0.1", port, client_config, server_name="localhost", timeout=10)
    with caplog.at_level(logging.ERROR, logger="sdtls"):
        with sdtls.connect("127.0.0.1", port, client_config, server_name="localhost", timeout=10) as client:
            client.send(b"raise")
            with pytest.raises(sdtls.ConnectionClosed):
                client.recv(timeout=5)
    assert "handler failed" in caplog.text
    other.send(b"still served")
    assert other.recv(timeout=5) == b"echo still served"
    other.close()


def test_verify_error_over_udp(echo_server: sdtls.DTLSServer, other_certs: tuple[bytes, bytes]) -> None:
    port = echo_server.server_address[1]
    with pytest.raises(sdtls.VerifyError) as e:
        sdtls.connect("127.0.0.1", port, sdtls.Config(cadata=other_certs[0]), server_name="localhost", timeout=10)
    assert "certificate verify failed" in str(e.value)


def test_refused() -> None:
    port = free_udp_port()
    with pytest.raises(ConnectionRefusedError):
        sdtls.connect("127.0.0.1", port, sdtls.Config(verify=False), timeout=5)


def test_handshake_timeout_when_nobody_answers(client_config: sdtls.Config) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(sdtls.PeerTimeout):
            sdtls.connect("127.0.0.1", port, client_config, server_name="localhost", timeout=0.5)
        assert time.monotonic() - start < 3
        assert silent.recv(2048)[0] == 22  # it did send a ClientHello


def test_peer_close_ends_recv(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    def handler(conn: sdtls.ServerConnection, data: bytes) -> None:
        conn.send(b"bye")
        conn.close()

    server = sdtls.DTLSServer(handler, "127.0.0.1", 0, server_config)
    stop_server = serve_in_thread(server)
    try:
        client = sdtls.connect("127.0.0.1", server.server_address[1], client_config, server_name="localhost")
        client.send(b"hi")
        assert client.recv(timeout=5) == b"bye"
        with pytest.raises(sdtls.ConnectionClosed):
            client.recv(timeout=5)
        with pytest.raises(sdtls.ConnectionClosed):
            client.send(b"more")
        client.close()
    finally:
        stop_server()


class DropRelay:
    """Forwards datagrams between one client and a server over loopback and
    drops the first client datagram that is not a plaintext handshake record:
    the client's final flight (CCS+Finished of a resumed DTLS 1.2 handshake,
    the encrypted Finished of DTLS 1.3)."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.connect(server)
        self.port = int(self.front.getsockname()[1])
        self.dropped = 0
        self._client: Optional[tuple[str, int]] = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            readable, _, _ = select.select([self.front, self.back], [], [], 0.05)
            if self.front in readable:
                data, self._client = self.front.recvfrom(65536)
                if data[:1] != b"\x16" and self.dropped == 0:
                    self.dropped += 1
                else:
                    self.back.send(data)
            if self.back in readable:
                try:
                    data = self.back.recv(65536)
                except ConnectionRefusedError:
                    continue
                if self._client is not None:
                    self.front.sendto(data, self._client)

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)
        self.front.close()
        self.back.close()


@pytest.mark.parametrize("version,resume", [("1.2", True), ("1.3", False)])
def test_send_only_client_retransmits_its_last_flight(certs: Certs, version: str, resume: bool) -> None:
    """A client that only sends, whose final handshake flight was lost once,
    still gets its data through: send() drives the connection (retransmits
    on its timer, or answers the server's retransmission). Then recv()
    returns every echo that arrived meanwhile, in order."""
    if version == "1.3" and not DTLS13:
        pytest.skip("the engine has no DTLS 1.3")
    got: "queue.Queue[bytes]" = queue.Queue()

    def handler(conn: sdtls.ServerConnection, data: bytes) -> None:
        got.put(data)
        conn.send(data)

    server = sdtls.DTLSServer(handler, "127.0.0.1", 0,
                                  sdtls.Config(certificate=certs.cert, private_key=certs.key, initial_timeout=0.1))
    stop_server = serve_in_thread(server)
    ccfg = sdtls.Config(cadata=certs.cert, max_version=version, initial_timeout=0.1)
    port = server.server_address[1]
    relay: Optional[DropRelay] = None
    try:
        session = None
        if resume:
            with sdtls.connect("127.0.0.1", port, ccfg, server_name="localhost", timeout=10) as first:
                first.send(b"first")
                assert first.recv(timeout=5) == b"first"
                session = first.connection.get_session()
            assert session is not None
            assert got.get(timeout=5) == b"first"
        relay = DropRelay(("127.0.0.1", port))
        with sdtls.connect("127.0.0.1", relay.port, ccfg, server_name="localhost", timeout=10,
                           session=session) as client:
            assert client.connection.version == "DTLSv" + version
            assert client.connection.session_resumed == resume
            for _ in range(100):  # the relay may not have seen it yet
                if relay.dropped:
                    break
                time.sleep(0.01)
            assert relay.dropped == 1

            # Send only, until the server has something (DTLS does not resend
            # data: the first sends may be lost while the server waits).
            received: list[bytes] = []
            written = 0
            until = time.monotonic() + 5
            while not received and time.monotonic() < until:
                client.send(b"early %d" % written)
                written += 1
                try:
                    received.append(got.get(timeout=0.02))
                except queue.Empty:
                    pass
            assert received, f"the server received none of {written} sends: the last flight was never retransmitted"
            for i in range(5):  # from then on, every send arrives
                msg = b"later %d" % i
                client.send(msg)
                while True:
                    m = got.get(timeout=5)
                    received.append(m)
                    if m == msg:
                        break
            for want in received:  # nothing send() took from the socket was lost or reordered
                assert client.recv(timeout=5) == want
            if version == "1.3":
                assert client.connection.get_session() is not None  # the ticket came
    finally:
        if relay is not None:
            relay.close()
        stop_server()

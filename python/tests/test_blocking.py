"""Blocking connect() and serve() over loopback UDP."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Iterator

import pytest

import sdtls
from conftest import Certs, free_udp_port


@pytest.fixture
def echo_server(server_config: sdtls.Config) -> Iterator[sdtls.DatagramServer]:
    def handler(conn: sdtls.ServerConnection, data: bytes) -> None:
        if data == b"raise":
            raise RuntimeError("handler failed on purpose")
        conn.send(b"echo " + data)

    server = sdtls.DatagramServer(handler, "127.0.0.1", 0, server_config)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    t.join(10)
    assert not t.is_alive()


def test_connect_send_recv(echo_server: sdtls.DatagramServer, client_config: sdtls.Config, certs: Certs) -> None:
    host, port = echo_server.server_address[:2]
    with sdtls.connect("127.0.0.1", port, client_config, server_name="localhost", timeout=10) as client:
        assert client.connection.peer_fingerprint == sdtls.fingerprint(certs.cert)
        for i in range(20):
            client.send(b"n%d" % i)
            assert client.recv(timeout=5) == b"echo n%d" % i
        with pytest.raises(TimeoutError):
            client.recv(timeout=0.05)
    client.close()


def test_handler_raising_closes_that_peer(echo_server: sdtls.DatagramServer, client_config: sdtls.Config,
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


def test_verify_error_over_udp(echo_server: sdtls.DatagramServer, other_certs: tuple[bytes, bytes]) -> None:
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
        with pytest.raises(sdtls.HandshakeTimeout):
            sdtls.connect("127.0.0.1", port, client_config, server_name="localhost", timeout=0.5)
        assert time.monotonic() - start < 3
        assert silent.recv(2048)[0] == 22  # it did send a ClientHello


def test_peer_close_ends_recv(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    def handler(conn: sdtls.ServerConnection, data: bytes) -> None:
        conn.send(b"bye")
        conn.close()

    server = sdtls.DatagramServer(handler, "127.0.0.1", 0, server_config)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
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
        server.shutdown()
        t.join(10)

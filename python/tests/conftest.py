# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: certificates, configs, and a deterministic datagram pump."""

from __future__ import annotations

import os
import random
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

import sdtls


#: Whether the engine speaks DTLS 1.3: then a handshake with the default
#: version range negotiates it (the newest the engine speaks), else 1.2.
DTLS13 = sdtls.has_feature("dtls1_3")
DEFAULT_VERSION = "DTLSv1.3" if DTLS13 else "DTLSv1.2"
#: The datagrams of a default first ClientHello: the engine that speaks DTLS
#: 1.3 has X25519MLKEM768 first by default, whose key share spans two at
#: the default MTU.
CLIENT_HELLO_DATAGRAMS = 2 if DTLS13 else 1
#: The cipher suites a default certificate handshake may pick, as a regex.
DEFAULT_CIPHERS = r"TLS_(?:AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)" if DTLS13 else r"TLS_ECDHE_\w+"


@dataclass
class Certs:
    cert: bytes
    key: bytes
    cert_file: Path
    key_file: Path


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    d = tmp_path_factory.mktemp("certs")
    cert, key = sdtls.generate_certificate("localhost", 30)
    (d / "cert.pem").write_bytes(cert)
    (d / "key.pem").write_bytes(key)
    return Certs(cert, key, d / "cert.pem", d / "key.pem")


@pytest.fixture(scope="session")
def other_certs() -> tuple[bytes, bytes]:
    return sdtls.generate_certificate("other", 30)


@pytest.fixture(scope="module")
def client_a() -> tuple[bytes, bytes]:
    """A client certificate and key (a module's own), for pinning tests."""
    return sdtls.generate_certificate("client-a", 30)


@pytest.fixture(scope="module")
def client_b() -> tuple[bytes, bytes]:
    """Another client certificate and key (a module's own)."""
    return sdtls.generate_certificate("client-b", 30)


def versions() -> list[str]:
    """The protocol versions the engine speaks, as max_version takes them."""
    return ["1.2", "1.3"] if DTLS13 else ["1.2"]


@pytest.fixture
def server_config(certs: Certs) -> sdtls.Config:
    return sdtls.Config(certificate=certs.cert, private_key=certs.key)


@pytest.fixture
def client_config(certs: Certs) -> sdtls.Config:
    return sdtls.Config(cadata=certs.cert)


Filter = Callable[[list[bytes]], list[bytes]]


def passthrough(ds: list[bytes]) -> list[bytes]:
    return ds


@dataclass
class Link:
    """Moves datagrams between two sans-I/O endpoints on a virtual clock,
    through a filter each way that may drop, reorder or duplicate them."""

    a: sdtls.Connection
    b: object  # a Connection or a Server
    now: float = 1000.0
    addr: tuple[str, int] = ("127.0.0.1", 40000)
    a_to_b: Filter = passthrough
    b_to_a: Filter = passthrough
    a_events: list[sdtls.Event] = field(default_factory=list)
    b_events: list[sdtls.Event] = field(default_factory=list)

    def step(self) -> int:
        moved = 0
        for d in self.a_to_b(self.a.datagrams_to_send()):
            moved += 1
            if isinstance(self.b, sdtls.Server):
                self.b.receive_datagram(d, self.addr, self.now)
            else:
                self.b.receive_datagram(d, self.now)  # type: ignore[attr-defined]
        out = self.b.datagrams_to_send()  # type: ignore[attr-defined]
        if isinstance(self.b, sdtls.Server):
            out = [d for d, addr in out if addr == self.addr]
        for d in self.b_to_a(out):
            moved += 1
            self.a.receive_datagram(d, self.now)
        self.drain()
        return moved

    def drain(self) -> None:
        for conn, sink in ((self.a, self.a_events), (self.b, self.b_events)):
            while (e := conn.next_event()) is not None:  # type: ignore[attr-defined]
                sink.append(e)

    def advance(self) -> bool:
        """Moves the clock to the earliest timer and fires it; False if none."""
        timers = [t for t in (self.a.get_timer(), self.b.get_timer()) if t is not None]  # type: ignore[attr-defined]
        if not timers:
            return False
        self.now = max(self.now, min(timers))
        for conn in (self.a, self.b):
            t = conn.get_timer()  # type: ignore[attr-defined]
            if t is not None and t <= self.now:
                conn.handle_timer(self.now)  # type: ignore[attr-defined]
        return True

    def run(self, until: Callable[[], bool], max_rounds: int = 400) -> None:
        for _ in range(max_rounds):
            if until():
                return
            if self.step() == 0 and not until():
                if not self.advance():
                    break
        assert until(), "the link did not get there"

    def connected(self) -> bool:
        a = any(isinstance(e, sdtls.HandshakeCompleted) for e in self.a_events)
        b = any(isinstance(e, sdtls.HandshakeCompleted) for e in self.b_events)
        return a and b


def make_link(client_config: sdtls.Config, server_config: sdtls.Config, *, server: bool = False,
              name: str = "localhost", **kw: object) -> Link:
    cli = sdtls.Connection(client_config, "client", server_name=name)
    srv: object = sdtls.Server(server_config) if server else sdtls.Connection(server_config, "server")
    link = Link(cli, srv, **kw)  # type: ignore[arg-type]
    cli.start(link.now)
    return link


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sdtls_tool() -> Optional[str]:
    return os.environ.get("SDTLS_TOOL") or shutil.which("sdtls")


def lossy(rng: random.Random, loss: float = 0.3, dup: float = 0.2) -> Filter:
    def f(ds: list[bytes]) -> list[bytes]:
        out = [d for d in ds if rng.random() >= loss]
        out += [d for d in out if rng.random() < dup]
        rng.shuffle(out)
        return out
    return f


@pytest.fixture
def rng() -> Iterator[random.Random]:
    yield random.Random(int(os.environ.get("SDTLS_TEST_SEED", "1")))


def need(what: str, ok: bool) -> None:
    """Skips a test whose outside tool is missing, unless SDTLS_TEST_STRICT=1
    (the project's test run), where a missing tool fails it."""
    if ok:
        return
    if os.environ.get("SDTLS_TEST_STRICT") == "1":
        pytest.fail(f"{what} is needed (SDTLS_TEST_STRICT=1)")
    pytest.skip(f"{what} not available")


def serve_in_thread(server: sdtls.DTLSServer) -> Callable[[], None]:
    """Runs ``server.serve_forever()`` on a daemon thread; returns the function
    that shuts the server down and checks that its thread ended."""
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()

    def stop() -> None:
        server.shutdown()
        t.join(10)
        assert not t.is_alive(), "serve_forever() did not return after shutdown()"

    return stop

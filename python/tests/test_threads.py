"""Threads: distinct connections in parallel; misuse refused, not crashed."""

from __future__ import annotations

import re
import threading

import pytest

import sdtls
from conftest import DTLS13, Certs, make_link


def test_connections_on_threads(certs: Certs) -> None:
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    errors: list[BaseException] = []
    done = []

    def work(n: int) -> None:
        try:
            for _ in range(8):
                link = make_link(client, server, server=n % 2 == 0)
                link.run(link.connected)
                for i in range(50):
                    link.a.send(b"%d" % i)
                link.step()
                got = [e for e in link.b_events if isinstance(e, sdtls.DatagramReceived)]
                assert len(got) == 50
            done.append(n)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and sorted(done) == [0, 1, 2, 3]


def test_keylog_from_threads(certs: Certs) -> None:
    lines: list[str] = []
    lock = threading.Lock()

    def keylog(line: str) -> None:
        with lock:
            lines.append(line)

    client = sdtls.Config(cadata=certs.cert, keylog=keylog)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)

    def work() -> None:
        for _ in range(5):
            link = make_link(client, server)
            link.run(link.connected)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if DTLS13:
        # DTLS 1.3: the five traffic secrets of each handshake, one
        # CLIENT_TRAFFIC_SECRET_0 per handshake (as tests/cli/keylog.sh)
        assert all(re.fullmatch(KEYLOG13, line) for line in lines), lines
        assert len([line for line in lines if line.startswith("CLIENT_TRAFFIC_SECRET_0 ")]) == 15
        assert not any(line.startswith("CLIENT_RANDOM ") for line in lines)
    else:
        assert len(lines) >= 15 and all(line.startswith("CLIENT_RANDOM ") for line in lines)


KEYLOG13 = (r"(?:CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0"
            r"|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64}(?:[0-9a-f]{32})?")


def test_keylog_callback_raising(certs: Certs) -> None:
    """The exception comes out of the call that completed the handshake;
    the connection goes on."""

    class Boom(Exception):
        pass

    def keylog(line: str) -> None:
        raise Boom(line)

    client = sdtls.Config(cadata=certs.cert, keylog=keylog)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = make_link(client, server)
    with pytest.raises(Boom) as e:
        link.run(link.connected)
    # the first line the client logs: DTLS 1.2's one, or 1.3's first secret
    assert str(e.value).startswith("CLIENT_HANDSHAKE_TRAFFIC_SECRET " if DTLS13 else "CLIENT_RANDOM ")
    link.run(link.connected)  # nothing else raises; the handshake finished
    link.a.send(b"after")
    link.step()
    assert any(isinstance(ev, sdtls.DatagramReceived) for ev in link.b_events)


def test_keylog_callback_using_its_own_connection(certs: Certs) -> None:
    """A call on the connection from inside its own callback is refused
    (the C call is running), as the C library refuses it."""
    holder: list[sdtls.Connection] = []
    seen: list[str] = []

    def keylog(line: str) -> None:
        seen.append(holder[0].state.name)  # queries are allowed
        holder[0].send(b"from the callback")

    client = sdtls.Config(cadata=certs.cert, keylog=keylog)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = make_link(client, server)
    holder.append(link.a)
    with pytest.raises(sdtls.UsageError):
        link.run(link.connected)
    assert seen


def test_one_connection_from_two_threads(certs: Certs) -> None:
    """Two threads on one connection: never a crash; a call that finds the
    connection in use raises UsageError."""
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = make_link(client, server)
    link.run(link.connected)
    conn = link.a
    errors: list[BaseException] = []

    def hammer() -> None:
        for _ in range(3000):
            try:
                conn.send(b"x" * 100)
                conn.datagrams_to_send()
            except sdtls.UsageError:
                pass
            except BaseException as e:
                errors.append(e)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []

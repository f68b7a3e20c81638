# SPDX-License-Identifier: Apache-2.0
"""Threads: distinct connections in parallel; misuse refused, not crashed."""

from __future__ import annotations

import os
import re
import sys
import threading
from typing import Callable, Iterator, TypeVar, Union

import pytest

import sdtls
import sdtls._sdtls as ll
from conftest import DTLS13, Certs, make_link

#: Handshakes per two-thread race test (SDTLS_HAMMER_ROUNDS scales them up).
HAMMER_ROUNDS = int(os.environ.get("SDTLS_HAMMER_ROUNDS", "100"))


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

    # No ML-KEM: the server's flight in one datagram, the case the line
    # checked below is about (with the default X25519MLKEM768 the flight
    # spans datagrams and the line raised was CLIENT_TRAFFIC_SECRET_0).
    # P-256 too: in DTLS 1.2 the groups also bound the curve of the
    # server's ECDSA certificate.
    client = sdtls.Config(cadata=certs.cert, keylog=keylog, groups=["X25519", "P-256"])
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

    # No ML-KEM: the server's flight in one datagram, the case the line
    # checked below is about (with the default X25519MLKEM768 the flight
    # spans datagrams and the line raised was CLIENT_TRAFFIC_SECRET_0).
    # P-256 too: in DTLS 1.2 the groups also bound the curve of the
    # server's ECDSA certificate.
    client = sdtls.Config(cadata=certs.cert, keylog=keylog, groups=["X25519", "P-256"])
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

    # No ML-KEM: the server's flight in one datagram, the case the line
    # checked below is about (with the default X25519MLKEM768 the flight
    # spans datagrams and the line raised was CLIENT_TRAFFIC_SECRET_0).
    # P-256 too: in DTLS 1.2 the groups also bound the curve of the
    # server's ECDSA certificate.
    client = sdtls.Config(cadata=certs.cert, keylog=keylog, groups=["X25519", "P-256"])
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


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Python switches threads every few bytecodes, so that a thread is
    interrupted between any two steps of a call into the binding."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


AnyConnection = Union[sdtls.Connection, sdtls.ServerConnection]

#: Every query of a connection (a property read, or a call).
QUERIES: list[Callable[[AnyConnection], object]] = [
    lambda conn: conn.state, lambda conn: conn.version, lambda conn: conn.cipher,
    lambda conn: conn.max_data_size, lambda conn: conn.error, lambda conn: conn.peer_certificate,
    lambda conn: conn.peer_fingerprint, lambda conn: conn.srtp_profile, lambda conn: conn.srtp_keying(),
    lambda conn: conn.psk_identity, lambda conn: conn.alpn, lambda conn: conn.group,
    lambda conn: conn.session_resumed, lambda conn: conn.export_keying_material("EXPERIMENTAL-threads", 16),
]


def query_all(conn: AnyConnection) -> None:
    """Every query once; the exporter only once connected (else it raises,
    as it does when another thread closes the connection in between)."""
    for query in QUERIES[:-1]:
        query(conn)
    if conn.state == sdtls.State.CONNECTED:
        try:
            QUERIES[-1](conn)
        except sdtls.UsageError as e:
            if e.code != ll.SDTLS_E_STATE:
                raise


def busy(e: BaseException) -> bool:
    """Whether `e` is the refusal of a call that found its object in another thread's hands."""
    return isinstance(e, sdtls.UsageError) and e.name == "handle busy"


T = TypeVar("T")


def until_accepted(call: Callable[..., T], *args: object) -> T:
    """Makes `call` again while it finds its object in another thread's
    hands: a refused call changes nothing, so the retry does it once."""
    while True:
        try:
            return call(*args)
        except sdtls.UsageError as e:
            if not busy(e):
                raise


def run_against_queries(drive: Callable[[], None], queries: Callable[[], None],
                        refused: Callable[[BaseException], bool]) -> None:
    """Runs `drive` on this thread while another makes `queries` until it
    returns; what a query raises that is not `refused`, or what `drive`
    raises, fails the test."""
    done = threading.Event()
    errors: list[BaseException] = []

    def query_until_done() -> None:
        while not done.is_set():
            try:
                queries()
            except BaseException as e:
                if not refused(e):
                    errors.append(e)  # reported below
                    return

    t = threading.Thread(target=query_until_done)
    t.start()
    try:
        drive()
    finally:
        done.set()
        t.join(60)
    assert not t.is_alive()
    assert errors == []


def test_queries_race_a_connection_driven_on_another_thread(certs: Certs, fast_switching: None) -> None:
    """One thread runs handshakes and data on a connection while another
    queries it: a query answers or raises UsageError (the connection is in
    use), as does a call of the driving thread, which then goes on; no
    query reads the engine's state while a call changes it (the ASan build
    of the suite would report a read of freed memory)."""
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    current: list[sdtls.Connection] = []
    now = 1000.0

    def drive() -> None:
        for _ in range(HAMMER_ROUNDS):
            cli = sdtls.Connection(client, "client", server_name="localhost")
            srv = sdtls.Connection(server, "server")
            current[:] = [cli]
            until_accepted(cli.start, now)
            for _ in range(20):
                for d in until_accepted(cli.datagrams_to_send):
                    srv.receive_datagram(d, now)
                for d in srv.datagrams_to_send():
                    until_accepted(cli.receive_datagram, d, now)
                if srv.state == sdtls.State.CONNECTED:
                    break
            for i in range(20):
                until_accepted(cli.send, b"%d" % i, now)
            until_accepted(cli.close, now)
            for d in until_accepted(cli.datagrams_to_send):
                srv.receive_datagram(d, now)
            got = []
            while (e := srv.next_event()) is not None:
                got.append(e)
            assert [e.data for e in got if isinstance(e, sdtls.DatagramReceived)] == [b"%d" % i for i in range(20)]
            assert isinstance(got[-1], sdtls.ConnectionTerminated) and got[-1].error is None

    def queries() -> None:
        if current:
            query_all(current[0])

    run_against_queries(drive, queries, busy)


def test_queries_race_a_server_driven_on_another_thread(certs: Certs, fast_switching: None) -> None:
    """One thread drives a server whose peers come and go while another
    queries their views: a view answers, raises UsageError (the server is
    in use) or ConnectionClosed (its peer is gone), and never reaches a
    connection the server freed."""
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    views: list[sdtls.ServerConnection] = []
    now = 1000.0

    def server_events() -> list[sdtls.Event]:
        got = []
        while (e := until_accepted(server.next_event)) is not None:
            got.append(e)
        return got

    def drive() -> None:
        for n in range(HAMMER_ROUNDS):
            addr = ("127.0.0.1", 20000 + n)
            cli = sdtls.Connection(client, "client", server_name="localhost")
            cli.start(now)
            events: list[sdtls.Event] = []
            for _ in range(20):
                for d in cli.datagrams_to_send():
                    until_accepted(server.receive_datagram, d, addr, now)
                for d, a in until_accepted(server.datagrams_to_send):
                    assert a == addr
                    cli.receive_datagram(d, now)
                events += server_events()
                views[:] = [e.connection for e in events if isinstance(e, sdtls.PeerConnected)]
                if any(isinstance(e, sdtls.HandshakeCompleted) for e in events):
                    break
            for i in range(5):
                cli.send(b"%d" % i, now)
            cli.close(now)
            for d in cli.datagrams_to_send():
                until_accepted(server.receive_datagram, d, addr, now)  # the server frees the peer
            events += server_events()
            assert [e.data for e in events if isinstance(e, sdtls.DatagramReceived)] == [b"%d" % i for i in range(5)]
            assert isinstance(events[-1], sdtls.ConnectionTerminated)
            assert not until_accepted(lambda: views[0].alive)

    def queries() -> None:
        for v in list(views):
            query_all(v)

    run_against_queries(drive, queries, lambda e: busy(e) or isinstance(e, sdtls.ConnectionClosed))
    server.close()


def test_a_view_query_interrupted_by_the_server_reaping_its_peer(certs: Certs) -> None:
    """A thread switch in the middle of a view's query, where the server's
    thread frees the peer: the query answers from before or raises
    ConnectionClosed, and never reads the freed connection (in the ASan
    build of the suite a read is a heap-use-after-free). The switch is
    forced: the querying thread stops after its first return from the
    extension module until the other thread has closed the peer."""
    client = sdtls.Config(cadata=certs.cert)
    server_config = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = make_link(client, server_config, server=True)
    link.run(link.connected)
    server = link.b
    assert isinstance(server, sdtls.Server)
    view = server.connections[0]
    switched, reaped = threading.Event(), threading.Event()
    outcome: list[object] = []

    def stop_after_first_return(frame: object, event: str, arg: object) -> None:
        if event == "c_return" and getattr(arg, "__module__", None) == "sdtls._sdtls_ext" and not switched.is_set():
            switched.set()
            reaped.wait(30)

    def query() -> None:
        sys.setprofile(stop_after_first_return)
        try:
            outcome.append(view.state)
        except sdtls.ConnectionClosed as e:
            outcome.append(e)
        except BaseException as e:  # reported below
            outcome.append(("unexpected", e))
        finally:
            sys.setprofile(None)

    t = threading.Thread(target=query)
    t.start()
    assert switched.wait(30)
    view.close(link.now)  # the server frees the peer's connection when this returns
    assert not view.alive
    reaped.set()
    t.join(30)
    assert not t.is_alive()
    assert len(outcome) == 1
    assert outcome[0] == sdtls.State.CONNECTED or isinstance(outcome[0], sdtls.ConnectionClosed), outcome
    with pytest.raises(sdtls.ConnectionClosed):
        view.state


def test_queries_refused_while_another_thread_drives_the_connection(certs: Certs) -> None:
    """While one thread's call on a connection runs (here held inside the
    key log callback it makes), a query from another thread raises
    UsageError rather than read the engine's state under that call; the
    driving thread itself may still query from its callback."""
    in_callback, let_go = threading.Event(), threading.Event()
    holder: list[sdtls.Connection] = []
    own_queries: list[object] = []

    def keylog(line: str) -> None:
        if not in_callback.is_set():
            own_queries.append(holder[0].state)
            in_callback.set()
            let_go.wait(30)

    # No ML-KEM: the server's flight in one datagram, the case the line
    # checked below is about (with the default X25519MLKEM768 the flight
    # spans datagrams and the line raised was CLIENT_TRAFFIC_SECRET_0).
    # P-256 too: in DTLS 1.2 the groups also bound the curve of the
    # server's ECDSA certificate.
    client = sdtls.Config(cadata=certs.cert, keylog=keylog, groups=["X25519", "P-256"])
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = make_link(client, server)
    holder.append(link.a)
    driver = threading.Thread(target=link.run, args=(link.connected,))
    driver.start()
    try:
        assert in_callback.wait(30)
        refused = []
        for query in QUERIES:
            with pytest.raises(sdtls.UsageError) as e:
                query(link.a)
            refused.append(e.value.name)
        assert set(refused) == {"handle busy"}
    finally:
        let_go.set()
        driver.join(30)
    assert not driver.is_alive()
    assert own_queries == [sdtls.State.HANDSHAKING]
    query_all(link.a)  # the call is over: every query answers

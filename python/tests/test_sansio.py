# SPDX-License-Identifier: Apache-2.0
"""The sans-I/O Connection and Server, on a virtual clock."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings, strategies as st

import sdtls
import sdtls._sdtls as ll
from conftest import CLIENT_HELLO_DATAGRAMS, DTLS13, DEFAULT_CIPHERS, DEFAULT_VERSION, Certs, Link, lossy, make_link


def data_events(events: list[sdtls.Event]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, sdtls.DatagramReceived)]


def terminations(events: list[sdtls.Event]) -> list[sdtls.ConnectionTerminated]:
    return [e for e in events if isinstance(e, sdtls.ConnectionTerminated)]


def test_handshake_and_data_both_ways(client_config: sdtls.Config, server_config: sdtls.Config,
                                      certs: Certs) -> None:
    link = make_link(client_config, server_config)
    cli, srv = link.a, link.b
    assert cli.state == sdtls.State.HANDSHAKING
    link.run(link.connected)
    done = [e for e in link.a_events if isinstance(e, sdtls.HandshakeCompleted)][0]
    assert done.version == cli.version == DEFAULT_VERSION  # the newest the engine speaks
    assert done.cipher == cli.cipher and re.fullmatch(DEFAULT_CIPHERS, done.cipher), done.cipher
    assert cli.peer_fingerprint == sdtls.fingerprint(certs.cert)
    assert cli.peer_certificate is not None and cli.peer_certificate[0] == 0x30  # DER
    assert srv.peer_certificate is None  # no client certificate
    assert cli.export_keying_material("EXPERIMENTAL-t", 32) == srv.export_keying_material(b"EXPERIMENTAL-t", 32)
    no_context = cli.export_keying_material("EXPERIMENTAL-t", 8)
    if DTLS13:  # TLS 1.3's exporter takes no context as an empty one (RFC 8446 7.5)
        assert cli.export_keying_material("EXPERIMENTAL-t", 8, b"") == no_context
    else:       # RFC 5705: no context differs from an empty one
        assert cli.export_keying_material("EXPERIMENTAL-t", 8, b"") != no_context
    assert cli.export_keying_material("EXPERIMENTAL-t", 8, b"c") not in (no_context, srv.export_keying_material("x", 8))
    cli.send(b"ping", link.now)
    srv.send(bytearray(b"pong"), link.now)
    srv.send(memoryview(b"xxpong2")[2:], link.now)
    link.step()
    assert data_events(link.b_events) == [b"ping"]
    assert data_events(link.a_events) == [b"pong", b"pong2"]
    assert cli.max_data_size > 1000
    cli.close(link.now)
    assert cli.state == sdtls.State.CLOSED
    link.step()
    assert [t.error for t in terminations(link.b_events)] == [None]
    assert srv.state == sdtls.State.CLOSED
    cli.close()  # twice is harmless


def test_exporter_errors_name_their_cause(client_config: sdtls.Config, server_config: sdtls.Config) -> None:
    """Each refusal of export_keying_material() says what was wrong: the
    state, the length, or the limit of the negotiated protocol's exporter;
    a refused export changes nothing."""
    link = make_link(client_config, server_config)
    export = link.a.export_keying_material
    with pytest.raises(sdtls.UsageError, match="exported once connected") as e:
        export("EXPERIMENTAL-t", 16)
    assert e.value.code == ll.SDTLS_E_STATE
    link.run(link.connected)
    for bad in (0, -1, (1 << 20) + 1, "16"):
        with pytest.raises(ValueError, match=r"length must be an int in 1\.\.1048576"):
            export("EXPERIMENTAL-t", bad)  # type: ignore[arg-type]
    if DTLS13:  # HKDF-Expand-Label: "dtls13" + label in 255 bytes, 255 hash lengths out
        assert len(export("x" * 249, 16)) == 16
        with pytest.raises(sdtls.UsageError, match="DTLS 1.3 exporter label is at most 249 bytes, not 250") as e:
            export("x" * 250, 16)
        assert e.value.code == ll.SDTLS_E_INVALID_ARGUMENT
        cipher = link.a.cipher
        assert cipher is not None
        most = 255 * (48 if cipher.endswith("SHA384") else 32)
        assert len(export("EXPERIMENTAL-t", most)) == most
        with pytest.raises(sdtls.UsageError, match=f"at most {most} bytes with {cipher}, not {most + 1}$"):
            export("EXPERIMENTAL-t", most + 1)
    else:  # RFC 5705: the context's length is a uint16
        assert len(export("EXPERIMENTAL-t", 16, bytes(65535))) == 16
        with pytest.raises(sdtls.UsageError, match="DTLS 1.2 exporter context is at most 65535 bytes, not 65536") as e:
            export("EXPERIMENTAL-t", 16, bytes(65536))
        assert e.value.code == ll.SDTLS_E_INVALID_ARGUMENT
        assert len(export("x" * 1000, 1 << 20)) == 1 << 20
    assert link.a.state == sdtls.State.CONNECTED
    assert export("EXPERIMENTAL-t", 32) == link.b.export_keying_material("EXPERIMENTAL-t", 32)  # type: ignore[attr-defined]


def test_errors_of_send(client_config: sdtls.Config, server_config: sdtls.Config) -> None:
    link = make_link(client_config, server_config)
    with pytest.raises(sdtls.UsageError) as e:
        link.a.send(b"too early")
    assert e.value.code == ll.SDTLS_E_STATE
    link.run(link.connected)
    with pytest.raises(sdtls.UsageError) as e:
        link.a.send(b"x" * (link.a.max_data_size + 1))
    assert e.value.code == ll.SDTLS_E_TOO_BIG
    with pytest.raises(TypeError):
        link.a.send("text")  # type: ignore[arg-type]
    link.a.close()
    with pytest.raises(sdtls.ConnectionClosed):
        link.a.send(b"after close")
    with pytest.raises(ValueError):
        link.a.export_keying_material("EXPERIMENTAL-t", 2_000_000)


def test_start_errors(client_config: sdtls.Config) -> None:
    conn = sdtls.Connection(client_config, "client")  # verifying, no server name
    with pytest.raises(sdtls.UsageError):
        conn.export_keying_material("EXPERIMENTAL-t", 16)  # not connected
    with pytest.raises(sdtls.UsageError) as e:
        conn.start()
    assert e.value.code == ll.SDTLS_E_STATE
    with pytest.raises(sdtls.UsageError):
        sdtls.Connection(client_config, "client", server_name="")


def test_verify_error_and_alert(server_config: sdtls.Config, other_certs: tuple[bytes, bytes]) -> None:
    link = make_link(sdtls.Config(cadata=other_certs[0]), server_config)
    link.run(lambda: bool(terminations(link.a_events) and terminations(link.b_events)))
    err = terminations(link.a_events)[0].error
    assert isinstance(err, sdtls.VerifyError) and err.code == ll.SDTLS_E_VERIFY
    assert "certificate verify failed" in err.detail
    alert = terminations(link.b_events)[0].error
    assert isinstance(alert, sdtls.AlertError) and "unknown CA" in str(alert)
    assert link.a.state == sdtls.State.FAILED
    assert isinstance(link.a.error, sdtls.VerifyError)
    with pytest.raises(sdtls.VerifyError):
        link.a.send(b"x")


def test_name_mismatch(client_config: sdtls.Config, server_config: sdtls.Config) -> None:
    link = make_link(client_config, server_config, name="not-localhost")
    link.run(lambda: bool(terminations(link.a_events)))
    err = terminations(link.a_events)[0].error
    assert isinstance(err, sdtls.VerifyError) and "Hostname mismatch" in err.detail


def test_protocol_error(client_config: sdtls.Config) -> None:
    conn = sdtls.Connection(client_config, "client", server_name="localhost")
    conn.start(1.0)
    conn.datagrams_to_send()
    body = bytes([2, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 8]) + b"\xff" * 8  # a ServerHello that is not one
    conn.receive_datagram(bytes([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 1, 0, len(body)]) + body, 1.0)
    ev = conn.next_event()
    assert isinstance(ev, sdtls.ConnectionTerminated) and isinstance(ev.error, sdtls.ProtocolError)
    assert conn.datagrams_to_send()  # the alert that tells the peer


def test_handshake_timeout_on_virtual_clock(certs: Certs) -> None:
    conn = sdtls.Connection(sdtls.Config(cadata=certs.cert, handshake_timeout=2, initial_timeout=0.5),
                            "client", server_name="localhost")
    conn.start(10.0)
    first = conn.datagrams_to_send()
    assert len(first) == CLIENT_HELLO_DATAGRAMS
    assert conn.get_timer() == pytest.approx(10.5)
    conn.handle_timer(10.4)  # early: nothing
    assert conn.datagrams_to_send() == []
    conn.handle_timer(10.5)
    again = conn.datagrams_to_send()  # retransmitted: the same ClientHello in a new record
    assert [d[13:] for d in again] == [d[13:] for d in first] and again != first
    for _ in range(10):
        t = conn.get_timer()
        if t is None:
            break
        conn.handle_timer(t)
    ev = conn.next_event()
    assert isinstance(ev, sdtls.ConnectionTerminated) and isinstance(ev.error, sdtls.PeerTimeout)
    assert ev.error.code == ll.SDTLS_E_TIMEOUT
    assert conn.get_timer() is None


def test_client_certificate_required(certs: Certs, other_certs: tuple[bytes, bytes]) -> None:
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, require_client_certificate=True,
                          cadata=other_certs[0])
    anonymous = make_link(sdtls.Config(cadata=certs.cert), server)
    anonymous.run(lambda: bool(terminations(anonymous.b_events)))
    assert isinstance(terminations(anonymous.b_events)[0].error, (sdtls.VerifyError, sdtls.AlertError,
                                                                   sdtls.ProtocolError))
    client = sdtls.Config(cadata=certs.cert, certificate=other_certs[0], private_key=other_certs[1])
    link = make_link(client, server)
    link.run(link.connected)
    assert link.b.peer_fingerprint == sdtls.fingerprint(other_certs[0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), loss=st.floats(0, 0.5), dup=st.floats(0, 0.5))
def test_loss_reorder_duplication(certs: Certs, seed: int, loss: float, dup: float) -> None:
    """Any pattern of loss, reordering and duplication: the handshake
    completes (retransmissions on the virtual clock) and whatever data
    arrives arrives once, intact."""
    rng = random.Random(seed)
    client = sdtls.Config(cadata=certs.cert, initial_timeout=0.1)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, initial_timeout=0.1)
    link = make_link(client, server, a_to_b=lossy(rng, loss, dup), b_to_a=lossy(rng, loss, dup))
    link.run(lambda: link.connected() or bool(terminations(link.a_events)), max_rounds=2000)
    if terminations(link.a_events):  # only a handshake deadline may end it
        assert isinstance(terminations(link.a_events)[0].error, sdtls.PeerTimeout)
        return
    sent = [f"m{i}".encode() for i in range(20)]
    for m in sent:
        link.a.send(m, link.now)
    for _ in range(5):
        link.step()
    got = data_events(link.b_events)
    assert len(got) == len(set(got))  # anti-replay: no duplicate
    assert set(got) <= set(sent)


def test_server_many_peers(client_config: sdtls.Config, server_config: sdtls.Config) -> None:
    server = sdtls.Server(server_config)
    links = []
    for i in range(5):
        cli = sdtls.Connection(client_config, "client", server_name="localhost")
        link = Link(cli, server, addr=("127.0.0.1", 41000 + i) if i % 2 else ("::1", 41000 + i, 0, 0))
        cli.start(link.now)
        links.append(link)
    events: list[sdtls.Event] = []
    for _ in range(8):
        for link in links:
            for d in link.a.datagrams_to_send():
                server.receive_datagram(d, link.addr, link.now)
        for d, addr in server.datagrams_to_send():
            [lk for lk in links if lk.addr == addr][0].a.receive_datagram(d)
        while (e := server.next_event()) is not None:
            events.append(e)
    peers = [e.connection for e in events if isinstance(e, sdtls.PeerConnected)]
    assert sorted(p.address for p in peers) == sorted(lk.addr for lk in links)
    assert len([e for e in events if isinstance(e, sdtls.HandshakeCompleted)]) == 5
    assert server.counters()["peers"] == 5 and server.counters()["cookies_sent"] == 5
    assert {p.address for p in server.connections} == {lk.addr for lk in links}
    # each peer talks; the server answers through its view
    for i, link in enumerate(links):
        link.a.send(b"hi %d" % i)
        for d in link.a.datagrams_to_send():
            server.receive_datagram(d, link.addr)
    got = [server.next_event() for _ in links]
    for e in got:
        assert isinstance(e, sdtls.DatagramReceived) and e.connection is not None
        e.connection.send(b"re " + e.data)
    for d, addr in server.datagrams_to_send():
        [lk for lk in links if lk.addr == addr][0].a.receive_datagram(d)
    for i, link in enumerate(links):
        ev = link.a.next_event()
        while isinstance(ev, sdtls.HandshakeCompleted):
            ev = link.a.next_event()
        assert isinstance(ev, sdtls.DatagramReceived) and ev.data == b"re hi %d" % i
    # the server closes one peer: close_notify reaches it, the view goes dead
    view = peers[0]
    assert view.alive and view.version == DEFAULT_VERSION
    view.close()
    ev = server.next_event()
    assert isinstance(ev, sdtls.ConnectionTerminated) and ev.connection is view
    assert isinstance(ev.error, sdtls.ConnectionClosed)
    assert not view.alive
    for attempt in (lambda: view.send(b"x"), lambda: view.state, lambda: view.version):
        with pytest.raises(sdtls.ConnectionClosed):
            attempt()
    view.close()  # harmless
    target = [lk for lk in links if lk.addr == view.address][0]
    for d, addr in server.datagrams_to_send():
        if addr == target.addr:
            target.a.receive_datagram(d)
    ev = target.a.next_event()
    assert isinstance(ev, sdtls.ConnectionTerminated) and ev.error is None
    # closing the server: every other peer gets close_notify; views go dead
    server.close()
    assert server.closed
    assert len(server.datagrams_to_send()) == 4
    assert all(not p.alive for p in peers)
    with pytest.raises(sdtls.ConnectionClosed):
        server.receive_datagram(b"x", ("127.0.0.1", 1))
    server.close()


def test_a_dead_view_never_reaches_the_peer_that_takes_its_place(client_config: sdtls.Config,
                                                                 server_config: sdtls.Config) -> None:
    """A server names its connections by slot and generation (bindings/sdtls.i):
    the next peer reuses a closed peer's slot, and the closed peer's view
    still raises ConnectionClosed instead of sending to the new peer."""
    server = sdtls.Server(server_config)
    views = []
    for port in (42001, 42002):
        link = Link(sdtls.Connection(client_config, "client", server_name="localhost"), server,
                    addr=("127.0.0.1", port))
        link.a.start(link.now)
        link.run(link.connected)
        views.append([e.connection for e in link.b_events if isinstance(e, sdtls.PeerConnected)][0])
        if port == 42001:
            views[0].close()
            link.step()
            assert not views[0].alive
    old, new = views
    assert new.alive and new.address == ("127.0.0.1", 42002) and old.address == ("127.0.0.1", 42001)
    server.datagrams_to_send()
    with pytest.raises(sdtls.ConnectionClosed):
        old.send(b"for the old peer")
    assert server.datagrams_to_send() == []  # nothing went to the new one
    assert server.connections == [new]
    new.send(b"for the new peer")
    assert [addr for _, addr in server.datagrams_to_send()] == [("127.0.0.1", 42002)]


def test_server_timers_evict_handshakes(client_config: sdtls.Config, certs: Certs) -> None:
    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key, handshake_timeout=1))
    cli = sdtls.Connection(client_config, "client", server_name="localhost")
    cli.start(5.0)
    addr = ("127.0.0.1", 5000)
    for _ in range(2):  # ClientHello, HelloVerifyRequest, ClientHello with cookie: a connection
        for d in cli.datagrams_to_send():
            server.receive_datagram(d, addr, 5.0)
        for d, _a in server.datagrams_to_send():
            cli.receive_datagram(d, 5.0)
    assert isinstance(server.next_event(), sdtls.PeerConnected)
    cli.datagrams_to_send()  # the client's second flight is lost, and the client goes silent
    t = server.get_timer()
    assert t is not None
    for _ in range(20):
        t = server.get_timer()
        if t is None:
            break
        server.handle_timer(t)
    events = []
    while (e := server.next_event()) is not None:
        events.append(e)
    ends = terminations(events)
    assert len(ends) == 1 and isinstance(ends[0].error, sdtls.PeerTimeout)
    assert server.counters()["connections_evicted"] == 1


def test_bad_addresses(server_config: sdtls.Config) -> None:
    server = sdtls.Server(server_config)
    with pytest.raises(ValueError):
        server.receive_datagram(b"x", ("example.com", 1))
    with pytest.raises(TypeError):
        server.receive_datagram(b"x", "127.0.0.1:1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        server.receive_datagram(b"x", ("127.0.0.1", 70000))
    server.receive_datagram(b"junk", ("127.0.0.1", 1))  # dropped and counted
    assert server.counters()["dropped_malformed"] == 1


def test_cookie_secret(server_config: sdtls.Config) -> None:
    server = sdtls.Server(server_config)
    server.set_cookie_secret(b"k" * 32)
    with pytest.raises(sdtls.UsageError):
        server.set_cookie_secret(b"short")


def test_context_manager(client_config: sdtls.Config, server_config: sdtls.Config) -> None:
    link = make_link(client_config, server_config)
    link.run(link.connected)
    with link.a as conn:
        conn.send(b"x")
    assert link.a.state == sdtls.State.CLOSED
    with sdtls.Server(server_config) as server:
        pass
    assert server.closed


@given(st.integers(0, 2**62))
def test_timer_seconds_convert_back_to_an_expired_deadline(after_start_ns: int) -> None:
    """get_timer() seconds passed back as `now` are never before the deadline
    (else a loop that waits for the timer and handles it would spin)."""
    from sdtls._connection import _EPOCH_NS, _sdtls_time, _timer
    deadline_ns = _EPOCH_NS + after_start_ns
    t = _timer(deadline_ns)
    assert t is not None and _sdtls_time(t) >= deadline_ns
    assert _sdtls_time(t) - deadline_ns < max(1000, after_start_ns >> 40)


def test_the_time_passed_to_c_follows_the_rule_of_sdtls_h() -> None:
    """sdtls.h's rule: nanoseconds since the UNIX epoch, advanced by the
    monotonic clock. So a session ticket carries a time that another
    process (or host) on the same wall clock can compare with its own."""
    import time
    from sdtls._connection import _sdtls_time
    wall_before = time.time_ns()
    passed = _sdtls_time(None)
    wall_after = time.time_ns()
    # The wall clock is read once, at import; NTP may slew it by a few ppm
    # since, never by a second in a test run.
    assert wall_before - 10**9 < passed < wall_after + 10**9
    # `now` stays seconds of time.monotonic(), and maps onto that clock.
    mono = time.monotonic()
    assert abs(_sdtls_time(mono) - _sdtls_time(None)) < 10**9
    assert _sdtls_time(mono + 1.5) - _sdtls_time(mono) == 1_500_000_000


def test_timers_handled_at_their_own_time_make_progress(certs: Certs) -> None:
    """The case that found the rounding bug: a deadline like 1025.6 s."""
    conn = sdtls.Connection(sdtls.Config(cadata=certs.cert, initial_timeout=0.1), "client", server_name="localhost")
    conn.start(1025.5)
    conn.datagrams_to_send()
    t = conn.get_timer()
    assert t == pytest.approx(1025.6)
    conn.handle_timer(t)
    assert len(conn.datagrams_to_send()) == CLIENT_HELLO_DATAGRAMS  # retransmitted
    assert conn.get_timer() > t  # type: ignore[operator]

# SPDX-License-Identifier: Apache-2.0
"""The WebRTC path: RFC 7983 classification, a=setup roles, the handshake
event that keys SRTP, deadlines relative to a caller's clock, and
sdtls.aio over a socket the application owns and shares with other
protocols (docs/webrtc.md)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

import pytest

import sdtls
import sdtls.aio
from conftest import DEFAULT_VERSION, make_link

PROFILES = [sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM, sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_80]


def rfc7983(b: int) -> sdtls.PacketKind:
    # RFC 7983 7 with RFC 9443 3, as the RFCs' figure lists the ranges.
    K = sdtls.PacketKind
    for last, kind in ((3, K.STUN), (15, K.UNKNOWN), (19, K.ZRTP), (63, K.DTLS), (79, K.TURN_CHANNEL),
                       (127, K.QUIC), (191, K.RTP), (255, K.QUIC)):
        if b <= last:
            return kind
    raise AssertionError(b)


def test_classify_every_first_byte() -> None:
    for b in range(256):
        assert sdtls.classify(bytes([b, 0, 0, 0])) == rfc7983(b), b
        assert sdtls.classify(bytearray([b])) == rfc7983(b), b
        assert sdtls.classify(memoryview(bytes([0xAA, b]))[1:]) == rfc7983(b), b
    assert sdtls.classify(b"") == sdtls.PacketKind.UNKNOWN
    with pytest.raises(TypeError):
        sdtls.classify("\x16")  # type: ignore[arg-type]


def test_classify_what_sdtls_sends(certs: Any) -> None:
    conn = sdtls.Connection(sdtls.Config(verify=False), "client")
    conn.start()
    sent = conn.datagrams_to_send()
    assert sent and all(sdtls.classify(d) == sdtls.PacketKind.DTLS for d in sent)


@pytest.mark.parametrize("remote, local, role, setup", [
    ("actpass", None, sdtls.Role.CLIENT, "active"),      # answerer, RFC 5763's recommendation
    ("ACTPASS", "passive", sdtls.Role.SERVER, "passive"),  # answerer that serves many peers
    ("active", None, sdtls.Role.SERVER, "passive"),
    ("passive", None, sdtls.Role.CLIENT, "active"),
    ("active", "actpass", sdtls.Role.SERVER, "actpass"),  # offerer, the answer decides
    ("passive", "actpass", sdtls.Role.CLIENT, "actpass"),
])
def test_dtls_role(remote: str, local: Optional[str], role: sdtls.Role, setup: str) -> None:
    assert sdtls.dtls_role(remote, local) == sdtls.SetupRole(role, setup)


@pytest.mark.parametrize("remote, local", [
    ("holdconn", None), ("actpass", "actpass"), ("active", "active"), ("passive", "passive"), ("", None),
    ("active", "server"),
])
def test_dtls_role_refuses(remote: str, local: Optional[str]) -> None:
    with pytest.raises(sdtls.UsageError):
        sdtls.dtls_role(remote, local)


def pair() -> tuple[sdtls.Connection, sdtls.Connection, bytes, bytes]:
    (cc, ck), (sc, sk) = sdtls.generate_certificate("offerer"), sdtls.generate_certificate("answerer")
    client = sdtls.Connection(sdtls.Config(certificate=cc, private_key=ck, verify=False, srtp_profiles=PROFILES,
                                           alpn=["webrtc"]), "client",
                              peer_fingerprints=str(sdtls.Fingerprint.of_certificate(sc, "sha-384")))
    server = sdtls.Connection(sdtls.Config(certificate=sc, private_key=sk, verify=False, srtp_profiles=PROFILES,
                                           alpn=["webrtc"]), "server",
                              peer_fingerprints=str(sdtls.Fingerprint.of_certificate(cc)))
    return client, server, cc, sc


def test_handshake_event_keys_srtp() -> None:
    client, server, cc, sc = pair()
    client.start()
    events: dict[str, list[sdtls.Event]] = {"client": [], "server": []}
    for _ in range(10):
        for d in client.datagrams_to_send():
            server.receive_datagram(d)
        for d in server.datagrams_to_send():
            client.receive_datagram(d)
        for name, conn in (("client", client), ("server", server)):
            while (ev := conn.next_event()) is not None:
                events[name].append(ev)
    for name, peer_cert in (("client", sc), ("server", cc)):
        done = [e for e in events[name] if isinstance(e, sdtls.HandshakeCompleted)]
        assert len(done) == 1, events[name]
        ev = done[0]
        assert ev.version == DEFAULT_VERSION and ev.cipher
        assert ev.srtp_profile == sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM
        assert ev.alpn == "webrtc"
        assert ev.group  # X25519 or a hybrid, whatever the engine chose
        assert ev.peer_fingerprint == sdtls.Fingerprint.of_certificate(peer_cert)
        assert str(ev.peer_fingerprint).startswith("sha-256 ")


def test_handshake_event_without_srtp(server_config: sdtls.Config, client_config: sdtls.Config) -> None:
    link = make_link(client_config, server_config)
    link.run(link.connected)
    ev = link.a_events[0]
    assert isinstance(ev, sdtls.HandshakeCompleted)
    assert ev.srtp_profile is None and ev.alpn is None
    assert ev.peer_fingerprint is not None  # the server's certificate
    ev = link.b_events[0]
    assert isinstance(ev, sdtls.HandshakeCompleted)
    assert ev.peer_fingerprint is None  # the client sent no certificate


def test_server_event_carries_the_peer() -> None:
    (cc, ck), (sc, sk) = sdtls.generate_certificate("a"), sdtls.generate_certificate("b")
    server = sdtls.Server(sdtls.Config(certificate=sc, private_key=sk, verify=False, srtp_profiles=PROFILES))
    client = sdtls.Connection(sdtls.Config(certificate=cc, private_key=ck, verify=False, srtp_profiles=PROFILES),
                              "client", peer_fingerprints=str(sdtls.Fingerprint.of_certificate(sc)))
    addr = ("127.0.0.1", 5000)
    server.pin_peer(addr, sdtls.Fingerprint.of_certificate(cc))
    client.start()
    for _ in range(10):
        for d in client.datagrams_to_send():
            server.receive_datagram(d, addr)
        for d, _a in server.datagrams_to_send():
            client.receive_datagram(d)
    done = [e for e in iter(server.next_event, None) if isinstance(e, sdtls.HandshakeCompleted)]
    assert len(done) == 1
    assert done[0].connection is not None and done[0].connection.address == addr
    assert done[0].srtp_profile == sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM
    assert done[0].peer_fingerprint == sdtls.Fingerprint.of_certificate(cc)


def test_timer_on_the_callers_clock() -> None:
    # A clock of the caller's far from time.monotonic(): the deadline is on
    # that clock, and the relative timeout is the retransmission delay.
    now = 1_000_000.0
    conn = sdtls.Connection(sdtls.Config(verify=False), "client")
    conn.start(now)
    first = conn.datagrams_to_send()
    at = conn.get_timer()
    assert at is not None and now < at <= now + 3
    timeout = conn.get_timeout(now)
    assert timeout is not None and 0 < timeout <= 3 and abs(now + timeout - at) < 1e-6
    assert conn.get_timeout(at + 5) == 0.0
    conn.handle_timer(at)
    again = conn.datagrams_to_send()  # retransmitted at the caller's deadline: a new record, the same ClientHello
    assert [d[13:] for d in again] == [d[13:] for d in first]
    cert, key = sdtls.generate_certificate("s")
    server = sdtls.Server(sdtls.Config(verify=False, certificate=cert, private_key=key))
    assert server.get_timeout(now) is None  # no peer: no timer


class OffsetLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock is not time.monotonic()'s."""

    def time(self) -> float:
        return super().time() + 50_000.0


class SharedSocket(asyncio.DatagramProtocol):
    """An application's UDP socket carrying DTLS and other protocols: DTLS
    goes to `dtls(data, addr)`, anything else is counted by kind."""

    def __init__(self, dtls: Callable[[bytes, Any], None]) -> None:
        self.dtls = dtls
        self.others: list[sdtls.PacketKind] = []
        self.transport: Optional[asyncio.DatagramTransport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        kind = sdtls.classify(data)
        if kind == sdtls.PacketKind.DTLS:
            self.dtls(data, addr)
        else:
            self.others.append(kind)


def test_aio_over_an_application_socket() -> None:
    """A TransportConnection client and a TransportServer on sockets the
    test owns, STUN and RTP interleaved on them, the client's first flight
    lost (so only the timer, on the loop's offset clock, recovers it), SRTP
    keys from the handshake event and data both ways."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        (cc, ck), (scert, skey) = sdtls.generate_certificate("offerer"), sdtls.generate_certificate("answerer")
        server = sdtls.Server(sdtls.Config(certificate=scert, private_key=skey, verify=False,
                                           srtp_profiles=PROFILES, alpn=["webrtc"]))
        client_conn = sdtls.Connection(sdtls.Config(certificate=cc, private_key=ck, verify=False,
                                                    srtp_profiles=PROFILES, alpn=["webrtc"]), "client",
                                       peer_fingerprints=str(sdtls.Fingerprint.of_certificate(scert)))
        server_events: list[sdtls.Event] = []
        s_dtls: list[sdtls.aio.TransportServer] = []
        c_dtls: list[sdtls.aio.TransportConnection] = []
        s_transport, s_proto = await loop.create_datagram_endpoint(
            lambda: SharedSocket(lambda d, a: s_dtls[0].datagram_received(d, a)), local_addr=("127.0.0.1", 0))
        c_transport, c_proto = await loop.create_datagram_endpoint(
            lambda: SharedSocket(lambda d, a: c_dtls[0].datagram_received(d)), local_addr=("127.0.0.1", 0))
        server_addr = s_transport.get_extra_info("sockname")
        server.pin_peer(c_transport.get_extra_info("sockname"), sdtls.Fingerprint.of_certificate(cc))
        try:
            s_dtls.append(sdtls.aio.TransportServer(server, s_transport.sendto, on_event=server_events.append))
            dropped: list[bytes] = []

            def client_send(d: bytes) -> None:
                if not dropped:  # the first ClientHello is lost
                    dropped.append(d)
                    return
                c_transport.sendto(d, server_addr)

            c_dtls.append(sdtls.aio.TransportConnection(client_conn, client_send))
            c_transport.sendto(b"\x00\x01\x00\x00" + bytes(16), server_addr)  # a STUN binding request's head
            c_dtls[0].start()
            done = await asyncio.wait_for(c_dtls[0].handshake(), 10)
            assert dropped
            assert done.srtp_profile == sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM and done.alpn == "webrtc"
            assert done.peer_fingerprint == sdtls.Fingerprint.of_certificate(scert)
            c_transport.sendto(b"\x80\x60" + bytes(10), server_addr)  # an RTP header
            c_dtls[0].send(b"ping")
            for _ in range(100):
                if any(isinstance(e, sdtls.DatagramReceived) for e in server_events):
                    break
                await asyncio.sleep(0.01)
            got = [e for e in server_events if isinstance(e, sdtls.DatagramReceived)]
            assert [e.data for e in got] == [b"ping"]
            peer = got[0].connection
            assert peer is not None
            peer.send(b"pong")
            s_dtls[0]._process()  # what the application sent through a view goes out
            assert await asyncio.wait_for(c_dtls[0].recv(), 5) == b"pong"
            hs = [e for e in server_events if isinstance(e, sdtls.HandshakeCompleted)]
            assert len(hs) == 1 and hs[0].peer_fingerprint == sdtls.Fingerprint.of_certificate(cc)
            k_client = c_dtls[0].connection.srtp_keying()
            k_server = peer.srtp_keying()
            assert k_client is not None and k_server is not None
            assert k_client.local_write == k_server.remote_write
            assert s_proto.others == [sdtls.PacketKind.STUN, sdtls.PacketKind.RTP]
            c_dtls[0].close()
            with pytest.raises(sdtls.ConnectionClosed):
                await asyncio.wait_for(c_dtls[0].recv(), 5)
        finally:
            s_dtls[0].close()
            c_transport.close()
            s_transport.close()

    loop = OffsetLoop()
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 30))
    finally:
        loop.close()


def test_aio_transport_wrong_pin_fails_fast() -> None:
    """A peer whose certificate is not the pinned one: handshake() raises
    VerifyError, within a second, with no retransmission wait."""

    async def main() -> None:
        (cc, ck), (sc, sk) = sdtls.generate_certificate("c"), sdtls.generate_certificate("s")
        wrong = sdtls.Fingerprint.of_certificate(sdtls.generate_certificate("x")[0])
        client = sdtls.Connection(sdtls.Config(certificate=cc, private_key=ck, verify=False), "client",
                                  peer_fingerprints=str(wrong))
        server = sdtls.Connection(sdtls.Config(certificate=sc, private_key=sk, verify=False), "server")
        sides: dict[str, sdtls.aio.TransportConnection] = {}
        loop = asyncio.get_running_loop()
        sides["c"] = sdtls.aio.TransportConnection(client, lambda d: loop.call_soon(sides["s"].datagram_received, d))
        sides["s"] = sdtls.aio.TransportConnection(server, lambda d: loop.call_soon(sides["c"].datagram_received, d))
        sides["c"].start()
        start = loop.time()
        with pytest.raises(sdtls.VerifyError):
            await asyncio.wait_for(sides["c"].handshake(), 5)
        assert loop.time() - start < 1
        with pytest.raises(sdtls.Error):
            await asyncio.wait_for(sides["s"].handshake(), 5)

    asyncio.run(main())

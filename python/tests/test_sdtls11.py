# SPDX-License-Identifier: Apache-2.0
"""What came with the C ABI's SDTLS_1.1: DTLS-SRTP keying, fingerprint
pinning, pre-shared keys, session resumption with tickets, ALPN and key
exchange groups, on the sans-I/O objects, the blocking and asyncio layers."""

from __future__ import annotations

import asyncio
import os
from typing import Optional

import pytest

import sdtls
import sdtls._sdtls as ll
import sdtls.aio
from conftest import DTLS13, Certs, Link, serve_in_thread

KEY = bytes(range(16))


def pair(client_config: sdtls.Config, server_config: sdtls.Config, *, server: bool = False,
         name: Optional[str] = "localhost", **conn_kw: object) -> Link:
    cli = sdtls.Connection(client_config, "client", server_name=name, **conn_kw)  # type: ignore[arg-type]
    srv: object = sdtls.Server(server_config) if server else sdtls.Connection(server_config, "server")
    link = Link(cli, srv)
    cli.start(link.now)
    return link


def connect(client_config: sdtls.Config, server_config: sdtls.Config, **kw: object) -> Link:
    link = pair(client_config, server_config, **kw)  # type: ignore[arg-type]
    link.run(link.connected)
    return link


def ended(events: list[sdtls.Event]) -> Optional[sdtls.ConnectionTerminated]:
    return next((e for e in events if isinstance(e, sdtls.ConnectionTerminated)), None)


def fail(client_config: sdtls.Config, server_config: sdtls.Config, **kw: object) -> Link:
    """A handshake that must fail: runs until the client's connection ends."""
    link = pair(client_config, server_config, **kw)  # type: ignore[arg-type]
    link.run(lambda: ended(link.a_events) is not None)
    assert not link.connected()
    return link


def server_view(link: Link) -> sdtls.ServerConnection:
    views = [e.connection for e in link.b_events if isinstance(e, sdtls.HandshakeCompleted)]
    assert views and views[0] is not None
    return views[0]


# ---- DTLS-SRTP ------------------------------------------------------------------------------------

PROFILES = [(sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_80, 16, 14), (sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_32, 16, 14),
            (sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM, 16, 12), (sdtls.SrtpProfile.SRTP_AEAD_AES_256_GCM, 32, 12)]


def rfc5764_split(ekm: bytes, key_len: int, salt_len: int) -> tuple[bytes, bytes]:
    """client_write, server_write (master key then master salt) from the
    exporter's client key | server key | client salt | server salt."""
    k, s = key_len, salt_len
    return ekm[0:k] + ekm[2 * k:2 * k + s], ekm[k:2 * k] + ekm[2 * k + s:2 * k + 2 * s]


@pytest.mark.parametrize("profile,key_len,salt_len", PROFILES)
def test_srtp_keying_agrees_and_matches_the_exporter(certs: Certs, profile: sdtls.SrtpProfile, key_len: int,
                                                     salt_len: int) -> None:
    link = connect(sdtls.Config(cadata=certs.cert, srtp_profiles=[profile]),
                   sdtls.Config(certificate=certs.cert, private_key=certs.key, srtp_profiles=[p for p, _, _ in PROFILES]))
    cli, srv = link.a, link.b
    assert isinstance(srv, sdtls.Connection)
    assert cli.srtp_profile is profile and srv.srtp_profile is profile
    assert cli.srtp_profile.name == sdtls.srtp_profile_name(int(profile))
    kc, ks = cli.srtp_keying(), srv.srtp_keying()
    assert kc is not None and ks is not None
    assert (kc.profile, kc.key_len, kc.salt_len) == (profile, key_len, salt_len)
    ekm = cli.export_keying_material("EXTRACTOR-dtls_srtp", 2 * (key_len + salt_len))
    assert ekm == srv.export_keying_material("EXTRACTOR-dtls_srtp", 2 * (key_len + salt_len))
    assert (kc.client_write, kc.server_write) == rfc5764_split(ekm, key_len, salt_len)
    assert kc.local_write == kc.client_write == ks.remote_write
    assert kc.remote_write == kc.server_write == ks.local_write
    assert all(len(b) == key_len + salt_len for b in (kc.client_write, kc.server_write))
    assert kc.client_write.hex() not in repr(kc)  # secrets stay out of logs
    with pytest.raises(AttributeError):
        kc.profile = profile  # type: ignore[misc]  # frozen


def test_srtp_on_a_servers_connection(certs: Certs) -> None:
    link = connect(sdtls.Config(cadata=certs.cert, srtp_profiles="SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"),
                   sdtls.Config(certificate=certs.cert, private_key=certs.key,
                                srtp_profiles=["SRTP_AES128_CM_SHA1_80", sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM]),
                   server=True)
    view = server_view(link)
    # The server picks by its own preference among what the client offers.
    assert view.srtp_profile == sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_80 == link.a.srtp_profile
    kv, kc = view.srtp_keying(), link.a.srtp_keying()
    assert kv is not None and kc is not None
    assert (kv.local_write, kv.remote_write) == (kc.remote_write, kc.local_write)


def test_srtp_not_negotiated(certs: Certs) -> None:
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, srtp_profiles=["SRTP_AEAD_AES_256_GCM"])
    for client in (sdtls.Config(cadata=certs.cert), sdtls.Config(cadata=certs.cert, srtp_profiles="SRTP_AES128_CM_SHA1_32")):
        link = connect(client, server)
        assert link.a.srtp_profile is None and link.a.srtp_keying() is None
    conn = sdtls.Connection(server, "server")
    assert conn.srtp_profile is None and conn.srtp_keying() is None  # before the handshake


def test_srtp_profile_names() -> None:
    assert sdtls.srtp_profile_name(1) == "SRTP_AES128_CM_SHA1_80"
    assert sdtls.srtp_profile_name(sdtls.SrtpProfile.SRTP_AEAD_AES_256_GCM) == "SRTP_AEAD_AES_256_GCM"
    assert sdtls.srtp_profile_name(0x99) is None
    for p in sdtls.SrtpProfile:
        assert sdtls.srtp_profile_name(p) == p.name and int(p) == getattr(ll, "SDTLS_" + p.name)
    for bad in (["SRTP_NOPE"], [0x99], "", []):
        with pytest.raises(sdtls.UsageError):
            sdtls.Config(srtp_profiles=bad)


# ---- fingerprints ---------------------------------------------------------------------------------


def test_pinning_replaces_the_ca_check(certs: Certs) -> None:
    fp = sdtls.fingerprint(certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    for client, kw in ((sdtls.Config(peer_fingerprints=fp), {}),                  # no CA at all
                       (sdtls.Config(peer_fingerprints=[f"sha-256:{fp.lower()}"]), {"name": None}),
                       (sdtls.Config(), {"peer_fingerprints": [f"sha-256 {fp}"]})):  # per connection
        link = connect(client, server, **kw)
        assert link.a.peer_fingerprint == fp


def test_pinning_mismatch_names_both_fingerprints(certs: Certs, other_certs: tuple[bytes, bytes]) -> None:
    fp, other = sdtls.fingerprint(certs.cert), sdtls.fingerprint(other_certs[0])
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    for client, kw in ((sdtls.Config(peer_fingerprints=[other]), {}),
                       (sdtls.Config(cadata=certs.cert), {"peer_fingerprints": other})):  # the pin wins over the CA
        link = fail(client, server, **kw)
        ev = ended(link.a_events)
        assert ev is not None and isinstance(ev.error, sdtls.VerifyError)
        assert fp in ev.error.detail and other in ev.error.detail, ev.error.detail
        assert isinstance(link.a.error, sdtls.VerifyError)


def test_a_pinning_server_requires_the_client_certificate(certs: Certs, other_certs: tuple[bytes, bytes]) -> None:
    client_cert, client_key = other_certs
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key,
                          peer_fingerprints=[sdtls.fingerprint(client_cert)])
    link = connect(sdtls.Config(cadata=certs.cert, certificate=client_cert, private_key=client_key), server,
                   server=True)
    assert server_view(link).peer_fingerprint == sdtls.fingerprint(client_cert)
    link = fail(sdtls.Config(cadata=certs.cert), server, server=True)  # no client certificate
    ev = ended(link.b_events)
    assert ev is not None and isinstance(ev.error, sdtls.VerifyError)


def test_a_servers_connection_cannot_be_pinned_from_python(certs: Certs) -> None:
    """sdtls_conn_add_peer_fingerprint() on a server's connection works only
    inside on_connect. The Python Server's on_connect is a C trampoline that
    queues PeerConnected; by the time Python reads it the same receive call
    has fed the ClientHello to the engine, so the C call is refused. Pin a
    Server's peers on the Config (or drive a role="server" Connection)."""
    link = pair(sdtls.Config(cadata=certs.cert), sdtls.Config(certificate=certs.cert, private_key=certs.key),
                server=True)
    link.run(lambda: any(isinstance(e, sdtls.PeerConnected) for e in link.b_events))
    view = next(e.connection for e in link.b_events if isinstance(e, sdtls.PeerConnected))
    rc = view._query(ll.sdtls_conn_add_peer_fingerprint, "sha-256 " + sdtls.fingerprint(certs.cert))
    assert rc == ll.SDTLS_E_STATE
    assert not hasattr(view, "add_peer_fingerprint")


def test_bad_fingerprints(certs: Certs) -> None:
    fp = sdtls.fingerprint(certs.cert)
    for bad in ("nonsense", "sha-256 AB:CD", fp[:-3]):
        with pytest.raises(sdtls.UsageError):
            sdtls.Config(peer_fingerprints=[bad])
    with pytest.raises(sdtls.UsageError, match="unsupported|not supported"):
        sdtls.Config(peer_fingerprints=["sha-1 " + ":".join(["AB"] * 20)])
    cfg = sdtls.Config(peer_fingerprints=[fp] * 16)
    with pytest.raises(sdtls.Error):
        cfg.add_peer_fingerprint(fp)  # at most 16
    conn = sdtls.Connection(sdtls.Config(), "client", server_name="localhost")
    conn.start()
    with pytest.raises(sdtls.UsageError):
        conn.add_peer_fingerprint(fp)  # only before start()


# ---- pre-shared keys ------------------------------------------------------------------------------


def test_psk_both_ways(certs: Certs) -> None:
    server = sdtls.Config(psks={"other": b"x" * 32, "device-1": KEY}, psk_identity_hint="my service")
    link = connect(sdtls.Config(psks=[("device-1", KEY)]), server, name=None)
    cli, srv = link.a, link.b
    assert isinstance(srv, sdtls.Connection)
    assert cli.psk_identity == srv.psk_identity == "device-1"
    assert "PSK" in (cli.cipher or "") and cli.peer_certificate is None
    cli.send(b"ping", link.now)
    link.step()
    srv.send(b"pong", link.now)
    link.step()
    assert [e.data for e in link.b_events if isinstance(e, sdtls.DatagramReceived)] == [b"ping"]
    assert [e.data for e in link.a_events if isinstance(e, sdtls.DatagramReceived)] == [b"pong"]
    # A server with a certificate and a PSK takes both kinds of client. A
    # client's PSK is offered besides the certificate suites, which such a
    # server prefers: a client that has only the key offers only the PSK suite.
    with_cert = sdtls.Config(certificate=certs.cert, private_key=certs.key, psks={"device-1": KEY})
    psk_only = sdtls.Config(psks={"device-1": KEY}, ciphers="ECDHE-PSK-CHACHA20-POLY1305")
    assert connect(psk_only, with_cert, server=True, name=None).a.psk_identity == "device-1"
    assert connect(sdtls.Config(cadata=certs.cert), with_cert, server=True).a.psk_identity is None


def test_psk_lookup(certs: Certs) -> None:
    asked: list[str] = []

    def lookup(identity: str) -> Optional[bytes]:
        asked.append(identity)
        return {"dev-7": KEY, "dev-ü": b"k" * 64}.get(identity)

    server = sdtls.Config(psks={"dev-1": b"z" * 16}, psk_lookup=lookup)
    assert server.psk_lookup is lookup
    link = connect(sdtls.Config(psks={"dev-7": KEY}), server, server=True, name=None)
    assert server_view(link).psk_identity == "dev-7" and asked == ["dev-7"]
    link = connect(sdtls.Config(psks={"dev-ü": b"k" * 64}), server, name=None)
    assert link.b.psk_identity == "dev-ü"  # type: ignore[attr-defined]
    connect(sdtls.Config(psks={"dev-1": b"z" * 16}), server, name=None)  # the table first
    assert asked == ["dev-7", "dev-ü"]
    # None: an unknown identity, refused with an alert.
    link = fail(sdtls.Config(psks={"nobody": KEY}), server, name=None)
    ev = ended(link.a_events)
    assert ev is not None and isinstance(ev.error, sdtls.AlertError), ev


@pytest.mark.parametrize("server_kind", [False, True])
def test_psk_lookup_that_raises(server_kind: bool) -> None:
    class Boom(Exception):
        pass

    def lookup(identity: str) -> Optional[bytes]:
        raise Boom(identity)

    link = pair(sdtls.Config(psks={"dev-9": KEY}), sdtls.Config(psk_lookup=lookup), server=server_kind, name=None)
    with pytest.raises(Boom, match="dev-9"):  # out of the server's receive call
        link.run(link.connected)
    link.run(lambda: ended(link.a_events) is not None)  # and the identity was refused
    ev = ended(link.a_events)
    assert ev is not None and isinstance(ev.error, sdtls.AlertError)


def test_psk_lookup_with_a_bad_key() -> None:
    for key in (b"", b"k" * 1000):  # the engine takes up to 256 bytes from a lookup
        link = pair(sdtls.Config(psks={"dev-9": KEY}), sdtls.Config(psk_lookup=lambda i: key), name=None)
        with pytest.raises(ValueError, match=r"a key is 1\.\.\d+ bytes"):
            link.run(link.connected)
    with pytest.raises(TypeError):
        sdtls.Config(psk_lookup="not callable")  # type: ignore[arg-type]


def test_psk_options() -> None:
    assert sdtls.Config(psk_allow_cbc=True).get_option(ll.SDTLS_OPT_PSK_ALLOW_CBC) == 1
    assert sdtls.Config().get_option(ll.SDTLS_OPT_PSK_ALLOW_CBC) == 0
    link = connect(sdtls.Config(psks={"a": KEY}, psk_allow_cbc=True), sdtls.Config(psks={"a": KEY}, psk_allow_cbc=True),
                   name=None)
    assert link.a.psk_identity == "a"
    for bad in ({"": KEY}, {"x" * 129: KEY}, {"a": b""}, {"a": b"k" * 65}):
        with pytest.raises(sdtls.UsageError):
            sdtls.Config(psks=bad)
    with pytest.raises(sdtls.UsageError):
        sdtls.Config(psk_identity_hint="")


# ---- resumption -----------------------------------------------------------------------------------


def resume(client: sdtls.Config, server_config: sdtls.Config, session: Optional[bytes], **kw: object) -> Link:
    link = connect(client, server_config, session=session, **kw)
    assert link.a.session_resumed == (link.b.session_resumed if isinstance(link.b, sdtls.Connection)  # type: ignore[attr-defined]
                                      else server_view(link).session_resumed)
    return link


def test_resumption(certs: Certs) -> None:
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    first = resume(client, server, None)
    assert not first.a.session_resumed and first.a.group is not None
    session = first.a.get_session()
    assert isinstance(session, bytes) and len(session) > 32
    second = resume(client, server, session)
    assert second.a.session_resumed and second.a.version == first.a.version
    third = resume(client, server, session, server=True)  # a Server's connections too
    assert third.a.session_resumed
    # before the handshake there is nothing to save; junk is refused
    conn = sdtls.Connection(client, "client", server_name="localhost")
    assert conn.get_session() is None
    with pytest.raises(sdtls.UsageError, match="not a session"):
        conn.set_session(b"junk")
    conn.set_session(session)


def test_no_tickets_no_session(certs: Certs) -> None:
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, session_tickets=False)
    assert server.get_option(ll.SDTLS_OPT_SESSION_TICKETS) == 0
    assert connect(client, server).a.get_session() is None
    other = connect(client, sdtls.Config(certificate=certs.cert, private_key=certs.key)).a.get_session()
    assert other is not None
    assert not resume(client, server, other).a.session_resumed  # another server's ticket


def test_ticket_secret_rotation(certs: Certs) -> None:
    client = sdtls.Config(cadata=certs.cert)
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, ticket_secret=b"A" * 32)
    s_a = connect(client, server).a.get_session()
    assert s_a is not None
    server.set_ticket_secret(b"B" * 48)  # the config is in use: still allowed
    renewed = resume(client, server, s_a)
    assert renewed.a.session_resumed  # one rotation: the previous secret still opens it
    s_b = renewed.a.get_session()
    server.set_ticket_secret(b"C" * 64)
    assert not resume(client, server, s_a).a.session_resumed  # two rotations: a full handshake
    assert resume(client, server, s_b).a.session_resumed
    # servers that share the secret resume each other's sessions
    twin = sdtls.Config(certificate=certs.cert, private_key=certs.key, ticket_secret=b"C" * 64)
    s_c = connect(client, twin).a.get_session()
    assert resume(client, server, s_c).a.session_resumed
    for bad in (b"short", b"x" * 65):
        with pytest.raises(sdtls.UsageError):
            server.set_ticket_secret(bad)


def test_session_not_resumed_under_other_pins(certs: Certs, other_certs: tuple[bytes, bytes]) -> None:
    fp, other = sdtls.fingerprint(certs.cert), sdtls.fingerprint(other_certs[0])
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    pinned = sdtls.Config(peer_fingerprints=[fp])
    session = connect(pinned, server).a.get_session()
    assert session is not None
    assert resume(pinned, server, session).a.session_resumed
    assert not resume(sdtls.Config(peer_fingerprints=[fp, other]), server, session).a.session_resumed
    assert not resume(sdtls.Config(), server, session, peer_fingerprints=[other, fp]).a.session_resumed
    assert not resume(sdtls.Config(cadata=certs.cert), server, session).a.session_resumed


def test_resumption_through_connect_and_aio(certs: Certs) -> None:
    server = sdtls.DTLSServer(lambda peer, data: peer.send(data), "127.0.0.1", 0,
                                  sdtls.Config(certificate=certs.cert, private_key=certs.key, alpn=["coap"]))
    stop_server = serve_in_thread(server)
    port = server.server_address[1]
    config = sdtls.Config(alpn="coap")
    fp = sdtls.fingerprint(certs.cert)
    try:
        with sdtls.connect("127.0.0.1", port, config, peer_fingerprints=fp, timeout=10) as c1:
            assert c1.connection.alpn == "coap" and not c1.connection.session_resumed
            if DTLS13:  # the ticket comes after the handshake (NewSessionTicket): not yet there
                assert c1.connection.version == "DTLSv1.3" and c1.connection.get_session() is None
            else:       # DTLS 1.2: the ticket is part of the handshake
                assert c1.connection.version == "DTLSv1.2" and c1.connection.get_session() is not None
            c1.send(b"first")
            assert c1.recv(timeout=5) == b"first"
            session = c1.connection.get_session()  # once data has flowed: with either version
        assert session is not None
        with sdtls.connect("127.0.0.1", port, config, peer_fingerprints=fp, session=session, timeout=10) as c2:
            assert c2.connection.session_resumed
            c2.send(b"again")
            assert c2.recv(timeout=5) == b"again"

        async def aio() -> None:
            client = await sdtls.aio.connect("127.0.0.1", port, config, peer_fingerprints=[fp], session=session,
                                             timeout=10)
            try:
                assert client.connection.session_resumed
            finally:
                client.close()

        asyncio.run(aio())
    finally:
        stop_server()


# ---- ALPN and groups ------------------------------------------------------------------------------


def test_alpn(certs: Certs) -> None:
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, alpn=["webrtc", "coap"])
    link = connect(sdtls.Config(cadata=certs.cert, alpn=["coap", "webrtc"]), server)
    assert link.a.alpn == link.b.alpn == "webrtc"  # type: ignore[attr-defined]  # the server's preference
    link = connect(sdtls.Config(cadata=certs.cert, alpn="coap,h3"), server, server=True)
    assert link.a.alpn == server_view(link).alpn == "coap"
    assert connect(sdtls.Config(cadata=certs.cert), server).a.alpn is None  # a client without ALPN is accepted
    link = fail(sdtls.Config(cadata=certs.cert, alpn=["h3"]), server)
    ev = ended(link.a_events)
    assert ev is not None and isinstance(ev.error, sdtls.AlertError), ev
    assert "application" in ev.error.detail or "protocol" in ev.error.detail, ev.error.detail
    for bad in (["a,b"], [""], "", ["x" * 256]):
        with pytest.raises(sdtls.UsageError):
            sdtls.Config(alpn=bad)


def test_groups(certs: Certs) -> None:
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    for groups, want in ((["X25519", "P-256"], "X25519"), ("P-256", "P-256"), ("P-256:P-384", "P-256")):
        link = connect(sdtls.Config(cadata=certs.cert, groups=groups), server)
        assert link.a.group == link.b.group == want  # type: ignore[attr-defined]
    psk = sdtls.Config(psks={"a": KEY}, groups=["X25519"])
    assert connect(psk, psk, name=None).a.group == "X25519"
    assert sdtls.Connection(server, "server").group is None
    # No group in common: the handshake fails.
    link = fail(sdtls.Config(cadata=certs.cert, groups=["P-521"]), server)
    assert isinstance(link.a.error, sdtls.AlertError)
    # In DTLS 1.2 the groups also bound the curve of an ECDSA certificate
    # (RFC 8422 5.1): without P-256, a P-256 certificate is refused.
    link = fail(sdtls.Config(cadata=certs.cert, groups=["X25519"], max_version="1.2"), server)
    if DTLS13:  # a current engine's server already declines its certificate for that client
        assert isinstance(link.b.error, sdtls.ProtocolError) and "wrong curve" in link.b.error.detail  # type: ignore[attr-defined]
        assert isinstance(link.a.error, sdtls.AlertError) and "handshake failure" in link.a.error.detail
    else:       # Debian's engine sends it and the client refuses it
        assert isinstance(link.a.error, sdtls.ProtocolError) and "ecc cert" in link.a.error.detail
    if DTLS13:  # DTLS 1.3 decouples them (signature_algorithms name the curve): it is accepted
        link = connect(sdtls.Config(cadata=certs.cert, groups=["X25519"]), server)
        assert link.a.version == "DTLSv1.3" and link.a.group == "X25519"  # type: ignore[attr-defined]
    for bad in (["NOPE-1"], "", []):
        with pytest.raises(sdtls.UsageError):
            sdtls.Config(groups=bad)


def test_key_update(certs: Certs) -> None:
    """KeyUpdate is DTLS 1.3's: on DTLS 1.2 it is refused with a UsageError
    (SDTLS_E_UNSUPPORTED); where the engine speaks 1.3, data flows after it."""
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    link = connect(sdtls.Config(cadata=certs.cert, max_version="1.2"), server)
    with pytest.raises(sdtls.UsageError) as e:
        link.a.key_update()
    assert e.value.code == -15
    if not sdtls.has_feature("dtls1_3"):
        return
    link = connect(sdtls.Config(cadata=certs.cert, min_version="1.3"), server)
    link.a.key_update()
    link.a.send(b"after")
    link.run(lambda: any(isinstance(e, sdtls.DatagramReceived) for e in link.b_events))


# ---- features and the low-level module ------------------------------------------------------------


def test_sdtls_1_1_features() -> None:
    for name in ("srtp", "psk", "resumption", "alpn", "SRTP"):
        assert sdtls.has_feature(name)


def test_low_level_out_parameters(certs: Certs) -> None:
    """The header's out-parameters come back as values: the session as bytes
    (the C copy released with sdtls_free), the SRTP struct as a tuple."""
    link = connect(sdtls.Config(cadata=certs.cert, srtp_profiles="SRTP_AES128_CM_SHA1_80"),
                   sdtls.Config(certificate=certs.cert, private_key=certs.key, srtp_profiles="SRTP_AES128_CM_SHA1_80"))
    query = link.a._query  # ll's function with the connection's handle, under its guard
    rc, session = query(ll.sdtls_conn_get_session)
    assert rc == 0 and isinstance(session, bytes) and session == link.a.get_session()
    rc, k = query(ll.sdtls_conn_srtp_keying)
    assert rc == 0 and k[:3] == (1, 16, 14) and all(len(x) == 30 for x in k[3:])
    fresh = sdtls.Connection(sdtls.Config(), "client", server_name="x")
    assert tuple(fresh._query(ll.sdtls_conn_get_session)) == (ll.SDTLS_E_STATE, None)
    assert tuple(fresh._query(ll.sdtls_conn_srtp_keying)) == (ll.SDTLS_E_STATE, None)
    for _ in range(2000):  # no leak: the C allocations are freed on every call
        query(ll.sdtls_conn_get_session)
        query(ll.sdtls_conn_srtp_keying)


def test_config_of_every_kind_in_one(certs: Certs) -> None:
    """Every SDTLS_1.1 keyword at once, on both sides."""
    fp = sdtls.fingerprint(certs.cert)
    common = dict(srtp_profiles=[sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM], alpn=["coap"], groups=["X25519", "P-256"])
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key, psk_identity_hint="h", session_tickets=True,
                          ticket_secret=os.urandom(32), **common)  # type: ignore[arg-type]
    link = connect(sdtls.Config(peer_fingerprints=[fp], **common), server)  # type: ignore[arg-type]
    a = link.a
    assert (a.srtp_profile, a.alpn, a.group, a.psk_identity) == (sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM, "coap",
                                                                "X25519", None)

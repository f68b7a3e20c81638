# SPDX-License-Identifier: Apache-2.0
"""Interop over loopback: OpenSSL's s_server and s_client, the sdtls tool,
pyOpenSSL in the same interpreter, and the python -m sdtls example."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from typing import IO, Callable, Iterator

import pytest

import sdtls
from conftest import DEFAULT_CIPHERS, DEFAULT_VERSION, Certs, free_udp_port, need, sdtls_tool, serve_in_thread

# What a default certificate handshake between two sdtls endpoints negotiates
# (both on this engine): its newest version, as the tools print it.
VERSION = re.escape(DEFAULT_VERSION).encode()
CIPHER = DEFAULT_CIPHERS.encode()


def read_until(stream: IO[bytes], pattern: bytes, timeout: float = 10.0) -> bytes:
    """Reads a child's output until `pattern` (a regex) matches, with a deadline."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    buf = b""
    end = time.monotonic() + timeout
    try:
        while not re.search(pattern, buf):
            left = end - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError(f"no {pattern!r} within {timeout} s; got {buf[-2000:]!r}")
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"stream ended before {pattern!r}; got {buf[-2000:]!r}")
            buf += chunk
    finally:
        sel.close()
    return buf


def stop(p: "subprocess.Popen[bytes]") -> None:
    if p.poll() is None:
        p.kill()
    p.wait(10)
    for s in (p.stdin, p.stdout, p.stderr):
        if s is not None:
            s.close()


@pytest.fixture
def openssl() -> str:
    path = shutil.which("openssl")
    need("openssl", path is not None)
    assert path is not None
    return path


def test_client_to_openssl_s_server(openssl: str, certs: Certs) -> None:
    for attempt in range(3):
        port = free_udp_port()
        p = subprocess.Popen([openssl, "s_server", "-dtls1_2", "-4", "-accept", f"127.0.0.1:{port}", "-naccept", "1",
                              "-cert", str(certs.cert_file), "-key", str(certs.key_file),
                              "-keymatexport", "EXPERIMENTAL-sdtls", "-keymatexportlen", "16"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            read_until(p.stdout, rb"ACCEPT", 5)  # type: ignore[arg-type]
        except AssertionError:
            stop(p)
            continue
        break
    else:
        pytest.fail("openssl s_server did not start")
    try:
        with sdtls.connect("127.0.0.1", port, sdtls.Config(cadata=certs.cert), server_name="localhost",
                           timeout=10) as client:
            assert client.connection.version == "DTLSv1.2"
            out = read_until(p.stdout, rb"Keying material: [0-9A-F]+")  # type: ignore[arg-type]
            theirs = re.search(rb"Keying material: ([0-9A-F]+)", out).group(1).decode().lower()  # type: ignore
            assert client.connection.export_keying_material("EXPERIMENTAL-sdtls", 16).hex() == theirs
            client.send(b"from-sdtls-python\n")
            read_until(p.stdout, rb"from-sdtls-python")  # type: ignore[arg-type]
            p.stdin.write(b"from-openssl\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]
            assert client.recv(timeout=10) == b"from-openssl\n"
        read_until(p.stdout, rb"DONE|shutting down|CONNECTION CLOSED")  # type: ignore[arg-type]
    finally:
        stop(p)


def echo_server(config: sdtls.Config) -> tuple[sdtls.DTLSServer, Callable[[], None]]:
    server = sdtls.DTLSServer(lambda conn, data: conn.send(b"echo " + data), "127.0.0.1", 0, config)
    return server, serve_in_thread(server)


def test_openssl_s_client_to_server(openssl: str, server_config: sdtls.Config) -> None:
    server, stop_server = echo_server(server_config)
    port = server.server_address[1]
    p = subprocess.Popen([openssl, "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{port}", "-quiet"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        p.stdin.write(b"hello-from-openssl\n")  # type: ignore[union-attr]
        p.stdin.flush()  # type: ignore[union-attr]
        read_until(p.stdout, rb"echo hello-from-openssl")  # type: ignore[arg-type]
        assert server.server.counters()["cookies_sent"] >= 1
    finally:
        stop(p)
        stop_server()


@pytest.fixture
def tool() -> str:
    path = sdtls_tool()
    need("the sdtls tool (SDTLS_TOOL)", path is not None)
    assert path is not None
    return path


def test_client_to_sdtls_tool_server(tool: str, certs: Certs) -> None:
    p = subprocess.Popen([tool, "server", "--listen", "127.0.0.1:0", "--cert", str(certs.cert_file),
                          "--key", str(certs.key_file), "--echo"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        out = read_until(p.stderr, rb"listening 127\.0\.0\.1:(\d+)")  # type: ignore[arg-type]
        port = int(re.search(rb"listening 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
        with sdtls.connect("127.0.0.1", port, sdtls.Config(cadata=certs.cert), server_name="localhost") as c:
            c.send(b"to the C tool")
            assert c.recv(timeout=5) == b"to the C tool"
        read_until(p.stderr, rb"closed 127\.0\.0\.1:")  # type: ignore[arg-type]
    finally:
        stop(p)


def test_sdtls_tool_client_to_server(tool: str, certs: Certs, server_config: sdtls.Config) -> None:
    server, stop_server = echo_server(server_config)
    port = server.server_address[1]
    p = subprocess.Popen([tool, "client", f"127.0.0.1:{port}", "--ca", str(certs.cert_file), "--server-name",
                          "localhost", "--timeout", "2"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_until(p.stderr, rb"connected " + VERSION + rb" " + CIPHER)  # type: ignore[arg-type]
        p.stdin.write(b"line from the C tool\n")  # type: ignore[union-attr]
        p.stdin.close()  # type: ignore[union-attr]
        read_until(p.stdout, rb"echo line from the C tool\n")  # type: ignore[arg-type]
        assert p.wait(10) == 0
    finally:
        stop(p)
        stop_server()


def test_python_m_sdtls_against_the_tool(tool: str, tmp_path: "os.PathLike[str]") -> None:
    """The example (python -m sdtls) and the C tool talk to each other."""
    d = str(tmp_path)
    r = subprocess.run([tool, "cert", "--cert", f"{d}/c.pem", "--key", f"{d}/k.pem", "--cn", "localhost"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # python -m sdtls server <- the C tool's client
    srv = subprocess.Popen([sys.executable, "-m", "sdtls", "server", "--listen", "127.0.0.1:0", "--cert",
                            f"{d}/c.pem", "--key", f"{d}/k.pem"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        out = read_until(srv.stderr, rb"listening 127\.0\.0\.1:(\d+)")  # type: ignore[arg-type]
        port = int(re.search(rb"listening 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
        r = subprocess.run([tool, "client", f"127.0.0.1:{port}", "--ca", f"{d}/c.pem", "--server-name", "localhost",
                            "--timeout", "2"], input=b"one\ntwo\n", capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"one\ntwo\n"
        read_until(srv.stderr, rb"accepted 127\.0\.0\.1:\d+ " + VERSION + rb" ")  # type: ignore[arg-type]
    finally:
        stop(srv)
    # python -m sdtls client -> the C tool's server
    p = subprocess.Popen([tool, "server", "--listen", "127.0.0.1:0", "--cert", f"{d}/c.pem", "--key",
                          f"{d}/k.pem", "--echo"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        out = read_until(p.stderr, rb"listening 127\.0\.0\.1:(\d+)")  # type: ignore[arg-type]
        port = int(re.search(rb"listening 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
        r = subprocess.run([sys.executable, "-m", "sdtls", "client", f"127.0.0.1:{port}", "--ca", f"{d}/c.pem",
                            "--server-name", "localhost", "--timeout", "2"],
                           input=b"alpha\nbeta\n", capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"alpha\nbeta\n"
        assert re.search(rb"connected " + VERSION + rb" " + CIPHER, r.stderr), r.stderr
    finally:
        stop(p)


def test_pyopenssl_and_sdtls_in_one_interpreter(certs: Certs) -> None:
    """OpenSSL (through ssl and pyOpenSSL) and the BoringSSL inside sdtls in
    one process: a pyOpenSSL DTLS handshake, an sdtls one, and pyOpenSSL
    against sdtls."""
    import ssl
    from OpenSSL import SSL
    from pyopenssl_pump import drain, handshake

    assert ssl.OPENSSL_VERSION.startswith("OpenSSL")

    def openssl_conn(server: bool) -> SSL.Connection:
        ctx = SSL.Context(SSL.DTLS_METHOD)
        ctx.set_options(SSL.OP_NO_QUERY_MTU)
        if server:
            ctx.use_certificate_chain_file(str(certs.cert_file))
            ctx.use_privatekey_file(str(certs.key_file))
        conn = SSL.Connection(ctx, None)
        conn.set_ciphertext_mtu(1200)
        if server:
            conn.set_accept_state()
        else:
            conn.set_connect_state()
        return conn

    c1, s1 = openssl_conn(False), openssl_conn(True)
    handshake(c1, s1)
    c1.write(b"openssl to openssl")
    s1.bio_write(drain(c1))
    assert s1.recv(100) == b"openssl to openssl"

    from conftest import make_link
    link = make_link(sdtls.Config(cadata=certs.cert), sdtls.Config(certificate=certs.cert, private_key=certs.key))
    link.run(link.connected)

    server = sdtls.Server(sdtls.Config(certificate=certs.cert, private_key=certs.key))
    c2 = openssl_conn(False)
    addr = ("127.0.0.1", 9999)
    for _ in range(10):
        try:
            c2.do_handshake()
            break
        except SSL.WantReadError:
            pass
        server.receive_datagram(drain(c2), addr)
        for d, _a in server.datagrams_to_send():
            c2.bio_write(d)
    c2.write(b"openssl to sdtls")
    server.receive_datagram(drain(c2), addr)
    events = []
    while (e := server.next_event()) is not None:
        events.append(e)
    got = [e for e in events if isinstance(e, sdtls.DatagramReceived)]
    assert [e.data for e in got] == [b"openssl to sdtls"]
    assert got[0].connection is not None
    got[0].connection.send(b"sdtls to openssl")
    for d, _a in server.datagrams_to_send():
        c2.bio_write(d)
    assert c2.recv(100) == b"sdtls to openssl"


# ---- SDTLS_1.1 against the C tool: PSK, SRTP, pins, ALPN, sessions --------------------------------

PSK_ID, PSK_HEX = "device-1", "000102030405060708090a0b0c0d0e0f"


def tool_server(tool: str, *args: str) -> "tuple[subprocess.Popen[bytes], int]":
    p = subprocess.Popen([tool, "server", "--listen", "127.0.0.1:0", *args], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = read_until(p.stderr, rb"listening 127\.0\.0\.1:(\d+)")  # type: ignore[arg-type]
    return p, int(re.search(rb"listening 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]


def test_psk_client_to_sdtls_tool_server(tool: str) -> None:
    p, port = tool_server(tool, "--psk-identity", PSK_ID, "--psk", PSK_HEX, "--echo")
    try:
        cfg = sdtls.Config(psks={PSK_ID: bytes.fromhex(PSK_HEX)}, ciphers="ECDHE-PSK-CHACHA20-POLY1305")
        with sdtls.connect("127.0.0.1", port, cfg, timeout=10) as c:
            assert c.connection.psk_identity == PSK_ID and c.connection.peer_certificate is None
            c.send(b"psk datagram")
            assert c.recv(timeout=5) == b"psk datagram"
        read_until(p.stderr, rb"accepted 127\.0\.0\.1:\d+ DTLSv1\.2 TLS_ECDHE_PSK_\w+(?: (?:X25519\w*|P-\d+))? psk device-1")  # type: ignore[arg-type]
        # a wrong identity is refused with an alert
        bad = sdtls.Config(psks={"nobody": bytes.fromhex(PSK_HEX)}, ciphers="ECDHE-PSK-CHACHA20-POLY1305")
        with pytest.raises(sdtls.AlertError):
            sdtls.connect("127.0.0.1", port, bad, timeout=10)
    finally:
        stop(p)


def test_srtp_client_to_sdtls_tool_server(tool: str, certs: Certs) -> None:
    p, port = tool_server(tool, "--cert", str(certs.cert_file), "--key", str(certs.key_file), "--srtp",
                          "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", "--export", "EXTRACTOR-dtls_srtp:60",
                          "--echo")
    try:
        cfg = sdtls.Config(srtp_profiles=[sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_80],
                           peer_fingerprints=[sdtls.fingerprint(certs.cert)])
        with sdtls.connect("127.0.0.1", port, cfg, timeout=10) as c:
            k = c.connection.srtp_keying()
            assert k is not None and k.profile == sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_80
            out = read_until(p.stdout, rb"EXPORT EXTRACTOR-dtls_srtp [0-9a-f]{120}")  # type: ignore[arg-type]
            ekm = bytes.fromhex(re.search(rb"EXPORT EXTRACTOR-dtls_srtp ([0-9a-f]{120})", out).group(1).decode())  # type: ignore[union-attr]
            assert k.client_write == ekm[0:16] + ekm[32:46] and k.server_write == ekm[16:32] + ekm[46:60]
            assert k.local_write == k.client_write
        read_until(p.stderr, rb"accepted 127\.0\.0\.1:\d+ " + VERSION + rb" \S+(?: (?:X25519\w*|P-\d+))? srtp SRTP_AES128_CM_SHA1_80")  # type: ignore[arg-type]
    finally:
        stop(p)


def test_sdtls_tool_client_to_python_server_psk_srtp(tool: str) -> None:
    """The tool's client against a DTLSServer with PSK, SRTP and ALPN: both
    sides name the same identity, profile and protocol and export the same
    keying material."""
    exported: list[bytes] = []

    def echo(peer: sdtls.ServerConnection, data: bytes) -> None:
        exported.append(peer.export_keying_material("EXTRACTOR-dtls_srtp", 56))
        assert peer.psk_identity == PSK_ID and peer.alpn == "coap"
        assert peer.srtp_profile == sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM
        peer.send(data)

    config = sdtls.Config(psks={PSK_ID: bytes.fromhex(PSK_HEX)}, psk_identity_hint="hint",
                          srtp_profiles=[sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM], alpn=["coap"])
    server = sdtls.DTLSServer(echo, "127.0.0.1", 0, config)
    stop_server = serve_in_thread(server)
    try:
        r = subprocess.run([tool, "client", f"127.0.0.1:{server.server_address[1]}", "--psk-identity", PSK_ID,
                            "--psk", PSK_HEX, "--srtp", "SRTP_AEAD_AES_128_GCM", "--alpn", "coap", "--export",
                            "EXTRACTOR-dtls_srtp:56", "--timeout", "2"], input=b"one\n", capture_output=True,
                           timeout=30)
    finally:
        stop_server()
    assert r.returncode == 0, r.stderr
    assert re.search(rb"connected DTLSv1\.2 TLS_ECDHE_PSK_\w+(?: (?:X25519\w*|P-\d+))? psk device-1 srtp SRTP_AEAD_AES_128_GCM alpn coap",
                     r.stderr), r.stderr
    theirs = re.search(rb"EXPORT EXTRACTOR-dtls_srtp ([0-9a-f]{112})", r.stdout)
    assert theirs is not None and r.stdout.endswith(b"one\n"), r.stdout
    assert exported == [bytes.fromhex(theirs.group(1).decode())]


def test_client_sessions_and_pins_against_the_tool(tool: str, certs: Certs, tmp_path: "os.PathLike[str]") -> None:
    """A session from the tool's server (a ticket under its secret) resumes on
    a later connection; a wrong pin fails verification."""
    secret = os.path.join(str(tmp_path), "ticket.key")
    with open(secret, "wb") as f:
        f.write(os.urandom(48))
    p, port = tool_server(tool, "--cert", str(certs.cert_file), "--key", str(certs.key_file), "--alpn",
                          "webrtc,coap", "--ticket-secret-file", secret, "--echo")
    fp = sdtls.fingerprint(certs.cert)
    config = sdtls.Config(alpn=["coap"], groups=["X25519", "P-256"])
    session = None
    try:
        for resumed in (False, True):
            with sdtls.connect("127.0.0.1", port, config, peer_fingerprints=f"sha-256:{fp}", session=session,
                               timeout=10) as c:
                c.send(b"x")
                assert c.recv(timeout=5) == b"x"
                assert c.connection.alpn == "coap" and c.connection.session_resumed == resumed
                session = c.connection.get_session()
        with pytest.raises(sdtls.VerifyError, match="fingerprint mismatch"):
            with sdtls.connect("127.0.0.1", port, config, peer_fingerprints="sha-256:" + ":".join(["AB"] * 32),
                               timeout=10) as c:
                c.recv(timeout=5)
    finally:
        stop(p)

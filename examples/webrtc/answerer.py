# SPDX-License-Identifier: Apache-2.0
"""An ICE-lite WebRTC answerer on sdtls: it serves a page, answers the
browser's offer (HTTP POST), and echoes the browser's audio back over SRTP.

One UDP socket carries STUN (aioice's parser), DTLS (sdtls) and SRTP
(pylibsrtp), told apart by sdtls.classify(); docs/webrtc.md walks through it.

    pip install -r requirements.txt
    python3 answerer.py --http-port 8080     # then open http://127.0.0.1:8080/
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import struct
import sys
from pathlib import Path
from typing import Any, Optional

import pylibsrtp
from aioice import stun

import sdtls
import sdtls.aio

PROFILES = [sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM, sdtls.SrtpProfile.SRTP_AES128_CM_SHA1_80]
LIBSRTP = {p: getattr(pylibsrtp.Policy, "SRTP_PROFILE_" + p.name[len("SRTP_"):]) for p in PROFILES}
PAGE = (Path(__file__).parent / "index.html").read_bytes()


class Peer:
    """One browser: its ICE credentials, its certificate's pin, and media."""

    def __init__(self, offer: str) -> None:
        def attr(name: str) -> str:
            m = re.search(rf"^a={name}:(.+?)\r?$", offer, re.M)
            if m is None:
                raise ValueError(f"the offer has no a={name}")
            return m.group(1)
        self.fingerprint = attr("fingerprint")            # pinned: the browser's certificate
        self.setup = sdtls.dtls_role(attr("setup"), ARGS.setup)  # offer says actpass: we choose
        opus = re.search(r"^a=rtpmap:(\d+) opus/48000/2", offer, re.M)
        if opus is None:
            raise ValueError("the offer has no Opus")
        self.mid, self.pt = attr("mid"), int(opus.group(1))
        self.ufrag, self.pwd = secrets.token_hex(4), secrets.token_hex(16)  # ours
        self.address: Optional[Any] = None                # where its ICE checks come from
        self.dtls: Optional[sdtls.aio.TransportConnection] = None  # a=setup:active only
        self.rx: Optional[pylibsrtp.Session] = None
        self.tx: Optional[pylibsrtp.Session] = None
        self.ssrc = secrets.randbits(32)                  # what we echo with
        self.decrypted = self.browser_received = 0
        self.report: dict[str, Any] = {}


class Answerer(asyncio.DatagramProtocol):
    def __init__(self, host: str) -> None:
        self.host = host
        self.cert, key = sdtls.generate_certificate("sdtls-webrtc-example")
        self.config = sdtls.Config(certificate=self.cert, private_key=key, verify=False, srtp_profiles=PROFILES,
                                   **({"groups": ARGS.groups.split(",")} if ARGS.groups else {}))
        # Many browsers on one port: the Server's cookie exchange, and each
        # peer held to its own SDP's a=fingerprint, pinned by its address.
        self.server = sdtls.Server(self.config)
        self.by_ufrag: dict[str, Peer] = {}
        self.by_address: dict[Any, Peer] = {}
        self.done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]
        self.port = transport.get_extra_info("sockname")[1]
        self.dtls = sdtls.aio.TransportServer(self.server, self.transport.sendto, on_event=self.on_event)

    def answer(self, offer: str) -> str:
        peer = Peer(offer)
        self.by_ufrag[peer.ufrag] = peer
        fp = str(sdtls.Fingerprint.of_certificate(self.cert))
        return "\r\n".join([
            "v=0", f"o=- {secrets.randbits(62)} 2 IN IP4 {self.host}", "s=-", "t=0 0",
            f"a=group:BUNDLE {peer.mid}", "a=ice-lite",
            f"m=audio {self.port} UDP/TLS/RTP/SAVPF {peer.pt}", f"c=IN IP4 {self.host}",
            f"a=mid:{peer.mid}", "a=sendrecv", "a=rtcp-mux",
            f"a=ice-ufrag:{peer.ufrag}", f"a=ice-pwd:{peer.pwd}",
            f"a=fingerprint:{fp}", f"a=setup:{peer.setup.setup}",
            f"a=rtpmap:{peer.pt} opus/48000/2", f"a=ssrc:{peer.ssrc} cname:sdtls-echo",
            f"a=candidate:1 1 udp 2130706431 {self.host} {self.port} typ host", "a=end-of-candidates", ""])

    # ---- the shared socket, RFC 7983 ----
    def datagram_received(self, data: bytes, addr: Any) -> None:
        kind = sdtls.classify(data)
        peer = self.by_address.get(addr)
        if kind == sdtls.PacketKind.STUN:
            self.on_stun(data, addr)
        elif kind == sdtls.PacketKind.DTLS and peer is not None:
            if peer.dtls is not None:
                peer.dtls.datagram_received(data)
            else:
                self.dtls.datagram_received(data, addr)
        elif kind == sdtls.PacketKind.RTP and peer is not None and peer.rx is not None:
            self.on_media(peer, data)

    def on_stun(self, data: bytes, addr: Any) -> None:
        # ICE-lite (RFC 8445 2.5): answer the browser's checks, nothing more.
        try:
            req = stun.parse_message(data)
        except ValueError:
            return
        peer = self.by_ufrag.get(str(req.attributes.get("USERNAME", "")).split(":")[0])
        if (peer is None or req.message_method != stun.Method.BINDING or req.message_class != stun.Class.REQUEST
                or not req.check_message_integrity(peer.pwd.encode())):
            return
        resp = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE, req.transaction_id,
                            {"XOR-MAPPED-ADDRESS": addr})
        resp.add_message_integrity(peer.pwd.encode())
        self.transport.sendto(bytes(resp), addr)
        if peer.address is None:
            peer.address = addr
            self.by_address[addr] = peer
            if peer.setup.role == sdtls.Role.SERVER:
                self.server.pin_peer(addr, peer.fingerprint)
            else:  # a=setup:active: we start the handshake
                conn = sdtls.Connection(self.config, "client", peer_fingerprints=peer.fingerprint)
                peer.dtls = sdtls.aio.TransportConnection(conn, lambda d: self.transport.sendto(d, addr),
                                                          on_event=lambda ev: self.on_event(ev, peer))
                peer.dtls.start()

    def on_event(self, ev: sdtls.Event, peer: Optional[Peer] = None) -> None:
        view = getattr(ev, "connection", None)
        peer = peer or (self.by_address.get(view.address) if view is not None else None)
        if peer is None:
            return
        if isinstance(ev, sdtls.HandshakeCompleted):
            keys = (view or peer.dtls.connection).srtp_keying()  # type: ignore[union-attr]
            assert keys is not None and ev.srtp_profile is not None
            policy = LIBSRTP[ev.srtp_profile]
            inbound, outbound = pylibsrtp.Policy.SSRC_ANY_INBOUND, pylibsrtp.Policy.SSRC_ANY_OUTBOUND
            peer.rx = pylibsrtp.Session(pylibsrtp.Policy(keys.remote_write, inbound, 0, policy))
            peer.tx = pylibsrtp.Session(pylibsrtp.Policy(keys.local_write, outbound, 0, policy))
            print(f"{peer.address}: {ev.version} {ev.cipher} group {ev.group} {ev.srtp_profile.name},"
                  f" browser {ev.peer_fingerprint} pinned", flush=True)
        elif isinstance(ev, sdtls.ConnectionTerminated) and ev.error is not None:
            self.finish(1, f"{peer.address}: DTLS failed: {ev.error}")

    def on_media(self, peer: Peer, packet: bytes) -> None:
        assert peer.tx is not None and peer.rx is not None
        if 192 <= packet[1] <= 223:  # RTCP (RFC 5761 4): not echoed
            return
        try:
            rtp = peer.rx.unprotect(packet)
        except pylibsrtp.Error:
            return
        peer.decrypted += 1
        echo = rtp[:8] + struct.pack("!I", peer.ssrc) + rtp[12:]  # our SSRC, as the answer says
        self.transport.sendto(peer.tx.protect(echo), peer.address)

    # ---- the page's own view (getStats), and when a test run is over ----
    def on_report(self, report: dict[str, Any]) -> None:
        peer = self.by_ufrag.get(report.get("ufrag", ""))
        if peer is None:
            return
        if report.get("state") == "failed" and peer.report.get("state") != "failed":  # said once
            self.finish(1, f"{peer.address}: the browser says the connection failed")
        peer.report, peer.browser_received = report, int(report.get("received", 0))
        ok = [p for p in self.by_ufrag.values() if p.decrypted >= ARGS.packets and p.browser_received >= ARGS.packets]
        if ARGS.peers and len(ok) >= ARGS.peers:
            for p in ok:
                r = p.report
                print(f"{p.address}: decrypted {p.decrypted}, browser received {p.browser_received};"
                      f" browser: DTLS {r.get('version')} {r.get('cipher')} {r.get('srtp')}", flush=True)
            n = self.server.counters()
            self.finish(0, f"PASS: {len(ok)} browser(s), media both ways; sdtls.Server: {n['cookies_sent']} cookies"
                           f" sent, {n['connections_created']} connections")

    def finish(self, code: int, why: str) -> None:
        print(why, flush=True)
        if ARGS.peers and not self.done.done():  # a test ends here; a demo serves on
            self.done.set_result(code)


async def http(answerer: Answerer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        m = re.search(r"(?im)^content-length: *(\d+)", head)
        body = (await reader.readexactly(int(m.group(1)))).decode() if m else ""
        method, target = head.split(" ", 2)[:2]
        request, status, ctype, out = [method, target.split("?")[0]], "200 OK", "text/plain", b""
        if request == ["GET", "/"]:
            ctype, out = "text/html", PAGE
        elif request == ["POST", "/offer"]:
            out = answerer.answer(body).encode()
        elif request == ["POST", "/report"]:
            answerer.on_report(json.loads(body))
        else:
            status = "404 Not Found"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(out)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + out)
        await writer.drain()
    except asyncio.IncompleteReadError:
        pass  # a browser's speculative connection, closed unused
    except (ValueError, KeyError, ConnectionError) as e:
        print(f"http: {e!r}", file=sys.stderr)
    finally:
        writer.close()


async def main() -> int:
    loop = asyncio.get_running_loop()
    _, answerer = await loop.create_datagram_endpoint(lambda: Answerer(ARGS.host), local_addr=(ARGS.host, 0))
    server = await asyncio.start_server(lambda r, w: http(answerer, r, w), ARGS.host, ARGS.http_port)
    print(f"open http://{ARGS.host}:{server.sockets[0].getsockname()[1]}/ (media on UDP {answerer.port},"
          f" sdtls {sdtls.__version__}, {sdtls.engine_version})", flush=True)
    return await answerer.done


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--setup", choices=["passive", "active"], default="passive",
                        help="our a=setup: passive serves every browser through one sdtls.Server (cookie"
                             " exchange), active makes a DTLS client per browser")
    parser.add_argument("--peers", type=int, default=0,
                        help="exit 0 once this many browsers got media both ways (a test); 0: run on")
    parser.add_argument("--groups", help="key exchange groups, most preferred first (X25519MLKEM768,X25519)")
    parser.add_argument("--packets", type=int, default=50, help="RTP packets each way that count (with --peers)")
    ARGS = parser.parse_args()
    sys.exit(asyncio.run(main()))

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A UDP relay between one DTLS client and a server that logs what it sees.

    relay.py PORT_FILE SERVER_HOST SERVER_PORT LOG [SECONDS [PCAP]]

Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, forwards the
first client's datagrams to the server and the server's back, and writes one
line per DTLS record to LOG, e.g.

    c2s epoch=0 seq=0 handshake ClientHello msg_seq=0 cookie=0
    s2c epoch=0 seq=0 handshake HelloVerifyRequest msg_seq=0
    c2s epoch=1 seq=0 application_data len=34

so a test can check the wire (a HelloVerifyRequest was sent, the second
ClientHello carried the cookie) without trusting either peer's own report.
Exits after SECONDS (default 60). With PCAP, every datagram is also written
there as an IPv4/UDP packet (pcap, LINKTYPE_RAW) between the client's
address and SERVER_PORT, for tshark or Wireshark.
"""
import os
import select
import socket
import struct
import sys
import time

CONTENT = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}
HANDSHAKE = {
    0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest",
    4: "NewSessionTicket", 11: "Certificate", 12: "ServerKeyExchange",
    13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
    16: "ClientKeyExchange", 20: "Finished",
}


def describe(direction, data):
    lines = []
    off = 0
    while off + 13 <= len(data):
        ctype = data[off]
        epoch = int.from_bytes(data[off + 3:off + 5], "big")
        seq = int.from_bytes(data[off + 5:off + 11], "big")
        length = int.from_bytes(data[off + 11:off + 13], "big")
        body = data[off + 13:off + 13 + length]
        off += 13 + length
        text = f"{direction} epoch={epoch} seq={seq} {CONTENT.get(ctype, f'type{ctype}')}"
        if ctype == 22 and epoch == 0 and len(body) >= 12:
            mtype = body[0]
            msg_seq = int.from_bytes(body[4:6], "big")
            frag_off = int.from_bytes(body[6:9], "big")
            text += f" {HANDSHAKE.get(mtype, f'hs{mtype}')} msg_seq={msg_seq}"
            msg = body[12:]
            if mtype == 1 and frag_off == 0 and len(msg) >= 35:
                sid_len = msg[34]
                if len(msg) > 35 + sid_len:
                    text += f" cookie={msg[35 + sid_len]}"
        else:
            text += f" len={length}"
        lines.append(text)
    if off != len(data):
        lines.append(f"{direction} trailing={len(data) - off}")
    return lines


class Pcap:
    """A pcap file of raw IPv4 packets (LINKTYPE_RAW = 101)."""

    def __init__(self, path):
        self.f = open(path, "wb", buffering=0)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))

    @staticmethod
    def _checksum(header):
        total = sum(struct.unpack("!10H", header))
        while total > 0xFFFF:
            total = (total & 0xFFFF) + (total >> 16)
        return ~total & 0xFFFF

    def write(self, src, dst, payload):
        udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                         socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
        ip = ip[:10] + struct.pack("!H", self._checksum(ip)) + ip[12:]
        packet = ip + udp
        now = time.time()
        self.f.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(packet), len(packet)))
        self.f.write(packet)


def main():
    port_file, host, port, log_path = sys.argv[1:5]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    pcap = Pcap(sys.argv[6]) if len(sys.argv) > 6 else None
    server = (socket.gethostbyname(host), int(port))
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", 0))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect((host, int(port)))
    client = None
    with open(log_path, "w", buffering=1) as log:
        with open(port_file + ".tmp", "w") as f:
            f.write(f"{front.getsockname()[1]}\n")
        os.replace(port_file + ".tmp", port_file)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([front, back], [], [], 0.5)
            for sock in ready:
                try:
                    data, addr = sock.recvfrom(65536)
                except ConnectionRefusedError:
                    continue  # the server is not up (yet)
                if sock is front:
                    if client is None:
                        client = addr
                    if addr != client:
                        continue
                    for line in describe("c2s", data):
                        log.write(line + "\n")
                    if pcap:
                        pcap.write(client, server, data)
                    try:
                        back.send(data)
                    except ConnectionRefusedError:
                        pass
                elif client is not None:
                    for line in describe("s2c", data):
                        log.write(line + "\n")
                    if pcap:
                        pcap.write(server, client, data)
                    front.sendto(data, client)


if __name__ == "__main__":
    main()

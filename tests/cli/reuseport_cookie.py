#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Makes ClientHellos reach another `sdtls server --workers` worker than the
one that sent their HelloVerifyRequest, for tests/cli/workers.sh.

    reuseport_cookie.py PORT_FILE READY_FILE CLIENT_HELLO_HEX CLIENTS

Binds a socket with SO_REUSEPORT on 127.0.0.1 (port to PORT_FILE) and waits
for READY_FILE (the server's workers joined the port). Then, from CLIENTS
sockets, sends CLIENT_HELLO_HEX (a DTLS 1.2 ClientHello datagram without a
cookie) and keeps each socket whose ClientHello reached a worker (a
HelloVerifyRequest came back; one that this script's socket received is
given up for a new one). Then it closes its own socket: the kernel
spreads addresses over the smaller group again (reciprocal_scale), which
moves most of them to the other worker. Each client sends its ClientHello
with its cookie; the answer must be a ServerHello (the cookie passed),
not another HelloVerifyRequest. Prints "moved-group passed=N rehello=N"
and exits 1 unless every client passed.
"""
import os
import select
import socket
import sys
import time


def fail(message):
    print(f"reuseport_cookie.py: {message}", file=sys.stderr)
    sys.exit(1)


def handshake_type(datagram):
    """The type of the first handshake message of a plaintext DTLS record."""
    if len(datagram) > 13 and datagram[0] == 22:
        return datagram[13]
    return None


def with_cookie(hello, cookie):
    """The ClientHello datagram with `cookie` in it (message_seq 1, record
    sequence 1), as a client sends it after a HelloVerifyRequest (RFC 6347
    4.2.1)."""
    record, body = bytearray(hello[:13]), hello[25:]
    handshake = bytearray(hello[13:25])
    if handshake[0] != 1 or body[0:2] != b"\xfe\xfd":
        fail("not a DTLS 1.2 ClientHello")
    sid_len = body[34]
    at = 35 + sid_len
    if body[at] != 0:
        fail("the ClientHello has a cookie already")
    body = body[:at] + bytes([len(cookie)]) + cookie + body[at + 1:]
    n = len(body).to_bytes(3, "big")
    handshake[1:4] = n
    handshake[4:6] = (1).to_bytes(2, "big")
    handshake[9:12] = n
    record[5:11] = (1).to_bytes(6, "big")
    record[11:13] = (12 + len(body)).to_bytes(2, "big")
    return bytes(record) + bytes(handshake) + body


def hvr_cookie(datagram):
    # record(13) handshake(12) server_version(2) cookie_len(1) cookie
    n = datagram[27]
    return datagram[28:28 + n]


def main():
    port_file, ready_file, hello_hex, clients = sys.argv[1:5]
    hello, clients = bytes.fromhex(hello_hex), int(clients)
    thief = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    thief.bind(("127.0.0.1", 0))
    thief.settimeout(0)
    port = thief.getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{port}\n")
    os.rename(port_file + ".tmp", port_file)
    end = time.monotonic() + 20
    while not os.path.exists(ready_file):
        if time.monotonic() > end:
            fail("the server never got ready")
        time.sleep(0.05)
    server = ("127.0.0.1", port)

    kept = []  # (socket, cookie)
    attempts = 0
    while len(kept) < clients:
        attempts += 1
        if attempts > 20 * clients:
            fail(f"only {len(kept)} of {clients} ClientHellos reached a worker")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        s.sendto(hello, server)
        ready, _, _ = select.select([s, thief], [], [], 5)
        if thief in ready:
            thief.recv(65536)  # it came here: try another address
            s.close()
            continue
        if not ready:
            fail("no answer to a ClientHello")
        reply = s.recv(65536)
        if handshake_type(reply) != 3:
            fail(f"expected a HelloVerifyRequest, got {reply[:16].hex()}")
        kept.append((s, hvr_cookie(reply)))
    thief.close()

    passed = rehello = 0
    for s, cookie in kept:
        s.sendto(with_cookie(hello, cookie), server)
        try:
            reply = s.recv(65536)
        except socket.timeout:
            fail("no answer to a ClientHello with its cookie")
        kind = handshake_type(reply)
        if kind == 2:
            passed += 1
        elif kind == 3:
            rehello += 1
        else:
            fail(f"unexpected answer {reply[:16].hex()}")
        s.close()
    print(f"moved-group passed={passed} rehello={rehello}")
    if passed != clients:
        sys.exit(1)


main()

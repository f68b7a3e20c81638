#!/usr/bin/env python3
"""Checks `sdtls client --verbose` against the datagrams that went over the
wire, for tests/cli/verbose.sh.

    records.py RELAY_LOG CLIENT_STDERR LEVEL

RELAY_LOG is udp_peer.py's relay log ("dropped|c2s|s2c LEN HEX", in order).
At LEVEL 1 the client's datagram lines ("* <ms> ms >|< <len> bytes...")
up to its "handshake done" line must be the first datagrams it sent
(dropped or relayed) and received, in order and size, with no record line.
At LEVEL 2 every datagram line must be there, each followed by one record
line per DTLS record in it, as this file reads the relayed bytes on its own
(RFC 6347 4.1 and 4.2.2, RFC 9147 4). Exits 1 with a message on a mismatch.
"""
import re
import sys

CONTENT = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data",
           25: "tls12_cid", 26: "ack"}
HANDSHAKE = {1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 4: "NewSessionTicket",
             11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
             14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange",
             20: "Finished"}
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
VERSIONS = {0xfeff: "DTLS 1.0", 0xfefd: "DTLS 1.2"}


def fail(message):
    print(f"records.py: {message}", file=sys.stderr)
    sys.exit(1)


def expected_records(data):
    """The record lines (after "record ") the tool should print for a
    datagram; None for a part that only the tool's own reading can say (an
    alert's name), where the line's start is compared."""
    lines = []
    while data:
        if data[0] & 0xE0 == 0x20:
            flags = data[0]
            if flags & 0x10:
                lines.append((f"DTLS 1.3 ciphertext, epoch {flags & 3} (low bits), with a "
                              "connection ID", False))
                break
            header = 1 + (2 if flags & 0x08 else 1) + (2 if flags & 0x04 else 0)
            body = int.from_bytes(data[header - 2:header], "big") if flags & 0x04 \
                else len(data) - header
            lines.append((f"DTLS 1.3 ciphertext, epoch {flags & 3} (low bits), length {body}, "
                          "content type encrypted", True))
            data = data[header + body:]
            continue
        ctype, version = data[0], int.from_bytes(data[1:3], "big")
        epoch, seq = int.from_bytes(data[3:5], "big"), int.from_bytes(data[5:11], "big")
        length = int.from_bytes(data[11:13], "big")
        body = data[13:13 + length]
        if len(body) != length:
            fail(f"a truncated record on the wire: {data.hex()}")
        line = (f"{CONTENT.get(ctype, 'unknown')}({ctype}) {VERSIONS.get(version, 'DTLS ?')} "
                f"epoch {epoch} seq {seq}, length {length}")
        exact = True
        if epoch == 0 and ctype == 22:
            parts = []
            while body:
                mtype, mlen = body[0], int.from_bytes(body[1:4], "big")
                mseq = int.from_bytes(body[4:6], "big")
                offset, flen = int.from_bytes(body[6:9], "big"), int.from_bytes(body[9:12], "big")
                name = HANDSHAKE.get(mtype)
                if name is None:
                    exact = False
                    break
                if mtype == 2 and offset == 0 and body[14:46] == HRR_RANDOM:
                    name = "HelloRetryRequest"
                if offset == 0 and flen == mlen:
                    parts.append(f"{name}({mtype}) message {mseq}, length {mlen}")
                else:
                    parts.append(f"{name}({mtype}) message {mseq}, bytes {offset}-{offset + flen}"
                                 f" of {mlen}")
                body = body[12 + flen:]
            line += ": " + "; ".join(parts)
        elif epoch == 0 and ctype == 21:
            exact = False  # the alert's name: the tool's table
        elif ctype != 20:
            line += ": encrypted"
        lines.append((line, exact))
        data = data[13 + length:]
    return lines


def main():
    relay_log, client_err, level = sys.argv[1], sys.argv[2], int(sys.argv[3])
    wire = {">": [], "<": []}
    for entry in open(relay_log):
        kind, length, hexdata = entry.split()
        data = bytes.fromhex(hexdata)
        if len(data) != int(length):
            fail(f"relay log: {entry}")
        wire["<" if kind == "s2c" else ">"].append(data)

    datagram = re.compile(r"^\* ([0-9]+\.[0-9]) ms ([<>]) ([0-9]+) bytes( \(timer\))?: (.+)$")
    record = re.compile(r"^\*   ([<>]) record (.*)$")
    seen = {">": 0, "<": 0}
    pending = []  # record lines still expected after the last datagram line
    done = False
    for text in open(client_err).read().splitlines():
        m = datagram.match(text)
        r = record.match(text)
        if r:
            if level < 2:
                fail(f"a record line at level {level}: {text}")
            if not pending:
                fail(f"a record line too many: {text}")
            want, exact = pending.pop(0)
            got = r.group(2)
            if r.group(1) != direction or (got != want if exact else not got.startswith(want)):
                fail(f"record line\n  {text}\nexpected\n  *   {direction} record {want}")
            continue
        if pending:
            fail(f"record lines missing before '{text}': {pending}")
        if text.startswith("* handshake done in "):
            done = True
        if not m:
            continue
        if done and level < 2:
            fail(f"a datagram line after the handshake at level 1: {text}")
        direction, size = m.group(2), int(m.group(3))
        n = seen[direction]
        if n >= len(wire[direction]):
            fail(f"more datagrams '{direction}' than went over the wire: {text}")
        data = wire[direction][n]
        seen[direction] += 1
        if size != len(data):
            fail(f"datagram {n} '{direction}': the tool says {size} bytes, the wire "
                 f"{len(data)}: {text}")
        if level == 2:
            pending = expected_records(data)
    if pending:
        fail(f"record lines missing at the end: {pending}")
    if not done:
        fail("no 'handshake done' line")
    if level == 2 and seen[">"] != len(wire[">"]):
        fail(f"the client traced {seen['>']} datagrams sent, the wire carried {len(wire['>'])}")
    print(f"{seen['>']} datagrams sent, {seen['<']} received match the wire")


main()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Bursts of real ClientHellos from distinct ports, for tests/cli/burst.sh.

    burst.py SERVER_PORT CLIENT_HELLO_HEX TOTAL BURST [SERVER_PID]

Sends CLIENT_HELLO_HEX (a DTLS 1.2 ClientHello without a cookie) to
127.0.0.1:SERVER_PORT once from each of TOTAL sockets (distinct ports), in
bursts of BURST sent back to back, each once the one before is answered
(or 1 s passed without an answer), and counts the HelloVerifyRequests that
come back (waiting until 3 s pass without one at the end). With SERVER_PID, the server is stopped (SIGSTOP) while each burst is
sent and continued (SIGCONT) after it: a burst that arrives while the
server has no CPU (a loaded host) must fit its socket's receive buffer
whole, whatever the speed of this script. Prints "sent=N answered=N rcvbuf_errors=N" (the rise of RcvbufErrors
in /proc/net/snmp over the run: datagrams the kernel dropped because a
socket's receive buffer was full).
"""
import os
import resource
import selectors
import signal
import socket
import sys
import time


def rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def main():
    port, hello_hex, total, burst = sys.argv[1:5]
    server_pid = int(sys.argv[5]) if len(sys.argv) > 5 else None
    server, hello = ("127.0.0.1", int(port)), bytes.fromhex(hello_hex)
    total, burst = int(total), int(burst)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < total + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, total + 64), hard))
    socks = []
    for _ in range(total):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    answered = set()

    def collect(timeout):
        got = 0
        for key, _ in sel.select(timeout):
            s = key.fileobj
            try:
                while True:
                    reply = s.recv(65536)
                    if len(reply) > 13 and reply[0] == 22 and reply[13] == 3:
                        if s not in answered:
                            answered.add(s)
                            got += 1
            except BlockingIOError:
                pass
        return got

    before = rcvbuf_errors()
    for start in range(0, total, burst):
        if server_pid is not None:
            os.kill(server_pid, signal.SIGSTOP)
        try:
            for s in socks[start:start + burst]:
                s.sendto(hello, server)
        finally:
            if server_pid is not None:
                os.kill(server_pid, signal.SIGCONT)
        # The next burst once this one is answered (or 1 s brings no more
        # answers): each burst meets an empty buffer, whatever the load.
        last = time.monotonic()
        while len(answered) < min(start + burst, total) and time.monotonic() - last < 1:
            if collect(0.05) > 0:
                last = time.monotonic()
    last = time.monotonic()
    while len(answered) < total and time.monotonic() - last < 3:
        if collect(0.2) > 0:
            last = time.monotonic()
    print(f"sent={total} answered={len(answered)} rcvbuf_errors={rcvbuf_errors() - before}")


main()

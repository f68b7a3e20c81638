#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""UDP peers for tests/cli/network.sh and shared_secrets.sh, on 127.0.0.1 (a
free port).

    udp_peer.py silent PORT_FILE LOG
        Binds and never answers (so no ICMP port unreachable either); writes
        "got LEN" to LOG per datagram.
    udp_peer.py relay PORT_FILE LOG SERVER_PORT DROP_SECONDS
        Drops what the first client sends during DROP_SECONDS from its first
        datagram ("dropped LEN HEX" in LOG), then relays it to
        127.0.0.1:SERVER_PORT and the server's answers back ("c2s LEN HEX" /
        "s2c LEN HEX"; HEX is the datagram).
    udp_peer.py switch PORT_FILE LOG SERVER_A_PORT SERVER_B_PORT
        Relays the first client to 127.0.0.1:SERVER_A_PORT until A has
        answered with a HelloVerifyRequest, then to SERVER_B_PORT, from one
        upstream socket (so both servers see one client address): the
        cookie-bearing ClientHello lands on B, as a load balancer that
        changed its mapping would send it. Logs "c2s A|B LEN" and
        "s2c A|B LEN".

The port goes to PORT_FILE (written whole, then renamed). Exits after 60 s.
"""
import os
import select
import socket
import sys
import time


def main():
    mode, port_file, log_path = sys.argv[1:4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    upstream = None
    if mode == "relay":
        server_port, drop_seconds = int(sys.argv[4]), float(sys.argv[5])
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        upstream.connect(("127.0.0.1", server_port))
    elif mode == "switch":
        targets = {"A": ("127.0.0.1", int(sys.argv[4])), "B": ("127.0.0.1", int(sys.argv[5]))}
        names = {addr: name for name, addr in targets.items()}
        target = "A"
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        upstream.bind(("127.0.0.1", 0))
    elif mode != "silent":
        sys.exit(f"unknown mode {mode}")
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{sock.getsockname()[1]}\n")
    os.rename(port_file + ".tmp", port_file)
    log = open(log_path, "w", buffering=1)
    client, first_at = None, None
    end = time.monotonic() + 60
    while time.monotonic() < end:
        socks = [sock] + ([upstream] if upstream else [])
        ready, _, _ = select.select(socks, [], [], 1)
        for s in ready:
            try:
                data, addr = s.recvfrom(65536)
            except OSError as e:  # e.g. ECONNREFUSED from the upstream
                log.write(f"error {e.errno}\n")
                continue
            if s is sock:
                if mode == "silent":
                    log.write(f"got {len(data)}\n")
                    continue
                if client is None:
                    client, first_at = addr, time.monotonic()
                if addr != client:
                    continue
                if mode == "switch":
                    log.write(f"c2s {target} {len(data)}\n")
                    upstream.sendto(data, targets[target])
                elif time.monotonic() - first_at < drop_seconds:
                    log.write(f"dropped {len(data)} {data.hex()}\n")
                else:
                    log.write(f"c2s {len(data)} {data.hex()}\n")
                    upstream.send(data)
            elif client is not None and mode == "switch":
                name = names.get(addr, "?")
                log.write(f"s2c {name} {len(data)}\n")
                # A HelloVerifyRequest: a handshake record (22) whose first
                # message is of type 3.
                if name == "A" and len(data) > 13 and data[0] == 22 and data[13] == 3:
                    target = "B"
                sock.sendto(data, client)
            elif client is not None:
                log.write(f"s2c {len(data)} {data.hex()}\n")
                sock.sendto(data, client)


main()

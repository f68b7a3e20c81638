#!/usr/bin/env python3
"""UDP peers for tests/cli/network.sh, on 127.0.0.1 (a free port).

    udp_peer.py silent PORT_FILE LOG
        Binds and never answers (so no ICMP port unreachable either); writes
        "got LEN" to LOG per datagram.
    udp_peer.py relay PORT_FILE LOG SERVER_PORT DROP_SECONDS
        Drops what the first client sends during DROP_SECONDS from its first
        datagram ("dropped LEN HEX" in LOG), then relays it to
        127.0.0.1:SERVER_PORT and the server's answers back ("c2s LEN HEX" /
        "s2c LEN HEX"; HEX is the datagram).

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
                if time.monotonic() - first_at < drop_seconds:
                    log.write(f"dropped {len(data)} {data.hex()}\n")
                else:
                    log.write(f"c2s {len(data)} {data.hex()}\n")
                    upstream.send(data)
            elif client is not None:
                log.write(f"s2c {len(data)} {data.hex()}\n")
                sock.sendto(data, client)


main()

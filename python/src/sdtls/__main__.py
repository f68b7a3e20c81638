"""``python -m sdtls client|server|cert``: the C tool's commands, in Python.

    python -m sdtls cert   --cert FILE --key FILE [--cn NAME] [--days N]
    python -m sdtls server --listen HOST:PORT --cert FILE --key FILE [--ca FILE --require-client-cert]
                           [--echo] [--mtu N] [--keylog FILE] [--no-cookies] [--max-peers N]
                           [--idle-timeout SEC]
    python -m sdtls client HOST:PORT [--ca FILE | --insecure] [--cert FILE --key FILE]
                           [--server-name NAME] [--mtu N] [--timeout SEC] [--handshake-timeout SEC]
                           [--export LABEL:LEN]

Exit status: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Optional, Sequence, TextIO

from . import Config, ConnectionClosed, Error, aio, fingerprint, generate_certificate, __version__, engine_version


def _split_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _say(*parts: Any, file: TextIO = sys.stderr) -> None:
    print(*parts, file=file, flush=True)


def _session(prefix: str, conn: Any) -> str:
    return f"{prefix} {conn.version} {conn.cipher} peer sha-256 {conn.peer_fingerprint or '-'}"


def _keylog_writer(path: Optional[str]) -> Any:
    if path is None:
        return None
    f = open(path, "a", buffering=1)
    return lambda line: f.write(line + "\n")


def cmd_cert(a: argparse.Namespace) -> int:
    cert, key = generate_certificate(a.cn, a.days)
    with open(a.key, "wb") as f:
        f.write(key)
    with open(a.cert, "wb") as f:
        f.write(cert)
    _say(f"sha-256 {fingerprint(cert)}", file=sys.stdout)
    return 0


async def _stdin_lines() -> Any:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.buffer.readline)
        if not line:
            return
        yield line.rstrip(b"\n")


async def cmd_client(a: argparse.Namespace) -> int:
    host, port = a.target
    cfg = Config(mtu=a.mtu, handshake_timeout=a.handshake_timeout, keylog=_keylog_writer(a.keylog),
                 verify=not a.insecure)
    if a.insecure:
        pass
    elif a.ca:
        cfg.load_verify_locations(cafile=a.ca)
    else:
        cfg.load_default_certs()
    if a.cert:
        cfg.load_cert_chain(a.cert, a.key)
    try:
        client = await aio.connect(host, port, cfg, server_name=a.server_name, timeout=a.handshake_timeout)
    except ConnectionRefusedError:
        _say(f"handshake with {host}:{port} failed: connection refused")
        return 1
    except Error as e:
        _say(f"handshake with {host}:{port} failed: {e}")
        return 1
    _say(_session("connected", client.connection))
    if a.export:
        label, _, n = a.export.rpartition(":")
        key = client.connection.export_keying_material(label, int(n))
        _say(f"EXPORT {label} {key.hex()}", file=sys.stdout)

    async def printer() -> None:
        async for data in client:
            sys.stdout.buffer.write(data + b"\n")
            sys.stdout.flush()
        _say("closed by peer")

    reader = asyncio.ensure_future(printer())
    status = 0
    try:
        async for line in _stdin_lines():
            if reader.done():
                break
            try:
                client.send(line)
            except Error as e:
                _say(f"line not sent: {e}")
        try:
            await asyncio.wait_for(asyncio.shield(reader), a.timeout)
        except asyncio.TimeoutError:
            pass
    except Error as e:
        _say(f"connection with {host}:{port} failed: {e}")
        status = 1
    finally:
        reader.cancel()
        client.close()
    return status


async def cmd_server(a: argparse.Namespace) -> int:
    host, port = a.listen
    cfg = Config(certificate=a.cert, private_key=a.key, mtu=a.mtu, keylog=_keylog_writer(a.keylog),
                 cookies=False if a.no_cookies else None, max_peers=a.max_peers, idle_timeout=a.idle_timeout,
                 require_client_certificate=a.require_client_cert or None, cafile=a.ca)
    latest: list[aio.ServerConnection] = []

    async def handler(peer: aio.ServerConnection) -> None:
        name = f"{peer.address[0]}:{peer.address[1]}"
        _say(_session(f"accepted {name}", peer.connection))
        latest[:] = [peer]
        try:
            while True:
                data = await peer.recv()
                latest[:] = [peer]
                if a.echo:
                    peer.send(data)
                else:
                    sys.stdout.buffer.write(data + b"\n")
                    sys.stdout.flush()
        except ConnectionClosed:
            _say(f"closed {name}")
        except Error as e:
            _say(f"failed {name} {e}")

    server = await aio.serve(handler, host, port, cfg)
    addr = server.address
    _say(f"listening {addr[0]}:{addr[1]}" if ":" not in addr[0] else f"listening [{addr[0]}]:{addr[1]}")
    try:
        if a.echo:
            await server.serve_forever()
        else:
            async for line in _stdin_lines():
                if not latest or not latest[0].connection.alive:
                    _say("no connected peer: line not sent")
                    continue
                try:
                    latest[0].send(line)
                except Error as e:
                    _say(f"send failed: {e}")
    finally:
        server.close()
        await server.wait_closed()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sdtls", description="DTLS client, server and certificates.")
    p.add_argument("--version", action="version", version=f"sdtls {engine_version} (python {__version__})")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("cert", help="make a self-signed ECDSA P-256 certificate and key")
    c.add_argument("--cert", required=True)
    c.add_argument("--key", required=True)
    c.add_argument("--cn", default="localhost")
    c.add_argument("--days", type=int, default=365)

    s = sub.add_parser("server", help="serve DTLS clients on a UDP port")
    s.add_argument("--listen", required=True, type=_split_hostport, metavar="HOST:PORT")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--ca")
    s.add_argument("--require-client-cert", action="store_true")
    s.add_argument("--echo", action="store_true")
    s.add_argument("--mtu", type=int)
    s.add_argument("--keylog")
    s.add_argument("--no-cookies", action="store_true")
    s.add_argument("--max-peers", type=int)
    s.add_argument("--idle-timeout", type=float, metavar="SEC")

    k = sub.add_parser("client", help="connect to a DTLS server; stdin lines go out as datagrams")
    k.add_argument("target", type=_split_hostport, metavar="HOST:PORT")
    g = k.add_mutually_exclusive_group()
    g.add_argument("--ca")
    g.add_argument("--insecure", action="store_true")
    k.add_argument("--cert")
    k.add_argument("--key")
    k.add_argument("--server-name")
    k.add_argument("--mtu", type=int)
    k.add_argument("--timeout", type=float, default=1.0, metavar="SEC")
    k.add_argument("--handshake-timeout", type=float, default=30.0, metavar="SEC")
    k.add_argument("--export", metavar="LABEL:LEN")
    k.add_argument("--keylog")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parser().parse_args(argv)
    if getattr(a, "cert", None) and not getattr(a, "key", None) and a.command == "client":
        parser().error("--cert needs --key")
    try:
        if a.command == "cert":
            return cmd_cert(a)
        if a.command == "client":
            return asyncio.run(cmd_client(a))
        return asyncio.run(cmd_server(a))
    except Error as e:
        _say(f"sdtls: {e}")
        return 1
    except OSError as e:
        _say(f"sdtls: {e}")
        return 1
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())

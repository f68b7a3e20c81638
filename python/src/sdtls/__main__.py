"""``python -m sdtls client|server|cert``: the C tool's commands, in Python.

    python -m sdtls cert   --cert FILE --key FILE [--cn NAME] [--days N]
    python -m sdtls server --listen HOST:PORT (--cert FILE --key FILE | --psk-identity ID --psk HEX)
                           [--ca FILE --require-client-cert | --fingerprint sha-256:AA:...]...
                           [--psk-identity ID --psk HEX [--psk-hint HINT]] [--srtp PROFILES]
                           [--alpn LIST] [--groups LIST] [--ticket-secret-file FILE] [--export LABEL:LEN]
                           [--echo] [--mtu N] [--keylog FILE] [--no-cookies] [--max-peers N]
                           [--idle-timeout SEC]
    python -m sdtls client HOST:PORT [--ca FILE | --insecure | --fingerprint sha-256:AA:...]...
                           [--psk-identity ID --psk HEX] [--cert FILE --key FILE] [--server-name NAME]
                           [--srtp PROFILES] [--alpn LIST] [--groups LIST] [--session FILE] [--mtu N]
                           [--timeout SEC] [--handshake-timeout SEC] [--export LABEL:LEN]

The summary lines on stderr are the C tool's:
    connected <version> <cipher> [<group>] [peer sha-256 <fp>] [psk <id>] [srtp <profile>] [alpn <proto>] [resumed|full]
    accepted <peer> <version> <cipher> [<group>] [peer sha-256 <fp>] [psk <id>] [srtp <profile>] [alpn <proto>] [resumed]
(full/resumed on the client with --session).

Exit status: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import stat
import sys
import tempfile
from typing import Any, Optional, Sequence, TextIO

from . import (Config, ConnectionClosed, Error, UsageError, aio, fingerprint, generate_certificate, __version__,
               engine_version)


def _split_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _say(*parts: Any, file: TextIO = sys.stderr) -> None:
    print(*parts, file=file, flush=True)


def _session(prefix: str, conn: Any, session_file: bool = False) -> str:
    parts = [prefix, conn.version, conn.cipher]
    if conn.group is not None:
        parts.append(conn.group)
    if conn.peer_fingerprint:
        parts += ["peer sha-256", conn.peer_fingerprint]
    if conn.psk_identity is not None:
        parts += ["psk", conn.psk_identity]
    if conn.srtp_profile is not None:
        parts += ["srtp", conn.srtp_profile.name]
    if conn.alpn is not None:
        parts += ["alpn", conn.alpn]
    if conn.session_resumed:
        parts.append("resumed")
    elif session_file:
        parts.append("full")
    return " ".join(parts)


def _psk(text: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if not 1 <= len(key) <= 64:
        raise argparse.ArgumentTypeError("--psk wants the key in hex, 1 to 64 bytes")
    return key


def _export_spec(text: str) -> tuple[str, int]:
    label, _, n = text.rpartition(":")
    if not label or not n.isdigit() or not 1 <= int(n) <= 1024:
        raise argparse.ArgumentTypeError("--export wants LABEL:LEN with LEN from 1 to 1024")
    return label, int(n)


def _print_export(spec: Optional[tuple[str, int]], conn: Any) -> None:
    if spec is not None:
        label, n = spec
        _say(f"EXPORT {label} {conn.export_keying_material(label, n).hex()}", file=sys.stdout)


# ---- files of secrets and state ----
#
# As the C tool's (src/tool/files.c): no open can wait for a FIFO's other
# end (every open is non-blocking; O_NONBLOCK is cleared afterwards where
# waiting for data is wanted), the mode of a file the tool is given is
# never changed (a file created for a secret is created 0600; a device or
# FIFO is written as it is), and an existing regular file that group or
# others can read is refused rather than filled with secrets.

#: Largest certificate, key or CA file, as the C tool's (the library's limit).
_CREDENTIAL_MAX = 1 << 20
#: Largest --session file.
_SESSION_MAX = 65536


class FileRefused(Exception):
    """A file the tool cannot or will not use; the message names it."""


class _Missing(FileRefused):
    """The file to read does not exist."""


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def _read_small_file(path: str, what: str, limit: int, pipe_ok: bool = False) -> bytes:
    """The whole file, at most `limit` bytes: a regular file, or with
    `pipe_ok` a pipe or FIFO (``--key <(command)``). A FIFO with no writer
    reads as empty at once and is an error, not a wait."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise _Missing(f"{path}: cannot read the {what}: {os.strerror(errno.ENOENT)}") from None
    except OSError as e:
        raise FileRefused(f"{path}: cannot read the {what}: {e.strerror}") from None
    mode = os.fstat(fd).st_mode
    is_pipe = stat.S_ISFIFO(mode)
    if not stat.S_ISREG(mode) and not (is_pipe and pipe_ok):
        os.close(fd)
        raise FileRefused(f"{path}: the {what} is {_file_kind(mode)}, not a regular file"
                          + (" or a pipe" if pipe_ok else ""))
    # A pipe's writer may still be producing: wait for it.
    os.set_blocking(fd, True)
    chunks: list[bytes] = []
    size = 0
    with os.fdopen(fd, "rb", buffering=0) as f:
        try:
            while size <= limit:
                chunk = f.read(limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as e:
            raise FileRefused(f"{path}: cannot read the {what}: {e.strerror}") from None
    if size > limit:
        raise FileRefused(f"{path}: the {what} is larger than {limit} bytes")
    if is_pipe and size == 0:
        raise FileRefused(f"{path}: nothing to read from the {what} (a FIFO with no writer?)")
    return b"".join(chunks)


def _open_output(path: str, what: str, secret: bool, append: bool = False) -> int:
    """A blocking fd to write `path`, created if missing (0600 for a
    `secret`, else 0666 less the umask); a device or FIFO is written as it
    is and a FIFO with no reader is an error at once. A regular file is
    emptied unless `append`; for a `secret`, one that group or others can
    read is refused first, untouched."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags, 0o600 if secret else 0o666)  # no O_TRUNC: a refused file stays as it was
    except OSError as e:
        reason = e.strerror
        if e.errno == errno.ENXIO:
            try:
                if stat.S_ISFIFO(os.stat(path).st_mode):
                    reason = "a FIFO with no reader (start the reader first)"
            except OSError:
                pass
        raise FileRefused(f"{path}: cannot write the {what}: {reason}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):
            # Refused, not warned about: a warning would come after the
            # secrets were where group or others can read them, and a chmod
            # would change a mode the user may rely on. A file created just
            # now is 0600 and never lands here.
            if secret and st.st_mode & (stat.S_IRGRP | stat.S_IROTH):
                raise FileRefused(f"{path}: refusing to write the {what}: group or others can read it (mode "
                                  f"{stat.S_IMODE(st.st_mode):04o}); chmod 600 {path}, or name a new file")
            if not append:
                os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
    except OSError as e:
        os.close(fd)
        raise FileRefused(f"{path}: cannot write the {what}: {e.strerror}") from None
    except FileRefused:
        os.close(fd)
        raise
    return fd


def _write_output(path: str, what: str, data: bytes, secret: bool) -> None:
    fd = _open_output(path, what, secret)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as e:
        raise FileRefused(f"{path}: cannot write the {what}: {e.strerror}") from None


def _write_secret_file(path: str, what: str, data: bytes) -> None:
    """Replaces the regular file `path` with `data` atomically (a 0600
    temporary file beside it, renamed); an existing `path` that is not a
    regular file is refused: the rename would replace a device or FIFO, not
    write to it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):
        raise FileRefused(f"{path}: the {what} is {_file_kind(mode)}, not a regular file")
    directory, name = os.path.split(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=name + ".tmp", dir=directory or ".")  # mkstemp creates it 0600
    except OSError as e:
        raise FileRefused(f"{path}: cannot write the {what}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise FileRefused(f"{path}: cannot write the {what}: {e.strerror}") from None


def _common_config(a: argparse.Namespace, **kw: Any) -> Config:
    """The settings both commands share, as the C tool's config options."""
    return Config(mtu=a.mtu, keylog=_keylog_writer(a.keylog), srtp_profiles=a.srtp, alpn=a.alpn, groups=a.groups,
                  peer_fingerprints=a.fingerprint, psks={a.psk_identity: a.psk} if a.psk_identity else None, **kw)


def _credential(path: str, what: str) -> bytes:
    """A certificate, key or CA file's PEM, read here rather than by the
    library, so that a FIFO with no writer is an error, not a wait."""
    return _read_small_file(path, what, _CREDENTIAL_MAX, pipe_ok=True)


def _read_session(path: str) -> Optional[bytes]:
    """The session saved in `path`; None when there is none yet."""
    try:
        data = _read_small_file(path, "session file", _SESSION_MAX)
    except _Missing:
        return None
    if not data:
        _say(f"warning: {path} holds no session: not resuming")
        return None
    return data


def _keylog_writer(path: Optional[str]) -> Any:
    if path is None:
        return None
    # Anyone who reads a key log can decrypt the traffic. A FIFO that
    # another program reads, and /dev/null, are fine.
    f = os.fdopen(_open_output(path, "key log file", secret=True, append=True), "a", buffering=1)
    return lambda line: f.write(line + "\n")


def cmd_cert(a: argparse.Namespace) -> int:
    cert, key = generate_certificate(a.cn, a.days)
    # The key first: if its file is refused, nothing is written.
    _write_output(a.key, "key file", key, secret=True)
    _write_output(a.cert, "certificate file", cert, secret=False)
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
    pinned, psk = bool(a.fingerprint), a.psk_identity is not None
    # A PSK client offers only the PSK suite: the key is what authenticates the server.
    cfg = _common_config(a, handshake_timeout=a.handshake_timeout, verify=not a.insecure,
                         ciphers="ECDHE-PSK-CHACHA20-POLY1305" if psk else None)
    if a.insecure or pinned or psk:
        pass
    elif a.ca:
        cfg.load_verify_locations(cadata=_credential(a.ca, "CA file"))
    else:
        cfg.load_default_certs()
    if a.cert:
        cfg.load_cert_chain(_credential(a.cert, "certificate file"), _credential(a.key, "key file"))
    session = None
    if a.session:
        session = _read_session(a.session)
    try:
        try:
            client = await aio.connect(host, port, cfg, server_name=a.server_name, timeout=a.handshake_timeout,
                                       session=session)
        except UsageError as e:
            if session is None or "not a session" not in str(e):
                raise
            _say(f"warning: {a.session} holds no session: not resuming")
            client = await aio.connect(host, port, cfg, server_name=a.server_name, timeout=a.handshake_timeout)
    except ConnectionRefusedError:
        _say(f"handshake with {host}:{port} failed: connection refused")
        return 1
    except Error as e:
        _say(f"handshake with {host}:{port} failed: {e}")
        return 1
    _say(_session("connected", client.connection, bool(a.session)))
    _print_export(a.export, client.connection)

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
        if a.session:
            # Saved at the end, as the C tool does: DTLS 1.3 servers send
            # their tickets after the handshake.
            saved = client.connection.get_session()
            if saved is None:
                _say(f"warning: no session to save in {a.session}: the server issued no ticket")
            else:
                _write_secret_file(a.session, "session file", saved)
    except Error as e:
        _say(f"connection with {host}:{port} failed: {e}")
        status = 1
    finally:
        reader.cancel()
        client.close()
    return status


async def cmd_server(a: argparse.Namespace) -> int:
    host, port = a.listen
    ticket_secret = None
    if a.ticket_secret_file:
        ticket_secret = _read_small_file(a.ticket_secret_file, "ticket secret file", 64, pipe_ok=True)
        if len(ticket_secret) < 32:
            raise FileRefused(f"{a.ticket_secret_file}: a ticket secret file holds 32 to 64 bytes, "
                              f"not {len(ticket_secret)}")
    cfg = _common_config(a, certificate=_credential(a.cert, "certificate file") if a.cert else None,
                         private_key=_credential(a.key, "key file") if a.key else None,
                         cookies=False if a.no_cookies else None, max_peers=a.max_peers,
                         idle_timeout=a.idle_timeout, require_client_certificate=a.require_client_cert or None,
                         cadata=_credential(a.ca, "CA file") if a.ca else None, psk_identity_hint=a.psk_hint,
                         ticket_secret=ticket_secret)
    latest: list[aio.ServerConnection] = []

    async def handler(peer: aio.ServerConnection) -> None:
        name = f"{peer.address[0]}:{peer.address[1]}"
        _say(_session(f"accepted {name}", peer.connection))
        _print_export(a.export, peer.connection)
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

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--fingerprint", action="append", metavar="sha-256:AA:BB:...",
                       help="pin the peer's certificate (repeatable: any of them)")
        p.add_argument("--psk-identity", metavar="ID")
        p.add_argument("--psk", type=_psk, metavar="HEX", help="pre-shared key in hex, 1..64 bytes")
        p.add_argument("--srtp", metavar="PROFILES", help="DTLS-SRTP profiles joined by ':'")
        p.add_argument("--alpn", metavar="LIST", help="ALPN protocols joined by ','")
        p.add_argument("--groups", metavar="LIST", help="key exchange groups joined by ':'")
        p.add_argument("--export", type=_export_spec, metavar="LABEL:LEN")
        p.add_argument("--mtu", type=int)
        p.add_argument("--keylog")

    s = sub.add_parser("server", help="serve DTLS clients on a UDP port")
    s.add_argument("--listen", required=True, type=_split_hostport, metavar="HOST:PORT")
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--ca")
    s.add_argument("--require-client-cert", action="store_true")
    s.add_argument("--psk-hint", metavar="HINT")
    s.add_argument("--ticket-secret-file", metavar="FILE")
    s.add_argument("--echo", action="store_true")
    common(s)
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
    k.add_argument("--session", metavar="FILE", help="resume the session saved in FILE; save the new one there")
    k.add_argument("--timeout", type=float, default=1.0, metavar="SEC")
    k.add_argument("--handshake-timeout", type=float, default=30.0, metavar="SEC")
    common(k)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser()
    a = p.parse_args(argv)
    if a.command == "cert" and a.cert == a.key:
        p.error("--cert and --key must name different files")
    if a.command in ("client", "server"):
        if bool(a.cert) != bool(a.key):
            p.error("--cert and --key go together")
        if (a.psk_identity is None) != (a.psk is None):
            p.error("--psk-identity and --psk go together")
    if a.command == "client":
        if a.fingerprint and (a.ca or a.insecure):
            p.error("--fingerprint replaces --ca and --insecure")
        if a.psk and (a.ca or a.insecure or a.fingerprint or a.cert):
            p.error("--psk authenticates the server by the key: it excludes --ca, --insecure, --fingerprint and --cert")
    if a.command == "server":
        if not a.cert and a.psk is None:
            p.error("--listen and either --cert and --key or --psk-identity and --psk are required")
        if a.fingerprint and (not a.cert or a.ca or a.require_client_cert):
            p.error("--fingerprint needs --cert and --key, and replaces --ca and --require-client-cert")
        if a.psk_hint and a.psk is None:
            p.error("--psk-hint needs --psk-identity and --psk")
    try:
        if a.command == "cert":
            return cmd_cert(a)
        if a.command == "client":
            return asyncio.run(cmd_client(a))
        return asyncio.run(cmd_server(a))
    except (Error, FileRefused) as e:
        _say(f"sdtls: {e}")
        return 1
    except OSError as e:
        _say(f"sdtls: {e}")
        return 1
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: Apache-2.0
"""``python -m sdtls``: a DTLS echo server and client, as an example of the
Python API. The full command-line tool (PSK, SRTP, ALPN, sessions, the key
log...) is the C ``sdtls`` command; this is not a second one.

    python -m sdtls server [--listen HOST:PORT] [--cert FILE --key FILE]
    python -m sdtls client HOST:PORT [--ca FILE | --fingerprint FP | --insecure]
                           [--server-name NAME] [--timeout SEC]

The server (asyncio: :func:`sdtls.aio.serve`) echoes every datagram back to
its peer. Without ``--cert`` it makes a certificate for the run and prints
its fingerprint, for the client's ``--fingerprint``. On stderr it says
``listening HOST:PORT``, then ``accepted HOST:PORT VERSION CIPHER`` and
``closed HOST:PORT`` per peer.

The client (blocking: :func:`sdtls.connect`) sends each line of stdin as one
datagram (empty lines are skipped) and prints each reply; on stderr it says ``connected VERSION
CIPHER``. Exit status: 0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Optional, Sequence

import sdtls
import sdtls.aio

_DESCRIPTION = "A DTLS echo server and client: an example of the sdtls Python API (python/README.md)."
_EPILOG = ("This is an example, not the tool: the full command-line tool (PSK, SRTP, ALPN, sessions, "
           "the key log...) is the C 'sdtls' command (man sdtls).")


def _hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _say(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


async def _serve(args: argparse.Namespace) -> None:
    if args.cert is None:
        cert, key = sdtls.generate_certificate("localhost")
        _say("fingerprint", sdtls.Fingerprint.of_certificate(cert))
    else:
        cert, key = args.cert, args.key

    async def echo(peer: sdtls.aio.DTLSServerConnection) -> None:
        who = "%s:%d" % peer.address[:2]
        _say("accepted", who, peer.connection.version, peer.connection.cipher)
        try:
            async for data in peer:  # until the peer closes
                peer.send(data)
        finally:
            _say("closed", who)

    host, port = args.listen
    server = await sdtls.aio.serve(echo, host, port, sdtls.Config(certificate=cert, private_key=key))
    _say("listening %s:%d" % server.address[:2])
    await server.serve_forever()


def _client(args: argparse.Namespace) -> None:
    host, port = args.address
    config = sdtls.Config(cafile=args.ca, verify=not args.insecure)
    if args.ca is None and args.fingerprint is None and not args.insecure:
        config.load_default_certs()  # the system's CA certificates
    with sdtls.connect(host, port, config, server_name=args.server_name,
                       peer_fingerprints=args.fingerprint) as client:
        _say("connected", client.connection.version, client.connection.cipher)
        for line in sys.stdin.buffer:
            data = line.rstrip(b"\n")
            if not data:
                continue  # an empty send sends nothing: there would be no reply
            client.send(data)
            sys.stdout.buffer.write(client.recv(timeout=args.timeout) + b"\n")
            sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sdtls", description=_DESCRIPTION, epilog=_EPILOG)
    commands = p.add_subparsers(dest="command", required=True)
    s = commands.add_parser("server", help="echo every datagram back", epilog=_EPILOG)
    s.add_argument("--listen", type=_hostport, default=("127.0.0.1", 4433), metavar="HOST:PORT")
    s.add_argument("--cert", help="certificate (PEM); without it, one is made for the run")
    s.add_argument("--key", help="its private key (PEM)")
    c = commands.add_parser("client", help="send stdin's lines, print the replies", epilog=_EPILOG)
    c.add_argument("address", type=_hostport, metavar="HOST:PORT")
    trust = c.add_mutually_exclusive_group()
    trust.add_argument("--ca", help="trust the certificates in this file (PEM), not the system's")
    trust.add_argument("--fingerprint", metavar="FP", help="accept only the certificate with this fingerprint")
    trust.add_argument("--insecure", action="store_true", help="verify nothing (tests only)")
    c.add_argument("--server-name", help="the name the certificate must carry (default: HOST)")
    c.add_argument("--timeout", type=float, default=5.0, metavar="SEC", help="wait for each reply (default 5)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "server" and (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    try:
        if args.command == "server":
            asyncio.run(_serve(args))
        else:
            _client(args)
    except KeyboardInterrupt:
        pass
    except (sdtls.Error, OSError) as e:
        _say(f"failed: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: Apache-2.0
"""A DTLS exchange between the installed `sdtls` package (a release
artefact: the sdist built by pip, a wheel) and the C tool's server over
loopback, as a user of the artefact would run one. Checks that the package
says which engine it carries and that the defaults of that engine are what
the artefact promises: DTLS 1.3 and X25519MLKEM768 with the current engine.

Usage: python exchange.py TOOL ENGINE_SUBSTRING
Prints one line: the engine, version, cipher and group. Exit 0 on success."""
import re
import subprocess
import sys
import tempfile

import sdtls


def main() -> None:
    tool, want_engine = sys.argv[1], sys.argv[2]
    # The artefact names its engine; the release ones carry the current one.
    if want_engine not in sdtls.__engine__:
        sys.exit(f"sdtls.__engine__ is {sdtls.__engine__!r}, not the {want_engine!r} engine")
    if not sdtls.has_feature("dtls1_3"):
        sys.exit(f"{sdtls.__engine__}: no DTLS 1.3")
    cert, key = sdtls.generate_certificate("localhost")
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/c.pem", "wb") as f:
            f.write(cert)
        with open(f"{d}/k.pem", "wb") as f:
            f.write(key)
        p = subprocess.Popen([tool, "server", "--listen", "127.0.0.1:0", "--cert", f"{d}/c.pem",
                              "--key", f"{d}/k.pem", "--echo"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert p.stderr is not None
            line = p.stderr.readline().decode()
            m = re.search(r"listening 127\.0\.0\.1:(\d+)", line)
            if not m:
                sys.exit(f"the tool's server did not start: {line!r}")
            with sdtls.connect("127.0.0.1", int(m.group(1)), sdtls.Config(cadata=cert),
                               server_name="localhost", timeout=20) as c:
                c.send(b"release artefact")
                got = c.recv(timeout=10)
                # Every bytes-like object, not only bytes (the cp39-abi3
                # wheels borrow them without the buffer protocol), and
                # nothing else.
                for other in (bytearray(b"bytearray"), memoryview(b"[memoryview]")[1:-1]):
                    c.send(other)
                    if c.recv(timeout=10) != bytes(other):
                        sys.exit(f"echo of {type(other).__name__}: wrong bytes")
                try:
                    c.send([1, 2, 3])  # type: ignore[arg-type]
                    sys.exit("a list was sent as bytes")
                except TypeError:
                    pass
                version, group = c.connection.version, c.connection.group
                summary = f"{sdtls.__engine__}: {version} {c.connection.cipher} {group}"
            if got != b"release artefact":
                sys.exit(f"echo: {got!r}")
            # The defaults of the current engine: post-quantum DTLS 1.3.
            if version != "DTLSv1.3" or group != "X25519MLKEM768":
                sys.exit(f"not DTLS 1.3 with X25519MLKEM768 by default: {summary}")
            print(summary)
        finally:
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: Apache-2.0
"""``python -m sdtls``: the echo server and client of the example, run as a
user would, over loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Iterator

import pytest

from conftest import Certs
from test_interop import read_until, stop

Server = "tuple[subprocess.Popen[bytes], int, bytes]"


def run(*args: str, input: bytes = b"") -> "subprocess.CompletedProcess[bytes]":
    return subprocess.run([sys.executable, "-m", "sdtls", *args], input=input, capture_output=True, timeout=60)


def start_server(*args: str) -> "tuple[subprocess.Popen[bytes], int, bytes]":
    p = subprocess.Popen([sys.executable, "-m", "sdtls", "server", "--listen", "127.0.0.1:0", *args],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = read_until(p.stderr, rb"listening 127\.0\.0\.1:(\d+)\n")  # type: ignore[arg-type]
    return p, int(re.search(rb"listening 127\.0\.0\.1:(\d+)", out).group(1)), out  # type: ignore[union-attr]


@pytest.fixture
def made_up_server() -> Iterator["tuple[subprocess.Popen[bytes], int, bytes]"]:
    """A server with a certificate made for the run (it prints the fingerprint)."""
    p, port, out = start_server()
    try:
        yield p, port, out
    finally:
        stop(p)


@pytest.mark.parametrize("args", [["--help"], ["server", "--help"], ["client", "--help"]])
def test_help_says_the_full_tool_is_the_c_command(args: list[str]) -> None:
    r = run(*args)
    assert r.returncode == 0
    assert b"example" in r.stdout and b"the C 'sdtls' command" in r.stdout, r.stdout


def test_client_pins_the_fingerprint_the_server_printed(made_up_server: "tuple[subprocess.Popen[bytes], int, bytes]") -> None:
    p, port, out = made_up_server
    fp = re.search(rb"fingerprint (sha-256 [0-9A-F:]{95})\n", out)
    assert fp is not None, out
    r = run("client", f"127.0.0.1:{port}", "--fingerprint", fp.group(1).decode(), input=b"hello\n\nworld\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello\nworld\n"  # each line a datagram, echoed; the empty one skipped
    assert re.search(rb"^connected DTLSv1\.[23] \S+$", r.stderr, re.M), r.stderr
    log = read_until(p.stderr, rb"closed 127\.0\.0\.1:\d+\n")  # type: ignore[arg-type]
    assert re.search(rb"accepted 127\.0\.0\.1:\d+ DTLSv1\.[23] \S+\n", log), log


def test_client_refuses_another_certificate(made_up_server: "tuple[subprocess.Popen[bytes], int, bytes]") -> None:
    _, port, _ = made_up_server
    r = run("client", f"127.0.0.1:{port}", "--fingerprint", "sha-256 " + ":".join(["AB"] * 32), input=b"x\n")
    assert r.returncode == 1 and b"failed:" in r.stderr and b"fingerprint" in r.stderr, r.stderr
    assert r.stdout == b""


def test_server_certificate_files_and_the_client_ca(certs: Certs) -> None:
    p, port, out = start_server("--cert", str(certs.cert_file), "--key", str(certs.key_file))
    try:
        assert b"fingerprint" not in out  # its own certificate: nothing made up
        r = run("client", f"127.0.0.1:{port}", "--ca", str(certs.cert_file), "--server-name", "localhost",
                input=b"ping\n")
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"ping\n"
        r = run("client", f"127.0.0.1:{port}", "--ca", str(certs.cert_file), "--server-name", "other.example",
                input=b"ping\n")
        assert r.returncode == 1 and b"failed:" in r.stderr, r.stderr  # the name is checked
    finally:
        stop(p)


@pytest.mark.parametrize("args", [
    ["client"],                                            # no address
    ["client", "localhost"],                               # not HOST:PORT
    ["client", "127.0.0.1:1", "--ca", "x", "--insecure"],  # one way to trust
    ["server", "--cert", "c.pem"],                         # --key missing
    ["cert"],                                              # the C tool's command, not the example's
])
def test_usage_errors_exit_2(args: list[str]) -> None:
    r = run(*args)
    assert r.returncode == 2 and b"usage:" in r.stderr, r.stderr

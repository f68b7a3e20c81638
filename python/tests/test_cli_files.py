"""``python -m sdtls`` and the files it keeps secrets and state in, as the C
tool does (src/tool/files.c, tests/cli/files.sh): a secret file it creates
is 0600 whatever the umask, an existing one that group or others can read
is refused and left as it was, a device or FIFO keeps its mode, and a FIFO
with nobody at the other end is an error at once, not a wait."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional, Sequence

import pytest

import sdtls
from conftest import Certs, serve_in_thread

#: How long a refusal may take: a command that waits on a FIFO runs into it.
QUICK = 10


def run(args: Sequence[str], timeout: float = QUICK, input: bytes = b"",
        pass_fds: Sequence[int] = ()) -> "subprocess.CompletedProcess[bytes]":
    """``python -m sdtls ARGS`` with umask 022 (a file created with the
    default mode would be world-readable)."""
    return subprocess.run([sys.executable, "-m", "sdtls", *args], input=input, capture_output=True,
                          timeout=timeout, umask=0o022, pass_fds=pass_fds)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def refused(args: Sequence[str], message: str) -> None:
    """ARGS exits 1 within QUICK seconds, its stderr matching `message`."""
    try:
        r = run(args)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still waiting after {QUICK} s: {args}")
    assert r.returncode == 1, r.stderr
    assert re.search(message.encode(), r.stderr), r.stderr


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "nobody.fifo"
    os.mkfifo(path, 0o644)
    return path


# ---- cert --key ----

def test_cert_creates_the_key_0600(tmp_path: Path) -> None:
    r = run(["cert", "--cert", str(tmp_path / "c.pem"), "--key", str(tmp_path / "k.pem")])
    assert r.returncode == 0, r.stderr
    assert mode(tmp_path / "k.pem") == 0o600
    assert mode(tmp_path / "c.pem") == 0o644  # 0666 less the umask: no secret
    assert b"PRIVATE KEY" in (tmp_path / "k.pem").read_bytes()


def test_cert_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    key.write_bytes(b"old contents\n")
    key.chmod(0o644)
    refused(["cert", "--cert", str(tmp_path / "c.pem"), "--key", str(key)],
            r"k\.pem: refusing to write the key file: group or others can read it \(mode 0644\)")
    assert key.read_bytes() == b"old contents\n" and mode(key) == 0o644
    assert not (tmp_path / "c.pem").exists()  # the key first: nothing was written


def test_cert_replaces_a_private_key_file(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    key.write_bytes(b"x" * 4096)
    key.chmod(0o600)
    r = run(["cert", "--cert", str(tmp_path / "c.pem"), "--key", str(key)])
    assert r.returncode == 0, r.stderr
    data = key.read_bytes()
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n") and data.endswith(b"-----END PRIVATE KEY-----\n")
    assert len(data) < 4096 and mode(key) == 0o600  # emptied first: nothing of the old contents after it


def test_cert_key_to_a_fifo_keeps_its_mode(tmp_path: Path, fifo: Path) -> None:
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    r = run(["cert", "--cert", str(tmp_path / "c.pem"), "--key", str(fifo)])
    t.join(QUICK)
    assert r.returncode == 0, r.stderr
    assert got and got[0].startswith(b"-----BEGIN PRIVATE KEY-----")
    assert mode(fifo) == 0o644 and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_cert_key_to_a_fifo_with_no_reader(tmp_path: Path, fifo: Path) -> None:
    refused(["cert", "--cert", str(tmp_path / "c.pem"), "--key", str(fifo)],
            r"nobody\.fifo: cannot write the key file: a FIFO with no reader")


def test_cert_key_to_a_device_keeps_its_mode(tmp_path: Path) -> None:
    before = os.stat("/dev/null")
    r = run(["cert", "--cert", str(tmp_path / "c.pem"), "--key", "/dev/null"])
    assert r.returncode == 0, r.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_mode == before.st_mode


# ---- --keylog ----

def start_server(args: Sequence[str]) -> "subprocess.Popen[bytes]":
    return subprocess.Popen([sys.executable, "-m", "sdtls", "server", "--listen", "127.0.0.1:0", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            umask=0o022)


def listening(p: "subprocess.Popen[bytes]") -> int:
    """The port of a `start_server()` server, from its first line."""
    assert p.stderr is not None
    line = p.stderr.readline()  # the line comes at once, or the process ends (EOF)
    m = re.match(rb"listening 127\.0\.0\.1:(\d+)", line)
    assert m, line + p.stderr.read()
    return int(m.group(1))


def stop(p: "subprocess.Popen[bytes]") -> None:
    p.kill()
    p.wait(QUICK)
    if p.stderr is not None:
        p.stderr.close()


def test_keylog_is_created_0600(certs: Certs, tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    p = start_server(["--cert", str(certs.cert_file), "--key", str(certs.key_file), "--keylog", str(keylog)])
    try:
        listening(p)
        assert mode(keylog) == 0o600
    finally:
        stop(p)


def test_keylog_others_can_read_is_refused(certs: Certs, tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    keylog.write_bytes(b"CLIENT_RANDOM old\n")
    keylog.chmod(0o644)
    refused(["server", "--listen", "127.0.0.1:0", "--cert", str(certs.cert_file), "--key", str(certs.key_file),
             "--keylog", str(keylog)], r"keys\.log: refusing to write the key log file: group or others can read")
    assert keylog.read_bytes() == b"CLIENT_RANDOM old\n" and mode(keylog) == 0o644


def test_keylog_fifo_with_no_reader(certs: Certs, fifo: Path) -> None:
    refused(["server", "--listen", "127.0.0.1:0", "--cert", str(certs.cert_file), "--key", str(certs.key_file),
             "--keylog", str(fifo)], r"nobody\.fifo: cannot write the key log file: a FIFO with no reader")
    assert mode(fifo) == 0o644


# ---- files read: FIFOs with no writer, directories, pipes ----

def test_ticket_secret_fifo_with_no_writer(certs: Certs, fifo: Path) -> None:
    refused(["server", "--listen", "127.0.0.1:0", "--cert", str(certs.cert_file), "--key", str(certs.key_file),
             "--ticket-secret-file", str(fifo)], r"nobody\.fifo: nothing to read from the ticket secret file")


def test_key_fifo_with_no_writer(certs: Certs, fifo: Path) -> None:
    refused(["server", "--listen", "127.0.0.1:0", "--cert", str(certs.cert_file), "--key", str(fifo)],
            r"nobody\.fifo: nothing to read from the key file")


def test_ca_fifo_with_no_writer(fifo: Path) -> None:
    refused(["client", "127.0.0.1:9", "--ca", str(fifo)], r"nobody\.fifo: nothing to read from the CA file")


def test_session_fifo_is_refused(fifo: Path) -> None:
    refused(["client", "127.0.0.1:9", "--insecure", "--session", str(fifo)],
            r"nobody\.fifo: the session file is a FIFO, not a regular file")


def test_session_directory_is_refused(tmp_path: Path) -> None:
    refused(["client", "127.0.0.1:9", "--insecure", "--session", str(tmp_path)],
            r"the session file is a directory, not a regular file")


def test_ticket_secret_and_key_from_pipes(certs: Certs) -> None:
    """A pipe with a writer is read (``--key <(command)``)."""
    fds: list[int] = []
    paths: list[str] = []
    for data in (certs.key, os.urandom(48)):
        r, w = os.pipe()
        os.write(w, data)
        os.close(w)
        fds.append(r)
        paths.append(f"/dev/fd/{r}")
    try:
        p = subprocess.Popen([sys.executable, "-m", "sdtls", "server", "--listen", "127.0.0.1:0", "--cert",
                              str(certs.cert_file), "--key", paths[0], "--ticket-secret-file", paths[1]],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             pass_fds=fds)
    finally:
        for fd in fds:
            os.close(fd)
    try:
        listening(p)
    finally:
        stop(p)


def test_ticket_secret_too_short(certs: Certs, tmp_path: Path) -> None:
    secret = tmp_path / "ticket.key"
    secret.write_bytes(b"s" * 16)
    refused(["server", "--listen", "127.0.0.1:0", "--cert", str(certs.cert_file), "--key", str(certs.key_file),
             "--ticket-secret-file", str(secret)], r"ticket\.key: a ticket secret file holds 32 to 64 bytes, not 16")


# ---- --session: saved 0600, atomically ----

@pytest.mark.parametrize("existing", [None, 0o644])
def test_session_is_saved_0600(certs: Certs, server_config: sdtls.Config, tmp_path: Path,
                               existing: Optional[int]) -> None:
    """A new session file, and one that replaces a file others could read:
    the session is never written where they can read it."""
    session = tmp_path / "session.bin"
    if existing is not None:
        session.write_bytes(b"")
        session.chmod(existing)
    server = sdtls.DatagramServer(lambda conn, data: conn.send(data), "127.0.0.1", 0, server_config)
    stop_server = serve_in_thread(server)
    try:
        r = run(["client", f"127.0.0.1:{server.server_address[1]}", "--ca", str(certs.cert_file), "--server-name",
                 "localhost", "--timeout", "2", "--session", str(session)], timeout=30, input=b"ping\n")
    finally:
        stop_server()
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"ping\n"
    assert session.stat().st_size > 0, r.stderr
    assert mode(session) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["session.bin"]  # no temporary file left

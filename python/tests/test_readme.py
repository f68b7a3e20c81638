"""The examples of the Python guide (python/README.md) run as they are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_there_are_six() -> None:
    assert len(examples()) == 6


@pytest.mark.parametrize("n", range(6))
def test_example_runs(n: int, tmp_path: Path) -> None:
    code = examples()[n]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    expected = {0: "DatagramReceived(data=b'hello'", 1: "b'HELLO'", 2: "b'hello'",
                3: "SrtpKeying(profile=<SrtpProfile.SRTP_AEAD_AES_128_GCM: 7>, key_len=16, salt_len=12)",
                4: "resumed True", 5: "pinned True"}[n]
    assert expected in r.stdout


def test_webrtc_guide_runs(tmp_path: Path) -> None:
    """docs/webrtc.md's worked example runs as it is and prints what it says."""
    guide = Path(__file__).resolve().parents[2] / "docs" / "webrtc.md"
    (code,) = re.findall(r"```python\n(.*?)```", guide.read_text(), re.S)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "SRTP_AEAD_AES_128_GCM True" in r.stdout

# SPDX-License-Identifier: Apache-2.0
"""The built wheel: self-contained, abi3 where possible, installs in a clean venv.

SDTLS_WHEEL names the wheel to check (tests/run.sh builds it with
``pip wheel ./python``); without it the test is skipped, or fails under
SDTLS_TEST_STRICT=1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import need


@pytest.fixture(scope="module")
def wheel() -> Path:
    path = os.environ.get("SDTLS_WHEEL")
    need("a built wheel (SDTLS_WHEEL)", bool(path) and Path(str(path)).is_file())
    return Path(str(path))


def test_wheel_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "sdtls/py.typed" in names and "sdtls/_sdtls.py" in names and "sdtls/aio.py" in names
    ext = [n for n in names if n.startswith("sdtls/_sdtls_ext")]
    assert len(ext) == 1
    if sys.version_info >= (3, 11):
        assert ext[0].endswith(".abi3.so") and "-cp311-abi3-" in wheel.name
    assert not [n for n in names if "libsdtls" in n]


def test_wheel_carries_the_licences(wheel: Path) -> None:
    """PEP 639: License-Expression, and in dist-info/licenses sdtls's LICENSE and
    NOTICE and the licence texts of the engine compiled into the extension, from
    the tree the wheel was built with (SDTLS_ENGINE_DIR; python/run-tests.sh)."""
    root = Path(__file__).resolve().parents[2]
    zf = zipfile.ZipFile(wheel)
    dist_info = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
    licenses = f"{dist_info}/licenses/"
    fields = zf.read(f"{dist_info}/METADATA").decode().splitlines()
    assert "License-Expression: Apache-2.0" in fields
    assert {"License-File: LICENSE", "License-File: NOTICE"} <= set(fields)
    for name in ("LICENSE", "NOTICE"):
        assert zf.read(licenses + name) == (root / name).read_bytes(), name
    engine_dir = os.environ.get("SDTLS_ENGINE_DIR", "")
    need("the engine tree the wheel was built with (SDTLS_ENGINE_DIR)", Path(engine_dir, "LICENSE").is_file())
    engine = Path(engine_dir)
    carried = {n[len(licenses + "boringssl/"):] for n in zf.namelist() if n.startswith(licenses + "boringssl/")}
    assert "LICENSE" in carried
    if (engine / "third_party/fiat/LICENSE").is_file():
        assert "third_party/fiat/LICENSE" in carried
    for name in carried:
        assert zf.read(licenses + "boringssl/" + name) == (engine / name).read_bytes(), name


def test_extension_exports_only_its_init(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    ext = next((tmp_path / "sdtls").glob("_sdtls_ext*.so"))
    syms = subprocess.run(["nm", "-D", "--defined-only", str(ext)], capture_output=True, text=True, check=True)
    exported = [line.split()[-1] for line in syms.stdout.splitlines() if re.search(r" [TDBRV] ", line)]
    assert exported == ["PyInit__sdtls_ext"], exported
    needed = subprocess.run(["readelf", "-d", str(ext)], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"Shared library: \[(.+?)\]", needed)
    assert all(re.match(r"lib(c|m|pthread|dl|rt)\.so|ld-linux", lib) for lib in libs), libs


def test_auditwheel_show(wheel: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(wheel)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert re.search(r'consistent with the following platform tag: "manylinux_2_\d+_x86_64"', text), text
    assert "external shared libraries are required" not in text, text  # nothing to graft in


def test_installs_and_works_in_a_clean_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", str(wheel)], check=True, timeout=120)
    code = """
import ssl, sdtls, sdtls.aio
cert, key = sdtls.generate_certificate("localhost")
cli = sdtls.Connection(sdtls.Config(cadata=cert), "client", server_name="localhost")
srv = sdtls.Server(sdtls.Config(certificate=cert, private_key=key))
cli.start()
for _ in range(8):
    for d in cli.datagrams_to_send(): srv.receive_datagram(d, ("127.0.0.1", 1))
    for d, a in srv.datagrams_to_send(): cli.receive_datagram(d)
print(sdtls.__version__, cli.version, ssl.OPENSSL_VERSION.split()[0], sdtls.__file__)
"""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    version, proto, ossl, where = r.stdout.split()
    assert proto == "DTLSv1.2" and ossl == "OpenSSL" and where.startswith(str(venv))

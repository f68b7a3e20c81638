# SPDX-License-Identifier: Apache-2.0
"""The SWIG module: the header is there as it is, and the typemaps cover it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sdtls
import sdtls._sdtls as ll

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "abi" / "sdtls.h"
# The shared interface and the Python part of it (bindings/sdtls.i includes it).
INTERFACE = [ROOT / "bindings" / "sdtls.i", *sorted((ROOT / "bindings" / "python").glob("*.i"))]


def test_version_matches_the_c_library() -> None:
    number, text = ll.sdtls_version()
    assert sdtls.__version__ == text.split(" ")[0] == ll.SDTLS_VERSION_STRING
    assert number == ll.SDTLS_VERSION_NUMBER
    assert "BoringSSL" in sdtls.engine_version


def test_engine_names_the_tree_it_was_built_from() -> None:
    # "<tree> (<layout> layout)": the layout decides what the engine speaks.
    m = re.fullmatch(r"(\S+) \((android|upstream) layout\)", sdtls.__engine__)
    assert m, sdtls.__engine__
    assert (m.group(2) == "upstream") == sdtls.has_feature("dtls1_3")


def test_every_function_of_the_header_is_wrapped() -> None:
    names = re.findall(r"SDTLS_EXTERN[^;(]*?\b(sdtls_\w+)\s*\(", HEADER.read_text())
    assert len(names) > 40
    missing = [n for n in names if not hasattr(ll, n)]
    assert missing == []


def test_every_constant_of_the_header_is_wrapped() -> None:
    text = HEADER.read_text()
    names = set(re.findall(r"#define (SDTLS_(?:E_\w+|OK|DTLS1_\d|SRTP_\w+))\b", text))
    names |= set(re.findall(r"\b(SDTLS_(?:OPT|STATE|ROLE|CATEGORY|FEATURE|COUNTER)_\w+)\s*=", text))
    assert len(names) > 50
    assert [n for n in sorted(names) if not hasattr(ll, n)] == []


def test_every_pointer_length_pair_has_a_typemap() -> None:
    """SWIG matches multi-argument typemaps by parameter name: a function
    added to the header with a new (pointer, length) pair needs its names in
    the %apply list of bindings/sdtls.i, or Python would have to pass the length."""
    header = HEADER.read_text()
    pairs = set(re.findall(r"const (?:uint8_t|char) \*(\w+),\s*size_t (\w+)", header))
    text = "".join(p.read_text() for p in INTERFACE)
    applied = set(re.findall(r"\(const (?:uint8_t|char) \*(\w+), size_t (\w+)\)", text))
    assert pairs - applied == set()


def test_low_level_calls_work_with_buffers() -> None:
    cert, _ = sdtls.generate_certificate("x", 1)
    rc, digest = ll.sdtls_certificate_fingerprint_sha256(memoryview(bytearray(cert)))
    assert rc == 0 and len(digest) == 32
    rc, text = ll.sdtls_fingerprint_format(digest)
    assert rc == 0 and text == sdtls.fingerprint(cert)
    with pytest.raises(ValueError):
        ll.sdtls_fingerprint_format(b"short")
    with pytest.raises(TypeError):
        ll.sdtls_certificate_fingerprint_sha256("a str is not bytes")
    assert ll.sdtls_strerror(ll.SDTLS_E_ALERT)
    assert ll.sdtls_error_category(ll.SDTLS_E_VERIFY) == ll.SDTLS_CATEGORY_VERIFY


def test_features() -> None:
    assert sdtls.has_feature("dtls1_2")
    for name in ("srtp", "psk", "resumption", "alpn"):  # SDTLS_1.1
        assert sdtls.has_feature(name) == bool(ll.sdtls_has_feature(getattr(ll, "SDTLS_FEATURE_" + name.upper())))
    with pytest.raises(ValueError):
        sdtls.has_feature("telepathy")

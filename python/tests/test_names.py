# SPDX-License-Identifier: Apache-2.0
"""One name per concept: what the package exports, and the old names kept
for one release, each of which warns on use."""

from __future__ import annotations

import importlib

import pytest

import sdtls
import sdtls.aio

RENAMED = [
    ("sdtls", "DatagramServer", "DTLSServer"),
    ("sdtls", "HandshakeTimeout", "PeerTimeout"),
    ("sdtls.aio", "Client", "DTLSClient"),
    ("sdtls.aio", "ServerConnection", "DTLSServerConnection"),
]


def test_dir_shows_the_public_names_and_nothing_else() -> None:
    public = {n for n in dir(sdtls) if not n.startswith("_")}
    dunders = {n for n in sdtls.__all__ if n.startswith("__")}  # __version__, __engine__
    assert public - {"aio"} == set(sdtls.__all__) - dunders  # "annotations", "TYPE_CHECKING" ... would show here
    assert {n for n in dir(sdtls.aio) if not n.startswith("_") and n[0].isupper()} >= set(sdtls.aio.__all__) - {
        "connect", "serve", "create_server"}


@pytest.mark.parametrize("module, old, new", RENAMED)
def test_an_old_name_is_the_new_object_and_warns(module: str, old: str, new: str) -> None:
    mod = importlib.import_module(module)
    assert old not in dir(mod) and old not in mod.__all__  # not offered to new code
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is deprecated .* use {module}\.{new}"):
        assert getattr(mod, old) is getattr(mod, new)
    with pytest.warns(DeprecationWarning):
        exec(f"from {module} import {old}", {})


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        sdtls.Nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        sdtls.aio.Nope  # type: ignore[attr-defined]


def test_peer_timeout_is_the_timeout_category() -> None:
    """Handshake timeouts and idle evictions (SDTLS_CATEGORY_TIMEOUT) raise
    one class, caught by its old name too."""
    err = sdtls._errors.error_from_code(int(sdtls._sdtls.SDTLS_E_TIMEOUT))
    assert type(err) is sdtls.PeerTimeout and isinstance(err, sdtls.Error)
    with pytest.warns(DeprecationWarning):
        old = sdtls.HandshakeTimeout
    assert isinstance(err, old)

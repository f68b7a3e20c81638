# SPDX-License-Identifier: Apache-2.0
"""Config keywords, credentials, and the errors they raise."""

from __future__ import annotations

from pathlib import Path

import pytest

import sdtls
import sdtls._sdtls as ll
from conftest import Certs, make_link


def test_options_from_keywords(certs: Certs) -> None:
    cfg = sdtls.Config(mtu=1000, initial_timeout=0.25, handshake_timeout=5, verify=False,
                       require_client_certificate=True, cookies=False, max_peers=7, max_handshakes=3,
                       idle_timeout=60, cookie_lifetime=10, min_version="1.2", max_version="DTLSv1.2",
                       ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    get = cfg.get_option
    assert get(ll.SDTLS_OPT_MTU) == 1000
    assert get(ll.SDTLS_OPT_INITIAL_TIMEOUT_MS) == 250
    assert get(ll.SDTLS_OPT_HANDSHAKE_TIMEOUT_MS) == 5000
    assert get(ll.SDTLS_OPT_VERIFY_PEER) == 0
    assert get(ll.SDTLS_OPT_REQUIRE_CLIENT_CERT) == 1
    assert get(ll.SDTLS_OPT_COOKIES) == 0
    assert get(ll.SDTLS_OPT_MAX_PEERS) == 7
    assert get(ll.SDTLS_OPT_MAX_HANDSHAKES) == 3
    assert get(ll.SDTLS_OPT_IDLE_TIMEOUT_MS) == 60000
    assert get(ll.SDTLS_OPT_COOKIE_LIFETIME_MS) == 10000
    assert get(ll.SDTLS_OPT_MIN_VERSION) == ll.SDTLS_DTLS1_2
    assert get(ll.SDTLS_OPT_MAX_VERSION) == ll.SDTLS_DTLS1_2


def test_verify_is_on_by_default() -> None:
    assert sdtls.Config().get_option(ll.SDTLS_OPT_VERIFY_PEER) == 1


def test_credentials_from_files_and_pem(certs: Certs) -> None:
    for cert, key in ((certs.cert_file, certs.key_file), (str(certs.cert_file), str(certs.key_file)),
                      (certs.cert, certs.key), (certs.cert.decode(), certs.key.decode())):
        server = sdtls.Config(certificate=cert, private_key=key)
        for client in (sdtls.Config(cafile=certs.cert_file), sdtls.Config(cadata=certs.cert),
                       sdtls.Config(cadata=certs.cert.decode())):
            link = make_link(client, server)
            link.run(link.connected)


def test_ca_directory(certs: Certs, tmp_path: Path) -> None:
    import subprocess
    (tmp_path / "ca.pem").write_bytes(certs.cert)
    subprocess.run(["openssl", "rehash", str(tmp_path)], check=True, capture_output=True)
    link = make_link(sdtls.Config(capath=tmp_path), sdtls.Config(certificate=certs.cert, private_key=certs.key))
    link.run(link.connected)


def test_credential_errors(certs: Certs, other_certs: tuple[bytes, bytes], tmp_path: Path) -> None:
    with pytest.raises(sdtls.UsageError) as e:
        sdtls.Config(certificate=tmp_path / "missing.pem", private_key=certs.key_file)
    assert e.value.code == ll.SDTLS_E_FILE and "missing.pem" in str(e.value)
    with pytest.raises(sdtls.UsageError) as e:
        sdtls.Config(certificate=certs.cert, private_key=other_certs[1])
    assert e.value.code == ll.SDTLS_E_CREDENTIALS
    with pytest.raises(sdtls.UsageError) as e:
        sdtls.Config(cadata=b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert e.value.code == ll.SDTLS_E_CREDENTIALS
    with pytest.raises(sdtls.UsageError):
        sdtls.Config(certificate=certs.cert)  # no key
    with pytest.raises(sdtls.UsageError):
        sdtls.Config(mtu=10)
    with pytest.raises(sdtls.UsageError):
        sdtls.Config(min_version="1.0")
    with pytest.raises(sdtls.UsageError):
        sdtls.Config(ciphers="RC4-MD5")


def test_frozen_config_refuses_changes(client_config: sdtls.Config) -> None:
    sdtls.Connection(client_config, "client", server_name="localhost")
    with pytest.raises(sdtls.UsageError) as e:
        client_config.set_option(ll.SDTLS_OPT_MTU, 1000)
    assert e.value.code == ll.SDTLS_E_FROZEN


def test_server_needs_a_certificate(client_config: sdtls.Config) -> None:
    with pytest.raises(sdtls.UsageError) as e:
        sdtls.Server(client_config)
    assert e.value.code == ll.SDTLS_E_CREDENTIALS
    with pytest.raises(sdtls.UsageError):
        sdtls.Connection(sdtls.Config(), "server")


def test_generate_certificate_and_fingerprint(certs: Certs) -> None:
    cert, key = sdtls.generate_certificate("example.test", 2)
    assert cert.startswith(b"-----BEGIN CERTIFICATE-----") and b"PRIVATE KEY" in key
    fp = sdtls.fingerprint(cert)
    assert len(fp) == 95 and fp.count(":") == 31 and fp == fp.upper()
    assert sdtls.fingerprint(cert.decode()) == fp
    with pytest.raises(sdtls.UsageError):
        sdtls.generate_certificate("x", 0)
    with pytest.raises(sdtls.Error):
        sdtls.fingerprint(b"no certificate here")

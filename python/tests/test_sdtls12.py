# SPDX-License-Identifier: Apache-2.0
"""What came with the C ABI's SDTLS_1.2: fingerprints in sha-256, sha-384
and sha-512 and every text form, parsed and formatted by the C library
(sdtls.Fingerprint), and list setters that take each name as it is."""

from __future__ import annotations

import pytest

import sdtls
from conftest import Certs
from test_sdtls11 import connect, ended, fail


def test_every_form_parses_to_one_fingerprint(certs: Certs) -> None:
    fp = sdtls.Fingerprint.of_certificate(certs.cert)
    assert fp.hash == "sha-256" and len(fp.digest) == 32
    sdp = str(fp)
    assert sdp.startswith("sha-256 ") and sdp[8:] == fp.bare() == sdtls.fingerprint(certs.cert)
    for text in (sdp, fp.bare(), "sha-256:" + fp.bare(), sdp.lower(), "SHA-256 " + fp.bare().lower()):
        assert sdtls.Fingerprint.parse(text) == fp
    for h, n in (("sha-384", 48), ("sha-512", 64)):
        other = sdtls.Fingerprint.of_certificate(certs.cert, h)
        assert other.hash == h and len(other.digest) == n
        assert str(other).startswith(h + " ")
        assert sdtls.Fingerprint.parse(other.bare()) == other  # the hash from the length
        assert sdtls.Fingerprint.parse(str(other)) == other


def test_malformed_fingerprints_are_refused(certs: Certs) -> None:
    bare = sdtls.Fingerprint.of_certificate(certs.cert).bare()
    for bad in ("", "nonsense", "sha-256 AB:CD", "AB:CD", bare + ":", "sha-384 " + bare, " " + bare + "x"):
        with pytest.raises(sdtls.UsageError):
            sdtls.Fingerprint.parse(bad)
    with pytest.raises(sdtls.Error, match="unsupported|not supported"):
        sdtls.Fingerprint.parse("sha-1 " + ":".join(["AB"] * 20))
    with pytest.raises(sdtls.UsageError):
        sdtls.Fingerprint("sha-384", bytes(32))  # a sha-256 length
    with pytest.raises(sdtls.UsageError):
        sdtls.Fingerprint("md5", bytes(16))


@pytest.mark.parametrize("hash", ["sha-384", "sha-512"])
def test_pins_in_other_hashes(certs: Certs, other_certs: tuple[bytes, bytes], hash: str) -> None:
    server = sdtls.Config(certificate=certs.cert, private_key=certs.key)
    fp = sdtls.Fingerprint.of_certificate(certs.cert, hash)
    for pin in (fp, str(fp), fp.bare()):
        link = connect(sdtls.Config(peer_fingerprints=[pin]), server)
        assert link.a.peer_certificate_fingerprint(hash) == fp
        assert link.a.peer_fingerprint == sdtls.fingerprint(certs.cert)  # the deprecated form, as before
    other = sdtls.Fingerprint.of_certificate(other_certs[0], hash)
    link = fail(sdtls.Config(peer_fingerprints=other), server)
    ev = ended(link.a_events)
    assert ev is not None and isinstance(ev.error, sdtls.VerifyError)
    assert str(fp) in ev.error.detail and str(other) in ev.error.detail, ev.error.detail


def test_a_name_with_a_separator_is_refused_not_split() -> None:
    config = sdtls.Config()
    with pytest.raises(sdtls.UsageError):
        config.set_alpn(["a,b"])  # once two protocols, "a" and "b"
    for bad in (["coap", "a:b"], [""], ["x" * 256]):
        with pytest.raises(sdtls.UsageError):
            config.set_alpn(bad)
    config.set_alpn(["x" * 255])
    config.set_alpn("coap,webrtc")  # the joined form, as before
    with pytest.raises(sdtls.UsageError):
        config.set_groups(["X25519:P-256"])
    config.set_groups(["X25519", "P-256"])
    with pytest.raises(sdtls.UsageError):
        config.set_srtp_profiles(["SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"])
    config.set_srtp_profiles([sdtls.SrtpProfile.SRTP_AEAD_AES_128_GCM, "SRTP_AES128_CM_SHA1_80"])
    with pytest.raises(ValueError):
        config.set_alpn(["a\0b"])


def test_alpn_list_negotiates(certs: Certs) -> None:
    link = connect(sdtls.Config(cadata=certs.cert, alpn=["h3", "coap"]),
                   sdtls.Config(certificate=certs.cert, private_key=certs.key, alpn=["coap", "h3"]))
    assert link.a.alpn == "coap"

# SPDX-License-Identifier: Apache-2.0
"""Configuration, certificates and fingerprints."""

from __future__ import annotations

import enum
import os
import weakref
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from ._errors import UsageError, error_from_code
from ._low import c

#: A file name, or PEM data in memory (bytes; a str that holds a PEM block).
PathOrPem = Union[str, bytes, "os.PathLike[str]"]

_VERSIONS = {
    "1.2": int(c.SDTLS_DTLS1_2),
    "dtls1.2": int(c.SDTLS_DTLS1_2),
    "dtlsv1.2": int(c.SDTLS_DTLS1_2),
    "1.3": int(c.SDTLS_DTLS1_3),
    "dtls1.3": int(c.SDTLS_DTLS1_3),
    "dtlsv1.3": int(c.SDTLS_DTLS1_3),
}

# keyword -> (option, scale): seconds become milliseconds, bools 0/1.
_OPTIONS: dict[str, tuple[int, float]] = {
    "verify": (int(c.SDTLS_OPT_VERIFY_PEER), 1),
    "require_client_certificate": (int(c.SDTLS_OPT_REQUIRE_CLIENT_CERT), 1),
    "mtu": (int(c.SDTLS_OPT_MTU), 1),
    "initial_timeout": (int(c.SDTLS_OPT_INITIAL_TIMEOUT_MS), 1000),
    "handshake_timeout": (int(c.SDTLS_OPT_HANDSHAKE_TIMEOUT_MS), 1000),
    "cookies": (int(c.SDTLS_OPT_COOKIES), 1),
    "max_peers": (int(c.SDTLS_OPT_MAX_PEERS), 1),
    "max_handshakes": (int(c.SDTLS_OPT_MAX_HANDSHAKES), 1),
    "idle_timeout": (int(c.SDTLS_OPT_IDLE_TIMEOUT_MS), 1000),
    "cookie_lifetime": (int(c.SDTLS_OPT_COOKIE_LIFETIME_MS), 1000),
    "psk_allow_cbc": (int(c.SDTLS_OPT_PSK_ALLOW_CBC), 1),
    "session_tickets": (int(c.SDTLS_OPT_SESSION_TICKETS), 1),
}


class SrtpProfile(enum.IntEnum):
    """DTLS-SRTP protection profiles (RFC 5764): the value is the IANA number
    (libsrtp's ``srtp_profile_t``), the name the one the C library uses."""

    SRTP_AES128_CM_SHA1_80 = int(c.SDTLS_SRTP_AES128_CM_SHA1_80)
    SRTP_AES128_CM_SHA1_32 = int(c.SDTLS_SRTP_AES128_CM_SHA1_32)
    SRTP_AEAD_AES_128_GCM = int(c.SDTLS_SRTP_AEAD_AES_128_GCM)
    SRTP_AEAD_AES_256_GCM = int(c.SDTLS_SRTP_AEAD_AES_256_GCM)


def srtp_profile_name(profile: int) -> Optional[str]:
    """The name of an SRTP profile by its IANA number
    (``"SRTP_AES128_CM_SHA1_80"``), or None for one the library does not know."""
    name = c.sdtls_srtp_profile_name(int(profile))
    return None if name is None else str(name)


#: SRTP profiles: a list of names or :class:`SrtpProfile` values, or names
#: joined by ``":"``.
SrtpProfiles = Union[str, Sequence[Union[str, int]]]

#: Pre-shared keys: ``{identity: key}`` or ``[(identity, key), ...]``.
Psks = Union[Mapping[str, bytes], Iterable[tuple[str, bytes]]]

_HASHES = {
    "sha-256": int(c.SDTLS_HASH_SHA256),
    "sha-384": int(c.SDTLS_HASH_SHA384),
    "sha-512": int(c.SDTLS_HASH_SHA512),
}
_HASH_NAMES = {v: k for k, v in _HASHES.items()}


class Fingerprint:
    """A certificate fingerprint (RFC 8122): a hash (``"sha-256"``,
    ``"sha-384"`` or ``"sha-512"``) and the digest. ``str()`` gives SDP's
    form, ``"sha-256 AB:CD:..."``, the one form this package writes;
    :meth:`bare` gives ``"AB:CD:..."``. The C library parses and formats
    (``sdtls_fingerprint_parse``, ``sdtls_fingerprint_format_hash``)."""

    __slots__ = ("_hash", "_digest")

    def __init__(self, hash: str, digest: bytes) -> None:
        if hash not in _HASHES:
            raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), f"unknown hash {hash!r} (sha-256, sha-384, sha-512)")
        self._hash = hash
        self._digest = bytes(digest)
        str(self)  # the C formatter checks the length

    @classmethod
    def parse(cls, text: str) -> "Fingerprint":
        """Parses ``"sha-256 AB:..."``, ``"sha-256:AB:..."`` or a bare
        ``"AB:..."`` (the hash follows from the length), any case. Raises
        :class:`UsageError` (or the UNSUPPORTED error for sha-1, md5...)."""
        if not isinstance(text, str):
            raise TypeError(f"a fingerprint is a str, not {type(text).__name__}")
        rc, hash_id, digest = c.sdtls_fingerprint_parse(text)
        _check(int(rc), f"fingerprint {text!r}")
        return cls(_HASH_NAMES[int(hash_id)], bytes(digest))

    @classmethod
    def of_certificate(cls, certificate: Union[str, bytes], hash: str = "sha-256") -> "Fingerprint":
        """The fingerprint of a PEM certificate in ``hash``."""
        if hash not in _HASHES:
            raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), f"unknown hash {hash!r} (sha-256, sha-384, sha-512)")
        rc, digest = c.sdtls_certificate_fingerprint(_pem_bytes(certificate), _HASHES[hash])
        _check(int(rc), "no certificate in the PEM data")
        return cls(hash, bytes(digest))

    @property
    def hash(self) -> str:
        return self._hash

    @property
    def digest(self) -> bytes:
        return self._digest

    def _format(self, form: int) -> str:
        rc, text = c.sdtls_fingerprint_format_hash(_HASHES[self._hash], self._digest, form)
        _check(int(rc), f"a {self._hash} digest is not {len(self._digest)} bytes")
        return str(text)

    def __str__(self) -> str:
        return self._format(int(c.SDTLS_FINGERPRINT_SDP))

    def bare(self) -> str:
        """``"AB:CD:..."``, without the hash's name."""
        return self._format(int(c.SDTLS_FINGERPRINT_BARE))

    def __repr__(self) -> str:
        return f"Fingerprint.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self._hash == other._hash and self._digest == other._digest

    def __hash__(self) -> int:
        return hash((self._hash, self._digest))


#: A fingerprint: a :class:`Fingerprint`, or text in any form it parses.
FingerprintLike = Union[str, Fingerprint]


def _fingerprint_arg(fp: FingerprintLike) -> str:
    """The text the C pin functions take: a Fingerprint's SDP form; text as
    it is (the C library parses every form), without surrounding blanks as
    before SDTLS_1.2."""
    return str(fp) if isinstance(fp, Fingerprint) else fp.strip()


def _fingerprints(fps: Union[FingerprintLike, Iterable[FingerprintLike]]) -> list[FingerprintLike]:
    return [fps] if isinstance(fps, (str, Fingerprint)) else list(fps)


def _srtp_names(profiles: Sequence[Union[str, int]]) -> list[str]:
    names = []
    for p in profiles:
        if isinstance(p, str):
            names.append(p)
        else:
            name = srtp_profile_name(p)
            if name is None:
                raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), f"unknown SRTP profile {p!r}")
            names.append(name)
    return names


# What the C setters take (abi/sdtls.h): the ALPN list as text (4096 bytes
# on the wire) and the number of groups.
ALPN_MAX_BYTES = 4095
GROUPS_MAX = 32


def _check(rc: int, what: str = "") -> None:
    if rc != 0:
        raise error_from_code(rc, what)


def _set_given(*settings: tuple[Any, Callable[[Any], None]]) -> None:
    """Calls each setter with its keyword's value, in order, where one was
    given (not None)."""
    for value, setter in settings:
        if value is not None:
            setter(value)


def _version(v: Union[str, int]) -> int:
    if isinstance(v, int):
        return v
    try:
        return _VERSIONS[v.lower()]
    except KeyError:
        raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), f"unknown version {v!r} (use '1.2' or '1.3')") from None


def _is_pem(v: PathOrPem) -> bool:
    return isinstance(v, (bytes, bytearray, memoryview)) or (isinstance(v, str) and "-----BEGIN" in v)


def _pem_bytes(v: PathOrPem) -> bytes:
    return v.encode() if isinstance(v, str) else bytes(v)  # type: ignore[arg-type]


class Config:
    """Settings shared by connections and servers (the C ``sdtls_config``).

    Every keyword is optional; the defaults are the library's secure ones
    (DTLS 1.2 and later, ECDHE with AEAD ciphers, peer verification on).

    :param certificate: this endpoint's certificate chain (leaf first), a
        file name or PEM data; needs ``private_key``.
    :param private_key: its private key (ECDSA or RSA), a file name or PEM.
    :param cafile: trusted CA certificates, a PEM file.
    :param capath: trusted CA certificates, a hashed directory (``openssl rehash``).
    :param cadata: trusted CA certificates as PEM data.
    :param load_default_certs: also trust the system's CA bundle.
    :param verify: verify the peer's certificate (and, for a client, the
        server name). ``False`` is insecure: for tests and fingerprint pinning.
    :param require_client_certificate: a server asks for and requires one.
    :param mtu: largest datagram sent, in bytes (default 1200).
    :param initial_timeout: first retransmission timeout, seconds (default 1).
    :param handshake_timeout: a handshake fails after this, seconds (default 30).
    :param min_version: ``"1.2"`` or ``"1.3"`` (or the wire number).
    :param max_version: likewise.
    :param ciphers: an OpenSSL-syntax cipher string (AEAD suites only).
    :param keylog: called with each NSS key log line (for Wireshark), on the
        thread that drives the connection; an exception it raises comes out
        of the call that completed the handshake.
    :param cookies: server: the stateless cookie exchange (default on).
    :param max_peers: server: most connections at once.
    :param max_handshakes: server: most handshakes in progress.
    :param idle_timeout: server: evict a silent peer after this, seconds (0: never).
    :param cookie_lifetime: server: how long a cookie stays valid, seconds.
    :param srtp_profiles: offer (client) or accept (server) DTLS-SRTP with
        these profiles, most preferred first: names or :class:`SrtpProfile`
        values, or names joined by ``":"``.
    :param peer_fingerprints: expect the peer's certificate to have one of
        these SHA-256 fingerprints (``"sha-256 AB:CD:..."`` as SDP writes it,
        or ``"AB:CD:..."`` as :func:`fingerprint` does); this replaces the
        CA chain and name checks, and a server then requires a client
        certificate. At most 16.
    :param psks: pre-shared keys, ``{identity: key}`` or ``[(identity, key)]``
        (identity 1..128 bytes, key 1..64 bytes). A client offers the first;
        a server accepts any, and needs no certificate.
    :param psk_lookup: server: ``psk_lookup(identity) -> bytes | None`` for
        identities ``psks`` lacks, called on the thread that drives the
        handshake. None (or an exception, which then comes out of the call
        that drove the handshake) refuses the identity.
    :param psk_identity_hint: server: the hint sent to PSK clients.
    :param psk_allow_cbc: also allow the engine's CBC-HMAC PSK suites.
    :param session_tickets: server: issue session tickets (default on).
    :param ticket_secret: server: the secret that protects tickets (32..64
        bytes; see :meth:`set_ticket_secret`); default a random one.
    :param alpn: ALPN protocols, most preferred first (a list, or names
        joined by ``","``).
    :param groups: key exchange groups, most preferred first (``["X25519",
        "P-256"]``, or names joined by ``":"``).

    A config is frozen when the first connection or server is made from it:
    setting anything after that raises :class:`UsageError` (except
    :meth:`set_ticket_secret`).
    """

    def __init__(
        self,
        *,
        certificate: Optional[PathOrPem] = None,
        private_key: Optional[PathOrPem] = None,
        cafile: Optional[Union[str, "os.PathLike[str]"]] = None,
        capath: Optional[Union[str, "os.PathLike[str]"]] = None,
        cadata: Optional[Union[str, bytes]] = None,
        load_default_certs: bool = False,
        verify: Optional[bool] = None,
        require_client_certificate: Optional[bool] = None,
        mtu: Optional[int] = None,
        initial_timeout: Optional[float] = None,
        handshake_timeout: Optional[float] = None,
        min_version: Optional[Union[str, int]] = None,
        max_version: Optional[Union[str, int]] = None,
        ciphers: Optional[str] = None,
        keylog: Optional[Callable[[str], Any]] = None,
        cookies: Optional[bool] = None,
        max_peers: Optional[int] = None,
        max_handshakes: Optional[int] = None,
        idle_timeout: Optional[float] = None,
        cookie_lifetime: Optional[float] = None,
        srtp_profiles: Optional[SrtpProfiles] = None,
        peer_fingerprints: Optional[Union[str, Iterable[str]]] = None,
        psks: Optional[Psks] = None,
        psk_lookup: Optional[Callable[[str], Optional[bytes]]] = None,
        psk_identity_hint: Optional[str] = None,
        psk_allow_cbc: Optional[bool] = None,
        session_tickets: Optional[bool] = None,
        ticket_secret: Optional[bytes] = None,
        alpn: Optional[Union[str, Iterable[str]]] = None,
        groups: Optional[Union[str, Iterable[str]]] = None,
    ) -> None:
        cap = c.pyconfig_new()
        if isinstance(cap, int):
            raise error_from_code(cap)
        self._cap: object = cap
        self._raw: Any = c.pyconfig_handle(cap)
        self._keylog: Optional[Callable[[str], Any]] = None
        self._psk_lookup: Optional[Callable[[str], Optional[bytes]]] = None
        if certificate is not None or private_key is not None:
            if certificate is None or private_key is None:
                raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), "certificate and private_key go together")
            self.load_cert_chain(certificate, private_key)
        if cafile is not None or capath is not None:
            self.load_verify_locations(cafile=cafile, capath=capath)
        if cadata is not None:
            self.load_verify_locations(cadata=cadata)
        if load_default_certs:
            self.load_default_certs()
        opts = dict(verify=verify, require_client_certificate=require_client_certificate, mtu=mtu,
                    initial_timeout=initial_timeout, handshake_timeout=handshake_timeout, cookies=cookies,
                    max_peers=max_peers, max_handshakes=max_handshakes, idle_timeout=idle_timeout,
                    cookie_lifetime=cookie_lifetime, psk_allow_cbc=psk_allow_cbc,
                    session_tickets=session_tickets)
        for name, value in opts.items():
            if value is not None:
                option, scale = _OPTIONS[name]
                self.set_option(option, round(float(value) * scale))
        if min_version is not None:
            self.set_option(int(c.SDTLS_OPT_MIN_VERSION), _version(min_version))
        if max_version is not None:
            self.set_option(int(c.SDTLS_OPT_MAX_VERSION), _version(max_version))
        _set_given((ciphers, self.set_ciphers), (keylog, self.set_keylog),
                   (srtp_profiles, self.set_srtp_profiles))
        if peer_fingerprints is not None:
            for fp in _fingerprints(peer_fingerprints):
                self.add_peer_fingerprint(fp)
        if psks is not None:
            for identity, key in (psks.items() if isinstance(psks, Mapping) else psks):
                self.add_psk(identity, key)
        _set_given((psk_lookup, self.set_psk_lookup), (psk_identity_hint, self.set_psk_identity_hint),
                   (ticket_secret, self.set_ticket_secret), (alpn, self.set_alpn), (groups, self.set_groups))

    def set_option(self, option: int, value: int) -> None:
        """Sets an integer option by its ``SDTLS_OPT_*`` number (any option
        the C library has, also ones without a keyword here)."""
        _check(int(c.sdtls_config_set_option(self._raw, option, int(value))), f"option {option} = {value}")

    def get_option(self, option: int) -> int:
        """Reads an integer option's current value."""
        rc, value = c.sdtls_config_get_option(self._raw, option)
        _check(int(rc), f"option {option}")
        return int(value)

    def load_cert_chain(self, certificate: PathOrPem, private_key: PathOrPem) -> None:
        """Sets the certificate chain and key, each a file name or PEM data."""
        if _is_pem(certificate) or _is_pem(private_key):
            cert = _pem_bytes(certificate) if _is_pem(certificate) else _read(certificate)
            key = _pem_bytes(private_key) if _is_pem(private_key) else _read(private_key)
            _check(int(c.sdtls_config_set_certificate_pem(self._raw, cert, key)), "certificate or key")
        else:
            cert_path, key_path = os.fsdecode(certificate), os.fsdecode(private_key)
            _check(int(c.sdtls_config_set_certificate_file(self._raw, cert_path, key_path)),
                   f"{cert_path}, {key_path}")

    def load_verify_locations(
        self,
        cafile: Optional[Union[str, "os.PathLike[str]"]] = None,
        capath: Optional[Union[str, "os.PathLike[str]"]] = None,
        cadata: Optional[Union[str, bytes]] = None,
    ) -> None:
        """Adds trusted CA certificates (as :meth:`ssl.SSLContext.load_verify_locations`)."""
        if cafile is not None or capath is not None:
            f = os.fsdecode(cafile) if cafile is not None else None
            d = os.fsdecode(capath) if capath is not None else None
            _check(int(c.sdtls_config_set_ca(self._raw, f, d)), " ".join(x for x in (f, d) if x))
        if cadata is not None:
            _check(int(c.sdtls_config_set_ca_pem(self._raw, _pem_bytes(cadata))), "cadata")
        if cafile is None and capath is None and cadata is None:
            raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), "cafile, capath or cadata is needed")

    def load_default_certs(self) -> None:
        """Trusts the system's CA certificates (where Python's ssl finds them)."""
        # Imported here: it loads the interpreter's OpenSSL, which nothing
        # else in sdtls needs (nor a Python built without it).
        import ssl

        paths = ssl.get_default_verify_paths()
        cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
        capath = paths.capath if paths.capath and os.path.isdir(paths.capath) else None
        if cafile is None and capath is None:
            raise UsageError(int(c.SDTLS_E_FILE), "no system CA certificates found")
        self.load_verify_locations(cafile=cafile, capath=capath)

    def set_ciphers(self, ciphers: str) -> None:
        """Restricts the cipher suites (OpenSSL syntax)."""
        _check(int(c.sdtls_config_set_ciphers(self._raw, ciphers)), ciphers)

    def set_keylog(self, callback: Optional[Callable[[str], Any]]) -> None:
        """Sets (or, with None, clears) the key log callback."""
        _check(int(c.pyconfig_set_keylog(self._cap, _hook(self, callback, "keylog"))), "keylog")
        self._keylog = callback

    @property
    def keylog(self) -> Optional[Callable[[str], Any]]:
        return self._keylog

    def set_srtp_profiles(self, profiles: SrtpProfiles) -> None:
        """Offers (client) or accepts (server) DTLS-SRTP with these profiles,
        most preferred first (names, :class:`SrtpProfile` values, or names
        joined by ``":"``)."""
        known = f"(known: {', '.join(p.name for p in SrtpProfile)})"
        if isinstance(profiles, str):
            _check(int(c.sdtls_config_set_srtp_profiles(self._raw, profiles)), f"SRTP profiles {profiles!r} {known}")
            return
        names = _srtp_names(profiles)
        _check(int(c.sdtls_config_set_srtp_profiles_list(self._raw, names)),
               f"SRTP profiles {names!r} (known, each at most once: {', '.join(p.name for p in SrtpProfile)})")

    def add_peer_fingerprint(self, fingerprint: FingerprintLike) -> None:
        """Expects the peer's certificate to have this fingerprint (a
        :class:`Fingerprint`, or sha-256, sha-384 or sha-512 text:
        ``"sha-256 AB:..."``, ``"sha-256:AB:..."`` or ``"AB:..."``); see
        ``peer_fingerprints``."""
        _check(int(c.sdtls_config_add_peer_fingerprint(self._raw, _fingerprint_arg(fingerprint))),
               f"fingerprint {fingerprint!r}")

    def add_psk(self, identity: str, key: bytes) -> None:
        """Adds a pre-shared key (identity 1..128 bytes, key 1..64 bytes)."""
        _check(int(c.sdtls_config_add_psk(self._raw, identity, key)), f"PSK identity {identity[:40]!r}: 1..128 bytes")

    def set_psk_lookup(self, lookup: Optional[Callable[[str], Optional[bytes]]]) -> None:
        """Sets (or, with None, clears) the server's PSK lookup (see ``psk_lookup``)."""
        _check(int(c.pyconfig_set_psk_lookup(self._cap, _hook(self, lookup, "psk_lookup"))), "psk_lookup")
        self._psk_lookup = lookup

    @property
    def psk_lookup(self) -> Optional[Callable[[str], Optional[bytes]]]:
        return self._psk_lookup

    def set_psk_identity_hint(self, hint: str) -> None:
        """Server: the PSK identity hint sent to clients (1..128 bytes)."""
        _check(int(c.sdtls_config_set_psk_identity_hint(self._raw, hint)), f"PSK identity hint {hint[:40]!r}: 1..128 bytes")

    def set_ticket_secret(self, secret: bytes) -> None:
        """Server: replaces the secret that protects session tickets (32..64
        bytes). Tickets made under the secret it replaces are still accepted,
        older ones are not. Unlike the other setters, allowed at any time, also
        while the config is in use by other threads: rotate it every few hours.
        Servers sharing the secrets resume each other's sessions."""
        _check(int(c.sdtls_config_set_ticket_secret(self._raw, secret)), "a ticket secret is 32..64 bytes")

    def set_alpn(self, protocols: Union[str, Iterable[str]]) -> None:
        """ALPN protocols, most preferred first (a list, each name taken as
        it is: one with ``","`` or ``":"`` is refused; or names joined by
        ``","``)."""
        limit = (f"each name 1..255 bytes without ',' or ':', at most {ALPN_MAX_BYTES} bytes joined by ',' "
                 "(so that the ClientHello fits; got {})")
        if isinstance(protocols, str):
            _check(int(c.sdtls_config_set_alpn(self._raw, protocols)),
                   f"ALPN {protocols[:60]!r}: " + limit.format(len(protocols.encode(errors='surrogateescape'))))
            return
        names = list(protocols)
        joined_len = len(",".join(names).encode(errors="surrogateescape"))
        _check(int(c.sdtls_config_set_alpn_list(self._raw, names)), f"ALPN {names[:4]!r}: " + limit.format(joined_len))

    def set_groups(self, groups: Union[str, Iterable[str]]) -> None:
        """Key exchange groups, most preferred first, by the engine's names
        (``["X25519", "P-256"]``, or joined by ``":"``)."""
        if isinstance(groups, str):
            _check(int(c.sdtls_config_set_groups(self._raw, groups)),
                   f"groups {groups[:60]!r}: names the engine knows, each at most once, at most {GROUPS_MAX}")
            return
        names = list(groups)
        _check(int(c.sdtls_config_set_groups_list(self._raw, names)),
               f"groups {names[:8]!r}: names the engine knows, each at most once, at most {GROUPS_MAX}")


def _hook(config: Config, callback: Optional[Callable[..., Any]], name: str) -> Optional[Callable[..., Any]]:
    """What the C holder calls for the callback ``name`` of ``config``: a
    function that finds the callback through a weak reference to the
    config. The holder's reference is invisible to the cycle collector, so
    it must not lead back to the config: a callback that refers to its
    config (or to a connection made from it) would keep the whole cycle
    alive for ever. The config keeps the callback (``_keylog``,
    ``_psk_lookup``) and every Connection and Server keeps its config."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"{name} must be callable or None")
    ref = weakref.ref(config)
    attr = "_" + name

    def call(*args: Any) -> Any:
        cfg = ref()
        fn = None if cfg is None else getattr(cfg, attr)
        return None if fn is None else fn(*args)

    return call


def _read(path: PathOrPem) -> bytes:
    try:
        with open(os.fsdecode(path), "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError(int(c.SDTLS_E_FILE), f"{os.fsdecode(path)}: {e.strerror}") from None


def generate_certificate(common_name: str = "localhost", days: int = 365) -> tuple[bytes, bytes]:
    """Makes a self-signed ECDSA P-256 certificate for ``common_name`` (also
    its DNS subjectAltName), valid ``days`` days. Returns ``(cert_pem, key_pem)``."""
    rc, cert, key = c.sdtls_certificate_generate(common_name, days)
    _check(int(rc), f"common name {common_name!r}, {days} days")
    return str(cert).encode(), str(key).encode()


def fingerprint(certificate: Union[str, bytes]) -> str:
    """The SHA-256 fingerprint of a PEM certificate, bare (``"AA:BB:..."``).

    Deprecated: ``str(Fingerprint.of_certificate(cert))`` gives SDP's whole
    form, ``"sha-256 AA:BB:..."``, the one this package writes elsewhere."""
    return Fingerprint.of_certificate(certificate).bare()


def format_fingerprint(digest: bytes) -> str:
    """Formats a 32-byte SHA-256 digest as ``"AA:BB:..."``.

    Deprecated: ``str(Fingerprint("sha-256", digest))`` gives SDP's form."""
    return Fingerprint("sha-256", digest).bare()

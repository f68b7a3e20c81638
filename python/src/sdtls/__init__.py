# SPDX-License-Identifier: Apache-2.0
"""sdtls: DTLS for datagrams.

- :class:`Config`, :func:`generate_certificate`, :func:`fingerprint`
- DTLS-SRTP: :class:`SrtpProfile`, :class:`SrtpKeying`
  (``Connection.srtp_keying()``), :func:`srtp_profile_name`
- Sans-I/O: :class:`Connection` (one peer) and :class:`Server` (many peers
  on one socket), in the style of aioquic: ``receive_datagram()``,
  ``datagrams_to_send()``, ``get_timer()``/``handle_timer()``, ``next_event()``.
- Blocking sockets: :func:`connect`, :func:`serve`.
- asyncio: :mod:`sdtls.aio`.
- Errors: :class:`Error` and one subclass per category.

The low-level SWIG module over the C header is ``sdtls._sdtls``.
"""

from __future__ import annotations

from ._low import c as _c
from ._errors import (
    AlertError,
    ConnectionClosed,
    Error,
    HandshakeTimeout,
    InternalError,
    ProtocolError,
    UsageError,
    VerifyError,
)
from ._config import Config, Fingerprint, SrtpProfile, fingerprint, format_fingerprint, generate_certificate, srtp_profile_name
from ._connection import (
    Address,
    Connection,
    ConnectionTerminated,
    DatagramReceived,
    Event,
    HandshakeCompleted,
    OnConnect,
    PeerConnected,
    Role,
    Server,
    ServerConnection,
    SrtpKeying,
    State,
)
from ._blocking import DatagramServer, DTLSClient, connect, serve


def _library_version() -> tuple[str, str]:
    _number, full = _c.sdtls_version()
    full = str(full)
    return full.split(" ", 1)[0], full


#: The C library's version ("0.1.0"); :data:`engine_version` names the engine too.
__version__, engine_version = _library_version()

#: Which BoringSSL this build carries, as its build named it: the source
#: package and version ("boringssl-chromium-150.0.7871.181-1~deb13u1 (upstream
#: layout)" in the release artefacts: DTLS 1.3 and X25519MLKEM768).
from ._engine import ENGINE as __engine__  # noqa: E402


def has_feature(name: str) -> bool:
    """Whether the linked library and engine support a feature (an
    ``SDTLS_FEATURE_*`` name without the prefix, any case): ``"dtls1_2"``,
    ``"dtls1_3"``, ``"cookie_exchange"``, ``"srtp"``, ``"psk"``,
    ``"resumption"``, ``"alpn"``."""
    value = getattr(_c, "SDTLS_FEATURE_" + name.upper(), None)
    if value is None:
        raise ValueError(f"unknown feature {name!r}")
    return bool(_c.sdtls_has_feature(value))


__all__ = [
    "AlertError", "ConnectionClosed", "Error", "HandshakeTimeout", "InternalError", "ProtocolError",
    "UsageError", "VerifyError", "Config", "Fingerprint", "fingerprint", "format_fingerprint", "generate_certificate",
    "Address", "Connection", "ConnectionTerminated", "DatagramReceived", "Event", "HandshakeCompleted",
    "OnConnect", "PeerConnected", "Role", "Server", "ServerConnection", "State", "DatagramServer", "DTLSClient",
    "connect", "serve", "has_feature", "engine_version", "__version__", "__engine__", "SrtpProfile", "SrtpKeying",
    "srtp_profile_name",
]

# SPDX-License-Identifier: Apache-2.0
"""sdtls: DTLS for datagrams.

- :class:`Config`, :func:`generate_certificate`, :func:`fingerprint`
- DTLS-SRTP: :class:`SrtpProfile`, :class:`SrtpKeying`
  (``Connection.srtp_keying()``), :func:`srtp_profile_name`
- Sans-I/O: :class:`Connection` (one peer) and :class:`Server` (many peers
  on one socket), in the style of aioquic: ``receive_datagram()``,
  ``datagrams_to_send()``, ``get_timer()``/``handle_timer()``, ``next_event()``.
- Blocking sockets: :func:`connect` (a :class:`DTLSClient`), :func:`serve`
  (runs a :class:`DTLSServer`); asyncio: :mod:`sdtls.aio`, with the same names.
  Classes named DTLS* own a socket; the others are sans-I/O.
- WebRTC: :func:`classify` (RFC 7983 demultiplexing), :func:`dtls_role`
  (SDP's ``a=setup``).
- Errors: :class:`Error` and one subclass per category.
- Deprecated names (warn on use, removed in 0.2): ``DatagramServer``
  (:class:`DTLSServer`), ``HandshakeTimeout`` (:class:`PeerTimeout`).

The low-level SWIG module over the C header is ``sdtls._sdtls``.
"""

import typing as _typing

from ._low import c as _c
from ._errors import (
    AlertError,
    ConnectionClosed,
    Error,
    InternalError,
    PeerTimeout,
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
from ._blocking import DTLSClient, DTLSServer, connect, serve
from ._deprecated import module_getattr as _module_getattr
from ._webrtc import PacketKind, SetupRole, classify, dtls_role


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
    "AlertError", "ConnectionClosed", "Error", "PeerTimeout", "InternalError", "ProtocolError",
    "UsageError", "VerifyError", "Config", "Fingerprint", "fingerprint", "format_fingerprint", "generate_certificate",
    "Address", "Connection", "ConnectionTerminated", "DatagramReceived", "Event", "HandshakeCompleted",
    "OnConnect", "PeerConnected", "Role", "Server", "ServerConnection", "State", "DTLSServer", "DTLSClient",
    "connect", "serve", "has_feature", "engine_version", "__version__", "__engine__", "SrtpProfile", "SrtpKeying",
    "srtp_profile_name",
    "PacketKind", "SetupRole", "classify", "dtls_role",
]

# The names before 0.1.0's renames, for one release (DeprecationWarning).
__getattr__ = _module_getattr("sdtls", {"DatagramServer": ("DTLSServer", DTLSServer),
                                        "HandshakeTimeout": ("PeerTimeout", PeerTimeout)})
if _typing.TYPE_CHECKING:
    DatagramServer = DTLSServer
    HandshakeTimeout = PeerTimeout

# SPDX-License-Identifier: Apache-2.0
"""The WebRTC glue that is the same for every application: what a datagram
on the shared socket is (RFC 7983), and which DTLS role SDP's ``a=setup``
gives (RFC 5763, RFC 8842). See docs/webrtc.md."""

from __future__ import annotations

import enum
from typing import NamedTuple, Optional, Union

from ._connection import Role
from ._errors import UsageError
from ._low import c


class PacketKind(enum.IntEnum):
    """What :func:`classify` says a datagram is (``SDTLS_PACKET_*``)."""

    UNKNOWN = int(c.SDTLS_PACKET_UNKNOWN)
    STUN = int(c.SDTLS_PACKET_STUN)
    ZRTP = int(c.SDTLS_PACKET_ZRTP)
    DTLS = int(c.SDTLS_PACKET_DTLS)
    TURN_CHANNEL = int(c.SDTLS_PACKET_TURN_CHANNEL)
    QUIC = int(c.SDTLS_PACKET_QUIC)
    RTP = int(c.SDTLS_PACKET_RTP)  #: RTP or RTCP (SRTP, SRTCP)


def classify(datagram: Union[bytes, bytearray, memoryview]) -> PacketKind:
    """What a datagram read from a socket shared by several protocols is, by
    its first byte as RFC 7983 and RFC 9443 divide it (``sdtls_classify``):
    :attr:`PacketKind.DTLS` goes to ``receive_datagram()``,
    :attr:`PacketKind.STUN` to the ICE agent, :attr:`PacketKind.RTP` to SRTP.
    An empty datagram is :attr:`PacketKind.UNKNOWN`. Takes any bytes-like
    object; thread-safe."""
    return PacketKind(int(c.sdtls_classify(datagram)))


class SetupRole(NamedTuple):
    """What :func:`dtls_role` decided: this side's DTLS ``role`` and the
    ``setup`` value this side writes in its SDP (``"active"`` or
    ``"passive"``; for an offerer, the ``"actpass"`` it offered)."""

    role: Role
    setup: str


_SETUPS = ("actpass", "active", "passive")


def dtls_role(remote: str, local: Optional[str] = None) -> SetupRole:
    """Maps SDP's ``a=setup`` to the DTLS role (RFC 5763 5, RFC 8842 5): the
    ``active`` side is the DTLS client, the ``passive`` side the server.

    - Answerer: ``remote`` is the offer's value. With ``local=None`` the
      answerer chooses as RFC 5763 recommends: ``active`` (the client) when
      the offer says ``actpass`` or ``passive``, ``passive`` (the server)
      when it says ``active``. ``local="passive"`` answers an ``actpass``
      offer as the server instead (e.g. to serve many peers through
      :class:`sdtls.Server`, whose cookie exchange needs the server role).
    - Offerer: ``local="actpass"`` (what it offered) and ``remote`` the
      answer's ``active`` (this side is the server) or ``passive`` (the
      client).

    Values are case-insensitive. Raises :class:`UsageError` for a value that
    is not ``actpass``/``active``/``passive`` (``holdconn`` included), an
    answer that says ``actpass``, or two sides that both take the same
    role."""
    r = _setup(remote, "remote")
    lo = None if local is None else _setup(local, "local")
    if lo is None:
        lo = "passive" if r == "active" else "active"
    elif lo == "actpass":  # this side offered: the answer decides
        if r == "actpass":
            raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), "an answer's a=setup is active or passive, not actpass")
        return SetupRole(Role.SERVER if r == "active" else Role.CLIENT, lo)
    if r == lo:
        raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), f"both sides say a=setup:{r}")
    return SetupRole(Role.CLIENT if lo == "active" else Role.SERVER, lo)


def _setup(value: str, which: str) -> str:
    if not isinstance(value, str) or value.lower() not in _SETUPS:
        raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT),
                         f"{which} a=setup {value!r} is not one of actpass, active, passive")
    return value.lower()

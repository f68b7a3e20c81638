# SPDX-License-Identifier: Apache-2.0
"""Exceptions: one class per sdtls error category."""

from __future__ import annotations

from typing import Optional

from ._low import c


class Error(Exception):
    """An sdtls failure.

    ``code`` is the negative ``SDTLS_E_*`` value, ``name`` its name
    (``sdtls_strerror``) and ``detail`` the connection's human-readable
    detail (the alert, the verification failure...), or ``""``.
    """

    code: int
    name: str
    detail: str

    def __init__(self, code: int, detail: str = "", name: Optional[str] = None) -> None:
        self.code = code
        self.name = name if name is not None else str(c.sdtls_strerror(code))
        self.detail = detail
        super().__init__(f"{self.name}: {detail}" if detail else self.name)


class ConnectionClosed(Error):
    """The connection ended in order (close_notify) or was closed here."""


class AlertError(Error):
    """The peer ended the connection with a fatal alert."""


class VerifyError(Error):
    """Authentication failed (the peer's certificate or name)."""


class PeerTimeout(Error):
    """The peer stopped answering: no handshake in time, or an idle
    connection evicted (``SDTLS_CATEGORY_TIMEOUT``). Formerly
    ``HandshakeTimeout``."""


class ProtocolError(Error):
    """The peer violated the protocol."""


class UsageError(Error):
    """The API was misused or given bad input (state, argument, file...)."""


class InternalError(Error):
    """Out of resources, or a bug."""


BUSY = int(c.SDTLSPY_E_BUSY)
GONE = int(c.SDTLSPY_E_GONE)
OUT_FULL = int(c.SDTLSPY_E_OUT_FULL)
EVENTS_FULL = int(c.SDTLSPY_E_EVENTS_FULL)
QUEUE_MAX_RECORDS = int(c.SDTLSPY_QUEUE_MAX_RECORDS)
QUEUE_MAX_BYTES = int(c.SDTLSPY_QUEUE_MAX_BYTES)

_BY_CATEGORY: dict[int, type[Error]] = {
    int(c.SDTLS_CATEGORY_CLOSED): ConnectionClosed,
    int(c.SDTLS_CATEGORY_ALERT): AlertError,
    int(c.SDTLS_CATEGORY_VERIFY): VerifyError,
    int(c.SDTLS_CATEGORY_TIMEOUT): PeerTimeout,
    int(c.SDTLS_CATEGORY_PROTOCOL): ProtocolError,
    int(c.SDTLS_CATEGORY_USAGE): UsageError,
    int(c.SDTLS_CATEGORY_INTERNAL): InternalError,
}


def error_from_code(code: int, detail: str = "") -> Error:
    """The exception for a negative code (a new C code falls into its category's class)."""
    if code == BUSY:
        return UsageError(int(c.SDTLS_E_IN_CALLBACK),
                          detail or "used from two threads at once (or from its own callback)",
                          name="handle busy")
    if code in (OUT_FULL, EVENTS_FULL):
        what = "datagrams_to_send()" if code == OUT_FULL else "the events (next_event())"
        return UsageError(int(c.SDTLS_E_LIMIT),
                          detail or f"queue full ({QUEUE_MAX_RECORDS} records or {QUEUE_MAX_BYTES >> 20} MiB): "
                          f"take {what} first; nothing was sent or lost",
                          name="queue full")
    if code == GONE:
        return ConnectionClosed(int(c.SDTLS_E_CLOSED), detail or "the server's connection is gone")
    cls = _BY_CATEGORY.get(int(c.sdtls_error_category(code)), Error)
    return cls(code, detail)

# SPDX-License-Identifier: Apache-2.0
"""Sans-I/O connections and the multi-peer server.

Nothing here opens a socket or sleeps: datagrams go in through
``receive_datagram()`` and come out of ``datagrams_to_send()``, time is
passed in (``now``: seconds of :func:`time.monotonic`, the default), and what
happens is read with ``next_event()``. The C callbacks queue their output in
C; each of these methods crosses into C once, whatever the number of
datagrams or events.
"""

from __future__ import annotations

import enum
import math
import time
import weakref
from collections import abc, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Iterable, Optional, Tuple, Union

from ._config import _HASHES, Config, Fingerprint, FingerprintLike, SrtpProfile, _fingerprint_arg, _fingerprints
from ._errors import Error, UsageError, error_from_code, GONE
from ._low import TIME_NEVER, c

#: A peer address as Python's socket module writes it: ``(host, port)`` or,
#: for IPv6, ``(host, port, flowinfo, scope_id)``.
Address = Tuple[Any, ...]

#: A :class:`Server`'s ``on_connect`` hook: called with a new peer's address,
#: returns None/True (accept), False (refuse) or the fingerprint(s) to pin.
OnConnect = Callable[[Address], Union[None, bool, str, Iterable[str]]]

_EV_CONNECT = int(c.EV_CONNECT)
_EV_HANDSHAKE_DONE = int(c.EV_HANDSHAKE_DONE)
_EV_DATA = int(c.EV_DATA)
_EV_CLOSE = int(c.EV_CLOSE)
_E_CLOSED = int(c.SDTLS_E_CLOSED)
_E_STATE = int(c.SDTLS_E_STATE)
_E_INVALID_ARGUMENT = int(c.SDTLS_E_INVALID_ARGUMENT)
_USAGE = (int(c.SDTLS_CATEGORY_USAGE), int(c.SDTLS_CATEGORY_INTERNAL))


class State(enum.IntEnum):
    """A connection's state (``SDTLS_STATE_*``)."""

    NEW = int(c.SDTLS_STATE_NEW)
    HANDSHAKING = int(c.SDTLS_STATE_HANDSHAKING)
    CONNECTED = int(c.SDTLS_STATE_CONNECTED)
    CLOSED = int(c.SDTLS_STATE_CLOSED)
    FAILED = int(c.SDTLS_STATE_FAILED)


class Role(enum.IntEnum):
    CLIENT = int(c.SDTLS_ROLE_CLIENT)
    SERVER = int(c.SDTLS_ROLE_SERVER)


# ---- events -----------------------------------------------------------------


class Event:
    """Base class of the events ``next_event()`` returns."""

    __slots__ = ()


@dataclass
class PeerConnected(Event):
    """Server: a peer passed the cookie check; its handshake runs."""

    __slots__ = ("connection",)
    connection: "ServerConnection"


@dataclass
class HandshakeCompleted(Event):
    """The handshake finished; the peer is authenticated.

    ``connection`` is the peer's :class:`ServerConnection` for a server's
    events, None for a :class:`Connection`'s. What the handshake negotiated
    comes with it, so that one event is enough to key SRTP (WebRTC): the
    ``srtp_profile`` (None without DTLS-SRTP; the keys are in
    ``srtp_keying()``), the ``alpn`` protocol, the key exchange ``group``
    (None for a resumed DTLS 1.2 session) and the SHA-256
    ``peer_fingerprint`` of the peer's certificate (None when it sent none).
    """

    __slots__ = ("version", "cipher", "connection", "srtp_profile", "alpn", "group", "peer_fingerprint")
    version: str
    cipher: str
    connection: Optional["ServerConnection"]
    srtp_profile: Optional[SrtpProfile]
    alpn: Optional[str]
    group: Optional[str]
    peer_fingerprint: Optional[Fingerprint]


@dataclass
class DatagramReceived(Event):
    """One application datagram from the peer (one record, boundaries kept)."""

    __slots__ = ("data", "connection")
    data: bytes
    connection: Optional["ServerConnection"]


@dataclass
class ConnectionTerminated(Event):
    """The connection ended. ``error`` is None after the peer's close_notify,
    else what ended it (:class:`ConnectionClosed` when it was closed here or
    the peer restarted, :class:`PeerTimeout` for a timeout or eviction,
    :class:`AlertError`, :class:`VerifyError`...)."""

    __slots__ = ("error", "connection")
    error: Optional[Error]
    connection: Optional["ServerConnection"]


@dataclass(frozen=True)
class SrtpKeying:
    """SRTP master keys and salts of a DTLS-SRTP handshake (RFC 5764 4.2),
    laid out as SRTP stacks take them (libsrtp's policy key, GStreamer's
    srtp-key): each ``*_write`` is the master key (``key_len`` bytes)
    followed by the master salt (``salt_len`` bytes). ``local_write``
    protects what this endpoint sends, ``remote_write`` unprotects what the
    peer sends, whichever side was the DTLS client. The keys are secrets and
    left out of ``repr()``."""

    profile: SrtpProfile
    key_len: int
    salt_len: int
    client_write: bytes = field(repr=False)
    server_write: bytes = field(repr=False)
    local_write: bytes = field(repr=False)
    remote_write: bytes = field(repr=False)


# ---- helpers ------------------------------------------------------------------


#: What the C library's clock reads when :func:`time.monotonic` reads 0: the
#: wall clock (time since the UNIX epoch) read once, at import.
_EPOCH_NS = time.time_ns() - time.monotonic_ns()


def _sdtls_time(now: Optional[float]) -> int:
    """The C library's time for ``now`` (seconds of :func:`time.monotonic`,
    the current time when None), by the rule of sdtls.h ("Time"): nanoseconds
    since the UNIX epoch, read from the wall clock once and advanced by the
    monotonic clock, so that sessions and cookies carry a time that other
    processes and hosts share."""
    if now is None:
        return _EPOCH_NS + time.monotonic_ns()
    if now < 0:
        raise ValueError("now must not be negative")
    return _EPOCH_NS + round(now * 1e9)


def _timer(deadline_ns: int) -> Optional[float]:
    """A C deadline as seconds of :func:`time.monotonic` (None for none)."""
    if deadline_ns == TIME_NEVER:
        return None
    # Seconds that convert back to no earlier than the deadline: a timer
    # handled at get_timer() must find it expired, or a loop would spin.
    # (_sdtls_time(t) written out: this runs after every datagram.)
    t = (deadline_ns - _EPOCH_NS) / 1e9
    while _EPOCH_NS + round(t * 1e9) < deadline_ns:
        t = math.nextafter(t, math.inf)
    return t


def _handshake_completed(version: Optional[str], cipher: Optional[str], queries: "_Queries",
                         view: Optional["ServerConnection"]) -> "HandshakeCompleted":
    # What the handshake negotiated, read when its event is taken. A peer
    # that has already gone again (its close is in the same batch) has
    # nothing left to read: then only the version and cipher are known.
    try:
        details = (queries.srtp_profile, queries.alpn, queries.group, queries.peer_certificate_fingerprint())
    except Error:
        details = (None, None, None, None)
    return HandshakeCompleted(version or "", cipher or "", view, *details)


def _timeout(deadline: Optional[float], now: Optional[float]) -> Optional[float]:
    if deadline is None:
        return None
    if now is None:
        now = time.monotonic()
    return max(0.0, deadline - now)


def _termination(reason: int, detail: str) -> Optional[Error]:
    return None if reason == 0 else error_from_code(reason, detail)


def _error_and_detail(h: Any) -> tuple[int, str]:
    # The code and its detail in one guarded query: read together.
    return int(c.sdtls_conn_error(h)), str(c.sdtls_conn_error_detail(h))


def _export_limits(h: Any) -> tuple[Optional[str], Optional[str]]:
    # What the exporter's limits depend on, read in one guarded query.
    return c.sdtls_conn_version(h), c.sdtls_conn_cipher(h)


def _export_refused(version: Optional[str], cipher: Optional[str], label_len: int, length: int,
                    context: Optional[bytes]) -> str:
    """Why the engine's exporter refused arguments the binding takes: the
    limits of the negotiated protocol (RFC 8446 7.1 and 7.5 for DTLS 1.3,
    RFC 5705 4 for DTLS 1.2)."""
    if version == "DTLSv1.3":
        # HKDF-Expand-Label: the label goes after "dtls13" in 255 bytes at
        # most, and HKDF-Expand gives at most 255 hash lengths.
        if label_len > 249:
            return f"a DTLS 1.3 exporter label is at most 249 bytes, not {label_len}"
        hash_len = 48 if (cipher or "").endswith("SHA384") else 32
        return f"DTLS 1.3 exports at most {255 * hash_len} bytes with {cipher}, not {length}"
    n = len(context) if context is not None else 0
    return f"a DTLS 1.2 exporter context is at most 65535 bytes, not {n}"


class _EventQueue:
    """The events taken from C and not yet returned: next_event() of a
    Connection and of a Server."""

    __slots__ = ()
    _events: Deque[Event]

    def _fetch_events(self) -> None:
        raise NotImplementedError

    def next_event(self) -> Optional[Event]:
        """The next event, or None when there is none."""
        if not self._events:
            self._fetch_events()
            if not self._events:
                return None
        return self._events.popleft()


class _Queries:
    """Queries on a live C connection, shared by both kinds of connection.

    Each one is a single call into the holder, which runs the C function
    under the holder's one-thread-at-a-time guard: a query that finds the
    connection (or its server) in use by another thread raises
    :class:`UsageError` rather than read what that thread's call changes."""

    __slots__ = ()

    def _query(self, fn: Any, *args: Any) -> Any:
        """``fn(handle, *args)`` under the guard; raises what refused it."""
        raise NotImplementedError

    def _text(self, fn: Any) -> Optional[str]:
        """A query whose answer is a string or None (nothing to say yet)."""
        v = self._query(fn)
        return None if v is None else str(v)

    @property
    def state(self) -> State:
        """The connection's state."""
        return State(int(self._query(c.sdtls_conn_state)))

    @property
    def version(self) -> Optional[str]:
        """The negotiated protocol (``"DTLSv1.2"``), None before the handshake."""
        return self._text(c.sdtls_conn_version)

    @property
    def cipher(self) -> Optional[str]:
        """The negotiated cipher suite (IANA name), None before the handshake."""
        return self._text(c.sdtls_conn_cipher)

    @property
    def max_data_size(self) -> int:
        """The largest datagram ``send()`` accepts now (0 before the handshake)."""
        return int(self._query(c.sdtls_conn_max_data_size))

    @property
    def peer_certificate(self) -> Optional[bytes]:
        """The peer's leaf certificate (DER), None if it sent none."""
        rc, der = self._query(c.sdtls_conn_peer_certificate)
        return bytes(der) if rc == 0 else None

    @property
    def peer_fingerprint(self) -> Optional[str]:
        """SHA-256 fingerprint of the peer's certificate, bare
        (``"AA:BB:..."``), or None.

        Deprecated: :meth:`peer_certificate_fingerprint` gives a
        :class:`Fingerprint` (``str()``: ``"sha-256 AA:BB:..."``)."""
        fp = self.peer_certificate_fingerprint()
        return None if fp is None else fp.bare()

    def peer_certificate_fingerprint(self, hash: str = "sha-256") -> Optional[Fingerprint]:
        """The fingerprint of the peer's certificate in ``hash`` (sha-256,
        sha-384, sha-512), or None when it sent none."""
        if hash not in _HASHES:
            raise UsageError(int(c.SDTLS_E_INVALID_ARGUMENT), f"unknown hash {hash!r} (sha-256, sha-384, sha-512)")
        rc, digest = self._query(c.sdtls_conn_peer_fingerprint, _HASHES[hash])
        return Fingerprint(hash, bytes(digest)) if rc == 0 else None

    @property
    def error(self) -> Optional[Error]:
        """What ended the connection (None while healthy)."""
        code, detail = self._query(_error_and_detail)
        return None if code == 0 else error_from_code(code, detail)

    def _detail(self) -> str:
        # The detail of an error a call just returned: "" when the
        # connection is gone or already in another thread's hands (the
        # error itself is still the call's).
        try:
            return str(self._query(c.sdtls_conn_error_detail))
        except Error:
            return ""

    @property
    def srtp_profile(self) -> Optional[SrtpProfile]:
        """The negotiated SRTP profile (an :class:`SrtpProfile`: its ``name``
        is the profile's name, its value the IANA number), None when none was
        (no DTLS-SRTP, or the handshake is not done)."""
        p = int(self._query(c.sdtls_conn_srtp_profile))
        return SrtpProfile(p) if p else None

    def srtp_keying(self) -> Optional[SrtpKeying]:
        """The SRTP keying material of the negotiated profile, split by
        direction, or None when no profile was negotiated (or the handshake
        is not done)."""
        rc, k = self._query(c.sdtls_conn_srtp_keying)
        if rc != 0 or k is None:
            return None
        profile, key_len, salt_len, cw, sw, lw, rw = k
        return SrtpKeying(SrtpProfile(profile), key_len, salt_len, cw, sw, lw, rw)

    @property
    def psk_identity(self) -> Optional[str]:
        """The PSK identity the handshake used, None without a PSK suite."""
        return self._text(c.sdtls_conn_psk_identity)

    @property
    def alpn(self) -> Optional[str]:
        """The ALPN protocol the handshake selected, or None."""
        return self._text(c.sdtls_conn_alpn)

    @property
    def group(self) -> Optional[str]:
        """The key exchange group the handshake used (``"X25519"``), None
        before it or without a key exchange (a resumed DTLS 1.2 session)."""
        return self._text(c.sdtls_conn_group)

    @property
    def session_resumed(self) -> bool:
        """Whether the handshake resumed a session."""
        return bool(self._query(c.sdtls_conn_session_resumed))

    def export_keying_material(self, label: Union[str, bytes], length: int,
                               context: Optional[bytes] = None) -> bytes:
        """RFC 5705 keying material (``length`` bytes, 1..1048576) for
        ``label`` and an optional ``context`` (with DTLS 1.2 None differs
        from ``b""``; DTLS 1.3's exporter takes them alike, RFC 8446 7.5).
        Only once connected. Raises ValueError for a length out of range,
        :class:`UsageError` before the handshake is done or for what the
        protocol cannot export (a DTLS 1.3 label over 249 bytes or more
        than 255 hash lengths; a DTLS 1.2 context of 64 KiB or more)."""
        lab = label.encode() if isinstance(label, str) else bytes(label)
        rc, out = self._query(c.sdtls_conn_export_keying_material, length, lab, context)
        if rc == _E_STATE:
            raise error_from_code(rc, "keying material is exported once connected")
        if rc == _E_INVALID_ARGUMENT:  # the length is in range (ValueError otherwise): the engine refused
            version, cipher = self._query(_export_limits)
            raise error_from_code(rc, _export_refused(version, cipher, len(lab), length, context))
        if rc != 0:  # a code the C library may add: never hand out the zeroed buffer as keys
            raise error_from_code(rc)
        return bytes(out)


# ---- a connection ---------------------------------------------------------------


class Connection(_Queries, _EventQueue):
    """One DTLS association with one peer, sans-I/O (``sdtls_conn``).

    ::

        conn = sdtls.Connection(config, "client", server_name="example.com")
        conn.start()
        for datagram in conn.datagrams_to_send(): sock.send(datagram)
        ...  # on a datagram: conn.receive_datagram(data); at conn.get_timer(): conn.handle_timer()
        while (event := conn.next_event()) is not None: ...

    Connection failures (alerts, verification, timeouts) arrive as a
    :class:`ConnectionTerminated` event; methods raise :class:`UsageError`
    for misuse and ``send()`` raises when the connection cannot carry data.
    One thread at a time per connection; distinct connections may be driven
    from distinct threads at once (the GIL is released during crypto).
    """

    __slots__ = ("_cap", "_config", "_events", "_last_ns", "_role", "__weakref__")

    def __init__(self, config: Config, role: Union[str, Role] = "client", *,
                 server_name: Optional[str] = None,
                 peer_fingerprints: Optional[Union[str, Iterable[str]]] = None,
                 session: Optional[bytes] = None) -> None:
        r = Role[role.upper()] if isinstance(role, str) else Role(role)
        cap = c.pyconn_new(config._cap, int(r))
        if isinstance(cap, int):
            raise error_from_code(cap, "a server needs a certificate or a PSK" if r == Role.SERVER else "")
        self._cap: object = cap
        # The config's key log and PSK lookup reach their callables through
        # it (held weakly by the C side, see Config): it lives as long as
        # this connection.
        self._config = config
        self._events: Deque[Event] = deque()
        self._last_ns = 0
        self._role = r
        if server_name is not None:
            self._check(int(self._query(c.sdtls_conn_set_server_name, server_name)))
        if peer_fingerprints is not None:
            for fp in _fingerprints(peer_fingerprints):
                self.add_peer_fingerprint(fp)
        if session is not None:
            self.set_session(session)

    def _query(self, fn: Any, *args: Any) -> Any:
        rc, value = c.pyconn_query(self._cap, fn, args)
        if rc:
            raise error_from_code(rc)
        return value

    def _now(self, now: Optional[float]) -> int:
        ns = _sdtls_time(now)
        if ns < self._last_ns:  # the C clock must not go backwards
            ns = self._last_ns
        self._last_ns = ns
        return ns

    def _check(self, rc: int) -> None:
        if rc != 0:
            raise error_from_code(rc, self._detail())

    def _check_usage(self, rc: int) -> None:
        # Failures of the connection itself arrive as ConnectionTerminated.
        if rc != 0 and (rc < -999 or int(c.sdtls_error_category(rc)) in _USAGE):
            self._check(rc)

    @property
    def role(self) -> Role:
        return self._role

    def add_peer_fingerprint(self, fingerprint: FingerprintLike) -> None:
        """Expects the peer's certificate to have this fingerprint
        (as :class:`Config`'s ``peer_fingerprints``, for this connection
        only: WebRTC's per-peer SDP). Before ``start()`` only."""
        rc = int(self._query(c.sdtls_conn_add_peer_fingerprint, _fingerprint_arg(fingerprint)))
        if rc:
            raise error_from_code(rc, f"fingerprint {fingerprint!r}")

    def set_session(self, session: bytes) -> None:
        """Client, before ``start()``: offers a session from :meth:`get_session`
        of an earlier connection to the same server. If the server still
        accepts it the handshake is abbreviated (``session_resumed``); if not,
        a full one follows. Raises :class:`UsageError` for bytes that are not
        a session."""
        rc = int(self._query(c.sdtls_conn_set_session, session))
        if rc:
            raise error_from_code(rc, "not a session" if rc == int(c.SDTLS_E_INVALID_ARGUMENT) else "")

    def get_session(self) -> Optional[bytes]:
        """Client: the session of the finished handshake, as bytes to pass to
        a later connection's ``session=``; None when there is none (handshake
        not done, or the server issued no ticket). The bytes hold the
        session's master secret: keep them as secret as a key."""
        rc, session = self._query(c.sdtls_conn_get_session)
        if rc == int(c.SDTLS_E_STATE):
            return None
        self._check(int(rc))
        return bytes(session)

    def start(self, now: Optional[float] = None) -> None:
        """Starts the handshake (a client's first flight is then in
        ``datagrams_to_send()``; for a server it does nothing)."""
        self._check(int(c.pyconn_start(self._cap, self._now(now))))

    def receive_datagram(self, data: bytes, now: Optional[float] = None) -> None:
        """Feeds one datagram from the peer (a bytes-like object, not copied)."""
        rc = c.pyconn_receive(self._cap, data, self._now(now))
        if rc:
            self._check_usage(rc)

    def send(self, data: bytes, now: Optional[float] = None) -> None:
        """Sends ``data`` as one record in one datagram (queued for
        ``datagrams_to_send()``). Raises :class:`UsageError` before the
        handshake is done or for more than ``max_data_size`` bytes, and the
        connection's error once it has ended."""
        rc = c.pyconn_send(self._cap, data, self._now(now))
        if rc:
            self._check(rc)

    def datagrams_to_send(self) -> list[bytes]:
        """Every datagram queued since the last call, in order."""
        out = c.pyconn_take_datagrams(self._cap)
        if out.__class__ is int:
            raise error_from_code(out)
        return out  # type: ignore[no-any-return]

    def get_timer(self) -> Optional[float]:
        """When ``handle_timer()`` must be called next, or None: seconds on
        the clock of the ``now`` values this connection is given
        (:func:`time.monotonic` when they are left out; an asyncio
        application may pass ``loop.time()`` to every call instead, and then
        give this to ``loop.call_at()``)."""
        d = c.pyconn_deadline(self._cap)
        if d < 0:
            raise error_from_code(d)
        return _timer(d)

    def get_timeout(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds from ``now`` (the clock of the calls' ``now``, by default
        :func:`time.monotonic`'s) until ``handle_timer()`` is due, 0.0 when
        it is due already, None when no timer runs."""
        return _timeout(self.get_timer(), now)

    def handle_timer(self, now: Optional[float] = None) -> None:
        """Acts on expired timers: retransmits, or ends a handshake that took too long."""
        self._check_usage(int(c.pyconn_handle_timeout(self._cap, self._now(now))))

    def _fetch_events(self) -> None:
        evs = c.pyconn_take_events(self._cap)
        if evs.__class__ is int:
            raise error_from_code(evs)
        append = self._events.append
        for kind, _id, payload, reason, detail, version, cipher in evs:
            if kind == _EV_DATA:
                append(DatagramReceived(payload, None))
            elif kind == _EV_HANDSHAKE_DONE:
                append(_handshake_completed(version, cipher, self, None))
            elif kind == _EV_CLOSE:
                append(ConnectionTerminated(_termination(reason, detail), None))

    def key_update(self, now: Optional[float] = None) -> None:
        """DTLS 1.3: renews this side's traffic keys and asks the peer to renew
        its own (queued; retransmitted until acknowledged, so keep serving
        ``get_timer()``). Raises :class:`UsageError` on a DTLS 1.2 connection."""
        rc = c.pyconn_key_update(self._cap, self._now(now))
        if rc:
            self._check(rc)

    def close(self, now: Optional[float] = None) -> None:
        """Sends close_notify (queued) when connected and closes; closing twice is harmless."""
        self._check_usage(int(c.pyconn_close(self._cap, self._now(now))))

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            state = self.state.name
        except UsageError:  # another thread's call runs on it
            state = "in use"
        return f"<sdtls.Connection {self._role.name.lower()} {state}>"


# ---- the server -----------------------------------------------------------------


class ServerConnection(_Queries):
    """A borrowed view of one of a :class:`Server`'s peers.

    The server owns the connection: this view goes dead when the peer's
    connection ends (its :class:`ConnectionTerminated` event) or the server
    is closed or collected; then queries and ``send()`` raise
    :class:`ConnectionClosed`. It is never freed from Python.
    """

    __slots__ = ("_server", "_id", "address", "__weakref__")

    def __init__(self, server: "Server", conn_id: int, address: Address) -> None:
        self._server = weakref.ref(server)
        self._id = conn_id
        #: The peer's address, ``(host, port)`` (IPv6: 4-tuple).
        self.address: Address = address

    def _srv(self) -> "Server":
        s = self._server()
        if s is None:
            raise error_from_code(GONE, "the server is gone")
        return s

    def _query(self, fn: Any, *args: Any) -> Any:
        rc, value = c.pyserver_conn_query(self._srv()._cap, self._id, fn, args)
        if rc:
            raise error_from_code(rc)
        return value

    @property
    def alive(self) -> bool:
        """Whether the server still holds this connection. Raises
        :class:`UsageError` while another thread's call runs on the server."""
        s = self._server()
        if s is None:
            return False
        r = int(c.pyserver_conn_alive(s._cap, self._id))
        if r < 0:
            raise error_from_code(r)
        return r == 1

    def send(self, data: bytes, now: Optional[float] = None) -> None:
        """Sends one datagram to this peer (queued in the server's ``datagrams_to_send()``)."""
        s = self._srv()
        rc = c.pyserver_conn_send(s._cap, self._id, data, s._now(now))
        if rc:
            raise error_from_code(rc, self._detail() if rc > -999 else "")

    def key_update(self, now: Optional[float] = None) -> None:
        """DTLS 1.3: renews this side's traffic keys (see :meth:`Connection.key_update`)."""
        s = self._srv()
        rc = c.pyserver_conn_key_update(s._cap, self._id, s._now(now))
        if rc:
            raise error_from_code(rc)

    def close(self, now: Optional[float] = None) -> None:
        """Sends close_notify and removes the peer (a :class:`ConnectionTerminated`
        event with :class:`ConnectionClosed` follows). Harmless when gone."""
        s = self._server()
        if s is None:
            return
        rc = int(c.pyserver_conn_close(s._cap, self._id, s._now(now)))
        if rc:
            raise error_from_code(rc)

    def __repr__(self) -> str:
        try:
            state = "" if self.alive else " gone"
        except UsageError:  # another thread's call runs on the server
            state = " in use"
        return f"<sdtls.ServerConnection {self.address!r}{state}>"


def _counters(h: Any, counters: list[tuple[str, int]]) -> dict[str, int]:
    # Every counter in one guarded query: a consistent snapshot.
    return {name: int(c.sdtls_server_counter_get(h, counter)) for name, counter in counters}


def _on_connect_trampoline(ref: "weakref.ReferenceType[Server]") -> Callable[[Address, Any], bool]:
    # What the C holder calls: it holds the Server weakly, so the capsule's
    # reference to it makes no cycle (a capsule is invisible to the GC).
    def on_connect(address: Address, conn: Any) -> bool:
        server = ref()
        return server is not None and server._run_on_connect(address, conn)
    return on_connect


class Server(_EventQueue):
    """Many DTLS peers behind one UDP socket, sans-I/O (``sdtls_server``).

    Unknown peers get a stateless cookie exchange; a connection is made only
    for a verified ClientHello (:class:`PeerConnected`). Events carry the
    peer's :class:`ServerConnection`; replies go out through
    ``datagrams_to_send()`` as ``(data, address)`` pairs.

    Per-peer pins (WebRTC: each peer's SDP brings its certificate's
    fingerprint): :meth:`pin_peer` by address, before the peer connects.

    ``on_connect(address)``, when given, decides per peer, as each one
    passes the cookie exchange and before its handshake goes on (the C
    server's ``on_connect``). It returns

    - None (or True): accept the peer, verified as the :class:`Config` says;
    - a fingerprint or an iterable of them (SDP's ``"sha-256 AB:..."`` or
      :func:`fingerprint`'s bare form): accept it and expect its certificate
      to match one of these (or one of the Config's ``peer_fingerprints``,
      or its address's :meth:`pin_peer` pins). The server asks the client
      for a certificate, and the match replaces the CA check. Deprecated
      in favour of :meth:`pin_peer`, which needs no Python call during
      the handshake; it keeps working. An empty iterable is the same as
      None;
    - False: refuse it.

    A refused peer gets no connection and no event. Nothing is sent to it,
    just as for a ClientHello that fails the cookie check, so its client
    retransmits (the hook is asked again) and then times out. When the
    hook raises, or returns a fingerprint that does not parse, the peer is
    refused too and the exception comes out of the ``receive_datagram()``
    that fed the ClientHello, after that call has done all of its work.
    The hook runs inside that call, so it must be quick (a dict lookup).
    From inside it, ``close()`` is deferred until the call returns (the
    peer is refused); any other call on the server raises
    :class:`UsageError`.
    """

    def __init__(self, config: Config, *, on_connect: Optional[OnConnect] = None) -> None:
        if on_connect is not None and not callable(on_connect):
            raise TypeError("on_connect must be callable or None")
        self._on_connect = on_connect
        self._config = config  # as Connection's
        self._in_hook = False
        self._close_deferred = False
        hook = None if on_connect is None else _on_connect_trampoline(weakref.ref(self))
        cap = c.pyserver_new(config._cap, hook)
        if isinstance(cap, int):
            raise error_from_code(cap, "a server needs a certificate or a PSK"
                                  if cap == int(c.SDTLS_E_CREDENTIALS) else "")
        self._cap: object = cap
        self._events: Deque[Event] = deque()
        self._views: dict[int, ServerConnection] = {}
        self._last_ns = 0

    @property
    def on_connect(self) -> Optional[OnConnect]:
        """The per-peer hook given to the constructor, or None."""
        return self._on_connect

    def _run_on_connect(self, address: Address, conn: Any) -> bool:
        # Called from C, inside receive_datagram(), with the new peer's raw
        # connection (valid during this call only). True keeps the peer.
        hook = self._on_connect
        if self._close_deferred:
            return False
        if hook is None:
            return True
        self._in_hook = True
        try:
            answer = hook(address)
        finally:
            self._in_hook = False
        if self._close_deferred:
            return False
        if answer is None or answer is True:
            return True
        if answer is False:
            return False
        if not isinstance(answer, (str, abc.Iterable)):
            raise TypeError(f"on_connect must return None, a bool or fingerprints, not {type(answer).__name__}")
        for fp in _fingerprints(answer):
            if not isinstance(fp, str):
                raise TypeError(f"on_connect returned a fingerprint that is not a str: {fp!r}")
            rc = int(c.sdtls_conn_add_peer_fingerprint(conn, _fingerprint_arg(fp)))
            if rc:
                raise error_from_code(rc, f"on_connect's fingerprint {fp!r} for {address!r}")
        return True

    def _now(self, now: Optional[float]) -> int:
        ns = _sdtls_time(now)
        if ns < self._last_ns:
            ns = self._last_ns
        self._last_ns = ns
        return ns

    def receive_datagram(self, data: bytes, addr: Address, now: Optional[float] = None) -> None:
        """Feeds one datagram from ``addr`` (a numeric ``(host, port)``).
        Raises what ``on_connect`` (or the Config's ``psk_lookup``) raised
        while it ran."""
        if self._in_hook:
            raise UsageError(int(c.SDTLS_E_IN_CALLBACK), "not from inside on_connect", name="in callback")
        try:
            rc = c.pyserver_receive(self._cap, data, addr, self._now(now))
        finally:
            if self._close_deferred:
                self._close_deferred = False
                self.close(now)
        if rc:
            raise error_from_code(rc)

    def datagrams_to_send(self) -> list[tuple[bytes, Address]]:
        """Every ``(datagram, address)`` queued since the last call, in order."""
        out = c.pyserver_take_datagrams(self._cap)
        if out.__class__ is int:
            raise error_from_code(out)
        return out  # type: ignore[no-any-return]

    def get_timer(self) -> Optional[float]:
        """When ``handle_timer()`` must be called next, or None: seconds on
        the clock of the ``now`` values the server is given (as
        :meth:`Connection.get_timer`)."""
        d = c.pyserver_deadline(self._cap)
        if d < 0:
            raise error_from_code(d)
        return _timer(d)

    def get_timeout(self, now: Optional[float] = None) -> Optional[float]:
        """Seconds from ``now`` until ``handle_timer()`` is due (as
        :meth:`Connection.get_timeout`)."""
        return _timeout(self.get_timer(), now)

    def handle_timer(self, now: Optional[float] = None) -> None:
        """Retransmissions, handshake timeouts and idle evictions due by ``now``."""
        rc = int(c.pyserver_handle_timeout(self._cap, self._now(now)))
        if rc:
            raise error_from_code(rc)

    def _fetch_events(self) -> None:
        evs = c.pyserver_take_events(self._cap)
        if evs.__class__ is int:
            raise error_from_code(evs)
        self._queue_events(evs)

    def _queue_events(self, evs: list[tuple[int, int, Any, int, str, Optional[str], Optional[str]]]) -> None:
        views = self._views
        append = self._events.append
        for kind, cid, payload, reason, detail, version, cipher in evs:
            if kind == _EV_DATA:
                append(DatagramReceived(payload, views[cid]))
            elif kind == _EV_CONNECT:
                v = views[cid] = ServerConnection(self, cid, payload)
                append(PeerConnected(v))
            elif kind == _EV_HANDSHAKE_DONE:
                append(_handshake_completed(version, cipher, views[cid], views[cid]))
            elif kind == _EV_CLOSE:
                append(ConnectionTerminated(_termination(reason, detail), views.pop(cid)))

    @property
    def connections(self) -> list[ServerConnection]:
        """The peers the server holds now (their events stay queued for ``next_event()``)."""
        if not self.closed:
            self._fetch_events()
        return [v for v in self._views.values() if v.alive]

    def _query(self, fn: Any, *args: Any) -> Any:
        # fn(server handle, *args) under the server's guard (see _Queries).
        rc, value = c.pyserver_query(self._cap, fn, args)
        if rc:
            raise error_from_code(rc, "the server is closed" if rc == _E_CLOSED else "")
        return value

    def counters(self) -> dict[str, int]:
        """The server's counters (cookies sent, connections created...)."""
        if self.closed:
            return {}
        counters = [(n[len("SDTLS_COUNTER_"):].lower(), int(getattr(c, n))) for n in dir(c)
                    if n.startswith("SDTLS_COUNTER_")]
        snapshot: dict[str, int] = self._query(_counters, counters)
        return snapshot

    def set_cookie_secret(self, secret: bytes, now: Optional[float] = None) -> None:
        """Replaces the cookie secret (16..64 bytes; servers sharing one accept each other's cookies)."""
        rc = int(self._query(c.sdtls_server_set_cookie_secret, secret, self._now(now)))
        if rc:
            raise error_from_code(rc, "a cookie secret is 16..64 bytes")

    def pin_peer(self, address: Address, fingerprint: FingerprintLike) -> None:
        """Expects every connection made from now on for the peer at
        ``address`` (a numeric ``(host, port)``) to present a certificate
        with this fingerprint (WebRTC: the ``a=fingerprint`` of that peer's
        SDP; a :class:`Fingerprint` or any text form it parses), as the
        Config's ``peer_fingerprints`` are of every peer: the server asks
        that peer for a certificate, which must match one of either, and
        that replaces the CA check; a peer that presents another is refused
        (its :class:`ConnectionTerminated` carries a :class:`VerifyError`).
        Up to 16 per address (more raise an :class:`Error` with code
        ``SDTLS_E_LIMIT``; a bad fingerprint :class:`UsageError`); pinning one
        the address has already changes nothing. An IPv4 address and its
        IPv4-mapped IPv6 form are one address here. Connections made before
        the call are not affected; the pins stay until :meth:`unpin_peer`
        or :meth:`close`. The table is the C server's
        (``sdtls_server_pin_peer()``): constant time per pin, however many
        peers are pinned. Not from inside ``on_connect``."""
        if self._in_hook:
            raise UsageError(int(c.SDTLS_E_IN_CALLBACK), "not from inside on_connect", name="in callback")
        if not isinstance(fingerprint, (str, Fingerprint)):
            raise TypeError(f"a fingerprint is a str or a Fingerprint, not {type(fingerprint).__name__}")
        rc = int(c.pyserver_pin(self._cap, address, _fingerprint_arg(fingerprint)))
        if rc:
            raise error_from_code(rc, f"pin {fingerprint!r} for {address!r}")

    def unpin_peer(self, address: Address) -> int:
        """Removes every fingerprint pinned for the peer at ``address``;
        returns how many there were. Connections already made keep theirs.
        Not from inside ``on_connect``."""
        if self._in_hook:
            raise UsageError(int(c.SDTLS_E_IN_CALLBACK), "not from inside on_connect", name="in callback")
        n = int(c.pyserver_unpin(self._cap, address))
        if n < 0:
            raise error_from_code(n, f"unpin {address!r}")
        return n

    def close(self, now: Optional[float] = None) -> None:
        """Sends close_notify to every peer (queued; take them with
        ``datagrams_to_send()``) and frees the C server. Idempotent. From
        inside ``on_connect``: deferred until ``receive_datagram()`` returns."""
        if self._in_hook:
            self._close_deferred = True
            return
        if self.closed:
            return
        ns = self._now(now)
        self._fetch_events()  # every peer gets its close_notify, also ones not seen yet
        for cid in list(self._views):
            c.pyserver_conn_close(self._cap, cid, ns)
        rc = int(c.pyserver_free(self._cap))
        if rc:
            raise error_from_code(rc)
        self._views.clear()

    @property
    def closed(self) -> bool:
        return bool(c.pyserver_closed(self._cap))

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

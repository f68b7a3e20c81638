# SPDX-License-Identifier: Apache-2.0
"""asyncio drivers for a connection or a server over a datagram transport
the application owns (exported by :mod:`sdtls.aio`).

WebRTC runs STUN, DTLS and SRTP on one UDP socket (RFC 7983): the
application reads every datagram, hands the DTLS ones (:func:`sdtls.classify`)
to ``datagram_received()``, and the driver sends through the callable it was
given. Time is the event loop's: every call passes ``loop.time()`` as
``now``, so the deadlines the connection reports are on the loop's clock and
the timer is a ``loop.call_at()``, whatever clock the loop keeps.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Callable, Deque, Optional

from ._connection import (
    Address,
    Connection,
    ConnectionTerminated,
    DatagramReceived,
    Event,
    HandshakeCompleted,
    Server,
)
from ._errors import ConnectionClosed, Error
from ._low import c
from ._timer import DeadlineTimer

#: Called with every event, on the loop, as the driver takes it.
OnEvent = Callable[[Event], None]


class TransportConnection:
    """Runs a :class:`sdtls.Connection` (client or server role) over the
    application's transport: ``send(datagram)`` is called with every
    datagram to send; the application calls :meth:`datagram_received` with
    every DTLS datagram from the peer. ``on_event``, when given, sees every
    event (a :class:`HandshakeCompleted` carries the SRTP profile, ALPN,
    version, cipher and the peer's fingerprint). Application data is read
    with :meth:`recv`.

    ::

        dtls = sdtls.aio.TransportConnection(sdtls.Connection(config, "client"),
                                             lambda d: transport.sendto(d, peer))
        dtls.start()
        done = await dtls.handshake()      # ... datagram_received() meanwhile
        keys = dtls.connection.srtp_keying()

    Create and use it on the event loop's thread. An exception from ``send``
    or ``on_event`` propagates out of the call that made it (from a timer,
    to the loop's exception handler)."""

    def __init__(self, connection: Connection, send: Callable[[bytes], object], *,
                 on_event: Optional[OnEvent] = None) -> None:
        #: The sans-I/O connection (version, cipher, srtp_keying()...).
        self.connection = connection
        self._send = send
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._timer = DeadlineTimer(self._loop, self._on_timer, self._loop.time)
        self._data: Deque[bytes] = deque()
        self._wakeup: Optional[asyncio.Future[None]] = None
        self._handshake: asyncio.Future[HandshakeCompleted] = self._loop.create_future()
        self._handshake.add_done_callback(_retrieve)
        self._error: Optional[Error] = None

    def start(self) -> None:
        """Starts the handshake (a client sends its first flight)."""
        self.connection.start(self._loop.time())
        self._process()

    def datagram_received(self, data: bytes) -> None:
        """Feeds one DTLS datagram from the peer."""
        self.connection.receive_datagram(data, self._loop.time())
        self._process()

    async def handshake(self) -> HandshakeCompleted:
        """Waits for the handshake; returns its event, or raises what ended
        the connection (:class:`VerifyError` for a fingerprint that does not
        match...). Bound it with ``asyncio.wait_for``: the connection's own
        handshake timeout ends it too."""
        return await asyncio.shield(self._handshake)

    def send(self, data: bytes) -> None:
        """Sends ``data`` as one DTLS record to the peer (once connected)."""
        self.connection.send(data, self._loop.time())
        self._process()

    async def recv(self) -> bytes:
        """The peer's next application datagram; raises
        :class:`ConnectionClosed` (or the error that ended the connection)
        once it has ended and every datagram before that was read."""
        while not self._data:
            if self._error is not None:
                raise self._error
            self._wakeup = self._loop.create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        return self._data.popleft()

    def close(self) -> None:
        """Sends close_notify (when connected) and stops the timer. Idempotent."""
        self.connection.close(self._loop.time())
        self._process()
        self._end(ConnectionClosed(int(c.SDTLS_E_CLOSED), "closed here"))

    def _on_timer(self) -> None:
        self.connection.handle_timer(self._loop.time())
        self._process()

    def _process(self) -> None:
        conn = self.connection
        while (ev := conn.next_event()) is not None:
            if isinstance(ev, HandshakeCompleted) and not self._handshake.done():
                self._handshake.set_result(ev)
            elif isinstance(ev, DatagramReceived):
                self._data.append(ev.data)
                self._wake()
            elif isinstance(ev, ConnectionTerminated):
                self._end(ev.error or ConnectionClosed(int(c.SDTLS_E_CLOSED), "the peer closed the connection"))
            if self._on_event is not None:
                self._on_event(ev)
        # After the events: what on_event queued goes out now too.
        for datagram in conn.datagrams_to_send():
            self._send(datagram)
        self._timer.set(None if self._error is not None else conn.get_timer())

    def _end(self, error: Error) -> None:
        if self._error is None:
            self._error = error
        if not self._handshake.done():
            self._handshake.set_exception(error)
        self._timer.cancel()
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)


class TransportServer:
    """Runs a :class:`sdtls.Server` (many peers, cookie exchange) over the
    application's transport: ``send(datagram, address)`` is called with
    every datagram to send; the application calls :meth:`datagram_received`
    with every DTLS datagram and the address it came from. Events go to
    ``on_event`` (:class:`PeerConnected`, :class:`HandshakeCompleted`,
    :class:`DatagramReceived`, :class:`ConnectionTerminated`, each with the
    peer's ``connection``). Per-peer fingerprints (WebRTC: each peer's SDP)
    are the server's ``pin_peer()``. Use it on the event loop's
    thread; exceptions from ``send`` and ``on_event`` propagate as
    :class:`TransportConnection`'s do."""

    def __init__(self, server: Server, send: Callable[[bytes, Address], object], *,
                 on_event: Optional[OnEvent] = None) -> None:
        #: The sans-I/O server (connections, counters()...).
        self.server = server
        self._send = send
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._timer = DeadlineTimer(self._loop, self._on_timer, self._loop.time)

    def datagram_received(self, data: bytes, address: Address) -> None:
        """Feeds one DTLS datagram from ``address`` (a numeric ``(host,
        port)``). Raises what the server's ``on_connect`` raised, after the
        datagram was handled."""
        try:
            self.server.receive_datagram(data, address, self._loop.time())
        finally:
            self._process()

    def close(self) -> None:
        """Sends close_notify to every peer and closes the server. Idempotent."""
        if not self.server.closed:
            self.server.close(self._loop.time())
            for data, address in self.server.datagrams_to_send():
                self._send(data, address)
        self._timer.cancel()

    def _on_timer(self) -> None:
        if not self.server.closed:
            self.server.handle_timer(self._loop.time())
            self._process()

    def _process(self) -> None:
        srv = self.server
        if srv.closed:
            return
        while (ev := srv.next_event()) is not None:
            if self._on_event is not None:
                self._on_event(ev)
        if srv.closed:  # on_event closed it
            return
        for data, address in srv.datagrams_to_send():
            self._send(data, address)
        self._timer.set(srv.get_timer())


def _retrieve(f: "asyncio.Future[HandshakeCompleted]") -> None:
    # A handshake nobody awaited must not log "exception never retrieved".
    if not f.cancelled():
        f.exception()

# SPDX-License-Identifier: Apache-2.0
"""Blocking sockets over the sans-I/O objects: :func:`connect` and :func:`serve`."""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Iterable, Optional, Union

from ._config import Config, FingerprintLike
from ._connection import (
    Address,
    Connection,
    ConnectionTerminated,
    DatagramReceived,
    HandshakeCompleted,
    OnConnect,
    Server,
    ServerConnection,
)
from ._errors import ConnectionClosed, Error, PeerTimeout, error_from_code
from ._low import c

log = logging.getLogger("sdtls")

_RECV_SIZE = 65535
#: The most received datagrams DTLSClient.send() keeps for a later recv().
_MAX_HELD = 256


def default_client_config() -> Config:
    """A client config that trusts the system's CA certificates."""
    cfg = Config()
    try:
        cfg.load_default_certs()
    except Error:
        pass  # verification will fail, and say why
    return cfg


class DTLSClient:
    """A DTLS client on a connected UDP socket (made by :func:`connect`).

    ``send()`` sends one datagram; ``recv()`` returns the next one. Not
    thread-safe: one thread at a time (``send()`` reads the socket too).

    Both drive the connection, so a client that only sends works: before
    sending, ``send()`` takes the datagrams already waiting on the socket,
    without blocking (their data waits for the next ``recv()``, in order; at
    most 256 unread datagrams are held, the rest stay in the socket's
    buffer), and acts on an expired timer. That retransmits the client's
    last handshake flight when it was lost (the Finished of DTLS 1.3, which
    the server acknowledges; the CCS and Finished of a resumed DTLS 1.2
    handshake, sent again when the server repeats its flight) and takes the
    server's DTLS 1.3 ACKs and session tickets. Until the server has that
    flight it drops the client's data, and DTLS does not resend data: the
    first sends after a lost flight may be lost.
    """

    def __init__(self, sock: socket.socket, connection: Connection) -> None:
        self.socket = sock
        #: The sans-I/O connection (version, cipher, peer_fingerprint...).
        self.connection = connection
        self._inbox: Deque[bytes] = deque()
        self._ended: Optional[Error] = None
        self._ended_clean = False
        self._connected = False
        self._closed = False

    # The loop: send what is queued, wait for a datagram or the timer.
    def _flush(self) -> None:
        for d in self.connection.datagrams_to_send():
            try:
                self.socket.send(d)
            except BlockingIOError:
                pass  # lost, like any datagram; the handshake retransmits
            except ConnectionRefusedError:
                # The ICMP refusal of an earlier datagram, reported by this
                # send (a ClientHello in two datagrams meets it here, not in
                # recv()): before the handshake, nothing listens there.
                if not self._connected:
                    raise

    def _events(self) -> None:
        while True:
            ev = self.connection.next_event()
            if ev is None:
                return
            if isinstance(ev, DatagramReceived):
                self._inbox.append(ev.data)
            elif isinstance(ev, HandshakeCompleted):
                self._connected = True
            elif isinstance(ev, ConnectionTerminated):
                self._ended_clean = ev.error is None
                self._ended = ev.error or ConnectionClosed(int(c.SDTLS_E_CLOSED), "the peer closed the connection")

    def _drive(self) -> None:
        """Takes what is waiting on the socket and acts on an expired timer,
        without blocking."""
        while len(self._inbox) < _MAX_HELD:
            try:
                data = self.socket.recv(_RECV_SIZE)
            except BlockingIOError:
                break
            except ConnectionRefusedError:
                continue  # an ICMP refusal: as a lost datagram
            self.connection.receive_datagram(data)
            self._events()
        timer = self.connection.get_timer()
        if timer is not None and time.monotonic() >= timer:
            self.connection.handle_timer()
        self._events()

    def _step(self, until: Optional[float]) -> None:
        """Waits for one datagram or timer (or until ``until``) and acts."""
        self._flush()
        timer = self.connection.get_timer()
        wake = min(t for t in (timer, until) if t is not None) if (timer or until) else None
        wait = None if wake is None else max(0.0, wake - time.monotonic())
        readable, _, _ = select.select([self.socket], [], [], wait)
        if readable:
            while True:  # everything that is there, then the events
                try:
                    data = self.socket.recv(_RECV_SIZE)
                except BlockingIOError:
                    break
                self.connection.receive_datagram(data)
        timer = self.connection.get_timer()
        if timer is not None and time.monotonic() >= timer:
            self.connection.handle_timer()
        self._events()
        self._flush()

    def _handshake(self, timeout: Optional[float]) -> None:
        until = None if timeout is None else time.monotonic() + timeout
        self.connection.start()
        while not self._connected:
            if self._ended is not None:
                raise self._ended
            if until is not None and time.monotonic() >= until:
                raise PeerTimeout(int(c.SDTLS_E_TIMEOUT), f"no handshake within {timeout} s")
            self._step(until)

    def send(self, data: bytes) -> None:
        """Sends ``data`` as one datagram (at most ``connection.max_data_size``
        bytes), after taking what has arrived and acting on the timer (see
        :class:`DTLSClient`). Raises the error that ended the connection, or
        :class:`ConnectionClosed` once the peer has closed."""
        if self._ended is not None:
            raise self._ended
        self._drive()
        if self._ended is not None:
            raise self._ended
        self.connection.send(data)
        self._flush()

    def recv(self, timeout: Optional[float] = None) -> bytes:
        """The next datagram from the peer. Raises :class:`TimeoutError` after
        ``timeout`` seconds (None: wait), :class:`ConnectionClosed` once the
        peer has closed, or the error that ended the connection."""
        until = None if timeout is None else time.monotonic() + timeout
        while not self._inbox:
            if self._ended is not None:
                raise self._ended
            if until is not None and time.monotonic() >= until:
                raise TimeoutError("no datagram within the timeout")
            self._step(until)
        return self._inbox.popleft()

    def close(self) -> None:
        """Sends close_notify and closes the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.connection.close()
            self._flush()
        finally:
            self.socket.close()

    def __enter__(self) -> "DTLSClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(host: str, port: int, config: Optional[Config] = None, *, server_name: Optional[str] = None,
            timeout: Optional[float] = 30.0, session: Optional[bytes] = None,
            peer_fingerprints: Optional[Union[str, Iterable[str]]] = None) -> DTLSClient:
    """Connects to a DTLS server over UDP and completes the handshake.

    ``config`` defaults to one that verifies the server against the system's
    CA certificates; the name checked (and sent as SNI) is ``server_name``,
    else ``host``. ``session`` offers a session saved from an earlier
    connection (``client.connection.get_session()``); ``peer_fingerprints``
    pins the server's certificate for this connection (see
    :class:`Connection`). Raises the handshake's :class:`Error` (``VerifyError``,
    ``AlertError``...), :class:`PeerTimeout` after ``timeout`` seconds,
    or :class:`ConnectionRefusedError` when nothing listens there.
    """
    if config is None:
        config = default_client_config()
    info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    sock = socket.socket(info[0], socket.SOCK_DGRAM)
    try:
        sock.connect(info[4])
        sock.setblocking(False)
        client = DTLSClient(sock, Connection(config, "client", server_name=server_name or host,
                                             session=session, peer_fingerprints=peer_fingerprints))
        client._handshake(timeout)
    except BaseException:
        sock.close()
        raise
    return client


Handler = Callable[[ServerConnection, bytes], Any]


class DTLSServer:
    """A blocking DTLS server for many peers on one UDP socket (made by
    :func:`serve`). Formerly ``DatagramServer``.

    ``handler(connection, data)`` is called for each datagram a peer sends;
    it replies with ``connection.send()``. An exception from it is logged and
    that peer is closed; the server goes on. ``serve_forever()`` runs until
    ``shutdown()`` (from any thread).

    :meth:`pin_peer` pins a peer's certificate by address before it
    connects (WebRTC), from any thread.

    ``on_connect(address)`` decides per peer as it connects, as
    :class:`Server`'s does (None accepts, False refuses, fingerprints pin
    that peer's certificate); an exception from it refuses the peer and is
    logged, and the server goes on.

    ``reuse_port=True`` binds with ``SO_REUSEPORT`` and ``cookie_secret``
    sets the cookie secret, so that several processes share the port (see
    :func:`sdtls.aio.serve`).
    """

    def __init__(self, handler: Handler, host: str, port: int, config: Config, *,
                 on_connect: Optional[OnConnect] = None, reuse_port: bool = False,
                 cookie_secret: Optional[bytes] = None) -> None:
        self.handler = handler
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)[0]
        self.socket = socket.socket(info[0], socket.SOCK_DGRAM)
        try:
            if reuse_port:
                if not hasattr(socket, "SO_REUSEPORT"):
                    raise ValueError("reuse_port needs SO_REUSEPORT, which this platform lacks")
                self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self.socket.bind(info[4])
            self.socket.setblocking(False)
            self.server = Server(config, on_connect=on_connect)
            if cookie_secret is not None:
                self.server.set_cookie_secret(cookie_secret)
        except BaseException:
            self.socket.close()
            raise
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        # Held by serve_forever() while it drives the server, so that
        # pin_peer() from another thread waits instead of finding the
        # Server busy; reentrant for the handler's own calls.
        self._lock = threading.RLock()
        self._stop = False
        self._fds_closed = False

    @property
    def server_address(self) -> Address:
        return tuple(self.socket.getsockname())

    def _flush(self) -> None:
        for data, addr in self.server.datagrams_to_send():
            try:
                self.socket.sendto(data, addr)
            except OSError:
                pass  # lost, like any datagram

    def _dispatch(self) -> None:
        while True:
            ev = self.server.next_event()
            if ev is None:
                return
            if isinstance(ev, DatagramReceived) and ev.connection is not None:
                try:
                    self.handler(ev.connection, ev.data)
                except Exception:
                    log.exception("sdtls: handler failed for %s; closing it", ev.connection.address)
                    ev.connection.close()

    def serve_forever(self) -> None:
        """Serves until :meth:`shutdown`; then closes every peer and the socket."""
        try:
            while not self._stop:
                timer = self.server.get_timer()
                wait = None if timer is None else max(0.0, timer - time.monotonic())
                readable, _, _ = select.select([self.socket.fileno(), self._wake_r], [], [], wait)
                with self._lock:
                    self._serve_once(self.socket.fileno() in readable)
        finally:
            self.server.close()
            self._flush()
            self.socket.close()
            self._fds_closed = True
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _serve_once(self, readable: bool) -> None:
        if readable:
            for _ in range(256):  # a batch, then the timers
                try:
                    data, addr = self.socket.recvfrom(_RECV_SIZE)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                try:
                    self.server.receive_datagram(data, addr)
                except Exception:  # on_connect or psk_lookup raised: that peer is refused
                    log.exception("sdtls: a callback failed on a datagram from %s", addr)
        timer = self.server.get_timer()
        if timer is not None and time.monotonic() >= timer:
            self.server.handle_timer()
        self._dispatch()
        self._flush()

    def pin_peer(self, address: Address, fingerprint: FingerprintLike) -> None:
        """:meth:`Server.pin_peer`, from any thread (it waits while
        ``serve_forever()`` handles a batch of datagrams)."""
        with self._lock:
            self.server.pin_peer(address, fingerprint)

    def unpin_peer(self, address: Address) -> int:
        """:meth:`Server.unpin_peer`, from any thread."""
        with self._lock:
            return self.server.unpin_peer(address)

    def shutdown(self) -> None:
        """Stops ``serve_forever()`` (from another thread or a handler)."""
        self._stop = True
        if not self._fds_closed:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass


def serve(handler: Handler, host: str, port: int, config: Config, *,
          on_connect: Optional[OnConnect] = None, reuse_port: bool = False,
          cookie_secret: Optional[bytes] = None) -> None:
    """Serves DTLS on ``host:port`` until interrupted: ``handler(connection,
    data)`` for each datagram from each peer; ``on_connect(address)``
    decides per peer (see :class:`DTLSServer`); ``reuse_port`` and
    ``cookie_secret`` let several processes share the port, as for
    :func:`sdtls.aio.serve`."""
    DTLSServer(handler, host, port, config, on_connect=on_connect, reuse_port=reuse_port,
               cookie_secret=cookie_secret).serve_forever()

# SPDX-License-Identifier: Apache-2.0
"""asyncio over the sans-I/O objects.

::

    client = await sdtls.aio.connect("127.0.0.1", 4433, config)
    client.send(b"hello")
    reply = await client.recv()
    client.close()

    async def handler(peer: sdtls.aio.DTLSServerConnection) -> None:
        async for data in peer:          # until the peer closes
            peer.send(data)
    server = await sdtls.aio.serve(handler, "127.0.0.1", 4433, config)

    class Echo(sdtls.aio.PeerProtocol):  # callbacks instead of a task per peer
        def connection_made(self, peer: sdtls.aio.DTLSServerConnection) -> None:
            self.peer = peer
        def datagram_received(self, data: bytes) -> None:
            self.peer.send(data)
    server = await sdtls.aio.create_server(Echo, "127.0.0.1", 4433, config)

The names are those of the blocking layer (:class:`sdtls.DTLSClient`,
:class:`sdtls.DTLSServer`): classes named DTLS* own a socket, the others
are sans-I/O. Timers run on the event loop (one loop timer each); nothing
polls. Cancelling ``recv()`` loses no datagram; cancelling ``connect()``
closes its socket. :func:`serve` and :func:`create_server` are to each
other what ``asyncio.start_server()`` and ``loop.create_server()`` are: a
coroutine per peer, or a :class:`PeerProtocol` whose callbacks run on the
loop as each datagram is read (one loop iteration per datagram instead of
two: the faster path, tests/bench/aio_echo.py).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Deque, Iterable, Optional, Union, cast

from ._blocking import default_client_config
from ._config import Config, FingerprintLike
from ._connection import (
    Address,
    Connection,
    ConnectionTerminated,
    DatagramReceived,
    HandshakeCompleted,
    OnConnect,
    Server,
    ServerConnection as _View,
    _EPOCH_NS,
)
from ._deprecated import module_getattr as _module_getattr
from ._errors import ConnectionClosed, Error, PeerTimeout, error_from_code
from ._low import c
from ._timer import DeadlineTimer

__all__ = ["connect", "serve", "create_server", "DTLSClient", "DTLSServerConnection", "DTLSServer", "PeerProtocol"]

log = logging.getLogger("sdtls")
_E_CLOSED = int(c.SDTLS_E_CLOSED)


class _Inbox:
    """Received datagrams and the end of the stream, awaited without polling."""

    def __init__(self) -> None:
        self._data: Deque[bytes] = deque()
        self._waiter: Optional[asyncio.Future[None]] = None
        self.error: Optional[Error] = None

    def put(self, data: bytes) -> None:
        self._data.append(data)
        self._wake()

    def end(self, error: Error) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def get(self) -> bytes:
        while not self._data:
            if self.error is not None:
                raise self.error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter  # cancellation leaves the data where it is
            finally:
                self._waiter = None
        return self._data.popleft()


def _closed(detail: str) -> ConnectionClosed:
    return ConnectionClosed(_E_CLOSED, detail)


class DTLSClient(asyncio.DatagramProtocol):
    """A DTLS client on a connected UDP socket (made by :func:`connect`);
    the asyncio form of :class:`sdtls.DTLSClient`. Formerly ``Client``."""

    def __init__(self, connection: Connection) -> None:
        #: The sans-I/O connection (version, cipher, peer_fingerprint...).
        self.connection = connection
        self._loop = asyncio.get_running_loop()
        self._transport: Optional[asyncio.DatagramTransport] = None
        self._timer = DeadlineTimer(self._loop, self._on_timer, time.monotonic)
        self._inbox = _Inbox()
        self._handshake: asyncio.Future[None] = self._loop.create_future()
        self._closed = False

    # asyncio.DatagramProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self._closed:
            return
        self.connection.receive_datagram(data)
        self._process()

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError) and not self._handshake.done():
            self._handshake.set_exception(exc)
            self._shut()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._inbox.end(_closed("the socket was closed"))
        self._timer.cancel()

    def _on_timer(self) -> None:
        if not self._closed:
            self.connection.handle_timer()
            self._process()

    def _process(self) -> None:
        conn = self.connection
        while True:
            ev = conn.next_event()
            if ev is None:
                break
            if isinstance(ev, DatagramReceived):
                self._inbox.put(ev.data)
            elif isinstance(ev, HandshakeCompleted):
                if not self._handshake.done():
                    self._handshake.set_result(None)
            elif isinstance(ev, ConnectionTerminated):
                err = ev.error or _closed("the peer closed the connection")
                self._inbox.end(err)
                if not self._handshake.done():
                    self._handshake.set_exception(err)
        self._flush()
        self._timer.set(None if self._closed else conn.get_timer())

    def _flush(self) -> None:
        t = self._transport
        for d in self.connection.datagrams_to_send():
            if t is not None and not t.is_closing():
                t.sendto(d)

    def _shut(self) -> None:
        self._closed = True
        self._timer.cancel()
        if self._transport is not None:
            self._transport.close()

    # the API
    def send(self, data: bytes) -> None:
        """Sends ``data`` as one datagram (at most ``connection.max_data_size`` bytes)."""
        if self._inbox.error is not None:
            raise self._inbox.error
        self.connection.send(data)
        self._process()

    async def recv(self) -> bytes:
        """The next datagram; raises :class:`ConnectionClosed` once the peer
        closed, or the error that ended the connection."""
        return await self._inbox.get()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[bytes]:
        while True:
            try:
                yield await self.recv()
            except ConnectionClosed:
                return

    def close(self) -> None:
        """Sends close_notify and closes the socket. Idempotent."""
        if self._closed:
            return
        self.connection.close()
        self._flush()
        self._inbox.end(_closed("closed here"))
        self._shut()

    async def __aenter__(self) -> "DTLSClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def connect(host: str, port: int, config: Optional[Config] = None, *, server_name: Optional[str] = None,
                  timeout: Optional[float] = 30.0, session: Optional[bytes] = None,
                  peer_fingerprints: Optional[Union[str, Iterable[str]]] = None) -> DTLSClient:
    """Connects to a DTLS server and completes the handshake (see
    :func:`sdtls.connect` for the arguments and errors)."""
    if config is None:
        config = default_client_config()
    loop = asyncio.get_running_loop()
    conn = Connection(config, "client", server_name=server_name or host, session=session,
                      peer_fingerprints=peer_fingerprints)
    transport, client = await loop.create_datagram_endpoint(lambda: DTLSClient(conn), remote_addr=(host, port))
    try:
        conn.start()
        client._process()
        await asyncio.wait_for(asyncio.shield(client._handshake), timeout)
    except asyncio.TimeoutError:
        client._shut()
        raise PeerTimeout(int(c.SDTLS_E_TIMEOUT), f"no handshake within {timeout} s") from None
    except BaseException:
        client._shut()  # cancelled, refused or failed: no socket left behind
        if client._handshake.done() and not client._handshake.cancelled():
            client._handshake.exception()  # retrieved
        raise
    return client


class DTLSServerConnection:
    """One peer of a :class:`DTLSServer`, as its handler sees it: a stream
    over the peer's :class:`sdtls.ServerConnection`. Formerly
    ``ServerConnection``."""

    def __init__(self, server: "DTLSServer", view: _View) -> None:
        self._server = server
        #: The borrowed sans-I/O view (version, cipher, peer_fingerprint...).
        self.connection = view
        self.address: Address = view.address
        self._inbox = _Inbox()
        self._protocol: Optional[PeerProtocol] = None  # create_server(): where its datagrams go
        self._cap = server.server._cap
        self._id = view._id
        self._loop = server._loop

    def send(self, data: bytes) -> None:
        """Sends ``data`` to this peer as one datagram."""
        if self._inbox.error is not None:
            raise self._inbox.error
        # Encrypted and sent in one call into C (on the server's socket).
        rc = _io_send(self._cap, self._id, data)
        if rc:
            self._server._sent(rc, self.connection)

    async def recv(self) -> bytes:
        """The peer's next datagram; raises :class:`ConnectionClosed` once it
        has closed. (A peer served by a :class:`PeerProtocol` has its
        datagrams handed to the protocol instead.)"""
        return await self._inbox.get()

    def __aiter__(self) -> "DTLSServerConnection":
        return self

    async def __anext__(self) -> bytes:
        # The next datagram, until the peer closes: recv() written out, one
        # frame for a handler's loop, which runs per datagram.
        inbox = self._inbox
        data = inbox._data
        while not data:
            if inbox.error is not None:
                if isinstance(inbox.error, ConnectionClosed):
                    raise StopAsyncIteration
                raise inbox.error
            w = inbox._waiter = _Future(loop=self._loop)
            try:
                await w  # cancellation leaves the data where it is
            finally:
                inbox._waiter = None
        return data.popleft()

    def close(self) -> None:
        """Sends close_notify to this peer and forgets it. Idempotent."""
        self.connection.close()
        self._server._process()


Handler = Callable[[DTLSServerConnection], Awaitable[Any]]


class PeerProtocol:
    """Callbacks for one peer of a server made by :func:`create_server`
    (one instance per peer, from its ``protocol_factory``), called on the
    event loop: ``connection_made(peer)`` once its handshake is done, then
    ``datagram_received(data)`` for each of its datagrams as the server
    reads it, then ``connection_lost(error)`` once, soon after it has gone:
    ``error`` is None after the peer's close_notify, else what ended it (as
    :class:`sdtls.ConnectionTerminated`'s: :class:`ConnectionClosed` when it
    was closed here or the server closed, :class:`PeerTimeout`...).

    The peer (:class:`DTLSServerConnection`) sends with ``peer.send()`` and
    closes with ``peer.close()``. A callback must not block; one that
    raises has the error logged and its peer closed, and the server goes
    on. The methods here do nothing."""

    def connection_made(self, peer: DTLSServerConnection) -> None:
        """The peer's handshake is done."""

    def datagram_received(self, data: bytes) -> None:
        """One datagram from the peer."""

    def connection_lost(self, error: Optional[Exception]) -> None:
        """The peer has gone (not called when ``connection_made`` raised)."""


_io_read = c.pyserver_io_read
_io_send = c.pyserver_io_send
_io_drain = c.pyserver_io_drain
_EV_DATA = int(c.EV_DATA)
_Future = asyncio.Future  # (loop.create_future() without its frame)
_IO_MORE = int(c.SDTLSPY_IO_MORE)
_IO_HOOK = int(c.SDTLSPY_IO_HOOK)
_IO_BLOCKED = int(c.SDTLSPY_IO_BLOCKED)


class DTLSServer(asyncio.DatagramProtocol):
    """Many DTLS peers on one UDP socket (made by :func:`serve`): one
    ``handler(peer)`` task per peer, started once its handshake is done. When
    the handler returns, the peer is closed; when it raises, the error is
    logged and the peer closed. Made by :func:`create_server` (a
    ``protocol_factory`` instead of the handler): a :class:`PeerProtocol`
    per peer instead of the task.

    :meth:`pin_peer` pins a peer's certificate by address before it
    connects (WebRTC). ``on_connect(address)`` decides per peer as it
    connects, as :class:`sdtls.Server`'s does (None accepts, False refuses,
    fingerprints pin that peer's certificate); it is a plain function,
    called on the loop. An exception from it refuses the peer and is logged; the server
    goes on.

    The socket :func:`serve` made is the C server's own: the event loop
    tells when it is readable, and one call into C reads the datagrams
    waiting (a batch), runs the protocol and sends its replies, so Python
    sees only the peers' data. (A server made with this constructor and
    given to ``loop.create_datagram_endpoint()`` as its protocol works over
    that transport instead.)"""

    def __init__(self, handler: Optional[Handler], config: Config, *, on_connect: Optional[OnConnect] = None,
                 cookie_secret: Optional[bytes] = None,
                 protocol_factory: Optional[Callable[[], PeerProtocol]] = None) -> None:
        if (handler is None) == (protocol_factory is None):
            raise TypeError("DTLSServer takes a handler or a protocol_factory (one of them)")
        self._handler = handler
        self._protocol_factory = protocol_factory
        self.server = Server(config, on_connect=on_connect)
        if cookie_secret is not None:
            self.server.set_cookie_secret(cookie_secret)
        self._cap = self.server._cap
        _check(c.pyserver_io_attach(self._cap, -1, _EPOCH_NS))  # the clock of the sends in C
        self._loop = asyncio.get_running_loop()
        self._transport: Optional[asyncio.DatagramTransport] = None
        self._fd = -1  # the socket serve() made, which the C server owns
        self._sockname: Any = None
        self._writing = False  # waiting for the socket to take what C queued
        self._timer = DeadlineTimer(self._loop, self._on_timer, time.monotonic)
        self._peers: dict[int, DTLSServerConnection] = {}  # by connection id
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed: asyncio.Future[None] = self._loop.create_future()

    @property
    def address(self) -> Address:
        if self._sockname is not None:
            return tuple(self._sockname)
        assert self._transport is not None
        return tuple(self._transport.get_extra_info("sockname"))

    # ---- its own socket (serve) --------------------------------------------

    def _attach(self, sock: socket.socket) -> None:
        self._sockname = sock.getsockname()
        _check(c.pyserver_io_attach(self._cap, sock.fileno(), _EPOCH_NS))
        fd = sock.detach()  # the C server's from now on: it closes it
        try:
            self._loop.add_reader(fd, self._on_readable)
        except BaseException:
            c.pyserver_io_detach(self._cap)
            raise
        self._fd = fd

    def _on_readable(self) -> None:
        # The socket is readable: one call into C reads a batch of datagrams
        # and answers what the protocol answers; here only the peers' data
        # and the other events. The per-datagram path: kept short.
        srv = self.server
        peers = self._peers
        while True:
            r = _io_read(self._cap)
            if r.__class__ is int:  # another thread's call runs on the server: read later
                if self._fd >= 0:
                    self._loop.call_soon(self._on_readable)
                return
            events, deadline, flags, failure = r
            if srv._events:  # taken from C by a call on the server (connections)
                self._on_events()
            for ev in events:
                if ev[0] == _EV_DATA:
                    peer = peers.get(ev[1])
                    if peer is None:
                        continue
                    if peer._protocol is not None:
                        self._deliver(peer, ev[2])
                    else:  # peer._inbox.put(data), written out
                        inbox = peer._inbox
                        inbox._data.append(ev[2])
                        w = inbox._waiter
                        if w is not None and not w.done():
                            w.set_result(None)
                else:
                    srv._queue_events([ev])
                    self._on_events()
            if deadline is not None:  # earlier than the one the timer waits for
                self._timer.set(deadline)
            if not flags and failure is None:
                return
            if failure is not None:
                address, exc, rc = failure
                log.error("sdtls: a callback failed on a datagram from %s", address,
                          exc_info=exc if exc is not None else error_from_code(rc))
            if flags & _IO_HOOK and srv._close_deferred:  # close() from inside on_connect, now
                srv._close_deferred = False
                srv.close()
            self._set_writing(bool(flags & _IO_BLOCKED))  # (a writer left on finds nothing, and goes)
            if not flags & _IO_MORE or self._fd < 0:
                return

    def _set_writing(self, on: bool) -> None:
        if self._fd < 0 or on == self._writing:
            return
        if on:
            self._loop.add_writer(self._fd, self._process)
        else:
            self._loop.remove_writer(self._fd)
        self._writing = on

    def _detach(self) -> None:
        if self._fd < 0:
            return
        self._loop.remove_reader(self._fd)
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        self._fd = -1
        c.pyserver_io_detach(self._cap)  # sends what waits if it can, closes the socket
        if not self._closed.done():
            self._closed.set_result(None)

    # ---- over a transport (this class as a DatagramProtocol) ----------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.server.closed:
            return
        try:
            self.server.receive_datagram(data, addr)
        except Exception:  # on_connect or psk_lookup raised: that peer is refused
            log.exception("sdtls: a callback failed on a datagram from %s", addr)
        self._process()

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP errors for a peer that went away; its timers handle it

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._timer.cancel()
        if not self._closed.done():
            self._closed.set_result(None)

    # ---- both -------------------------------------------------------------------

    def _on_timer(self) -> None:
        if not self.server.closed:
            self.server.handle_timer()
            self._process()

    def _sent(self, rc: int, view: _View) -> None:
        # A send that needs more than its one call: an error, or something to take.
        if rc < 0:
            raise error_from_code(rc, view._detail() if rc > -999 else "")
        self._process()

    def _process(self) -> None:
        # After a timer, a close, a send that asked for it, or when the
        # socket became writable: the events, the next deadline and (over
        # a transport) the datagrams to send, in one call into C.
        r = _io_drain(self._cap)
        if r.__class__ is int:
            raise error_from_code(r)
        events, deadline, blocked, datagrams = r
        if events or self.server._events:
            self._dispatch(events)
        if datagrams:
            t = self._transport
            if t is not None and not t.is_closing():
                for data, addr in datagrams:
                    t.sendto(data, addr)
        self._timer.set(deadline)
        self._set_writing(bool(blocked))

    def _dispatch(self, events: list[Any]) -> None:
        # Events as C queues them: a peer's data goes to its inbox as it
        # is; the others become the Server's events (its views).
        srv = self.server
        if srv._events:  # taken from C by a call on the server (connections, close)
            self._on_events()
        peers = self._peers
        for ev in events:
            if ev[0] == _EV_DATA:
                peer = peers.get(ev[1])
                if peer is not None:
                    self._deliver(peer, ev[2])
            else:
                srv._queue_events([ev])
                self._on_events()

    def _on_events(self) -> None:
        srv = self.server
        events, srv._events = srv._events, deque()
        for ev in events:
            if isinstance(ev, DatagramReceived):
                peer = self._peers.get(ev.connection._id) if ev.connection is not None else None
                if peer is not None:
                    self._deliver(peer, ev.data)
            elif isinstance(ev, HandshakeCompleted) and ev.connection is not None:
                peer = self._peers[ev.connection._id] = DTLSServerConnection(self, ev.connection)
                if self._protocol_factory is not None:
                    self._start_protocol(peer, self._protocol_factory)
                else:
                    assert self._handler is not None
                    task = self._loop.create_task(self._run(peer, self._handler))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            elif isinstance(ev, ConnectionTerminated) and ev.connection is not None:
                peer = self._peers.pop(ev.connection._id, None)
                if peer is not None:
                    self._end(peer, ev.error)

    def _deliver(self, peer: DTLSServerConnection, data: bytes) -> None:
        proto = peer._protocol
        if proto is None:
            peer._inbox.put(data)
            return
        try:
            proto.datagram_received(data)
        except Exception:
            log.exception("sdtls: the protocol failed for %s; closing it", peer.address)
            self._close_peer(peer)

    def _end(self, peer: DTLSServerConnection, error: Optional[Error]) -> None:
        # The peer has gone: its handler's recv() ends; its protocol hears
        # connection_lost soon (not from inside the callback that closed it).
        peer._inbox.end(error or _closed("the peer closed the connection"))
        proto, peer._protocol = peer._protocol, None
        if proto is not None:
            self._loop.call_soon(self._lost, peer, proto, error)

    def _lost(self, peer: DTLSServerConnection, proto: PeerProtocol, error: Optional[Error]) -> None:
        try:
            proto.connection_lost(error)
        except Exception:
            log.exception("sdtls: connection_lost failed for %s", peer.address)

    def _start_protocol(self, peer: DTLSServerConnection, factory: Callable[[], PeerProtocol]) -> None:
        try:
            proto = peer._protocol = factory()
            proto.connection_made(peer)
        except Exception:
            peer._protocol = None  # connection_lost is for a protocol that started
            log.exception("sdtls: the protocol failed to start for %s; closing it", peer.address)
            self._close_peer(peer)

    def _close_peer(self, peer: DTLSServerConnection) -> None:
        # After its handler or protocol: unless the peer or the server has gone.
        if not self.server.closed and peer.connection.alive:
            peer.close()

    async def _run(self, peer: DTLSServerConnection, handler: Handler) -> None:
        try:
            await handler(peer)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sdtls: handler failed for %s; closing it", peer.address)
        finally:
            self._close_peer(peer)

    def pin_peer(self, address: Address, fingerprint: FingerprintLike) -> None:
        """Pins a peer's certificate by address before it connects
        (:meth:`sdtls.Server.pin_peer`); on the loop's thread."""
        self.server.pin_peer(address, fingerprint)

    def unpin_peer(self, address: Address) -> int:
        """Removes an address's pins (:meth:`sdtls.Server.unpin_peer`);
        returns how many there were."""
        return self.server.unpin_peer(address)

    def close(self) -> None:
        """Stops the handlers, sends close_notify to every peer and closes the socket.
        From inside ``on_connect``: the peer being decided is refused (as
        :meth:`sdtls.Server.close` from there), and the server closes as soon
        as the datagram has been handled."""
        if self.server._in_hook:
            self.server.close()  # deferred by the Server until the datagram is done; refuses the peer
            self._loop.call_soon(self.close)
            return
        for task in list(self._tasks):
            task.cancel()
        if not self.server.closed:
            self.server.close()  # on its own socket, each close_notify goes out as it is made
            t = self._transport
            if t is not None:
                for data, addr in self.server.datagrams_to_send():
                    if not t.is_closing():
                        t.sendto(data, addr)
        for peer in self._peers.values():
            self._end(peer, _closed("the server closed"))
        self._peers.clear()
        self._timer.cancel()
        self._detach()
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        """Waits until the socket is closed and the handlers have finished."""
        await asyncio.shield(self._closed)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve_forever(self) -> None:
        """Waits until the server is closed (closes it when cancelled)."""
        try:
            await asyncio.shield(self._closed)
        finally:
            self.close()

    async def __aenter__(self) -> "DTLSServer":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


def _check(rc: int) -> None:
    if rc:
        raise error_from_code(rc)


async def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    # The socket create_datagram_endpoint(local_addr=(host, port),
    # reuse_port=...) would make: the first address per family that binds.
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("reuse_port not supported by socket module")
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    errors: list[OSError] = []
    tried = set()
    for family, _, proto, _, address in infos:
        if (family, proto) in tried:
            continue
        tried.add((family, proto))
        sock = socket.socket(family, socket.SOCK_DGRAM, proto)
        try:
            if reuse_port:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                except OSError:
                    raise ValueError("reuse_port not supported by socket module, "
                                     "SO_REUSEPORT defined but not implemented.") from None
            sock.setblocking(False)
            sock.bind(address)
        except OSError as e:
            sock.close()
            errors.append(e)
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise errors[0]


async def serve(handler: Handler, host: str, port: int, config: Config, *,
                on_connect: Optional[OnConnect] = None, reuse_port: bool = False,
                cookie_secret: Optional[bytes] = None) -> DTLSServer:
    """Serves DTLS for many peers on one UDP socket at ``host:port``: each
    peer whose handshake completes gets ``await handler(peer)`` in a task of
    its own; ``on_connect(address)`` decides per peer (see
    :class:`DTLSServer`). Returns the server, already serving.

    ``reuse_port=True`` binds with ``SO_REUSEPORT``, so that several
    processes (or servers) share ``host:port``: the kernel hands each client
    address to one of them. Give them all the same ``cookie_secret`` (16..64
    bytes; default: a random one per server) and a Config with the same
    ``ticket_secret``, so that a cookie one of them made is accepted by the
    others and a session made on one resumes on the others (python/README.md,
    "Many processes on one port"). A platform without ``SO_REUSEPORT``
    raises ValueError."""
    # Made before the socket: a refused argument leaves no socket behind.
    server = DTLSServer(handler, config, on_connect=on_connect, cookie_secret=cookie_secret)
    return await _listen(server, host, port, reuse_port)


async def create_server(protocol_factory: Callable[[], PeerProtocol], host: str, port: int, config: Config, *,
                        on_connect: Optional[OnConnect] = None, reuse_port: bool = False,
                        cookie_secret: Optional[bytes] = None) -> DTLSServer:
    """As :func:`serve`, with callbacks instead of a task per peer: each
    peer whose handshake completes gets ``protocol_factory()``, a
    :class:`PeerProtocol` whose ``datagram_received(data)`` is called as
    the server reads each of its datagrams. Returns the server, already
    serving; the other arguments are :func:`serve`'s."""
    server = DTLSServer(None, config, on_connect=on_connect, cookie_secret=cookie_secret,
                        protocol_factory=protocol_factory)
    return await _listen(server, host, port, reuse_port)


async def _listen(server: DTLSServer, host: str, port: int, reuse_port: bool) -> DTLSServer:
    try:
        sock = await _bind(host, port, reuse_port)
        try:
            server._attach(sock)
        except BaseException:
            sock.close()
            raise
    except BaseException:
        server.server.close()
        raise
    return server


# The names before 0.1.0's renames, for one release (DeprecationWarning).
__getattr__ = _module_getattr("sdtls.aio", {"Client": ("DTLSClient", DTLSClient),
                                            "ServerConnection": ("DTLSServerConnection", DTLSServerConnection)})
if TYPE_CHECKING:
    Client = DTLSClient
    ServerConnection = DTLSServerConnection

# Over a datagram transport the application owns (WebRTC's shared socket).
from ._transport import OnEvent, TransportConnection, TransportServer  # noqa: E402

__all__ += ["TransportConnection", "TransportServer", "OnEvent"]

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

The names are those of the blocking layer (:class:`sdtls.DTLSClient`,
:class:`sdtls.DTLSServer`): classes named DTLS* own a socket, the others
are sans-I/O. Timers run on the event loop (one loop timer each); nothing
polls. Cancelling ``recv()`` loses no datagram; cancelling ``connect()``
closes its socket.
"""

from __future__ import annotations

import asyncio
import logging
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
)
from ._deprecated import module_getattr as _module_getattr
from ._errors import ConnectionClosed, Error, PeerTimeout
from ._low import c
from ._timer import DeadlineTimer

__all__ = ["connect", "serve", "DTLSClient", "DTLSServerConnection", "DTLSServer"]

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

    def send(self, data: bytes) -> None:
        """Sends ``data`` to this peer as one datagram."""
        if self._inbox.error is not None:
            raise self._inbox.error
        self.connection.send(data)
        self._server._process()

    async def recv(self) -> bytes:
        """The peer's next datagram; raises :class:`ConnectionClosed` once it has closed."""
        return await self._inbox.get()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[bytes]:
        get = self._inbox.get  # recv() without its frame: a handler's loop runs per datagram
        while True:
            try:
                yield await get()
            except ConnectionClosed:
                return

    def close(self) -> None:
        """Sends close_notify to this peer and forgets it. Idempotent."""
        self.connection.close()
        self._server._process()


Handler = Callable[[DTLSServerConnection], Awaitable[Any]]


class DTLSServer(asyncio.DatagramProtocol):
    """Many DTLS peers on one UDP socket (made by :func:`serve`): one
    ``handler(peer)`` task per peer, started once its handshake is done. When
    the handler returns, the peer is closed; when it raises, the error is
    logged and the peer closed.

    :meth:`pin_peer` pins a peer's certificate by address before it
    connects (WebRTC). ``on_connect(address)`` decides per peer as it
    connects, as :class:`sdtls.Server`'s does (None accepts, False refuses,
    fingerprints pin that peer's certificate); it is a plain function,
    called on the loop. An exception from it refuses the peer and is logged; the server
    goes on."""

    def __init__(self, handler: Handler, config: Config, *, on_connect: Optional[OnConnect] = None,
                 cookie_secret: Optional[bytes] = None) -> None:
        self._handler = handler
        self.server = Server(config, on_connect=on_connect)
        if cookie_secret is not None:
            self.server.set_cookie_secret(cookie_secret)
        self._loop = asyncio.get_running_loop()
        self._transport: Optional[asyncio.DatagramTransport] = None
        self._timer = DeadlineTimer(self._loop, self._on_timer, time.monotonic)
        self._peers: dict[_View, DTLSServerConnection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed: asyncio.Future[None] = self._loop.create_future()

    @property
    def address(self) -> Address:
        assert self._transport is not None
        return tuple(self._transport.get_extra_info("sockname"))

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

    def _on_timer(self) -> None:
        if not self.server.closed:
            self.server.handle_timer()
            self._process()

    def _process(self) -> None:
        # Runs after every datagram in and every send: the events, the
        # datagrams to send and the next deadline come in one call into C.
        srv = self.server
        events, datagrams, timer = srv._drain()
        for ev in events:
            if isinstance(ev, DatagramReceived):
                peer = self._peers.get(ev.connection)  # type: ignore[arg-type]
                if peer is not None:
                    peer._inbox.put(ev.data)
                continue
            view = getattr(ev, "connection", None)
            if isinstance(ev, HandshakeCompleted) and view is not None:
                peer = self._peers[view] = DTLSServerConnection(self, view)
                task = self._loop.create_task(self._run(peer))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif isinstance(ev, ConnectionTerminated):
                peer = self._peers.pop(view, None)  # type: ignore[arg-type]
                if peer is not None:
                    peer._inbox.end(ev.error or _closed("the peer closed the connection"))
        t = self._transport
        if t is not None and not t.is_closing():
            for data, addr in datagrams:
                t.sendto(data, addr)
        self._timer.set(timer)

    async def _run(self, peer: DTLSServerConnection) -> None:
        try:
            await self._handler(peer)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sdtls: handler failed for %s; closing it", peer.address)
        finally:
            if not self.server.closed and peer.connection.alive:
                peer.close()

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
            self.server.close()  # deferred by the Server until receive_datagram() returns; refuses the peer
            self._loop.call_soon(self.close)
            return
        for task in list(self._tasks):
            task.cancel()
        if not self.server.closed:
            self.server.close()
            t = self._transport
            for data, addr in self.server.datagrams_to_send():
                if t is not None and not t.is_closing():
                    t.sendto(data, addr)
        for peer in self._peers.values():
            peer._inbox.end(_closed("the server closed"))
        self._peers.clear()
        self._timer.cancel()
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
    loop = asyncio.get_running_loop()
    # Made before the socket: a refused argument leaves no socket behind.
    server = DTLSServer(handler, config, on_connect=on_connect, cookie_secret=cookie_secret)
    try:
        await loop.create_datagram_endpoint(lambda: server, local_addr=(host, port), reuse_port=reuse_port or None)
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

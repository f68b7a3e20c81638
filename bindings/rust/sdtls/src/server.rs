// SPDX-License-Identifier: Apache-2.0
//! `Server`: many peers behind one socket (sdtls_server), with per-peer
//! views by id.
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_int, c_void};
use std::net::SocketAddr;
use std::ptr::NonNull;
use std::time::Instant;

use sdtls_sys as sys;

use crate::addr::{from_sockaddr, to_sockaddr, MAX_LEN};
use crate::cert::cstring;
use crate::config::Config;
use crate::conn::{
    conn_queries, filled, give_back, queue_full, QUEUE_MAX_BYTES, QUEUE_MAX_RECORDS,
};
use crate::error::{call_check, check, guard, Error, Result};
use crate::time::{from_ns, to_ns};

/// A server's name for one of its peers' connections. Ids are never
/// reused; an id whose connection has ended names nothing (views of it are
/// `None`, calls on it fail with a `Closed` error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(u64);

impl PeerId {
    /// The number behind the id.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What happened on a server, in order, from [`Server::poll_event`].
#[derive(Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// A peer passed the cookie check and a connection was created.
    NewPeer { peer: PeerId, addr: SocketAddr },
    /// A peer's handshake finished.
    HandshakeDone { peer: PeerId },
    /// One application datagram from a peer.
    Data { peer: PeerId, data: Vec<u8> },
    /// A peer's connection ended and is gone: `None` after its
    /// close_notify, otherwise why (a `Closed` error for
    /// [`Server::close_peer`] or a restart, `Timeout` for an eviction...).
    Closed { peer: PeerId, reason: Option<Error> },
}

/// A counter of [`Server::counter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Counter {
    CookiesSent,
    CookiesRejected,
    ConnectionsCreated,
    ConnectionsClosed,
    ConnectionsEvicted,
    DroppedMalformed,
    DroppedUnknownPeer,
    DroppedLimit,
    /// Connections now (a gauge).
    Peers,
}

type SendFn = dyn FnMut(SocketAddr, &[u8]) -> std::io::Result<()> + Send;
type ConnectFn = dyn FnMut(&mut NewPeer<'_>) + Send;

struct PeerEntry {
    raw: *mut sys::sdtls_conn,
    addr: SocketAddr,
}

struct Shared {
    next_id: u64,
    peers: HashMap<u64, PeerEntry>,
    send: Option<Box<SendFn>>,
    on_connect: Option<Box<ConnectFn>>,
    transmit: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<ServerEvent>,
    /// The bytes of `transmit` and of the data events in `events`, for the
    /// queues' bound (as a [`Conn`](crate::Conn)'s: [`QUEUE_MAX_RECORDS`]).
    transmit_bytes: usize,
    event_bytes: usize,
    spare: Vec<Vec<u8>>,
}

unsafe fn peer_id(conn: *mut sys::sdtls_conn) -> u64 {
    sys::sdtls_conn_get_app_data(conn) as usize as u64
}

fn unspecified() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}

// The callbacks from C. Each body runs under `guard`, the user's closures
// and this crate's own code alike: no panic unwinds into the C library
// (where it would abort the process, or leave the engine half-way through
// a message).

unsafe extern "C" fn on_send(
    ud: *mut c_void,
    addr: *const u8,
    addr_len: usize,
    d: *const u8,
    len: usize,
) -> c_int {
    guard(-1, || {
        // SAFETY: ud is the server's Shared, reached only from here while a
        // C call runs; the bytes are valid during the call.
        let sh = &mut *(ud as *mut Shared);
        let to =
            from_sockaddr(std::slice::from_raw_parts(addr, addr_len)).unwrap_or_else(unspecified);
        let bytes = std::slice::from_raw_parts(d, len);
        match &mut sh.send {
            Some(f) => {
                if f(to, bytes).is_ok() {
                    0
                } else {
                    -1
                }
            }
            None => {
                let v = filled(&mut sh.spare, bytes);
                sh.transmit_bytes += v.len();
                sh.transmit.push_back((to, v));
                0
            }
        }
    })
}

unsafe extern "C" fn on_connect(
    ud: *mut c_void,
    conn: *mut sys::sdtls_conn,
    addr: *const u8,
    addr_len: usize,
) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        sh.next_id += 1;
        let id = sh.next_id;
        sys::sdtls_conn_set_app_data(conn, id as usize as *mut c_void);
        let addr =
            from_sockaddr(std::slice::from_raw_parts(addr, addr_len)).unwrap_or_else(unspecified);
        sh.peers.insert(id, PeerEntry { raw: conn, addr });
        sh.events.push_back(ServerEvent::NewPeer { peer: PeerId(id), addr });
        if let Some(f) = &mut sh.on_connect {
            let mut p =
                NewPeer { raw: conn, id: PeerId(id), addr, _life: std::marker::PhantomData };
            f(&mut p);
        }
    })
}

unsafe extern "C" fn on_handshake_done(ud: *mut c_void, conn: *mut sys::sdtls_conn) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        sh.events.push_back(ServerEvent::HandshakeDone { peer: PeerId(peer_id(conn)) });
    })
}

unsafe extern "C" fn on_data(
    ud: *mut c_void,
    conn: *mut sys::sdtls_conn,
    d: *const u8,
    len: usize,
) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        let data = filled(&mut sh.spare, std::slice::from_raw_parts(d, len));
        sh.event_bytes += data.len();
        sh.events.push_back(ServerEvent::Data { peer: PeerId(peer_id(conn)), data });
    })
}

unsafe extern "C" fn on_close(ud: *mut c_void, conn: *mut sys::sdtls_conn, reason: c_int) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        let id = peer_id(conn);
        // The server frees `conn` when this returns: forget it now.
        sh.peers.remove(&id);
        let reason = (reason != 0).then(|| Error::of_conn(conn, reason));
        sh.events.push_back(ServerEvent::Closed { peer: PeerId(id), reason });
    })
}

/// Many DTLS peers behind one socket: a stateless cookie exchange for
/// unknown addresses, a connection per verified peer, timers for all.
/// Sans-I/O like [`Conn`](crate::Conn): feed it `(address, datagram)` with
/// [`receive`](Server::receive), send what
/// [`poll_transmit`](Server::poll_transmit) gives, and read
/// [`poll_event`](Server::poll_event).
///
/// The server owns its peers' connections. They are reached by
/// [`PeerId`] through views ([`peer`](Server::peer),
/// [`peer_mut`](Server::peer_mut)) that borrow the server, so a view cannot
/// outlive the server nor be held across a call that may end the peer.
///
/// `Send`, not `Sync`. Dropping it frees every connection without sending.
pub struct Server {
    raw: *mut sys::sdtls_server,
    shared: NonNull<Shared>,
    _config: Config,
}

// SAFETY: as for Conn: one thread at a time (&mut self), closures are Send.
unsafe impl Send for Server {}

impl Server {
    /// A server (the config needs a certificate, or a PSK).
    pub fn new(config: &Config) -> Result<Server> {
        let shared = Box::into_raw(Box::new(Shared {
            next_id: 0,
            peers: HashMap::new(),
            send: None,
            on_connect: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            transmit_bytes: 0,
            event_bytes: 0,
            spare: Vec::new(),
        }));
        let cb = sys::sdtls_server_callbacks {
            size: std::mem::size_of::<sys::sdtls_server_callbacks>(),
            send: Some(on_send),
            on_connect: Some(on_connect),
            on_handshake_done: Some(on_handshake_done),
            on_data: Some(on_data),
            on_close: Some(on_close),
        };
        let mut raw = std::ptr::null_mut();
        let rc = unsafe { sys::sdtls_server_new(config.raw(), &cb, shared.cast(), &mut raw) };
        if rc != 0 {
            drop(unsafe { Box::from_raw(shared) });
            return Err(Error::new(rc, ""));
        }
        let shared = unsafe { NonNull::new_unchecked(shared) };
        Ok(Server { raw, shared, _config: config.clone() })
    }

    fn shared(&self) -> &Shared {
        // SAFETY: no C call is running while we hold &self or &mut self.
        unsafe { self.shared.as_ref() }
    }

    fn shared_mut(&mut self) -> &mut Shared {
        unsafe { self.shared.as_mut() }
    }

    fn lookup(&self, id: PeerId) -> Option<*mut sys::sdtls_conn> {
        self.shared().peers.get(&id.0).map(|p| p.raw)
    }

    /// Sends every outgoing datagram through `send` during the call that
    /// produced it, instead of queueing it for
    /// [`poll_transmit`](Server::poll_transmit).
    pub fn set_send<F>(&mut self, send: F)
    where
        F: FnMut(SocketAddr, &[u8]) -> std::io::Result<()> + Send + 'static,
    {
        self.shared_mut().send = Some(Box::new(send));
    }

    /// Called when a peer passes the cookie check, before its handshake
    /// goes on: the place for per-peer settings (a [`ServerEvent::NewPeer`]
    /// is queued as well). To pin a peer's certificate, prefer
    /// [`pin_peer`](Server::pin_peer) before it connects.
    pub fn set_on_connect<F>(&mut self, f: F)
    where
        F: FnMut(&mut NewPeer<'_>) + Send + 'static,
    {
        self.shared_mut().on_connect = Some(Box::new(f));
    }

    /// Feeds one datagram received from `from`.
    /// Fails with `SDTLS_E_LIMIT`, changing nothing, while the event queue
    /// is full (see [`QUEUE_MAX_RECORDS`]).
    pub fn receive(&mut self, from: SocketAddr, datagram: &[u8], now: Instant) -> Result<()> {
        let sh = self.shared_mut();
        if sh.events.len() >= QUEUE_MAX_RECORDS || sh.event_bytes + datagram.len() > QUEUE_MAX_BYTES
        {
            return Err(queue_full("events", "poll_event"));
        }
        let mut a = [0u8; MAX_LEN];
        let n = to_sockaddr(&from, &mut a);
        let raw = self.raw;
        call_check(
            || unsafe {
                sys::sdtls_server_receive(
                    raw,
                    a.as_ptr(),
                    n,
                    datagram.as_ptr(),
                    datagram.len(),
                    to_ns(now),
                )
            },
            |rc| Error::new(rc, ""),
        )
    }

    /// The earliest deadline over all peers; `None` for never.
    pub fn next_deadline(&self) -> Option<Instant> {
        from_ns(unsafe { sys::sdtls_server_next_deadline(self.raw) })
    }

    /// Runs every peer's expired timers and evicts expired peers.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<()> {
        let raw = self.raw;
        call_check(
            || unsafe { sys::sdtls_server_handle_timeout(raw, to_ns(now)) },
            |rc| Error::new(rc, ""),
        )
    }

    /// The next queued outgoing datagram and its destination.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        let sh = self.shared_mut();
        let (to, d) = sh.transmit.pop_front()?;
        sh.transmit_bytes -= d.len();
        Some((to, d))
    }

    /// The next queued outgoing datagram swapped into `out` (whose old
    /// buffer the server keeps for reuse), and its destination.
    pub fn poll_transmit_into(&mut self, out: &mut Vec<u8>) -> Option<SocketAddr> {
        let sh = self.shared_mut();
        let (to, mut d) = sh.transmit.pop_front()?;
        sh.transmit_bytes -= d.len();
        std::mem::swap(out, &mut d);
        give_back(&mut sh.spare, d);
        Some(to)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        let sh = self.shared_mut();
        let e = sh.events.pop_front()?;
        if let ServerEvent::Data { data, .. } = &e {
            sh.event_bytes -= data.len();
        }
        Some(e)
    }

    /// Gives a buffer back (a sent datagram, the bytes of a
    /// [`ServerEvent::Data`]) to be reused instead of allocating.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        give_back(&mut self.shared_mut().spare, buf);
    }

    /// The live peers.
    pub fn peers(&self) -> Vec<PeerId> {
        let mut v: Vec<PeerId> = self.shared().peers.keys().map(|&k| PeerId(k)).collect();
        v.sort();
        v
    }

    /// A read-only view of a live peer.
    pub fn peer(&self, id: PeerId) -> Option<Peer<'_>> {
        let e = self.shared().peers.get(&id.0)?;
        Some(Peer { raw: e.raw, id, addr: e.addr, _server: self })
    }

    /// A view of a live peer that can also send and close.
    pub fn peer_mut(&mut self, id: PeerId) -> Option<PeerMut<'_>> {
        self.lookup(id)?;
        Some(PeerMut { server: self, id })
    }

    /// Sends `data` to a peer as one record. Fails with `SDTLS_E_LIMIT`,
    /// changing nothing, while the datagram queue is full (see
    /// [`QUEUE_MAX_RECORDS`]).
    pub fn send(&mut self, id: PeerId, data: &[u8], now: Instant) -> Result<()> {
        let raw = self.lookup(id).ok_or_else(gone)?;
        let sh = self.shared_mut();
        if sh.transmit.len() >= QUEUE_MAX_RECORDS
            || sh.transmit_bytes + data.len() > QUEUE_MAX_BYTES
        {
            return Err(queue_full("datagrams", "poll_transmit"));
        }
        call_check(
            || unsafe { sys::sdtls_conn_send(raw, data.as_ptr(), data.len(), to_ns(now)) },
            |rc| match self.lookup(id) {
                Some(raw) => unsafe { Error::of_conn(raw, rc) },
                None => Error::new(rc, ""),
            },
        )
    }

    /// Sends close_notify to a peer and removes it (a
    /// [`ServerEvent::Closed`] follows).
    pub fn close_peer(&mut self, id: PeerId, now: Instant) -> Result<()> {
        let conn = self.lookup(id).ok_or_else(gone)?;
        let raw = self.raw;
        call_check(
            || unsafe { sys::sdtls_server_close_peer(raw, conn, to_ns(now)) },
            |rc| Error::new(rc, ""),
        )
    }

    /// Replaces the cookie secret (16..64 bytes, copied) at `now`: the old
    /// one stays accepted for one more cookie lifetime, older ones are not.
    /// Servers behind one address that share a secret (and the process's
    /// time base, or hosts' synchronised clocks) accept each other's
    /// cookies: give the same one to every `Server` of a socket group
    /// (examples/echo_server.rs `--threads`) or fleet, since the client
    /// whose cookie one made may reach another. Without a call, each server
    /// draws its own at random. Fails with `SDTLS_E_INVALID_ARGUMENT` for a
    /// length out of range, changing nothing.
    pub fn set_cookie_secret(&mut self, secret: &[u8], now: Instant) -> Result<()> {
        check(unsafe {
            sys::sdtls_server_set_cookie_secret(self.raw, secret.as_ptr(), secret.len(), to_ns(now))
        })
    }

    /// Expects every connection the server makes from now on for the peer
    /// at `addr` to present a certificate with this fingerprint (WebRTC:
    /// the `a=fingerprint` of that peer's SDP; `"sha-256 AB:CD:..."`,
    /// sha-384, sha-512, or any form [`Fingerprint`](crate::Fingerprint)
    /// parses), as the config's pins are of every peer: the server asks
    /// that peer for a certificate, which must match one of either, and
    /// that replaces the CA check; a peer that presents another fails its
    /// handshake with a `Verify` error. Up to 16 per address (more fail
    /// with `SDTLS_E_LIMIT`); pinning one the address has already changes
    /// nothing. An IPv4 address and its IPv4-mapped IPv6 form are one
    /// address here. Connections made before the call are not affected;
    /// the pins stay until [`unpin_peer`](Server::unpin_peer) or the drop.
    /// The table is the C server's (`sdtls_server_pin_peer()`): constant
    /// time per pin, however many peers are pinned. Fails with
    /// `SDTLS_E_IN_CALLBACK` from inside the server's closures.
    pub fn pin_peer(&mut self, addr: SocketAddr, fingerprint: &str) -> Result<()> {
        let s = cstring("fingerprint", fingerprint)?;
        let mut a = [0u8; MAX_LEN];
        let n = to_sockaddr(&addr, &mut a);
        check(unsafe { sys::sdtls_server_pin_peer(self.raw, a.as_ptr(), n, s.as_ptr()) })
    }

    /// Removes every fingerprint pinned for the peer at `addr`; returns how
    /// many there were. Connections already made keep theirs.
    pub fn unpin_peer(&mut self, addr: SocketAddr) -> Result<usize> {
        let mut a = [0u8; MAX_LEN];
        let n = to_sockaddr(&addr, &mut a);
        let rc = unsafe { sys::sdtls_server_unpin_peer(self.raw, a.as_ptr(), n) };
        check(rc.min(0))?;
        Ok(rc as usize)
    }

    /// A counter's value.
    pub fn counter(&self, c: Counter) -> u64 {
        let n = match c {
            Counter::CookiesSent => sys::SDTLS_COUNTER_COOKIES_SENT,
            Counter::CookiesRejected => sys::SDTLS_COUNTER_COOKIES_REJECTED,
            Counter::ConnectionsCreated => sys::SDTLS_COUNTER_CONNECTIONS_CREATED,
            Counter::ConnectionsClosed => sys::SDTLS_COUNTER_CONNECTIONS_CLOSED,
            Counter::ConnectionsEvicted => sys::SDTLS_COUNTER_CONNECTIONS_EVICTED,
            Counter::DroppedMalformed => sys::SDTLS_COUNTER_DROPPED_MALFORMED,
            Counter::DroppedUnknownPeer => sys::SDTLS_COUNTER_DROPPED_UNKNOWN_PEER,
            Counter::DroppedLimit => sys::SDTLS_COUNTER_DROPPED_LIMIT,
            Counter::Peers => sys::SDTLS_COUNTER_PEERS,
        };
        unsafe { sys::sdtls_server_counter_get(self.raw, n) }
    }
}

fn gone() -> Error {
    Error::new(sys::SDTLS_E_CLOSED, "no such peer (its connection has ended)")
}

impl Drop for Server {
    fn drop(&mut self) {
        // Frees every connection, no callback follows; then the closures go.
        unsafe {
            sys::sdtls_server_free(self.raw);
            drop(Box::from_raw(self.shared.as_ptr()));
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("peers", &self.shared().peers.len()).finish_non_exhaustive()
    }
}

/// A read-only view of one of a server's peers; borrows the server.
pub struct Peer<'a> {
    raw: *mut sys::sdtls_conn,
    id: PeerId,
    addr: SocketAddr,
    _server: &'a Server,
}

impl Peer<'_> {
    fn raw_conn(&self) -> *const sys::sdtls_conn {
        self.raw
    }

    /// The peer's id.
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// The peer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    conn_queries!();
}

impl std::fmt::Debug for Peer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .field("state", &self.state())
            .finish()
    }
}

/// A view of one of a server's peers that can send and close; borrows the
/// server mutably. A call that ends the peer (a failed send, `close`) makes
/// later calls on the view fail with a `Closed` error instead of touching
/// the freed connection.
pub struct PeerMut<'a> {
    server: &'a mut Server,
    id: PeerId,
}

impl PeerMut<'_> {
    fn raw_conn(&self) -> *const sys::sdtls_conn {
        // NULL once the peer is gone: the C queries treat it as such.
        self.server.lookup(self.id).unwrap_or(std::ptr::null_mut())
    }

    /// The peer's id.
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// The peer's address (`None` once it is gone).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.server.shared().peers.get(&self.id.0).map(|p| p.addr)
    }

    /// Sends `data` as one record.
    pub fn send(&mut self, data: &[u8], now: Instant) -> Result<()> {
        self.server.send(self.id, data, now)
    }

    /// Sends close_notify and removes the peer.
    pub fn close(self, now: Instant) -> Result<()> {
        self.server.close_peer(self.id, now)
    }

    conn_queries!();
}

/// The peer given to [`Server::set_on_connect`]'s closure, valid during the
/// call only.
pub struct NewPeer<'a> {
    raw: *mut sys::sdtls_conn,
    id: PeerId,
    addr: SocketAddr,
    _life: std::marker::PhantomData<&'a mut ()>,
}

impl NewPeer<'_> {
    /// The id the peer will have in events and views.
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// The peer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Expects this peer's certificate to have this fingerprint (WebRTC:
    /// from the peer's SDP).
    #[deprecated(
        since = "0.1.0",
        note = "pin by address before the peer connects: Server::pin_peer (the C server's table, \
                shared by every binding)"
    )]
    pub fn add_peer_fingerprint(&mut self, fingerprint: &str) -> Result<()> {
        let s = cstring("fingerprint", fingerprint)?;
        check(unsafe { sys::sdtls_conn_add_peer_fingerprint(self.raw, s.as_ptr()) })
    }
}

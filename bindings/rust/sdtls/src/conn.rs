// SPDX-License-Identifier: Apache-2.0
//! `Conn`: one DTLS association, sans-I/O.
use std::collections::VecDeque;
use std::ffi::{c_int, c_void, CStr};
use std::ptr::NonNull;
use std::time::Instant;

use sdtls_sys as sys;

use crate::cert::{cstring, wipe, CertificateFingerprint, Fingerprint, Hash};
use crate::config::{Config, SrtpProfile};
use crate::error::{call_check, check, guard, Error, Result};
use crate::time::{from_ns, to_ns};

/// Which end of the handshake a connection plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Created, handshake not started.
    New,
    /// Handshake in progress.
    Handshaking,
    /// Handshake done; data flows.
    Connected,
    /// close_notify sent or received.
    Closed,
    /// Fatal error; see `error()`.
    Failed,
}

impl State {
    pub(crate) fn from_raw(s: sys::sdtls_state) -> State {
        match s {
            sys::SDTLS_STATE_NEW => State::New,
            sys::SDTLS_STATE_HANDSHAKING => State::Handshaking,
            sys::SDTLS_STATE_CONNECTED => State::Connected,
            sys::SDTLS_STATE_CLOSED => State::Closed,
            _ => State::Failed,
        }
    }
}

/// What happened on a connection, in order, from [`Conn::poll_event`].
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake finished; the peer is authenticated.
    HandshakeDone,
    /// One application datagram from the peer (one record).
    Data(Vec<u8>),
    /// The connection ended: `None` after the peer's close_notify,
    /// otherwise the error that ended it. Not reported for a close you
    /// asked for with [`Conn::close`].
    Closed(Option<Error>),
}

/// A session of a finished handshake, for resumption with
/// [`Conn::set_session`]. It holds the master secret: keep it as secret
/// as a key. Wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Session(Vec<u8>);

impl Session {
    /// From bytes saved earlier with [`Session::as_bytes`].
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Session {
        Session(bytes.into())
    }

    /// The opaque session bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({} bytes)", self.0.len())
    }
}

/// One direction's SRTP master key and salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrtpKeys<'a> {
    /// The master key (16 or 32 bytes).
    pub key: &'a [u8],
    /// The master salt (14 bytes for AES-CM, 12 for AEAD).
    pub salt: &'a [u8],
    /// Key followed by salt, as libsrtp's policy key and GStreamer's
    /// srtp-key take it.
    pub key_and_salt: &'a [u8],
}

/// DTLS-SRTP keying material (RFC 5764 4.2), split by direction. Wiped
/// when dropped.
pub struct SrtpKeying {
    profile: SrtpProfile,
    raw: sys::sdtls_srtp_keying,
}

impl SrtpKeying {
    fn keys<'a>(&self, buf: &'a [u8; sys::SDTLS_SRTP_MAX_MASTER_LEN]) -> SrtpKeys<'a> {
        let (k, s) = (self.raw.key_len, self.raw.salt_len);
        SrtpKeys { key: &buf[..k], salt: &buf[k..k + s], key_and_salt: &buf[..k + s] }
    }

    /// The negotiated profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// This endpoint's keys: protect outgoing SRTP with them.
    pub fn local(&self) -> SrtpKeys<'_> {
        self.keys(&self.raw.local_write)
    }

    /// The peer's keys: unprotect incoming SRTP with them.
    pub fn remote(&self) -> SrtpKeys<'_> {
        self.keys(&self.raw.remote_write)
    }

    /// The client's write keys.
    pub fn client_write(&self) -> SrtpKeys<'_> {
        self.keys(&self.raw.client_write)
    }

    /// The server's write keys.
    pub fn server_write(&self) -> SrtpKeys<'_> {
        self.keys(&self.raw.server_write)
    }
}

impl Drop for SrtpKeying {
    fn drop(&mut self) {
        wipe(&mut self.raw.client_write);
        wipe(&mut self.raw.server_write);
        wipe(&mut self.raw.local_write);
        wipe(&mut self.raw.remote_write);
    }
}

impl std::fmt::Debug for SrtpKeying {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpKeying").field("profile", &self.profile).finish_non_exhaustive()
    }
}

/// Read-only queries on a live C connection, shared by [`Conn`] and the
/// server's peer views.
///
/// # Safety
/// `raw` must be a live connection for `'a`.
pub(crate) mod q {
    use super::*;

    unsafe fn opt_str<'a>(p: *const std::ffi::c_char) -> Option<&'a str> {
        if p.is_null() {
            None
        } else {
            CStr::from_ptr(p).to_str().ok()
        }
    }

    pub unsafe fn state(raw: *const sys::sdtls_conn) -> State {
        State::from_raw(sys::sdtls_conn_state(raw))
    }
    pub unsafe fn error(raw: *const sys::sdtls_conn) -> Option<Error> {
        match sys::sdtls_conn_error(raw) {
            0 => None,
            rc => Some(Error::of_conn(raw, rc)),
        }
    }
    pub unsafe fn version<'a>(raw: *const sys::sdtls_conn) -> Option<&'a str> {
        opt_str(sys::sdtls_conn_version(raw))
    }
    pub unsafe fn cipher<'a>(raw: *const sys::sdtls_conn) -> Option<&'a str> {
        opt_str(sys::sdtls_conn_cipher(raw))
    }
    pub unsafe fn alpn<'a>(raw: *const sys::sdtls_conn) -> Option<&'a str> {
        opt_str(sys::sdtls_conn_alpn(raw))
    }
    pub unsafe fn group<'a>(raw: *const sys::sdtls_conn) -> Option<&'a str> {
        opt_str(sys::sdtls_conn_group(raw))
    }
    pub unsafe fn psk_identity<'a>(raw: *const sys::sdtls_conn) -> Option<&'a str> {
        opt_str(sys::sdtls_conn_psk_identity(raw))
    }
    pub unsafe fn peer_certificate<'a>(raw: *const sys::sdtls_conn) -> Option<&'a [u8]> {
        let mut der = std::ptr::null();
        let mut len = 0usize;
        if sys::sdtls_conn_peer_certificate(raw, &mut der, &mut len) != 0 || der.is_null() {
            return None;
        }
        Some(std::slice::from_raw_parts(der, len))
    }
    pub unsafe fn peer_fingerprint(raw: *const sys::sdtls_conn) -> Option<Fingerprint> {
        let fp = peer_certificate_fingerprint(raw, Hash::Sha256)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(fp.digest());
        Some(Fingerprint(out))
    }
    pub unsafe fn peer_certificate_fingerprint(
        raw: *const sys::sdtls_conn,
        hash: Hash,
    ) -> Option<CertificateFingerprint> {
        let mut d = [0u8; sys::SDTLS_FINGERPRINT_MAX_DIGEST];
        let mut n = 0usize;
        (sys::sdtls_conn_peer_fingerprint(
            raw,
            CertificateFingerprint::hash_id(hash),
            d.as_mut_ptr(),
            &mut n,
        ) == 0)
            .then(|| CertificateFingerprint::from_raw(hash, &d[..n]))
    }
    /// Names the cause of each failure: the C call returns
    /// SDTLS_E_INVALID_ARGUMENT for a zero length as for anything the
    /// engine refuses, and SDTLS_E_STATE only when not connected.
    pub unsafe fn export_keying_material(
        raw: *const sys::sdtls_conn,
        label: &[u8],
        context: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<()> {
        if out.is_empty() {
            return Err(Error::new(
                sys::SDTLS_E_INVALID_ARGUMENT,
                "out is empty: at least 1 byte is exported",
            ));
        }
        let (cp, cl) = context.map_or((std::ptr::null(), 0), |c| (c.as_ptr(), c.len()));
        let rc = sys::sdtls_conn_export_keying_material(
            raw,
            out.as_mut_ptr(),
            out.len(),
            label.as_ptr().cast(),
            label.len(),
            cp,
            cl,
        );
        match rc {
            sys::SDTLS_E_STATE => Err(Error::new(rc, "keying material is exported once connected")),
            sys::SDTLS_E_INVALID_ARGUMENT => {
                Err(Error::new(rc, "the engine refused the label, context or length"))
            }
            _ => check(rc),
        }
    }
    pub unsafe fn srtp_profile(raw: *const sys::sdtls_conn) -> Option<SrtpProfile> {
        u16::try_from(sys::sdtls_conn_srtp_profile(raw)).ok().and_then(SrtpProfile::from_id)
    }
    pub unsafe fn srtp_keying(raw: *const sys::sdtls_conn) -> Result<SrtpKeying> {
        let mut k: sys::sdtls_srtp_keying = std::mem::zeroed();
        k.size = std::mem::size_of::<sys::sdtls_srtp_keying>();
        check(sys::sdtls_conn_srtp_keying(raw, &mut k))?;
        let mut out = SrtpKeying { profile: SrtpProfile::AeadAes128Gcm, raw: k };
        wipe(&mut k.client_write);
        wipe(&mut k.server_write);
        wipe(&mut k.local_write);
        wipe(&mut k.remote_write);
        let bad = out.raw.key_len + out.raw.salt_len > sys::SDTLS_SRTP_MAX_MASTER_LEN;
        match u16::try_from(out.raw.profile).ok().and_then(SrtpProfile::from_id) {
            Some(p) if !bad => out.profile = p,
            _ => return Err(Error::new(sys::SDTLS_E_UNSUPPORTED, "unknown SRTP profile")),
        }
        Ok(out)
    }
    pub unsafe fn session_resumed(raw: *const sys::sdtls_conn) -> bool {
        sys::sdtls_conn_session_resumed(raw) == 1
    }
    pub unsafe fn max_data_size(raw: *const sys::sdtls_conn) -> usize {
        sys::sdtls_conn_max_data_size(raw)
    }
}

/// The query methods, for a type with `fn raw_conn(&self) -> *const sdtls_conn`
/// that is live while `&self` is.
macro_rules! conn_queries {
    () => {
        /// The connection's state.
        pub fn state(&self) -> $crate::State {
            unsafe { $crate::conn::q::state(self.raw_conn()) }
        }

        /// The error that failed (or closed) the connection, with its detail.
        pub fn error(&self) -> Option<$crate::Error> {
            unsafe { $crate::conn::q::error(self.raw_conn()) }
        }

        /// The negotiated protocol ("DTLSv1.2"), once connected.
        pub fn protocol_version(&self) -> Option<&str> {
            unsafe { $crate::conn::q::version(self.raw_conn()) }
        }

        /// The negotiated cipher suite (IANA name), once connected.
        pub fn cipher(&self) -> Option<&str> {
            unsafe { $crate::conn::q::cipher(self.raw_conn()) }
        }

        /// The ALPN protocol the handshake selected.
        pub fn alpn(&self) -> Option<&str> {
            unsafe { $crate::conn::q::alpn(self.raw_conn()) }
        }

        /// The key exchange group the handshake used (`None` before it is
        /// done, or for a resumed DTLS 1.2 handshake, which exchanges no key).
        pub fn group(&self) -> Option<&str> {
            unsafe { $crate::conn::q::group(self.raw_conn()) }
        }

        /// The PSK identity the handshake used.
        pub fn psk_identity(&self) -> Option<&str> {
            unsafe { $crate::conn::q::psk_identity(self.raw_conn()) }
        }

        /// The peer's leaf certificate (DER).
        pub fn peer_certificate(&self) -> Option<&[u8]> {
            unsafe { $crate::conn::q::peer_certificate(self.raw_conn()) }
        }

        /// The SHA-256 fingerprint of the peer's leaf certificate.
        pub fn peer_fingerprint(&self) -> Option<$crate::Fingerprint> {
            unsafe { $crate::conn::q::peer_fingerprint(self.raw_conn()) }
        }

        /// The fingerprint of the peer's leaf certificate in `hash`;
        /// `Display` writes SDP's "sha-256 AB:..." form.
        pub fn peer_certificate_fingerprint(
            &self,
            hash: $crate::Hash,
        ) -> Option<$crate::CertificateFingerprint> {
            unsafe { $crate::conn::q::peer_certificate_fingerprint(self.raw_conn(), hash) }
        }

        /// RFC 5705 exporter: fills `out` from the master secret, `label` and
        /// an optional `context` (`None` differs from an empty one in DTLS 1.2;
        /// in DTLS 1.3 the two are the same, RFC 8446 7.5).
        pub fn export_keying_material(
            &self,
            label: &[u8],
            context: Option<&[u8]>,
            out: &mut [u8],
        ) -> $crate::Result<()> {
            unsafe { $crate::conn::q::export_keying_material(self.raw_conn(), label, context, out) }
        }

        /// The negotiated DTLS-SRTP profile.
        pub fn srtp_profile(&self) -> Option<$crate::SrtpProfile> {
            unsafe { $crate::conn::q::srtp_profile(self.raw_conn()) }
        }

        /// The DTLS-SRTP keys, split by direction.
        pub fn srtp_keying(&self) -> $crate::Result<$crate::SrtpKeying> {
            unsafe { $crate::conn::q::srtp_keying(self.raw_conn()) }
        }

        /// Whether the handshake resumed a session.
        pub fn session_resumed(&self) -> bool {
            unsafe { $crate::conn::q::session_resumed(self.raw_conn()) }
        }

        /// The largest `send` accepted now (0 before the handshake is done).
        pub fn max_data_size(&self) -> usize {
            unsafe { $crate::conn::q::max_data_size(self.raw_conn()) }
        }
    };
}
pub(crate) use conn_queries;

type SendFn = dyn FnMut(&[u8]) -> std::io::Result<()> + Send;

/// What the callbacks write to: reached only through the C user_data
/// pointer while a C call runs, and through short-lived references between
/// calls.
struct Shared {
    raw: *mut sys::sdtls_conn,
    send: Option<Box<SendFn>>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    /// The bytes of `transmit` and of the data events in `events`, for the
    /// queues' bound ([`QUEUE_MAX_BYTES`]).
    transmit_bytes: usize,
    event_bytes: usize,
    /// Buffers given back with `recycle` / `poll_transmit_into`, reused for
    /// queued datagrams and data.
    spare: Vec<Vec<u8>>,
}

/// The bound of each of a [`Conn`]'s queues (datagrams for
/// [`poll_transmit`](Conn::poll_transmit), events for
/// [`poll_event`](Conn::poll_event)): a [`send`](Conn::send) while the
/// datagram queue holds this many, and a [`receive`](Conn::receive) while
/// the event queue does, fails with the C code `SDTLS_E_LIMIT` and changes
/// nothing: take what is queued first; nothing queued is lost.
pub const QUEUE_MAX_RECORDS: usize = 4096;
/// The bound of each queue's bytes (see [`QUEUE_MAX_RECORDS`]).
pub const QUEUE_MAX_BYTES: usize = 16 << 20;

pub(crate) fn queue_full(what: &str, drain: &str) -> Error {
    Error::new(
        sys::SDTLS_E_LIMIT,
        format!(
            "queue of {what} full ({QUEUE_MAX_RECORDS} records or {} MiB): take them with {drain} first; \
             nothing was sent or lost",
            QUEUE_MAX_BYTES >> 20
        ),
    )
}

/// How many spare buffers a connection or server keeps.
pub(crate) const MAX_SPARE: usize = 64;

/// A buffer holding `bytes`: a spare one if there is one.
pub(crate) fn filled(spare: &mut Vec<Vec<u8>>, bytes: &[u8]) -> Vec<u8> {
    match spare.pop() {
        Some(mut v) => {
            v.extend_from_slice(bytes);
            v
        }
        None => bytes.to_vec(),
    }
}

pub(crate) fn give_back(spare: &mut Vec<Vec<u8>>, mut buf: Vec<u8>) {
    if spare.len() < MAX_SPARE && buf.capacity() > 0 {
        buf.clear();
        spare.push(buf);
    }
}

// The callbacks from C. Each body runs under `guard`, the user's closures
// and this crate's own code alike: no panic unwinds into the C library
// (where it would abort the process, or leave the engine half-way through
// a message).

unsafe extern "C" fn on_send(ud: *mut c_void, d: *const u8, len: usize) -> c_int {
    guard(-1, || {
        // SAFETY: ud is the connection's Shared; no other reference to it
        // is live while a C call runs; the bytes are valid during the call.
        let sh = &mut *(ud as *mut Shared);
        let bytes = std::slice::from_raw_parts(d, len);
        match &mut sh.send {
            Some(f) => {
                if f(bytes).is_ok() {
                    0
                } else {
                    -1
                }
            }
            None => {
                let v = filled(&mut sh.spare, bytes);
                sh.transmit_bytes += v.len();
                sh.transmit.push_back(v);
                0
            }
        }
    })
}

unsafe extern "C" fn on_handshake_done(ud: *mut c_void) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        sh.events.push_back(Event::HandshakeDone);
    })
}

unsafe extern "C" fn on_data(ud: *mut c_void, d: *const u8, len: usize) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        let v = filled(&mut sh.spare, std::slice::from_raw_parts(d, len));
        sh.event_bytes += v.len();
        sh.events.push_back(Event::Data(v));
    })
}

unsafe extern "C" fn on_close(ud: *mut c_void, reason: c_int) {
    guard((), || {
        let sh = &mut *(ud as *mut Shared);
        let err = (reason != 0).then(|| Error::of_conn(sh.raw, reason));
        sh.events.push_back(Event::Closed(err));
    })
}

/// One DTLS association with one peer, sans-I/O: feed it datagrams with
/// [`receive`](Conn::receive), send what [`poll_transmit`](Conn::poll_transmit)
/// gives (or set a send closure with [`set_send`](Conn::set_send)), call
/// [`handle_timeout`](Conn::handle_timeout) at [`next_deadline`](Conn::next_deadline),
/// and read [`poll_event`](Conn::poll_event).
///
/// `Send` (it may move between threads) but not `Sync`. Frees its C handle
/// when dropped (without sending: call [`close`](Conn::close) first for an
/// orderly end).
pub struct Conn {
    raw: *mut sys::sdtls_conn,
    shared: NonNull<Shared>,
    _config: Config,
}

// SAFETY: a connection may be used from any thread, one at a time (the C
// rules); `&mut self` serialises, and nothing is shared with other handles
// except the config (Send + Sync). The closures are Send.
unsafe impl Send for Conn {}

impl Conn {
    /// A connection in [`State::New`].
    pub fn new(config: &Config, role: Role) -> Result<Conn> {
        let shared = Box::into_raw(Box::new(Shared {
            raw: std::ptr::null_mut(),
            send: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            transmit_bytes: 0,
            event_bytes: 0,
            spare: Vec::new(),
        }));
        let cb = sys::sdtls_callbacks {
            size: std::mem::size_of::<sys::sdtls_callbacks>(),
            send: Some(on_send),
            on_handshake_done: Some(on_handshake_done),
            on_data: Some(on_data),
            on_close: Some(on_close),
        };
        let role = match role {
            Role::Client => sys::SDTLS_ROLE_CLIENT,
            Role::Server => sys::SDTLS_ROLE_SERVER,
        };
        let mut raw = std::ptr::null_mut();
        let rc = unsafe { sys::sdtls_conn_new(config.raw(), role, &cb, shared.cast(), &mut raw) };
        if rc != 0 {
            drop(unsafe { Box::from_raw(shared) });
            return Err(Error::new(rc, ""));
        }
        unsafe { (*shared).raw = raw };
        // SAFETY: from Box::into_raw.
        let shared = unsafe { NonNull::new_unchecked(shared) };
        Ok(Conn { raw, shared, _config: config.clone() })
    }

    /// A client that sends `server_name` (SNI) and, when verifying, checks
    /// the server's certificate for it.
    pub fn client(config: &Config, server_name: &str) -> Result<Conn> {
        let mut c = Conn::new(config, Role::Client)?;
        c.set_server_name(server_name)?;
        Ok(c)
    }

    /// A server-side connection for one peer (for many peers behind one
    /// socket, see [`Server`](crate::Server)).
    pub fn server(config: &Config) -> Result<Conn> {
        Conn::new(config, Role::Server)
    }

    pub(crate) fn raw_conn(&self) -> *const sys::sdtls_conn {
        self.raw
    }

    fn shared(&mut self) -> &mut Shared {
        // SAFETY: no C call is running (we hold &mut self), so no callback
        // holds a reference.
        unsafe { self.shared.as_mut() }
    }

    fn conn_err(&self) -> impl FnOnce(c_int) -> Error + '_ {
        move |rc| unsafe { Error::of_conn(self.raw, rc) }
    }

    /// Sends every outgoing datagram through `send` from now on, during the
    /// call that produced it, instead of queueing it for
    /// [`poll_transmit`](Conn::poll_transmit). An `Err` counts the datagram
    /// as lost (handshake flights are retransmitted). A panic in it is
    /// caught and returned as a [`Category::Panic`](crate::Category::Panic)
    /// error by the call during which it happened.
    pub fn set_send<F>(&mut self, send: F)
    where
        F: FnMut(&[u8]) -> std::io::Result<()> + Send + 'static,
    {
        self.shared().send = Some(Box::new(send));
    }

    /// Client: the server name (SNI, and the name verified). Only in
    /// [`State::New`].
    pub fn set_server_name(&mut self, name: &str) -> Result<()> {
        let s = cstring("server name", name)?;
        check(unsafe { sys::sdtls_conn_set_server_name(self.raw, s.as_ptr()) })
    }

    /// Expects the peer's certificate to have this SHA-256 fingerprint
    /// ("sha-256 AB:CD:..."). Only in [`State::New`].
    pub fn add_peer_fingerprint(&mut self, fingerprint: &str) -> Result<()> {
        let s = cstring("fingerprint", fingerprint)?;
        check(unsafe { sys::sdtls_conn_add_peer_fingerprint(self.raw, s.as_ptr()) })
    }

    /// Client: offers a session from an earlier connection's
    /// [`session`](Conn::session). Only in [`State::New`].
    pub fn set_session(&mut self, session: &Session) -> Result<()> {
        let b = session.as_bytes();
        check(unsafe { sys::sdtls_conn_set_session(self.raw, b.as_ptr(), b.len()) })
    }

    /// Client: the session of the finished handshake, for resumption.
    pub fn session(&self) -> Result<Session> {
        let mut p = std::ptr::null_mut();
        let mut len = 0usize;
        check(unsafe { sys::sdtls_conn_get_session(self.raw, &mut p, &mut len) })?;
        let s = Session(unsafe { std::slice::from_raw_parts(p, len) }.to_vec());
        unsafe { sys::sdtls_free(p.cast()) }; // wipes it
        Ok(s)
    }

    /// Starts the handshake: a client queues its first flight.
    pub fn start(&mut self, now: Instant) -> Result<()> {
        let raw = self.raw;
        call_check(|| unsafe { sys::sdtls_conn_start(raw, to_ns(now)) }, self.conn_err())
    }

    /// Feeds one datagram from the peer. Events and replies are queued (or
    /// sent through the send closure). Returns the error that ended the
    /// connection, if it ended now or before.
    pub fn receive(&mut self, datagram: &[u8], now: Instant) -> Result<()> {
        let sh = self.shared();
        if sh.events.len() >= QUEUE_MAX_RECORDS || sh.event_bytes + datagram.len() > QUEUE_MAX_BYTES
        {
            return Err(queue_full("events", "poll_event"));
        }
        let raw = self.raw;
        call_check(
            || unsafe {
                sys::sdtls_conn_receive(raw, datagram.as_ptr(), datagram.len(), to_ns(now))
            },
            self.conn_err(),
        )
    }

    /// Sends `data` as one record in one datagram (at most
    /// [`max_data_size`](Conn::max_data_size) bytes).
    pub fn send(&mut self, data: &[u8], now: Instant) -> Result<()> {
        let sh = self.shared();
        if sh.transmit.len() >= QUEUE_MAX_RECORDS
            || sh.transmit_bytes + data.len() > QUEUE_MAX_BYTES
        {
            return Err(queue_full("datagrams", "poll_transmit"));
        }
        let raw = self.raw;
        call_check(
            || unsafe { sys::sdtls_conn_send(raw, data.as_ptr(), data.len(), to_ns(now)) },
            self.conn_err(),
        )
    }

    /// When [`handle_timeout`](Conn::handle_timeout) must next be called;
    /// `None` for never. Ask again after every call.
    pub fn next_deadline(&self) -> Option<Instant> {
        from_ns(unsafe { sys::sdtls_conn_next_deadline(self.raw) })
    }

    /// Acts on expired timers: retransmits, or fails the handshake on time.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<()> {
        let raw = self.raw;
        call_check(|| unsafe { sys::sdtls_conn_handle_timeout(raw, to_ns(now)) }, self.conn_err())
    }

    /// DTLS 1.3: sends a KeyUpdate, so this side's records use fresh keys
    /// from now on, and asks the peer to update its own (the engine
    /// retransmits it until acknowledged: keep serving
    /// [`next_deadline`](Conn::next_deadline)). A DTLS 1.2 connection
    /// returns a usage error (the C code `SDTLS_E_UNSUPPORTED`).
    pub fn key_update(&mut self, now: Instant) -> Result<()> {
        let raw = self.raw;
        call_check(|| unsafe { sys::sdtls_conn_key_update(raw, to_ns(now)) }, self.conn_err())
    }

    /// Sends close_notify (when connected) and moves to [`State::Closed`].
    pub fn close(&mut self, now: Instant) -> Result<()> {
        let raw = self.raw;
        call_check(|| unsafe { sys::sdtls_conn_close(raw, to_ns(now)) }, self.conn_err())
    }

    /// The next queued outgoing datagram (when no send closure is set).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let sh = self.shared();
        let d = sh.transmit.pop_front()?;
        sh.transmit_bytes -= d.len();
        Some(d)
    }

    /// The next queued outgoing datagram, swapped into `out` (whose old
    /// buffer the connection keeps for reuse): no allocation once warm.
    /// Returns false when there is none.
    pub fn poll_transmit_into(&mut self, out: &mut Vec<u8>) -> bool {
        let sh = self.shared();
        match sh.transmit.pop_front() {
            Some(mut d) => {
                sh.transmit_bytes -= d.len();
                std::mem::swap(out, &mut d);
                give_back(&mut sh.spare, d);
                true
            }
            None => false,
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        let sh = self.shared();
        let e = sh.events.pop_front()?;
        if let Event::Data(d) = &e {
            sh.event_bytes -= d.len();
        }
        Some(e)
    }

    /// Gives a buffer back (a datagram from [`poll_transmit`](Conn::poll_transmit)
    /// once sent, the bytes of an [`Event::Data`] once used), to be reused
    /// for later datagrams and data instead of allocating.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        give_back(&mut self.shared().spare, buf);
    }

    /// The role given at creation.
    pub fn role(&self) -> Role {
        match unsafe { sys::sdtls_conn_role(self.raw) } {
            sys::SDTLS_ROLE_SERVER => Role::Server,
            _ => Role::Client,
        }
    }

    conn_queries!();
}

impl Drop for Conn {
    fn drop(&mut self) {
        // No callback can run after this: then the closures may go.
        unsafe {
            sys::sdtls_conn_free(self.raw);
            drop(Box::from_raw(self.shared.as_ptr()));
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("role", &self.role())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

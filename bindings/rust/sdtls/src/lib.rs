// SPDX-License-Identifier: Apache-2.0
//! Safe, sans-I/O DTLS over libsdtls (the C library of this repository,
//! BoringSSL inside, a stable C ABI).
//!
//! The library never opens a socket and never reads a clock: you feed it
//! datagrams and the time, and send the datagrams it gives back.
//!
//! ```
//! use std::time::Instant;
//! use sdtls::{Certificate, Config, Conn, Event};
//!
//! # fn main() -> Result<(), sdtls::Error> {
//! let cert = Certificate::self_signed("localhost", 30)?;
//! let server_cfg = Config::builder().certificate(&cert).build()?;
//! let client_cfg = Config::builder().ca_pem(cert.cert_pem()).build()?;
//!
//! let mut client = Conn::client(&client_cfg, "localhost")?;
//! let mut server = Conn::server(&server_cfg)?;
//! client.start(Instant::now())?;
//! // Your event loop: here the two ends hand each other their datagrams.
//! while !(client.state() == sdtls::State::Connected && server.state() == sdtls::State::Connected) {
//!     while let Some(d) = client.poll_transmit() { server.receive(&d, Instant::now())?; }
//!     while let Some(d) = server.poll_transmit() { client.receive(&d, Instant::now())?; }
//! }
//! client.send(b"hello", Instant::now())?;
//! let d = client.poll_transmit().unwrap();
//! server.receive(&d, Instant::now())?;
//! assert_eq!(server.poll_event(), Some(Event::HandshakeDone));
//! assert_eq!(server.poll_event(), Some(Event::Data(b"hello".to_vec())));
//! # Ok(())
//! # }
//! ```
//!
//! Ownership follows the C library's rules: a [`Conn`] and a [`Server`]
//! free their handles when dropped; a [`Config`] is shared and may be
//! dropped first; a server's peers are reached by [`PeerId`] through views
//! that borrow the server. Closures you hand over (send, key log, PSK
//! lookup, on-connect) are freed with their handle; a panic in one is
//! caught at the C boundary and returned, after the C call, as an
//! [`Error`] of [`Category::Panic`].
//!
//! The borrow checker holds the C library's lifetime rules. A peer view
//! cannot outlive its server:
//!
//! ```compile_fail,E0505
//! fn view_after_drop(cfg: &sdtls::Config, id: sdtls::PeerId) {
//!     let server = sdtls::Server::new(cfg).unwrap();
//!     let view = server.peer(id).unwrap();
//!     drop(server);
//!     view.state();
//! }
//! ```
//!
//! nor be held across a call that may end the peer (and free its
//! connection):
//!
//! ```compile_fail,E0502
//! fn view_across_a_call(cfg: &sdtls::Config, id: sdtls::PeerId) {
//!     let mut server = sdtls::Server::new(cfg).unwrap();
//!     let view = server.peer(id).unwrap();
//!     server.handle_timeout(std::time::Instant::now()).unwrap();
//!     view.state();
//! }
//! ```
//!
//! A connection may move to another thread, but not be shared by two:
//!
//! ```compile_fail,E0277
//! fn shared_by_threads<T: Sync>() {}
//! shared_by_threads::<sdtls::Conn>();
//! ```
#![allow(clippy::missing_safety_doc)]

mod addr;
mod cert;
mod config;
mod conn;
mod demux;
mod error;
mod server;
mod time;

use std::ffi::CStr;

pub use sdtls_sys as sys;

pub use cert::{Certificate, CertificateFingerprint, Fingerprint, Hash};
pub use config::{Config, ConfigBuilder, SrtpProfile, Version, ALPN_MAX_BYTES, GROUPS_MAX};
pub use conn::{
    Conn, Event, Role, Session, SrtpKeying, SrtpKeys, State, QUEUE_MAX_BYTES, QUEUE_MAX_RECORDS,
};
pub use demux::{classify, PacketKind};
pub use error::{Category, Error, Result};
pub use server::{Counter, NewPeer, Peer, PeerId, PeerMut, Server, ServerEvent};

/// A capability of the linked library and engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    Dtls12,
    Dtls13,
    CookieExchange,
    Srtp,
    Psk,
    Resumption,
    Alpn,
}

/// Whether the linked library and engine support `feature`.
pub fn has_feature(feature: Feature) -> bool {
    let f = match feature {
        Feature::Dtls12 => sys::SDTLS_FEATURE_DTLS1_2,
        Feature::Dtls13 => sys::SDTLS_FEATURE_DTLS1_3,
        Feature::CookieExchange => sys::SDTLS_FEATURE_COOKIE_EXCHANGE,
        Feature::Srtp => sys::SDTLS_FEATURE_SRTP,
        Feature::Psk => sys::SDTLS_FEATURE_PSK,
        Feature::Resumption => sys::SDTLS_FEATURE_RESUMPTION,
        Feature::Alpn => sys::SDTLS_FEATURE_ALPN,
    };
    unsafe { sys::sdtls_has_feature(f) == 1 }
}

/// The linked library's version number (`(major << 16) | (minor << 8) |
/// patch`) and its version string, which names the engine.
pub fn version() -> (u32, &'static str) {
    let mut s = std::ptr::null();
    let n = unsafe { sys::sdtls_version(&mut s) };
    let s = if s.is_null() { "" } else { unsafe { CStr::from_ptr(s) }.to_str().unwrap_or("") };
    (n, s)
}

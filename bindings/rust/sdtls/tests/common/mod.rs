// SPDX-License-Identifier: Apache-2.0
//! Helpers shared by the integration tests.
#![allow(dead_code)]
use std::time::{Duration, Instant};

use sdtls::{Category, Certificate, Config, ConfigBuilder, Conn, Event, State};

/// A server certificate for "localhost" and configs that trust it.
pub struct Pki {
    pub cert: Certificate,
}

impl Pki {
    pub fn new() -> Pki {
        Pki { cert: Certificate::self_signed("localhost", 30).unwrap() }
    }
    pub fn server(&self) -> ConfigBuilder {
        Config::builder().certificate(&self.cert)
    }
    pub fn client(&self) -> ConfigBuilder {
        Config::builder().ca_pem(self.cert.cert_pem())
    }
    /// connected_pair of the default client and server configs.
    pub fn connected(&self) -> (Conn, Conn) {
        connected_pair(&self.client().build().unwrap(), &self.server().build().unwrap())
    }
}

/// Moves every queued datagram between the two ends until both are quiet.
/// Returns how many datagrams moved.
pub fn pump(a: &mut Conn, b: &mut Conn, now: Instant) -> usize {
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some(d) = a.poll_transmit() {
            let _ = b.receive(&d, now);
            moved += 1;
            any = true;
        }
        while let Some(d) = b.poll_transmit() {
            let _ = a.receive(&d, now);
            moved += 1;
            any = true;
        }
        if !any {
            return moved;
        }
    }
}

/// A client and a server connection, started and pumped to the end of the
/// handshake (asserted).
pub fn connected_pair(client_cfg: &Config, server_cfg: &Config) -> (Conn, Conn) {
    let now = Instant::now();
    let mut c = Conn::client(client_cfg, "localhost").unwrap();
    let mut s = Conn::server(server_cfg).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    assert_eq!(c.state(), State::Connected, "client: {:?}", c.error());
    assert_eq!(s.state(), State::Connected, "server: {:?}", s.error());
    assert_eq!(c.poll_event(), Some(Event::HandshakeDone));
    assert_eq!(s.poll_event(), Some(Event::HandshakeDone));
    (c, s)
}

/// A client that pins `pin` (and trusts no CA) against a server of `pki`'s
/// certificate, which `pin` is not: the handshake fails with a verification
/// error whose text holds `named` (asserted).
#[track_caller]
pub fn assert_pin_refused(pki: &Pki, pin: &str, named: &str) {
    let now = Instant::now();
    let mut c = Conn::client(&Config::builder().build().unwrap(), "localhost").unwrap();
    c.add_peer_fingerprint(pin).unwrap();
    let mut s = Conn::server(&pki.server().build().unwrap()).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    let e = c.error().unwrap();
    assert_eq!(e.category(), Category::Verify);
    assert!(e.to_string().contains(named), "{e}");
}

pub fn events(c: &mut Conn) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Standard base64 (PEM bodies), enough for the tests.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The DER of the first PEM block labelled `label`.
pub fn pem_to_der(pem: &str, label: &str) -> Vec<u8> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).expect("no such PEM block") + begin.len();
    let stop = start + pem[start..].find(&end).unwrap();
    base64_decode(&pem[start..stop])
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A scratch directory for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sdtls-rust-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

// SPDX-License-Identifier: Apache-2.0
//! examples/echo_server.rs --threads 2 over loopback: two SO_REUSEPORT
//! sockets, a thread and a Server each, one Config and cookie secret. Many
//! clients from their own ports echo through it, the kernel spreads them
//! over both sockets, and a session made on one socket resumes on the
//! other. Linux only (SO_REUSEPORT spreads datagrams there alone).
#![cfg(target_os = "linux")]
mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::{scratch, Pki};
use sdtls::{Config, Conn, Event, Session, State};

/// The example, built by `cargo test` next to this test's executable
/// (target/debug/examples, this one in target/debug/deps).
fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join("echo_server")
}

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Moves datagrams between `c` and its connected socket until `done` says
/// so (within 10 s).
fn drive(sock: &UdpSocket, c: &mut Conn, mut done: impl FnMut(&mut Conn) -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 65536];
    loop {
        while let Some(d) = c.poll_transmit() {
            sock.send(&d).unwrap();
        }
        if done(c) {
            return;
        }
        assert!(Instant::now() < end, "no progress in 10 s: {:?} {:?}", c.state(), c.error());
        let now = Instant::now();
        if c.next_deadline().is_some_and(|d| d <= now) {
            let _ = c.handle_timeout(now);
            continue;
        }
        let wait = c
            .next_deadline()
            .map_or(Duration::from_millis(100), |d| d - now)
            .clamp(Duration::from_millis(1), Duration::from_millis(100));
        sock.set_read_timeout(Some(wait)).unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let _ = c.receive(&buf[..n], Instant::now());
        }
    }
}

/// A client from a new port: handshake, one echo; returns its port and
/// connection (its session ready: DTLS 1.3's ticket comes with the echo).
fn echo_client(server: SocketAddr, cfg: &Config, session: Option<&Session>) -> (u16, Conn) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(server).unwrap();
    let mut c = Conn::client(cfg, "localhost").unwrap();
    if let Some(s) = session {
        c.set_session(s).unwrap();
    }
    c.start(Instant::now()).unwrap();
    drive(&sock, &mut c, |c| c.state() != State::Handshaking);
    assert_eq!(c.state(), State::Connected, "{:?}", c.error());
    let msg = format!("hello from {}", sock.local_addr().unwrap());
    c.send(msg.as_bytes(), Instant::now()).unwrap();
    let mut echoed = false;
    drive(&sock, &mut c, |c| {
        while let Some(e) = c.poll_event() {
            echoed |= e == Event::Data(msg.clone().into_bytes());
        }
        echoed
    });
    c.close(Instant::now()).unwrap();
    while let Some(d) = c.poll_transmit() {
        sock.send(&d).unwrap();
    }
    (sock.local_addr().unwrap().port(), c)
}

/// The socket the server says took the peer at `port` ("accepted
/// 127.0.0.1:PORT socket I"), waiting up to 5 s for the line.
fn socket_of(lines: &Receiver<String>, seen: &mut Vec<String>, port: u16) -> u32 {
    let prefix = format!("accepted 127.0.0.1:{port} socket ");
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(l) = seen.iter().find(|l| l.starts_with(&prefix)) {
            return l[prefix.len()..].parse().unwrap();
        }
        let left = end.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("no {prefix:?} line; the server said {seen:?}"),
        }
    }
}

#[test]
fn two_threads_serve_every_client_and_resume_across_sockets() {
    let pki = Pki::new();
    let dir = scratch("echo-threads");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, pki.cert.cert_pem()).unwrap();
    std::fs::write(&key, pki.cert.key_pem()).unwrap();
    let mut child = Command::new(example())
        .args(["--threads", "2", "--listen", "127.0.0.1:0", "--cert"])
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", example().display()));
    let stderr = child.stderr.take().unwrap();
    let _server = Server(child);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(10)).expect("the server said nothing");
    let addr: SocketAddr = first
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("first line {first:?}"))
        .parse()
        .unwrap();
    let cfg = pki.client().build().unwrap();
    let mut seen = Vec::new();

    // 16 clients from 16 ports: all on one of two sockets is 1 in 2^15.
    let mut per = [0; 2];
    let mut session = None;
    let mut session_socket = 0;
    for _ in 0..16 {
        let (port, c) = echo_client(addr, &cfg, None);
        let s = socket_of(&lines, &mut seen, port);
        per[s as usize] += 1;
        if session.is_none() {
            session = Some(c.session().unwrap());
            session_socket = s;
        }
    }
    assert!(per[0] > 0 && per[1] > 0, "clients per socket {per:?}");

    // The session resumes on whichever socket a new port lands on; dial
    // until one lands on the other socket (64 on the same: 1 in 2^64).
    let session = session.unwrap();
    for attempt in 1..=64 {
        let (port, c) = echo_client(addr, &cfg, Some(&session));
        let s = socket_of(&lines, &mut seen, port);
        assert!(c.session_resumed(), "attempt {attempt} on socket {s} did not resume");
        if s != session_socket {
            return;
        }
    }
    panic!("64 resuming clients all on socket {session_socket}");
}

// SPDX-License-Identifier: Apache-2.0
//! dimpl-peer: a DTLS client or echo server over UDP, for interop tests.
//!
//!   dimpl-peer client HOST:PORT --cert C.der --key K.der [--version 1.2|1.3]
//!              [--mtu N] [--send TEXT]... [--timeout SEC]
//!   dimpl-peer server --listen HOST:PORT --cert C.der --key K.der
//!              [--version 1.2|1.3] [--mtu N] [--cookie] [--timeout SEC]
//!
//! Certificates are DER, keys PKCS#8 DER (ECDSA P-256). The client prints
//! "connected DTLSv1.x" on stderr, sends each --send text as one datagram and
//! prints every datagram it receives as a line on stdout; it exits 0 once as
//! many came back as it sent. The server prints "accepted DTLSv1.x", echoes
//! each datagram back (and prints it) and exits 0 on the client's
//! close_notify. Both exit 1 on a failure or after --timeout (default 10 s).
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dimpl::{Config, Dtls, DtlsCertificate, Output};

struct Args {
    role: String,
    addr: String,
    cert: String,
    key: String,
    version: String,
    mtu: usize,
    sends: Vec<String>,
    cookie: bool,
    timeout: u64,
}

fn parse() -> Args {
    let mut it = std::env::args().skip(1);
    let role = it.next().unwrap_or_default();
    let mut a = Args {
        role,
        addr: String::new(),
        cert: String::new(),
        key: String::new(),
        version: "1.3".into(),
        mtu: 1200,
        sends: vec![],
        cookie: false,
        timeout: 10,
    };
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| die(&format!("{arg} needs a value")));
        match arg.as_str() {
            "--listen" => a.addr = val(),
            "--cert" => a.cert = val(),
            "--key" => a.key = val(),
            "--version" => a.version = val(),
            "--mtu" => a.mtu = val().parse().unwrap_or_else(|_| die("bad --mtu")),
            "--send" => a.sends.push(val()),
            "--timeout" => a.timeout = val().parse().unwrap_or_else(|_| die("bad --timeout")),
            "--cookie" => a.cookie = true,
            _ if a.addr.is_empty() && !arg.starts_with("--") => a.addr = arg,
            _ => die(&format!("unknown argument {arg}")),
        }
    }
    if (a.role != "client" && a.role != "server") || a.addr.is_empty() || a.cert.is_empty() {
        die("usage: dimpl-peer client|server ADDR --cert C.der --key K.der ...");
    }
    a
}

fn die(msg: &str) -> ! {
    eprintln!("dimpl-peer: {msg}");
    std::process::exit(1)
}

fn main() {
    let a = parse();
    let cert = DtlsCertificate {
        certificate: std::fs::read(&a.cert).unwrap_or_else(|e| die(&format!("{}: {e}", a.cert))),
        private_key: std::fs::read(&a.key).unwrap_or_else(|e| die(&format!("{}: {e}", a.key))),
    };
    let config = Arc::new(
        Config::builder()
            .mtu(a.mtu)
            .use_server_cookie(a.cookie)
            .build()
            .unwrap_or_else(|e| die(&format!("config: {e:?}"))),
    );
    let now = Instant::now();
    let mut dtls = match a.version.as_str() {
        "1.3" => Dtls::new_13(config, cert, now),
        "1.2" => Dtls::new_12(config, cert, now),
        "auto" => Dtls::new_auto(config, cert, now),
        v => die(&format!("bad --version {v}")),
    };
    let sock;
    let mut peer: Option<SocketAddr> = None;
    if a.role == "client" {
        let to: SocketAddr = a.addr.parse().unwrap_or_else(|_| die("bad HOST:PORT"));
        sock = UdpSocket::bind(if to.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" })
            .unwrap_or_else(|e| die(&format!("bind: {e}")));
        peer = Some(to);
        dtls.set_active(true);
    } else {
        sock = UdpSocket::bind(&a.addr).unwrap_or_else(|e| die(&format!("bind: {e}")));
        eprintln!("listening {}", sock.local_addr().unwrap());
    }
    let deadline = now + Duration::from_secs(a.timeout);
    // dimpl takes the time (and draws its randoms) in handle_timeout: once
    // at the start, then before every datagram.
    if let Err(e) = dtls.handle_timeout(now) {
        die(&format!("start: {e:?}"));
    }
    let mut wake = deadline;
    let mut buf = vec![0u8; 65536];
    let mut out = vec![0u8; 65536];
    let mut connected = false;
    let mut sent = 0usize;
    let mut received = 0usize;
    loop {
        // Drain the engine.
        let mut echo: Vec<Vec<u8>> = vec![];
        loop {
            match dtls.poll_output(&mut out) {
                Output::Packet(p) => {
                    if let Some(to) = peer {
                        let _ = sock.send_to(p, to);
                    }
                }
                Output::BufferTooSmall { needed } => out.resize(needed, 0),
                Output::Timeout(t) => {
                    wake = t;
                    break;
                }
                Output::Connected => {
                    connected = true;
                    let v = match dtls.protocol_version() {
                        Some(v) if format!("{v:?}").contains("1_3") => "DTLSv1.3",
                        _ => "DTLSv1.2",
                    };
                    eprintln!("{} {v}", if a.role == "client" { "connected" } else { "accepted" });
                }
                Output::ApplicationData(d) => {
                    println!("{}", String::from_utf8_lossy(d));
                    received += 1;
                    if a.role == "server" {
                        echo.push(d.to_vec());
                    }
                }
                Output::CloseNotify => {
                    eprintln!("closed");
                    std::process::exit(if a.role == "server" && received > 0 { 0 } else { 1 });
                }
                _ => {}
            }
        }
        if !echo.is_empty() {
            for d in echo {
                if let Err(e) = dtls.send_application_data(&d) {
                    die(&format!("send: {e:?}"));
                }
            }
            continue; // drain what the echoes made
        }
        if a.role == "client" && connected && sent < a.sends.len() {
            for s in &a.sends {
                if let Err(e) = dtls.send_application_data(s.as_bytes()) {
                    die(&format!("send: {e:?}"));
                }
            }
            sent = a.sends.len();
            continue;
        }
        if a.role == "client" && connected && received >= a.sends.len() {
            let _ = dtls.close();
            while let Output::Packet(p) = dtls.poll_output(&mut out) {
                let _ = sock.send_to(p, peer.unwrap());
            }
            std::process::exit(0);
        }
        let now = Instant::now();
        if now >= deadline {
            die(if connected { "timed out waiting for data" } else { "handshake timed out" });
        }
        let wait = wake.min(deadline).saturating_duration_since(now).max(Duration::from_millis(1));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                if peer.is_none() {
                    peer = Some(from);
                }
                if Some(from) == peer {
                    if let Err(e) = dtls.handle_timeout(Instant::now()) {
                        die(&format!("timeout handling failed: {e:?}"));
                    }
                    if let Err(e) = dtls.handle_packet(&buf[..n]) {
                        die(&format!("handshake failed: {e:?}"));
                    }
                }
            }
            Err(_) => {
                if let Err(e) = dtls.handle_timeout(Instant::now()) {
                    die(&format!("timeout handling failed: {e:?}"));
                }
            }
        }
    }
}

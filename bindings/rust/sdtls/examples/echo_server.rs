// SPDX-License-Identifier: Apache-2.0
//! A DTLS echo server over one `std::net::UdpSocket`: every datagram a peer
//! sends comes back to it. The Rust side of tests/interop/cross_language.sh.
//!
//! ```text
//! echo_server --cert cert.pem --key key.pem [--listen 127.0.0.1:0] [--once]
//! ```
//!
//! Says `listening ADDR:PORT` on stderr (port 0 picks a free one), then
//! `accepted PEER` and `closed PEER` (with the reason when it was not the
//! peer's close_notify). With `--once` it exits after its first peer has
//! gone: status 0 for a close_notify, 1 otherwise.
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use sdtls::{Config, Server, ServerEvent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut cert, mut key, mut listen, mut once) = (None, None, "127.0.0.1:0".to_string(), false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cert" => cert = args.next(),
            "--key" => key = args.next(),
            "--listen" => listen = args.next().ok_or("--listen needs HOST:PORT")?,
            "--once" => once = true,
            _ => return Err(format!("unknown argument {a:?}").into()),
        }
    }
    let (Some(cert), Some(key)) = (cert, key) else {
        return Err(
            "usage: echo_server --cert FILE --key FILE [--listen HOST:PORT] [--once]".into()
        );
    };
    let config = Config::builder().certificate_files(cert, key).build()?;
    let sock = UdpSocket::bind(&listen)?;
    let mut server = Server::new(&config)?;
    let out = sock.try_clone()?;
    server.set_send(move |to, datagram| out.send_to(datagram, to).map(|_| ()));
    eprintln!("listening {}", sock.local_addr()?);

    let mut addrs: Vec<(sdtls::PeerId, SocketAddr)> = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        // Wait for a datagram or the server's next deadline (a second at most).
        let wait = server
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(1), Duration::from_secs(1));
        sock.set_read_timeout(Some(wait))?;
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => server.receive(from, &buf[..n], Instant::now())?,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                server.handle_timeout(Instant::now())?
            }
            Err(e) => return Err(e.into()),
        }
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::NewPeer { peer, addr } => addrs.push((peer, addr)),
                ServerEvent::HandshakeDone { peer } => {
                    eprintln!("accepted {}", addr_of(&addrs, peer))
                }
                ServerEvent::Data { peer, data } => server.send(peer, &data, Instant::now())?,
                ServerEvent::Closed { peer, reason } => {
                    let addr = addr_of(&addrs, peer);
                    addrs.retain(|(p, _)| *p != peer);
                    match &reason {
                        None => eprintln!("closed {addr}"),
                        Some(e) => eprintln!("closed {addr} {e}"),
                    }
                    if once {
                        std::process::exit(if reason.is_none() { 0 } else { 1 });
                    }
                }
            }
        }
    }
}

fn addr_of(addrs: &[(sdtls::PeerId, SocketAddr)], peer: sdtls::PeerId) -> String {
    addrs.iter().find(|(p, _)| *p == peer).map_or("?".into(), |(_, a)| a.to_string())
}

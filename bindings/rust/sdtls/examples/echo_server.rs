// SPDX-License-Identifier: Apache-2.0
//! A DTLS echo server over `std::net::UdpSocket`: every datagram a peer
//! sends comes back to it. The Rust side of tests/interop/cross_language.sh.
//!
//! ```text
//! echo_server --cert cert.pem --key key.pem [--listen 127.0.0.1:0] [--threads N] [--once]
//! ```
//!
//! Says `listening ADDR:PORT` on stderr (port 0 picks a free one), then
//! `accepted PEER` and `closed PEER` (with the reason when it was not the
//! peer's close_notify). With `--once` it exits after its first peer has
//! gone: status 0 for a close_notify, 1 otherwise.
//!
//! `--threads N` (Linux) uses N cores: N sockets bound to the address with
//! `SO_REUSEPORT`, so that the kernel spreads the peers among them (by
//! their addresses: a peer stays on one socket), each read by its own
//! thread with its own `Server`. The servers share the `Config` (and so its
//! ticket secret: a session made on one resumes on another) and one cookie
//! secret drawn here (a client whose cookie-bearing ClientHello lands on
//! another socket than its first still gets in). Nothing shared is written
//! per datagram: each thread owns its socket, server and peers. Each
//! `accepted` line then ends with `socket I`, the socket (0..N) that took
//! the peer.
use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use sdtls::{Config, Server, ServerEvent};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str =
    "usage: echo_server --cert FILE --key FILE [--listen HOST:PORT] [--threads N] [--once]";

fn main() -> Result<(), BoxError> {
    let (mut cert, mut key, mut listen, mut threads, mut once) =
        (None, None, "127.0.0.1:0".to_string(), 1usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cert" => cert = args.next(),
            "--key" => key = args.next(),
            "--listen" => listen = args.next().ok_or("--listen needs HOST:PORT")?,
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--threads needs a number of threads, 1 or more")?
            }
            "--once" => once = true,
            _ => return Err(format!("unknown argument {a:?}").into()),
        }
    }
    let (Some(cert), Some(key)) = (cert, key) else {
        return Err(USAGE.into());
    };
    let config = Config::builder().certificate_files(cert, key).build()?;

    let mut socks = Vec::with_capacity(threads);
    let mut cookie_secret = None;
    if threads == 1 {
        socks.push(UdpSocket::bind(&listen)?);
    } else {
        let at = listen.to_socket_addrs()?.next().ok_or("--listen: no address")?;
        socks.push(bind_reuse_port(at)?);
        let at = socks[0].local_addr()?; // the port the first bind picked
        while socks.len() < threads {
            socks.push(bind_reuse_port(at)?);
        }
        let mut secret = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut secret)?;
        cookie_secret = Some(secret);
    }
    eprintln!("listening {}", socks[0].local_addr()?);

    let workers: Vec<_> = socks
        .into_iter()
        .enumerate()
        .map(|(i, sock)| {
            let config = config.clone();
            let name = if threads > 1 { format!(" socket {i}") } else { String::new() };
            std::thread::spawn(move || serve(sock, &config, cookie_secret, &name, once))
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "a server thread panicked")??;
    }
    Ok(())
}

/// One socket's server: reads the socket, runs the server's timers and
/// echoes every peer's data, on the calling thread. `name` ends its
/// `accepted` lines.
fn serve(
    sock: UdpSocket,
    config: &Config,
    cookie_secret: Option<[u8; 32]>,
    name: &str,
    once: bool,
) -> Result<(), BoxError> {
    let mut server = Server::new(config)?;
    if let Some(secret) = cookie_secret {
        server.set_cookie_secret(&secret, Instant::now())?;
    }
    let out = sock.try_clone()?;
    server.set_send(move |to, datagram| out.send_to(datagram, to).map(|_| ()));

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
                    eprintln!("accepted {}{name}", addr_of(&addrs, peer))
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

/// A UDP socket bound to `at` with `SO_REUSEPORT` set before the bind (std
/// binds at once, so the option is set through libc): every such socket of
/// the same user on the address joins one group, among which Linux spreads
/// the datagrams by a hash of their addresses.
#[cfg(target_os = "linux")]
fn bind_reuse_port(at: SocketAddr) -> std::io::Result<UdpSocket> {
    use std::io::Error;
    use std::mem::{size_of_val, zeroed};
    use std::os::fd::{AsRawFd, FromRawFd};

    let family = if at.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: socket(2) with constant arguments; the descriptor is owned by
    // `sock` at once, which closes it on every return below.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os_error());
    }
    let sock = unsafe { UdpSocket::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    // SAFETY: `one` outlives the call, which reads size_of_val(&one) bytes.
    if unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&one as *const libc::c_int).cast(),
            size_of_val(&one) as libc::socklen_t,
        )
    } != 0
    {
        return Err(Error::last_os_error());
    }
    // SAFETY: zeroed sockaddr_in/sockaddr_in6 are valid (all-integer
    // structs); bind(2) reads the length given, that of the struct passed.
    let rc = match at {
        SocketAddr::V4(a) => unsafe {
            let mut sin: libc::sockaddr_in = zeroed();
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            libc::bind(
                sock.as_raw_fd(),
                (&sin as *const libc::sockaddr_in).cast(),
                size_of_val(&sin) as libc::socklen_t,
            )
        },
        SocketAddr::V6(a) => unsafe {
            let mut sin6: libc::sockaddr_in6 = zeroed();
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            libc::bind(
                sock.as_raw_fd(),
                (&sin6 as *const libc::sockaddr_in6).cast(),
                size_of_val(&sin6) as libc::socklen_t,
            )
        },
    };
    if rc != 0 {
        return Err(Error::last_os_error());
    }
    Ok(sock)
}

/// Elsewhere SO_REUSEPORT does not spread one address's datagrams among its
/// sockets (or does not exist): one thread only.
#[cfg(not(target_os = "linux"))]
fn bind_reuse_port(_: SocketAddr) -> std::io::Result<UdpSocket> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "--threads above 1 needs Linux"))
}

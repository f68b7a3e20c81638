// SPDX-License-Identifier: Apache-2.0
//! Interoperability with the `sdtls` command-line tool (the C library's own
//! client and server) over real UDP sockets on 127.0.0.1.
//!
//! The tool is $SDTLS_TOOL. Without it these tests say so and pass (a plain
//! `cargo test`); tests/run.sh always sets it, so there a missing or broken
//! tool fails them.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::scratch;
use sdtls::{Certificate, Config, Conn, Event, Server, ServerEvent, State};

fn tool() -> Option<PathBuf> {
    let Some(p) = std::env::var_os("SDTLS_TOOL") else {
        eprintln!("SDTLS_TOOL is not set: the interop tests with the sdtls tool did not run");
        return None;
    };
    let p = PathBuf::from(p);
    assert!(p.is_file(), "SDTLS_TOOL={} does not exist (build the C tree first)", p.display());
    Some(p)
}

/// Kills the child when dropped (a failed assertion must not leave it).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a child's stderr, read on a thread.
fn lines_of(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for a line starting with `prefix`; returns it.
fn wait_line(rx: &mpsc::Receiver<String>, prefix: &str, log: &mut Vec<String>) -> String {
    let end = Instant::now() + Duration::from_secs(15);
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                log.push(l.clone());
                if l.starts_with(prefix) {
                    return l;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no line starting with {prefix:?}; got {log:?}");
}

fn write_cert(dir: &std::path::Path, cert: &Certificate) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("srv.pem"), dir.join("srv.key"));
    std::fs::write(&c, cert.cert_pem()).unwrap();
    std::fs::write(&k, cert.key_pem()).unwrap();
    (c, k)
}

/// A fresh certificate for "localhost", written (write_cert) to a scratch
/// directory of its own: the certificate and the two files.
fn scratch_cert(name: &str) -> (Certificate, PathBuf, PathBuf) {
    let cert = Certificate::self_signed("localhost", 1).unwrap();
    let (cpem, kpem) = write_cert(&scratch(name), &cert);
    (cert, cpem, kpem)
}

#[test]
fn rust_client_against_the_tool_server() {
    let Some(tool) = tool() else { return };
    let (cert, cpem, kpem) = scratch_cert("tool-server");
    let mut child = Proc(
        Command::new(&tool)
            .args(["server", "--listen", "127.0.0.1:0", "--echo", "--cert"])
            .arg(&cpem)
            .arg("--key")
            .arg(&kpem)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the sdtls tool"),
    );
    let err = lines_of(child.0.stderr.take().unwrap());
    let mut log = Vec::new();
    let listening = wait_line(&err, "listening ", &mut log);
    let server: SocketAddr = listening["listening ".len()..].parse().unwrap();

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(server).unwrap();
    let out = sock.try_clone().unwrap();
    let cfg = Config::builder().ca_pem(cert.cert_pem()).build().unwrap();
    let mut conn = Conn::client(&cfg, "localhost").unwrap();
    conn.set_send(move |d| out.send(d).map(|_| ()));
    conn.start(Instant::now()).unwrap();

    let msgs: Vec<Vec<u8>> = vec![b"one".to_vec(), vec![b'x'; 1000], "grüße".as_bytes().to_vec()];
    let mut echoed = Vec::new();
    let mut sent = false;
    let give_up = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 2048];
    while echoed.len() < msgs.len() {
        assert!(Instant::now() < give_up, "no echo; tool said {log:?}");
        if conn.state() == State::Connected && !sent {
            for m in &msgs {
                conn.send(m, Instant::now()).unwrap();
            }
            sent = true;
        }
        let wait = conn
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(200))
            .clamp(Duration::from_millis(1), Duration::from_millis(200));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv(&mut buf) {
            Ok(n) => conn.receive(&buf[..n], Instant::now()).unwrap(),
            Err(_) => conn.handle_timeout(Instant::now()).unwrap(),
        }
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Data(d) => echoed.push(d),
                Event::Closed(e) => panic!("closed: {e:?}; tool said {log:?}"),
                Event::HandshakeDone => {}
            }
        }
    }
    assert_eq!(echoed, msgs);
    assert_eq!(conn.peer_fingerprint(), Some(cert.fingerprint().unwrap()));
    conn.close(Instant::now()).unwrap();
    wait_line(&err, "accepted 127.0.0.1:", &mut log);
    let closed = wait_line(&err, "closed 127.0.0.1:", &mut log);
    assert_eq!(closed.split_whitespace().count(), 2, "a close_notify, not an error: {closed}");
}

#[test]
fn tool_client_against_a_rust_server() {
    let Some(tool) = tool() else { return };
    let (cert, cpem, _) = scratch_cert("tool-client");
    let cfg = Config::builder().certificate(&cert).build().unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();

    // The server: echoes, exports keying material for the peer, ends when
    // its peer has closed (bounded).
    let server = std::thread::spawn(move || {
        let mut server = Server::new(&cfg).unwrap();
        let out = sock.try_clone().unwrap();
        server.set_send(move |to, d| out.send_to(d, to).map(|_| ()));
        let mut export = None;
        let mut buf = [0u8; 2048];
        let give_up = Instant::now() + Duration::from_secs(20);
        let mut closed = None;
        while closed.is_none() && Instant::now() < give_up {
            sock.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => server.receive(from, &buf[..n], Instant::now()).unwrap(),
                Err(_) => server.handle_timeout(Instant::now()).unwrap(),
            }
            while let Some(ev) = server.poll_event() {
                match ev {
                    ServerEvent::HandshakeDone { peer } => {
                        let mut k = [0u8; 32];
                        let p = server.peer(peer).unwrap();
                        p.export_keying_material(b"EXPERIMENTAL-rust", None, &mut k).unwrap();
                        export = Some(k);
                    }
                    ServerEvent::Data { peer, data } => {
                        server.send(peer, &data, Instant::now()).unwrap();
                    }
                    ServerEvent::Closed { reason, .. } => closed = Some(reason),
                    ServerEvent::NewPeer { .. } => {}
                }
            }
        }
        (export, closed)
    });

    let mut child = Proc(
        Command::new(&tool)
            .args(["client", &format!("127.0.0.1:{port}"), "--server-name", "localhost"])
            .args(["--export", "EXPERIMENTAL-rust:32", "--timeout", "5", "--ca"])
            .arg(&cpem)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the sdtls tool"),
    );
    {
        let mut stdin = child.0.stdin.take().unwrap();
        stdin.write_all(b"first line\nsecond line\n").unwrap();
    } // EOF: the client waits for the replies, sends close_notify, exits
    let out = lines_of(child.0.stdout.take().unwrap());
    let err = lines_of(child.0.stderr.take().unwrap());
    let mut log = Vec::new();
    let connected = wait_line(&err, "connected ", &mut log);
    let fp = cert.fingerprint().unwrap().to_string();
    assert!(connected.ends_with(&format!("peer sha-256 {fp}")), "{connected}");
    let mut got = Vec::new();
    let export_line = wait_line(&out, "EXPORT ", &mut got);
    wait_line(&out, "second line", &mut got);
    assert!(got.contains(&"first line".to_string()), "{got:?}");

    let end = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "the tool client did not exit; {log:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "tool client: {status}; {log:?}");
    let (export, closed) = server.join().unwrap();
    assert_eq!(closed, Some(None), "the client's close_notify ended the peer");
    let hex: String = export.unwrap().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(export_line, format!("EXPORT EXPERIMENTAL-rust {hex}"));
}

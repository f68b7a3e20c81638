//! Says hello to a DTLS echo server at the address given (default
//! 127.0.0.1:4433; for instance `sdtls server --listen 127.0.0.1:4433
//! --cert cert.pem --key key.pem --echo`, with `cp cert.pem ca.pem`) that
//! ca.pem vouches for, prints the reply and closes.
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use sdtls::{Config, Conn, Event, State};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(std::env::args().nth(1).as_deref().unwrap_or("127.0.0.1:4433"))?;
    let config = Config::builder().ca_file("ca.pem").build()?; // verification is on
    let mut conn = Conn::client(&config, "localhost")?; // sent (SNI) and verified
    let out = sock.try_clone()?;
    conn.set_send(move |datagram| out.send(datagram).map(|_| ())); // or poll_transmit()
    conn.start(Instant::now())?;

    let (mut sent, mut buf) = (false, [0u8; 2048]);
    let give_up = Instant::now() + Duration::from_secs(40);
    while Instant::now() < give_up {
        if conn.state() == State::Connected && !sent {
            conn.send(b"hello", Instant::now())?;
            sent = true;
        }
        // Wait for a datagram or the connection's next deadline.
        let deadline = conn.next_deadline().unwrap_or(give_up).min(give_up);
        let wait = deadline.saturating_duration_since(Instant::now());
        sock.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match sock.recv(&mut buf) {
            Ok(n) => conn.receive(&buf[..n], Instant::now())?,
            Err(_) => conn.handle_timeout(Instant::now())?, // retransmits, or fails on time
        }
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Data(reply) => {
                    println!("{}", String::from_utf8_lossy(&reply));
                    conn.close(Instant::now())?; // close_notify
                    return Ok(());
                }
                Event::Closed(reason) => return Err(format!("closed: {reason:?}").into()),
                Event::HandshakeDone => {}
            }
        }
    }
    Err("no reply".into())
}

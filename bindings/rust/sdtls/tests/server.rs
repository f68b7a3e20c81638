// SPDX-License-Identifier: Apache-2.0
//! sdtls::Server in memory: several clients at their own addresses, the
//! cookie exchange, per-peer views by id, closing, eviction, panics, drop
//! orders.
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{events, Pki};
use sdtls::{
    sys, Category, Certificate, Config, Conn, Counter, Event, PeerId, Server, ServerEvent, State,
};

struct Net {
    server: Server,
    clients: Vec<(SocketAddr, Conn)>,
    server_errors: Vec<sdtls::Error>,
}

impl Net {
    fn new(server: Server) -> Net {
        Net { server, clients: Vec::new(), server_errors: Vec::new() }
    }

    fn add_client(&mut self, cfg: &Config, now: Instant) -> usize {
        let addr: SocketAddr =
            format!("192.0.2.{}:{}", self.clients.len() + 1, 5000).parse().unwrap();
        let mut c = Conn::client(cfg, "localhost").unwrap();
        c.start(now).unwrap();
        self.clients.push((addr, c));
        self.clients.len() - 1
    }

    fn pump(&mut self, now: Instant) {
        loop {
            let mut any = false;
            for (addr, c) in &mut self.clients {
                while let Some(d) = c.poll_transmit() {
                    if let Err(e) = self.server.receive(*addr, &d, now) {
                        self.server_errors.push(e);
                    }
                    any = true;
                }
            }
            while let Some((to, d)) = self.server.poll_transmit() {
                any = true;
                if let Some((_, c)) = self.clients.iter_mut().find(|(a, _)| *a == to) {
                    let _ = c.receive(&d, now);
                }
            }
            if !any {
                return;
            }
        }
    }

    fn server_events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    /// Asserts that of the server's Closed events exactly one carries an
    /// error, and that it is a verification failure.
    #[track_caller]
    fn assert_one_verify_failure(&mut self) {
        let closed: Vec<_> = self
            .server_events()
            .into_iter()
            .filter_map(|e| match e {
                ServerEvent::Closed { reason, .. } => reason,
                _ => None,
            })
            .collect();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].category(), Category::Verify, "{}", closed[0]);
    }
}

/// A client certificate's SHA-256 fingerprint in SDP's form, and a config
/// for a client of `pki`'s server that presents that certificate.
fn client_with_cert(pki: &Pki) -> (String, Config) {
    let client_cert = Certificate::self_signed("client", 1).unwrap();
    let fp = client_cert.fingerprint().unwrap().sdp();
    (fp, pki.client().certificate(&client_cert).build().unwrap())
}

fn new_peer_ids(evs: &[ServerEvent]) -> Vec<(PeerId, SocketAddr)> {
    evs.iter()
        .filter_map(|e| match e {
            ServerEvent::NewPeer { peer, addr } => Some((*peer, *addr)),
            _ => None,
        })
        .collect()
}

#[test]
fn many_clients_cookies_views_data_and_close() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let now = Instant::now();
    let mut net = Net::new(Server::new(&scfg).unwrap());
    for _ in 0..3 {
        net.add_client(&ccfg, now);
    }
    net.pump(now);
    for (_, c) in &mut net.clients {
        assert_eq!(c.state(), State::Connected);
        assert_eq!(c.poll_event(), Some(Event::HandshakeDone));
    }
    assert!(net.server.counter(Counter::CookiesSent) >= 3);
    assert_eq!(net.server.counter(Counter::Peers), 3);
    let evs = net.server_events();
    let ids = new_peer_ids(&evs);
    assert_eq!(ids.len(), 3);
    assert_eq!(evs.iter().filter(|e| matches!(e, ServerEvent::HandshakeDone { .. })).count(), 3);
    assert_eq!(net.server.peers(), ids.iter().map(|(id, _)| *id).collect::<Vec<_>>());

    // Views by id.
    for (i, (id, addr)) in ids.iter().enumerate() {
        assert_eq!(*addr, net.clients[i].0);
        let p = net.server.peer(*id).unwrap();
        assert_eq!((p.id(), p.addr(), p.state()), (*id, *addr, State::Connected));
        let newest =
            if sdtls::has_feature(sdtls::Feature::Dtls13) { "DTLSv1.3" } else { "DTLSv1.2" };
        assert_eq!(p.protocol_version(), Some(newest));
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        p.export_keying_material(b"label", None, &mut a).unwrap();
        net.clients[i].1.export_keying_material(b"label", None, &mut b).unwrap();
        assert_eq!(a, b);
    }

    // Data from each client; replies by id.
    for (i, (_, c)) in net.clients.iter_mut().enumerate() {
        c.send(format!("from {i}").as_bytes(), now).unwrap();
    }
    net.pump(now);
    for ev in net.server_events() {
        let ServerEvent::Data { peer, data } = ev else { panic!("{ev:?}") };
        let mut reply = b"echo ".to_vec();
        reply.extend_from_slice(&data);
        net.server.peer_mut(peer).unwrap().send(&reply, now).unwrap();
    }
    net.pump(now);
    for (i, (_, c)) in net.clients.iter_mut().enumerate() {
        assert_eq!(events(c), vec![Event::Data(format!("echo from {i}").into_bytes())]);
    }

    // The server closes the first peer: close_notify, a Closed event, the id
    // names nothing any more.
    let first = ids[0].0;
    net.server.close_peer(first, now).unwrap();
    match net.server_events().as_slice() {
        [ServerEvent::Closed { peer, reason: Some(e) }] => {
            assert_eq!(*peer, first);
            assert_eq!(e.code(), sys::SDTLS_E_CLOSED);
        }
        evs => panic!("{evs:?}"),
    }
    assert!(net.server.peer(first).is_none());
    assert!(net.server.peer_mut(first).is_none());
    assert_eq!(net.server.send(first, b"x", now).unwrap_err().category(), Category::Closed);
    assert_eq!(net.server.close_peer(first, now).unwrap_err().category(), Category::Closed);
    net.pump(now);
    assert_eq!(events(&mut net.clients[0].1), vec![Event::Closed(None)]);

    // A client closes: the server reports its close_notify.
    net.clients[1].1.close(now).unwrap();
    net.pump(now);
    assert_eq!(net.server_events(), vec![ServerEvent::Closed { peer: ids[1].0, reason: None }]);

    // PeerMut::close consumes the view.
    let third = ids[2].0;
    let p = net.server.peer_mut(third).unwrap();
    assert_eq!(p.addr(), Some(ids[2].1));
    p.close(now).unwrap();
    assert!(net.server.peers().is_empty());
    assert_eq!(net.server.counter(Counter::ConnectionsClosed), 3);
}

/// The deprecated way (NewPeer::add_peer_fingerprint from on_connect)
/// still works; pins_by_address is the way.
#[test]
#[allow(deprecated)]
fn per_peer_fingerprints_from_on_connect() {
    let pki = Pki::new();
    let (fp, ccfg) = client_with_cert(&pki);
    let scfg = pki.server().build().unwrap();
    let now = Instant::now();

    let mut server = Server::new(&scfg).unwrap();
    let expected = fp.clone();
    server.set_on_connect(move |p| {
        p.add_peer_fingerprint(&expected).unwrap();
    });
    let mut net = Net::new(server);
    net.add_client(&ccfg, now);
    net.pump(now);
    assert_eq!(net.clients[0].1.state(), State::Connected);
    let id = net.server.peers()[0];
    assert_eq!(net.server.peer(id).unwrap().peer_fingerprint().unwrap().sdp(), fp);

    // The wrong fingerprint fails that peer with a verification error.
    let other = Certificate::self_signed("other", 1).unwrap().fingerprint().unwrap().sdp();
    let mut server = Server::new(&scfg).unwrap();
    server.set_on_connect(move |p| p.add_peer_fingerprint(&other).unwrap());
    let mut net = Net::new(server);
    net.add_client(&ccfg, now);
    net.pump(now);
    assert_ne!(net.clients[0].1.state(), State::Connected);
    net.assert_one_verify_failure();
}

#[test]
fn idle_peers_are_evicted_on_the_servers_clock() {
    let pki = Pki::new();
    let scfg = pki.server().idle_timeout(Some(Duration::from_secs(1))).build().unwrap();
    let now = Instant::now();
    let mut net = Net::new(Server::new(&scfg).unwrap());
    net.add_client(&pki.client().build().unwrap(), now);
    net.pump(now);
    let id = net.server.peers()[0];
    net.server_events();
    let deadline = net.server.next_deadline().unwrap();
    assert!(deadline <= now + Duration::from_millis(1001));
    net.server.handle_timeout(now + Duration::from_secs(2)).unwrap();
    match net.server_events().as_slice() {
        [ServerEvent::Closed { peer, reason: Some(e) }] => {
            assert_eq!(*peer, id);
            assert_eq!(e.category(), Category::Timeout);
        }
        evs => panic!("{evs:?}"),
    }
    assert_eq!(net.server.counter(Counter::ConnectionsEvicted), 1);
    assert!(net.server.peer(id).is_none());
}

#[test]
fn panics_in_server_closures_are_errors_of_the_call() {
    let pki = Pki::new();
    let scfg = pki.server().build().unwrap();
    let now = Instant::now();
    let mut server = Server::new(&scfg).unwrap();
    server.set_on_connect(|_| panic!("boom in on_connect"));
    let mut net = Net::new(server);
    net.add_client(&pki.client().build().unwrap(), now);
    net.pump(now);
    assert_eq!(net.server_errors.len(), 1, "{:?}", net.server_errors);
    assert_eq!(net.server_errors[0].detail(), "boom in on_connect");
    // The server carries on.
    assert_eq!(net.clients[0].1.state(), State::Connected);

    let mut server = Server::new(&scfg).unwrap();
    server.set_send(|_, _| panic!("boom in send"));
    let e =
        server.receive("192.0.2.9:9".parse().unwrap(), &first_client_hello(&pki), now).unwrap_err();
    assert_eq!((e.category(), e.detail()), (Category::Panic, "boom in send"));
    assert_eq!(server.counter(Counter::CookiesSent), 1);
}

/// A whole ClientHello in one datagram: no post-quantum key share (with
/// one, the first datagram is a fragment, which the server reassembles
/// before it answers); P-256 too, the curve of the server's certificate.
fn first_client_hello(pki: &Pki) -> Vec<u8> {
    let cfg = pki.client().groups(&["X25519", "P-256"]).build().unwrap();
    let mut c = Conn::client(&cfg, "localhost").unwrap();
    c.start(Instant::now()).unwrap();
    c.poll_transmit().unwrap()
}

#[test]
fn junk_and_bad_addresses() {
    let pki = Pki::new();
    let mut server = Server::new(&pki.server().build().unwrap()).unwrap();
    let now = Instant::now();
    server.receive("[2001:db8::1]:443".parse().unwrap(), b"not dtls", now).unwrap();
    server.receive("192.0.2.1:1".parse().unwrap(), &[22, 254, 253], now).unwrap();
    assert_eq!(server.counter(Counter::DroppedMalformed), 2);
    // IPv6 peers work like IPv4 ones.
    let hello = first_client_hello(&pki);
    let v6: SocketAddr = "[2001:db8::2]:5684".parse().unwrap();
    server.receive(v6, &hello, now).unwrap();
    let (to, d) = server.poll_transmit().unwrap();
    assert_eq!(to, v6);
    // The same through a recycled buffer.
    server.recycle(d);
    server.receive(v6, &hello, now).unwrap();
    let mut buf = Vec::new();
    assert_eq!(server.poll_transmit_into(&mut buf), Some(v6));
    assert_eq!(buf[0], 22, "a handshake record (HelloVerifyRequest)");
    assert_eq!(server.poll_transmit_into(&mut buf), None);
}

#[test]
fn drop_orders() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let now = Instant::now();
    // The config goes first; then the server with live peers and ids held.
    let mut net = Net::new(Server::new(&scfg).unwrap());
    drop(scfg);
    net.add_client(&ccfg, now);
    net.add_client(&ccfg, now);
    net.pump(now);
    let ids = net.server.peers();
    assert_eq!(ids.len(), 2);
    let Net { server, mut clients, .. } = net;
    drop(server); // frees its connections, sends nothing
                  // Ids outlive the server harmlessly (they are numbers); the clients are
                  // untouched.
    assert_eq!(ids[0].get() + 1, ids[1].get());
    for (_, c) in &mut clients {
        assert_eq!(c.state(), State::Connected);
        c.send(b"into the void", now).unwrap();
    }
}

// A server's queues have a Conn's bound: a send to a peer while the
// datagram queue is full, and a receive while the event queue is full,
// fail with SDTLS_E_LIMIT; nothing queued is lost and, once drained,
// every record comes out in order.
#[test]
fn server_queues_are_bounded_and_lose_nothing() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let now = Instant::now();
    let mut net = Net::new(Server::new(&scfg).unwrap());
    net.add_client(&ccfg, now);
    net.pump(now);
    let id = new_peer_ids(&net.server_events())[0].0;
    let addr = net.clients[0].0;
    let max = sdtls::QUEUE_MAX_RECORDS;
    // The server's datagram queue.
    let mut sent = 0;
    let full = loop {
        match net.server.send(id, format!("{sent:06}").as_bytes(), now) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
        assert!(sent <= max, "the send queue is bounded");
    };
    assert_eq!((full.code(), sent), (sys::SDTLS_E_LIMIT, max));
    assert!(full.detail().contains("poll_transmit"), "{full}");
    let c = &mut net.clients[0].1;
    let mut n = 0;
    while let Some((_, d)) = net.server.poll_transmit() {
        c.receive(&d, now).unwrap();
        while let Some(Event::Data(d)) = c.poll_event() {
            assert_eq!(d, format!("{n:06}").into_bytes());
            n += 1;
        }
    }
    assert_eq!(n, max);
    // The server's event queue.
    let mut out = Vec::new();
    for i in 0..max + 1 {
        c.send(format!("{i:06}").as_bytes(), now).unwrap();
        out.push(c.poll_transmit().unwrap());
    }
    for d in &out[..max] {
        net.server.receive(addr, d, now).unwrap();
    }
    let e = net.server.receive(addr, &out[max], now).unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_LIMIT);
    assert!(e.detail().contains("poll_event"), "{e}");
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut take = |s: &mut Server| {
        while let Some(ev) = s.poll_event() {
            if let ServerEvent::Data { data, .. } = ev {
                got.push(data);
            }
        }
    };
    take(&mut net.server);
    net.server.receive(addr, &out[max], now).unwrap();
    take(&mut net.server);
    let want: Vec<Vec<u8>> = (0..max + 1).map(|i| format!("{i:06}").into_bytes()).collect();
    assert_eq!(got, want);
}

/// Server::pin_peer: a WebRTC server pins each peer's SDP fingerprint by
/// its address before the peer connects. The right certificate is
/// accepted, another refused, an unpinned address takes any, an unpin lifts
/// the pin, refused calls change nothing.
#[test]
fn pins_by_address() {
    let pki = Pki::new();
    let (fp, ccfg) = client_with_cert(&pki);
    let other = Certificate::self_signed("other", 1).unwrap().fingerprint().unwrap().sdp();
    let scfg = pki.server().build().unwrap();
    let now = Instant::now();
    let mut net = Net::new(Server::new(&scfg).unwrap());
    let addr = |i: usize| -> SocketAddr { format!("192.0.2.{}:5000", i + 1).parse().unwrap() };
    net.server.pin_peer(addr(0), &fp).unwrap();
    net.server.pin_peer(addr(0), &fp).unwrap(); // already there: nothing changes
    net.server.pin_peer(addr(1), &other).unwrap();
    for _ in 0..3 {
        net.add_client(&ccfg, now);
    }
    net.pump(now);
    assert_eq!(net.clients[0].1.state(), State::Connected, "the pinned certificate");
    assert_ne!(net.clients[1].1.state(), State::Connected, "another certificate");
    assert_eq!(net.clients[2].1.state(), State::Connected, "no pin for this address");
    net.assert_one_verify_failure();

    // Unpinned, the address takes the client again.
    assert_eq!(net.server.unpin_peer(addr(1)).unwrap(), 1);
    assert_eq!(net.server.unpin_peer(addr(1)).unwrap(), 0);
    let mut again = Conn::client(&ccfg, "localhost").unwrap();
    again.start(now).unwrap();
    net.clients[1].1 = again;
    net.pump(now);
    assert_eq!(net.clients[1].1.state(), State::Connected, "after the unpin");

    // Refusals change nothing; 16 per address.
    for bad in ["", "AB:CD", "sha-256 nothing", "sha-256 AB\0CD"] {
        let e = net.server.pin_peer(addr(0), bad).unwrap_err();
        assert_eq!(e.category(), Category::Usage, "{bad:?}: {e}");
    }
    let e = net.server.pin_peer(addr(0), "sha-1 AB:CD").unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_UNSUPPORTED);
    // 15 more: other's fingerprint with another first byte (never other's
    // own, so that the pin below is a new one).
    let other_first = &other[8..10];
    for b in (0..=255u8)
        .map(|b| format!("{b:02X}"))
        .filter(|b| !b.eq_ignore_ascii_case(other_first))
        .take(15)
    {
        net.server.pin_peer(addr(0), &format!("{b}{}", &other[10..])).unwrap();
    }
    let e = net.server.pin_peer(addr(0), &other).unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_LIMIT);
    assert_eq!(net.server.unpin_peer(addr(0)).unwrap(), 16);

    // An IPv4-mapped IPv6 address is the IPv4 address.
    net.server.pin_peer("[::ffff:192.0.2.9]:5000".parse().unwrap(), &fp).unwrap();
    assert_eq!(net.server.unpin_peer("192.0.2.9:5000".parse().unwrap()).unwrap(), 1);
}

/// Moves datagrams between one client at `addr` and `server` until both
/// are quiet.
fn pump_one(server: &mut Server, addr: SocketAddr, c: &mut Conn, now: Instant) {
    loop {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            server.receive(addr, &d, now).unwrap();
            any = true;
        }
        while let Some((to, d)) = server.poll_transmit() {
            assert_eq!(to, addr);
            let _ = c.receive(&d, now);
            any = true;
        }
        if !any {
            return;
        }
    }
}

/// Servers behind one address (one per socket and thread, as
/// examples/echo_server.rs --threads runs them) that share a Config and a
/// cookie secret: a client whose cookie came from one and whose
/// cookie-bearing ClientHello reaches the other gets in, and a session made
/// on one resumes on the other. Without the shared secret the other server
/// rejects the cookie.
#[test]
fn servers_sharing_a_cookie_secret_and_a_config() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let now = Instant::now();
    let addr: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    for share in [true, false] {
        let (mut a, mut b) = (Server::new(&scfg).unwrap(), Server::new(&scfg).unwrap());
        if share {
            let secret = [0x5a; 32];
            a.set_cookie_secret(&secret, now).unwrap();
            b.set_cookie_secret(&secret, now).unwrap();
        }
        let mut c = Conn::client(&ccfg, "localhost").unwrap();
        c.start(now).unwrap();
        // The first ClientHello to a: its cookie comes back.
        while let Some(d) = c.poll_transmit() {
            a.receive(addr, &d, now).unwrap();
        }
        while let Some((to, d)) = a.poll_transmit() {
            assert_eq!(to, addr);
            c.receive(&d, now).unwrap();
        }
        assert_eq!(a.counter(Counter::CookiesSent), 1);
        // The cookie-bearing ClientHello to b.
        while let Some(d) = c.poll_transmit() {
            b.receive(addr, &d, now).unwrap();
        }
        let (created, rejected) =
            (b.counter(Counter::ConnectionsCreated), b.counter(Counter::CookiesRejected));
        if !share {
            assert_eq!((created, rejected), (0, 1), "b took a's cookie without its secret");
            continue;
        }
        assert_eq!((created, rejected), (1, 0), "b refused a's cookie");
        pump_one(&mut b, addr, &mut c, now);
        assert_eq!(c.state(), State::Connected, "client: {:?}", c.error());
        // Data through b (DTLS 1.3's ticket comes after the handshake).
        let peer = new_peer_ids(&std::iter::from_fn(|| b.poll_event()).collect::<Vec<_>>())[0].0;
        b.send(peer, b"ticket time", now).unwrap();
        pump_one(&mut b, addr, &mut c, now);
        let session = c.session().unwrap();

        // The session resumes on a, from another port.
        let addr2: SocketAddr = "192.0.2.1:5001".parse().unwrap();
        let mut r = Conn::client(&ccfg, "localhost").unwrap();
        r.set_session(&session).unwrap();
        r.start(now).unwrap();
        pump_one(&mut a, addr2, &mut r, now);
        assert_eq!(r.state(), State::Connected, "resuming client: {:?}", r.error());
        assert!(r.session_resumed(), "the session made on b did not resume on a");
    }
}

//! Interoperability with dimpl, an independent pure-Rust DTLS 1.2 stack
//! (sans-I/O too), in memory: sdtls client against a dimpl server and a
//! dimpl client against sdtls::Server (cookie exchange), data both ways and
//! the DTLS-SRTP keys each side derives.
#[path = "../../sdtls/tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use common::{pem_to_der, Pki};
use dimpl::{Dtls, DtlsCertificate, Output};
use sdtls::{Conn, Event, ServerEvent, SrtpProfile, State};

fn dimpl_cert(cert: &sdtls::Certificate) -> DtlsCertificate {
    DtlsCertificate {
        certificate: pem_to_der(cert.cert_pem(), "CERTIFICATE"),
        private_key: pem_to_der(cert.key_pem(), "PRIVATE KEY"),
    }
}

#[derive(Default)]
struct DimplOut {
    packets: Vec<Vec<u8>>,
    connected: bool,
    data: Vec<Vec<u8>>,
    keying: Option<Vec<u8>>,
    peer_cert: Option<Vec<u8>>,
    timeout: Option<Instant>,
}

fn drain(d: &mut Dtls, out: &mut DimplOut) {
    let mut buf = vec![0u8; 2048];
    loop {
        match d.poll_output(&mut buf) {
            Output::Packet(p) => out.packets.push(p.to_vec()),
            Output::BufferTooSmall { needed } => buf.resize(needed, 0),
            Output::Timeout(t) => {
                out.timeout = Some(t);
                return;
            }
            Output::Connected => out.connected = true,
            Output::PeerCert(c) => out.peer_cert = Some(c.to_vec()),
            Output::KeyingMaterial(km, _profile) => out.keying = Some(km.to_vec()),
            Output::ApplicationData(a) => out.data.push(a.to_vec()),
            Output::CloseNotify => {}
            _ => {}
        }
    }
}

#[test]
fn sdtls_client_against_a_dimpl_server() {
    let pki = Pki::new();
    let now = Instant::now();
    let config = Arc::new(dimpl::Config::default());
    let mut server = Dtls::new_12(config, dimpl_cert(&pki.cert), now);
    // dimpl (WebRTC) requires a client certificate by default.
    let client_cert = sdtls::Certificate::self_signed("sdtls-client", 1).unwrap();
    let ccfg = pki
        .client()
        .certificate(&client_cert)
        .srtp_profiles(&[SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmSha1_80])
        .build()
        .unwrap();
    let mut client = Conn::client(&ccfg, "localhost").unwrap();
    client.start(now).unwrap();

    let mut out = DimplOut::default();
    let mut t = now;
    for _ in 0..50 {
        while let Some(d) = client.poll_transmit() {
            server.handle_packet(&d).expect("dimpl accepts sdtls's datagram");
        }
        drain(&mut server, &mut out);
        for p in out.packets.drain(..) {
            client.receive(&p, t).unwrap();
        }
        if client.state() == State::Connected && out.connected {
            break;
        }
        // Let both sides' timers run (dimpl holds back its flight until
        // its clock moves).
        t += std::time::Duration::from_millis(10);
        server.handle_timeout(t).unwrap();
        client.handle_timeout(t).unwrap();
    }
    assert_eq!(client.state(), State::Connected, "{:?}", client.error());
    assert!(out.connected);
    assert_eq!(client.poll_event(), Some(Event::HandshakeDone));
    let client_der = pem_to_der(client_cert.cert_pem(), "CERTIFICATE");
    assert_eq!(out.peer_cert.as_deref(), Some(&client_der[..]));

    // Data both ways.
    client.send(b"hello dimpl", t).unwrap();
    while let Some(d) = client.poll_transmit() {
        server.handle_packet(&d).unwrap();
    }
    server.send_application_data(b"hello sdtls").unwrap();
    drain(&mut server, &mut out);
    assert_eq!(out.data, vec![b"hello dimpl".to_vec()]);
    for p in out.packets.drain(..) {
        client.receive(&p, t).unwrap();
    }
    assert_eq!(client.poll_event(), Some(Event::Data(b"hello sdtls".to_vec())));

    // The same SRTP keys on both sides: dimpl gives the raw RFC 5764
    // material (client key, server key, client salt, server salt).
    let k = client.srtp_keying().unwrap();
    let km = out.keying.expect("dimpl exported SRTP keying material");
    let (kl, sl) = (k.local().key.len(), k.local().salt.len());
    assert_eq!(km.len(), 2 * (kl + sl));
    assert_eq!(k.client_write().key, &km[..kl]);
    assert_eq!(k.server_write().key, &km[kl..2 * kl]);
    assert_eq!(k.client_write().salt, &km[2 * kl..2 * kl + sl]);
    assert_eq!(k.server_write().salt, &km[2 * kl + sl..]);
}

#[test]
fn dimpl_client_against_an_sdtls_server() {
    let pki = Pki::new();
    let client_cert = sdtls::Certificate::self_signed("dimpl-client", 1).unwrap();
    let now = Instant::now();
    let config = Arc::new(dimpl::Config::default());
    let mut client = Dtls::new_12(config, dimpl_cert(&client_cert), now);
    client.set_active(true);
    let scfg = pki.server().srtp_profiles(&[SrtpProfile::AeadAes128Gcm]).build().unwrap();
    let mut server = sdtls::Server::new(&scfg).unwrap();
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();

    let mut out = DimplOut::default();
    let mut t = now;
    client.handle_timeout(t).unwrap();
    let mut peer = None;
    for _ in 0..50 {
        drain(&mut client, &mut out);
        for p in out.packets.drain(..) {
            server.receive(addr, &p, t).unwrap();
        }
        while let Some((to, d)) = server.poll_transmit() {
            assert_eq!(to, addr);
            client.handle_packet(&d).expect("dimpl accepts sdtls's datagram");
        }
        while let Some(ev) = server.poll_event() {
            if let ServerEvent::HandshakeDone { peer: p } = ev {
                peer = Some(p);
            }
        }
        drain(&mut client, &mut out);
        if peer.is_some() && out.connected {
            break;
        }
        for p in out.packets.drain(..) {
            server.receive(addr, &p, t).unwrap();
        }
        t += std::time::Duration::from_millis(10);
        client.handle_timeout(t).unwrap();
        server.handle_timeout(t).unwrap();
    }
    let peer = peer.expect("sdtls server finished the handshake");
    assert!(out.connected);
    assert!(server.counter(sdtls::Counter::CookiesSent) >= 1, "cookie exchange with dimpl");
    assert_eq!(out.peer_cert.as_deref(), Some(&pem_to_der(pki.cert.cert_pem(), "CERTIFICATE")[..]));

    client.send_application_data(b"from dimpl").unwrap();
    drain(&mut client, &mut out);
    for p in out.packets.drain(..) {
        server.receive(addr, &p, t).unwrap();
    }
    assert_eq!(server.poll_event(), Some(ServerEvent::Data { peer, data: b"from dimpl".to_vec() }));
    server.send(peer, b"from sdtls", t).unwrap();
    while let Some((_, d)) = server.poll_transmit() {
        client.handle_packet(&d).unwrap();
    }
    drain(&mut client, &mut out);
    assert_eq!(out.data, vec![b"from sdtls".to_vec()]);

    let view = server.peer(peer).unwrap();
    assert_eq!(view.srtp_profile(), Some(SrtpProfile::AeadAes128Gcm));
    let k = view.srtp_keying().unwrap();
    let km = out.keying.expect("dimpl exported SRTP keying material");
    assert_eq!(k.remote().key, &km[..16], "the server's remote key is the client's write key");
    assert_eq!(k.local().key, &km[16..32]);
}

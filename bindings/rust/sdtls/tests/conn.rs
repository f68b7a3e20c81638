// SPDX-License-Identifier: Apache-2.0
//! One connection pair in memory: handshake, data, keying, options, errors,
//! time, drop orders, panics in callbacks, threads.
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{assert_pin_refused, connected_pair, events, pump, secs, Pki};
use sdtls::{sys, Category, Config, Conn, Event, Role, SrtpProfile, State};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn thread_rules_are_types() {
    assert_send::<Conn>();
    assert_send::<sdtls::Server>();
    assert_send::<Config>();
    assert_sync::<Config>();
    assert_send::<sdtls::Error>();
    assert_sync::<sdtls::Error>();
}

#[test]
fn handshake_and_data_both_ways() {
    let pki = Pki::new();
    let (mut c, mut s) = pki.connected();
    assert_eq!(c.role(), Role::Client);
    assert_eq!(s.role(), Role::Server);
    // The engine's newest version: DTLS 1.3 (its own suites) where the
    // engine has it, else DTLS 1.2 with ECDHE-ECDSA.
    if sdtls::has_feature(sdtls::Feature::Dtls13) {
        assert_eq!(c.protocol_version(), Some("DTLSv1.3"));
        assert!(c.cipher().unwrap().starts_with("TLS_AES_"), "{:?}", c.cipher());
    } else {
        assert_eq!(c.protocol_version(), Some("DTLSv1.2"));
        assert!(c.cipher().unwrap().starts_with("TLS_ECDHE_ECDSA_WITH_"), "{:?}", c.cipher());
    }
    assert_eq!(c.peer_fingerprint(), Some(pki.cert.fingerprint().unwrap()));
    assert!(c.peer_certificate().unwrap().len() > 100);
    assert_eq!(s.peer_certificate(), None);
    assert!(c.max_data_size() >= 1000);
    assert!(!c.session_resumed());

    let now = Instant::now();
    for i in 0..10u8 {
        c.send(&[i; 100], now).unwrap();
        s.send(&vec![i; 1000 + i as usize], now).unwrap();
    }
    pump(&mut c, &mut s, now);
    let from_c = events(&mut s);
    let from_s = events(&mut c);
    assert_eq!(from_c, (0..10u8).map(|i| Event::Data(vec![i; 100])).collect::<Vec<_>>());
    assert_eq!(
        from_s,
        (0..10u8).map(|i| Event::Data(vec![i; 1000 + i as usize])).collect::<Vec<_>>()
    );
    // An empty send sends nothing.
    c.send(b"", now).unwrap();
    assert_eq!(c.poll_transmit(), None);
}

#[test]
fn buffers_handed_back_are_reused() {
    let (mut c, mut s) = Pki::new().connected();
    let now = Instant::now();
    let mut d = Vec::new();
    assert!(!c.poll_transmit_into(&mut d));
    for i in 0..5u8 {
        c.send(&[i; 300], now).unwrap();
        assert!(c.poll_transmit_into(&mut d));
        s.receive(&d, now).unwrap();
        match s.poll_event() {
            Some(Event::Data(v)) => {
                assert_eq!(v, [i; 300]);
                s.recycle(v);
            }
            e => panic!("{e:?}"),
        }
    }
    // A recycled buffer comes back holding only the new bytes.
    s.send(b"short", now).unwrap();
    let mut d = Vec::with_capacity(4096);
    d.extend_from_slice(&[9; 4000]);
    c.recycle(d);
    let mut out = vec![1, 2, 3];
    assert!(s.poll_transmit_into(&mut out));
    c.receive(&out, now).unwrap();
    assert_eq!(c.poll_event(), Some(Event::Data(b"short".to_vec())));
}

#[test]
fn close_notify_ends_both_sides() {
    let (mut c, mut s) = Pki::new().connected();
    let now = Instant::now();
    c.close(now).unwrap();
    assert_eq!(c.state(), State::Closed);
    pump(&mut c, &mut s, now);
    assert_eq!(events(&mut s), vec![Event::Closed(None)]);
    assert_eq!(s.state(), State::Closed);
    // No event for a close the application asked for.
    assert_eq!(events(&mut c), vec![]);
    let e = c.send(b"late", now).unwrap_err();
    assert_eq!(e.category(), Category::Closed);
    assert_eq!(e.code(), sys::SDTLS_E_CLOSED);
    c.close(now).unwrap(); // twice is harmless
}

#[test]
fn key_update_is_refused_on_dtls12() {
    let pki = Pki::new();
    let ccfg = pki.client().max_version(sdtls::Version::Dtls12).build().unwrap();
    let scfg = pki.server().build().unwrap();
    let (mut c, _s) = connected_pair(&ccfg, &scfg);
    assert_eq!(c.protocol_version(), Some("DTLSv1.2"));
    let err = c.key_update(Instant::now()).unwrap_err();
    assert_eq!(err.code(), sys::SDTLS_E_UNSUPPORTED);
}

#[test]
fn groups() {
    let pki = Pki::new();
    // DTLS 1.2 also checks the P-256 certificate's curve against the
    // client's list, so P-256 stays in both.
    let ccfg = pki.client().groups(&["P-384", "P-256"]).build().unwrap();
    let scfg = pki.server().groups(&["P-384", "P-256"]).build().unwrap();
    let (c, s) = connected_pair(&ccfg, &scfg);
    assert_eq!(c.group(), Some("P-384"));
    assert_eq!(s.group(), Some("P-384"));
    let err = pki.client().groups(&["NO-SUCH-GROUP"]).build().unwrap_err();
    assert_eq!(err.category(), Category::Usage);
}

/// An export's error names its cause: an empty `out` was reported like any
/// refusal (the C call returns SDTLS_E_INVALID_ARGUMENT for a zero length,
/// SDTLS_E_STATE only when not connected).
#[test]
fn exporter_errors_name_their_cause() {
    let pki = Pki::new();
    let mut c = Conn::client(&pki.client().build().unwrap(), "localhost").unwrap();
    let e = c.export_keying_material(b"EXPERIMENTAL test", None, &mut [0u8; 16]).unwrap_err();
    assert_eq!((e.category(), e.code()), (Category::Usage, sys::SDTLS_E_STATE));
    assert!(e.detail().contains("connected"), "{e}");
    c.start(Instant::now()).unwrap();

    let (c, _s) = pki.connected();
    let e = c.export_keying_material(b"EXPERIMENTAL test", None, &mut []).unwrap_err();
    assert_eq!((e.category(), e.code()), (Category::Usage, sys::SDTLS_E_INVALID_ARGUMENT));
    assert!(e.detail().contains("empty") && !e.detail().contains("connected"), "{e}");
    let mut one = [0u8; 1];
    c.export_keying_material(b"EXPERIMENTAL test", None, &mut one).unwrap();
}

#[test]
fn exporter_srtp_and_alpn() {
    let pki = Pki::new();
    let profiles = [SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmSha1_80];
    let ccfg = pki.client().srtp_profiles(&profiles).alpn(&["coap", "webrtc"]).build().unwrap();
    let scfg = pki
        .server()
        .srtp_profiles(&[SrtpProfile::Aes128CmSha1_80, SrtpProfile::AeadAes128Gcm])
        .alpn(&["webrtc"])
        .build()
        .unwrap();
    let (c, s) = connected_pair(&ccfg, &scfg);
    assert_eq!(c.alpn(), Some("webrtc"));
    assert_eq!(s.alpn(), Some("webrtc"));

    let (mut a, mut b, mut e) = ([0u8; 48], [0u8; 48], [0u8; 48]);
    c.export_keying_material(b"EXPERIMENTAL test", None, &mut a).unwrap();
    s.export_keying_material(b"EXPERIMENTAL test", None, &mut b).unwrap();
    s.export_keying_material(b"EXPERIMENTAL test", Some(b""), &mut e).unwrap();
    assert_eq!(a, b);
    if c.protocol_version() == Some("DTLSv1.3") {
        assert_eq!(a, e, "DTLS 1.3: no context is an empty one (RFC 8446 7.5)");
    } else {
        assert_ne!(a, e, "DTLS 1.2: no context differs from an empty one");
    }

    let p = c.srtp_profile().unwrap();
    assert_eq!(Some(p), s.srtp_profile());
    assert!(profiles.contains(&p));
    let (kc, ks) = (c.srtp_keying().unwrap(), s.srtp_keying().unwrap());
    assert_eq!(kc.profile(), p);
    assert_eq!(kc.local(), ks.remote());
    assert_eq!(kc.remote(), ks.local());
    assert_eq!(kc.local(), kc.client_write());
    assert_eq!(ks.local(), ks.server_write());
    assert_ne!(kc.local().key, kc.remote().key);
    let l = kc.local();
    let (klen, slen) = match p {
        SrtpProfile::AeadAes128Gcm => (16, 12),
        _ => (16, 14),
    };
    assert_eq!((l.key.len(), l.salt.len()), (klen, slen));
    assert_eq!(l.key_and_salt, [l.key, l.salt].concat());
    assert_eq!(p.name(), if klen == 16 && slen == 12 { "SRTP_AEAD_AES_128_GCM" } else { p.name() });
}

#[test]
fn srtp_keying_without_a_profile_is_a_state_error() {
    let (c, _s) = Pki::new().connected();
    assert_eq!(c.srtp_profile(), None);
    assert_eq!(c.srtp_keying().unwrap_err().code(), sys::SDTLS_E_STATE);
}

#[test]
fn psk_table_and_lookup_closure() {
    let key = b"0123456789abcdef0123456789abcdef";
    let ccfg = Config::builder().psk("device-7", key).build().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let scfg = Config::builder()
        .psk("other", b"not this one")
        .psk_identity_hint("hint")
        .psk_lookup(move |id| {
            seen2.lock().unwrap().push(id.to_vec());
            (id == b"device-7").then(|| key.to_vec())
        })
        .build()
        .unwrap();
    let (c, s) = connected_pair(&ccfg, &scfg);
    assert_eq!(s.psk_identity(), Some("device-7"));
    assert_eq!(c.psk_identity(), Some("device-7"));
    assert!(c.cipher().unwrap().contains("PSK"), "{:?}", c.cipher());
    assert_eq!(*seen.lock().unwrap(), vec![b"device-7".to_vec()]);
}

#[test]
fn resumption_with_a_saved_session() {
    let pki = Pki::new();
    let ccfg = pki.client().build().unwrap();
    let scfg = pki.server().ticket_secret(&[7u8; 48]).build().unwrap();
    let (c, _s) = connected_pair(&ccfg, &scfg);
    let session = c.session().unwrap();
    assert!(!session.as_bytes().is_empty());
    drop(c);

    let now = Instant::now();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    c.set_session(&sdtls::Session::from_bytes(session.as_bytes().to_vec())).unwrap();
    let mut s = Conn::server(&scfg).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    assert_eq!(c.state(), State::Connected);
    assert!(c.session_resumed());
    assert!(s.session_resumed());
    // Garbage is refused.
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    let e = c.set_session(&sdtls::Session::from_bytes(vec![1, 2, 3])).unwrap_err();
    assert_eq!(e.category(), Category::Usage);
}

#[test]
fn keylog_closure_gets_the_secrets() {
    let pki = Pki::new();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l2 = lines.clone();
    let ccfg = pki.client().keylog(move |line| l2.lock().unwrap().push(line.to_string()));
    let (c, _s) = connected_pair(&ccfg.build().unwrap(), &pki.server().build().unwrap());
    let lines = lines.lock().unwrap();
    // NSS key log labels: DTLS 1.2's master secret, DTLS 1.3's traffic secrets.
    let label = if c.protocol_version() == Some("DTLSv1.3") {
        "CLIENT_TRAFFIC_SECRET_0 "
    } else {
        "CLIENT_RANDOM "
    };
    assert!(lines.iter().any(|l| l.starts_with(label)), "{lines:?}");
}

#[test]
fn verification_failures_say_why() {
    let pki = Pki::new();
    let other = Pki::new();
    let now = Instant::now();

    // Wrong trust anchor.
    let mut c = Conn::client(&other.client().build().unwrap(), "localhost").unwrap();
    let mut s = Conn::server(&pki.server().build().unwrap()).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    assert_eq!(c.state(), State::Failed);
    let e = c.error().unwrap();
    assert_eq!(e.category(), Category::Verify, "{e}");
    assert!(!e.detail().is_empty());
    match events(&mut c).as_slice() {
        [Event::Closed(Some(e2))] => assert_eq!(e2.category(), Category::Verify),
        ev => panic!("{ev:?}"),
    }
    // The server was told with an alert.
    assert_eq!(s.error().unwrap().category(), Category::Alert);

    // Wrong name.
    let mut c = Conn::client(&pki.client().build().unwrap(), "example.org").unwrap();
    let mut s = Conn::server(&pki.server().build().unwrap()).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    assert_eq!(c.error().unwrap().category(), Category::Verify);
}

#[test]
fn fingerprint_pinning() {
    let pki = Pki::new();
    let fp = pki.cert.fingerprint().unwrap();
    assert_eq!(fp.sdp().parse::<sdtls::Fingerprint>().unwrap(), fp);
    let ccfg = Config::builder().peer_fingerprint(&fp.sdp()).build().unwrap();
    let (c, _s) = connected_pair(&ccfg, &pki.server().build().unwrap());
    assert_eq!(c.peer_fingerprint(), Some(fp));

    // Per connection, and a mismatch.
    let other = Pki::new().cert.fingerprint().unwrap();
    assert_pin_refused(&pki, &other.sdp(), &other.to_string());
}

#[test]
fn usage_errors() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let now = Instant::now();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    let e = c.send(b"too early", now).unwrap_err();
    assert_eq!((e.code(), e.category()), (sys::SDTLS_E_STATE, Category::Usage));
    c.start(now).unwrap();
    assert_eq!(c.start(now).unwrap_err().code(), sys::SDTLS_E_STATE);
    assert_eq!(c.set_server_name("late").unwrap_err().code(), sys::SDTLS_E_STATE);

    let (mut c, _s) = connected_pair(&ccfg, &scfg);
    let big = vec![0u8; c.max_data_size() + 1];
    assert_eq!(c.send(&big, now).unwrap_err().code(), sys::SDTLS_E_TOO_BIG);
    assert_eq!(c.poll_transmit(), None, "nothing sent");

    // A server without a certificate; a verifying client without a name.
    let bare = Config::builder().build().unwrap();
    assert_eq!(Conn::server(&bare).unwrap_err().code(), sys::SDTLS_E_CREDENTIALS);
    let mut c = Conn::new(&bare, Role::Client).unwrap();
    assert_eq!(c.start(now).unwrap_err().code(), sys::SDTLS_E_STATE);
    let e = Conn::client(&bare, "a\0b").unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_INVALID_ARGUMENT);
}

#[test]
fn config_builder_reports_the_first_failing_setter() {
    let e = Config::builder()
        .mtu(100)
        .certificate_pem("not a certificate", "nor a key")
        .build()
        .unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_INVALID_ARGUMENT);
    assert!(e.detail().contains("mtu"), "{e}");

    let e = Config::builder().certificate_pem("junk", "junk").build().unwrap_err();
    assert_eq!(e.code(), sys::SDTLS_E_CREDENTIALS);
    assert!(e.to_string().contains("certificate_pem"), "{e}");

    let e = Config::builder().certificate_files("/nonexistent.pem", "/nonexistent.key");
    assert_eq!(e.build().unwrap_err().code(), sys::SDTLS_E_FILE);

    let cfg = Config::builder()
        .mtu(1400)
        .initial_timeout(Duration::from_millis(250))
        .verify_peer(false)
        .build()
        .unwrap();
    assert_eq!(cfg.option(sys::SDTLS_OPT_MTU).unwrap(), 1400);
    assert_eq!(cfg.option(sys::SDTLS_OPT_INITIAL_TIMEOUT_MS).unwrap(), 250);
    assert_eq!(cfg.option(sys::SDTLS_OPT_VERIFY_PEER).unwrap(), 0);
    assert_eq!(Config::builder().build().unwrap().option(sys::SDTLS_OPT_VERIFY_PEER).unwrap(), 1);
    // A built config can still rotate its ticket secret, and only that.
    cfg.set_ticket_secret(&[1u8; 32]).unwrap();
    assert_eq!(cfg.set_ticket_secret(&[1u8; 3]).unwrap_err().category(), Category::Usage);
    // A builder dropped unbuilt frees its handle (no leak under ASan/valgrind).
    drop(Config::builder().psk_lookup(|_| None).keylog(|_| {}));
}

#[test]
fn retransmission_and_handshake_timeout_on_a_virtual_clock() {
    let cfg = Pki::new()
        .client()
        .initial_timeout(Duration::from_millis(100))
        .handshake_timeout(secs(2))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let mut c = Conn::client(&cfg, "localhost").unwrap();
    assert_eq!(c.next_deadline(), None);
    c.start(t0).unwrap();
    // The ClientHello: one datagram, or two with a post-quantum key share.
    let hello: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
    assert!(!hello.is_empty());
    let d = c.next_deadline().unwrap();
    assert!(d > t0 && d <= t0 + Duration::from_millis(101), "{:?}", d - t0);
    // Early: harmless, nothing sent.
    c.handle_timeout(t0).unwrap();
    assert_eq!(c.poll_transmit(), None);
    // At the deadline the ClientHello goes out again.
    c.handle_timeout(d).unwrap();
    let again: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
    assert_eq!(again.len(), hello.len());
    for (a, h) in again.iter().zip(&hello) {
        assert_eq!(a[13..], h[13..], "the same ClientHello in a new record");
    }
    // Past the handshake timeout: failed, reported twice (return, event).
    let e = c.handle_timeout(t0 + secs(3)).unwrap_err();
    assert_eq!(e.category(), Category::Timeout);
    assert_eq!(c.state(), State::Failed);
    assert!(matches!(events(&mut c).as_slice(),
        [Event::Closed(Some(e))] if e.code() == sys::SDTLS_E_TIMEOUT));
}

#[test]
fn lost_flights_are_retransmitted() {
    let pki = Pki::new();
    let ccfg = pki.client().initial_timeout(Duration::from_millis(50)).build().unwrap();
    let scfg = pki.server().initial_timeout(Duration::from_millis(50)).build().unwrap();
    let mut now = Instant::now();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    let mut s = Conn::server(&scfg).unwrap();
    c.start(now).unwrap();
    // Lose 40% of the datagrams (a fixed pseudo-random sequence).
    let mut seed = 0x2545_f491_u32;
    let mut lost = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed % 10 < 4
    };
    let mut n_lost = 0;
    for _ in 0..200 {
        while let Some(d) = c.poll_transmit() {
            if lost() {
                n_lost += 1;
            } else {
                let _ = s.receive(&d, now);
            }
        }
        while let Some(d) = s.poll_transmit() {
            if lost() {
                n_lost += 1;
            } else {
                let _ = c.receive(&d, now);
            }
        }
        if c.state() == State::Connected && s.state() == State::Connected {
            break;
        }
        let next = [c.next_deadline(), s.next_deadline()].into_iter().flatten().min().unwrap();
        now = now.max(next);
        c.handle_timeout(now).unwrap();
        s.handle_timeout(now).unwrap();
    }
    assert_eq!((c.state(), s.state()), (State::Connected, State::Connected));
    assert!(n_lost > 0);
}

/// The datagrams a client's send closure (`sender`) hands over, in order.
#[derive(Default)]
struct Wire(Arc<Mutex<Vec<Vec<u8>>>>);

impl Wire {
    fn sender(&self) -> impl FnMut(&[u8]) -> std::io::Result<()> + Send + 'static {
        let w = self.0.clone();
        move |d| {
            w.lock().unwrap().push(d.to_vec());
            Ok(())
        }
    }

    /// Ten rounds of: what is on the wire to `s`, then `s`'s datagrams
    /// back to `c` (whose closure puts its own on the wire), at `now`.
    fn pump(&self, c: &mut Conn, s: &mut Conn, now: Instant) {
        for _ in 0..10 {
            let batch: Vec<_> = self.0.lock().unwrap().drain(..).collect();
            for d in batch {
                s.receive(&d, now).unwrap();
            }
            while let Some(d) = s.poll_transmit() {
                c.receive(&d, now).unwrap();
            }
        }
    }
}

#[test]
fn send_closure_instead_of_the_queue() {
    let pki = Pki::new();
    let now = Instant::now();
    let wire = Wire::default();
    let mut c = Conn::client(&pki.client().build().unwrap(), "localhost").unwrap();
    c.set_send(wire.sender());
    let mut s = Conn::server(&pki.server().build().unwrap()).unwrap();
    c.start(now).unwrap();
    assert_eq!(c.poll_transmit(), None, "the closure got it");
    wire.pump(&mut c, &mut s, now);
    assert_eq!(c.state(), State::Connected);

    // A send closure that fails: the datagram counts as lost, no error.
    c.set_send(|_| Err(std::io::Error::other("network down")));
    c.send(b"lost", now).unwrap();
}

#[test]
fn a_panicking_send_closure_is_an_error_not_an_unwind_into_c() {
    let pki = Pki::new();
    let now = Instant::now();
    let mut c = Conn::client(&pki.client().build().unwrap(), "localhost").unwrap();
    c.set_send(|_| panic!("boom in send"));
    let e = c.start(now).unwrap_err();
    assert_eq!(e.category(), Category::Panic);
    assert_eq!(e.detail(), "boom in send");
    assert!(e.to_string().contains("panicked"), "{e}");
    // The connection goes on (the datagram counted as lost): retransmission
    // through a working closure completes the handshake.
    let wire = Wire::default();
    c.set_send(wire.sender());
    let mut s = Conn::server(&pki.server().build().unwrap()).unwrap();
    let later = c.next_deadline().unwrap();
    c.handle_timeout(later).unwrap();
    wire.pump(&mut c, &mut s, later);
    assert_eq!(c.state(), State::Connected);
    // A panic is reported once: the next call is clean.
    c.send(b"x", later).unwrap();
}

#[test]
fn panics_in_config_closures_are_reported_by_the_driving_call() {
    let pki = Pki::new();
    let now = Instant::now();
    let ccfg = pki.client().keylog(|_| panic!("boom in keylog")).build().unwrap();
    let scfg = pki.server().build().unwrap();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    let mut s = Conn::server(&scfg).unwrap();
    c.start(now).unwrap();
    let mut errors = Vec::new();
    for _ in 0..10 {
        while let Some(d) = c.poll_transmit() {
            s.receive(&d, now).unwrap();
        }
        while let Some(d) = s.poll_transmit() {
            if let Err(e) = c.receive(&d, now) {
                errors.push(e);
            }
        }
    }
    assert_eq!(c.state(), State::Connected, "a key log panic does not break the handshake");
    assert!(!errors.is_empty());
    assert!(errors
        .iter()
        .all(|e| e.category() == Category::Panic && e.detail() == "boom in keylog"));

    // A PSK lookup that panics refuses the identity.
    let ccfg = Config::builder().psk("id", b"key").build().unwrap();
    let scfg = Config::builder().psk_lookup(|_| panic!("boom in lookup")).build().unwrap();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    let mut s = Conn::server(&scfg).unwrap();
    c.start(now).unwrap();
    let mut server_errors = Vec::new();
    for _ in 0..5 {
        while let Some(d) = c.poll_transmit() {
            if let Err(e) = s.receive(&d, now) {
                server_errors.push(e);
            }
        }
        while let Some(d) = s.poll_transmit() {
            let _ = c.receive(&d, now);
        }
    }
    assert_ne!(c.state(), State::Connected);
    assert!(server_errors.iter().any(|e| e.category() == Category::Panic), "{server_errors:?}");
}

#[test]
fn drop_orders() {
    let pki = Pki::new();
    // Configs dropped before their connections (the connections keep them,
    // and the closures the C config points at, alive).
    let lines = Arc::new(Mutex::new(0usize));
    let l2 = lines.clone();
    let ccfg = pki.client().keylog(move |_| *l2.lock().unwrap() += 1).build().unwrap();
    let scfg = pki.server().build().unwrap();
    let now = Instant::now();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    let mut s = Conn::server(&scfg).unwrap();
    drop(ccfg);
    drop(scfg);
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    assert_eq!(c.state(), State::Connected);
    assert!(*lines.lock().unwrap() > 0, "the key log closure outlived its Config");
    // Connections dropped in either order, with queued output and events.
    c.send(b"unsent", now).unwrap();
    drop(s);
    drop(c);
    // A connection dropped mid-handshake.
    let cfg = pki.client().build().unwrap();
    let mut c = Conn::client(&cfg, "localhost").unwrap();
    c.start(now).unwrap();
    drop(c);
}

#[test]
fn a_connection_moves_between_threads() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let now = Instant::now();
    let mut c = Conn::client(&ccfg, "localhost").unwrap();
    c.start(now).unwrap();
    // The server lives on another thread; datagrams go through channels.
    let (to_s, from_c) = std::sync::mpsc::channel::<Vec<u8>>();
    let (to_c, from_s) = std::sync::mpsc::channel::<Vec<u8>>();
    let server = std::thread::spawn(move || {
        let mut s = Conn::server(&scfg).unwrap();
        while let Ok(d) = from_c.recv() {
            s.receive(&d, Instant::now()).unwrap();
            while let Some(ev) = s.poll_event() {
                if let Event::Data(d) = ev {
                    s.send(&d, Instant::now()).unwrap(); // echo
                }
            }
            while let Some(d) = s.poll_transmit() {
                to_c.send(d).unwrap();
            }
        }
        s // moved back to the spawning thread
    });
    let client = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut sent = false;
        while got.is_empty() {
            while let Some(d) = c.poll_transmit() {
                to_s.send(d).unwrap();
            }
            if c.state() == State::Connected && !sent {
                c.send(b"ping across threads", Instant::now()).unwrap();
                sent = true;
                continue;
            }
            let d = from_s.recv_timeout(secs(10)).expect("server answered");
            c.receive(&d, Instant::now()).unwrap();
            while let Some(ev) = c.poll_event() {
                if let Event::Data(d) = ev {
                    got = d;
                }
            }
        }
        drop(to_s);
        (c, got)
    });
    let (c, got) = client.join().unwrap();
    assert_eq!(got, b"ping across threads");
    let s = server.join().unwrap();
    assert_eq!((c.state(), s.state()), (State::Connected, State::Connected));
}

#[test]
fn a_config_is_shared_by_threads() {
    let pki = Pki::new();
    let (ccfg, scfg) = (pki.client().build().unwrap(), pki.server().build().unwrap());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (ccfg, scfg) = (ccfg.clone(), scfg.clone());
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let (c, _s) = connected_pair(&ccfg, &scfg);
                    assert_eq!(c.state(), State::Connected);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn features_and_version() {
    assert!(sdtls::has_feature(sdtls::Feature::Dtls12));
    assert!(sdtls::has_feature(sdtls::Feature::Srtp));
    let (n, s) = sdtls::version();
    assert!(n >= sys::SDTLS_VERSION_NUMBER);
    assert!(s.contains("BoringSSL"), "{s}");
}

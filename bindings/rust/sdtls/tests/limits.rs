// SPDX-License-Identifier: Apache-2.0
//! The bounds of a connection's queues and of the config's lists: a call
//! that would outgrow them fails with an error that names the bound, and
//! nothing already queued is lost.
mod common;

use std::time::Instant;

use common::Pki;
use sdtls::{sys, Config, Event, SrtpProfile, QUEUE_MAX_RECORDS};

#[test]
fn queues_are_bounded_and_lose_nothing() {
    let (mut c, mut s) = Pki::new().connected();
    let now = Instant::now();
    let mut sent = Vec::new();
    let mut out = Vec::new();
    for _ in 0..2 {
        // two queues' worth, to fill the receiver's too
        let full = loop {
            let payload = format!("{:06}", sent.len()).into_bytes();
            match c.send(&payload, now) {
                Ok(()) => sent.push(payload),
                Err(e) => break e,
            }
            assert!(sent.len() <= 2 * QUEUE_MAX_RECORDS, "the send queue is bounded");
        };
        assert_eq!(full.code(), sys::SDTLS_E_LIMIT);
        assert!(full.detail().contains("poll_transmit"), "{full}");
        assert!(full.detail().contains(&QUEUE_MAX_RECORDS.to_string()), "{full}");
        while let Some(d) = c.poll_transmit() {
            out.push(d);
        }
        assert_eq!(out.len(), sent.len());
    }
    assert_eq!(sent.len(), 2 * QUEUE_MAX_RECORDS);
    let mut got = Vec::new();
    let mut refusals = 0;
    let mut i = 0;
    while i < out.len() {
        match s.receive(&out[i], now) {
            Ok(()) => i += 1,
            Err(e) => {
                assert_eq!(e.code(), sys::SDTLS_E_LIMIT);
                assert!(e.detail().contains("poll_event"), "{e}");
                assert_eq!(i, QUEUE_MAX_RECORDS);
                refusals += 1;
                while let Some(ev) = s.poll_event() {
                    got.push(ev);
                }
            }
        }
    }
    while let Some(ev) = s.poll_event() {
        got.push(ev);
    }
    assert_eq!(refusals, 1);
    assert_eq!(got, sent.into_iter().map(Event::Data).collect::<Vec<_>>());
    c.send(b"after", now).unwrap(); // taken again once drained
}

#[test]
fn config_lists_are_held_to_what_fits_the_wire() {
    let many: Vec<String> = (0..10000).map(|i| format!("p{i:05}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let e = Config::builder().alpn(&many).build().unwrap_err();
    assert!(e.detail().contains(&format!("at most {} bytes", sdtls::ALPN_MAX_BYTES)), "{e}");
    let name = "a".repeat(255);
    Config::builder().alpn(&[name.as_str(); 16]).build().unwrap(); // 4095 bytes: the most
    assert!(Config::builder().alpn(&[name.as_str(); 17]).build().is_err());
    let e = Config::builder()
        .srtp_profiles(&[SrtpProfile::Aes128CmSha1_80, SrtpProfile::Aes128CmSha1_80])
        .build()
        .unwrap_err();
    assert!(e.detail().contains("at most once"), "{e}");
    let e = Config::builder().groups(&["X25519"; 10000]).build().unwrap_err();
    assert!(e.detail().contains(&format!("at most {}", sdtls::GROUPS_MAX)), "{e}");
    let e = Config::builder().psk(&"i".repeat(129), &[1; 16]).build().unwrap_err();
    assert!(e.detail().contains("1..128 bytes"), "{e}");
    let e = Config::builder().psk_identity_hint(&"h".repeat(129)).build().unwrap_err();
    assert!(e.detail().contains("1..128 bytes"), "{e}");
}

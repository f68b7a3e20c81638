// SPDX-License-Identifier: Apache-2.0
//! sdtls::classify: RFC 7983 / RFC 9443 for every first byte, and what a
//! connection sends.
use sdtls::{classify, Config, Conn, PacketKind, Role};

/// RFC 7983 7 with RFC 9443 3, as the RFCs' figure lists the ranges.
fn rfc7983(b: u8) -> PacketKind {
    match b {
        0..=3 => PacketKind::Stun,
        4..=15 => PacketKind::Unknown,
        16..=19 => PacketKind::Zrtp,
        20..=63 => PacketKind::Dtls,
        64..=79 => PacketKind::TurnChannel,
        80..=127 => PacketKind::Quic,
        128..=191 => PacketKind::Rtp,
        192..=255 => PacketKind::Quic,
    }
}

#[test]
fn every_first_byte() {
    for b in 0..=255u8 {
        assert_eq!(classify(&[b, 0xff]), rfc7983(b), "first byte {b}");
        assert_eq!(classify(&[b]), rfc7983(b), "first byte {b} alone");
    }
    assert_eq!(classify(&[]), PacketKind::Unknown);
}

#[test]
fn what_a_connection_sends_is_dtls() {
    let cfg = Config::builder().verify_peer(false).build().unwrap();
    let mut c = Conn::new(&cfg, Role::Client).unwrap();
    c.start(std::time::Instant::now()).unwrap();
    let hello = c.poll_transmit().expect("a ClientHello");
    assert_eq!(classify(&hello), PacketKind::Dtls);
}

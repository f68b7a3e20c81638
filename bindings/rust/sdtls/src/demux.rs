// SPDX-License-Identifier: Apache-2.0
//! RFC 7983 demultiplexing of a socket shared by several protocols (WebRTC
//! runs STUN, DTLS and SRTP on one UDP port), by the C library's table.

use crate::sys;

/// What [`classify`] says a datagram is (`SDTLS_PACKET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// Empty, or a first byte no range names.
    Unknown,
    /// 0..3: to the ICE agent.
    Stun,
    /// 16..19.
    Zrtp,
    /// 20..63: to a [`crate::Conn`] or [`crate::Server`].
    Dtls,
    /// 64..79: TURN ChannelData.
    TurnChannel,
    /// 80..127 and 192..255 (RFC 9443).
    Quic,
    /// 128..191: RTP or RTCP (SRTP, SRTCP).
    Rtp,
}

/// What a datagram read from a shared socket is, by its first byte as RFC
/// 7983 and RFC 9443 divide it (`sdtls_classify`). An empty datagram is
/// [`PacketKind::Unknown`].
pub fn classify(datagram: &[u8]) -> PacketKind {
    // SAFETY: C reads at most datagram[0], within the slice, during the call.
    match unsafe { sys::sdtls_classify(datagram.as_ptr(), datagram.len()) } {
        sys::SDTLS_PACKET_STUN => PacketKind::Stun,
        sys::SDTLS_PACKET_ZRTP => PacketKind::Zrtp,
        sys::SDTLS_PACKET_DTLS => PacketKind::Dtls,
        sys::SDTLS_PACKET_TURN_CHANNEL => PacketKind::TurnChannel,
        sys::SDTLS_PACKET_QUIC => PacketKind::Quic,
        sys::SDTLS_PACKET_RTP => PacketKind::Rtp,
        _ => PacketKind::Unknown,
    }
}

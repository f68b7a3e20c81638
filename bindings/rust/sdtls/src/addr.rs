// SPDX-License-Identifier: Apache-2.0
//! `SocketAddr` <-> the bytes of a `struct sockaddr_in`/`sockaddr_in6`, as
//! `recvfrom()` fills them (the form sdtls_server takes).
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

#[cfg(any(target_os = "linux", target_os = "android"))]
mod os {
    pub const AF_INET: u16 = 2;
    pub const AF_INET6: u16 = 10;
    /// Linux: `sa_family_t sin_family` (host order), no length byte.
    pub fn head(family: u16, _len: u8) -> [u8; 2] {
        family.to_ne_bytes()
    }
    pub fn family(b: &[u8]) -> u16 {
        u16::from_ne_bytes([b[0], b[1]])
    }
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod os {
    pub const AF_INET: u16 = 2;
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    pub const AF_INET6: u16 = 30;
    #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
    pub const AF_INET6: u16 = 28;
    #[cfg(target_os = "netbsd")]
    pub const AF_INET6: u16 = 24;
    #[cfg(target_os = "openbsd")]
    pub const AF_INET6: u16 = 24;
    /// BSD: `uint8_t sin_len; sa_family_t sin_family` (one byte).
    pub fn head(family: u16, len: u8) -> [u8; 2] {
        [len, family as u8]
    }
    pub fn family(b: &[u8]) -> u16 {
        b[1] as u16
    }
}

/// The largest form: sockaddr_in6.
pub(crate) const MAX_LEN: usize = 28;

/// Writes `addr` as a sockaddr into `out`; returns its length.
pub(crate) fn to_sockaddr(addr: &SocketAddr, out: &mut [u8; MAX_LEN]) -> usize {
    *out = [0; MAX_LEN];
    match addr {
        SocketAddr::V4(a) => {
            out[0..2].copy_from_slice(&os::head(os::AF_INET, 16));
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.ip().octets());
            16
        }
        SocketAddr::V6(a) => {
            out[0..2].copy_from_slice(&os::head(os::AF_INET6, 28));
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.flowinfo().to_be_bytes());
            out[8..24].copy_from_slice(&a.ip().octets());
            out[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
            28
        }
    }
}

/// Reads a sockaddr written by the C library (or `to_sockaddr`).
pub(crate) fn from_sockaddr(b: &[u8]) -> Option<SocketAddr> {
    if b.len() < 2 {
        return None;
    }
    let port = |b: &[u8]| u16::from_be_bytes([b[2], b[3]]);
    let fam = os::family(b);
    if fam == os::AF_INET && b.len() >= 8 {
        let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
        Some(SocketAddr::V4(SocketAddrV4::new(ip, port(b))))
    } else if fam == os::AF_INET6 && b.len() >= 28 {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&b[8..24]);
        let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let scope = u32::from_ne_bytes([b[24], b[25], b[26], b[27]]);
        Some(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port(b), flow, scope)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in ["127.0.0.1:4433", "[::1]:5", "[fe80::1%3]:65535", "10.1.2.3:0"] {
            let a: SocketAddr = s.parse().unwrap();
            let mut buf = [0; MAX_LEN];
            let n = to_sockaddr(&a, &mut buf);
            assert_eq!(from_sockaddr(&buf[..n]), Some(a));
        }
    }
}

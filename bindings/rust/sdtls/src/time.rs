// SPDX-License-Identifier: Apache-2.0
//! `Instant` <-> the C library's nanosecond clock.
//!
//! On Linux, `std::time::Instant` is CLOCK_MONOTONIC, and the nanoseconds
//! handed to the C library are that clock's, as the `sdtls` tool and a C
//! program would pass them: a session taken in one process can be resumed in
//! another on the same boot (sessions carry the clock's time).
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sdtls_sys as sys;

struct Epoch {
    instant: Instant,
    ns: u64,
}

fn epoch() -> &'static Epoch {
    static EPOCH: OnceLock<Epoch> = OnceLock::new();
    EPOCH.get_or_init(|| {
        let instant = Instant::now();
        Epoch { instant, ns: monotonic_ns() }
    })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn monotonic_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: std::ffi::c_long,
        tv_nsec: std::ffi::c_long,
    }
    extern "C" {
        fn clock_gettime(clock: std::ffi::c_int, ts: *mut Timespec) -> std::ffi::c_int;
    }
    const CLOCK_MONOTONIC: std::ffi::c_int = 1;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    if unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 86_400 * 1_000_000_000;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn monotonic_ns() -> u64 {
    // Any origin works within one process; a day leaves room for instants
    // taken before the first call.
    86_400 * 1_000_000_000
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The C library's time for `t`.
pub(crate) fn to_ns(t: Instant) -> sys::sdtls_time {
    let e = epoch();
    let ns = if t >= e.instant {
        e.ns.saturating_add(nanos(t - e.instant))
    } else {
        e.ns.saturating_sub(nanos(e.instant - t))
    };
    ns.min(sys::SDTLS_TIME_NEVER - 1)
}

/// The `Instant` of a C deadline; `None` for SDTLS_TIME_NEVER (or one too
/// far away to represent).
pub(crate) fn from_ns(ns: sys::sdtls_time) -> Option<Instant> {
    if ns == sys::SDTLS_TIME_NEVER {
        return None;
    }
    let e = epoch();
    if ns >= e.ns {
        e.instant.checked_add(Duration::from_nanos(ns - e.ns))
    } else {
        e.instant.checked_sub(Duration::from_nanos(e.ns - ns)).or(Some(e.instant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let now = Instant::now();
        for t in [now, now + Duration::from_millis(1500), now + Duration::from_nanos(1)] {
            assert_eq!(from_ns(to_ns(t)), Some(t));
        }
        assert_eq!(from_ns(sys::SDTLS_TIME_NEVER), None);
        assert!(to_ns(now + Duration::from_secs(1)) - to_ns(now) == 1_000_000_000);
    }
}

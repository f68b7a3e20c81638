// SPDX-License-Identifier: Apache-2.0
//! `Instant` <-> the C library's nanosecond clock.
//!
//! The rule of sdtls.h ("Time"), as every binding and the `sdtls` tool
//! follow it: nanoseconds since the UNIX epoch, read from the wall clock once
//! per process and advanced by the monotonic clock (`Instant`, which is
//! CLOCK_MONOTONIC on Linux). Timers never jump when the wall clock is
//! stepped, and sessions and cookies carry a time that other processes and
//! hosts share (a session saved before a restart is still offered; servers
//! sharing a ticket secret resume each other's sessions).
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use sdtls_sys as sys;

/// One instant and the C time that stands for it.
struct Epoch {
    instant: Instant,
    ns: u64,
}

fn epoch() -> &'static Epoch {
    static EPOCH: OnceLock<Epoch> = OnceLock::new();
    EPOCH.get_or_init(|| {
        let instant = Instant::now();
        // A wall clock set before 1970 is an error of the host's, not ours:
        // any origin keeps the timers right, only sharing needs this one.
        let since_epoch = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        Epoch { instant, ns: nanos(since_epoch) }
    })
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

    /// sdtls.h's rule: the time passed to C is the wall clock's (read once,
    /// then advanced by the monotonic clock), within a second.
    #[test]
    fn the_time_passed_to_c_is_on_the_unix_epoch() {
        let wall = |t: SystemTime| nanos(t.duration_since(SystemTime::UNIX_EPOCH).unwrap());
        let before = wall(SystemTime::now());
        let passed = to_ns(Instant::now());
        let after = wall(SystemTime::now());
        assert!(before - 1_000_000_000 < passed && passed < after + 1_000_000_000, "{before} {passed} {after}");
    }
}

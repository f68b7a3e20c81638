// SPDX-License-Identifier: Apache-2.0
//! In-memory figures of the Rust binding, comparable with the C benchmark
//! (tests/bench): full handshakes/s (client+server made, handshake, both
//! freed; MTU 1200) and 1200-byte records/s one way (the client sends, its
//! datagram is fed to the server, which yields the data; MTU 8192). DTLS
//! 1.2, ECDHE-ECDSA-AES128-GCM-SHA256, no verification, per second of the
//! thread's CPU time, as the C benchmark measures.
//!
//!   cargo bench --bench throughput [-- --seconds S --rounds N]
//!
//! With SDTLS_C_BENCH=<build>/tests/bench/bench_sdtls_shared (or _static),
//! each round also runs the C benchmark on the same cases, interleaved,
//! and the table shows the medians of both and their ratio.
//!
//! `-- --count N --case handshake|queue|recycled|closure` runs one case N
//! times, untimed: run it under `valgrind --tool=callgrind` at two counts
//! (and the C benchmark with `--cases data --sizes 1200 --count N`) and
//! divide the difference for instructions per operation, the figure the
//! host's noise does not move.
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sdtls::{Certificate, Config, Conn, Event, State};

fn cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        s: std::ffi::c_long,
        ns: std::ffi::c_long,
    }
    extern "C" {
        fn clock_gettime(clock: std::ffi::c_int, ts: *mut Timespec) -> std::ffi::c_int;
    }
    const CLOCK_THREAD_CPUTIME_ID: std::ffi::c_int = 3;
    let mut ts = Timespec { s: 0, ns: 0 };
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.s as u64 * 1_000_000_000 + ts.ns as u64
}

/// --count N: run exactly N operations after 3 warm-up ones, untimed (for
/// instruction counts under callgrind).
static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs `f` in batches (one clock read per batch, as the C driver does)
/// for about `secs` of CPU time; returns operations per CPU second.
fn measure(secs: f64, mut f: impl FnMut(Instant)) -> f64 {
    let count = COUNT.load(std::sync::atomic::Ordering::Relaxed);
    if count > 0 {
        let now = Instant::now();
        for _ in 0..3 + count {
            f(now);
        }
        return 0.0;
    }
    // Warm-up: a tenth.
    let warm = cpu_ns() + (secs * 1e8) as u64;
    while cpu_ns() < warm {
        f(Instant::now());
    }
    let (c0, mut ops, mut batch) = (cpu_ns(), 0u64, 1u64);
    let end = c0 + (secs * 1e9) as u64;
    loop {
        let b0 = cpu_ns();
        let now = Instant::now();
        for _ in 0..batch {
            f(now);
        }
        ops += batch;
        let b1 = cpu_ns();
        if b1 >= end {
            break;
        }
        if b1 - b0 < 5_000_000 {
            batch *= 2;
        }
    }
    ops as f64 / ((cpu_ns() - c0) as f64 / 1e9)
}

struct Cfgs {
    client: Config,
    server: Config,
}

fn configs(cert: &Certificate, mtu: usize) -> Cfgs {
    let base = || {
        Config::builder()
            .ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
            .min_version(sdtls::Version::Dtls12)
            .max_version(sdtls::Version::Dtls12)
            .mtu(mtu)
            .verify_peer(false)
            .session_tickets(false)
    };
    Cfgs { client: base().build().unwrap(), server: base().certificate(cert).build().unwrap() }
}

fn pump(c: &mut Conn, s: &mut Conn, now: Instant) {
    loop {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            let _ = s.receive(&d, now);
            any = true;
        }
        while let Some(d) = s.poll_transmit() {
            let _ = c.receive(&d, now);
            any = true;
        }
        if !any {
            break;
        }
    }
}

fn handshake(cfg: &Cfgs, now: Instant) {
    let mut c = Conn::new(&cfg.client, sdtls::Role::Client).unwrap();
    let mut s = Conn::server(&cfg.server).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    assert!(c.state() == State::Connected && s.state() == State::Connected);
}

fn pair(cfg: &Cfgs) -> (Conn, Conn) {
    let now = Instant::now();
    let mut c = Conn::new(&cfg.client, sdtls::Role::Client).unwrap();
    let mut s = Conn::server(&cfg.server).unwrap();
    c.start(now).unwrap();
    pump(&mut c, &mut s, now);
    while c.poll_event().is_some() {}
    while s.poll_event().is_some() {}
    (c, s)
}

/// Queue API: poll_transmit (a Vec per datagram), poll_event (a Vec per record).
fn data_queue(cfg: &Cfgs, secs: f64) -> f64 {
    let (mut c, mut s) = pair(cfg);
    let msg = [0x5au8; 1200];
    measure(secs, |now| {
        c.send(&msg, now).unwrap();
        let d = c.poll_transmit().unwrap();
        s.receive(&d, now).unwrap();
        match s.poll_event() {
            Some(Event::Data(v)) => assert_eq!(v.len(), 1200),
            e => panic!("{e:?}"),
        }
    })
}

/// Queue API with buffers handed back (poll_transmit_into, recycle): no
/// allocation per record once warm.
fn data_recycled(cfg: &Cfgs, secs: f64) -> f64 {
    let (mut c, mut s) = pair(cfg);
    let msg = [0x5au8; 1200];
    let mut d = Vec::with_capacity(2048);
    measure(secs, |now| {
        c.send(&msg, now).unwrap();
        assert!(c.poll_transmit_into(&mut d));
        s.receive(&d, now).unwrap();
        match s.poll_event() {
            Some(Event::Data(v)) => {
                assert_eq!(v.len(), 1200);
                s.recycle(v);
            }
            e => panic!("{e:?}"),
        }
    })
}

/// Send closure: the datagram is copied into a reused buffer (as the C
/// benchmark's send callback copies it into the peer's inbox).
fn data_closure(cfg: &Cfgs, secs: f64) -> f64 {
    let (mut c, mut s) = pair(cfg);
    let wire = Arc::new(Mutex::new(Vec::<u8>::with_capacity(2048)));
    let w = wire.clone();
    c.set_send(move |d| {
        let mut b = w.lock().unwrap();
        b.clear();
        b.extend_from_slice(d);
        Ok(())
    });
    let msg = [0x5au8; 1200];
    let mut buf = Vec::with_capacity(2048);
    measure(secs, |now| {
        c.send(&msg, now).unwrap();
        std::mem::swap(&mut buf, &mut wire.lock().unwrap());
        s.receive(&buf, now).unwrap();
        match s.poll_event() {
            Some(Event::Data(v)) => assert_eq!(v.len(), 1200),
            e => panic!("{e:?}"),
        }
    })
}

fn c_bench(exe: &str, round: usize, secs: f64) -> (f64, f64) {
    let out = Command::new(exe)
        .args(["--cases", "handshake,data", "--sizes", "1200", "--round"])
        .arg(round.to_string())
        .arg("--seconds")
        .arg(secs.to_string())
        .output()
        .expect("run the C benchmark");
    assert!(out.status.success(), "{exe} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let metric = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("\"metric\":\"{name}\"")))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        let v = &line[line.find("\"value\":").unwrap() + 8..];
        v[..v.find(',').unwrap()].parse().unwrap()
    };
    (metric("handshakes_per_s"), metric("data1200_records_per_s"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (secs, rounds) = (arg("--seconds", 0.75), arg("--rounds", 5.0) as usize);
    let c_exe = std::env::var("SDTLS_C_BENCH").ok();

    let cert = Certificate::self_signed("bench.test", 30).unwrap();
    let (hs_cfg, data_cfg) = (configs(&cert, 1200), configs(&cert, 8192));
    let count = arg("--count", 0.0) as u64;
    if count > 0 {
        // One case, a fixed number of times: compare instruction counts at
        // two counts under callgrind to get a per-operation figure.
        COUNT.store(count, std::sync::atomic::Ordering::Relaxed);
        let case = args.iter().position(|a| a == "--case").and_then(|i| args.get(i + 1));
        match case.map(String::as_str) {
            Some("handshake") => drop(measure(0.0, |now| handshake(&hs_cfg, now))),
            Some("queue") => drop(data_queue(&data_cfg, 0.0)),
            Some("recycled") => drop(data_recycled(&data_cfg, 0.0)),
            Some("closure") => drop(data_closure(&data_cfg, 0.0)),
            _ => panic!("--count needs --case handshake|queue|recycled|closure"),
        }
        return;
    }
    let (mut hs, mut dq, mut dr, mut dc) = (vec![], vec![], vec![], vec![]);
    let (mut chs, mut cd) = (vec![], vec![]);
    for round in 1..=rounds {
        eprintln!("[bench] round {round}/{rounds}");
        hs.push(measure(secs, |now| handshake(&hs_cfg, now)));
        dq.push(data_queue(&data_cfg, secs));
        dr.push(data_recycled(&data_cfg, secs));
        dc.push(data_closure(&data_cfg, secs));
        if let Some(exe) = &c_exe {
            let (h, d) = c_bench(exe, round, secs);
            chs.push(h);
            cd.push(d);
        }
    }
    println!(
        "sdtls {} — median of {rounds} round(s) of {secs} s per case, per CPU second",
        sdtls::version().1
    );
    println!();
    println!("| Figure | Rust | C | Rust / C |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, r: f64, c: &[f64]| {
        if c.is_empty() {
            println!("| {name} | {r:.0} | – | – |");
        } else {
            let c = median(c.to_vec());
            println!("| {name} | {r:.0} | {c:.0} | {:.2} |", r / c);
        }
    };
    row("Full handshakes/s (client+server pairs)", median(hs), &chs);
    row("1200 B records/s, queue API (poll_transmit/poll_event)", median(dq), &cd);
    row("1200 B records/s, queue API, buffers recycled", median(dr), &cd);
    row("1200 B records/s, send closure", median(dc), &cd);
}

//! The load generator of `scripts/soak` (see docs/soak.md): many clients
//! at an FPS-like tick rate against a running `veltix serve --mode echo`,
//! checking that every message comes back exactly once and in order, and
//! watching the server's resident memory.
//!
//! ```text
//! cargo run --release --example soak -- --addr 127.0.0.1:8080 \
//!     --clients 1000 --rate 20 --duration 10m --server-pid PID
//! ```
//!
//! Clients are plain sockets driven by a few threads (a mio poll loop
//! each) with the library's codec (`encode_into`, `Decoder`), not one
//! library `Client` each: a thousand clients then cost a few threads, and
//! the generator leaves the CPU to the server it measures.

use std::io::{self, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use veltix::frame::{encode_into, now_ms};
use veltix::{handshake, types, Decoder, RequestId};

/// PLAYER_MOVE in the reference's benchmark.
const MOVE: u16 = 401;

/// Soak a running `veltix serve --mode echo` with FPS-like traffic.
#[derive(Debug, Parser)]
struct Args {
    /// The server, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    addr: String,
    /// Clients to connect.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Messages per second each client sends (the tick rate).
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Payload bytes per message (at least 20: client, sequence, send time).
    #[arg(long, default_value_t = 32)]
    payload: usize,
    /// How long to send (e.g. 10m, 90s).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Time after which the server's RSS is taken as the baseline
    /// (default: a fifth of the duration, at most 60 s).
    #[arg(long, value_parser = humantime::parse_duration)]
    warmup: Option<Duration>,
    /// How often to print a progress line.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    report: Duration,
    /// The server's process id, to read its RSS from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Generator threads (default: 2).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Fail when the RSS grows by this much or more after the warm-up.
    #[arg(long, default_value_t = 5.0)]
    max_growth_pct: f64,
}

/// Totals over every client.
#[derive(Default)]
struct Totals {
    sent: AtomicU64,
    received: AtomicU64,
    out_of_order: AtomicU64,
    bad_frames: AtomicU64,
    disconnected: AtomicU64,
    overruns: AtomicU64,
    rtt_sum_us: AtomicU64,
    rtt_max_us: AtomicU64,
}

/// One client connection.
struct Conn {
    index: u32,
    stream: mio::net::TcpStream,
    decoder: Decoder,
    out: Vec<u8>,
    next_seq: u64,
    expect_seq: u64,
    alive: bool,
}

impl Conn {
    fn open(addr: &str, index: u32) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut decoder = Decoder::new(1 << 20);
        let hello = loop {
            if let Some(f) = decoder.next_frame().map_err(io::Error::other)? {
                break f;
            }
            if decoder.read_from(&mut &stream, 4096)? == 0 {
                return Err(io::Error::other("the server closed during the handshake"));
            }
        };
        if hello.type_code != types::HELLO {
            return Err(io::Error::other(format!("got type {} instead of HELLO", hello.type_code)));
        }
        let mut ack = Vec::new();
        let v = handshake::encode_hello(veltix::PROTOCOL_VERSION);
        encode_into(types::HELLO_ACK, hello.request_id, now_ms(), &v, &mut ack)
            .map_err(io::Error::other)?;
        (&stream).write_all(&ack)?;
        stream.set_nonblocking(true)?;
        Ok(Conn {
            index,
            stream: mio::net::TcpStream::from_std(stream),
            decoder,
            out: Vec::new(),
            next_seq: 0,
            expect_seq: 0,
            alive: true,
        })
    }

    fn lost(&mut self, t: &Totals) {
        if self.alive {
            self.alive = false;
            t.disconnected.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes what is queued without blocking.
    fn flush(&mut self, t: &Totals) {
        while !self.out.is_empty() && self.alive {
            match self.stream.write(&self.out) {
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.lost(t),
            }
        }
    }

    /// Reads and checks every echo that has arrived.
    fn receive(&mut self, t: &Totals, start: Instant) {
        while self.alive {
            loop {
                let f = match self.decoder.next_ref() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(_) => {
                        t.bad_frames.fetch_add(1, Ordering::Relaxed);
                        self.lost(t);
                        return;
                    }
                };
                if f.verify().is_err() {
                    t.bad_frames.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                match f.header.type_code {
                    MOVE if f.payload.len() >= 20 => {
                        let seq = u64::from_be_bytes(f.payload[4..12].try_into().unwrap());
                        let sent_us = u64::from_be_bytes(f.payload[12..20].try_into().unwrap());
                        if seq != self.expect_seq {
                            t.out_of_order.fetch_add(1, Ordering::Relaxed);
                        }
                        self.expect_seq = seq + 1;
                        t.received.fetch_add(1, Ordering::Relaxed);
                        let rtt = (start.elapsed().as_micros() as u64).saturating_sub(sent_us);
                        t.rtt_sum_us.fetch_add(rtt, Ordering::Relaxed);
                        t.rtt_max_us.fetch_max(rtt, Ordering::Relaxed);
                    }
                    types::PING => {
                        let id = f.header.request_id;
                        let _ = encode_into(types::PONG, id, now_ms(), &[], &mut self.out);
                    }
                    _ => {}
                }
            }
            match self.decoder.read_from(&mut &self.stream, 16 * 1024) {
                Ok(0) => self.lost(t),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.lost(t),
            }
        }
    }

    fn queue_move(&mut self, payload: &mut [u8], start: Instant) {
        payload[..4].copy_from_slice(&self.index.to_be_bytes());
        payload[4..12].copy_from_slice(&self.next_seq.to_be_bytes());
        let now_us = start.elapsed().as_micros() as u64;
        payload[12..20].copy_from_slice(&now_us.to_be_bytes());
        let id = RequestId::from(self.next_seq as u32);
        let _ = encode_into(MOVE, id, now_ms(), payload, &mut self.out);
        self.next_seq += 1;
    }
}

/// One generator thread: its share of the clients, one tick at a time;
/// between ticks it waits for echoes (and room to write) in a poll loop.
fn drive(
    mut conns: Vec<Conn>,
    a: Arc<Args>,
    t: Arc<Totals>,
    stop: Arc<AtomicBool>,
    start: Instant,
) {
    use mio::{Events, Interest, Poll, Token};
    let mut poll = Poll::new().expect("a poll instance");
    for (i, c) in conns.iter_mut().enumerate() {
        let interest = Interest::READABLE | Interest::WRITABLE;
        poll.registry().register(&mut c.stream, Token(i), interest).expect("register a client");
    }
    let mut events = Events::with_capacity(1024);
    let mut wait_for = |conns: &mut Vec<Conn>, until: Instant| loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        if let Err(e) = poll.poll(&mut events, Some(left)) {
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("soak: poll failed: {e}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if ev.is_writable() {
                c.flush(&t);
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                c.receive(&t, start);
            }
        }
    };
    let interval = Duration::from_secs_f64(1.0 / f64::from(a.rate.max(1)));
    let mut payload = vec![0u8; a.payload.max(20)];
    let mut next = Instant::now();
    while !stop.load(Ordering::Acquire) {
        for c in conns.iter_mut().filter(|c| c.alive) {
            c.queue_move(&mut payload, start);
            t.sent.fetch_add(1, Ordering::Relaxed);
            c.flush(&t);
        }
        next += interval;
        if Instant::now() > next {
            // A late tick starts the next at once, without bursting.
            t.overruns.fetch_add(1, Ordering::Relaxed);
            next = Instant::now();
        }
        wait_for(&mut conns, next);
    }
    // Drain: keep flushing and reading until every echo is back.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let pending =
            conns.iter().any(|c| c.alive && (c.expect_seq < c.next_seq || !c.out.is_empty()));
        if !pending {
            break;
        }
        for c in conns.iter_mut().filter(|c| c.alive) {
            c.flush(&t);
            c.receive(&t, start);
        }
        wait_for(&mut conns, Instant::now() + Duration::from_millis(20));
    }
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "-".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn main() -> ExitCode {
    let a = Arc::new(Args::parse());
    veltix::limits::raise_open_file_limit();
    let warmup = a.warmup.unwrap_or((a.duration / 5).min(Duration::from_secs(60)));
    println!(
        "soak: {} clients x {} Hz x {} B to {} for {:?} (warm-up {:?})",
        a.clients,
        a.rate,
        a.payload.max(20),
        a.addr,
        a.duration,
        warmup
    );
    let rss_idle = rss_kib(a.server_pid);
    let threads = a.threads.max(1);
    let mut shares: Vec<Vec<Conn>> = (0..threads).map(|_| Vec::new()).collect();
    for i in 0..a.clients {
        match Conn::open(&a.addr, i as u32) {
            Ok(c) => shares[i % threads].push(c),
            Err(e) => {
                eprintln!("soak: client {i} cannot connect to {}: {e}", a.addr);
                return ExitCode::FAILURE;
            }
        }
    }
    let rss_connected = rss_kib(a.server_pid);
    println!(
        "connected {} clients; server RSS {} MiB idle, {} MiB with the clients",
        a.clients,
        mib(rss_idle),
        mib(rss_connected)
    );
    println!(
        "{:>7} {:>9} {:>12} {:>12} {:>10} {:>9} {:>6} {:>6} {:>9} {:>9}",
        "time",
        "rss_MiB",
        "sent",
        "received",
        "in_flight",
        "msg/s",
        "ooo",
        "gone",
        "rtt_avg",
        "rtt_max"
    );
    let t = Arc::new(Totals::default());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = shares
        .into_iter()
        .map(|conns| {
            let (a, t, stop) = (a.clone(), t.clone(), stop.clone());
            std::thread::spawn(move || drive(conns, a, t, stop, start))
        })
        .collect();
    let mut rss_warm = None;
    let mut rss_max = 0;
    let (mut last_recv, mut last_at, mut last_rtt_sum) = (0, start, 0);
    let mut next_report = start + a.report;
    let end = start + a.duration;
    loop {
        let now = Instant::now();
        if rss_warm.is_none() && now >= start + warmup {
            rss_warm = rss_kib(a.server_pid);
        }
        if now >= end {
            break;
        }
        if now >= next_report {
            next_report += a.report;
            let rss = rss_kib(a.server_pid);
            rss_max = rss_max.max(rss.unwrap_or(0));
            let (sent, recv) = (t.sent.load(Ordering::Relaxed), t.received.load(Ordering::Relaxed));
            let rtt_sum = t.rtt_sum_us.load(Ordering::Relaxed);
            let secs = now.duration_since(last_at).as_secs_f64();
            let n = recv - last_recv;
            let rtt_avg =
                if n > 0 { (rtt_sum - last_rtt_sum) as f64 / n as f64 / 1e3 } else { 0.0 };
            println!(
                "{:>6}s {:>9} {:>12} {:>12} {:>10} {:>9.0} {:>6} {:>6} {:>7.2}ms {:>7.2}ms",
                start.elapsed().as_secs(),
                mib(rss),
                sent,
                recv,
                sent.saturating_sub(recv),
                n as f64 / secs,
                t.out_of_order.load(Ordering::Relaxed),
                t.disconnected.load(Ordering::Relaxed),
                rtt_avg,
                t.rtt_max_us.swap(0, Ordering::Relaxed) as f64 / 1e3,
            );
            (last_recv, last_at, last_rtt_sum) = (recv, now, rtt_sum);
        }
        std::thread::sleep(Duration::from_millis(50).min(end.saturating_duration_since(now)));
    }
    stop.store(true, Ordering::Release);
    for w in workers {
        let _ = w.join();
    }
    let rss_end = rss_kib(a.server_pid);
    let sent = t.sent.load(Ordering::Relaxed);
    let recv = t.received.load(Ordering::Relaxed);
    let lost = sent.saturating_sub(recv);
    let ooo = t.out_of_order.load(Ordering::Relaxed);
    let gone = t.disconnected.load(Ordering::Relaxed);
    let bad = t.bad_frames.load(Ordering::Relaxed);
    println!();
    println!(
        "sent {sent}, received {recv}, lost {lost}, out of order {ooo}, bad frames {bad}, \
         clients lost {gone}, late ticks {}",
        t.overruns.load(Ordering::Relaxed)
    );
    let mut ok = lost == 0 && ooo == 0 && gone == 0 && bad == 0;
    if let (Some(w), Some(e)) = (rss_warm, rss_end) {
        let growth = (e as f64 - w as f64) / w as f64 * 100.0;
        println!(
            "server RSS: {} MiB after the warm-up, {} MiB at the end ({growth:+.2} %, goal < {} %), \
             peak sampled {} MiB",
            mib(Some(w)),
            mib(Some(e)),
            a.max_growth_pct,
            mib(Some(rss_max.max(e)))
        );
        ok &= growth < a.max_growth_pct;
    }
    println!("result: {}", if ok { "PASS" } else { "FAIL" });
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! The load of `scripts/cluster-fanout`: cross-node broadcast fan-out. N
//! library clients, spread round-robin over the given `veltix serve --mode
//! broadcast` nodes, each send messages at a fixed rate; every message
//! should reach every other client. Prints what arrived (delivered/s, what
//! is missing after `--drain`)
//! and the delivery latency (p50, p99, max) as one line of text, and with
//! `--json` as one JSON object.
//!
//! ```text
//! cargo run --release --example cluster_fanout -- \
//!     --addr 127.0.0.1:8001 --addr 127.0.0.1:8002 --clients 20 --rate 50 --duration 5s
//! ```
//!
//! The send time travels in the payload (nanoseconds since this process
//! started, all clients being in it), so latency is measured end to end:
//! sender, its node, Redis, the other node, the receiver.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use veltix::{Client, ClientConfig};

/// The message type sent.
const CHAT: u16 = 200;

/// Broadcast fan-out across `veltix serve` nodes.
#[derive(Debug, Parser)]
struct Args {
    /// A node, HOST:PORT (repeat for each node; clients go round-robin).
    #[arg(long = "addr", value_name = "HOST:PORT", required = true)]
    addrs: Vec<String>,
    /// Clients in all.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// Messages per second each client sends.
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// How long to send.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// How long to wait after the last send for what is still on its way.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    drain: Duration,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cluster_fanout: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Seen {
    latency: Mutex<Histogram<u64>>,
    delivered: AtomicU64,
    /// When the last message arrived (ns since start).
    last: AtomicU64,
}

fn run(args: &Args) -> Result<(), String> {
    if args.clients < 2 || args.rate == 0 {
        return Err("need --clients 2 or more and --rate 1 or more".into());
    }
    let start = Instant::now();
    let hist = Histogram::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| e.to_string())?;
    let seen = Arc::new(Seen {
        latency: Mutex::new(hist),
        delivered: AtomicU64::new(0),
        last: AtomicU64::new(0),
    });
    let mut clients = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let addr = &args.addrs[i % args.addrs.len()];
        let s = seen.clone();
        let c = Client::builder(ClientConfig::new(addr.clone()))
            .on_message(move |_, f| {
                let Some(sent) = f.payload.get(..8).and_then(|b| b.try_into().ok()) else { return };
                let now = start.elapsed().as_nanos() as u64;
                let lat = now.saturating_sub(u64::from_be_bytes(sent)).max(1);
                if let Ok(mut h) = s.latency.lock() {
                    let _ = h.record(lat);
                }
                s.delivered.fetch_add(1, Ordering::Relaxed);
                s.last.fetch_max(now, Ordering::Relaxed);
            })
            .connect()
            .map_err(|e| format!("client {i} cannot connect to {addr}: {e}"))?;
        clients.push(c);
    }
    // Let every node see every client before anyone talks.
    std::thread::sleep(Duration::from_millis(500));
    let seen_before = seen.delivered.load(Ordering::Relaxed);
    let tick = Duration::from_secs(1) / args.rate;
    let send_start = start.elapsed();
    let mut sent = 0u64;
    let mut next = Instant::now();
    let end = next + args.duration;
    while Instant::now() < end {
        for c in &clients {
            let now = start.elapsed().as_nanos() as u64;
            let mut payload = now.to_be_bytes().to_vec();
            payload.extend_from_slice(&[0u8; 24]);
            c.send(CHAT, &payload).map_err(|e| format!("cannot send: {e}"))?;
            sent += 1;
        }
        next += tick;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let want = sent * (args.clients as u64 - 1);
    let drain_end = Instant::now() + args.drain;
    while seen.delivered.load(Ordering::Relaxed) - seen_before < want && Instant::now() < drain_end
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let delivered = seen.delivered.load(Ordering::Relaxed) - seen_before;
    let last = Duration::from_nanos(seen.last.load(Ordering::Relaxed));
    let secs = last.saturating_sub(send_start).as_secs_f64().max(1e-9);
    let h = seen.latency.lock().map_err(|_| "a receiver panicked".to_string())?;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1e6;
    let per_s = delivered as f64 / secs;
    // Not arrived within --drain (late or dropped).
    let missing = want.saturating_sub(delivered);
    if args.json {
        println!(
            "{{\"nodes\":{},\"clients\":{},\"sent\":{sent},\"delivered\":{delivered},\"missing\":{missing},\
             \"delivered_per_s\":{per_s:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
            args.addrs.len(),
            args.clients,
            ms(0.5),
            ms(0.99),
            ms(1.0)
        );
    } else {
        println!(
            "{} node(s), {} clients: {sent} sent, {delivered} delivered of {want} ({missing} missing), \
             {per_s:.0} delivered/s, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            args.addrs.len(),
            args.clients,
            ms(0.5),
            ms(0.99),
            ms(1.0)
        );
    }
    Ok(())
}

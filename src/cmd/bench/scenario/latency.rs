//! Latency: PING / PONG round trips, one at a time, timed with the
//! monotonic clock; the warm-up pings are discarded. The baseline sends the
//! same PING frame (22 bytes in 1.6.3, 15 in VX) over plain TCP to an echo
//! thread. Veltix and the
//! baseline take turns, in blocks, so that both meet the same machine: on a
//! virtual machine the cost of a wake-up drifts with what ran before (CPU
//! idle states, where the scheduler put the threads), and two series run
//! one after the other can differ by several times for that reason alone.
//! Each block is also marked with where its two threads ran (`placement`),
//! so that the report can set veltix beside raw TCP in the same placement.

use std::io::Read;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;

use super::endpoint::{Arrivals, Ctx, Endpoint};
use super::placement::{self, Placed};
use super::progress;
use super::raw::{self, RawClient, RawServer};
use crate::cmd::bench::model::{self, LatencyRun};
use crate::cmd::bench::stats;

/// The latency knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub iterations: u64,
    pub warmup: u64,
    pub timeout: Duration,
}

/// Blocks each side's measured pings are split into (fewer if there are
/// fewer pings).
const BLOCKS: u64 = 10;

/// One latency run.
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<LatencyRun> {
    let arrivals = Arrivals::new(0);
    let ep = Endpoint::open(ctx, &arrivals)?;
    let client = ep.connect(ctx, &arrivals)?;
    ep.wait_clients(1, ctx.conn.handshake_timeout + Duration::from_secs(5))?;
    let peer = client.peer().context("the connection closed before the first ping")?;
    let mut raw = if ctx.baseline { Some(RawPinger::start(ctx, k)?) } else { None };

    let sides = if raw.is_some() { 2 } else { 1 };
    let bar = progress::bar((k.warmup + k.iterations) * sides, label);
    bar.set_message("pings");
    let ping = || {
        let t = Instant::now();
        peer.ping(k.timeout).ok()?;
        Some(t.elapsed().as_nanos() as u64)
    };
    let alive = || peer.is_open();
    // The warm-ups also show which thread answers each side's pings. A
    // target's echoing thread is in another process: not ours to find (the
    // client's own I/O thread, waking for some of the pongs, is no echoer).
    let warm_up = || series(k.warmup, &bar, ping, alive).0;
    let (warm, veltix_echoer) =
        if ctx.target.is_some() { (warm_up(), None) } else { find_echoer(warm_up) };
    let raw_echoer = match &mut raw {
        Some(r) => find_echoer(|| series(k.warmup, &bar, || r.once(), || true).0).1,
        None => None,
    };
    let mut samples = Series::with_capacity(k.iterations, veltix_echoer);
    let mut raw_samples = Series::with_capacity(k.iterations, raw_echoer);
    let blocks = BLOCKS.min(k.iterations.max(1));
    for b in 0..blocks {
        // Spread the remainder over the first blocks.
        let n = k.iterations / blocks + u64::from(b < k.iterations % blocks);
        samples.block(|| series(n, &bar, ping, alive));
        if let Some(r) = &mut raw {
            raw_samples.block(|| series(n, &bar, || r.once(), || true));
        }
    }
    bar.finish_and_clear();
    drop(client);
    drop(ep);

    let figures = stats::latency(&samples.ns, k.iterations, samples.took.as_secs_f64());
    let raw =
        raw.map(|_| stats::latency(&raw_samples.ns, k.iterations, raw_samples.took.as_secs_f64()));
    let efficiency =
        raw.as_ref().and_then(|r| (figures.p50_us > 0.0).then(|| r.p50_us / figures.p50_us));
    let raw_placement = raw.as_ref().and_then(|_| raw_samples.placement());
    Ok(LatencyRun {
        warmup_pings: k.warmup,
        warmup_avg_us: avg_us(&warm),
        figures,
        raw,
        efficiency,
        placement: samples.placement(),
        raw_placement,
    })
}

/// Runs `pings` (which returns the answered round trips) and names the
/// thread of this process that answered them, if one did.
fn find_echoer(pings: impl FnOnce() -> Vec<u64>) -> (Vec<u64>, Option<i32>) {
    let before = placement::switches();
    let answered = pings();
    let echoer = before.zip(placement::switches()).and_then(|(before, after)| {
        placement::echoer(&before, &after, placement::me(), answered.len() as u64)
    });
    (answered, echoer)
}

/// Round trips gathered over several blocks, the time the blocks took,
/// and where each block ran.
struct Series {
    ns: Vec<u64>,
    took: Duration,
    /// The thread that answers this series' pings, if it is ours.
    echoer: Option<i32>,
    /// Each block's placement and round trips.
    blocks: Vec<(Placed, Vec<u64>)>,
}

impl Series {
    fn with_capacity(n: u64, echoer: Option<i32>) -> Series {
        Series {
            ns: Vec::with_capacity(n as usize),
            took: Duration::ZERO,
            echoer,
            blocks: Vec::new(),
        }
    }

    /// Runs one block, noting where its threads were before and after.
    fn block(&mut self, run: impl FnOnce() -> (Vec<u64>, Duration)) {
        let start = self.echoer.map(placement::now);
        let (ns, took) = run();
        if let (Some(tid), Some(start)) = (self.echoer, start) {
            self.blocks.push((placement::classify(start, placement::now(tid)), ns.clone()));
        }
        self.ns.extend(ns);
        self.took += took;
    }

    /// The blocks by placement; None if the echoing thread was not found.
    fn placement(&self) -> Option<model::Placement> {
        self.echoer?;
        let of = |kind: Placed| {
            let mut ns: Vec<u64> = Vec::new();
            let mut blocks = 0;
            for (_, b) in self.blocks.iter().filter(|(p, _)| *p == kind) {
                blocks += 1;
                ns.extend(b);
            }
            ns.sort_unstable();
            (blocks > 0).then(|| model::Placed {
                blocks,
                pings: ns.len() as u64,
                p50_us: stats::quantile_sorted_us(&ns, 0.5),
            })
        };
        Some(model::Placement {
            shared: of(Placed::Shared),
            apart: of(Placed::Apart),
            moved_blocks: self.blocks.iter().filter(|(p, _)| *p == Placed::Moved).count() as u64,
        })
    }
}

/// Runs `n` timed round trips; a failed one counts as lost. Stops early
/// (the rest lost) once `alive` says the connection is gone.
fn series(
    n: u64,
    bar: &ProgressBar,
    mut once: impl FnMut() -> Option<u64>,
    alive: impl Fn() -> bool,
) -> (Vec<u64>, Duration) {
    let mut samples = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        match once() {
            Some(ns) => samples.push(ns),
            None if !alive() => break,
            None => {}
        }
        bar.inc(1);
    }
    (samples, start.elapsed())
}

fn avg_us(ns: &[u64]) -> f64 {
    if ns.is_empty() {
        0.0
    } else {
        ns.iter().map(|&v| v as f64).sum::<f64>() / ns.len() as f64 / 1000.0
    }
}

/// The baseline: a raw-TCP client of a raw echo server.
struct RawPinger {
    // Dropped in this order: the client's shutdown ends the server's thread.
    client: RawClient,
    _server: RawServer,
    ping: Vec<u8>,
    reply: Vec<u8>,
    /// A timed-out read leaves the stream out of step: stop there.
    broken: bool,
}

impl RawPinger {
    fn start(ctx: &Ctx, k: &Knobs) -> anyhow::Result<RawPinger> {
        let server = RawServer::start(ctx.wire, raw::Mode::Echo, raw::Reads::EACH)
            .context("cannot start the raw-TCP echo server")?;
        let client = RawClient::connect(server.addr(), ctx.wire, None, raw::Reads::EACH)
            .context("cannot connect to the raw-TCP echo server")?;
        client.stream.set_read_timeout(Some(k.timeout))?;
        // PING is type 0 in both profiles.
        let ping = raw::frame(ctx.wire, veltix::types::PING, 0, 0)?;
        let reply = vec![0u8; ping.len()];
        Ok(RawPinger { client, _server: server, ping, reply, broken: false })
    }

    /// One timed round trip; None once the stream broke.
    fn once(&mut self) -> Option<u64> {
        if self.broken {
            return None;
        }
        let t = Instant::now();
        let ok = self.client.send(&self.ping).is_ok()
            && (&self.client.stream).read_exact(&mut self.reply).is_ok();
        self.broken = !ok;
        ok.then(|| t.elapsed().as_nanos() as u64)
    }
}

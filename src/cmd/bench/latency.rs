//! Latency: PING / PONG round trips, one at a time, timed with the
//! monotonic clock; the warm-up pings are discarded. The baseline sends
//! the same 22-byte frame over plain TCP to an echo thread.

use std::io::Read;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;

use super::endpoint::{Arrivals, Ctx, Endpoint};
use super::model::{LatencyFigures, LatencyRun};
use super::raw::{self, RawClient, RawServer};
use super::{progress, stats};

/// The latency knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub iterations: u64,
    pub warmup: u64,
    pub timeout: Duration,
}

/// One latency run.
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<LatencyRun> {
    let arrivals = Arrivals::new(0);
    let ep = Endpoint::open(ctx, &arrivals)?;
    let client = ep.connect(ctx, &arrivals)?;
    ep.wait_clients(1, ctx.conn.handshake_timeout + Duration::from_secs(5))?;
    let peer = client.peer().context("the connection closed before the first ping")?;

    let bar = progress::bar(k.warmup + k.iterations, label);
    bar.set_message("pings");
    let ping = || {
        let t = Instant::now();
        peer.ping(k.timeout).ok()?;
        Some(t.elapsed().as_nanos() as u64)
    };
    let (warm, _) = series(k.warmup, &bar, ping, || peer.is_open());
    let (samples, took) = series(k.iterations, &bar, ping, || peer.is_open());
    bar.finish_and_clear();
    drop(client);
    drop(ep);

    let figures = stats::latency(&samples, k.iterations, took.as_secs_f64());
    let raw = if ctx.baseline { Some(raw_baseline(k, label)?) } else { None };
    let efficiency =
        raw.as_ref().and_then(|r| (figures.p50_us > 0.0).then(|| r.p50_us / figures.p50_us));
    Ok(LatencyRun {
        warmup_pings: k.warmup,
        warmup_avg_us: avg_us(&warm),
        figures,
        raw,
        efficiency,
    })
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

fn raw_baseline(k: &Knobs, label: &str) -> anyhow::Result<LatencyFigures> {
    let server =
        RawServer::start(raw::Mode::Echo).context("cannot start the raw-TCP echo server")?;
    let client = RawClient::connect(server.addr(), None)
        .context("cannot connect to the raw-TCP echo server")?;
    client.stream.set_read_timeout(Some(k.timeout))?;
    let ping = raw::frame(veltix::types::PING, 0, 0);
    let mut reply = vec![0u8; ping.len()];
    let bar = progress::bar(k.warmup + k.iterations, &format!("{label} (raw)"));
    bar.set_message("round trips");
    // A timed-out read leaves the stream out of step: stop there.
    let mut broken = false;
    let mut once = || {
        if broken {
            return None;
        }
        let t = Instant::now();
        let ok = client.send(&ping).is_ok() && (&client.stream).read_exact(&mut reply).is_ok();
        broken = !ok;
        ok.then(|| t.elapsed().as_nanos() as u64)
    };
    series(k.warmup, &bar, &mut once, || true);
    let (samples, took) = series(k.iterations, &bar, &mut once, || true);
    bar.finish_and_clear();
    Ok(stats::latency(&samples, k.iterations, took.as_secs_f64()))
}

//! Connections: many idle connections to the in-process server. Measures
//! what they cost the server (RSS, threads), how fast they connect,
//! whether a sample of them still answers a PING quickly, and what is
//! left after they close. The clients are raw sockets in the helper
//! process (see `idle`): the bench process's RSS is the server's alone,
//! and the helper needs no thread per connection.
//!
//! Not in the default set: ten thousand connections take seconds, and as
//! many open files on both sides.

use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use veltix::{CoreKind, Server};

use super::endpoint::{Arrivals, Ctx, Endpoint};
use super::helper::{self, Helper, Pings, Sources};
use super::progress;
use crate::alloc;
use crate::cmd::bench::machine::{ensure_open_files, rss_bytes, thread_count};
use crate::cmd::bench::model::ConnectionsRun;
use crate::cmd::bench::stats::{quantile_sorted_us, us};
use crate::cmd::bench::units::group;

/// The connections knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Connections to open.
    pub count: u32,
    /// Connections to ping once all are open (at most `count`).
    pub sample: u32,
    /// Time allowed for one sample ping.
    pub timeout: Duration,
    /// Loopback addresses the helper's sockets connect from, round robin
    /// (`--conn-sources`); else the one the OS picks.
    pub sources: Option<Sources>,
}

/// Time for the server's threads to settle before the RSS is read.
const SETTLE: Duration = Duration::from_millis(100);

/// One connections run (in-process server only).
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<ConnectionsRun> {
    anyhow::ensure!(
        ctx.target.is_none(),
        "the connections scenario measures the in-process server"
    );
    ensure_open_files("the bench process (which holds the server)", k.count)?;
    let rss = || {
        std::thread::sleep(SETTLE);
        rss_bytes()
    };
    let n = k.count as usize;
    let bar = progress::bar(u64::from(k.count), label);
    bar.set_message("idle server");
    let ep = Endpoint::open(ctx, &Arrivals::new(0))?;
    let server = ep.server().context("the connections scenario needs the in-process server")?;
    let idle_rss = rss();
    let idle_threads = thread_count();

    let timeout = helper::connect_timeout(ctx, k.count);
    // A server that stops accepting fails the run after this long, not
    // after the whole timeout.
    let stall = ctx.conn.handshake_timeout + Duration::from_secs(10);
    let mut h = Helper::spawn(ctx, &ep.addr(), 0, false)?;
    h.expect("ready", timeout)?;
    bar.set_message("connecting");
    let start = Instant::now();
    match &k.sources {
        Some(s) => h.send(&format!("raw-open {} {s}", k.count))?,
        None => h.send(&format!("raw-open {}", k.count))?,
    }
    h.expect_with("ready", timeout, || bar.set_position(server.client_count() as u64))
        .and_then(|_| wait_count(server, n, stall, &bar))
        .map_err(|e| match ctx.core {
            CoreKind::Threads => e.context(format!(
                "cannot hold {} connections with the threads core, which needs a thread per \
                 connection (limits: ulimit -u, /proc/sys/kernel/threads-max and pid_max, and \
                 /proc/sys/vm/max_map_count: each thread maps its stack and its signal stack, \
                 with guard pages, about 4 mappings, so the default 65,530 holds about 16,000 \
                 threads); --core poll \
                 does not",
                group(u64::from(k.count))
            )),
            CoreKind::Poll => e,
        })?;
    let connect = start.elapsed().as_secs_f64();
    let connected_rss = rss();
    let connected_threads = thread_count();
    let source_addrs = server
        .clients()
        .iter()
        .map(|c| c.addr().ip())
        .collect::<std::collections::HashSet<_>>()
        .len() as u32;

    let sample = k.sample.min(k.count);
    bar.set_message(format!("pinging {sample}"));
    h.send(&format!("raw-ping {sample} {}", k.timeout.as_millis()))?;
    let line = h.expect("pings", k.timeout * sample + Duration::from_secs(10))?;
    let pings: Pings = serde_json::from_str(&line)
        .with_context(|| format!("the bench helper sent a bad pings line: {line}"))?;
    let held = server.client_count();
    anyhow::ensure!(
        pings.closed == 0 && held == n,
        "idle connections were closed before the teardown: the helper lost {}, the server \
         holds {} of {}",
        group(pings.closed),
        group(held as u64),
        group(n as u64)
    );

    bar.set_message("teardown");
    let start = Instant::now();
    h.close(timeout)?;
    wait_count(server, 0, stall, &bar)?;
    let teardown = start.elapsed().as_secs_f64();
    // The server counts a connection gone before its reader thread (threads
    // core) has exited: read the RSS once the threads are gone.
    let after_teardown_threads = settled_threads();
    let after_teardown = rss();
    alloc::trim();
    let after_trim = Some(rss_bytes());
    bar.finish_and_clear();
    drop(ep);

    let mut rtts = pings.rtts_ns;
    rtts.sort_unstable();
    let avg = if rtts.is_empty() { 0 } else { rtts.iter().sum::<u64>() / rtts.len() as u64 };
    Ok(ConnectionsRun {
        connections: k.count,
        sampled: sample,
        source_addrs,
        idle_rss_bytes: idle_rss,
        connected_rss_bytes: connected_rss,
        per_conn_bytes: (connected_rss as f64 - idle_rss as f64) / f64::from(k.count),
        after_teardown_rss_bytes: after_teardown,
        teardown_delta_bytes: after_teardown as i64 - idle_rss as i64,
        after_trim_rss_bytes: after_trim,
        idle_threads,
        connected_threads,
        after_teardown_threads,
        connect_s: connect,
        conns_per_s: if connect > 0.0 { f64::from(k.count) / connect } else { 0.0 },
        teardown_s: teardown,
        sample_completed: rtts.len() as u64,
        sample_lost: pings.lost,
        sample_avg_us: us(avg),
        sample_min_us: us(rtts.first().copied().unwrap_or(0)),
        sample_p50_us: quantile_sorted_us(&rtts, 0.50),
        sample_p99_us: quantile_sorted_us(&rtts, 0.99),
        sample_max_us: us(rtts.last().copied().unwrap_or(0)),
    })
}

/// The thread count once it has not changed for 100 ms (at most 10 s).
fn settled_threads() -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = thread_count();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = thread_count();
        if now == last || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

/// Waits until the server holds `n` established clients; fails once the
/// count has not moved for `stall`.
fn wait_count(server: &Server, n: usize, stall: Duration, bar: &ProgressBar) -> anyhow::Result<()> {
    let mut seen = server.client_count();
    let mut moved = Instant::now();
    loop {
        let now = server.client_count();
        bar.set_position(now as u64);
        if now == n {
            return Ok(());
        }
        if now != seen {
            (seen, moved) = (now, Instant::now());
        }
        anyhow::ensure!(
            moved.elapsed() < stall,
            "the server holds {} clients, expected {}; no change for {stall:?}",
            group(now as u64),
            group(n as u64)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

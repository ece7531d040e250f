//! Memory: the RSS of this process, which holds the server, idle, as
//! clients connect one at a time, with all of them, and after they leave.
//! The clients live in the helper process, so their memory is not counted.

use std::time::Duration;

use super::endpoint::{Arrivals, Ctx, Endpoint};
use super::helper::{self, Helper};
use super::progress;
use crate::cmd::bench::machine::rss_bytes;
use crate::cmd::bench::model::MemoryRun;
use crate::cmd::bench::stats::Moments;

/// The memory knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Clients at the end.
    pub clients: u32,
    /// Clients connected one at a time for the per-client figures.
    pub detail: u32,
}

/// Time for a new connection's threads to touch their memory before the
/// RSS is read (the server has completed the handshake by then).
const SETTLE: Duration = Duration::from_millis(25);

/// One memory run (in-process server only).
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<MemoryRun> {
    anyhow::ensure!(ctx.target.is_none(), "the memory scenario measures the in-process server");
    let rss = || {
        std::thread::sleep(SETTLE);
        rss_bytes()
    };
    let bar = progress::bar(u64::from(k.clients) + 3, label);
    bar.set_message("idle server");
    let baseline = rss();
    let arrivals = Arrivals::new(0);
    let ep = Endpoint::open(ctx, &arrivals)?;
    let idle = rss();
    bar.inc(1);

    let timeout = helper::connect_timeout(ctx, k.clients);
    let mut h = Helper::spawn(ctx, &ep.addr(), 0, false)?;
    h.expect("ready", timeout)?;
    bar.set_message("clients one by one");
    let mut costs = Vec::new();
    let mut prev = rss();
    for i in 1..=k.detail {
        h.send("open 1")?;
        h.expect("ready", timeout)?;
        ep.wait_clients(i as usize, timeout)?;
        let now = rss();
        costs.push(now as f64 - prev as f64);
        prev = now;
        bar.inc(1);
    }
    let detail_rss = prev;
    let total_rss = if k.clients > k.detail {
        bar.set_message("all clients");
        h.send(&format!("open {}", k.clients - k.detail))?;
        h.expect("ready", timeout)?;
        ep.wait_clients(k.clients as usize, timeout)?;
        rss()
    } else {
        detail_rss
    };
    bar.set_position(u64::from(k.clients) + 1);
    bar.set_message("teardown");
    h.close(timeout)?;
    ep.wait_clients(0, timeout)?;
    let after_teardown = rss();
    bar.inc(1);
    drop(ep);
    let after_shutdown = rss();
    bar.finish_and_clear();

    let m = Moments::of(&costs);
    let extra = k.clients.saturating_sub(k.detail);
    Ok(MemoryRun {
        baseline_rss_bytes: baseline,
        idle_rss_bytes: idle,
        server_start_bytes: idle as i64 - baseline as i64,
        detail_clients: k.detail,
        total_clients: k.clients,
        per_client_avg_bytes: m.avg,
        per_client_min_bytes: m.min,
        per_client_max_bytes: m.max,
        per_client_median_bytes: m.median,
        per_client_stdev_bytes: m.stdev,
        detail_rss_bytes: detail_rss,
        total_rss_bytes: total_rss,
        per_client_at_scale_bytes: if extra > 0 {
            (total_rss as f64 - detail_rss as f64) / f64::from(extra)
        } else {
            0.0
        },
        after_teardown_rss_bytes: after_teardown,
        leak_bytes: after_teardown as i64 - idle as i64,
        after_shutdown_rss_bytes: after_shutdown,
    })
}

//! FPS: a game server's traffic. Every tick each player sends a
//! PLAYER_MOVE (401, 32 B) and every tenth player a PLAYER_SHOOT (402,
//! 16 B), rotating so each player shoots one tick in ten. The players run
//! in the helper process (so the server's RSS delta is its own); the
//! in-process server counts what it receives.

use std::time::{Duration, Instant};

use super::endpoint::{Arrivals, Ctx, Endpoint};
use super::helper::{self, Helper, Sim};
use super::progress;
use crate::cmd::bench::machine::rss_bytes;
use crate::cmd::bench::model::FpsRun;
use crate::cmd::bench::stats;

/// The knobs of one FPS setting.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub players: u32,
    pub tick_rate: u32,
    pub duration: Duration,
}

/// One FPS run.
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<FpsRun> {
    let arrivals = Arrivals::new(0);
    let ep = Endpoint::open(ctx, &arrivals)?;
    let bar = progress::bar(u64::from(k.players), label);
    bar.set_message("connecting players");
    let mut h = Helper::spawn(ctx, &ep.addr(), k.players, ctx.echo())?;
    h.expect_with("ready", helper::connect_timeout(ctx, k.players), || {
        if let Some(s) = ep.server() {
            bar.set_position(s.client_count() as u64)
        }
    })?;
    ep.wait_clients(k.players as usize, helper::connect_timeout(ctx, k.players))?;
    let rss_before = ep.server().map(|_| rss_bytes());

    let ms = k.duration.as_millis() as u64;
    bar.set_length(ms.max(1));
    bar.set_position(0);
    bar.set_message(format!("{} players at {} Hz", k.players, k.tick_rate));
    h.send(&format!("fps {} {ms}", k.tick_rate))?;
    let start = Instant::now();
    let wait = k.duration + ctx.drain_timeout * 4 + Duration::from_secs(30);
    let line = h.expect_with("result", wait, || {
        bar.set_position((start.elapsed().as_millis() as u64).min(ms))
    })?;
    let sim: Sim = serde_json::from_str(&line)
        .map_err(|e| anyhow::anyhow!("bad result from the bench helper ({e}): {line}"))?;
    let sent = sim.sent_move + sim.sent_shoot;
    let delivered = match sim.echoes {
        Some(n) => n,
        None => {
            bar.set_length(sent.max(1));
            bar.set_message("receiving");
            arrivals.wait_for(sent, ctx.drain_timeout, &bar);
            arrivals.count()
        }
    };
    let rss_after = ep.server().map(|_| rss_bytes());
    bar.finish_and_clear();
    h.close(helper::connect_timeout(ctx, k.players))?;
    drop(ep);

    let secs = sim.duration_ns as f64 / 1e9;
    let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    Ok(FpsRun {
        players: k.players,
        tick_rate_hz: k.tick_rate,
        duration_s: secs,
        ticks: sim.ticks,
        actual_tick_rate_hz: per_s(sim.ticks),
        sent_move: sim.sent_move,
        sent_shoot: sim.sent_shoot,
        sent,
        send_errors: sim.send_errors,
        delivered,
        lost: sent.saturating_sub(delivered),
        success_pct: stats::pct(delivered, sent),
        sent_msgs_per_s: per_s(sent),
        delivered_msgs_per_s: per_s(delivered),
        tick_avg_us: sim.tick_avg_us,
        tick_min_us: sim.tick_min_us,
        tick_max_us: sim.tick_max_us,
        tick_stdev_us: sim.tick_stdev_us,
        ticks_within_budget_pct: stats::pct(sim.ticks - sim.overruns, sim.ticks),
        overrun_ticks: sim.overruns,
        server_rss_delta_bytes: rss_before.zip(rss_after).map(|(b, a)| a as i64 - b as i64),
    })
}

//! Burst: one client sends `count` messages of `payload` bytes as fast as
//! it can; the receiving side records when each one arrives. Delivery
//! percentiles are times from the first send to the arrivals.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::bulk;
use super::endpoint::{Arrivals, Ctx, Endpoint, PLAYER_MOVE};
use super::progress;
use super::raw::{self, RawClient, RawServer, Reads};
use crate::cmd::bench::model::{BurstFigures, BurstRun};
use crate::cmd::bench::stats;

/// The burst knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub count: u64,
    pub payload: usize,
}

/// Arrival times sampled per run: the delivery quantiles to 0.01 %.
const SAMPLES: u64 = 10_000;

/// One burst run.
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<BurstRun> {
    let arrivals = Arrivals::expecting(k.count, SAMPLES);
    let ep = Endpoint::open(ctx, &arrivals)?;
    let client = ep.connect(ctx, &arrivals)?;
    ep.wait_clients(1, ctx.conn.handshake_timeout + Duration::from_secs(5))?;
    let peer = client.peer().context("the connection closed before the burst")?;
    let payload = vec![b'X'; k.payload];

    let bar = progress::bar(k.count, label);
    bar.set_message("sending");
    let t0 = arrivals.now_ns();
    let start = Instant::now();
    let (mut sent, mut errors) = (0u64, 0u64);
    // Pipelined: the frames go out in large writes, not one per message.
    let mut batch = peer.pipeline();
    for i in 0..k.count {
        match batch.send(PLAYER_MOVE, &payload) {
            Ok(_) => sent += 1,
            Err(_) if !peer.is_open() => {
                errors += k.count - i;
                break;
            }
            Err(_) => errors += 1,
        }
        if i % 1024 == 0 {
            bar.set_position(i);
        }
    }
    drop(batch);
    let send_took = start.elapsed();
    bar.set_message("receiving");
    arrivals.wait_for(k.count, ctx.drain_timeout, &bar);
    bar.finish_and_clear();
    let figures = figures(ctx, k, sent, errors, send_took, &arrivals, t0);
    drop(client);
    drop(ep);

    let raw = if ctx.baseline { Some(raw_baseline(ctx, k, label)?) } else { None };
    let efficiency = raw.as_ref().and_then(|r| {
        (r.recv_msgs_per_s > 0.0).then(|| figures.recv_msgs_per_s / r.recv_msgs_per_s)
    });
    let bulk = if ctx.baseline {
        let frame = raw::frame(ctx.wire, PLAYER_MOVE, k.payload, b'X')?;
        Some(bulk::run(ctx, label, &frame, 1, k.count)?)
    } else {
        None
    };
    let efficiency_vs_bulk = bulk::efficiency(figures.recv_msgs_per_s, bulk.as_ref());
    Ok(BurstRun { figures, raw, efficiency, bulk, efficiency_vs_bulk })
}

fn figures(
    ctx: &Ctx,
    k: &Knobs,
    sent: u64,
    errors: u64,
    send_took: Duration,
    a: &Arrivals,
    t0: u64,
) -> BurstFigures {
    let delivered = a.count();
    let recv_s = a.last_ns().map_or(0.0, |l| l.saturating_sub(t0) as f64 / 1e9);
    let per_s = |n: f64| if recv_s > 0.0 { n / recv_s } else { 0.0 };
    let delays = a.delays_since(t0);
    let send_s = send_took.as_secs_f64();
    BurstFigures {
        count: k.count,
        payload_bytes: k.payload as u64,
        sent,
        send_errors: errors,
        delivered,
        lost: k.count.saturating_sub(delivered),
        success_pct: stats::pct(delivered, k.count),
        send_duration_s: send_s,
        send_msgs_per_s: if send_s > 0.0 { sent as f64 / send_s } else { 0.0 },
        recv_duration_s: recv_s,
        recv_msgs_per_s: per_s(delivered as f64),
        payload_mib_per_s: per_s((delivered * k.payload as u64) as f64) / 1_048_576.0,
        wire_mib_per_s: per_s((delivered * (ctx.wire.header_len() + k.payload) as u64) as f64)
            / 1_048_576.0,
        delivery_first_us: stats::quantile_sorted_us(&delays, 0.0),
        delivery_p50_us: stats::quantile_sorted_us(&delays, 0.50),
        delivery_p90_us: stats::quantile_sorted_us(&delays, 0.90),
        delivery_p99_us: stats::quantile_sorted_us(&delays, 0.99),
        delivery_max_us: stats::quantile_sorted_us(&delays, 1.0),
    }
}

fn raw_baseline(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<BurstFigures> {
    let arrivals = Arrivals::expecting(k.count, SAMPLES);
    let (server, echoes) = RawServer::for_run(ctx, &arrivals, Reads::EACH)?;
    let client = RawClient::connect(server.addr(), ctx.wire, echoes, Reads::EACH)
        .context("cannot connect to the raw-TCP server")?;
    let frame = raw::frame(ctx.wire, PLAYER_MOVE, k.payload, b'X')?;
    let bar = progress::bar(k.count, &format!("{label} (raw)"));
    bar.set_message("sending");
    let t0 = arrivals.now_ns();
    let start = Instant::now();
    let mut sent = 0u64;
    for i in 0..k.count {
        if client.send(&frame).is_err() {
            break;
        }
        sent += 1;
        if i % 1024 == 0 {
            bar.set_position(i);
        }
    }
    let send_took = start.elapsed();
    bar.set_message("receiving");
    arrivals.wait_for(k.count, ctx.drain_timeout, &bar);
    bar.finish_and_clear();
    Ok(figures(ctx, k, sent, k.count - sent, send_took, &arrivals, t0))
}

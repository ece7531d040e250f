//! Stress: N clients, each on its own thread, send M messages at once
//! (released together by a barrier). The receiving side counts; each
//! client's own send rate shows how fairly the sockets were served.

use std::time::Duration;

use anyhow::Context;

use super::bulk;
use super::endpoint::{Arrivals, Ctx, Endpoint, PLAYER_MOVE};
use super::progress;
use super::raw::{self, RawClient, RawServer, Reads};
use super::release::{fire, Sent};
use crate::cmd::bench::model::{StressFigures, StressRun};
use crate::cmd::bench::stats::{self, Moments};

/// The stress knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub clients: u32,
    pub msgs: u64,
}

/// Payload of each message (a PLAYER_MOVE).
const PAYLOAD: usize = 32;

/// One stress run.
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<StressRun> {
    // Only the first and last arrivals' times are used.
    let arrivals = Arrivals::expecting(u64::from(k.clients) * k.msgs, 1);
    let ep = Endpoint::open(ctx, &arrivals)?;
    let bar = progress::bar(u64::from(k.clients), label);
    bar.set_message("connecting");
    let mut clients = Vec::with_capacity(k.clients as usize);
    for _ in 0..k.clients {
        clients.push(ep.connect(ctx, &arrivals)?);
        bar.inc(1);
    }
    ep.wait_clients(k.clients as usize, ctx.conn.handshake_timeout + Duration::from_secs(10))?;
    let peers = clients
        .iter()
        .map(|c| c.peer().context("a client lost its connection before the stress"))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let total = u64::from(k.clients) * k.msgs;
    bar.set_length(total);
    bar.set_position(0);
    bar.set_message("sending");
    let payload = [0u8; PAYLOAD];
    let (per_client, send_phase, t0) = fire(&arrivals, peers.len(), |i| {
        let p = &peers[i];
        let (mut sent, mut errors) = (0, 0);
        // Pipelined: the frames go out in large writes (flushed on drop).
        let mut batch = p.pipeline();
        for m in 0..k.msgs {
            match batch.send(PLAYER_MOVE, &payload) {
                Ok(_) => sent += 1,
                Err(_) if !p.is_open() => {
                    errors += k.msgs - m;
                    break;
                }
                Err(_) => errors += 1,
            }
        }
        (sent, errors)
    });
    bar.set_message("receiving");
    arrivals.wait_for(total, ctx.drain_timeout, &bar);
    bar.finish_and_clear();
    let figures = figures(k, &per_client, send_phase, &arrivals, t0);
    drop(peers);
    drop(clients);
    drop(ep);

    let raw = if ctx.baseline { Some(raw_baseline(ctx, k, label)?) } else { None };
    let efficiency = raw.as_ref().and_then(|r| {
        (r.aggregate_msgs_per_s > 0.0)
            .then(|| figures.aggregate_msgs_per_s / r.aggregate_msgs_per_s)
    });
    let bulk = if ctx.baseline {
        let frame = raw::frame(ctx.wire, PLAYER_MOVE, PAYLOAD, 0)?;
        Some(bulk::run(ctx, label, &frame, k.clients, k.msgs)?)
    } else {
        None
    };
    let efficiency_vs_bulk = bulk::efficiency(figures.aggregate_msgs_per_s, bulk.as_ref());
    Ok(StressRun { figures, raw, efficiency, bulk, efficiency_vs_bulk })
}

fn figures(k: &Knobs, per: &[Sent], send_phase: Duration, a: &Arrivals, t0: u64) -> StressFigures {
    let expected = u64::from(k.clients) * k.msgs;
    let delivered = a.count();
    let total_s = a.last_ns().map_or(0.0, |l| l.saturating_sub(t0) as f64 / 1e9);
    let rates: Vec<f64> = per
        .iter()
        .filter(|p| p.took > Duration::ZERO)
        .map(|p| p.sent as f64 / p.took.as_secs_f64())
        .collect();
    let m = Moments::of(&rates);
    StressFigures {
        clients: k.clients,
        msgs_per_client: k.msgs,
        sent: per.iter().map(|p| p.sent).sum(),
        send_errors: per.iter().map(|p| p.errors).sum(),
        delivered,
        lost: expected.saturating_sub(delivered),
        success_pct: stats::pct(delivered, expected),
        send_phase_s: send_phase.as_secs_f64(),
        drain_s: (total_s - send_phase.as_secs_f64()).max(0.0),
        total_s,
        aggregate_msgs_per_s: if total_s > 0.0 { delivered as f64 / total_s } else { 0.0 },
        first_delivery_us: a.first_ns().map_or(0.0, |f| stats::us(f.saturating_sub(t0))),
        per_client_avg_msgs_per_s: m.avg,
        per_client_min_msgs_per_s: m.min,
        per_client_max_msgs_per_s: m.max,
        per_client_stdev_msgs_per_s: m.stdev,
        fairness_jain: stats::jain(&rates),
    }
}

fn raw_baseline(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<StressFigures> {
    let arrivals = Arrivals::new(0);
    let (server, echoes) = RawServer::for_run(ctx, &arrivals, Reads::EACH)?;
    let clients = (0..k.clients)
        .map(|_| RawClient::connect(server.addr(), ctx.wire, echoes.clone(), Reads::EACH))
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot connect to the raw-TCP server")?;
    let total = u64::from(k.clients) * k.msgs;
    let bar = progress::bar(total, &format!("{label} (raw)"));
    bar.set_message("sending");
    let frame = raw::frame(ctx.wire, PLAYER_MOVE, PAYLOAD, 0)?;
    let (per_client, send_phase, t0) = fire(&arrivals, clients.len(), |i| {
        let mut sent = 0;
        for _ in 0..k.msgs {
            if clients[i].send(&frame).is_err() {
                break;
            }
            sent += 1;
        }
        (sent, k.msgs - sent)
    });
    bar.set_message("receiving");
    arrivals.wait_for(total, ctx.drain_timeout, &bar);
    bar.finish_and_clear();
    Ok(figures(k, &per_client, send_phase, &arrivals, t0))
}

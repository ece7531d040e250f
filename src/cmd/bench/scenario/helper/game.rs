//! The FPS tick loop, run by the helper process over its clients (see
//! `handle` for the command that starts it and `fps` for the scenario that
//! reads its result).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use veltix::Client;

use crate::cmd::bench::scenario::endpoint::{PLAYER_MOVE, PLAYER_SHOOT};
use crate::cmd::bench::stats::Moments;

/// What the helper reports after a simulation (one JSON line).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sim {
    pub sent_move: u64,
    pub sent_shoot: u64,
    pub send_errors: u64,
    pub ticks: u64,
    pub overruns: u64,
    pub duration_ns: u64,
    pub tick_avg_us: f64,
    pub tick_min_us: f64,
    pub tick_max_us: f64,
    pub tick_stdev_us: f64,
    /// Echoes received, when the helper counts them (--target).
    pub echoes: Option<u64>,
    /// PLAYER_SHOOT echoes received.
    pub echo_shoots: Option<u64>,
}

/// Runs the tick loop over `clients` (in the helper).
pub fn simulate(clients: &[Client], rate_hz: u32, duration: Duration) -> Sim {
    let peers: Vec<_> = clients.iter().map(Client::peer).collect();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate_hz.max(1)));
    let (mv, shoot) = ([0u8; 32], [0u8; 16]);
    let mut sim = Sim::default();
    let mut ticks_us = Vec::new();
    let start = Instant::now();
    let mut next = start;
    while start.elapsed() < duration {
        let t = Instant::now();
        for (i, p) in peers.iter().enumerate() {
            let Some(p) = p else {
                sim.send_errors += 1;
                continue;
            };
            match p.send(PLAYER_MOVE, &mv) {
                Ok(_) => sim.sent_move += 1,
                Err(_) => sim.send_errors += 1,
            }
            if (i as u64 + sim.ticks).is_multiple_of(10) {
                match p.send(PLAYER_SHOOT, &shoot) {
                    Ok(_) => sim.sent_shoot += 1,
                    Err(_) => sim.send_errors += 1,
                }
            }
        }
        let took = t.elapsed();
        ticks_us.push(took.as_secs_f64() * 1e6);
        if took > interval {
            sim.overruns += 1;
        }
        sim.ticks += 1;
        // Fixed cadence; a late tick starts the next at once, without
        // bursting to catch up.
        next += interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    sim.duration_ns = start.elapsed().as_nanos() as u64;
    let m = Moments::of(&ticks_us);
    (sim.tick_avg_us, sim.tick_min_us, sim.tick_max_us, sim.tick_stdev_us) =
        (m.avg, m.min, m.max, m.stdev);
    sim
}

//! Load: requests at a constant total rate, spread over several
//! connections, with latency measured twice: from the time each request
//! was due (corrected for coordinated omission) and from the time it was
//! actually sent.
//!
//! The schedule is wrk2's: request `j` (0-based, over all connections) is
//! due at `t0 + j / rate`, and connection `i` sends requests `i`, `i + C`,
//! `i + 2C`, … one at a time. A connection sends its next request when it
//! is due or, if the previous answer came after that, at once. A server
//! that stalls therefore delays every request due during the stall; the
//! uncorrected figure counts only the one request that waited through it
//! (the coordinated omission of closed-loop benchmarks), the corrected
//! figure counts all of them, as clients arriving on schedule would have
//! seen. A request sent more than 1 ms after it was due is counted
//! `late`; none is skipped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use veltix::Peer;

use super::endpoint::{Arrivals, Ctx, Endpoint};
use super::progress;
use crate::cmd::bench::model::LoadRun;
use crate::cmd::bench::stats;
use crate::cmd::bench::units;

/// The type code of an echo request (a user type; any echo server sends
/// it back unchanged).
pub const LOAD_REQUEST: u16 = 403;

/// A request sent later than this after its due time is `late`.
const LATE: Duration = Duration::from_millis(1);

/// How often the live view is redrawn, and the window it summarises.
const LIVE_TICK: Duration = Duration::from_millis(250);
const LIVE_WINDOW: usize = 4;

/// What each request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A PING, answered with a PONG.
    Ping,
    /// A request of `payload` bytes that the server sends back.
    Echo,
}

impl Message {
    pub fn name(self) -> &'static str {
        match self {
            Message::Ping => "ping",
            Message::Echo => "echo",
        }
    }
}

/// The load knobs.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Requests per second, over all connections.
    pub rate: u64,
    pub connections: u32,
    pub duration: Duration,
    pub message: Message,
    /// Payload of an echo request.
    pub payload: usize,
    /// Time allowed for one answer; a later one is an error.
    pub timeout: Duration,
    /// Show the live view (rate, errors, p50/p99 of the last second) on
    /// stderr.
    pub live: bool,
}

/// One load run.
pub fn run(ctx: &Ctx, k: &Knobs, label: &str) -> anyhow::Result<LoadRun> {
    anyhow::ensure!(k.rate > 0 && k.connections > 0, "the load needs a rate and a connection");
    let scheduled = (k.rate as f64 * k.duration.as_secs_f64()).round() as u64;
    anyhow::ensure!(scheduled > 0, "{} req/s for {:?} schedules no request", k.rate, k.duration);
    let arrivals = Arrivals::new(0);
    let ep = match k.message {
        Message::Ping => Endpoint::open(ctx, &arrivals)?,
        Message::Echo => Endpoint::open_echo(ctx)?,
    };
    let clients = (0..k.connections)
        .map(|_| ep.connect(ctx, &arrivals))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ep.wait_clients(clients.len(), ctx.conn.handshake_timeout + Duration::from_secs(5))?;
    let peers = clients
        .iter()
        .map(|c| c.peer().context("a connection closed before the load started"))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let plan = Plan {
        t0: Instant::now() + Duration::from_millis(20),
        interval_ns: 1e9 / k.rate as f64,
        scheduled,
        stride: u64::from(k.connections),
    };
    let live = Live::new(k.live);
    let bar =
        if k.live { progress::bar(scheduled, label) } else { indicatif::ProgressBar::hidden() };
    let payload = vec![0x5au8; if k.message == Message::Echo { k.payload } else { 0 }];
    let tallies = std::thread::scope(|s| {
        let workers: Vec<_> = peers
            .iter()
            .enumerate()
            .map(|(i, peer)| {
                let (plan, live, payload) = (&plan, &live, &payload);
                s.spawn(move || worker(i as u64, plan, peer, k, payload, live))
            })
            .collect();
        if k.live {
            live.show(&bar, &workers);
        }
        workers.into_iter().map(|w| w.join()).collect::<Vec<_>>()
    });
    bar.finish_and_clear();
    let mut total = Tally::new();
    for t in tallies {
        match t {
            Ok(t) => total.add(t)?,
            Err(_) => anyhow::bail!("a load connection's thread panicked"),
        }
    }
    drop(clients);
    drop(ep);

    let end = total.last_done.unwrap_or_else(Instant::now);
    let duration_s = end.saturating_duration_since(plan.t0).as_secs_f64();
    Ok(LoadRun {
        message: k.message.name().into(),
        payload_bytes: payload.len() as u64,
        connections: k.connections,
        scheduled,
        target_msgs_per_s: k.rate as f64,
        achieved_msgs_per_s: if duration_s > 0.0 {
            total.completed as f64 / duration_s
        } else {
            0.0
        },
        sent: total.sent,
        completed: total.completed,
        errors: total.errors,
        late: total.late,
        duration_s,
        corrected: stats::load_latency(&total.corrected),
        uncorrected: stats::load_latency(&total.uncorrected),
    })
}

/// When each request is due.
struct Plan {
    t0: Instant,
    interval_ns: f64,
    scheduled: u64,
    /// Connections: each sends every `stride`-th request.
    stride: u64,
}

impl Plan {
    fn due(&self, j: u64) -> Instant {
        self.t0 + Duration::from_nanos((j as f64 * self.interval_ns).round() as u64)
    }
}

/// One connection's figures.
struct Tally {
    corrected: Histogram<u64>,
    uncorrected: Histogram<u64>,
    sent: u64,
    completed: u64,
    errors: u64,
    late: u64,
    last_done: Option<Instant>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            corrected: stats::histogram(),
            uncorrected: stats::histogram(),
            sent: 0,
            completed: 0,
            errors: 0,
            late: 0,
            last_done: None,
        }
    }

    fn add(&mut self, t: Tally) -> anyhow::Result<()> {
        self.corrected = stats::merge_histograms([&self.corrected, &t.corrected])?;
        self.uncorrected = stats::merge_histograms([&self.uncorrected, &t.uncorrected])?;
        self.sent += t.sent;
        self.completed += t.completed;
        self.errors += t.errors;
        self.late += t.late;
        self.last_done = self.last_done.max(t.last_done);
        Ok(())
    }
}

/// Connection `i`'s requests, each at its due time or at once if late.
fn worker(i: u64, plan: &Plan, peer: &Peer, k: &Knobs, payload: &[u8], live: &Live) -> Tally {
    let mut t = Tally::new();
    let mut j = i;
    while j < plan.scheduled {
        let due = plan.due(j);
        j += plan.stride;
        if !peer.is_open() {
            // Never sent: its connection is gone.
            t.errors += 1;
            live.failed();
            continue;
        }
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let sent_at = Instant::now();
        if sent_at.saturating_duration_since(due) > LATE {
            t.late += 1;
        }
        t.sent += 1;
        let answered = match k.message {
            Message::Ping => peer.ping(k.timeout).is_ok(),
            Message::Echo => peer.send_and_wait(LOAD_REQUEST, payload, k.timeout).is_ok(),
        };
        let done = Instant::now();
        if !answered {
            t.errors += 1;
            live.failed();
            continue;
        }
        let corrected = done.saturating_duration_since(due).as_nanos() as u64;
        let uncorrected = done.saturating_duration_since(sent_at).as_nanos() as u64;
        t.corrected.saturating_record(corrected.max(1));
        t.uncorrected.saturating_record(uncorrected.max(1));
        t.completed += 1;
        t.last_done = Some(done);
        live.answered(corrected);
    }
    t
}

/// What the workers tell the live view: counters and the corrected
/// latencies since its last look. Off (no lock, no count) without a view.
struct Live {
    on: bool,
    completed: AtomicU64,
    errors: AtomicU64,
    window: Mutex<Histogram<u64>>,
}

impl Live {
    fn new(on: bool) -> Live {
        Live {
            on,
            completed: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            window: Mutex::new(stats::histogram()),
        }
    }

    fn answered(&self, corrected_ns: u64) {
        if !self.on {
            return;
        }
        self.completed.fetch_add(1, Ordering::Relaxed);
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        w.saturating_record(corrected_ns.max(1));
    }

    fn failed(&self) {
        if self.on {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Redraws the bar every [`LIVE_TICK`] until every worker finished:
    /// answers per second, errors, and the corrected p50 / p99, all over
    /// the last second.
    fn show<T>(&self, bar: &indicatif::ProgressBar, workers: &[std::thread::ScopedJoinHandle<T>]) {
        let mut recent: std::collections::VecDeque<(Instant, u64, Histogram<u64>)> =
            std::collections::VecDeque::new();
        let mut last = Instant::now();
        while !workers.iter().all(|w| w.is_finished()) {
            std::thread::sleep(LIVE_TICK);
            let h = {
                let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
                let empty = stats::histogram();
                std::mem::replace(&mut *w, empty)
            };
            let now = Instant::now();
            recent.push_back((last, h.len(), h));
            last = now;
            while recent.len() > LIVE_WINDOW {
                recent.pop_front();
            }
            let since = recent.front().map_or(now, |r| r.0);
            let n: u64 = recent.iter().map(|r| r.1).sum();
            let secs = now.saturating_duration_since(since).as_secs_f64();
            let merged = stats::merge_histograms(recent.iter().map(|r| &r.2)).ok();
            let q = |q: f64| merged.as_ref().map_or(0.0, |m| stats::us(m.value_at_quantile(q)));
            let errors = self.errors.load(Ordering::Relaxed);
            bar.set_position(self.completed.load(Ordering::Relaxed) + errors);
            bar.set_message(format!(
                "{} · {} errors · last 1 s: p50 {} p99 {}",
                units::rate(if secs > 0.0 { n as f64 / secs } else { 0.0 }),
                units::group(errors),
                units::us(q(0.5)),
                units::us(q(0.99))
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_due_on_a_fixed_schedule() {
        let t0 = Instant::now();
        let plan = Plan { t0, interval_ns: 1e9 / 1000.0, scheduled: 10, stride: 3 };
        assert_eq!(plan.due(0), t0);
        assert_eq!(plan.due(7) - t0, Duration::from_millis(7));
        assert_eq!(plan.due(1000) - t0, Duration::from_secs(1));
    }

    #[test]
    fn tallies_add_up() {
        let mut a = Tally::new();
        a.corrected.saturating_record(5_000);
        a.completed = 1;
        a.sent = 2;
        a.errors = 1;
        let mut b = Tally::new();
        b.corrected.saturating_record(7_000);
        b.completed = 1;
        b.sent = 1;
        b.late = 1;
        b.last_done = Some(Instant::now());
        a.add(b).unwrap();
        assert_eq!((a.sent, a.completed, a.errors, a.late), (3, 2, 1, 1));
        assert_eq!(a.corrected.len(), 2);
        assert!(a.last_done.is_some());
    }
}

//! What the scenarios talk to: the in-process server, which counts what it
//! receives, or an external `--target` server, whose echoes the clients
//! count. Also the arrival recorder both of them feed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::ProgressBar;
use veltix::{Client, CoreKind, Server, ServerConfig, Wire};

use crate::args::{ConnArgs, WireArg};

/// PLAYER_MOVE, as in the reference's suite: 32-byte position updates.
pub const PLAYER_MOVE: u16 = 401;
/// PLAYER_SHOOT: 16-byte bullet events.
pub const PLAYER_SHOOT: u16 = 402;

/// The name of a socket core in reports. The in-process server (and the
/// in-process clients) use the core the connection settings choose; a new
/// core is one arm here.
pub fn core_name(core: CoreKind) -> &'static str {
    match core {
        CoreKind::Threads => "threads",
        CoreKind::Poll => "poll",
    }
}

/// The wire profile the whole run speaks: `--wire 1.6` or `vx` as given;
/// `auto` is 1.6 for the in-process server, and with `--target` the
/// profile a probe client detects from the target's first bytes.
pub fn settle_wire(conn: &ConnArgs, target: Option<&str>) -> anyhow::Result<Wire> {
    match (conn.wire, target) {
        (WireArg::V1_6, _) => Ok(Wire::V1_6),
        (WireArg::Vx, _) => Ok(Wire::Vx),
        (WireArg::Auto, None) => Ok(veltix::WireMode::Auto.for_server()),
        (WireArg::Auto, Some(t)) => {
            let probe = Client::connect(conn.client_config(t)?).with_context(|| {
                format!("cannot connect to {t} to learn its wire profile (--wire auto)")
            })?;
            let wire = probe.peer().map(|p| p.wire());
            probe.disconnect();
            wire.with_context(|| format!("{t} closed the probe connection at once"))
        }
    }
}

/// Settings every scenario needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The connection flags, with `wire` set to [`Ctx::wire`] (never
    /// auto), so every server, client and helper speaks it.
    pub conn: ConnArgs,
    pub target: Option<String>,
    /// The wire profile of every connection, the raw baselines' frames
    /// included.
    pub wire: Wire,
    /// The socket core of the in-process server and clients.
    pub core: CoreKind,
    /// Give up waiting for outstanding messages after this long without a
    /// new arrival.
    pub drain_timeout: Duration,
    pub baseline: bool,
}

impl Ctx {
    /// The settings of a run on `wire`.
    pub fn new(
        mut conn: ConnArgs,
        target: Option<String>,
        wire: Wire,
        drain_timeout: Duration,
        baseline: bool,
    ) -> Ctx {
        conn.wire = match wire {
            Wire::V1_6 => WireArg::V1_6,
            Wire::Vx => WireArg::Vx,
        };
        let core = conn.conn_config().core;
        Ctx { conn, target, wire, core, drain_timeout, baseline }
    }

    /// Whether delivery is counted from echoes of an external server.
    pub fn echo(&self) -> bool {
        self.target.is_some()
    }
}

/// Records when messages arrive, lock-free: a counter, the first and last
/// arrival, and arrival times in nanoseconds since the recorder was made:
/// every one (up to a capacity), or, for a recorder that knows how many
/// will come, a sample of them.
pub struct Arrivals {
    base: Instant,
    /// Arrivals numbered so far (an arrival's number picks its slot).
    taken: AtomicU64,
    /// Arrivals whose record is complete (its stores precede this count).
    count: AtomicU64,
    shoots: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
    /// 1: every arrival is timed. Otherwise only arrivals number 1,
    /// `stride`, 2 × `stride`, … and number `expected` read the clock.
    stride: u64,
    expected: u64,
    /// Arrival times; `UNSET` where none was stored.
    times: Box<[AtomicU64]>,
}

const UNSET: u64 = u64::MAX;

impl Arrivals {
    /// A recorder keeping up to `capacity` arrival times, every arrival
    /// timed.
    pub fn new(capacity: usize) -> Arc<Arrivals> {
        Arrivals::make(capacity, 1, u64::MAX)
    }

    /// A recorder for `expected` arrivals that reads the clock for about
    /// `samples` of them: the first, every (`expected` / `samples`)-th, and
    /// the last. The time the q-th fraction of the messages had arrived by
    /// is then known to 1 / `samples`, and the last arrival exactly, while
    /// the messages in between cost the recorder two atomic additions and
    /// no clock reading (the clock costs more than handling a small frame).
    pub fn expecting(expected: u64, samples: u64) -> Arc<Arrivals> {
        let stride = (expected / samples.max(1)).max(1);
        let slots = usize::try_from(expected / stride + 2).unwrap_or(usize::MAX);
        Arrivals::make(slots, stride, expected)
    }

    fn make(capacity: usize, stride: u64, expected: u64) -> Arc<Arrivals> {
        Arc::new(Arrivals {
            base: Instant::now(),
            taken: AtomicU64::new(0),
            count: AtomicU64::new(0),
            shoots: AtomicU64::new(0),
            first_ns: AtomicU64::new(u64::MAX),
            last_ns: AtomicU64::new(0),
            stride,
            expected,
            times: (0..capacity).map(|_| AtomicU64::new(UNSET)).collect(),
        })
    }

    /// Nanoseconds since the recorder was made (monotonic clock).
    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// One message of type `type_code` arrived now.
    pub fn record(&self, type_code: u16) {
        if type_code == PLAYER_SHOOT {
            self.shoots.fetch_add(1, Ordering::Relaxed);
        }
        self.record_batch(1);
    }

    /// `n` messages, none of them a PLAYER_SHOOT, arrived now (one clock
    /// reading for all: a reader that takes many frames per read stamps
    /// them once).
    pub fn record_batch(&self, n: u64) {
        if n == 0 {
            return;
        }
        // Arrivals number `before + 1` to `after`.
        let before = self.taken.fetch_add(n, Ordering::Relaxed);
        let after = before.saturating_add(n);
        let sampled = self.stride > 1;
        let last = before < self.expected && after >= self.expected;
        if !sampled || before == 0 || last || after / self.stride != before / self.stride {
            let t = self.now_ns();
            let store = |slot: u64| {
                if let Some(s) = usize::try_from(slot).ok().and_then(|i| self.times.get(i)) {
                    s.store(t, Ordering::Relaxed);
                }
            };
            if !sampled {
                (before..after.min(self.times.len() as u64)).for_each(store);
            } else {
                // Slot 0: arrival 1; slot j: arrival j × stride; the last
                // slot: arrival `expected`.
                if before == 0 {
                    store(0);
                }
                (before / self.stride + 1..=after / self.stride).for_each(store);
                if last {
                    store(self.times.len() as u64 - 1);
                }
            }
            self.first_ns.fetch_min(t, Ordering::Relaxed);
            self.last_ns.fetch_max(t, Ordering::Relaxed);
        }
        // Release: whoever sees this count sees the stores above.
        self.count.fetch_add(n, Ordering::Release);
    }

    /// Messages arrived so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// PLAYER_SHOOT messages arrived so far.
    pub fn shoots(&self) -> u64 {
        self.shoots.load(Ordering::Relaxed)
    }

    /// First arrival (ns since creation), if any.
    pub fn first_ns(&self) -> Option<u64> {
        let v = self.first_ns.load(Ordering::Relaxed);
        (v != u64::MAX).then_some(v)
    }

    /// Last arrival (ns since creation), if any.
    pub fn last_ns(&self) -> Option<u64> {
        self.first_ns().map(|_| self.last_ns.load(Ordering::Relaxed))
    }

    /// Arrival times recorded (all, or the sample), minus `t0_ns`, sorted.
    pub fn delays_since(&self, t0_ns: u64) -> Vec<u64> {
        // Acquire: the stores of every counted arrival are visible.
        let _ = self.count();
        let mut v: Vec<u64> = self
            .times
            .iter()
            .map(|t| t.load(Ordering::Relaxed))
            .filter(|&t| t != UNSET)
            .map(|t| t.saturating_sub(t0_ns))
            .collect();
        v.sort_unstable();
        v
    }

    /// Waits until `expected` messages arrived, or until nothing new has
    /// arrived for `stall`. Returns whether all arrived.
    pub fn wait_for(&self, expected: u64, stall: Duration, bar: &ProgressBar) -> bool {
        let mut seen = self.count();
        let mut last_progress = Instant::now();
        loop {
            let n = self.count();
            bar.set_position(n);
            if n >= expected {
                return true;
            }
            if n != seen {
                seen = n;
                last_progress = Instant::now();
            } else if last_progress.elapsed() >= stall {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The in-process server's settings: an ephemeral loopback port, the
/// run's connection settings and core.
fn server_config(ctx: &Ctx) -> ServerConfig {
    let mut cfg = ServerConfig::default().host("127.0.0.1").port(0);
    cfg.conn = ctx.conn.conn_config();
    cfg.conn.core = ctx.core;
    cfg
}

/// The server a scenario talks to.
pub enum Endpoint {
    /// In this process; its on-message callback feeds the recorder.
    Local(Server),
    /// `--target`: the clients count its echoes.
    Remote(String),
}

impl Endpoint {
    /// Starts the in-process server on an ephemeral loopback port, or names
    /// the target.
    pub fn open(ctx: &Ctx, arrivals: &Arc<Arrivals>) -> anyhow::Result<Endpoint> {
        if let Some(t) = &ctx.target {
            return Ok(Endpoint::Remote(t.clone()));
        }
        let a = arrivals.clone();
        let server = Server::builder(server_config(ctx))
            .on_message(move |_, frame| a.record(frame.type_code))
            .start()
            .context("cannot start the in-process server")?;
        Ok(Endpoint::Local(server))
    }

    /// Starts an in-process server that answers every message to its
    /// sender (same type, request id and payload), or names the target
    /// (an echo server).
    pub fn open_echo(ctx: &Ctx) -> anyhow::Result<Endpoint> {
        if let Some(t) = &ctx.target {
            return Ok(Endpoint::Remote(t.clone()));
        }
        let server = Server::builder(server_config(ctx))
            .on_message(|peer, frame| {
                if let Err(e) = peer.reply(&frame, &frame.payload) {
                    log::debug!("cannot echo to {}: {e}", peer.addr());
                }
            })
            .start()
            .context("cannot start the in-process echo server")?;
        Ok(Endpoint::Local(server))
    }

    /// `host:port` to connect to.
    pub fn addr(&self) -> String {
        match self {
            Endpoint::Local(s) => s.local_addr().to_string(),
            Endpoint::Remote(a) => a.clone(),
        }
    }

    /// The in-process server.
    pub fn server(&self) -> Option<&Server> {
        match self {
            Endpoint::Local(s) => Some(s),
            Endpoint::Remote(_) => None,
        }
    }

    /// A client of this endpoint; against a target, its echoes feed `arrivals`.
    pub fn connect(&self, ctx: &Ctx, arrivals: &Arc<Arrivals>) -> anyhow::Result<Client> {
        let addr = self.addr();
        let builder = Client::builder(ctx.conn.client_config(&addr)?);
        let builder = match self {
            Endpoint::Remote(_) => {
                let a = arrivals.clone();
                builder.on_message(move |_, frame| a.record(frame.type_code))
            }
            Endpoint::Local(_) => builder,
        };
        builder.connect().with_context(|| format!("cannot connect to {addr}"))
    }

    /// Waits until the in-process server has `n` established clients (the
    /// client side finishes its handshake first). Immediate for a target.
    pub fn wait_clients(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        let Endpoint::Local(s) = self else { return Ok(()) };
        let deadline = Instant::now() + timeout;
        while s.client_count() != n {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the server has {} clients, expected {n} after {timeout:?}",
                s.client_count()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_keep_times_up_to_capacity() {
        let a = Arrivals::new(2);
        a.record(PLAYER_MOVE);
        a.record(PLAYER_SHOOT);
        a.record(PLAYER_MOVE);
        assert_eq!(a.count(), 3);
        assert_eq!(a.shoots(), 1);
        assert_eq!(a.delays_since(0).len(), 2);
        assert!(a.first_ns().unwrap() <= a.last_ns().unwrap());
        assert!(a.wait_for(3, Duration::ZERO, &ProgressBar::hidden()));
        assert!(!a.wait_for(4, Duration::from_millis(5), &ProgressBar::hidden()));
    }

    #[test]
    fn a_sampled_recorder_times_the_first_every_stride_th_and_the_last() {
        // 1,003 expected, about 100 samples: stride 10.
        let a = Arrivals::expecting(1003, 100);
        for _ in 0..1000 {
            a.record(PLAYER_MOVE);
        }
        assert_eq!(a.delays_since(0).len(), 1 + 100);
        // A batch over the expected count stamps the last slot.
        a.record_batch(3);
        let d = a.delays_since(0);
        assert_eq!(d.len(), 1 + 100 + 1);
        assert_eq!(a.count(), 1003);
        assert_eq!(a.last_ns(), d.last().copied());
        assert_eq!(a.first_ns(), d.first().copied());
        // Later arrivals (more than expected) are counted, not timed.
        a.record(PLAYER_MOVE);
        assert_eq!(a.count(), 1004);
        assert_eq!(a.delays_since(0).len(), d.len());
    }

    #[test]
    fn the_sample_is_the_times_of_every_stride_th_arrival() {
        let a = Arrivals::expecting(100_000, 1000);
        let mut marks = Vec::new();
        for i in 1..=100_000u64 {
            a.record(PLAYER_MOVE);
            if i == 1 || i % 100 == 0 {
                marks.push(a.last_ns().unwrap());
            }
        }
        marks.push(a.last_ns().unwrap());
        // Arrival 1, arrivals 100, 200, … 100,000, and the last again: the
        // sample's q-quantile is the time the q-th fraction had arrived.
        assert_eq!(a.delays_since(0), marks);
    }

    #[test]
    fn a_batch_counts_every_message_at_one_time() {
        let a = Arrivals::new(4);
        a.record(PLAYER_MOVE);
        a.record_batch(5);
        a.record_batch(0);
        assert_eq!(a.count(), 6);
        assert_eq!(a.shoots(), 0);
        // Four slots: the single arrival and the first three of the batch,
        // which share one time.
        let d = a.delays_since(0);
        assert_eq!(d.len(), 4);
        assert_eq!((d[1], d[2]), (d[3], d[3]));
        assert_eq!(a.last_ns(), Some(d[3]));
    }
}

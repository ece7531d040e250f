//! Senders released together: `n` threads wait at a barrier, the clock
//! starts, and all of them send at once (the stress scenario's clients,
//! and the writers of its raw and bulk baselines).

use std::sync::Barrier;
use std::time::{Duration, Instant};

use super::endpoint::Arrivals;

/// What one sending thread did.
pub struct Sent {
    pub sent: u64,
    pub errors: u64,
    pub took: Duration,
}

/// Runs `send(i)` on `n` threads released together; returns what each did,
/// how long until all were done, and the start (ns on the recorder's clock).
pub fn fire(
    arrivals: &Arrivals,
    n: usize,
    send: impl Fn(usize) -> (u64, u64) + Sync,
) -> (Vec<Sent>, Duration, u64) {
    let barrier = Barrier::new(n + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, send) = (&barrier, &send);
                s.spawn(move || {
                    barrier.wait();
                    let t = Instant::now();
                    let (sent, errors) = send(i);
                    Sent { sent, errors, took: t.elapsed() }
                })
            })
            .collect();
        // The clock starts before the release, so no send can precede it.
        let t0 = arrivals.now_ns();
        let start = Instant::now();
        barrier.wait();
        let done: Vec<Sent> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Sent { sent: 0, errors: 0, took: Duration::ZERO }))
            .collect();
        (done, start.elapsed(), t0)
    })
}

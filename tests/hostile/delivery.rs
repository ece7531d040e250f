//! Nothing lost, nothing reordered: many clients send numbered messages
//! through `veltix serve --mode echo` and `--mode broadcast`, and every
//! client must get every message meant for it exactly once, in the order
//! each sender sent them.
//!
//! Echo: 20 clients x 2,000 messages, 40,000 deliveries. Broadcast fans
//! each message out to 19 clients, so 20 x 500 already makes 190,000
//! deliveries (all senders at once); 2,000 each would take over 10 s in a
//! debug build.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use veltix::{Client, CoreKind};

use crate::target::{assert_answers, Kind, Mode, Opts, Target};

const CLIENTS: u32 = 20;

/// What one client received: (sender, sequence number) in arrival order.
#[derive(Default)]
struct Got {
    seen: Mutex<Vec<(u32, u32)>>,
    grew: Condvar,
}

impl Got {
    fn wait_for(&self, n: usize, patience: Duration) -> Vec<(u32, u32)> {
        let deadline = Instant::now() + patience;
        let mut seen = self.seen.lock().unwrap();
        while seen.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "got {} of {n} messages", seen.len());
            seen = self.grew.wait_timeout(seen, left).unwrap().0;
        }
        seen.clone()
    }
}

fn run(core: CoreKind, mode: Mode, messages: u32) {
    let t = Target::start(Kind::Bin, core, &Opts::default().mode(mode));
    let mut clients = Vec::new();
    let mut gots = Vec::new();
    for _ in 0..CLIENTS {
        let got = Arc::new(Got::default());
        let g = got.clone();
        let c = Client::builder(t.client_config())
            .on_message(move |_, f| {
                let sender = u32::from_be_bytes(f.payload[..4].try_into().unwrap());
                let seq = u32::from_be_bytes(f.payload[4..8].try_into().unwrap());
                g.seen.lock().unwrap().push((sender, seq));
                g.grew.notify_all();
            })
            .connect()
            .expect("connect");
        clients.push(Arc::new(c));
        gots.push(got);
    }
    // Everyone is established before anyone speaks (a broadcast only
    // reaches the clients connected when it is sent).
    for c in &clients {
        assert_answers(c, "before sending");
    }
    let senders: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut body = [0u8; 8];
                body[..4].copy_from_slice(&(i as u32).to_be_bytes());
                for seq in 0..messages {
                    body[4..].copy_from_slice(&seq.to_be_bytes());
                    c.send(200, &body).expect("send");
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let per_client = match mode {
        Mode::Echo => messages as usize,
        _ => ((CLIENTS - 1) * messages) as usize,
    };
    for (me, got) in gots.iter().enumerate() {
        let seen = got.wait_for(per_client, Duration::from_secs(30));
        let mut by_sender = vec![Vec::new(); CLIENTS as usize];
        for (sender, seq) in seen {
            by_sender[sender as usize].push(seq);
        }
        for (sender, seqs) in by_sender.iter().enumerate() {
            let meant_for_me = match mode {
                Mode::Echo => sender == me,
                _ => sender != me,
            };
            let want: Vec<u32> = if meant_for_me { (0..messages).collect() } else { vec![] };
            if *seqs != want {
                let first_bad = seqs.iter().zip(&want).position(|(a, b)| a != b);
                panic!(
                    "client {me} got {} messages from client {sender} (want {}); first out of \
                     place at index {first_bad:?}",
                    seqs.len(),
                    want.len()
                );
            }
        }
    }
    // Nothing more trickles in afterwards.
    for c in &clients {
        assert_answers(c, "after the run");
    }
    for (me, got) in gots.iter().enumerate() {
        assert_eq!(got.seen.lock().unwrap().len(), per_client, "client {me} got extra messages");
    }
}

#[test]
fn echo_threads() {
    run(CoreKind::Threads, Mode::Echo, 2_000);
}

#[test]
fn echo_poll() {
    run(CoreKind::Poll, Mode::Echo, 2_000);
}

#[test]
fn broadcast_threads() {
    run(CoreKind::Threads, Mode::Broadcast, 500);
}

#[test]
fn broadcast_poll() {
    run(CoreKind::Poll, Mode::Broadcast, 500);
}

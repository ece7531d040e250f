//! The server-side cases. Each runs against one target (see
//! `tests/hostile/main.rs`, which runs every case on every target) and checks
//! three things: (a) a well-behaved client's ping succeeds during and after
//! the attack; (b) the server's RSS grows by less than [`RSS_BOUND`];
//! (c) a log line names the hostile peer's ip:port and the fault.

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use veltix::{types, Client, CoreKind, Error, RequestId};

use crate::common::wait_until;
use crate::peer::{frame, garbage, header, End, Raw};
use crate::target::{assert_answers, Kind, Mode, Opts, Target, PATIENCE};

/// How much the server's RSS may grow during one attack. The attacks that
/// matter here would allocate gigabytes (a 4 GiB frame) or grow without
/// end (a slow reader's queue) if unchecked; a healthy server grows by a
/// few MiB at most (thread stacks, buffers). 64 MiB sits far from both, so
/// the check neither flakes nor misses a real leak.
pub const RSS_BOUND: u64 = 64 << 20;

/// A target, a well-behaved client already talking to it, and the RSS
/// before the attack.
fn setup(kind: Kind, core: CoreKind, opts: &Opts) -> (Target, Client, Option<u64>) {
    let t = Target::start(kind, core, opts);
    let good = t.client();
    assert_answers(&good, "before the attack");
    let rss = t.rss();
    (t, good, rss)
}

pub fn crc_mismatch(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    let mut bad = frame(200, 77, b"abc");
    bad[22] ^= 0xff;
    p.send(&bad);
    // The bad frame is skipped whole: the stream stays in sync.
    p.send_frame(200, 78, b"still in sync");
    let got: Vec<_> = (0..2).filter_map(|_| p.frame_of_any(&[types::ERROR, 200])).collect();
    let err = got.iter().find(|f| f.type_code == types::ERROR).expect("an ERROR for the bad frame");
    assert_eq!(err.request_id, RequestId::from(77), "the ERROR names the bad frame's id");
    assert!(String::from_utf8_lossy(&err.payload).contains("CRC mismatch"), "{err:?}");
    let echo = got.iter().find(|f| f.type_code == 200).expect("the next frame is echoed");
    assert_eq!((echo.request_id, &echo.payload[..]), (RequestId::from(78), &b"still in sync"[..]));
    assert_answers(&good, "after a CRC mismatch");
    t.expect_log(&p.local, &["CRC mismatch"]);
    t.assert_rss_within(rss, RSS_BOUND, "CRC mismatch");
}

pub fn truncated_frame_then_close(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    let f = frame(200, 5, &[7; 100]);
    p.send(&f[..60]);
    assert_answers(&good, "while a frame is half sent");
    p.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let (_, end) = p.until_end(PATIENCE);
    assert_ne!(end, End::Open, "the server kept a half-closed peer");
    t.expect_log(&p.local, &["disconnected", "closed", "ended"]);
    assert_answers(&good, "after a truncated frame");
    t.assert_rss_within(rss, RSS_BOUND, "truncated frame");
}

/// The log line for a peer that closed inside a frame says so: the bytes
/// of the partial frame were lost, which is worth knowing.
pub fn truncated_frame_is_named_in_the_log(kind: Kind, core: CoreKind) {
    let (t, _good, _) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    p.send(&frame(200, 5, &[7; 100])[..60]);
    p.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let _ = p.until_end(PATIENCE);
    t.expect_log(&p.local, &["truncated", "mid-frame", "partial", "incomplete"]);
}

pub fn random_garbage(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    // Before the handshake and after it.
    let (mut early, _) = Raw::greeted(t.addr);
    let _ = early.try_send(&garbage(0x5eed, 4096));
    early.expect_error_and_close("exceeds the limit");
    let mut late = Raw::established(t.addr);
    let _ = late.try_send(&garbage(0xbad5eed, 4096));
    late.expect_error_and_close("exceeds the limit");
    assert_answers(&good, "after random garbage");
    t.expect_log(&early.local, &["exceeds the limit"]);
    t.expect_log(&late.local, &["exceeds the limit"]);
    t.assert_rss_within(rss, RSS_BOUND, "random garbage");
}

pub fn header_declaring_4_gib(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    p.send(&header(200, 9, u32::MAX));
    // The header is judged before a byte of payload is buffered.
    let text = p.expect_error_and_close("exceeds the limit");
    assert!(text.contains("4294967295 payload"), "{text}");
    assert_answers(&good, "after a 4 GiB header");
    t.expect_log(&p.local, &["exceeds the limit"]);
    t.assert_rss_within(rss, RSS_BOUND, "4 GiB header");
}

/// A server configured to take frames of up to 4 GiB is sent the header of
/// one, then only 4 MiB of it: it must not reserve the 4 GiB up front.
pub fn header_declaring_4_gib_under_a_4_gib_limit(kind: Kind, core: CoreKind) {
    let opts = Opts::default().max_message_size(4 << 30);
    let (t, good, rss) = setup(kind, core, &opts);
    let mut p = Raw::established(t.addr);
    p.send(&header(200, 9, u32::MAX - 1000));
    let chunk = vec![0x5a; 64 * 1024];
    for _ in 0..64 {
        p.send(&chunk);
    }
    assert_answers(&good, "while a 4 GiB frame trickles in");
    // Judge the memory once the server has read all 4 MiB.
    wait_until("the server has read the 4 MiB", || t.unread_from(&p.local) == Some(0));
    t.assert_rss_within(rss, RSS_BOUND, "4 MiB of a 4 GiB frame");
    p.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let (_, end) = p.until_end(PATIENCE);
    assert_ne!(end, End::Open);
    t.expect_log(&p.local, &["disconnected", "closed", "ended"]);
    assert_answers(&good, "after a 4 GiB frame was abandoned");
}

pub fn just_over_max_message_size(kind: Kind, core: CoreKind) {
    const MAX: usize = 64 * 1024;
    let (t, good, rss) = setup(kind, core, &Opts::default().max_message_size(MAX as u64));
    let mut p = Raw::established(t.addr);
    // Exactly at the limit (header included) is accepted...
    p.send_frame(200, 1, &vec![1; MAX - 22]);
    let echo = p.frame_of(200, PATIENCE).expect("a frame at the limit is echoed");
    assert_eq!(echo.payload.len(), MAX - 22);
    // ...one byte more is not.
    p.send_frame(200, 2, &vec![2; MAX - 21]);
    let text = p.expect_error_and_close(&format!("limit of {MAX} bytes"));
    assert!(text.contains(&format!("frame of {} bytes", MAX + 1)), "{text}");
    assert_answers(&good, "after an oversized frame");
    t.expect_log(&p.local, &[&format!("limit of {MAX} bytes")]);
    t.assert_rss_within(rss, RSS_BOUND, "oversized frame");
}

/// Codes are open: a code nobody registered is a message like any other.
pub fn unknown_type_code(kind: Kind, core: CoreKind) {
    let (t, good, _) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    for (i, code) in [65535u16, 499, 1234, 150].into_iter().enumerate() {
        p.send_frame(code, 100 + i as u32, &code.to_be_bytes());
        let echo = p.frame_of(code, PATIENCE).unwrap_or_else(|| panic!("type {code} echoed"));
        assert_eq!(
            (echo.request_id, echo.payload),
            (RequestId::from(100 + i as u32), code.to_be_bytes().to_vec())
        );
    }
    assert_answers(&good, "after unknown type codes");
}

pub fn zero_length_payload(kind: Kind, core: CoreKind) {
    let (t, good, _) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    p.send_frame(200, 42, b"");
    let echo = p.frame_of(200, PATIENCE).expect("an empty message is echoed");
    assert_eq!((echo.request_id, echo.payload.len()), (RequestId::from(42), 0));
    p.send_frame(200, 43, b"after");
    assert_eq!(p.frame_of(200, PATIENCE).expect("the next one too").payload, b"after");
    assert_answers(&good, "after an empty payload");
}

pub fn hello_ack_with_a_wrong_version(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    let (mut p, hello) = Raw::greeted(t.addr);
    p.ack(&hello, "9.9.9");
    p.expect_error_and_close("9.9.9");
    t.expect_log(&p.local, &["version mismatch"]);
    // A malformed ACK payload, and an ACK for another request id.
    let (mut p2, hello) = Raw::greeted(t.addr);
    p2.send_frame(types::HELLO_ACK, hello.request_id.as_u32(), b"\xff");
    p2.expect_error_and_close("handshake failed");
    t.expect_log(&p2.local, &["malformed handshake"]);
    let (mut p3, hello) = Raw::greeted(t.addr);
    let other = hello.request_id.as_u32().wrapping_add(1);
    p3.send(&frame(types::HELLO_ACK, other, &veltix::handshake::encode_hello("1.6.3")));
    p3.expect_error_and_close("handshake failed");
    t.expect_log(&p3.local, &["request id"]);
    assert_answers(&good, "after bad HELLO_ACKs");
    for p in [&p, &p2, &p3] {
        t.expect_log(&p.local, &["ended before the handshake"]);
        let about = t.log.about(&p.local);
        assert!(!about.iter().any(|l| l.contains("connected from")), "{about:#?}");
    }
    t.assert_rss_within(rss, RSS_BOUND, "bad HELLO_ACK");
}

pub fn application_frames_before_the_handshake(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    let (mut p, _) = Raw::greeted(t.addr);
    p.send_frame(200, 5, b"too early");
    let (frames, end) = p.until_end(PATIENCE);
    assert_ne!(end, End::Open);
    assert!(frames.iter().all(|f| f.type_code != 200), "the early frame was handled: {frames:?}");
    let err = frames.iter().find(|f| f.type_code == types::ERROR).expect("an ERROR frame");
    assert!(String::from_utf8_lossy(&err.payload).contains("unexpected"), "{err:?}");
    t.expect_log(&p.local, &["unexpected type 200"]);
    assert_answers(&good, "after a frame before the handshake");
    t.assert_rss_within(rss, RSS_BOUND, "frame before the handshake");
}

/// Slowloris: peers that connect and never answer the HELLO are dropped
/// when the handshake timeout passes.
pub fn silent_past_the_handshake_timeout(kind: Kind, core: CoreKind) {
    let opts = Opts::default().handshake_timeout(Duration::from_millis(300));
    let (t, good, rss) = setup(kind, core, &opts);
    let mut silent: Vec<Raw> = (0..10).map(|_| Raw::connect(t.addr)).collect();
    assert_answers(&good, "while 10 peers stay silent");
    for p in &mut silent {
        p.expect_error_and_close("handshake not completed within 300ms");
        t.expect_log(&p.local, &["handshake not completed"]);
    }
    assert_answers(&good, "after the silent peers were dropped");
    t.assert_rss_within(rss, RSS_BOUND, "silent peers");
}

/// A peer that sends one byte a second: the others are unaffected, and in
/// high performance mode it is dropped as presumed dead once 3 s pass
/// without a whole frame from it.
pub fn one_byte_per_second(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default().high());
    let mut p = Raw::established(t.addr);
    let f = frame(200, 1, b"never finished");
    for (i, b) in f.iter().take(3).enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        if p.try_send(&[*b]).is_err() {
            break; // dropped already: judged below
        }
        assert_answers(&good, "while a peer sends a byte a second");
    }
    let (frames, end) = p.until_end(PATIENCE);
    assert_ne!(end, End::Open, "the trickling peer was kept");
    assert!(frames.iter().all(|f| f.type_code != 200));
    t.expect_log(&p.local, &["presumed dead"]);
    assert_answers(&good, "after the trickling peer was dropped");
    t.assert_rss_within(rss, RSS_BOUND, "byte a second");
}

/// Ten times `--max-connections` at once: the excess get an ERROR frame
/// and a close; the admitted ones are unaffected.
pub fn ten_times_max_connections_at_once(kind: Kind, core: CoreKind) {
    const LIMIT: usize = 5;
    const PEERS: usize = 50;
    let t = Target::start(kind, core, &Opts::default().max_connections(LIMIT));
    let rss = t.rss();
    let start = Arc::new(Barrier::new(PEERS));
    let done = Arc::new(Barrier::new(PEERS));
    let addr = t.addr;
    let handles: Vec<_> = (0..PEERS)
        .map(|_| {
            let (start, done) = (start.clone(), done.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut p = Raw::connect(addr);
                let first = p.frame(PATIENCE).expect("a first frame: HELLO or ERROR");
                let admitted = match first.type_code {
                    types::HELLO => {
                        p.ack(&first, "1.6.3");
                        p.send_frame(types::PING, 1, b"");
                        assert!(p.frame_of(types::PONG, PATIENCE).is_some(), "admitted, no PONG");
                        true
                    }
                    types::ERROR => {
                        let text = String::from_utf8_lossy(&first.payload).into_owned();
                        assert!(text.contains("server full"), "{text}");
                        let (_, end) = p.until_end(PATIENCE);
                        assert_ne!(end, End::Open, "a refused peer was kept open");
                        false
                    }
                    other => panic!("first frame of type {other}"),
                };
                // Everyone holds on until all have their answer.
                done.wait();
                if admitted {
                    p.send_frame(types::PING, 2, b"");
                    assert!(p.frame_of(types::PONG, PATIENCE).is_some(), "admitted, no 2nd PONG");
                }
                (admitted, p.local.clone())
            })
        })
        .collect();
    let results: Vec<(bool, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let admitted = results.iter().filter(|r| r.0).count();
    assert_eq!(admitted, LIMIT, "admitted {admitted} of {PEERS} with a limit of {LIMIT}");
    for (_, local) in results.iter().filter(|r| !r.0) {
        t.expect_log(local, &["server full"]);
    }
    t.assert_rss_within(rss, RSS_BOUND, "connection flood");
}

/// A client that never reads while the server broadcasts to it: its
/// outbound queue stops at `--max-outbound`, it is disconnected with a log
/// line, and the others keep receiving everything.
pub fn slow_consumer_of_a_broadcast(kind: Kind, core: CoreKind) {
    const LIMIT: u64 = 256 * 1024;
    const BODY: usize = 16 * 1024;
    const PER_BATCH: u32 = 16;
    // Kernel buffers take a few MiB first (the server's send buffer grows
    // on loopback); 32 MiB is far past them and the queue limit.
    const MAX_BATCHES: u32 = (32 << 20) / (BODY as u32 * PER_BATCH);
    let opts = Opts::default().mode(Mode::Broadcast).max_outbound(LIMIT);
    let t = Target::start(kind, core, &opts);
    let rss = t.rss();
    let slow = Raw::establish(Raw::connect_small(t.addr, 4096));
    let (tx, rx) = mpsc::channel::<u32>();
    let fast = Client::builder(t.client_config())
        .on_message(move |_, f| {
            let _ = tx.send(u32::from_be_bytes(f.payload[..4].try_into().unwrap()));
        })
        .connect()
        .unwrap();
    let sender = t.client();
    assert_answers(&fast, "before the broadcast");
    assert_answers(&sender, "before the broadcast");
    // Batches the fast reader confirms, so only the slow one falls
    // behind; on until the slow one is dropped, then a few more.
    let mut body = vec![0u8; BODY];
    let mut next = 0u32;
    let mut after_drop = None;
    for _ in 0..MAX_BATCHES {
        for _ in 0..PER_BATCH {
            body[..4].copy_from_slice(&next.to_be_bytes());
            sender.send(200, &body).unwrap();
            next += 1;
        }
        for expected in next - PER_BATCH..next {
            let got = rx.recv_timeout(PATIENCE).expect("the fast reader gets every message");
            assert_eq!(got, expected, "the fast reader got them out of order");
        }
        let dropped = t.log.about(&slow.local).iter().any(|l| l.contains("read fast enough"));
        match after_drop.as_mut() {
            None if dropped => after_drop = Some(0),
            Some(n) if *n >= 4 => break,
            Some(n) => *n += 1,
            None => {}
        }
    }
    assert!(after_drop.is_some(), "{next} messages sent, the slow reader was not dropped");
    let line = t.expect_log(&slow.local, &["does not read fast enough"]);
    assert!(line.contains(&format!("limit {LIMIT}")), "{line}");
    let mut slow = slow;
    let (frames, end) = slow.until_end(PATIENCE);
    assert_ne!(end, End::Open, "the slow reader was kept");
    let seqs: Vec<u32> = frames
        .iter()
        .filter(|f| f.type_code == 200)
        .map(|f| u32::from_be_bytes(f.payload[..4].try_into().unwrap()))
        .collect();
    assert!(seqs.len() < next as usize, "the slow reader got everything");
    assert_eq!(seqs, (0..seqs.len() as u32).collect::<Vec<_>>(), "what it got is a prefix");
    assert_answers(&fast, "after the slow reader was dropped");
    t.assert_rss_within(rss, RSS_BOUND, "slow consumer");
}

/// A client dies in the middle of a frame (its kernel resets the
/// connection).
pub fn client_killed_mid_frame(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default());
    let mut p = Raw::established(t.addr);
    p.send(&frame(200, 1, &[9; 500])[..300]);
    assert_answers(&good, "while a frame is half sent");
    let local = p.local.clone();
    p.reset();
    t.expect_log(&local, &["reset"]);
    assert_answers(&good, "after a client died mid-frame");
    t.assert_rss_within(rss, RSS_BOUND, "client killed mid-frame");
}

/// `veltix serve` is killed (SIGKILL) while clients wait in send_and_wait:
/// they get an error, never a hang; when a server comes back on the same
/// port, clients configured to retry reconnect (the library's and
/// `veltix connect --retry`).
pub fn server_killed_while_clients_wait(kind: Kind, core: CoreKind) {
    assert_eq!(kind, Kind::Bin, "only a child process can be killed");
    let mut t = Target::start(kind, core, &Opts::default().mode(Mode::Sink));
    let port = t.addr.port();
    let retrying = || t.client_config().retry(200).retry_delay(Duration::from_millis(50));
    let clients: Vec<Arc<Client>> =
        (0..3).map(|_| Arc::new(Client::connect(retrying()).unwrap())).collect();
    let mut connect = crate::common::bin::Piped::spawn(&[
        "connect",
        &t.addr_text(),
        "--retry",
        "200",
        "--retry-delay",
        "50ms",
        "--core",
        core_name(core),
    ]);
    connect.write(b"before\n");
    let (tx, rx) = mpsc::channel();
    for c in &clients {
        assert_answers(c, "before the kill");
        let sent_before = frames_out(c);
        let (waiter, tx) = (c.clone(), tx.clone());
        std::thread::spawn(move || {
            let _ = tx.send(waiter.send_and_wait(200, b"never answered", Duration::from_secs(60)));
        });
        // The request is on the wire once the frame counter moves.
        wait_until("the request is sent", || frames_out(c) > sent_before);
    }
    t.kill();
    for _ in &clients {
        let r = rx.recv_timeout(PATIENCE).expect("send_and_wait returned after the kill");
        match r {
            Err(Error::Closed(_) | Error::Io(_)) => {}
            other => panic!("send_and_wait after the server died: {other:?}"),
        }
    }
    connect.wait_stderr("reconnecting");
    let t2 = Target::start(kind, core, &Opts::default().mode(Mode::Echo).port(port));
    for c in &clients {
        wait_until("the client reconnects", || c.is_connected());
        let r = c.send_and_wait(200, b"again", PATIENCE).expect("a request after reconnecting");
        assert_eq!(r.payload, b"again");
    }
    connect.wait_stderr("reconnected");
    connect.write(b"after\n");
    connect.close_stdin();
    let (code, err) = connect.wait();
    assert_eq!(code, 0, "veltix connect --retry: {err}");
    drop(t2);
}

fn frames_out(c: &Client) -> u64 {
    c.stats().map_or(0, |s| s.frames_out)
}

fn core_name(core: CoreKind) -> &'static str {
    match core {
        CoreKind::Threads => "threads",
        CoreKind::Poll => "poll",
    }
}

/// Callbacks that cannot keep up (serve's stdout is never read) while a
/// client sends large messages: what waits for the callbacks is bounded in
/// bytes (`max_pending_callback_bytes`, 16 MiB), not only in messages
/// (4,096 of up to 10 MiB each would be 40 GiB). The reader stops reading
/// instead, and TCP pushes back on the sender.
pub fn slow_callbacks_hold_bounded_bytes(kind: Kind, core: CoreKind) {
    const BODY: usize = 8 << 20;
    const COUNT: usize = 40;
    let t = Target::start(kind, core, &Opts::default().mode(Mode::LogUnread));
    let rss = t.rss();
    let mut flood = Raw::established(t.addr);
    let sender = std::thread::spawn(move || {
        let bytes = frame(200, 7, &vec![b'x'; BODY]);
        for _ in 0..COUNT {
            if flood.try_send(&bytes).is_err() {
                break;
            }
        }
    });
    // What the server would take if nothing pushed back: 320 MiB. Watch
    // until it has taken what it will (its memory stops moving, or the
    // sender is done), failing as soon as it is past the bound.
    let what = "40 messages of 8 MiB into blocked callbacks";
    let (mut last, mut still) = (t.rss(), 0);
    for _ in 0..80 {
        std::thread::sleep(Duration::from_millis(250));
        t.assert_rss_within(rss, 64 << 20, what);
        let now = t.rss();
        still = if now == last { still + 1 } else { 0 };
        last = now;
        if still >= 8 || sender.is_finished() {
            break;
        }
    }
    t.assert_rss_within(rss, 64 << 20, what);
    let good = t.client();
    assert_answers(&good, "while callbacks are blocked");
    drop(t);
    let _ = sender.join();
}

/// Clients that each pass one large message through echo and then sit
/// idle: the server gives each read buffer back once the message is
/// handled, instead of keeping every connection at its high-water mark.
pub fn idle_after_a_large_message(kind: Kind, core: CoreKind) {
    const BODY: usize = 8 << 20;
    const CLIENTS: usize = 12;
    let t = Target::start(kind, core, &Opts::default());
    let rss = t.rss();
    let body = vec![b'y'; BODY];
    let bytes = frame(200, 9, &body);
    let mut idle = Vec::new();
    for i in 0..CLIENTS {
        let mut c = Raw::established(t.addr);
        c.send(&bytes);
        let reply = c.frame_of(200, PATIENCE).unwrap_or_else(|| panic!("echo {i} came back"));
        assert_eq!(reply.payload.len(), BODY);
        idle.push(c);
    }
    // 12 buffers of 8 MiB kept would be 96 MiB.
    std::thread::sleep(Duration::from_millis(500));
    t.assert_rss_within(rss, 48 << 20, "12 idle clients after an 8 MiB echo each");
    assert_answers(&t.client(), "with the idle clients connected");
}

//! The client side: `veltix request`, `veltix ping` and `veltix connect`
//! (pipe mode) against a fake server that sends garbage, a bad HELLO, or
//! nothing at all. Each must exit with its documented code and a message
//! naming the fault, within its timeout. (What tests/cli/request.rs,
//! ping.rs and connect.rs already cover is not repeated here.)

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use veltix::{handshake, types, Frame, FrameReader};

use crate::common::bin::{self, code, rss_of, stderr, veltix, Piped};
use crate::peer::{frame, garbage, header};
use crate::target::PATIENCE;

/// What the fake server does with the one connection it accepts.
#[derive(Clone, Copy)]
enum Fake {
    /// Accepts and says nothing.
    Silent,
    /// Sends random bytes instead of a HELLO.
    Garbage,
    /// A HELLO whose CRC does not match its payload.
    HelloWithBadCrc,
    /// A HELLO whose payload is not `u16 length + version`.
    MalformedHello,
    /// A HELLO announcing another version.
    OtherVersion,
    /// Completes the handshake, then answers the first request with
    /// random bytes.
    GarbageReply,
    /// Completes the handshake, then answers the first request with its
    /// own type and id but a wrong CRC.
    BadCrcReply,
}

/// Starts a fake server; returns its address.
fn fake(what: Fake) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let hello = |v: &str| frame(types::HELLO, 1, &handshake::encode_hello(v));
        let _ = match what {
            Fake::Silent => Ok(()),
            Fake::Garbage => s.write_all(&garbage(0xfeed, 2048)),
            Fake::HelloWithBadCrc => {
                let mut h = hello("1.6.3");
                h[6] ^= 0xff;
                s.write_all(&h)
            }
            Fake::MalformedHello => s.write_all(&frame(types::HELLO, 1, b"\x00\x09bad")),
            Fake::OtherVersion => s.write_all(&hello("2.0.0")),
            Fake::GarbageReply | Fake::BadCrcReply => {
                s.write_all(&hello("1.6.3")).unwrap();
                let mut r = FrameReader::new(s.try_clone().unwrap(), 1 << 20);
                let _ack = r.read_frame();
                match r.read_frame() {
                    Ok(Some(req)) if matches!(what, Fake::GarbageReply) => {
                        // Random bytes whose first "header" always declares
                        // more than the limit (a random size field is under
                        // it once in a few hundred runs: another fault).
                        let mut g = garbage(u64::from(req.request_id.as_u32()), 2048);
                        g[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
                        s.write_all(&g)
                    }
                    Ok(Some(req)) => {
                        let mut reply = Frame::new(req.type_code, req.request_id, b"x".to_vec())
                            .encode()
                            .unwrap();
                        reply[6] ^= 0xff;
                        s.write_all(&reply)
                    }
                    _ => Ok(()),
                }
            }
        };
        // Hold the connection until the client goes.
        let _ = s.read_to_end(&mut Vec::new());
    });
    addr
}

/// Runs `veltix ARGS` with no input; returns its output and how long it took.
fn run(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = bin::run(veltix(args));
    (out, start.elapsed())
}

/// Fails unless `veltix ARGS` exits with `want` within `PATIENCE` and says
/// each of `needles` on stderr.
fn expect_exit(args: &[&str], want: i32, needles: &[&str]) {
    let (out, took) = run(args);
    let err = stderr(&out);
    assert_eq!(code(&out), want, "veltix {}: {err}", args.join(" "));
    for n in needles {
        assert!(err.contains(n), "veltix {}: no {n:?} in: {err}", args.join(" "));
    }
    assert!(took < PATIENCE, "veltix {} took {took:?}", args.join(" "));
}

// --- a server that says nothing at all -------------------------------

#[test]
fn request_to_a_silent_server_exits_3_after_the_handshake_timeout() {
    let addr = fake(Fake::Silent);
    let args = ["request", &addr, "x", "--handshake-timeout", "300ms"];
    expect_exit(&args, 3, &["handshake timed out after 300ms", &addr]);
}

#[test]
fn ping_to_a_silent_server_exits_3_after_the_handshake_timeout() {
    let addr = fake(Fake::Silent);
    let args = ["ping", &addr, "-c", "1", "--handshake-timeout", "300ms"];
    expect_exit(&args, 3, &["handshake timed out after 300ms", &addr]);
}

#[test]
fn connect_to_a_silent_server_exits_3_after_the_handshake_timeout() {
    let addr = fake(Fake::Silent);
    let args = ["connect", &addr, "--handshake-timeout", "300ms"];
    expect_exit(&args, 3, &["handshake timed out after 300ms", &addr]);
}

// --- garbage instead of a HELLO ------------------------------------------

/// The fault is named and the run ends at once, whatever the exit code.
#[test]
fn garbage_instead_of_hello_is_named() {
    for cmd in [&["request", "x"][..], &["ping", "-c", "1"]] {
        let addr = fake(Fake::Garbage);
        let mut args = vec![cmd[0], &addr];
        args.extend(&cmd[1..]);
        let (out, took) = run(&args);
        let err = stderr(&out);
        assert_ne!(code(&out), 0, "{err}");
        assert!(err.contains(&format!("cannot connect to {addr}")), "{err}");
        assert!(err.contains("exceeds the limit"), "{err}");
        assert!(took < PATIENCE);
    }
}

/// Garbage where the HELLO should be is a failed handshake: exit 3, as
/// `veltix connect` has it and as the exit-code table says ("3 cannot
/// connect: ... handshake failed").
#[test]
fn garbage_instead_of_hello_exits_3() {
    for cmd in [&["request", "x"][..], &["ping", "-c", "1"]] {
        let addr = fake(Fake::Garbage);
        let mut args = vec![cmd[0], &addr];
        args.extend(&cmd[1..]);
        expect_exit(&args, 3, &["exceeds the limit"]);
        let addr = fake(Fake::HelloWithBadCrc);
        let mut args = vec![cmd[0], &addr];
        args.extend(&cmd[1..]);
        expect_exit(&args, 3, &["CRC mismatch"]);
    }
}

#[test]
fn connect_exits_3_on_garbage_or_a_hello_with_a_bad_crc() {
    let addr = fake(Fake::Garbage);
    expect_exit(&["connect", &addr], 3, &["exceeds the limit", &addr]);
    let addr = fake(Fake::HelloWithBadCrc);
    expect_exit(&["connect", &addr], 3, &["CRC mismatch", &addr]);
}

// --- a bad HELLO ------------------------------------------------------------

#[test]
fn ping_exits_3_on_a_malformed_hello_or_another_version() {
    let addr = fake(Fake::MalformedHello);
    expect_exit(&["ping", &addr, "-c", "1"], 3, &["malformed handshake payload"]);
    let addr = fake(Fake::OtherVersion);
    expect_exit(&["ping", &addr, "-c", "1"], 3, &["version mismatch", "2.0.0"]);
}

#[test]
fn request_and_connect_exit_3_on_a_malformed_hello() {
    let addr = fake(Fake::MalformedHello);
    expect_exit(&["request", &addr, "x"], 3, &["malformed handshake payload"]);
    let addr = fake(Fake::MalformedHello);
    expect_exit(&["connect", &addr], 3, &["malformed handshake payload"]);
}

// --- garbage after the handshake ----------------------------------------

/// `ping` documents 4 for "no pong came back at all"; the fault that ended
/// the connection is named.
#[test]
fn ping_answered_with_garbage_exits_4_naming_the_fault() {
    let addr = fake(Fake::GarbageReply);
    expect_exit(&["ping", &addr, "-c", "3", "-i", "0"], 4, &["exceeds the limit"]);
}

/// A reply with a wrong CRC fails its request at once (its header's
/// request id is known): `request` exits 5 naming the CRC mismatch, well
/// before its timeout; `ping` counts the pong as lost (exit 4: none came).
#[test]
fn reply_with_a_bad_crc_fails_at_once_naming_the_fault() {
    let addr = fake(Fake::BadCrcReply);
    let start = std::time::Instant::now();
    expect_exit(&["request", &addr, "x", "--timeout", "5s"], 5, &["CRC mismatch"]);
    assert!(start.elapsed() < std::time::Duration::from_secs(4), "waited for the timeout");
    let addr = fake(Fake::BadCrcReply);
    expect_exit(&["ping", &addr, "-c", "1", "-W", "500ms"], 4, &["CRC mismatch"]);
}

/// Pipe mode with input still to send when the server breaks the
/// protocol: exit 1 ("lost before all input was sent"), naming the fault.
#[test]
fn connect_answered_with_garbage_exits_1_naming_the_fault() {
    let addr = fake(Fake::GarbageReply);
    let mut c = Piped::spawn(&["connect", &addr, "-v"]);
    c.write(b"first\n");
    c.wait_stderr("exceeds the limit");
    let (code, err) = c.wait();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("before all input was sent"), "{err}");
}

/// A header declaring 4 GiB right after the HELLO: the client refuses it
/// before buffering anything.
#[test]
fn a_4_gib_header_after_the_hello_is_refused() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let _ = s.write_all(&frame(types::HELLO, 1, &handshake::encode_hello("1.6.3")));
        let mut r = FrameReader::new(s.try_clone().unwrap(), 1 << 20);
        let _ack = r.read_frame();
        let _ = s.write_all(&header(200, 7, u32::MAX));
        let _ = s.read_to_end(&mut Vec::new());
    });
    expect_exit(&["ping", &addr, "-c", "1"], 4, &["4294967295 payload", "exceeds the limit"]);
}

/// `connect` whose stdout nobody reads, against a server that floods it
/// with large messages: what waits for its (blocked) output is bounded in
/// bytes, so its memory stays bounded; the reader stops and TCP pushes
/// back on the server instead. (Before the callback queue was bounded in
/// bytes, this reached hundreds of MiB.)
#[test]
fn connect_with_an_unread_stdout_holds_a_flood_in_bounded_memory() {
    use std::process::Stdio;
    const BODY: usize = 8 << 20;
    let server = veltix::Server::builder(
        veltix::ServerConfig::default()
            .host("127.0.0.1")
            .port(0)
            // The server holds what the client does not take (in this
            // process, not the one measured).
            .max_outbound_bytes(1 << 30),
    )
    .on_connect(|p| {
        let p = p.clone();
        std::thread::spawn(move || {
            let body = vec![b'z'; BODY];
            for _ in 0..40 {
                if p.send(200, &body).is_err() {
                    break;
                }
            }
        });
    })
    .start()
    .unwrap();
    let mut child = veltix(["connect", &server.local_addr().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn veltix connect");
    let _stdout = child.stdout.take();
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(300));
    let base = rss_of(pid).unwrap_or(0);
    let (mut last, mut still, mut peak) = (0, 0, 0);
    for _ in 0..60 {
        std::thread::sleep(Duration::from_millis(250));
        let now = rss_of(pid).unwrap_or(0);
        peak = peak.max(now);
        assert!(
            peak.saturating_sub(base) < 64 << 20,
            "connect grew by {} MiB with its stdout unread",
            (peak - base) >> 20
        );
        still = if now == last { still + 1 } else { 0 };
        last = now;
        if still >= 8 {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(server);
}

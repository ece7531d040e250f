//! `veltix connect`: pipe mode against in-process servers, and the REPL
//! through a pseudo-terminal.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rexpect::session::PtySession;
use veltix::{Frame, Peer, RequestId, Server, ServerConfig};

use crate::common::bin::Piped;
use crate::util::{code, run_with_stdin, stderr, stdout, veltix};

/// How long a test waits for something that should happen at once; only
/// a bound for failing, never a measure of speed.
const PATIENCE: Duration = Duration::from_secs(20);

/// A server on 127.0.0.1:0 that records what it receives and hands each
/// message to `then` (echo, close, ...).
struct TestServer {
    server: Server,
    got: Arc<(Mutex<Vec<Frame>>, Condvar)>,
}

impl TestServer {
    fn start(then: impl Fn(&Peer, &Frame) + Send + Sync + 'static) -> TestServer {
        let got: Arc<(Mutex<Vec<Frame>>, Condvar)> = Arc::default();
        let log = got.clone();
        let server = Server::builder(ServerConfig::default().host("127.0.0.1").port(0))
            .on_message(move |peer, frame| {
                then(peer, &frame);
                log.0.lock().unwrap().push(frame);
                log.1.notify_all();
            })
            .start()
            .expect("start a test server");
        TestServer { server, got }
    }

    /// Replies to each message with its own payload.
    fn echo() -> TestServer {
        TestServer::start(|peer, frame| {
            peer.reply(frame, &frame.payload).unwrap();
        })
    }

    /// Only records.
    fn quiet() -> TestServer {
        TestServer::start(|_, _| {})
    }

    fn addr(&self) -> String {
        self.server.local_addr().to_string()
    }

    /// The first `n` messages received, waiting for them to arrive.
    fn wait_for(&self, n: usize) -> Vec<Frame> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = self.got.0.lock().unwrap();
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the server got {} messages, not {n}: {got:?}", got.len());
            got = self.got.1.wait_timeout(got, left).unwrap().0;
        }
        got[..n].to_vec()
    }

    /// Waits until a client has completed the handshake.
    fn wait_for_client(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.server.client_count() == 0 {
            assert!(Instant::now() < deadline, "no client connected");
            std::thread::yield_now();
        }
    }
}

fn payloads(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(|f| String::from_utf8_lossy(&f.payload).into_owned()).collect()
}

/// A port nobody listens on: bound, then released.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    addr
}

// ---------------------------------------------------------------- pipe mode

#[test]
fn each_line_arrives_as_one_message_in_order_and_echoes_reach_stdout() {
    let srv = TestServer::echo();
    let args =
        ["connect", &srv.addr(), "--type-name", "201=chat", "--type", "chat", "--linger", "2s"];
    let out = run_with_stdin(veltix(args), b"one\ntwo\r\n\nthree");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = srv.wait_for(4);
    assert_eq!(payloads(&frames), ["one", "two", "", "three"]);
    assert!(frames.iter().all(|f| f.type_code == 201), "{frames:?}");
    assert_eq!(stdout(&out), "one\ntwo\n\nthree\n");
    assert_eq!(stderr(&out), "", "nothing but data, and no data on stderr");
}

#[test]
fn json_output_has_one_object_per_message() {
    let srv = TestServer::echo();
    let args = ["connect", &srv.addr(), "--json", "--type-name", "200=chat", "--linger", "2s"];
    let out = run_with_stdin(veltix(args), b"hello\n\xff\xfe\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&out));
    let (text, binary) = (&lines[0], &lines[1]);
    assert_eq!(text["type_code"], 200);
    assert_eq!(text["type_name"], "chat");
    assert_eq!(text["payload_text"], "hello");
    assert_eq!(text["size"], 5);
    assert_eq!(text["peer"], srv.addr());
    assert_eq!(text["request_id"].as_str().unwrap().len(), 8);
    assert!(text["ts"].as_str().unwrap().ends_with('Z'), "{text}");
    assert!(text["timestamp_ms"].as_u64().unwrap() > 0);
    assert_eq!(binary["payload_hex"], "fffe");
    assert_eq!(binary["size"], 2);
    assert!(binary.get("payload_text").is_none());
}

#[test]
fn null_separated_records_and_raw_input() {
    let srv = TestServer::quiet();
    let out = run_with_stdin(veltix(["connect", &srv.addr(), "-0"]), b"a b\0c\nd\0last");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(payloads(&srv.wait_for(3)), ["a b", "c\nd", "last"]);

    let srv = TestServer::quiet();
    let out =
        run_with_stdin(veltix(["connect", &srv.addr(), "--raw", "--type", "300"]), b"x\ny\n\0z");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = srv.wait_for(1);
    assert_eq!(frames[0].payload, b"x\ny\n\0z");
    assert_eq!(frames[0].type_code, 300);
}

#[test]
fn linger_waits_for_a_late_reply() {
    // The server answers each message half a second late.
    let srv = TestServer::start(|peer, frame| {
        let (peer, frame) = (peer.clone(), frame.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            let _ = peer.reply(&frame, b"late");
        });
    });
    let out = run_with_stdin(veltix(["connect", &srv.addr(), "--linger", "5s"]), b"hi\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "late\n");

    // With no linger, connect leaves as soon as the server has read it all.
    let srv = TestServer::quiet();
    let out = run_with_stdin(veltix(["connect", &srv.addr(), "--linger", "0"]), b"hi\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(payloads(&srv.wait_for(1)), ["hi"]);
    assert_eq!(stdout(&out), "");
}

#[test]
fn refused_port_exits_3() {
    let addr = closed_port();
    let out = run_with_stdin(veltix(["connect", &addr]), b"hello\n");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains(&addr), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn another_protocol_version_exits_3() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let hello = Frame::new(
            veltix::types::HELLO,
            RequestId::from(7),
            veltix::handshake::encode_hello("9.9.9"),
        );
        s.write_all(&hello.encode().unwrap()).unwrap();
        // Keep the connection until the client leaves.
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    let out = run_with_stdin(veltix(["connect", &addr]), b"hello\n");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("9.9.9"), "{}", stderr(&out));
    server.join().unwrap();
}

#[test]
fn server_closing_after_the_last_message_is_fine() {
    let srv = TestServer::start(|peer, _| peer.close());
    let out = run_with_stdin(veltix(["connect", &srv.addr()]), b"only\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(payloads(&srv.wait_for(1)), ["only"]);
}

#[test]
fn connection_lost_before_the_end_of_input_exits_1() {
    let srv = TestServer::start(|peer, _| peer.close());
    let mut run = Piped::spawn(&["connect", &srv.addr()]);
    run.write(b"first\n");
    assert_eq!(payloads(&srv.wait_for(1)), ["first"]);
    // stdin stays open: more input could come, and it cannot be sent.
    let (code, err) = run.wait();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the server closed the connection"), "{err}");
    assert!(err.contains("before all input was sent (1 messages sent)"), "{err}");
}

#[test]
fn retry_reconnects_and_says_so() {
    // The server drops the client after its first message; the client
    // comes back and sends the rest on the new connection.
    let srv = TestServer::start(|peer, frame| {
        if frame.payload == b"first" {
            peer.close();
        }
    });
    let mut run = Piped::spawn(&["connect", &srv.addr(), "--retry", "3", "--retry-delay", "50ms"]);
    run.write(b"first\n");
    run.wait_stderr("reconnecting (attempt 1/3)");
    run.wait_stderr("reconnected");
    run.write(b"second\n");
    run.close_stdin();
    let (code, err) = run.wait();
    assert_eq!(code, 0, "{err}");
    assert_eq!(payloads(&srv.wait_for(2)), ["first", "second"]);
    assert_eq!(srv.server.stats().clients_served, 2);
}

#[test]
fn long_help_has_examples_and_exit_codes() {
    let out = crate::util::run(veltix(["connect", "--help"]));
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    for needle in [
        "echo hello | veltix connect localhost:8080 --type chat --type-name 200=chat",
        "find . -print0 | veltix connect host:8080 -0",
        "--protocol-version",
        "--connect-timeout",
        "before all input was sent",
    ] {
        assert!(help.contains(needle), "no '{needle}' in:\n{help}");
    }
}

#[test]
fn bad_address_is_a_usage_error() {
    let out = crate::util::run(veltix(["connect", "localhost"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no port"), "{}", stderr(&out));
}

// --------------------------------------------------------------------- REPL

/// `veltix connect ARGS --color never` in a pseudo-terminal, at its first
/// prompt.
fn repl(args: &[&str]) -> PtySession {
    let mut cmd = veltix(args);
    cmd.args(["--color", "never"]).env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(PATIENCE.as_millis() as u64))
        .expect("spawn in a pty");
    p.exp_string("connected to").expect("the connected line");
    p.exp_string("]> ").expect("the first prompt");
    p
}

/// Types keys (no Enter unless `\r` is in them).
fn keys(p: &mut PtySession, s: &str) {
    p.send(s).unwrap();
    p.flush().unwrap();
}

fn exit_code(p: &PtySession) -> i32 {
    match p.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => code,
        other => panic!("veltix did not exit: {other:?}"),
    }
}

#[test]
fn repl_sends_a_plain_line_and_quits_with_0() {
    let srv = TestServer::quiet();
    let mut p = repl(&["connect", &srv.addr(), "--no-history", "--type-name", "200=chat"]);
    keys(&mut p, "hello there\r");
    let frames = srv.wait_for(1);
    assert_eq!(payloads(&frames), ["hello there"]);
    assert_eq!(frames[0].type_code, 200);
    p.exp_string("[chat]> ").unwrap();
    keys(&mut p, "/quit\r");
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
}

#[test]
fn repl_request_prints_the_reply_and_its_rtt() {
    let srv = TestServer::echo();
    let mut p = repl(&["connect", &srv.addr(), "--no-history"]);
    keys(&mut p, "/request 201 are you there?\r");
    let (_, found) =
        p.exp_regex(r"201 #[0-9a-f]{8} \(reply, rtt \d+\.\d{3} ms\): are you there\?").unwrap();
    assert!(found.contains("are you there?"));
    keys(&mut p, "/quit\r");
    p.exp_eof().unwrap();
}

#[test]
fn repl_ping_prints_each_rtt_and_a_summary() {
    let srv = TestServer::quiet();
    let mut p = repl(&["connect", &srv.addr(), "--no-history"]);
    keys(&mut p, "/ping 3\r");
    for seq in 1..=3 {
        p.exp_regex(&format!(r"pong {seq}/3: rtt \d+\.\d{{3}} ms")).unwrap();
    }
    p.exp_regex(r"3 sent, 3 answered; rtt min/avg/max = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms")
        .unwrap();
    keys(&mut p, "/quit\r");
    p.exp_eof().unwrap();
}

#[test]
fn repl_shows_a_pushed_message_above_the_line_being_typed() {
    let srv = TestServer::quiet();
    let mut p = repl(&["connect", &srv.addr(), "--no-history", "--type-name", "205=news"]);
    srv.wait_for_client();
    keys(&mut p, "hal");
    p.exp_string("hal").unwrap();
    assert_eq!(srv.server.broadcast(205, b"breaking news", None).unwrap(), 1);
    p.exp_regex(r"news #[0-9a-f]{8}: breaking news").unwrap();
    // The prompt and the half-typed line are drawn again below it...
    p.exp_string("]> ").unwrap();
    p.exp_string("hal").unwrap();
    // ...and the line can be finished and sent.
    keys(&mut p, "f done\r");
    assert_eq!(payloads(&srv.wait_for(1)), ["half done"]);
    keys(&mut p, "/quit\r");
    p.exp_eof().unwrap();
}

#[test]
fn repl_history_is_recalled_after_a_restart() {
    let srv = TestServer::quiet();
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("state/history");
    let history = history.to_str().unwrap();

    let mut p = repl(&["connect", &srv.addr(), "--history", history]);
    keys(&mut p, "remember me\r");
    srv.wait_for(1);
    p.exp_string("]> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);

    let mut p = repl(&["connect", &srv.addr(), "--history", history]);
    keys(&mut p, "\x1b[A");
    p.exp_string("remember me").unwrap();
    keys(&mut p, "\r");
    assert_eq!(payloads(&srv.wait_for(2)), ["remember me", "remember me"]);
    keys(&mut p, "/quit\r");
    p.exp_eof().unwrap();
}

#[test]
fn repl_errors_keep_the_session_going() {
    let srv = TestServer::quiet();
    let mut p = repl(&["connect", &srv.addr(), "--no-history"]);
    keys(&mut p, "/json {oops\r");
    p.exp_string("not valid JSON").unwrap();
    keys(&mut p, "/bogus\r");
    p.exp_string("unknown command /bogus").unwrap();
    keys(&mut p, "/json {\"a\": [1, 2]}\r");
    keys(&mut p, "/hex 48 69\r");
    assert_eq!(payloads(&srv.wait_for(2)), [r#"{"a":[1,2]}"#, "Hi"]);
    keys(&mut p, "/status\r");
    p.exp_string("connected").unwrap();
    p.exp_string("frames").unwrap();
    keys(&mut p, "/quit\r");
    p.exp_eof().unwrap();
    assert_eq!(exit_code(&p), 0);
}

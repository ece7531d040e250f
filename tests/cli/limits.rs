//! Issue 17: every input, job and shutdown of the binary is bounded, and
//! no argument can make it panic.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use veltix::{handshake, types, Client, ClientConfig, Decoder, Frame};

use crate::util::{
    code, endless, process_ended, run, run_measured, run_with_stdin, stderr, stdout, veltix,
    vm_hwm_kib, Serve,
};

const PATIENCE: Duration = Duration::from_secs(20);

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pid written by the job into `path`, once it is there.
fn read_pid(path: &std::path::Path) -> u32 {
    wait_until("the job wrote its pid", || {
        std::fs::read_to_string(path).is_ok_and(|s| s.trim().parse::<u32>().is_ok())
    });
    std::fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

// ---- inputs read no further than the limit --------------------------------

#[test]
fn payloads_over_the_limit_are_refused_without_reading_on() {
    let zero = || Stdio::from(std::fs::File::open("/dev/zero").unwrap());
    // Nothing listens on port 1: the payload is refused before connecting.
    for args in [
        vec!["request", "127.0.0.1:1", "-"],
        vec!["request", "127.0.0.1:1", "@/dev/zero"],
        vec!["encode", "-"],
        vec!["encode", "@/dev/zero"],
    ] {
        let mut cmd = veltix(&args);
        cmd.stdin(zero());
        let started = Instant::now();
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--max-message-size 10485760"), "{args:?}: {}", stderr(&out));
        assert!(started.elapsed() < PATIENCE, "{args:?}");
    }
    let out = run(veltix(["encode", "--max-message-size", "1K", &"x".repeat(1003)]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than 1002 bytes"), "{}", stderr(&out));
    let out = run(veltix(["encode", "--max-message-size", "1K", &"x".repeat(1002)]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn connect_refuses_an_endless_record_in_bounded_memory() {
    let s = Serve::start(&["--mode", "sink"]);
    for (args, chunk) in [
        (vec!["connect", &s.addr, "--max-message-size", "1M"], vec![b'a'; 65536]),
        (vec!["connect", &s.addr, "--max-message-size", "1M", "--raw"], vec![0u8; 65536]),
    ] {
        let (out, rss_kib) = run_measured(veltix(&args), endless(chunk), PATIENCE);
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("--max-message-size 1048576"), "{}", stderr(&out));
        assert!(rss_kib < 64 * 1024, "{args:?}: peak {rss_kib} KiB");
    }
}

#[test]
fn decode_streams_a_long_hex_line_in_bounded_memory() {
    // 48 frames of 512 KiB, as one 48 MiB line of hex.
    let frame = Frame::new(300, 7.into(), vec![0x5a; 512 * 1024]).encode().unwrap();
    let hex: Vec<u8> = frame.iter().flat_map(|b| format!("{b:02x}").into_bytes()).collect();
    let feed = move |mut stdin: std::process::ChildStdin| {
        for _ in 0..48 {
            if stdin.write_all(&hex).is_err() {
                return;
            }
        }
    };
    let (out, rss_kib) =
        run_measured(veltix(["decode", "--input", "hex", "--json"]), feed, PATIENCE * 3);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 48);
    // The line alone is 48 MiB; the frames themselves are 0.5 MiB each
    // (and their JSON twice that, in hex).
    assert!(rss_kib < 24 * 1024, "peak {rss_kib} KiB");
}

// ---- connect -------------------------------------------------------------

#[test]
fn connect_fails_when_the_server_refuses_a_message() {
    let s = Serve::start(&["--mode", "echo", "--max-message-size", "1K"]);
    let mut line = vec![b'a'; 2000];
    line.push(b'\n');
    let out = run_with_stdin(veltix(["connect", &s.addr]), &line);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("error from the server"), "{}", stderr(&out));
    assert!(stderr(&out).contains("ERROR frame"), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "the refusal is no reply data: {}", stdout(&out));
}

// ---- exec mode -----------------------------------------------------------

/// `serve --mode exec [OPTS] -- sh -c SCRIPT`, where `{log}` in `script`
/// names a file in a fresh temporary directory (returned with it).
fn exec_server(opts: &[&str], script: &str) -> (Serve, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let script = script.replace("{log}", &log.display().to_string());
    let mut args = vec!["--mode", "exec"];
    args.extend_from_slice(opts);
    args.extend_from_slice(&["--", "sh", "-c", &script]);
    (Serve::start(&args), dir, log)
}

#[test]
fn exec_timeout_kills_the_whole_group_and_answers_at_the_deadline() {
    let (s, _dir, pidfile) =
        exec_server(&["--exec-timeout", "1s"], "sleep 300 & echo $! > {log}; echo hi");
    let started = Instant::now();
    let out = run(veltix(["request", &s.addr, "x", "--timeout", "10s"]));
    let took = started.elapsed();
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stderr(&out).contains("ran longer than 1s"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    let grandchild = read_pid(&pidfile);
    wait_until("the grandchild was killed", || process_ended(grandchild));
}

#[test]
fn exec_output_over_the_limit_is_an_error_frame_in_bounded_memory() {
    let s = Serve::start(&[
        "--mode",
        "exec",
        "--max-message-size",
        "64K",
        "--",
        "head",
        "-c",
        "300000000",
        "/dev/zero",
    ]);
    let c = Client::connect(ClientConfig::new(s.addr.clone())).unwrap();
    let reply = c.send_and_wait(200, b"", PATIENCE).unwrap_err();
    let text = reply.to_string();
    assert!(text.contains("more than 65514 bytes"), "{text}");
    let hwm = vm_hwm_kib(s.child.id());
    assert!(hwm < 64 * 1024, "serve peaked at {hwm} KiB");
}

#[test]
fn exec_jobs_of_a_client_that_has_gone_are_cancelled() {
    let (s, _dir, log) = exec_server(&["--exec-timeout", "1h"], "echo $$ >> {log}; exec sleep 300");
    let c = Client::connect(ClientConfig::new(s.addr.clone())).unwrap();
    for _ in 0..5 {
        c.send(200, b"x").unwrap();
    }
    let first = read_pid(&log);
    c.disconnect();
    drop(c);
    wait_until("the running job was killed", || process_ended(first));
    // The queued messages start no job.
    std::thread::sleep(Duration::from_millis(500));
    let started = std::fs::read_to_string(&log).unwrap();
    assert_eq!(started.lines().count(), 1, "jobs started after the client left: {started}");
}

#[test]
fn sigterm_kills_exec_jobs_and_exits_promptly() {
    let (mut s, _dir, log) = exec_server(&[], "echo $$ >> {log}; exec sleep 1000");
    let c = Client::connect(ClientConfig::new(s.addr.clone())).unwrap();
    c.send(200, b"x").unwrap();
    let job = read_pid(&log);
    let started = Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    let status = s.child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());
    assert_eq!(status.code(), Some(0));
    assert!(process_ended(job), "the job outlived serve");
    let summary = s.wait_stderr("served ");
    assert!(summary.contains("1 exec job killed"), "{summary}");
}

#[test]
fn sigterm_exits_within_the_grace_period_when_stdout_is_blocked() {
    // Log mode, and nobody reads serve's stdout: its pipe fills up.
    let mut s = Serve::start(&[]);
    let _stdout_kept_unread = s.stdout();
    let c = Client::connect(ClientConfig::new(s.addr.clone())).unwrap();
    let payload = vec![b'a'; 4096];
    for _ in 0..200 {
        c.send(200, &payload).unwrap();
    }
    c.ping(PATIENCE).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "serve hung after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert_eq!(status.code(), Some(0), "{status:?}");
    let summary = s.wait_stderr("served ");
    assert!(summary.contains("not written to stdout"), "{summary}");
}

// ---- serve ---------------------------------------------------------------

/// A raw client past the handshake.
fn raw_client(addr: &str) -> (TcpStream, Decoder) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut dec = Decoder::new(1 << 20);
    let hello = next_frame(&mut stream, &mut dec);
    let ack = Frame::new(types::HELLO_ACK, hello.request_id, handshake::encode_hello("1.6.3"));
    stream.write_all(&ack.encode().unwrap()).unwrap();
    // A PONG proves the server took the ACK: this client is established
    // (counted for broadcasts) before the test goes on.
    stream.write_all(&Frame::new(types::PING, 0x5050.into(), vec![]).encode().unwrap()).unwrap();
    let pong = next_frame(&mut stream, &mut dec);
    assert_eq!(pong.type_code, types::PONG, "{pong:?}");
    (stream, dec)
}

/// The next frame other than a heartbeat PING (which a busy machine may
/// see before the frame a test waits for).
fn next_frame(stream: &mut TcpStream, dec: &mut Decoder) -> Frame {
    loop {
        if let Some(f) = dec.next_frame().unwrap() {
            if f.type_code == types::PING {
                continue;
            }
            return f;
        }
        assert!(dec.read_from(stream, 65536).unwrap() > 0, "the server closed");
    }
}

#[test]
fn echo_and_broadcast_leave_system_messages_alone() {
    for mode in ["echo", "broadcast"] {
        let s = Serve::start(&["--mode", mode]);
        let (mut a, mut dec) = raw_client(&s.addr);
        let (mut b, mut b_dec) = raw_client(&s.addr);
        for t in [types::ERROR, types::HEARTBEAT, types::HELLO, types::HELLO_ACK, 21] {
            a.write_all(&Frame::new(t, 9.into(), b"sys".to_vec()).encode().unwrap()).unwrap();
        }
        a.write_all(&Frame::new(200, 5.into(), b"app".to_vec()).encode().unwrap()).unwrap();
        let (stream, dec) = if mode == "echo" { (&mut a, &mut dec) } else { (&mut b, &mut b_dec) };
        let f = next_frame(stream, dec);
        assert_eq!((f.type_code, f.payload.as_slice()), (200, &b"app"[..]), "{mode}");
    }
}

#[test]
fn the_summary_counts_messages_not_the_handshake() {
    let mut s = Serve::start(&["--mode", "echo"]);
    let c = Client::connect(ClientConfig::new(s.addr.clone())).unwrap();
    c.send_and_wait(200, b"one", PATIENCE).unwrap();
    assert!(s.interrupt().success());
    let summary = s.wait_stderr("served ");
    assert!(summary.contains("served 1 client in"), "{summary}");
    assert!(summary.ends_with(": 1 message in, 1 out"), "{summary}");
}

#[test]
fn connects_and_disconnects_are_logged_once() {
    let mut s = Serve::start(&["--mode", "echo"]);
    let c = Client::connect(ClientConfig::new(s.addr.clone())).unwrap();
    c.ping(PATIENCE).unwrap();
    c.disconnect();
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.interrupt().success());
    let lines = s.rest_of_stderr();
    let connects = lines.iter().filter(|l| l.contains(" connected")).count();
    let disconnects = lines.iter().filter(|l| l.contains("disconnected")).count();
    assert_eq!((connects, disconnects), (1, 1), "{lines:#?}");
}

#[test]
fn a_stdout_that_fails_is_named_as_such() {
    let mut cmd = veltix(["serve", "--host", "127.0.0.1", "-p", "0"]);
    cmd.stdout(std::fs::File::options().write(true).open("/dev/full").unwrap());
    cmd.stdin(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    let addr = loop {
        let n = err.read(&mut buf).unwrap();
        assert!(n > 0, "serve ended early: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(rest) = text.split("listening on ").nth(1) {
            if let Some(addr) = rest.split_whitespace().next() {
                break addr.to_string();
            }
        }
    };
    let _c = Client::connect(ClientConfig::new(addr)).unwrap();
    let status = child.wait().unwrap();
    err.read_to_string(&mut text).unwrap();
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("cannot write to stdout") && text.contains("No space left"), "{text}");
    assert!(!text.contains("stdout closed"), "{text}");
}

#[test]
fn serve_listens_on_a_bracketed_ipv6_host() {
    let mut cmd = veltix(["serve", "--host", "[::1]", "-p", "0", "--mode", "echo"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let rx = crate::util::line_reader(child.stderr.take().unwrap());
    let line = crate::util::next_line(&rx);
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("listening on [::1]:"), "{line}");
}

#[test]
fn settings_that_make_serve_useless_are_usage_errors() {
    for args in [
        vec!["--max-message-size", "0"],
        vec!["--max-message-size", "10"],
        vec!["--protocol-version", ""],
        vec!["--handshake-timeout", "1e19"],
        vec!["--exec-timeout", "1e19"],
        vec!["--max-connections", "0"],
        vec!["--max-outbound", "0"],
        vec!["--max-outbound", "100"],
        vec!["--wire", "2.0"],
    ] {
        let mut cmd = veltix(["serve", "-p", "0"]);
        cmd.args(&args);
        let out = run(cmd);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
    let long = "1".repeat(70_000);
    let out = run(veltix(["serve", "-p", "0", "--protocol-version", &long]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("at most 255"), "{}", stderr(&out));
}

// ---- small things ----------------------------------------------------------

#[test]
fn bad_values_are_usage_errors() {
    for args in [
        vec!["encode", "--id", "123"],
        vec!["encode", "--hex", "zz"],
        vec!["request", "127.0.0.1:1", "--hex", "zz"],
        vec!["request", "[::1]", "x"],
        vec!["request", "127.0.0.1:1", "--timeout", "99999999999999999999", "x"],
        vec!["ping", "127.0.0.1:1", "-W", "1e19"],
        vec!["connect", "127.0.0.1:1", "--linger", "1e19"],
    ] {
        let out = run(veltix(&args));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
    }
    let out = run(veltix(["request", "[::1]", "x"]));
    assert!(stderr(&out).contains("'[::1]' has no port"), "{}", stderr(&out));
}

#[test]
fn encode_into_a_closed_pipe_exits_0_quietly() {
    let mut cmd = veltix(["encode", "--output", "bin", "-"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    child.stdin.take().unwrap().write_all(&[b'x'; 100_000]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

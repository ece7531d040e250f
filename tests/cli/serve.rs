//! `veltix serve` in each mode, driven by `request`, `ping`, the library and
//! raw sockets.

use std::io::Write;
use std::time::Duration;

use veltix::{Client, ClientConfig};

use crate::util::{code, line_reader, next_line, run, stdout, veltix, Serve};

const T: Duration = Duration::from_secs(5);

fn client(s: &Serve) -> Client {
    Client::connect(ClientConfig::new(s.addr.clone())).expect("connect")
}

#[test]
fn echo_mode_answers_request_and_ping() {
    let s = Serve::start(&["--mode", "echo"]);
    let out = run(veltix(["request", &s.addr, "hello"]));
    assert_eq!(code(&out), 0, "{}", crate::util::stderr(&out));
    assert_eq!(stdout(&out), "hello");
    let out = run(veltix(["ping", &s.addr, "-c", "3", "-i", "0.01"]));
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert_eq!(text.matches("pong from").count(), 3, "{text}");
    assert!(text.contains("3 sent, 3 received, 0% loss"), "{text}");
    assert!(text.contains("rtt min/avg/max/mdev = "), "{text}");
}

#[test]
fn echo_keeps_type_and_request_id() {
    let s = Serve::start(&["--mode", "echo"]);
    let c = client(&s);
    let r = c.send_and_wait(345, b"\x00\x01binary", T).unwrap();
    assert_eq!((r.type_code, r.payload.as_slice()), (345, &b"\x00\x01binary"[..]));
}

#[test]
fn log_mode_prints_messages_and_connects_as_ndjson() {
    let mut s = Serve::start(&["--json", "--type-name", "200=chat"]);
    let lines = line_reader(s.stdout());
    let c = client(&s);
    c.send(200, b"hi there").unwrap();
    c.send(201, &[0xff, 0x00]).unwrap();
    let connect: serde_json::Value = serde_json::from_str(&next_line(&lines)).unwrap();
    assert_eq!(connect["event"], "connect");
    assert_eq!(connect["version"], "1.6.3");
    let m1: serde_json::Value = serde_json::from_str(&next_line(&lines)).unwrap();
    assert_eq!(
        (&m1["event"], &m1["type_name"], &m1["payload_text"], &m1["size"]),
        (&"message".into(), &"chat".into(), &"hi there".into(), &8.into())
    );
    assert_eq!(m1["request_id"].as_str().unwrap().len(), 8);
    let m2: serde_json::Value = serde_json::from_str(&next_line(&lines)).unwrap();
    assert_eq!((&m2["type_code"], &m2["payload_hex"]), (&201.into(), &"ff00".into()));
    c.disconnect();
    let gone: serde_json::Value = serde_json::from_str(&next_line(&lines)).unwrap();
    assert_eq!(gone["event"], "disconnect");
}

#[test]
fn log_mode_text_shows_text_and_hexdumps() {
    let mut s = Serve::start(&[]);
    let lines = line_reader(s.stdout());
    let c = client(&s);
    c.send(200, b"plain words").unwrap();
    c.send(200, &[1, 2, 3, 0xfe]).unwrap();
    assert!(next_line(&lines).contains("connected"));
    let l = next_line(&lines);
    assert!(l.contains("type_200(200)") && l.ends_with("plain words"), "{l}");
    assert!(next_line(&lines).contains("4 B"));
    let dump = next_line(&lines);
    assert!(dump.contains("01 02 03 fe"), "{dump}");
}

#[test]
fn broadcast_mode_relays_to_the_others_only() {
    let s = Serve::start(&["--mode", "broadcast"]);
    let (tx_a, rx_a) = std::sync::mpsc::channel();
    let (tx_b, rx_b) = std::sync::mpsc::channel();
    let a = Client::builder(ClientConfig::new(s.addr.clone()))
        .on_message(move |_, f| tx_a.send(f.payload).unwrap())
        .connect()
        .unwrap();
    let _b = Client::builder(ClientConfig::new(s.addr.clone()))
        .on_message(move |_, f| tx_b.send(f.payload).unwrap())
        .connect()
        .unwrap();
    // Both must be established before A speaks.
    a.ping(T).unwrap();
    _b.ping(T).unwrap();
    a.send(200, b"hello room").unwrap();
    assert_eq!(rx_b.recv_timeout(T).unwrap(), b"hello room");
    assert!(rx_a.recv_timeout(Duration::from_millis(300)).is_err(), "sender got its own message");
}

#[test]
fn sink_mode_counts_and_prints_a_rate() {
    let mut s = Serve::start(&["--mode", "sink", "--json"]);
    let lines = line_reader(s.stdout());
    let c = client(&s);
    for i in 0..100u32 {
        c.send(200, &i.to_be_bytes()).unwrap();
    }
    // Rate lines come every second; wait for the total to reach 100.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v: serde_json::Value = serde_json::from_str(&next_line(&lines)).unwrap();
        if v["event"] != "rate" {
            assert_eq!(v["event"], "connect");
            continue;
        }
        if v["total_msgs"] == 100 {
            assert_eq!(v["total_bytes"], 400);
            break;
        }
        assert!(std::time::Instant::now() < deadline);
    }
}

#[test]
fn exec_mode_replies_with_stdout_and_errors_with_stderr() {
    let s =
        Serve::start(&["--mode", "exec", "--", "sh", "-c", "tr a-z A-Z; echo \" $VELTIX_TYPE\""]);
    let out = run(veltix(["request", &s.addr, "shout", "--type", "222"]));
    assert_eq!(code(&out), 0, "{}", crate::util::stderr(&out));
    assert_eq!(stdout(&out), "SHOUT 222\n");
    let s = Serve::start(&["--mode", "exec", "--", "sh", "-c", "echo broken >&2; exit 3"]);
    let out = run(veltix(["request", &s.addr, "x"]));
    assert_eq!(code(&out), 5, "an ERROR reply is a protocol error from the peer");
    assert!(crate::util::stderr(&out).contains("broken"), "{}", crate::util::stderr(&out));
    // The server goes on after a failing command.
    let out = run(veltix(["ping", &s.addr, "-c", "1"]));
    assert_eq!(code(&out), 0);
}

#[test]
fn exec_needs_a_command_and_others_refuse_one() {
    let out = run(veltix(["serve", "-p", "0", "--mode", "exec"]));
    assert_eq!(code(&out), 1);
    assert!(crate::util::stderr(&out).contains("needs a command"));
    let out = run(veltix(["serve", "-p", "0", "--", "cat"]));
    assert_eq!(code(&out), 1);
    assert!(crate::util::stderr(&out).contains("only used with --mode exec"));
}

#[test]
fn stdin_lines_are_broadcast_with_the_given_type() {
    let mut s = Serve::start(&["--type", "250", "--mode", "sink"]);
    let (tx, rx) = std::sync::mpsc::channel();
    let c = Client::builder(ClientConfig::new(s.addr.clone()))
        .on_message(move |_, f| tx.send((f.type_code, f.payload)).unwrap())
        .connect()
        .unwrap();
    c.ping(T).unwrap();
    let mut stdin = s.child.stdin.take().unwrap();
    writeln!(stdin, "announcement").unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap(), (250, b"announcement".to_vec()));
}

#[test]
fn max_connections_refuses_the_excess_with_a_reason() {
    let s = Serve::start(&["--mode", "echo", "--max-connections", "1"]);
    let a = client(&s);
    a.ping(T).unwrap();
    let out = run(veltix(["ping", &s.addr, "-c", "1"]));
    assert_eq!(code(&out), 3);
    assert!(crate::util::stderr(&out).contains("server full"), "{}", crate::util::stderr(&out));
    assert!(a.ping(T).is_ok());
}

#[test]
fn interrupt_shuts_down_cleanly_with_a_summary() {
    let mut s = Serve::start(&["--mode", "echo"]);
    let c = client(&s);
    c.send_and_wait(200, b"one", T).unwrap();
    let status = s.interrupt();
    assert!(status.success(), "{status:?}");
    let summary = s.wait_stderr("served");
    assert!(summary.contains("served 1 client") && summary.contains("1 message in"), "{summary}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let out = run(veltix(["serve", "--host", "127.0.0.1", "-p", &port]));
    assert_eq!(code(&out), 1);
    let err = crate::util::stderr(&out);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[test]
fn server_settings_are_applied() {
    // A frame over --max-message-size closes that client with an ERROR.
    let s = Serve::start(&["--mode", "echo", "--max-message-size", "1K"]);
    let out = run(veltix(["request", &s.addr, "--hex", &"00".repeat(2000)]));
    assert_eq!(code(&out), 5, "{}", crate::util::stderr(&out));
    assert!(crate::util::stderr(&out).contains("limit of 1024"));
    // A different protocol version is refused by clients of 1.6.3.
    let s = Serve::start(&["--protocol-version", "1.7.0"]);
    let out = run(veltix(["request", &s.addr, "x"]));
    assert_eq!(code(&out), 3);
    assert!(crate::util::stderr(&out).contains("1.7.0"));
    // The poll core runs as many I/O threads as asked for.
    let s = Serve::start(&["--mode", "echo", "--core", "poll", "--io-threads", "3"]);
    // Callback workers start as callbacks come (a connect, a message), up
    // to the default 4: none before the first client.
    assert_eq!(threads_named(&s, "veltix-srv-cb"), 0, "no callback yet");
    let out = run(veltix(["ping", &s.addr, "-c", "1"]));
    assert_eq!(code(&out), 0, "{}", crate::util::stderr(&out));
    assert_eq!(threads_named(&s, "veltix-srv-io"), 3);
    let out = run(veltix(["request", &s.addr, "x"]));
    assert_eq!(code(&out), 0, "{}", crate::util::stderr(&out));
    let workers = threads_named(&s, "veltix-srv-cb");
    assert!((1..=4).contains(&workers), "{workers} callback workers");
    let out = run(veltix(["serve", "--core", "poll", "--io-threads", "0"]));
    assert_eq!(code(&out), 2, "{}", crate::util::stderr(&out));
    // --workers 0: callbacks on the reading thread (no worker threads at
    // all); the echo still answers.
    for core in ["threads", "poll"] {
        let s = Serve::start(&["--mode", "echo", "--core", core, "--workers", "0"]);
        let out = run(veltix(["request", &s.addr, "inline"]));
        assert_eq!(code(&out), 0, "{core}: {}", crate::util::stderr(&out));
        assert!(crate::util::stdout(&out).contains("inline"), "{core}");
        assert_eq!(threads_named(&s, "veltix-srv-cb"), 0, "{core}");
    }
}

/// Threads of the `veltix serve` child whose name starts with `prefix`.
fn threads_named(s: &Serve, prefix: &str) -> usize {
    std::fs::read_dir(format!("/proc/{}/task", s.child.id()))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[test]
fn serve_maps_no_libm() {
    // The binary defines the four math functions its crates call
    // (src/math.rs), so the loader maps no libm.so for an idle server. A
    // new call to another libm function brings it back: define that one
    // there too.
    let s = Serve::start(&[]);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", s.child.id())).unwrap();
    assert!(maps.contains("libc.so"), "not a dynamically linked glibc binary?");
    assert!(!maps.contains("libm.so"), "{maps}");
}

#[test]
fn the_first_allocator_arena_is_64_mib_unless_the_environment_says() {
    // src/alloc.rs sets mimalloc's arena reservation from .init_array:
    // set any later (in main), the runtime's first allocation would have
    // reserved the default 1 GiB already. mimalloc says what it reserved.
    let reserved = |env: &[(&str, &str)]| {
        let mut cmd = veltix(["--version"]);
        cmd.env("MIMALLOC_VERBOSE", "1").env_remove("MIMALLOC_ARENA_RESERVE");
        cmd.envs(env.iter().copied());
        let err = crate::util::stderr(&run(cmd));
        err.lines().find(|l| l.starts_with("mimalloc: reserved ")).map(str::to_owned)
    };
    assert_eq!(reserved(&[]).as_deref(), Some("mimalloc: reserved 65536 KiB memory"));
    let theirs = reserved(&[("MIMALLOC_ARENA_RESERVE", "256M")]);
    assert_eq!(theirs.as_deref(), Some("mimalloc: reserved 262144 KiB memory"));
}

//! The binary against the real reference, Python veltix 1.6.3: `veltix
//! request` and `veltix ping` against a reference server, reference clients
//! against `veltix serve`, and `veltix encode` output parsed by the
//! reference's `Request.parse`. The reference runs from the scripts in
//! `tests/py/` (`ref_server.py`, `ref_client.py`: one JSON command per line
//! in, one JSON result per line out).

use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use serde_json::{json, Value};

use crate::common::python;
use crate::common::ref_peer::{field, Py, DEADLINE};
use crate::util::{code, line_reader, run, stderr, stdout, tohex, unhex, veltix};

/// `veltix serve -p 0 --host 127.0.0.1 ARGS...`, killed on drop.
struct Serve {
    child: Child,
    port: u16,
    stdout: Receiver<String>,
}

impl Serve {
    /// Starts the server and reads its port from the "listening on" line.
    fn start(args: &[&str]) -> Serve {
        let mut cmd = veltix(["serve", "-p", "0", "--host", "127.0.0.1"]);
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start veltix serve");
        let stdout = line_reader(child.stdout.take().expect("piped stdout"));
        let stderr = line_reader(child.stderr.take().expect("piped stderr"));
        let deadline = Instant::now() + DEADLINE;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = stderr.recv_timeout(left).expect("veltix serve says where it listens");
            if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                break digits.parse().expect("a port after 'listening on'");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || while stderr.recv().is_ok() {});
        Serve { child, port, stdout }
    }

    /// The next `--json` event on stdout.
    fn event(&self) -> Value {
        let line = self.stdout.recv_timeout(DEADLINE).expect("an event from veltix serve");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ref_server(args: &[&str]) -> Py {
    Py::server(args)
}

fn ref_client(port: u16, extra: &[&str]) -> Py {
    Py::client(port, extra)
}

#[test]
fn request_gets_its_payload_back_from_a_python_echo_server() {
    let mut py = ref_server(&["--echo", "--register", "200=chat"]);
    let addr = format!("127.0.0.1:{}", py.port);
    let out = run(veltix(["request", &addr, "Hello Server!"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello Server!");
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!(
        (&seen["type"], field(&seen, "hex")),
        (&json!(200), tohex(b"Hello Server!").as_str())
    );

    // Binary, with the metadata: the reply carries the request's id.
    let out = run(veltix(["request", &addr, "--hex", "00ff10", "--json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let reply: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON record");
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!(field(&seen, "hex"), "00ff10");
    assert_eq!(reply["payload_hex"], "00ff10", "{reply}");
    assert_eq!(reply["request_id"], seen["request_id"], "{reply}");
}

#[test]
fn ping_gets_three_pongs_from_a_python_server() {
    let py = ref_server(&[]);
    let addr = format!("127.0.0.1:{}", py.port);
    let out = run(veltix(["ping", &addr, "-c", "3", "-i", "10ms"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("PING {addr} (veltix 1.6.3, wire 1.6)")), "{text}");
    assert_eq!(text.matches(&format!("pong from {addr}: seq=")).count(), 3, "{text}");
    assert!(text.contains("3 sent, 3 received, 0% loss"), "{text}");
}

#[test]
fn python_client_requests_and_pings_veltix_serve_in_echo_mode() {
    let serve = Serve::start(&["--mode", "echo"]);
    let mut py = ref_client(serve.port, &["--register", "200=chat"]);
    let r = py.cmd(json!({"op": "send_and_wait", "type": 200, "hex": tohex(b"Hello Server!")}));
    assert_eq!(r["type"], 200);
    assert_eq!(field(&r, "request_id"), field(&r, "sent_request_id"));
    assert_eq!(unhex(field(&r, "hex")), b"Hello Server!");
    let r = py.cmd(json!({"op": "ping"}));
    let ms = r["latency_ms"].as_i64().unwrap_or_else(|| panic!("latency: {r}"));
    assert!((0..5_000).contains(&ms), "{r}");
}

#[test]
fn two_python_clients_chat_through_veltix_serve_in_broadcast_mode() {
    let serve = Serve::start(&["--mode", "broadcast", "--json"]);
    let mut alice = ref_client(serve.port, &["--register", "200=chat"]);
    let mut bob = ref_client(serve.port, &["--register", "200=chat"]);
    // Both handshakes done on the server's side before anyone talks.
    for _ in 0..2 {
        let ev = serve.event();
        assert_eq!((&ev["event"], &ev["version"]), (&json!("connect"), &json!("1.6.3")), "{ev}");
    }
    alice.cmd(json!({"op": "send", "type": 200, "hex": tohex(b"hi bob")}));
    let got = bob.cmd(json!({"op": "recv"}));
    assert_eq!((&got["type"], unhex(field(&got, "hex"))), (&json!(200), b"hi bob".to_vec()));
    bob.cmd(json!({"op": "send", "type": 200, "hex": tohex(b"hi alice")}));
    // Had alice's own message come back, it would have arrived first.
    let got = alice.cmd(json!({"op": "recv"}));
    assert_eq!(unhex(field(&got, "hex")), b"hi alice");
}

#[test]
fn encode_output_parses_in_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payload.bin");
    let payload: Vec<u8> =
        (0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(&path, &payload).unwrap();
    let cases: [(Vec<String>, Vec<u8>); 2] = [
        (vec!["--type".into(), "chat".into(), "héllo 世界".into()], "héllo 世界".into()),
        (vec!["--type".into(), "201".into(), format!("@{}", path.display())], payload),
    ];
    for (args, payload) in cases {
        let before = veltix::frame::now_ms();
        let mut cmd = veltix(["--type-name", "200=chat", "encode", "--id", "0badc0de"]);
        cmd.args(&args);
        let out = run(cmd);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let after = veltix::frame::now_ms();
        // Hex on stdin: a 64 KiB payload does not fit one argv string.
        let parsed = python::run_py_input(
            "parse_frame.py",
            &["-", "--register=200=chat", "--register=201"],
            tohex(&out.stdout).as_bytes(),
        );
        let parsed: Value =
            serde_json::from_str(&python::expect_success(&parsed, "parse_frame.py"))
                .expect("parse_frame.py prints JSON");
        let type_code = if payload.len() > 1000 { 201 } else { 200 };
        assert_eq!(parsed["type_code"], type_code, "{args:?}");
        assert_eq!(parsed["request_id_hex"], "0badc0de");
        assert_eq!(parsed["size"], payload.len());
        assert!(unhex(field(&parsed, "content_hex")) == payload, "{args:?}: content differs");
        let ts = parsed["timestamp_ms"].as_u64().expect("timestamp");
        assert!((before..=after).contains(&ts), "timestamp {ts} outside the run");
    }
}

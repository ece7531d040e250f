//! The `veltix` binary with the real 3.3.0: `ping`, `request` and
//! `connect` (pipe mode) against a 3.3.0 server with no `--wire` (the
//! profile is detected), and 3.3.0 clients against `veltix serve --wire vx`
//! in every mode.

use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use serde_json::{json, Value};

use crate::common::bin::{code, line_reader, run, run_with_stdin, stderr, stdout, veltix};
use crate::common::hex::{hex, unhex};
use crate::common::ref_peer::{field, Py, DEADLINE};
use crate::{assert_latency, num, ECHO};

/// `veltix serve --wire vx -p 0 --host 127.0.0.1 ARGS...`, killed on drop.
struct ServeVx {
    child: Child,
    port: u16,
    stdout: Receiver<String>,
}

impl ServeVx {
    /// Starts the server and reads its port from the "listening on" line.
    fn start(args: &[&str]) -> ServeVx {
        let mut cmd = veltix(["serve", "--wire", "vx", "-p", "0", "--host", "127.0.0.1"]);
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start veltix serve");
        let stdout = line_reader(child.stdout.take().expect("piped stdout"));
        let stderr = line_reader(child.stderr.take().expect("piped stderr"));
        let deadline = Instant::now() + DEADLINE;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = stderr.recv_timeout(left).unwrap_or_else(|e| {
                let _ = child.kill();
                panic!("veltix serve {args:?} never said where it listens ({e})")
            });
            if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                break digits.parse().expect("a port after 'listening on'");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || while stderr.recv().is_ok() {});
        ServeVx { child, port, stdout }
    }

    /// The next `--json` record on stdout.
    fn event(&self) -> Value {
        let line = self.stdout.recv_timeout(DEADLINE).expect("a record from veltix serve");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// The next `--json` record whose "event" is `kind` (others skipped).
    fn event_of(&self, kind: &str) -> Value {
        loop {
            let ev = self.event();
            if ev["event"] == kind {
                return ev;
            }
        }
    }
}

impl Drop for ServeVx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 3.3.0 echo server (type 200 registered), and its address.
fn vx_echo_server() -> (Py, String) {
    let py = Py::vx_server(&["--mode", "echo", "--register", "200"]);
    let addr = format!("127.0.0.1:{}", py.port);
    (py, addr)
}

#[test]
fn ping_detects_a_vx_server_and_gets_three_pongs() {
    let py = Py::vx_server(&[]);
    let addr = format!("127.0.0.1:{}", py.port);
    let out = run(veltix(["ping", &addr, "-c", "3", "-i", "10ms"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    // The first line names what was detected.
    assert!(text.starts_with(&format!("PING {addr} (veltix 3.3.0, wire vx)")), "{text}");
    assert_eq!(text.matches(&format!("pong from {addr}: seq=")).count(), 3, "{text}");
    assert!(text.contains("3 sent, 3 received, 0% loss"), "{text}");
}

#[test]
fn request_detects_a_vx_echo_server_and_prints_the_reply() {
    let (mut py, addr) = vx_echo_server();
    let out = run(veltix(["request", &addr, "hello"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello");
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!((&seen["type"], field(&seen, "hex")), (&json!(ECHO), hex(b"hello").as_str()));

    // With the metadata: the reply carries the request's id, a VX one.
    let out = run(veltix(["request", &addr, "--hex", "00ff10", "--json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let reply: Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON record");
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!(field(&seen, "hex"), "00ff10");
    assert_eq!(reply["payload_hex"], "00ff10", "{reply}");
    let id = reply["request_id"].as_str().unwrap_or_else(|| panic!("request_id: {reply}"));
    assert_eq!(u64::from_str_radix(id, 16).ok(), Some(num(&seen, "request_id")), "{reply}");
}

#[test]
fn connect_pipe_mode_detects_a_vx_echo_server_and_prints_the_replies() {
    let (mut py, addr) = vx_echo_server();
    let out = run_with_stdin(veltix(["connect", &addr, "--linger", "2s"]), b"hi\nthere\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "hi\nthere\n");
    for line in ["hi", "there"] {
        let seen = py.cmd(json!({"op": "recv"}));
        assert_eq!(unhex(field(&seen, "hex")), line.as_bytes());
    }
}

#[test]
fn vx_client_requests_and_pings_serve_wire_vx_in_echo_mode() {
    let serve = ServeVx::start(&["--mode", "echo"]);
    let mut py = Py::vx_client(serve.port, &[]);
    for payload in [&b""[..], b"Hello Server!", &[0u8, 255, 10][..]] {
        let r = py.cmd(json!({"op": "send_and_wait", "type": ECHO, "hex": hex(payload)}));
        assert_eq!(r["type"], ECHO);
        assert_eq!(num(&r, "request_id"), num(&r, "sent_request_id"));
        assert_eq!(unhex(field(&r, "hex")), payload);
    }
    assert_latency(&py.cmd(json!({"op": "ping"})));
}

#[test]
fn two_vx_clients_chat_through_serve_wire_vx_in_broadcast_mode() {
    let serve = ServeVx::start(&["--mode", "broadcast", "--json"]);
    let port = serve.port;
    let (mut alice, mut bob) = std::thread::scope(|s| {
        let a = s.spawn(move || Py::vx_client(port, &["--register", "200"]));
        let b = s.spawn(move || Py::vx_client(port, &["--register", "200"]));
        (a.join().expect("alice"), b.join().expect("bob"))
    });
    // Both handshakes done on the server's side before anyone talks.
    for _ in 0..2 {
        let ev = serve.event_of("connect");
        assert_eq!(ev["version"], "3.3.0", "{ev}");
    }
    alice.cmd(json!({"op": "send", "type": ECHO, "hex": hex(b"hi bob")}));
    let got = bob.cmd(json!({"op": "recv"}));
    assert_eq!((&got["type"], unhex(field(&got, "hex"))), (&json!(ECHO), b"hi bob".to_vec()));
    bob.cmd(json!({"op": "send", "type": ECHO, "hex": hex(b"hi alice")}));
    // Had alice's own message come back, it would have arrived first.
    let got = alice.cmd(json!({"op": "recv"}));
    assert_eq!(unhex(field(&got, "hex")), b"hi alice");
}

#[test]
fn serve_wire_vx_logs_a_vx_clients_messages() {
    let serve = ServeVx::start(&["--json", "--type-name", "200=chat"]);
    let mut py = Py::vx_client(serve.port, &[]);
    let connect = serve.event_of("connect");
    assert_eq!(connect["version"], "3.3.0", "{connect}");
    let sent = py.cmd(json!({"op": "send", "type": ECHO, "hex": hex(b"hi there")}));
    let m = serve.event_of("message");
    assert_eq!(
        (&m["type_name"], &m["payload_text"], &m["size"]),
        (&json!("chat"), &json!("hi there"), &json!(8)),
        "{m}"
    );
    let id = m["request_id"].as_str().unwrap_or_else(|| panic!("request_id: {m}"));
    assert_eq!(u64::from_str_radix(id, 16).ok(), Some(num(&sent, "request_id")), "{m}");
    // Log mode answers nothing but PINGs.
    assert_latency(&py.cmd(json!({"op": "ping"})));
}

#[test]
fn serve_wire_vx_sinks_a_vx_clients_messages() {
    let serve = ServeVx::start(&["--mode", "sink", "--json"]);
    let mut py = Py::vx_client(serve.port, &[]);
    py.cmd(json!({"op": "send_many", "type": ECHO, "hex": hex(b"four"), "n": 100}));
    // Rate lines come every second; wait for the total to reach 100.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let rate = serve.event_of("rate");
        if rate["total_msgs"] == 100 {
            assert_eq!(rate["total_bytes"], 400, "{rate}");
            break;
        }
        assert!(Instant::now() < deadline, "the sink never counted 100 messages: {rate}");
    }
    // Nothing is answered, and the connection lives on.
    let r = py.ask(&json!({"op": "send_and_wait", "type": ECHO, "hex": "", "timeout": 0.3}));
    assert_eq!(r, json!({"ok": false, "error": "no reply"}));
    assert_latency(&py.cmd(json!({"op": "ping"})));
}

#[test]
fn serve_wire_vx_execs_cat_for_a_vx_client() {
    let serve = ServeVx::start(&["--mode", "exec", "--", "cat"]);
    let mut py = Py::vx_client(serve.port, &[]);
    let payload: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    for data in [&b"through cat"[..], &payload[..]] {
        let r = py.cmd(json!({"op": "send_and_wait", "type": 222, "hex": hex(data)}));
        assert_eq!(r["type"], 222);
        assert_eq!(num(&r, "request_id"), num(&r, "sent_request_id"));
        assert!(unhex(field(&r, "hex")) == data, "{} B: cat's output differs", data.len());
    }
}

/// `veltix decode` reads frames made by 3.3.0's own `Request.compile()`,
/// detecting the profile, with every CRC good.
#[test]
fn decode_reads_what_3_3_0_compiles() {
    let out = crate::common::python_vx::vx_command(
        "vx_compile.py",
        &["200:0:hello", "0:7:", "1:7:", "9999:32768:last"],
    )
    .output()
    .expect("run vx_compile.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(&out.stdout[..2], b"VX");
    let decoded = run_with_stdin(veltix(["decode", "--json", "-"]), &out.stdout);
    assert_eq!(code(&decoded), 0, "{}", stderr(&decoded));
    let frames: Vec<Value> =
        stdout(&decoded).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let frames: Vec<&Value> = frames.iter().filter(|f| f.get("type_code").is_some()).collect();
    assert_eq!(frames.len(), 4, "{}", stdout(&decoded));
    for f in &frames {
        assert_eq!(f["wire"], "vx", "{f}");
        assert_eq!(f["crc_ok"], true, "{f}");
    }
    assert_eq!(frames[0]["type_code"], 200);
    assert_eq!(frames[3]["type_code"], 9999);
}

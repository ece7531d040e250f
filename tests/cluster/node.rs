//! One `veltix serve --mode broadcast --json --redis URL` node, killed on
//! drop, and its `--json` events.

use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use serde_json::Value;

use crate::common::bin::{line_reader, veltix};
use crate::common::PATIENCE;

pub struct Node {
    child: Child,
    pub port: u16,
    events: Receiver<String>,
    /// The relay events seen so far ("up" or "down"), in order.
    pub relay_states: Vec<String>,
    /// Stderr lines (kept for failure messages and log checks).
    stderr: Receiver<String>,
    pub log: Vec<String>,
}

impl Node {
    /// Starts a node relaying through `redis_url`, plus `extra` arguments,
    /// and reads its port from the "listening on" line.
    pub fn start(redis_url: &str, extra: &[&str]) -> Node {
        let mut cmd = veltix(["serve", "-p", "0", "--host", "127.0.0.1", "--mode", "broadcast"]);
        cmd.args(["--json", "--redis", redis_url]).args(extra);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start veltix serve: {e}"));
        let events = line_reader(child.stdout.take().expect("piped stdout"));
        let stderr = line_reader(child.stderr.take().expect("piped stderr"));
        let mut node =
            Node { child, port: 0, events, relay_states: Vec::new(), stderr, log: Vec::new() };
        let line = node.log_line_with("listening on 127.0.0.1:");
        let rest = line.split("listening on 127.0.0.1:").nth(1).unwrap_or_default();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        node.port = digits.parse().unwrap_or_else(|e| panic!("no port in {line:?}: {e}"));
        node
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn log_line_with(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(e) => {
                    panic!("no {needle:?} on serve's stderr ({e}); it said:\n{:#?}", self.log)
                }
            }
        }
    }

    /// Reads events until one satisfies `want`, which it returns; relay
    /// events on the way are recorded in `relay_states`.
    pub fn event(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.events.recv_timeout(left).unwrap_or_else(|e| {
                panic!("no event {what} ({e}); relay: {:?}", self.relay_states)
            });
            let ev: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if ev["event"] == "relay" {
                self.relay_states.push(ev["state"].as_str().unwrap_or_default().to_string());
            }
            if want(&ev) {
                return ev;
            }
        }
    }

    /// Waits for the relay to report `state` ("up" or "down").
    pub fn relay(&mut self, state: &str) -> Value {
        self.event(&format!("relay {state}"), |e| e["event"] == "relay" && e["state"] == state)
    }

    /// Waits for `n` clients to connect (their handshake done).
    pub fn connected(&mut self, n: usize) {
        for _ in 0..n {
            self.event("connect", |e| e["event"] == "connect");
        }
    }

    /// Stops it with SIGTERM and returns its summary line.
    pub fn stop(mut self) -> String {
        // SAFETY: kill(2) with a pid this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.log_line_with("served ")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

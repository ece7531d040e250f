//! A running reference script: `tests/py/ref_server.py` or
//! `ref_client.py` (1.6.3), `vx_server.py` or `vx_client.py` (3.3.0, the VX
//! wire). One JSON command per line in, one JSON result per line out, its
//! port from a first `READY <port>` line. Killed on drop.

use std::io::{Read, Write};
use std::process::{ChildStdin, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use veltix::{Peer, Server};

use super::bin::line_reader;
use super::python::{self, Reference};

/// Deadline for the readiness line and for each command's answer.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A running reference script (killed on drop).
pub struct Py {
    child: python::KillOnDrop,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// From the `READY <port>` line: the server's port, or the client's
    /// local port.
    pub port: u16,
    /// The script and its arguments, for failure messages.
    pub name: String,
}

impl Py {
    /// Starts the 1.6.3 `script ARGS...` and waits (with a deadline) for
    /// `READY <port>`.
    pub fn start(script: &str, args: &[String]) -> Py {
        Py::start_in(&python::V1_6_3, script, args)
    }

    /// Starts `script ARGS...` with `reference`'s Python and waits (with a
    /// deadline) for `READY <port>`.
    pub fn start_in(reference: &Reference, script: &str, args: &[String]) -> Py {
        let (mut py, ready) = Py::spawn(reference, script, args);
        py.port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| py.fail(&format!("expected READY <port>, got {ready:?}")));
        py
    }

    /// Starts a script that must fail instead of printing `READY` (a
    /// client the server refuses): its first line and exit status.
    pub fn start_refused(
        reference: &Reference,
        script: &str,
        args: &[String],
    ) -> (String, ExitStatus) {
        let (mut py, first) = Py::spawn(reference, script, args);
        if first.starts_with("READY ") {
            py.fail(&format!("expected a refusal, got {first:?}"));
        }
        match py.child.wait() {
            Ok(status) => (first, status),
            Err(e) => py.fail(&format!("cannot wait for it: {e}")),
        }
    }

    /// Starts the script and reads its first stdout line.
    fn spawn(reference: &Reference, script: &str, args: &[String]) -> (Py, String) {
        let mut child = reference
            .command(script, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = line_reader(child.stdout.take().expect("piped stdout"));
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        // The reference logs every connection; keep it for failure messages.
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err_pipe.read(&mut buf) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let name = format!("{script} {}", args.join(" "));
        let mut py = Py { child: python::KillOnDrop(child), stdin, lines, stderr, port: 0, name };
        let first = py.line();
        (py, first)
    }

    /// A reference client (`ref_client.py`) of the server on
    /// 127.0.0.1:`port`.
    pub fn client(port: u16, extra: &[&str]) -> Py {
        Py::start("ref_client.py", &client_args(port, extra))
    }

    /// A reference server (`ref_server.py`) on a free loopback port.
    pub fn server(extra: &[&str]) -> Py {
        Py::start("ref_server.py", &strings(extra))
    }

    /// A 3.3.0 client (`vx_client.py`) of the server on 127.0.0.1:`port`.
    pub fn vx_client(port: u16, extra: &[&str]) -> Py {
        Py::start_in(&python::V3_3_0, "vx_client.py", &client_args(port, extra))
    }

    /// A 3.3.0 server (`vx_server.py`) on a free loopback port.
    pub fn vx_server(extra: &[&str]) -> Py {
        Py::start_in(&python::V3_3_0, "vx_server.py", &strings(extra))
    }

    /// A Rust server's view of this client script, found by the client's
    /// local port (from its READY line), within [`DEADLINE`]: the script's
    /// connect() returns once its own side of the handshake is done, the
    /// server's may complete a moment later.
    pub fn peer_in(&mut self, server: &Server) -> Peer {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(p) = server.clients().into_iter().find(|p| p.addr().port() == self.port) {
                return p;
            }
            if Instant::now() >= deadline {
                self.fail("never became a client of the server");
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Fails the test, with the script's exit status and stderr.
    pub fn fail(&mut self, what: &str) -> ! {
        let status = self.child.try_wait().ok().flatten();
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!("{}: {what} (exit status: {status:?})\n--- its stderr ---\n{stderr}", self.name)
    }

    /// The next line on the script's stdout, within [`DEADLINE`].
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(DEADLINE) {
            Ok(line) => line,
            Err(e) => self.fail(&format!("no line on stdout within {DEADLINE:?} ({e})")),
        }
    }

    /// Sends one command that must succeed and returns its result.
    pub fn cmd(&mut self, cmd: Value) -> Value {
        let result = self.ask(&cmd);
        if result["ok"] != true {
            self.fail(&format!("{cmd} failed: {result}"));
        }
        result
    }

    /// Sends one command and returns its result, whether it succeeded or
    /// not (`"ok"` says).
    pub fn ask(&mut self, cmd: &Value) -> Value {
        let text = format!("{cmd}\n");
        if let Err(e) = self.stdin.write_all(text.as_bytes()).and_then(|()| self.stdin.flush()) {
            self.fail(&format!("cannot write a command: {e}"));
        }
        let line = self.line();
        serde_json::from_str(&line)
            .unwrap_or_else(|e| self.fail(&format!("answered with bad JSON ({e}): {line}")))
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A client script's arguments: the server's address, then `extra`.
fn client_args(port: u16, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["127.0.0.1".to_string(), port.to_string()];
    args.extend(strings(extra));
    args
}

/// A string field of a script's result.
pub fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name].as_str().unwrap_or_else(|| panic!("no string {name:?} in {v}"))
}

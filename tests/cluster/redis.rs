//! A real `redis-server` on a free loopback port, for the tests' nodes to
//! share. Killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting redis-server may take to answer PING.
const START: Duration = Duration::from_secs(10);

/// A running `redis-server` (no persistence), killed on drop.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
}

impl Redis {
    /// Starts redis-server on a free port (picked by binding port 0 and
    /// letting go: another process may take it first, then it tries
    /// another). Fails, saying how to get it, when redis-server is missing.
    pub fn start() -> Redis {
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = spawn(port) {
                return Redis { child: Some(child), port };
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills it at once (SIGKILL): its clients see their connections drop.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START;
        loop {
            if let Some(child) = spawn(self.port) {
                self.child = Some(child);
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not restart on {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Starts redis-server on `port`; None when it exits (the port was taken)
/// before it answers PING.
fn spawn(port: u16) -> Option<Child> {
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run redis-server ({e}): these tests need a real one on PATH; \
                 install it (Debian/Ubuntu: apt-get install redis-server; .ci/run does)"
            )
        });
    let deadline = Instant::now() + START;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return None;
        }
        if pong(port) {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Whether a redis-server on `port` answers PING.
fn pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

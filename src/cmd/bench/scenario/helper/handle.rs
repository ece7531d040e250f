//! The parent's side of the helper process: starting it with the bench's
//! connection settings, and the line protocol described in `helper`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ValueEnum;

use crate::args::ConnArgs;
use crate::cmd::bench::scenario::endpoint::Ctx;

/// The parent's handle on a helper process; killed if dropped unclosed.
pub struct Helper {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Helper {
    /// Starts a helper whose clients connect to `addr`; with
    /// `count_echoes`, they count what the server sends back.
    pub fn spawn(
        ctx: &Ctx,
        addr: &str,
        clients: u32,
        count_echoes: bool,
    ) -> anyhow::Result<Helper> {
        let exe = std::env::current_exe()
            .context("cannot find the veltix executable to start the bench helper")?;
        let mut cmd = Command::new(&exe);
        cmd.arg("bench-helper")
            .args(["--addr", addr, "--clients", &clients.to_string()])
            .args(["--drain-timeout", &ctx.drain_timeout.as_secs_f64().to_string()])
            .args(conn_flags(&ctx.conn));
        if count_echoes {
            cmd.arg("--count-echoes");
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start the bench helper {}", exe.display()))?;
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().context("helper stdout")?;
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut pipe, buf) = (child.stderr.take().context("helper stderr")?, stderr.clone());
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut b = buf.lock().unwrap_or_else(|e| e.into_inner());
                // Keep the end, where the reason for a failure is.
                b.push_str(&String::from_utf8_lossy(&chunk[..n]));
                if b.len() > 16 * 1024 {
                    let cut = b.len() - 8 * 1024;
                    let cut = (cut..b.len()).find(|&i| b.is_char_boundary(i)).unwrap_or(b.len());
                    b.drain(..cut);
                }
            }
        });
        Ok(Helper { stdin: child.stdin.take(), child, lines, stderr })
    }

    /// Sends one command line.
    pub fn send(&mut self, line: &str) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("the bench helper's stdin is closed")?;
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).map_err(|e| {
            anyhow::anyhow!("cannot talk to the bench helper ({e}){}", self.stderr_tail())
        })
    }

    /// Waits for a line starting with `word`; returns the rest of it.
    pub fn expect(&mut self, word: &str, timeout: Duration) -> anyhow::Result<String> {
        self.expect_with(word, timeout, || {})
    }

    /// As [`expect`](Helper::expect), calling `tick` about ten times a second.
    pub fn expect_with(
        &mut self,
        word: &str,
        timeout: Duration,
        mut tick: impl FnMut(),
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "the bench helper did not say '{word}' within {timeout:.1?}{}",
                    self.stderr_tail()
                );
            }
            match self.lines.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(line) => {
                    let (w, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                    if w == word {
                        return Ok(rest.to_string());
                    }
                    if w == "error" {
                        bail!("bench helper: {rest}");
                    }
                }
                Err(RecvTimeoutError::Timeout) => tick(),
                Err(RecvTimeoutError::Disconnected) => {
                    let status =
                        self.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    bail!(
                        "the bench helper exited ({status}) before saying '{word}'{}",
                        self.stderr_tail()
                    );
                }
            }
        }
    }

    /// Asks the helper to disconnect its clients and waits for it to exit.
    pub fn close(mut self, timeout: Duration) -> anyhow::Result<()> {
        self.send("close")?;
        self.expect("closed", timeout)?;
        drop(self.stdin.take());
        let _ = self.child.wait();
        Ok(())
    }

    fn stderr_tail(&self) -> String {
        let s = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let s = s.trim();
        if s.is_empty() {
            String::new()
        } else {
            format!("\n  helper stderr: {s}")
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The connection flags that reproduce `c` on the helper's command line.
fn conn_flags(c: &ConnArgs) -> Vec<String> {
    fn name(v: &impl ValueEnum) -> String {
        v.to_possible_value().map_or_else(String::new, |p| p.get_name().to_string())
    }
    let mode = name(&c.performance_mode);
    [
        ("--protocol-version", c.protocol_version.clone()),
        ("--max-message-size", c.max_message_size.to_string()),
        ("--performance-mode", mode),
        ("--buffer-size", c.buffer_size.to_string()),
        ("--handshake-timeout", c.handshake_timeout.as_secs_f64().to_string()),
        ("--workers", c.workers.to_string()),
        ("--core", name(&c.core)),
        ("--wire", name(&c.wire)),
    ]
    .into_iter()
    .chain(c.io_threads.map(|n| ("--io-threads", n.to_string())))
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect()
}

/// Time to allow for `n` clients to connect.
pub fn connect_timeout(ctx: &Ctx, n: u32) -> Duration {
    ctx.conn.handshake_timeout + Duration::from_secs(10) + Duration::from_millis(50) * n
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct A {
        #[command(flatten)]
        conn: ConnArgs,
    }

    #[test]
    fn the_helper_gets_the_same_connection_settings() {
        let given = [
            "t",
            "--wire",
            "vx",
            "--core",
            "poll",
            "--workers",
            "2",
            "--io-threads",
            "3",
            "--protocol-version",
            "9.9",
        ];
        let c = A::parse_from(given).conn;
        let again = A::parse_from(std::iter::once("t".to_string()).chain(conn_flags(&c))).conn;
        assert_eq!(format!("{again:?}"), format!("{c:?}"));
        assert_eq!(again.wire, crate::args::WireArg::Vx);
    }
}

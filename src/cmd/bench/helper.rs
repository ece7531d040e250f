//! The helper process: clients that live outside the bench process, so
//! that the bench process's RSS is the server's alone.
//!
//! The parent re-executes its own binary as `veltix bench-helper --addr
//! HOST:PORT --clients N [connection flags]` and talks to it in lines:
//!
//! | parent → helper (stdin) | helper → parent (stdout) |
//! |---|---|
//! | (start) | `ready N` once N clients completed their handshake |
//! | `open K` | `ready TOTAL` after K more clients |
//! | `fps RATE_HZ DURATION_MS` | `result {json}`: an FPS simulation over all clients |
//! | `raw-open N` | `ready TOTAL` after N more raw idle connections (see `idle`) |
//! | `raw-ping K TIMEOUT_MS` | `pings {json}`: K of the raw connections pinged |
//! | `close` | `closed` after every client disconnected; then it exits |
//!
//! Any failure is one `error MESSAGE` line, then exit status 1. End of
//! stdin (the parent died) disconnects the clients and exits.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ValueEnum;
use indicatif::ProgressBar;
use veltix::Client;

use super::endpoint::{Arrivals, Ctx};
use super::idle::Pool;
use super::{fps, HelperArgs};
use crate::cli::ConnArgs;

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

/// The helper's side: runs until `close` or the end of stdin.
pub fn serve(args: HelperArgs) -> anyhow::Result<ExitCode> {
    match serve_inner(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            println!("error {}", format!("{e:#}").replace('\n', " "));
            Ok(ExitCode::from(crate::cli::exit::ERROR))
        }
    }
}

fn serve_inner(args: &HelperArgs) -> anyhow::Result<()> {
    let echoes = Arrivals::new(0);
    let mut clients: Vec<Client> = Vec::new();
    let open = |clients: &mut Vec<Client>, n: u32| -> anyhow::Result<()> {
        for _ in 0..n {
            let mut b = Client::builder(args.conn.client_config(&args.addr));
            if args.count_echoes {
                let e = echoes.clone();
                b = b.on_message(move |_, f| e.record(f.type_code));
            }
            clients.push(b.connect().with_context(|| format!("cannot connect to {}", args.addr))?);
        }
        Ok(())
    };
    open(&mut clients, args.clients)?;
    let mut pool: Option<Pool> = None;
    say(&format!("ready {}", clients.len()));
    for line in std::io::stdin().lock().lines() {
        let line = line.context("cannot read commands")?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["open", k] => {
                open(&mut clients, k.parse().with_context(|| format!("bad count in '{line}'"))?)?;
                say(&format!("ready {}", clients.len()));
            }
            ["fps", rate, ms] => {
                let rate: u32 = rate.parse().with_context(|| format!("bad rate in '{line}'"))?;
                let ms: u64 = ms.parse().with_context(|| format!("bad duration in '{line}'"))?;
                let (before, shoots_before) = (echoes.count(), echoes.shoots());
                let mut sim = fps::simulate(&clients, rate, Duration::from_millis(ms));
                if args.count_echoes {
                    let target = before + sim.sent_move + sim.sent_shoot;
                    echoes.wait_for(target, args.drain_timeout, &ProgressBar::hidden());
                    sim.echoes = Some(echoes.count() - before);
                    sim.echo_shoots = Some(echoes.shoots() - shoots_before);
                }
                say(&format!("result {}", serde_json::to_string(&sim)?));
            }
            ["raw-open", n] => {
                let n: u32 = n.parse().with_context(|| format!("bad count in '{line}'"))?;
                let p = match &mut pool {
                    Some(p) => p,
                    None => pool.insert(Pool::new()?),
                };
                say(&format!("ready {}", p.open(&args.addr, n, &args.conn)?));
            }
            ["raw-ping", k, ms] => {
                let k: u32 = k.parse().with_context(|| format!("bad count in '{line}'"))?;
                let ms: u64 = ms.parse().with_context(|| format!("bad timeout in '{line}'"))?;
                let p = pool.as_ref().context("raw-ping before raw-open")?;
                let pings = p.ping(k, Duration::from_millis(ms))?;
                say(&format!("pings {}", serde_json::to_string(&pings)?));
            }
            ["close"] => break,
            [] => {}
            _ => bail!("unknown command '{line}'"),
        }
    }
    for c in &clients {
        c.disconnect();
    }
    drop(pool);
    say("closed");
    Ok(())
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

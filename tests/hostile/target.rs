//! The server under attack: `veltix serve` as a child process, or the
//! library's [`Server`] in this process, on either socket core.
//!
//! Both give the same three things a case checks: an address to attack,
//! the server's log lines (the child's stderr, or what the library logs
//! through the `log` facade into [`capture`]), and, for the child, its
//! resident memory.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use veltix::{Client, ClientConfig, CoreKind, PerformanceMode, Server, ServerConfig};

use crate::common::bin::veltix;

/// How long a test waits for something that should happen soon; only a
/// bound for failing, never a measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Which server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `veltix serve`, a child process.
    Bin,
    /// The library's `Server`, in the test process.
    Lib,
}

/// What the server does with each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Echo,
    Broadcast,
    Sink,
    /// `serve --mode log` with a stdout nobody reads: every callback
    /// blocks (child targets only).
    LogUnread,
}

/// Server settings, each given to `serve` as a flag or to the library as
/// a `ServerConfig` setting.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub mode: Mode,
    pub port: u16,
    pub max_message_size: Option<u64>,
    pub handshake_timeout: Option<Duration>,
    pub high: bool,
    pub max_connections: Option<usize>,
    pub max_outbound: Option<u64>,
    /// Speak the VX profile (veltix 2.0.3 to 3.3.x) instead of 1.6.3.
    pub vx: bool,
    /// Serve TLS with the test CA's server certificate (well-behaved
    /// clients trust the CA).
    pub tls: Option<std::sync::Arc<crate::common::tls::Pki>>,
}

impl Opts {
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }
    pub fn max_message_size(mut self, n: u64) -> Self {
        self.max_message_size = Some(n);
        self
    }
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.handshake_timeout = Some(d);
        self
    }
    pub fn high(mut self) -> Self {
        self.high = true;
        self
    }
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }
    pub fn max_outbound(mut self, n: u64) -> Self {
        self.max_outbound = Some(n);
        self
    }
    pub fn vx(mut self) -> Self {
        self.vx = true;
        self
    }
    pub fn tls(mut self) -> Self {
        self.tls = Some(std::sync::Arc::new(crate::common::tls::Pki::new()));
        self
    }

    fn serve_args(&self, core: CoreKind) -> Vec<String> {
        let mode = match self.mode {
            Mode::Echo => "echo",
            Mode::Broadcast => "broadcast",
            Mode::Sink => "sink",
            Mode::LogUnread => "log",
        };
        let core = match core {
            CoreKind::Threads => "threads",
            CoreKind::Poll => "poll",
        };
        let mut a: Vec<String> = ["serve", "--host", "127.0.0.1", "--color", "never"]
            .into_iter()
            .map(String::from)
            .collect();
        a.extend(["-p".into(), self.port.to_string(), "--mode".into(), mode.into()]);
        a.extend(["--core".into(), core.into()]);
        if let Some(n) = self.max_message_size {
            a.extend(["--max-message-size".into(), n.to_string()]);
        }
        if let Some(d) = self.handshake_timeout {
            a.extend(["--handshake-timeout".into(), format!("{}ms", d.as_millis())]);
        }
        if self.high {
            a.extend(["--performance-mode".into(), "high".into()]);
        }
        if let Some(n) = self.max_connections {
            a.extend(["--max-connections".into(), n.to_string()]);
        }
        if let Some(n) = self.max_outbound {
            a.extend(["--max-outbound".into(), n.to_string()]);
        }
        if self.vx {
            a.extend(["--wire".into(), "vx".into()]);
        }
        if let Some(pki) = &self.tls {
            a.extend([
                "--cert".into(),
                pki.arg("server.pem"),
                "--key".into(),
                pki.arg("server.key"),
            ]);
        }
        a
    }

    fn server_config(&self, core: CoreKind) -> ServerConfig {
        let mut c = ServerConfig::default()
            .core(core)
            .host("127.0.0.1")
            .port(self.port)
            .max_connections(self.max_connections);
        if let Some(n) = self.max_message_size {
            c = c.max_message_size(n as usize);
        }
        if let Some(d) = self.handshake_timeout {
            c = c.handshake_timeout(d);
        }
        if self.high {
            c = c.performance_mode(PerformanceMode::High);
        }
        if let Some(n) = self.max_outbound {
            c = c.max_outbound_bytes(n as usize);
        }
        if self.vx {
            c = c.wire(veltix::WireMode::Vx);
        }
        if let Some(pki) = &self.tls {
            c = c.tls(Some(pki.server()));
        }
        c
    }
}

/// Log lines, appended as they come, with a condition variable to wait on.
#[derive(Default)]
pub struct Lines {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl Lines {
    pub fn push(&self, line: String) {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        self.grew.notify_all();
    }

    /// Waits until a line contains every one of `all` and at least one of
    /// `any` (when `any` is not empty); returns it.
    pub fn wait_for(
        &self,
        all: &[&str],
        any: &[&str],
        patience: Duration,
    ) -> Result<String, String> {
        let matches = |l: &String| {
            all.iter().all(|n| l.contains(n))
                && (any.is_empty() || any.iter().any(|n| l.contains(n)))
        };
        let deadline = Instant::now() + patience;
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(l) = lines.iter().find(|l| matches(l)) {
                return Ok(l.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // The lines about the same peer tell what was logged instead.
                let about: Vec<&String> = match all.first() {
                    Some(first) => lines.iter().filter(|l| l.contains(first)).collect(),
                    None => lines.iter().collect(),
                };
                return Err(format!(
                    "no log line with all of {all:?} and one of {any:?}; lines about {:?}:\n{}",
                    all.first(),
                    about.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
                ));
            }
            lines = self
                .grew
                .wait_timeout(lines, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// The lines so far that contain `needle`.
    pub fn about(&self, needle: &str) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().filter(|l| l.contains(needle)).cloned().collect()
    }
}

/// A `log` logger that keeps every line of this process, so the tests of
/// the in-process server can look for what it logged. Lines name the
/// peer's address, so parallel tests do not confuse each other's lines.
struct Capture(Arc<Lines>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            self.0.push(format!("{:<5} {}", r.level(), r.args()));
        }
    }
    fn flush(&self) {}
}

/// The lines logged in this process (installs the capturing logger).
pub fn capture() -> Arc<Lines> {
    static LINES: OnceLock<Arc<Lines>> = OnceLock::new();
    LINES
        .get_or_init(|| {
            let lines = Arc::new(Lines::default());
            if log::set_boxed_logger(Box::new(Capture(lines.clone()))).is_ok() {
                log::set_max_level(log::LevelFilter::Info);
            }
            lines
        })
        .clone()
}

/// A server under test. A child is killed when this is dropped.
pub struct Target {
    pub core: CoreKind,
    pub addr: SocketAddr,
    pub log: Arc<Lines>,
    /// The certificates of a TLS target.
    pub tls: Option<Arc<crate::common::tls::Pki>>,
    child: Option<Child>,
    server: Option<Server>,
    /// A stdout kept open and never read (`Mode::LogUnread`).
    _stdout: Option<std::process::ChildStdout>,
}

impl Target {
    /// Starts a server of `kind` on `core` with `opts`, on 127.0.0.1.
    pub fn start(kind: Kind, core: CoreKind, opts: &Opts) -> Target {
        match kind {
            Kind::Bin => Target::spawn(core, opts),
            Kind::Lib => Target::in_process(core, opts),
        }
    }

    fn spawn(core: CoreKind, opts: &Opts) -> Target {
        let unread = opts.mode == Mode::LogUnread;
        let mut child = veltix(opts.serve_args(core))
            .stdin(Stdio::null())
            .stdout(if unread { Stdio::piped() } else { Stdio::null() })
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn veltix serve");
        let stdout = child.stdout.take();
        let log = Arc::new(Lines::default());
        let (stderr, lines) = (child.stderr.take().expect("stderr"), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.push(line);
            }
        });
        let listening = match log.wait_for(&["listening on "], &[], PATIENCE) {
            Ok(l) => l,
            Err(e) => {
                let _ = child.kill();
                panic!("veltix serve did not start: {e}");
            }
        };
        let addr = listening
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {listening:?}"));
        let tls = opts.tls.clone();
        Target { core, addr, log, tls, child: Some(child), server: None, _stdout: stdout }
    }

    fn in_process(core: CoreKind, opts: &Opts) -> Target {
        let log = capture();
        let b = Server::builder(opts.server_config(core));
        let b = match opts.mode {
            Mode::Echo => b.on_message(|p, f| {
                let _ = p.reply(&f, &f.payload);
            }),
            Mode::Broadcast => b.on_message(|p, f| {
                if let Some(s) = p.server() {
                    let _ = s.broadcast(f.type_code, &f.payload, Some(p.id()));
                }
            }),
            Mode::Sink | Mode::LogUnread => b.on_message(|_, _| {}),
        };
        let server = b.start().expect("start the library server");
        let addr = server.local_addr();
        let tls = opts.tls.clone();
        Target { core, addr, log, tls, child: None, server: Some(server), _stdout: None }
    }

    /// The address as text, `127.0.0.1:PORT`.
    pub fn addr_text(&self) -> String {
        self.addr.to_string()
    }

    /// The child's process id (child targets only).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's resident memory in bytes: the child's VmRSS. `None` for
    /// the in-process server, whose heap is shared with the tests running
    /// in parallel in this process, so its RSS would not be its own.
    pub fn rss(&self) -> Option<u64> {
        crate::common::bin::rss_of(self.pid()?)
    }

    /// Bytes `peer` sent that the server's kernel holds and the server has
    /// not read yet (from /proc/net/tcp: the rx_queue of the server's end
    /// of the connection); `None` if the connection is not listed.
    pub fn unread_from(&self, peer: &str) -> Option<u64> {
        let peer_port: u16 = peer.rsplit(':').next()?.parse().ok()?;
        let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
        let port_of = |a: &str| u16::from_str_radix(a.rsplit(':').next()?, 16).ok();
        table.lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (local, remote, queues) = (f.get(1)?, f.get(2)?, f.get(4)?);
            if port_of(local)? != self.addr.port() || port_of(remote)? != peer_port {
                return None;
            }
            u64::from_str_radix(queues.split(':').nth(1)?, 16).ok()
        })
    }

    /// Fails the test if the server's RSS grew by `bound` or more since
    /// `before` (a no-op for the in-process server).
    pub fn assert_rss_within(&self, before: Option<u64>, bound: u64, what: &str) {
        if let (Some(b), Some(a)) = (before, self.rss()) {
            let grew = a.saturating_sub(b);
            assert!(
                grew < bound,
                "{what}: server RSS grew by {} KiB ({} -> {} KiB), bound {} KiB",
                grew / 1024,
                b / 1024,
                a / 1024,
                bound / 1024
            );
        }
    }

    /// Waits for a log line that names `peer` and one of `faults`.
    pub fn expect_log(&self, peer: &str, faults: &[&str]) -> String {
        self.log.wait_for(&[peer], faults, PATIENCE).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A well-behaved library client on the same core.
    pub fn client(&self) -> Client {
        Client::connect(self.client_config()).expect("a well-behaved client connects")
    }

    pub fn client_config(&self) -> ClientConfig {
        let c = ClientConfig::new(self.addr_text()).core(self.core);
        c.tls(self.tls.as_ref().map(|pki| pki.client()))
    }

    /// Kills the child at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.kill();
        if let Some(s) = self.server.take() {
            s.shutdown();
        }
    }
}

/// Fails unless the well-behaved client's ping comes back.
pub fn assert_answers(c: &Client, when: &str) {
    if let Err(e) = c.ping(PATIENCE) {
        panic!("a well-behaved client's ping failed {when}: {e}");
    }
}

//! `veltix serve`: a Veltix server for testing, relaying and scripting.

mod exec;
mod metrics;
pub mod relay;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ValueEnum;
use serde::Serialize;
use veltix::{types, Frame, Peer, Server, ServerConfig, TypeRegistry};

use self::exec::{Exec, Jobs, Outcome};
use self::relay::{Relay, RelayConfig, RelayState};
use crate::args::{parse_duration, parse_host, ConnArgs, GlobalArgs};
use crate::output::json::write_line;
use crate::output::message::{write_message_text, MessageRecord};
use crate::output::time::format_utc_ms;
use crate::output::Palette;

/// Run a server: log, echo, broadcast, count or exec each message.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Modes:
  log        print every message (default); --json for NDJSON
  echo       answer each message to its sender: same type, payload and request id
  broadcast  relay each message to every other client (a chat server)
  sink       count only; print the rate every second
  exec       run CMD per message, payload on stdin; its stdout is the reply
             (same type and request id); a failing CMD gets an ERROR frame
             with its stderr. CMD sees VELTIX_TYPE, VELTIX_TYPE_NAME,
             VELTIX_REQUEST_ID, VELTIX_PEER and VELTIX_CLIENT_ID.

System messages (types 0-199 the protocol defines: HELLO, HELLO_ACK,
ERROR, HEARTBEAT, INVALID_REQUEST; PING is answered by the library) are
printed and counted in log mode only. echo, broadcast, sink and exec leave
them alone: they are not echoed, relayed, counted or run; an ERROR from a
client is logged as a warning.

Exec jobs: each CMD runs in a process group of its own, killed whole at
--exec-timeout (the client gets an ERROR frame then), when its output
grows past what one frame may carry (--max-message-size; an ERROR frame),
when its client disconnects (no job starts for a client that has gone),
at shutdown, and after it has answered, so that nothing it started lives
on. Its stdin is the payload; of its stderr the first 4 KiB are kept for
the ERROR frame.

Metrics: --metrics ADDR serves OpenMetrics text at http://ADDR/metrics
(for Prometheus): clients, connections, handshake failures, frames and
bytes in and out, dropped messages, queued bytes, the relay, and the
process's memory and start time. Other paths get 404, methods other
than GET and HEAD 405.

Lines typed on stdin are broadcast to every client (type set by --type).

Several nodes, one broadcast: with --redis URL (broadcast mode only) each
node publishes what its clients send on a Redis (or Valkey) PUB/SUB channel
(--redis-channel) and hands what the other nodes published to its own
clients; the sender never gets its message back. Across nodes delivery is
at most once, as PUB/SUB is: while Redis is down the cross-node copies are
lost, local delivery goes on, and the node reconnects by itself (backoff up
to 5 s); each change is logged once (--json: a \"relay\" event).
rediss:// connects with TLS, checking the server's certificate against the
system's roots or --redis-ca.

Shutdown: Ctrl-C or SIGTERM stops accepting, kills running exec jobs,
flushes what is queued for each client (for up to 2 s), closes the
connections and prints a summary. Whatever is still blocked (a client or
stdout that does not read), serve exits at most 5 s after the signal; the
summary then says what was left. A second Ctrl-C or SIGTERM exits at once
(status 130), killing exec jobs first.

Examples:
  veltix serve --port 8080
  veltix serve -p 8080 --mode echo
  veltix serve -p 8080 --mode broadcast --type-name 200=chat
  veltix serve -p 8080 --mode broadcast --redis redis://redis.example:6379/0
  veltix serve -p 8080 --mode exec -- tr a-z A-Z
  veltix serve -p 8080 --mode echo --metrics 127.0.0.1:9100
  veltix serve -p 0 --json | jq .payload_text")]
pub struct Args {
    /// Address to listen on (0.0.0.0: all IPv4; :: for IPv6).
    /// IPv6 with or without brackets: ::1 or [::1].
    #[arg(long, default_value = "0.0.0.0", value_name = "HOST", value_parser = parse_host)]
    pub host: String,
    /// Port to listen on (0: any free port; the log says which).
    #[arg(short, long, default_value_t = 8080, value_name = "PORT")]
    pub port: u16,
    /// What to do with each message.
    #[arg(short, long, value_enum, default_value_t = Mode::Log)]
    pub mode: Mode,
    /// Print NDJSON events (connect, message, disconnect, rate, relay) on
    /// stdout.
    #[arg(long)]
    pub json: bool,
    /// Type of the messages sent from lines typed on stdin (code or name).
    #[arg(short, long = "type", default_value = "200", value_name = "TYPE")]
    pub type_: String,
    /// Most clients at once (1 or more); those over it are told why
    /// (1.6: an ERROR frame; vx: server_full) and closed.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<std::num::NonZeroUsize>,
    /// In log mode, dump at most this many bytes of a binary payload (0: all).
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_bytes: usize,
    /// In exec mode, kill CMD (and all it started) if it runs longer than
    /// this, and answer with an ERROR frame.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DUR")]
    pub exec_timeout: Duration,
    /// Serve OpenMetrics at http://ADDR/metrics (HOST:PORT, e.g.
    /// 127.0.0.1:9100; port 0: any free port, the log says which).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// In broadcast mode, share broadcasts with the other nodes on this
    /// Redis (or Valkey): redis://[[USER]:PASSWORD@]HOST[:PORT][/DB];
    /// rediss:// for TLS.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// With rediss://: the CA certificates (PEM) the server's certificate
    /// must chain to, instead of the system's trusted roots.
    #[arg(long, value_name = "FILE", requires = "redis")]
    pub redis_ca: Option<std::path::PathBuf>,
    /// The Redis PUB/SUB channel the nodes share.
    #[arg(long, value_name = "NAME", requires = "redis", default_value = relay::DEFAULT_CHANNEL)]
    pub redis_channel: String,
    /// With --tls and no --cert/--key: where the self-signed certificate
    /// is kept, in tls/ (default: $XDG_DATA_HOME/veltix, else
    /// ~/.local/share/veltix).
    #[arg(long, value_name = "DIR", env = "VELTIX_DATA_DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// The command run per message in exec mode.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// What the server does with each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Log,
    Echo,
    Broadcast,
    Sink,
    Exec,
}

/// The longest serve takes to exit after the first Ctrl-C or SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

/// Counters for the summary line and the sink rate.
#[derive(Default)]
struct Counts {
    /// Messages handled (system messages only in log mode).
    msgs: AtomicU64,
    bytes: AtomicU64,
    /// Messages sent: replies, relays and lines from stdin (one per
    /// recipient).
    sent: AtomicU64,
}

impl Counts {
    fn received(&self, f: &Frame) {
        self.msgs.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(f.payload.len() as u64, Ordering::Relaxed);
    }

    fn sent(&self, n: usize) {
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Where events are printed (stdout), shared by the callback threads.
struct Printer {
    json: bool,
    log_events: bool,
    types: TypeRegistry,
    palette: Palette,
    max_bytes: usize,
    out: io::Stdout,
    /// Told when stdout cannot be written (a closed pipe, a full disk):
    /// stop the server.
    broken: mpsc::Sender<Stop>,
    /// Events being written now (a writer blocked on stdout stays here).
    writing: AtomicU64,
}

#[derive(Debug, Serialize)]
struct ConnEvent<'a> {
    event: &'a str,
    ts: String,
    peer: String,
    client: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

enum Stop {
    Signal,
    /// Stdout cannot be written: why.
    Stdout(io::Error),
}

impl Printer {
    fn write(&self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        self.writing.fetch_add(1, Ordering::SeqCst);
        // Stdout's own lock keeps one event's bytes together.
        let mut lock = self.out.lock();
        if let Err(e) = f(&mut lock).and_then(|()| lock.flush()) {
            let _ = self.broken.send(Stop::Stdout(e));
        }
        drop(lock);
        self.writing.fetch_sub(1, Ordering::SeqCst);
    }

    fn conn_event(&self, event: &str, peer: &Peer, reason: Option<String>) {
        let version = if event == "connect" { peer.peer_version() } else { None };
        if self.json {
            let e = ConnEvent {
                event,
                ts: format_utc_ms(veltix::frame::now_ms()),
                peer: peer.addr().to_string(),
                client: peer.id(),
                version,
                reason,
            };
            self.write(|w| write_line(w, &e));
        } else if self.log_events {
            let what = match (event, reason) {
                ("connect", _) => format!("connected (version {})", version.unwrap_or_default()),
                (_, Some(r)) => format!("disconnected: {r}"),
                _ => "disconnected".into(),
            };
            let line = format!("#{} {} {what}\n", peer.id(), peer.addr());
            self.write(|w| w.write_all(line.as_bytes()));
        }
        // Otherwise the library's own log line says it (at info).
    }

    fn message(&self, peer: &Peer, frame: &Frame) {
        if self.json {
            let rec = MessageRecord::new(frame, &self.types, Some(peer.addr()), Some(peer.id()));
            self.write(|w| write_line(w, &rec));
        } else {
            let from = format!("#{} {}", peer.id(), peer.addr());
            self.write(|w| {
                write_message_text(
                    w,
                    frame,
                    &self.types,
                    Some(&from),
                    None,
                    self.max_bytes,
                    self.palette,
                )
            });
        }
    }
}

/// Runs `veltix serve`.
pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let types = global.types.registry()?;
    let stdin_type =
        types.resolve(&args.type_).with_context(|| format!("in --type {}", args.type_))?;
    if args.mode == Mode::Exec && args.command.is_empty() {
        bail!("--mode exec needs a command after --, e.g. veltix serve --mode exec -- tr a-z A-Z");
    }
    if args.mode != Mode::Exec && !args.command.is_empty() {
        bail!("a command after -- is only used with --mode exec (got: {})", args.command.join(" "));
    }
    let relay_cfg = match &args.redis {
        Some(_) if args.mode != Mode::Broadcast => {
            return Err(crate::args::Exit {
                code: crate::args::exit::USAGE,
                message: format!(
                    "--redis is only used with --mode broadcast (got --mode {})",
                    mode_name(args.mode)
                ),
            }
            .into())
        }
        Some(url) => Some(RelayConfig::new(url, &args.redis_channel, args.redis_ca.as_deref())?),
        None => None,
    };
    let (stop_tx, stop_rx) = mpsc::channel::<Stop>();
    let printer = Arc::new(Printer {
        json: args.json,
        log_events: args.mode == Mode::Log,
        types,
        palette: Palette::new(global.color.for_stdout()),
        max_bytes: args.max_bytes,
        out: io::stdout(),
        broken: stop_tx.clone(),
        writing: AtomicU64::new(0),
    });
    let counts = Arc::new(Counts::default());
    let jobs = Arc::new(Jobs::default());

    let tls = args.conn.tls.server(args.data_dir.as_deref())?;
    let mut cfg = ServerConfig::default()
        .host(args.host.clone())
        .port(args.port)
        .max_connections(args.max_connections.map(std::num::NonZeroUsize::get))
        .tls(tls.as_ref().map(|(t, _)| t.clone()));
    cfg.conn = args.conn.conn_config();
    let handler = message_handler(&args, printer.clone(), counts.clone(), jobs.clone());
    let (p1, p2) = (printer.clone(), printer.clone());
    let server = Server::builder(cfg)
        .on_connect(move |peer| p1.conn_event("connect", peer, None))
        .on_disconnect(move |peer, why| {
            p2.conn_event("disconnect", peer, Some(why.message.clone()))
        })
        .on_message(move |peer, frame| handler(peer, frame))
        .start()
        .with_context(|| format!("cannot serve on {}", host_port(&args.host, args.port)))?;
    let server = Arc::new(server);
    let addr = server.local_addr();
    let wire = veltix::WireMode::from(args.conn.wire).for_server();
    match &tls {
        Some((t, fp)) => veltix::success!(
            "listening on {addr} (mode {}, wire {wire}, TLS 1.3{}); certificate {}, SHA-256 fingerprint {fp}",
            mode_name(args.mode),
            if t.client_ca.is_some() { ", client certificates required" } else { "" },
            t.cert_chain.origin,
        ),
        None => {
            veltix::success!("listening on {addr} (mode {}, wire {wire})", mode_name(args.mode))
        }
    }
    let relay = relay_cfg.map(|cfg| start_relay(&server, cfg, &printer, &counts));
    if let Some(at) = &args.metrics {
        let source = relay.as_ref().map(|r| {
            let stats = r.stats();
            Arc::new(move || metrics::RelaySnapshot {
                up: stats.up.load(Ordering::Relaxed),
                published: stats.published.load(Ordering::Relaxed),
                received: stats.received.load(Ordering::Relaxed),
            }) as metrics::RelaySource
        });
        let bound = metrics::start(at, server.clone(), source)
            .with_context(|| format!("cannot serve metrics on {at}"))?;
        veltix::success!("metrics listening on http://{bound}/metrics");
    }

    install_signal_handler(stop_tx.clone(), jobs.clone())?;
    spawn_stdin_broadcaster(server.clone(), stdin_type, counts.clone());
    let started = Instant::now();
    if args.mode == Mode::Sink {
        spawn_rate_printer(printer.clone(), counts.clone());
    }

    // Setup (argument parsing, certificates) is done and its memory freed;
    // this thread now only waits, so give that memory back now.
    crate::alloc::trim();
    let why = stop_rx.recv().unwrap_or(Stop::Signal);
    let stopped = Instant::now();
    let killed = jobs.stop_all();
    if let Some(relay) = &relay {
        relay.stop();
    }
    let clients = server.stats().clients_served;
    // The library's shutdown waits for slow peers and for callbacks (one
    // may be blocked on stdout); it gets what is left of the grace period.
    let (done_tx, done_rx) = mpsc::channel();
    let stopping = server.clone();
    std::thread::spawn(move || {
        stopping.shutdown();
        let _ = done_tx.send(());
    });
    let finished = done_rx.recv_timeout(GRACE.saturating_sub(stopped.elapsed())).is_ok();
    let secs = started.elapsed().as_secs_f64();
    let msgs = counts.msgs.load(Ordering::Relaxed);
    let mut summary = format!(
        "served {clients} client{} in {secs:.1}s: {msgs} message{} in, {} out",
        plural(clients),
        plural(msgs),
        counts.sent.load(Ordering::Relaxed)
    );
    if let Some(relay) = &relay {
        let stats = relay.stats();
        summary.push_str(&format!(
            "; relay: {} published, {} from other nodes, {} not published",
            stats.published.load(Ordering::Relaxed),
            stats.received.load(Ordering::Relaxed),
            stats.dropped.load(Ordering::Relaxed)
        ));
    }
    if killed > 0 {
        summary.push_str(&format!("; {killed} exec job{} killed", plural(killed as u64)));
    }
    let code = match why {
        Stop::Signal => ExitCode::SUCCESS,
        Stop::Stdout(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            summary = format!("stdout closed; {summary}");
            ExitCode::from(crate::args::exit::ERROR)
        }
        Stop::Stdout(e) => {
            summary = format!("cannot write to stdout ({e}); {summary}");
            ExitCode::from(crate::args::exit::ERROR)
        }
    };
    if finished {
        eprintln!("{summary}");
        return Ok(code);
    }
    let mut left = Vec::new();
    let open = server.client_count();
    if open > 0 {
        left.push(format!("{open} connection{} not closed cleanly", plural(open as u64)));
    }
    if printer.writing.load(Ordering::SeqCst) > 0 {
        left.push("events not written to stdout (it is not being read)".to_string());
    }
    if left.is_empty() {
        left.push("callbacks still running".to_string());
    }
    eprintln!(
        "{summary}; shutdown did not finish within {}s, exiting with {}",
        GRACE.as_secs(),
        left.join(", ")
    );
    exit_now(if code == ExitCode::SUCCESS { 0 } else { i32::from(crate::args::exit::ERROR) })
}

#[derive(Serialize)]
struct RelayEvent<'a> {
    event: &'static str,
    ts: String,
    state: &'static str,
    url: &'a str,
    channel: &'a str,
    /// This node's id on the channel (hex).
    node: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// Starts the Redis relay; its state changes are logged (and printed as
/// JSON events with --json).
fn start_relay(
    server: &Arc<Server>,
    cfg: RelayConfig,
    printer: &Arc<Printer>,
    counts: &Arc<Counts>,
) -> Relay {
    let (url, channel) = (cfg.shown_url.clone(), cfg.channel.clone());
    let node = format!("{:016x}", cfg.node);
    let (p, c) = (printer.clone(), counts.clone());
    Relay::start(
        server,
        cfg,
        move |state| {
            let reason = match state {
                RelayState::Up => {
                    veltix::success!("relay up: {url}, channel {channel}");
                    None
                }
                RelayState::Down(why) => {
                    log::warn!("relay down: {why}");
                    Some(why.as_str())
                }
            };
            if p.json {
                let e = RelayEvent {
                    event: "relay",
                    ts: format_utc_ms(veltix::frame::now_ms()),
                    state: if reason.is_none() { "up" } else { "down" },
                    url: &url,
                    channel: &channel,
                    node: &node,
                    reason,
                };
                p.write(|w| write_line(w, &e));
            }
        },
        move |delivered| c.sent(delivered),
    )
}

/// Ends the process without the flush of stdout that a normal exit does
/// (it would block on a stdout nobody reads). Stderr is unbuffered.
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit(2) ends the process at once; nothing after it runs.
    unsafe { libc::_exit(code) }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `host:port`, with an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

type Handler = Box<dyn Fn(&Peer, Frame) + Send + Sync>;

/// Handles a system message in the modes that leave them alone (all but
/// log): an ERROR is worth a warning, the rest a debug line.
fn system_message(peer: &Peer, frame: &Frame) {
    if frame.type_code == types::ERROR {
        log::warn!(
            "client #{} {} sent an ERROR: {}",
            peer.id(),
            peer.addr(),
            String::from_utf8_lossy(&frame.payload)
        );
    } else {
        log::debug!(
            "ignored a system message (type {}) from client #{} {}",
            frame.type_code,
            peer.id(),
            peer.addr()
        );
    }
}

fn message_handler(
    args: &Args,
    printer: Arc<Printer>,
    counts: Arc<Counts>,
    jobs: Arc<Jobs>,
) -> Handler {
    let inner: Handler = match args.mode {
        Mode::Log => {
            return Box::new(move |peer, frame| {
                counts.received(&frame);
                printer.message(peer, &frame);
            })
        }
        Mode::Echo => {
            let counts = counts.clone();
            Box::new(move |peer, frame| match peer.reply(&frame, &frame.payload) {
                Ok(()) => counts.sent(1),
                Err(e) => log::warn!("cannot echo to {}: {e}", peer.addr()),
            })
        }
        Mode::Broadcast => {
            let counts = counts.clone();
            Box::new(move |peer, frame| {
                if let Some(server) = peer.server() {
                    match server.broadcast(frame.type_code, &frame.payload, Some(peer.id())) {
                        Ok(n) => counts.sent(n),
                        Err(e) => log::warn!("cannot relay a message from {}: {e}", peer.addr()),
                    }
                }
            })
        }
        Mode::Sink => Box::new(|_, _| {}),
        Mode::Exec => {
            let exec = Exec {
                command: args.command.clone(),
                timeout: args.exec_timeout,
                max_output: args.conn.max_payload(),
                types: printer.types.clone(),
                jobs,
            };
            let counts = counts.clone();
            Box::new(move |peer, frame| {
                let (type_code, body) = match exec.run(peer, &frame) {
                    Outcome::Reply(out) => (frame.type_code, out),
                    Outcome::Failed(e) => {
                        log::warn!("exec for a message from {}: {e}", peer.addr());
                        let e = exec::fit(&e, exec.max_output);
                        (types::ERROR, e.as_bytes().to_vec())
                    }
                    Outcome::Cancelled(why) => {
                        log::info!("exec for a message from {}: not answered: {why}", peer.addr());
                        return;
                    }
                };
                match peer.send_with_id(type_code, frame.request_id, &body) {
                    Ok(()) => counts.sent(1),
                    Err(e) => log::warn!("cannot reply to {}: {e}", peer.addr()),
                }
            })
        }
    };
    Box::new(move |peer, frame| {
        if types::is_system(frame.type_code) {
            system_message(peer, &frame);
            return;
        }
        counts.received(&frame);
        inner(peer, frame)
    })
}

fn install_signal_handler(stop: mpsc::Sender<Stop>, jobs: Arc<Jobs>) -> anyhow::Result<()> {
    let hits = AtomicU64::new(0);
    ctrlc::set_handler(move || {
        if hits.fetch_add(1, Ordering::SeqCst) > 0 {
            jobs.stop_all();
            eprintln!("interrupted again: exiting at once");
            exit_now(130);
        }
        eprintln!("shutting down within {}s (Ctrl-C again to exit at once)", GRACE.as_secs());
        let _ = stop.send(Stop::Signal);
    })
    .context("cannot install the Ctrl-C handler")
}

/// Broadcasts each line typed on stdin. End of input is not a reason to
/// stop: a server started from a script usually has no stdin at all.
fn spawn_stdin_broadcaster(server: Arc<Server>, type_code: u16, counts: Arc<Counts>) {
    std::thread::spawn(move || {
        let stdin = io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            match server.broadcast(type_code, line.as_bytes(), None) {
                Ok(n) => {
                    counts.sent(n);
                    log::info!("sent to {n} client{}", plural(n as u64));
                }
                Err(e) => log::warn!("cannot broadcast: {e}"),
            }
        }
    });
}

#[derive(Serialize)]
struct RateEvent {
    event: &'static str,
    ts: String,
    msgs_per_s: u64,
    bytes_per_s: u64,
    total_msgs: u64,
    total_bytes: u64,
}

fn spawn_rate_printer(printer: Arc<Printer>, counts: Arc<Counts>) {
    std::thread::spawn(move || {
        let (mut last_m, mut last_b) = (0, 0);
        let mut next = Instant::now() + Duration::from_secs(1);
        loop {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next += Duration::from_secs(1);
            let m = counts.msgs.load(Ordering::Relaxed);
            let b = counts.bytes.load(Ordering::Relaxed);
            let ev = RateEvent {
                event: "rate",
                ts: format_utc_ms(veltix::frame::now_ms()),
                msgs_per_s: m - last_m,
                bytes_per_s: b - last_b,
                total_msgs: m,
                total_bytes: b,
            };
            (last_m, last_b) = (m, b);
            if printer.json {
                printer.write(|w| write_line(w, &ev));
            } else {
                let line = format!(
                    "{} {} msg/s  {:.1} KiB/s  (total {} msgs, {} bytes)\n",
                    &ev.ts[11..19],
                    ev.msgs_per_s,
                    ev.bytes_per_s as f64 / 1024.0,
                    m,
                    b
                );
                printer.write(|w| w.write_all(line.as_bytes()));
            }
        }
    });
}

fn mode_name(m: Mode) -> String {
    m.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

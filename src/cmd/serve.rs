//! `veltix serve`: a Veltix server for testing, relaying and scripting.

use std::io::{self, BufRead, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::ValueEnum;
use serde::Serialize;
use veltix::{types, Frame, Peer, Server, ServerConfig, TypeRegistry};

use crate::args::{parse_duration, ConnArgs, GlobalArgs};
use crate::output::json::write_line;
use crate::output::message::{write_message_text, MessageRecord};
use crate::output::time::format_utc_ms;
use crate::output::Palette;

/// Options of `veltix serve`.
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

Lines typed on stdin are broadcast to every client (type set by --type).
Ctrl-C or SIGTERM stops the server cleanly and prints a summary; a second
Ctrl-C exits at once.

Examples:
  veltix serve --port 8080
  veltix serve -p 8080 --mode echo
  veltix serve -p 8080 --mode broadcast --type-name 200=chat
  veltix serve -p 8080 --mode exec -- tr a-z A-Z
  veltix serve -p 0 --json | jq .payload_text")]
pub struct Args {
    /// Address to listen on (0.0.0.0: all IPv4; :: for IPv6).
    #[arg(long, default_value = "0.0.0.0", value_name = "HOST")]
    pub host: String,
    /// Port to listen on (0: any free port; the log says which).
    #[arg(short, long, default_value_t = 8080, value_name = "PORT")]
    pub port: u16,
    /// What to do with each message.
    #[arg(short, long, value_enum, default_value_t = Mode::Log)]
    pub mode: Mode,
    /// Print NDJSON events (connect, message, disconnect, rate) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Type of the messages sent from lines typed on stdin (code or name).
    #[arg(short, long = "type", default_value = "200", value_name = "TYPE")]
    pub type_: String,
    /// Most clients at once; those over it get an ERROR frame and are closed.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// In log mode, dump at most this many bytes of a binary payload (0: all).
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_bytes: usize,
    /// In exec mode, kill CMD if it runs longer than this.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DUR")]
    pub exec_timeout: Duration,
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

/// Counters for the summary line and the sink rate.
#[derive(Default)]
struct Counts {
    msgs: AtomicU64,
    bytes: AtomicU64,
}

/// Where events are printed (stdout), shared by the callback threads.
struct Printer {
    json: bool,
    log_events: bool,
    types: TypeRegistry,
    palette: Palette,
    max_bytes: usize,
    out: io::Stdout,
    /// Set when stdout is gone (a closed pipe): stop the server.
    broken: mpsc::Sender<Stop>,
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
    BrokenPipe,
}

impl Printer {
    fn write(&self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        // Stdout's own lock keeps one event's bytes together.
        let mut lock = self.out.lock();
        if f(&mut lock).and_then(|()| lock.flush()).is_err() {
            let _ = self.broken.send(Stop::BrokenPipe);
        }
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
        } else if event == "connect" {
            log::info!("client #{} {} connected", peer.id(), peer.addr());
        } else {
            log::info!(
                "client #{} {} disconnected: {}",
                peer.id(),
                peer.addr(),
                reason.unwrap_or_default()
            );
        }
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
    let (stop_tx, stop_rx) = mpsc::channel::<Stop>();
    let printer = Arc::new(Printer {
        json: args.json,
        log_events: args.mode == Mode::Log,
        types,
        palette: Palette::new(global.color.for_stdout()),
        max_bytes: args.max_bytes,
        out: io::stdout(),
        broken: stop_tx.clone(),
    });
    let counts = Arc::new(Counts::default());

    let mut cfg = ServerConfig::default()
        .host(args.host.clone())
        .port(args.port)
        .max_connections(args.max_connections);
    cfg.conn = args.conn.conn_config();
    let handler = message_handler(&args, printer.clone(), counts.clone());
    let (p1, p2) = (printer.clone(), printer.clone());
    let server = Server::builder(cfg)
        .on_connect(move |peer| p1.conn_event("connect", peer, None))
        .on_disconnect(move |peer, why| {
            p2.conn_event("disconnect", peer, Some(why.message.clone()))
        })
        .on_message(move |peer, frame| handler(peer, frame))
        .start()
        .with_context(|| format!("cannot serve on {}:{}", args.host, args.port))?;
    let server = Arc::new(server);
    let addr = server.local_addr();
    veltix::success!("listening on {addr} (mode {})", mode_name(args.mode));

    install_signal_handler(stop_tx.clone())?;
    spawn_stdin_broadcaster(server.clone(), stdin_type);
    let started = Instant::now();
    if args.mode == Mode::Sink {
        spawn_rate_printer(printer.clone(), counts.clone());
    }

    let why = stop_rx.recv().unwrap_or(Stop::Signal);
    let stats = server.stats();
    server.shutdown();
    let secs = started.elapsed().as_secs_f64();
    let summary = format!(
        "served {} client{} in {secs:.1}s: {} messages in, {} out",
        stats.clients_served,
        if stats.clients_served == 1 { "" } else { "s" },
        stats.frames_in,
        stats.frames_out
    );
    match why {
        Stop::Signal => eprintln!("{summary}"),
        Stop::BrokenPipe => {
            eprintln!("stdout closed; {summary}");
            return Ok(ExitCode::from(crate::args::exit::ERROR));
        }
    }
    Ok(ExitCode::SUCCESS)
}

type Handler = Box<dyn Fn(&Peer, Frame) + Send + Sync>;

fn message_handler(args: &Args, printer: Arc<Printer>, counts: Arc<Counts>) -> Handler {
    let count = move |f: &Frame| {
        counts.msgs.fetch_add(1, Ordering::Relaxed);
        counts.bytes.fetch_add(f.payload.len() as u64, Ordering::Relaxed);
    };
    match args.mode {
        Mode::Log => Box::new(move |peer, frame| {
            count(&frame);
            printer.message(peer, &frame);
        }),
        Mode::Echo => Box::new(move |peer, frame| {
            count(&frame);
            if let Err(e) = peer.reply(&frame, &frame.payload) {
                log::warn!("cannot echo to {}: {e}", peer.addr());
            }
        }),
        Mode::Broadcast => Box::new(move |peer, frame| {
            count(&frame);
            if let Some(server) = peer.server() {
                if let Err(e) = server.broadcast(frame.type_code, &frame.payload, Some(peer.id())) {
                    log::warn!("cannot relay a message from {}: {e}", peer.addr());
                }
            }
        }),
        Mode::Sink => Box::new(move |_, frame| count(&frame)),
        Mode::Exec => {
            let cmd = args.command.clone();
            let timeout = args.exec_timeout;
            let types = printer.types.clone();
            Box::new(move |peer, frame| {
                count(&frame);
                let (type_code, body) = match run_command(&cmd, peer, &frame, &types, timeout) {
                    Ok(out) => (frame.type_code, out),
                    Err(e) => {
                        log::warn!("exec for a message from {}: {e:#}", peer.addr());
                        (types::ERROR, format!("{e:#}").into_bytes())
                    }
                };
                if let Err(e) = peer.send_with_id(type_code, frame.request_id, &body) {
                    log::warn!("cannot reply to {}: {e}", peer.addr());
                }
            })
        }
    }
}

/// Runs `cmd` with the payload on stdin; its stdout is the reply. A spawn
/// failure, a non-zero exit or a time-out is an error carrying stderr.
fn run_command(
    cmd: &[String],
    peer: &Peer,
    frame: &Frame,
    types: &TypeRegistry,
    timeout: Duration,
) -> anyhow::Result<Vec<u8>> {
    let (prog, rest) = cmd.split_first().context("no command")?;
    let mut child = Command::new(prog)
        .args(rest)
        .env("VELTIX_TYPE", frame.type_code.to_string())
        .env("VELTIX_TYPE_NAME", types.label(frame.type_code))
        .env("VELTIX_REQUEST_ID", frame.request_id.to_string())
        .env("VELTIX_PEER", peer.addr().to_string())
        .env("VELTIX_CLIENT_ID", peer.id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {prog}"))?;
    // Feed stdin and drain stdout/stderr on their own threads so a chatty
    // command cannot deadlock against a full pipe.
    let mut stdin = child.stdin.take().context("no stdin pipe")?;
    let payload = frame.payload.clone();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&payload);
    });
    let mut stdout = child.stdout.take().context("no stdout pipe")?;
    let mut stderr = child.stderr.take().context("no stderr pipe")?;
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().context("cannot wait for the command")? {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{prog} ran longer than {} and was killed", humantime::format_duration(timeout));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = feeder.join();
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        bail!("{prog} failed ({status}): {}", err.trim_end());
    }
    Ok(out)
}

fn install_signal_handler(stop: mpsc::Sender<Stop>) -> anyhow::Result<()> {
    let hits = AtomicU64::new(0);
    ctrlc::set_handler(move || {
        if hits.fetch_add(1, Ordering::SeqCst) > 0 {
            eprintln!("interrupted again: exiting at once");
            std::process::exit(130);
        }
        eprintln!("shutting down (Ctrl-C again to exit at once)");
        let _ = stop.send(Stop::Signal);
    })
    .context("cannot install the Ctrl-C handler")
}

/// Broadcasts each line typed on stdin. End of input is not a reason to
/// stop: a server started from a script usually has no stdin at all.
fn spawn_stdin_broadcaster(server: Arc<Server>, type_code: u16) {
    std::thread::spawn(move || {
        let stdin = io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            match server.broadcast(type_code, line.as_bytes(), None) {
                Ok(n) => log::info!("sent to {n} client{}", if n == 1 { "" } else { "s" }),
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

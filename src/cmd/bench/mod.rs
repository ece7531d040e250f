//! `veltix bench`: memory, latency, FPS, burst and stress scenarios against
//! an in-process server (or an external `--target`), each beside a raw-TCP
//! baseline, with a results table, a JSON document and `--compare`; and,
//! on request, a connections scenario (thousands of idle connections).
//!
//! The modules form layers, each using only those below it:
//!
//! - this file: the options, the order of the scenarios, the document's
//!   assembly, `--start-at`, `--save` and the output;
//! - `merge` (`--merge`: documents from several machines added up) and
//!   `plot` (`--plot`: percentile curves as SVG), beside `report`;
//! - `scenario/`: one file per scenario, what they talk to (`endpoint`),
//!   the raw-TCP baseline (`raw`) and the helper process (`helper`);
//! - `report/`: the tables, the README box and `--compare`;
//! - leaves: `model` (the JSON document), `stats`, `machine` (hardware,
//!   RSS and open-file probes) and `units` (how figures are written).
//!
//! `scripts/check-cycles src/main.rs` fails when a module cycle appears.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::ValueEnum;

use crate::args::{parse_addr, parse_duration, ConnArgs, GlobalArgs};

mod machine;
mod merge;
mod model;
mod plot;
mod report;
mod scenario;
mod stats;
mod units;

use model::{ConnKnobs, Document, Knobs, Record, ScenarioError, Setup, Tool};
use report::compare;
use scenario::endpoint::{core_name, settle_wire, Ctx};
use scenario::{burst, connections, fps, helper, latency, load, memory, stress};

pub use scenario::helper::HelperArgs;
use scenario::helper::Sources;

const EXAMPLES: &str = "\
Examples:
  veltix bench                                  every scenario, default knobs
  veltix bench --only latency --save r.json     one scenario, saved as JSON
  veltix bench --only burst stress --runs 5     median of 5 runs, with min-max
  veltix bench --target 127.0.0.1:8080          against an echo server
  veltix bench --wire vx                        on the VX profile (veltix 2.0.3-3.3.x)
  veltix bench --compare before.json after.json ratios of two saved runs
  veltix bench --only connections --core poll   10,000 idle connections
  veltix bench --only connections --conn-count 2000 --core threads
  veltix bench --only connections --core poll --conn-count 50000 --conn-sources 127.0.0.1-127.0.0.4
                                                past one source address's ~28,000 ports
  veltix bench --only load --load-rate 2000 --load-duration 30s
                                                requests at a constant rate; latency
                                                corrected for coordinated omission
  veltix bench --only load --target HOST:PORT --start-at 2030-01-01T12:00:00Z --save a.json
                                                one of several machines loading one server
  veltix bench --merge a.json b.json --save all.json
                                                their documents added up (exact percentiles)
  veltix bench --plot latency.svg a.json b.json percentile curves of saved documents

Build with --release for meaningful figures. Delivery is counted by the
receiving side: the in-process server, or, with --target, the echoes.
Every connection, and the raw-TCP baseline's frames, use one wire profile:
--wire 1.6 or vx as given; auto means 1.6 for the in-process server, and
with --target the profile a probe connection detects.";

/// Benchmark: memory, latency, fps, burst and stress, with a raw-TCP baseline.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Scenarios to run (default: all but connections and load), in this order: memory,
    /// latency, fps, burst, stress, connections, load.
    #[arg(long, value_enum, num_args = 1.., value_name = "SCENARIO")]
    pub only: Vec<Scenario>,

    /// Run against an external echo server instead of the in-process one;
    /// delivery is counted from the echoes (memory is skipped).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_addr)]
    pub target: Option<String>,

    /// Print the full result document as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,

    /// Write the result document to FILE (after every scenario).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Compare two saved result documents: B / A for every figure.
    #[arg(
        long,
        num_args = 2,
        value_names = ["A.json", "B.json"],
        conflicts_with_all = ["only", "target", "save", "runs", "warmup", "merge", "start_at"]
    )]
    pub compare: Option<Vec<PathBuf>>,

    /// Merge saved documents of runs that loaded one server at the same time (from several
    /// machines): run i of each is added up, counts and rates summed, percentiles read from the
    /// sum of the stored histograms. Keeps the latency and load scenarios; --save writes the
    /// result, which is shown as a report (or with --json).
    #[arg(
        long,
        num_args = 2..,
        value_name = "FILE",
        conflicts_with_all = ["only", "target", "runs", "warmup", "start_at"]
    )]
    pub merge: Option<Vec<PathBuf>>,

    /// Draw the latency percentile distribution of every latency and load histogram in the
    /// saved documents (one curve per document and scenario) to OUT.svg.
    #[arg(
        long,
        num_args = 2..,
        value_names = ["OUT.svg", "A.json"],
        conflicts_with_all = ["only", "target", "runs", "warmup", "start_at", "merge", "compare", "save"]
    )]
    pub plot: Option<Vec<PathBuf>>,

    /// Wait until this wall-clock instant (RFC 3339, e.g. 2030-01-01T12:00:00Z) before the first
    /// scenario, so that runs started on several machines overlap.
    #[arg(long, value_name = "TIME", value_parser = parse_rfc3339)]
    pub start_at: Option<StartAt>,

    /// Measured runs of each scenario; the report shows the median and min-max.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// Discarded runs of each scenario before the measured ones.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub warmup: u32,

    /// Skip the baselines: raw TCP (one write per message) and bulk TCP (256 KiB writes).
    #[arg(long)]
    pub no_baseline: bool,

    /// Stop waiting for outstanding messages after this long without a new arrival; what has not arrived is reported lost.
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: Duration,

    /// Measured pings.
    #[arg(long, value_name = "N", default_value_t = 2000, help_heading = "Latency", value_parser = clap::value_parser!(u64).range(1..))]
    pub latency_iterations: u64,

    /// Pings sent and discarded before measuring.
    #[arg(long, value_name = "N", default_value_t = 20, help_heading = "Latency")]
    pub latency_warmup: u64,

    /// Time allowed for one ping; a later answer counts as lost.
    #[arg(long, value_name = "DUR", default_value = "2s", help_heading = "Latency", value_parser = parse_duration)]
    pub latency_timeout: Duration,

    /// Players of the first FPS run.
    #[arg(long, value_name = "N", default_value_t = 64, help_heading = "FPS", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub fps_players: u32,

    /// Ticks per second of the first FPS run.
    #[arg(long, value_name = "HZ", default_value_t = 64, help_heading = "FPS", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub fps_tick_rate: u32,

    /// Duration of each FPS run.
    #[arg(long, value_name = "DUR", default_value = "5s", help_heading = "FPS", value_parser = parse_duration)]
    pub fps_duration: Duration,

    /// Players of the second FPS run.
    #[arg(long, value_name = "N", default_value_t = 128, help_heading = "FPS", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub fps2_players: u32,

    /// Ticks per second of the second FPS run.
    #[arg(long, value_name = "HZ", default_value_t = 20, help_heading = "FPS", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub fps2_tick_rate: u32,

    /// Messages in the burst.
    #[arg(long, value_name = "N", default_value_t = 10_000, help_heading = "Burst", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub burst_count: u64,

    /// Payload bytes of each burst message (the frame adds 22, or 15 with --wire vx).
    #[arg(long, value_name = "BYTES", default_value_t = 64, help_heading = "Burst", value_parser = clap::value_parser!(u64).range(0..=1_048_576))]
    pub burst_payload: u64,

    /// Concurrent clients, each on its own thread.
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Stress", value_parser = clap::value_parser!(u32).range(1..=5_000))]
    pub stress_clients: u32,

    /// Messages each client sends.
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Stress", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub stress_msgs: u64,

    /// Clients connected at the end of the memory scenario.
    #[arg(long, value_name = "N", default_value_t = 50, help_heading = "Memory", value_parser = clap::value_parser!(u32).range(1..=5_000))]
    pub memory_clients: u32,

    /// Clients connected one at a time to measure the cost of each.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Memory", value_parser = clap::value_parser!(u32).range(1..=5_000))]
    pub memory_detail: u32,

    /// Idle connections to open (each is an open file in both processes).
    #[arg(long, value_name = "N", default_value_t = 10_000, help_heading = "Connections", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub conn_count: u32,

    /// Connections pinged, one at a time, once all are open (each allowed --latency-timeout).
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Connections", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub conn_sample: u32,

    /// Loopback addresses the helper's sockets connect from, round robin: one (127.0.0.2) or a
    /// range (127.0.0.1-127.0.0.8). Each source address has its own ephemeral ports towards the
    /// server (about 28,000, net.ipv4.ip_local_port_range), so more connections than that need
    /// several.
    #[arg(long, value_name = "ADDRS", help_heading = "Connections", value_parser = parse_sources)]
    pub conn_sources: Option<Sources>,

    #[command(flatten)]
    pub load: Box<LoadArgs>,

    #[command(flatten)]
    pub conn: ConnArgs,
}

/// The load scenario's knobs (boxed: they would make `Args` the largest
/// command's options by far).
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Requests per second of the load scenario, over all its connections.
    #[arg(long, value_name = "N", default_value_t = 1000, help_heading = "Load", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub load_rate: u64,

    /// Connections the load is spread over (each sends its share of the requests one at a
    /// time, each allowed --latency-timeout).
    #[arg(long, value_name = "N", default_value_t = 4, help_heading = "Load", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub load_connections: u32,

    /// Duration of each load run.
    #[arg(long, value_name = "DUR", default_value = "10s", help_heading = "Load", value_parser = parse_duration)]
    pub load_duration: Duration,

    /// What each load request is: a PING, or an echo request of --load-payload bytes that the
    /// server sends back.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = LoadMessage::Ping, help_heading = "Load")]
    pub load_message: LoadMessage,

    /// Payload bytes of each echo request (--load-message echo).
    #[arg(long, value_name = "BYTES", default_value_t = 64, help_heading = "Load", value_parser = clap::value_parser!(u64).range(0..=1_048_576))]
    pub load_payload: u64,
}

/// What each request of the load scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoadMessage {
    /// PING, answered with PONG by any veltix peer.
    Ping,
    /// A request (type 403) of --load-payload bytes, answered by an echo server.
    Echo,
}

impl LoadMessage {
    fn kind(self) -> load::Message {
        match self {
            LoadMessage::Ping => load::Message::Ping,
            LoadMessage::Echo => load::Message::Echo,
        }
    }
}

/// A `--start-at` instant, and how it was written.
#[derive(Debug, Clone)]
pub struct StartAt {
    at: SystemTime,
    text: String,
}

fn parse_sources(s: &str) -> Result<Sources, String> {
    s.parse()
}

fn parse_rfc3339(s: &str) -> Result<StartAt, String> {
    let t = chrono::DateTime::parse_from_rfc3339(s.trim())
        .map_err(|e| format!("not an RFC 3339 time (2030-01-01T12:00:00Z): {e}"))?;
    Ok(StartAt { at: SystemTime::from(t), text: t.to_rfc3339() })
}

/// A scenario of `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Scenario {
    /// Server RSS: idle, per client, with all clients, after teardown.
    Memory,
    /// Ping round trips.
    Latency,
    /// Game-server traffic at a fixed tick rate (two settings).
    Fps,
    /// One client sending as fast as it can.
    Burst,
    /// Many clients sending at once.
    Stress,
    /// Many idle connections: server RSS per connection, connect rate, sample
    /// pings (not in the default set).
    Connections,
    /// Requests at a constant rate, latency corrected for coordinated omission (not in the
    /// default set).
    Load,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Memory => "memory",
            Scenario::Latency => "latency",
            Scenario::Fps => "fps",
            Scenario::Burst => "burst",
            Scenario::Stress => "stress",
            Scenario::Connections => "connections",
            Scenario::Load => "load",
        }
    }

    /// Whether a run without `--only` includes it. The connections
    /// scenario takes seconds and ten thousand open files, the load
    /// scenario a chosen time at a chosen rate: only on request.
    fn in_default_set(self) -> bool {
        !matches!(self, Scenario::Connections | Scenario::Load)
    }

    /// Whether it measures the in-process server's memory (skipped with
    /// `--target`).
    fn needs_local_server(self) -> bool {
        matches!(self, Scenario::Memory | Scenario::Connections)
    }
}

/// Runs `veltix bench`.
pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let color = global.color.for_stdout();
    if let Some(files) = &args.compare {
        return compare::run(&files[0], &files[1], args.json, color);
    }
    if let Some(files) = &args.plot {
        return plot::run(&files[0], &files[1..]);
    }
    if let Some(files) = &args.merge {
        let doc = merge::merge_files(files)?;
        save(&args, &doc)?;
        output(&args, &doc, color)?;
        if let Some(path) = &args.save {
            eprintln!("saved to {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        args.memory_detail <= args.memory_clients,
        "--memory-detail {} is more than --memory-clients {}",
        args.memory_detail,
        args.memory_clients
    );
    let mut scenarios = if args.only.is_empty() {
        Scenario::value_variants().iter().copied().filter(|s| s.in_default_set()).collect()
    } else {
        args.only.clone()
    };
    scenarios.sort();
    scenarios.dedup();

    // The document lists the scenarios selected, skipped ones included.
    let selected = scenarios.clone();
    let mut skipped = Vec::new();
    if args.target.is_some() {
        for s in scenarios.iter().filter(|s| s.needs_local_server()) {
            skipped.push(format!(
                "{}: skipped with --target (it measures the RSS of the in-process server)",
                s.name()
            ));
        }
        scenarios.retain(|s| !s.needs_local_server());
    }
    if args.conn.tls.enabled() {
        // TLS is a client's option here: the in-process server is plain.
        if args.target.is_none() {
            return Err(crate::args::Exit {
                code: crate::args::exit::USAGE,
                message: "bench with TLS measures an external TLS server: give --target (e.g. against veltix serve --tls --mode echo)".into(),
            }
            .into());
        }
        let plain = |s: &Scenario| *s == Scenario::Connections;
        for s in scenarios.iter().filter(|s| plain(s)) {
            skipped.push(format!(
                "{}: skipped with TLS (its idle connections are plain TCP)",
                s.name()
            ));
        }
        scenarios.retain(|s| !plain(s));
    }
    // Nothing will talk to a target: no need to probe it.
    let probe = args.target.as_deref().filter(|_| !scenarios.is_empty());
    let wire = settle_wire(&args.conn, probe)?;
    let ctx = Ctx::new(
        args.conn.clone(),
        args.target.clone(),
        wire,
        args.drain_timeout,
        !args.no_baseline,
    );
    let mut doc = new_document(&args, &ctx, &selected);
    doc.notes.extend(skipped);
    for n in &doc.notes {
        eprintln!("note: {n}");
    }
    save(&args, &doc)?;
    if let Some(start) = &args.start_at {
        wait_until(start)?;
    }

    for &s in &scenarios {
        if let Err(e) = run_scenario(s, &args, &ctx, &mut doc) {
            doc.errors.push(ScenarioError { scenario: s.name().into(), message: format!("{e:#}") });
            doc.finished_at = Some(now());
            save(&args, &doc)?;
            output(&args, &doc, color)?;
            return Err(e.context(format!("the {} scenario failed", s.name())));
        }
        save(&args, &doc)?;
    }
    doc.complete = true;
    doc.finished_at = Some(now());
    save(&args, &doc)?;
    output(&args, &doc, color)?;
    if let Some(path) = &args.save {
        eprintln!("saved to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Sleeps until `--start-at`; an instant already past is an error (the
/// runs on the other machines would not overlap this one).
fn wait_until(start: &StartAt) -> anyhow::Result<()> {
    let wait = start.at.duration_since(SystemTime::now()).map_err(|e| {
        anyhow::anyhow!("--start-at {} was {:.1} s ago", start.text, e.duration().as_secs_f64())
    })?;
    eprintln!("waiting {:.1} s, until {}", wait.as_secs_f64(), start.text);
    // Sleep in steps, re-reading the clock, so an adjusted clock is followed.
    loop {
        let Ok(left) = start.at.duration_since(SystemTime::now()) else { return Ok(()) };
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(200)));
    }
}

/// Runs the helper process.
pub fn run_helper(args: HelperArgs, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    helper::serve(args)
}

fn run_scenario(s: Scenario, args: &Args, ctx: &Ctx, doc: &mut Document) -> anyhow::Result<()> {
    let r = &mut doc.results;
    match s {
        Scenario::Memory => {
            let k = memory::Knobs { clients: args.memory_clients, detail: args.memory_detail };
            r.memory = Some(measure(args, "memory", |l| memory::run(ctx, &k, l))?);
        }
        Scenario::Latency => {
            let k = latency::Knobs {
                iterations: args.latency_iterations,
                warmup: args.latency_warmup,
                timeout: args.latency_timeout,
            };
            r.latency = Some(measure(args, "latency", |l| latency::run(ctx, &k, l))?);
        }
        Scenario::Fps => {
            let k = fps::Knobs {
                players: args.fps_players,
                tick_rate: args.fps_tick_rate,
                duration: args.fps_duration,
            };
            r.fps = Some(measure(args, "fps", |l| fps::run(ctx, &k, l))?);
            let k2 = fps::Knobs {
                players: args.fps2_players,
                tick_rate: args.fps2_tick_rate,
                duration: args.fps_duration,
            };
            r.fps2 = Some(measure(args, "fps2", |l| fps::run(ctx, &k2, l))?);
        }
        Scenario::Burst => {
            let k = burst::Knobs { count: args.burst_count, payload: args.burst_payload as usize };
            r.burst = Some(measure(args, "burst", |l| burst::run(ctx, &k, l))?);
        }
        Scenario::Stress => {
            let k = stress::Knobs { clients: args.stress_clients, msgs: args.stress_msgs };
            r.stress = Some(measure(args, "stress", |l| stress::run(ctx, &k, l))?);
        }
        Scenario::Connections => {
            let k = connections::Knobs {
                count: args.conn_count,
                sample: args.conn_sample,
                timeout: args.latency_timeout,
                sources: args.conn_sources,
            };
            r.connections = Some(measure(args, "connections", |l| connections::run(ctx, &k, l))?);
        }
        Scenario::Load => {
            let k = load::Knobs {
                rate: args.load.load_rate,
                connections: args.load.load_connections,
                duration: args.load.load_duration,
                message: args.load.load_message.kind(),
                payload: args.load.load_payload as usize,
                timeout: args.latency_timeout,
                live: live_view(args),
            };
            r.load = Some(measure(args, "load", |l| load::run(ctx, &k, l))?);
        }
    }
    Ok(())
}

/// Warm-up runs (discarded), then the measured runs and their summary.
fn measure<T>(
    args: &Args,
    name: &str,
    mut once: impl FnMut(&str) -> anyhow::Result<T>,
) -> anyhow::Result<Record<T>>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    for w in 1..=args.warmup {
        once(&format!("{name} warm-up {w}/{}", args.warmup))?;
    }
    let mut runs = Vec::with_capacity(args.runs as usize);
    for r in 1..=args.runs {
        let label =
            if args.runs > 1 { format!("{name} {r}/{}", args.runs) } else { name.to_string() };
        runs.push(once(&label)?);
    }
    model::record(runs)
}

/// Whether the load scenario shows its live view: only on a terminal
/// (stdout and stderr) and not with `--json`.
fn live_view(args: &Args) -> bool {
    use std::io::IsTerminal;
    !args.json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

fn new_document(args: &Args, ctx: &Ctx, scenarios: &[Scenario]) -> Document {
    let c = &args.conn;
    let mut notes = Vec::new();
    if cfg!(debug_assertions) {
        notes.push(
            "debug build: figures are far below a release build's (cargo build --release)".into(),
        );
    }
    Document {
        schema: model::SCHEMA,
        tool: Tool {
            name: "veltix".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.into(),
        },
        protocol_version: c.protocol_version.clone(),
        started_at: now(),
        finished_at: None,
        complete: false,
        machine: machine::probe(),
        setup: Setup {
            server: if ctx.target.is_some() { "external" } else { "in-process" }.into(),
            target: ctx.target.clone(),
            core: core_name(ctx.core).into(),
            cpus_allowed: machine::cpus_allowed(),
            wire: ctx.wire.name().into(),
            conn_sources: args.conn_sources.map(|s| s.to_string()),
        },
        knobs: Knobs {
            scenarios: scenarios.iter().map(|s| s.name().to_string()).collect(),
            runs: args.runs,
            warmup_runs: args.warmup,
            baseline: ctx.baseline,
            drain_timeout_ms: args.drain_timeout.as_millis() as u64,
            latency_iterations: args.latency_iterations,
            latency_warmup_pings: args.latency_warmup,
            latency_timeout_ms: args.latency_timeout.as_millis() as u64,
            fps_players: args.fps_players,
            fps_tick_rate_hz: args.fps_tick_rate,
            fps_duration_ms: args.fps_duration.as_millis() as u64,
            fps2_players: args.fps2_players,
            fps2_tick_rate_hz: args.fps2_tick_rate,
            burst_count: args.burst_count,
            burst_payload_bytes: args.burst_payload,
            stress_clients: args.stress_clients,
            stress_msgs_per_client: args.stress_msgs,
            memory_clients: args.memory_clients,
            memory_detail_clients: args.memory_detail,
            connections_count: args.conn_count,
            connections_sample: args.conn_sample,
            load_rate_msgs_per_s: args.load.load_rate,
            load_connections: args.load.load_connections,
            load_duration_ms: args.load.load_duration.as_millis() as u64,
            load_message: args.load.load_message.kind().name().into(),
            load_payload_bytes: args.load.load_payload,
            start_at: args.start_at.as_ref().map(|s| s.text.clone()),
            conn: ConnKnobs {
                protocol_version: c.protocol_version.clone(),
                max_message_size_bytes: c.max_message_size,
                performance_mode: c
                    .performance_mode
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string()),
                buffer_size_bytes: c.buffer_size as u64,
                handshake_timeout_ms: c.handshake_timeout.as_millis() as u64,
                workers: u32::from(c.workers),
                wire: c.wire.to_possible_value().map(|v| v.get_name().to_string()),
            },
        },
        results: Default::default(),
        notes,
        errors: Vec::new(),
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Writes the document to `--save`, whole or not at all (temp file + rename).
fn save(args: &Args, doc: &Document) -> anyhow::Result<()> {
    let Some(path) = &args.save else { return Ok(()) };
    write_atomically(path, &serde_json::to_string_pretty(doc)?)
        .with_context(|| format!("cannot write --save file {}", path.display()))
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{text}\n"))?;
    std::fs::rename(&tmp, path)
}

fn output(args: &Args, doc: &Document, color: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let text = if args.json {
        serde_json::to_string_pretty(doc)? + "\n"
    } else {
        report::render(doc, color)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("cannot write to stdout")
}

//! The result document of `veltix bench` (`--json`, `--save`), schema 1.
//!
//! Every figure carries its unit in its name: `_us` microseconds, `_s`
//! seconds, `_bytes` bytes, `_msgs_per_s` messages per second,
//! `_mib_per_s` MiB (2^20 bytes) per second, `_pct` percent (0–100),
//! `_hz` per second, `conns_per_s` connections per second. Counts have
//! no suffix. Ratios (`efficiency`, `fairness_jain`) are plain fractions
//! where 1.0 is the ideal.
//! docs/bench-json.md describes every field; keep the two in step.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The schema version written in `schema`. Bump it when a field changes
/// meaning or is removed (adding fields does not need a bump).
pub const SCHEMA: u32 = 1;

/// The whole result document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    /// Always [`SCHEMA`].
    pub schema: u32,
    /// The tool that measured.
    pub tool: Tool,
    /// The Veltix protocol version announced in handshakes.
    pub protocol_version: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the last scenario ended (RFC 3339, UTC); null while running.
    pub finished_at: Option<String>,
    /// False while scenarios are still to run, or after a failure.
    pub complete: bool,
    /// The machine that ran the benchmark.
    pub machine: Machine,
    /// What was measured against.
    pub setup: Setup,
    /// Every knob of the run.
    pub knobs: Knobs,
    /// One record per scenario; null when it did not run.
    pub results: Results,
    /// Remarks for the reader (skipped scenarios, unusual settings).
    pub notes: Vec<String>,
    /// Scenarios that failed, with the error.
    pub errors: Vec<ScenarioError>,
}

/// Name and version of the measuring tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    /// `veltix`.
    pub name: String,
    /// The crate version.
    pub version: String,
    /// `release` or `debug`: a debug build is several times slower.
    pub build_profile: String,
}

/// The machine, read from /proc and uname(2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs this process may run on.
    pub logical_cores: u32,
    /// Physical cores (distinct core ids), when /proc/cpuinfo tells.
    pub physical_cores: Option<u32>,
    /// Total memory (MemTotal of /proc/meminfo).
    pub memory_bytes: u64,
    /// Operating system (PRETTY_NAME of /etc/os-release, else uname's sysname).
    pub os: String,
    /// Kernel release (uname -r).
    pub kernel: String,
    /// Machine architecture (uname -m).
    pub arch: String,
}

/// What the scenarios talked to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// `in-process` (a veltix server in the bench process, which counts what
    /// it receives) or `external` (`--target`; delivery is counted from the
    /// echoed replies, so it measures round trips).
    pub server: String,
    /// The `--target` address, if any.
    pub target: Option<String>,
    /// The in-process server's socket core (`threads` or `poll`).
    pub core: String,
    /// CPUs the bench process could run on (its affinity mask: fewer than
    /// the machine's when pinned with `taskset`); null if unknown or in
    /// documents older than this field.
    #[serde(default)]
    pub cpus_allowed: Option<Vec<u32>>,
    /// The wire profile every connection spoke, the raw baselines' frames
    /// included: `1.6` or `vx` (`--wire`; `auto` settled at the start).
    /// Documents older than this field were all `1.6`.
    #[serde(default = "wire_1_6")]
    pub wire: String,
    /// `--conn-sources`: the loopback addresses the connections scenario's
    /// helper connects from, round robin (`127.0.0.1-127.0.0.8`, or one
    /// address); null when the OS picks the source address (and in
    /// documents older than this field).
    #[serde(default)]
    pub conn_sources: Option<String>,
}

fn wire_1_6() -> String {
    veltix::Wire::V1_6.name().into()
}

impl Setup {
    /// The wire profile `wire` names (1.6 for anything but `vx`).
    pub fn wire_profile(&self) -> veltix::Wire {
        if self.wire == veltix::Wire::Vx.name() {
            veltix::Wire::Vx
        } else {
            veltix::Wire::V1_6
        }
    }
}

/// Connection settings (the shared connection flags).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnKnobs {
    /// Version announced in the handshake.
    pub protocol_version: String,
    /// Largest frame accepted, header included.
    pub max_message_size_bytes: u64,
    /// `low`, `balanced` or `high`.
    pub performance_mode: String,
    /// Bytes asked of the socket per read.
    pub buffer_size_bytes: u64,
    /// Time allowed for the handshake.
    pub handshake_timeout_ms: u64,
    /// Callback worker threads per server and per client.
    pub workers: u32,
    /// `--wire` as given: `1.6`, `vx` or `auto` (`setup.wire` says what it
    /// settled on). Absent from documents older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
}

/// Every knob of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Knobs {
    /// Scenarios selected with `--only`, in run order.
    pub scenarios: Vec<String>,
    /// Measured runs of each scenario (`--runs`).
    pub runs: u32,
    /// Discarded runs of each scenario before the measured ones (`--warmup`).
    pub warmup_runs: u32,
    /// Whether the raw-TCP baseline ran.
    pub baseline: bool,
    /// How long to wait for outstanding messages without a new arrival.
    pub drain_timeout_ms: u64,
    /// Measured pings per latency run.
    pub latency_iterations: u64,
    /// Discarded pings before the measured ones.
    pub latency_warmup_pings: u64,
    /// Time allowed for one ping.
    pub latency_timeout_ms: u64,
    /// Players of the first FPS run.
    pub fps_players: u32,
    /// Tick rate of the first FPS run.
    pub fps_tick_rate_hz: u32,
    /// Duration of each FPS run.
    pub fps_duration_ms: u64,
    /// Players of the second FPS run.
    pub fps2_players: u32,
    /// Tick rate of the second FPS run.
    pub fps2_tick_rate_hz: u32,
    /// Messages in the burst.
    pub burst_count: u64,
    /// Payload of each burst message.
    pub burst_payload_bytes: u64,
    /// Concurrent clients in the stress scenario.
    pub stress_clients: u32,
    /// Messages each stress client sends.
    pub stress_msgs_per_client: u64,
    /// Clients connected at the end of the memory scenario.
    pub memory_clients: u32,
    /// Clients connected one by one to measure the per-client cost.
    pub memory_detail_clients: u32,
    /// Idle connections of the connections scenario.
    #[serde(default)]
    pub connections_count: u32,
    /// Of those, how many are pinged once all are open.
    #[serde(default)]
    pub connections_sample: u32,
    /// Requests per second of the load scenario, over all its connections.
    #[serde(default)]
    pub load_rate_msgs_per_s: u64,
    /// Connections of the load scenario.
    #[serde(default)]
    pub load_connections: u32,
    /// Duration of each load run.
    #[serde(default)]
    pub load_duration_ms: u64,
    /// `ping` or `echo`.
    #[serde(default)]
    pub load_message: String,
    /// Payload of each echo request.
    #[serde(default)]
    pub load_payload_bytes: u64,
    /// `--start-at`: the wall-clock instant the scenarios waited for
    /// (RFC 3339), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// Connection settings.
    pub conn: ConnKnobs,
}

/// Results by scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    /// Server memory footprint.
    pub memory: Option<Record<MemoryRun>>,
    /// Ping round trips.
    pub latency: Option<Record<LatencyRun>>,
    /// FPS simulation, first setting (`--fps-*`).
    pub fps: Option<Record<FpsRun>>,
    /// FPS simulation, second setting (`--fps2-*`).
    pub fps2: Option<Record<FpsRun>>,
    /// One client sending as fast as it can.
    pub burst: Option<Record<BurstRun>>,
    /// Many clients sending at once.
    pub stress: Option<Record<StressRun>>,
    /// Many idle connections (only with `--only connections`).
    #[serde(default)]
    pub connections: Option<Record<ConnectionsRun>>,
    /// Requests at a constant rate (only with `--only load`).
    #[serde(default)]
    pub load: Option<Record<LoadRun>>,
}

/// The runs of one scenario and their figure-by-figure median, min and max.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record<T> {
    /// Every measured run, in order (warm-up runs are not kept).
    pub runs: Vec<T>,
    /// The median of each figure over the runs.
    pub median: T,
    /// The smallest value of each figure.
    pub min: T,
    /// The largest value of each figure.
    pub max: T,
}

/// A scenario that failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioError {
    /// Its name.
    pub scenario: String,
    /// The error with its causes.
    pub message: String,
}

/// The memory scenario: RSS of the bench process, which holds the server;
/// the clients live in a helper process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MemoryRun {
    /// RSS before the server started.
    pub baseline_rss_bytes: u64,
    /// RSS with the server started and no client.
    pub idle_rss_bytes: u64,
    /// idle − baseline: what starting the server cost.
    pub server_start_bytes: i64,
    /// Clients connected one at a time for the per-client figures.
    pub detail_clients: u32,
    /// Clients connected at the end.
    pub total_clients: u32,
    /// Mean RSS growth per client over the detail clients.
    pub per_client_avg_bytes: f64,
    /// Smallest growth for one client.
    pub per_client_min_bytes: f64,
    /// Largest growth for one client.
    pub per_client_max_bytes: f64,
    /// Median growth for one client.
    pub per_client_median_bytes: f64,
    /// Standard deviation of the growth per client.
    pub per_client_stdev_bytes: f64,
    /// RSS with the detail clients connected.
    pub detail_rss_bytes: u64,
    /// RSS with all clients connected.
    pub total_rss_bytes: u64,
    /// (total − detail RSS) / (total − detail clients).
    pub per_client_at_scale_bytes: f64,
    /// RSS after every client disconnected.
    pub after_teardown_rss_bytes: u64,
    /// after teardown − idle: memory the server kept after its clients left.
    pub leak_bytes: i64,
    /// RSS after the server shut down.
    pub after_shutdown_rss_bytes: u64,
}

/// Round-trip statistics of one ping series.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LatencyFigures {
    /// Pings sent (warm-up excluded).
    pub pings: u64,
    /// Pings answered in time.
    pub completed: u64,
    /// Pings not answered within the timeout (or failed).
    pub lost: u64,
    /// completed / pings × 100.
    pub success_pct: f64,
    /// Time the measured pings took.
    pub duration_s: f64,
    /// completed / duration.
    pub pings_per_s: f64,
    /// Mean round trip.
    pub avg_us: f64,
    /// Standard deviation of the round trips.
    pub stdev_us: f64,
    /// Mean absolute difference between consecutive round trips.
    pub jitter_us: f64,
    /// Fastest round trip.
    pub min_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Slowest round trip.
    pub max_us: f64,
    /// Round trips by range.
    pub histogram: Vec<Bucket>,
    /// Every round trip, losslessly: HdrHistogram's V2 serialization
    /// (values in nanoseconds, 1 ns to 1 h, 3 significant digits) in
    /// base64. In `runs` only (a median has no histogram); absent when no
    /// ping was answered and in documents older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<String>,
}

/// One bar of a latency histogram: samples in [previous bound, `below_us`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Bucket {
    /// Upper bound (exclusive); null for the last bucket (everything above).
    pub below_us: Option<f64>,
    /// Samples in the bucket.
    pub count: u64,
    /// count / samples × 100.
    pub pct: f64,
}

/// The latency scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LatencyRun {
    /// The veltix figures.
    #[serde(flatten)]
    pub figures: LatencyFigures,
    /// Pings sent and discarded before the measured ones.
    pub warmup_pings: u64,
    /// Mean round trip of the discarded warm-up pings.
    pub warmup_avg_us: f64,
    /// The same traffic over plain TCP (null without a baseline).
    pub raw: Option<LatencyFigures>,
    /// raw p50 / veltix p50: the share of raw-TCP speed (1.0 = as fast).
    pub efficiency: Option<f64>,
    /// Where veltix's blocks ran (null where it cannot be told: not Linux,
    /// `--target`, a merged document).
    #[serde(default)]
    pub placement: Option<Placement>,
    /// Where the baseline's blocks ran.
    #[serde(default)]
    pub raw_placement: Option<Placement>,
}

/// The blocks of one latency series by where its two threads ran: the
/// pinger and the thread that answered it on one vCPU (`shared`) or on two
/// (`apart`); null for a placement no block ran in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Placement {
    pub shared: Option<Placed>,
    pub apart: Option<Placed>,
    /// Blocks during which one of the two threads changed vCPU.
    pub moved_blocks: u64,
}

/// The blocks of one placement.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Placed {
    pub blocks: u64,
    /// Round trips answered in those blocks.
    pub pings: u64,
    pub p50_us: f64,
}

/// The FPS simulation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FpsRun {
    /// Players (one connection each).
    pub players: u32,
    /// Target tick rate.
    pub tick_rate_hz: u32,
    /// Actual duration of the simulation.
    pub duration_s: f64,
    /// Ticks run.
    pub ticks: u64,
    /// ticks / duration.
    pub actual_tick_rate_hz: f64,
    /// PLAYER_MOVE (401, 32 B) messages sent.
    pub sent_move: u64,
    /// PLAYER_SHOOT (402, 16 B) messages sent.
    pub sent_shoot: u64,
    /// All messages sent.
    pub sent: u64,
    /// Sends that failed.
    pub send_errors: u64,
    /// Messages the server received (or, with --target, echoes received).
    pub delivered: u64,
    /// sent − delivered.
    pub lost: u64,
    /// delivered / sent × 100.
    pub success_pct: f64,
    /// sent / duration.
    pub sent_msgs_per_s: f64,
    /// delivered / duration.
    pub delivered_msgs_per_s: f64,
    /// Mean time one tick's sends took.
    pub tick_avg_us: f64,
    /// Shortest tick.
    pub tick_min_us: f64,
    /// Longest tick.
    pub tick_max_us: f64,
    /// Standard deviation of tick durations.
    pub tick_stdev_us: f64,
    /// Share of ticks that finished within 1 / tick rate.
    pub ticks_within_budget_pct: f64,
    /// Ticks that took longer than their budget.
    pub overrun_ticks: u64,
    /// Server RSS after the run − before it (null with --target).
    pub server_rss_delta_bytes: Option<i64>,
}

/// One client sending `count` messages as fast as it can.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BurstFigures {
    /// Messages to send.
    pub count: u64,
    /// Payload of each message (the frame adds a 22-byte header, 15 in VX).
    pub payload_bytes: u64,
    /// Messages handed to the socket.
    pub sent: u64,
    /// Sends that failed.
    pub send_errors: u64,
    /// Messages that arrived.
    pub delivered: u64,
    /// count − delivered.
    pub lost: u64,
    /// delivered / count × 100.
    pub success_pct: f64,
    /// Time the send loop took.
    pub send_duration_s: f64,
    /// sent / send duration.
    pub send_msgs_per_s: f64,
    /// Time from the first send to the last arrival.
    pub recv_duration_s: f64,
    /// delivered / receive duration.
    pub recv_msgs_per_s: f64,
    /// Payload bytes delivered per second.
    pub payload_mib_per_s: f64,
    /// Frame bytes (header included) delivered per second.
    pub wire_mib_per_s: f64,
    /// Time from the first send to the first arrival.
    pub delivery_first_us: f64,
    /// Time from the first send by which half the messages had arrived.
    pub delivery_p50_us: f64,
    /// … 90 % of the messages.
    pub delivery_p90_us: f64,
    /// … 99 % of the messages.
    pub delivery_p99_us: f64,
    /// … all delivered messages.
    pub delivery_max_us: f64,
}

/// The burst scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BurstRun {
    /// The veltix figures.
    #[serde(flatten)]
    pub figures: BurstFigures,
    /// The same bytes over plain TCP (null without a baseline).
    pub raw: Option<BurstFigures>,
    /// veltix recv_msgs_per_s / raw recv_msgs_per_s.
    pub efficiency: Option<f64>,
    /// The same frames written many per write (null without a baseline,
    /// and in documents older than this field).
    #[serde(default)]
    pub bulk: Option<BulkFigures>,
    /// veltix recv_msgs_per_s / bulk recv_msgs_per_s.
    #[serde(default)]
    pub efficiency_vs_bulk: Option<f64>,
}

/// Many clients, each on its own thread, sending at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StressFigures {
    /// Concurrent clients.
    pub clients: u32,
    /// Messages each client sends.
    pub msgs_per_client: u64,
    /// Messages handed to the sockets.
    pub sent: u64,
    /// Sends that failed.
    pub send_errors: u64,
    /// Messages that arrived.
    pub delivered: u64,
    /// clients × msgs − delivered.
    pub lost: u64,
    /// delivered / (clients × msgs) × 100.
    pub success_pct: f64,
    /// Time until every client finished sending.
    pub send_phase_s: f64,
    /// Time from the end of the sends to the last arrival.
    pub drain_s: f64,
    /// Time from the start to the last arrival.
    pub total_s: f64,
    /// delivered / total.
    pub aggregate_msgs_per_s: f64,
    /// Time from the start to the first arrival.
    pub first_delivery_us: f64,
    /// Mean send rate of one client.
    pub per_client_avg_msgs_per_s: f64,
    /// Slowest client's send rate.
    pub per_client_min_msgs_per_s: f64,
    /// Fastest client's send rate.
    pub per_client_max_msgs_per_s: f64,
    /// Standard deviation of the clients' send rates.
    pub per_client_stdev_msgs_per_s: f64,
    /// Jain's fairness index of the send rates (1.0 = all equal).
    pub fairness_jain: f64,
}

/// The stress scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StressRun {
    /// The veltix figures.
    #[serde(flatten)]
    pub figures: StressFigures,
    /// The same bytes over plain TCP (null without a baseline).
    pub raw: Option<StressFigures>,
    /// veltix aggregate_msgs_per_s / raw aggregate_msgs_per_s.
    pub efficiency: Option<f64>,
    /// The same frames written many per write, one connection and thread
    /// per client (null without a baseline, and in documents older than
    /// this field).
    #[serde(default)]
    pub bulk: Option<BulkFigures>,
    /// veltix aggregate_msgs_per_s / bulk recv_msgs_per_s.
    #[serde(default)]
    pub efficiency_vs_bulk: Option<f64>,
}

/// The bulk-TCP baseline of burst and stress: the run's frames, encoded
/// once, written `write_size_bytes` at a time (frames cut anywhere) over
/// loopback TCP to a reader that splits them on their headers and counts
/// the whole frames of each read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BulkFigures {
    /// Bytes per write (the last write of a connection may be shorter).
    pub write_size_bytes: u64,
    /// Frames written in full.
    pub sent: u64,
    /// Whole frames the reader counted.
    pub delivered: u64,
    /// Frames to send − delivered.
    pub lost: u64,
    /// Time from the first write to the last frame counted.
    pub recv_duration_s: f64,
    /// delivered / receive duration.
    pub recv_msgs_per_s: f64,
    /// Frame bytes (headers included) delivered per second.
    pub recv_bytes_per_s: f64,
    /// Transfers made: the figures above are the one with the median rate
    /// (0 in documents from before repeats: one transfer).
    #[serde(default)]
    pub repeats: u32,
    /// Every transfer's `recv_msgs_per_s`, in the order they ran.
    #[serde(default)]
    pub rates_msgs_per_s: Vec<f64>,
}

/// The connections scenario: many idle connections to the in-process
/// server, opened from raw sockets in the helper process. RSS and threads
/// are the bench process's, which holds the server.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectionsRun {
    /// Connections opened.
    pub connections: u32,
    /// Connections pinged once all were open.
    pub sampled: u32,
    /// Distinct client IP addresses among the server's connections (more
    /// than one with `--conn-sources`); 0 in documents older than this
    /// field.
    #[serde(default)]
    pub source_addrs: u32,
    /// RSS with the server listening and no client.
    pub idle_rss_bytes: u64,
    /// RSS with every connection established.
    pub connected_rss_bytes: u64,
    /// (connected − idle RSS) / connections.
    pub per_conn_bytes: f64,
    /// RSS once every connection closed and the server saw it.
    pub after_teardown_rss_bytes: u64,
    /// after teardown − idle RSS.
    pub teardown_delta_bytes: i64,
    /// RSS after teardown once the allocator handed its free memory back
    /// to the OS (glibc's `malloc_trim`); null where there is no such call.
    pub after_trim_rss_bytes: Option<u64>,
    /// Threads of the server's process with no client.
    pub idle_threads: u64,
    /// Threads of the server's process with every connection established.
    pub connected_threads: u64,
    /// Threads of the server's process after teardown, once their number
    /// has settled.
    pub after_teardown_threads: u64,
    /// From the helper starting to connect until the server counted them all.
    pub connect_s: f64,
    /// connections / connect time.
    pub conns_per_s: f64,
    /// From the helper closing them until the server counted none.
    pub teardown_s: f64,
    /// Sample pings answered in time.
    pub sample_completed: u64,
    /// Sample pings not answered in time.
    pub sample_lost: u64,
    /// Mean round trip of the sample pings.
    pub sample_avg_us: f64,
    /// Fastest.
    pub sample_min_us: f64,
    /// Median (nearest rank).
    pub sample_p50_us: f64,
    /// 99th percentile (nearest rank).
    pub sample_p99_us: f64,
    /// Slowest.
    pub sample_max_us: f64,
}

/// Latency of the load scenario's requests, from one histogram (so that
/// the figures of merged histograms are exact).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadLatency {
    /// Shortest (the histogram's equivalent of it: within 0.1 %).
    pub min_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Longest (within 0.1 %).
    pub max_us: f64,
    /// Mean.
    pub avg_us: f64,
    /// Every sample, losslessly (see [`LatencyFigures::hdr`]); in `runs` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<String>,
}

/// The load scenario: requests scheduled at a constant rate over several
/// connections, each connection sending its next request when it is due
/// or, if the previous answer came later, at once (as wrk2 does).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadRun {
    /// `ping` (PING / PONG) or `echo` (a request the server sends back).
    pub message: String,
    /// Payload of each echo request (0 for PING).
    pub payload_bytes: u64,
    /// Connections the requests were spread over.
    pub connections: u32,
    /// Requests scheduled: target rate × duration.
    pub scheduled: u64,
    /// The rate the requests were scheduled at.
    pub target_msgs_per_s: f64,
    /// completed / (from the first due time to the last answer).
    pub achieved_msgs_per_s: f64,
    /// Requests handed to a connection.
    pub sent: u64,
    /// Requests answered within the timeout.
    pub completed: u64,
    /// Requests not answered (timed out, failed to send, or never sent
    /// because their connection had closed).
    pub errors: u64,
    /// Requests sent more than 1 ms after they were due.
    pub late: u64,
    /// From the first due time to the last answer.
    pub duration_s: f64,
    /// Latency from the time each request was due to its answer: what a
    /// client arriving at that time would have waited (coordinated
    /// omission corrected).
    pub corrected: LoadLatency,
    /// Latency from the time each request was sent to its answer.
    pub uncorrected: LoadLatency,
}

/// Reads a saved document as JSON, checking that it is one of this
/// schema (and nothing more: `--compare` reads any such document, even a
/// partial one).
pub fn read_value(path: &std::path::Path) -> anyhow::Result<Value> {
    use anyhow::Context;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| {
        format!("{} is not a veltix bench result: invalid JSON", path.display())
    })?;
    match v.get("schema").and_then(Value::as_u64) {
        Some(s) if s == u64::from(SCHEMA) => Ok(v),
        Some(s) => anyhow::bail!(
            "{} has result schema {s}; this veltix reads schema {SCHEMA}",
            path.display()
        ),
        None => anyhow::bail!(
            "{} is not a veltix bench result (it has no \"schema\" field)",
            path.display()
        ),
    }
}

/// Builds the record of a scenario's runs: each numeric figure's median,
/// min and max over the runs, field by field (nested objects and
/// equal-length arrays too; text is taken from the first run).
pub fn record<T: Serialize + DeserializeOwned + Clone>(runs: Vec<T>) -> anyhow::Result<Record<T>> {
    anyhow::ensure!(!runs.is_empty(), "no run to summarise");
    let values: Vec<Value> = runs.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    let pick = |how: Pick| -> anyhow::Result<T> {
        let refs: Vec<&Value> = values.iter().collect();
        Ok(serde_json::from_value(combine(&refs, how))?)
    };
    Ok(Record { median: pick(Pick::Median)?, min: pick(Pick::Min)?, max: pick(Pick::Max)?, runs })
}

#[derive(Clone, Copy)]
enum Pick {
    Median,
    Min,
    Max,
}

/// Keys whose value belongs to one run: left out of the median, min and max.
const PER_RUN_ONLY: &[&str] = &["hdr"];

fn combine(vals: &[&Value], how: Pick) -> Value {
    let present: Vec<&Value> = vals.iter().copied().filter(|v| !v.is_null()).collect();
    let Some(first) = present.first() else { return Value::Null };
    match first {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for key in map.keys().filter(|k| !PER_RUN_ONLY.contains(&k.as_str())) {
                let sub: Vec<&Value> =
                    present.iter().map(|v| v.get(key).unwrap_or(&Value::Null)).collect();
                out.insert(key.clone(), combine(&sub, how));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let same_len =
                present.iter().all(|v| v.as_array().is_some_and(|a| a.len() == items.len()));
            if !same_len {
                return (*first).clone();
            }
            Value::Array(
                (0..items.len())
                    .map(|i| {
                        let sub: Vec<&Value> = present.iter().map(|v| &v[i]).collect();
                        combine(&sub, how)
                    })
                    .collect(),
            )
        }
        Value::Number(_) => {
            let integral = present.iter().all(|v| v.is_i64() || v.is_u64());
            let mut nums: Vec<f64> = present.iter().filter_map(|v| v.as_f64()).collect();
            nums.sort_by(f64::total_cmp);
            let x = match how {
                Pick::Min => nums[0],
                Pick::Max => nums[nums.len() - 1],
                Pick::Median => {
                    let n = nums.len();
                    if n % 2 == 1 {
                        nums[n / 2]
                    } else {
                        (nums[n / 2 - 1] + nums[n / 2]) / 2.0
                    }
                }
            };
            if integral {
                let r = x.round();
                if r < 0.0 {
                    Value::from(r as i64)
                } else {
                    Value::from(r as u64)
                }
            } else {
                serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
            }
        }
        other => (*other).clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_takes_median_min_max_per_field() {
        let runs: Vec<BurstRun> = [3.0, 1.0, 2.0]
            .iter()
            .map(|&r| BurstRun {
                figures: BurstFigures {
                    recv_msgs_per_s: r * 1000.0,
                    delivered: r as u64,
                    ..Default::default()
                },
                raw: None,
                efficiency: Some(r / 10.0),
                bulk: Some(BulkFigures { recv_msgs_per_s: r * 1e6, ..Default::default() }),
                efficiency_vs_bulk: None,
            })
            .collect();
        let rec = record(runs).unwrap();
        assert_eq!(rec.median.figures.recv_msgs_per_s, 2000.0);
        assert_eq!(rec.min.figures.delivered, 1);
        assert_eq!(rec.max.efficiency, Some(0.3));
        assert!(rec.median.raw.is_none());
        assert_eq!(rec.median.bulk.map(|b| b.recv_msgs_per_s), Some(2e6));
        assert_eq!(rec.runs.len(), 3);
    }

    #[test]
    fn histograms_stay_in_their_runs() {
        let run = |p50: f64| LoadRun {
            corrected: LoadLatency {
                p50_us: p50,
                hdr: Some(format!("{p50}")),
                ..Default::default()
            },
            ..Default::default()
        };
        let rec = record(vec![run(1.0), run(3.0)]).unwrap();
        assert_eq!(rec.median.corrected.p50_us, 2.0);
        assert_eq!(rec.median.corrected.hdr, None);
        assert_eq!(rec.max.corrected.hdr, None);
        assert_eq!(rec.runs[1].corrected.hdr.as_deref(), Some("3"));
    }

    #[test]
    fn even_number_of_runs_averages_the_middle_two() {
        let runs: Vec<MemoryRun> = [10, 20, 30, 40]
            .iter()
            .map(|&b| MemoryRun {
                baseline_rss_bytes: b,
                leak_bytes: -(b as i64),
                ..Default::default()
            })
            .collect();
        let rec = record(runs).unwrap();
        assert_eq!(rec.median.baseline_rss_bytes, 25);
        assert_eq!(rec.median.leak_bytes, -25);
    }
}

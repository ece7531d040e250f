//! `serve --metrics ADDR`: OpenMetrics text at `GET /metrics`.
//!
//! The exporter has threads of its own: one accepts, and each scrape is
//! handled on a short-lived thread, at most [`MAX_SCRAPES`] at once (a
//! connection over that is answered 503 and closed at once). A request
//! head must arrive whole within [`REQUEST_DEADLINE`] and fit in
//! [`MAX_HEAD`] bytes, so a slow or hostile scraper holds one slot for a
//! bounded time and a bounded amount of memory, and never anything the
//! server's messaging uses: a scrape reads [`Server::metrics`] (a read
//! lock and a few atomics) and nothing else of the server.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use veltix::{Class, Server, ServerMetrics};

/// Scrapes handled at once; a connection over this gets a 503.
pub const MAX_SCRAPES: usize = 4;
/// How long a scraper has to send its whole request head.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// The longest request head read (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;
/// How long writing a response may block on a scraper that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// The media type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A relay's state, as the exporter publishes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelaySnapshot {
    /// Connected to the relay now.
    pub up: bool,
    /// Messages published to the relay.
    pub published: u64,
    /// Messages received from the relay.
    pub received: u64,
}

/// Where the exporter reads the relay's state on each scrape.
pub type RelaySource = Arc<dyn Fn() -> RelaySnapshot + Send + Sync>;

/// Starts the exporter on `addr` (`HOST:PORT`; port 0: any free port) for
/// `server`, with the relay's state from `relay` (none: the relay metrics
/// are exported as 0). Returns the address it listens on.
pub fn start(
    addr: &str,
    server: Arc<Server>,
    relay: Option<RelaySource>,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().context("cannot read the metrics listener's address")?;
    let start_time = process_start_time();
    let source = move || Snapshot {
        server: server.metrics(),
        relay: relay.as_ref().map(|r| r()).unwrap_or_default(),
        process: start_time.and_then(|start_time_seconds| {
            Some(ProcessStats { resident_bytes: resident_bytes()?, start_time_seconds })
        }),
    };
    let exporter =
        Arc::new(Exporter { registry: registry(Box::new(source)), active: AtomicUsize::new(0) });
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || exporter.accept_loop(listener))
        .context("cannot start the metrics thread")?;
    Ok(local)
}

/// What one scrape publishes.
#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    server: ServerMetrics,
    relay: RelaySnapshot,
    /// None where /proc cannot be read (not Linux).
    process: Option<ProcessStats>,
}

#[derive(Debug, Clone, Copy, Default)]
struct ProcessStats {
    resident_bytes: u64,
    start_time_seconds: f64,
}

type SnapshotFn = Box<dyn Fn() -> Snapshot + Send + Sync>;

/// Encodes a fresh [`Snapshot`] on each scrape.
struct Collect(SnapshotFn);

impl fmt::Debug for Collect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Collect")
    }
}

impl Collector for Collect {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        encode_snapshot(&(self.0)(), &mut enc)
    }
}

fn registry(source: SnapshotFn) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Collect(source)));
    registry
}

/// The exposition of `registry`, `# EOF` included.
fn exposition(registry: &Registry) -> Result<String, fmt::Error> {
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, registry)?;
    Ok(body)
}

/// A counter family with one label: name, help, label, (value, count)s.
type Family<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, u64)]);

fn encode_snapshot(s: &Snapshot, enc: &mut DescriptorEncoder) -> fmt::Result {
    let (m, r, h) = (&s.server, &s.relay, &s.server.handshake_failures);
    let bytes = Some(&Unit::Bytes);
    let gauges = [
        (
            "veltix_clients_connected",
            "Clients connected now (handshake done).",
            None,
            m.clients_connected,
        ),
        (
            "veltix_callback_queue",
            "Payload bytes waiting for callbacks, over every connection.",
            bytes,
            m.callback_queue_bytes,
        ),
        (
            "veltix_outbound_queue",
            "Bytes waiting to be sent, over every connection.",
            bytes,
            m.outbound_queue_bytes,
        ),
        ("veltix_relay_up", "1 if the relay is connected, else 0.", None, u64::from(r.up)),
    ];
    for (name, help, unit, v) in gauges {
        gauge(enc, name, help, unit, v)?;
    }
    let single = [
        (
            "veltix_connections",
            "TCP connections accepted, refused ones included.",
            m.connections_total,
        ),
        ("veltix_bytes_received", "Bytes received from clients.", m.bytes_received),
        ("veltix_bytes_sent", "Bytes sent to clients.", m.bytes_sent),
    ];
    for (name, help, v) in single {
        ConstCounter::new(v).encode(enc.encode_descriptor(
            name,
            help,
            None,
            MetricType::Counter,
        )?)?;
    }
    let by_class = |v: &[u64; 3]| Class::ALL.map(|c| (c.name(), v[c.index()]));
    let handshake = [
        ("timeout", h.timeout),
        ("version", h.version),
        ("protocol", h.protocol),
        ("closed", h.closed),
        ("server_full", h.server_full),
    ];
    let dropped = [
        ("slow_consumer", m.dropped_slow_consumer),
        ("oversize", m.dropped_oversize),
        ("bad_crc", m.dropped_bad_crc),
    ];
    let labelled: [Family; 5] = [
        ("veltix_handshake_failures", "Handshakes that failed, by reason.", "reason", &handshake),
        (
            "veltix_frames_received",
            "Frames received, by class of message type.",
            "class",
            &by_class(&m.frames_received),
        ),
        (
            "veltix_frames_sent",
            "Frames sent, by class of message type.",
            "class",
            &by_class(&m.frames_sent),
        ),
        ("veltix_messages_dropped", "Messages dropped, by reason.", "reason", &dropped),
        (
            "veltix_relay_messages",
            "Messages through the relay, by direction.",
            "direction",
            &[("published", r.published), ("received", r.received)],
        ),
    ];
    for (name, help, label, values) in labelled {
        let mut family = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
        for &(value, n) in values {
            ConstCounter::new(n).encode(family.encode_family(&[(label, value)])?)?;
        }
    }
    if let Some(p) = &s.process {
        gauge(
            enc,
            "process_resident_memory",
            "Resident memory size in bytes.",
            bytes,
            p.resident_bytes,
        )?;
        let help = "Start time of the process since the Unix epoch in seconds.";
        gauge(enc, "process_start_time", help, Some(&Unit::Seconds), p.start_time_seconds)?;
    }
    Ok(())
}

fn gauge<N: EncodeGaugeValue>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    v: N,
) -> fmt::Result {
    ConstGauge::new(v).encode(enc.encode_descriptor(name, help, unit, MetricType::Gauge)?)
}

/// VmRSS from /proc/self/status, in bytes.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// When this process started, in seconds since the Unix epoch: its
/// `starttime` in /proc/self/stat (clock ticks after boot) plus the boot
/// time (`btime` in /proc/stat), as the Prometheus clients compute it.
fn process_start_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count after its ')'.
    let (_, rest) = stat.rsplit_once(')')?;
    // Field 22 is starttime; `rest` starts at field 3.
    let ticks: u64 = rest.split_whitespace().nth(22 - 3)?.parse().ok()?;
    let btime: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf(3) only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz <= 0 {
        return None;
    }
    Some(btime as f64 + ticks as f64 / hz as f64)
}

struct Exporter {
    registry: Registry,
    /// Scrapes being handled now.
    active: AtomicUsize,
}

/// Frees a scrape slot when its thread ends, however it ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Exporter {
    fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        for conn in listener.incoming() {
            match conn {
                Ok(stream) => self.clone().admit(stream),
                Err(e) => {
                    // Out of descriptors and the like: do not spin.
                    log::debug!("metrics: accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn admit(self: Arc<Self>, stream: TcpStream) {
        if self.active.fetch_add(1, Ordering::AcqRel) >= MAX_SCRAPES {
            self.active.fetch_sub(1, Ordering::AcqRel);
            log::debug!("metrics: {MAX_SCRAPES} scrapes running; a connection refused");
            // Never block the accepting thread on this peer.
            let _ = stream.set_nonblocking(true);
            let _ = (&stream).write_all(&response(
                "503 Service Unavailable",
                "Retry-After: 1\r\n",
                "too many scrapes at once\n",
                false,
            ));
            return;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new().name("metrics scrape".into()).spawn(move || {
            let _slot = Slot(&me.active);
            me.serve(stream);
        });
        if let Err(e) = spawned {
            // The closure (and its slot) never ran.
            self.active.fetch_sub(1, Ordering::AcqRel);
            log::warn!("metrics: cannot start a scrape thread: {e}");
        }
    }

    /// Answers one request on `stream`, then closes it.
    fn serve(&self, mut stream: TcpStream) {
        let peer = stream.peer_addr().map_or_else(|_| "?".to_string(), |a| a.to_string());
        let reply = match read_head(&mut stream) {
            Ok(head) => self.answer(&head),
            Err(HeadError::TooLarge) => {
                log::debug!("metrics: request head from {peer} over {MAX_HEAD} bytes");
                response(
                    "431 Request Header Fields Too Large",
                    "",
                    "request head too large\n",
                    false,
                )
            }
            Err(HeadError::TimedOut) => {
                log::debug!("metrics: no whole request from {peer} within {REQUEST_DEADLINE:?}");
                response("408 Request Timeout", "", "request timeout\n", false)
            }
            Err(HeadError::Io(e)) => {
                log::debug!("metrics: reading a request from {peer}: {e}");
                return;
            }
        };
        let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
        if let Err(e) = stream.write_all(&reply).and_then(|()| stream.flush()) {
            log::debug!("metrics: answering {peer}: {e}");
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }

    /// The response to a request whose head is `head`.
    fn answer(&self, head: &[u8]) -> Vec<u8> {
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let mut parts = line.trim_end_matches('\r').split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return response("400 Bad Request", "", "bad request line\n", false);
        };
        if !version.starts_with("HTTP/1.") || target.is_empty() {
            return response("400 Bad Request", "", "bad request line\n", false);
        }
        let head_only = match method {
            "GET" => false,
            "HEAD" => true,
            _ => {
                return response(
                    "405 Method Not Allowed",
                    "Allow: GET, HEAD\r\n",
                    "GET only\n",
                    false,
                )
            }
        };
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        if path != "/metrics" {
            return response(
                "404 Not Found",
                "",
                "not found: metrics are at /metrics\n",
                head_only,
            );
        }
        match exposition(&self.registry) {
            Ok(body) => {
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                if !head_only {
                    out.extend_from_slice(body.as_bytes());
                }
                out
            }
            Err(e) => {
                log::warn!("metrics: cannot encode the metrics: {e}");
                response("500 Internal Server Error", "", "cannot encode the metrics\n", head_only)
            }
        }
    }
}

/// A plain-text response (`extra`: header lines, each ending in CRLF).
fn response(status: &str, extra: &str, body: &str, head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(body);
    }
    out.into_bytes()
}

#[derive(Debug)]
enum HeadError {
    TooLarge,
    TimedOut,
    /// Closed before a whole head, or failed.
    Io(io::Error),
}

/// Reads a request head (up to the blank line), all within
/// [`REQUEST_DEADLINE`] and [`MAX_HEAD`] bytes.
fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, HeadError> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HeadError::TimedOut);
        }
        stream.set_read_timeout(Some(left)).map_err(HeadError::Io)?;
        let n = match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(HeadError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(HeadError::TimedOut)
            }
            Err(e) => return Err(HeadError::Io(e)),
        };
        // Look for the end from a little before the new bytes.
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&head[from..]) {
            head.truncate(from + end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// Where the blank line that ends a head ends (CRLF or bare LF lines).
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmetrics_parser::{openmetrics::parse_openmetrics, OpenMetricsValue};

    fn value(v: &OpenMetricsValue) -> f64 {
        match v {
            OpenMetricsValue::Counter(c) => c.value.as_f64(),
            OpenMetricsValue::Gauge(g) => g.as_f64(),
            other => panic!("not a counter or gauge: {other:?}"),
        }
    }

    fn parsed(
        snapshot: Snapshot,
    ) -> openmetrics_parser::MetricsExposition<openmetrics_parser::OpenMetricsType, OpenMetricsValue>
    {
        let text = exposition(&registry(Box::new(move || snapshot))).unwrap();
        parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn sample(
        e: &openmetrics_parser::MetricsExposition<
            openmetrics_parser::OpenMetricsType,
            OpenMetricsValue,
        >,
        family: &str,
        labels: &[&str],
    ) -> f64 {
        let f = e.families.get(family).unwrap_or_else(|| panic!("no family {family}"));
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        value(&f.get_sample_by_label_values(&labels).unwrap().value)
    }

    #[test]
    fn the_relay_source_is_published() {
        let e = parsed(Snapshot {
            relay: RelaySnapshot { up: true, published: 7, received: 11 },
            ..Snapshot::default()
        });
        assert_eq!(sample(&e, "veltix_relay_up", &[]), 1.0);
        assert_eq!(sample(&e, "veltix_relay_messages", &["published"]), 7.0);
        assert_eq!(sample(&e, "veltix_relay_messages", &["received"]), 11.0);
        let down = parsed(Snapshot {
            relay: RelaySnapshot { up: false, published: 7, received: 11 },
            ..Snapshot::default()
        });
        assert_eq!(sample(&down, "veltix_relay_up", &[]), 0.0);
    }

    #[test]
    fn process_metrics_only_where_proc_can_be_read() {
        let e = parsed(Snapshot {
            process: Some(ProcessStats { resident_bytes: 4096, start_time_seconds: 1.5e9 }),
            ..Snapshot::default()
        });
        assert_eq!(sample(&e, "process_resident_memory_bytes", &[]), 4096.0);
        assert_eq!(sample(&e, "process_start_time_seconds", &[]), 1.5e9);
        let none = parsed(Snapshot::default());
        assert!(!none.families.contains_key("process_resident_memory_bytes"));
        assert!(none.families.contains_key("veltix_relay_up"));
    }

    #[test]
    fn head_end_takes_crlf_or_bare_lf() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest"), Some(27));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn request_lines() {
        let x = Exporter { registry: registry(Box::new(Snapshot::default)), active: 0.into() };
        let status = |head: &str| {
            let r = x.answer(head.as_bytes());
            String::from_utf8_lossy(&r).lines().next().unwrap_or_default().to_string()
        };
        assert_eq!(status("GET /metrics HTTP/1.1\r\n"), "HTTP/1.1 200 OK");
        assert_eq!(status("GET /metrics?x=1 HTTP/1.0\r\n"), "HTTP/1.1 200 OK");
        assert_eq!(status("GET / HTTP/1.1\r\n"), "HTTP/1.1 404 Not Found");
        assert_eq!(status("POST /metrics HTTP/1.1\r\n"), "HTTP/1.1 405 Method Not Allowed");
        assert_eq!(status("GET /metrics\r\n"), "HTTP/1.1 400 Bad Request");
        assert_eq!(status("GET /metrics HTTP/1.1 extra\r\n"), "HTTP/1.1 400 Bad Request");
        assert_eq!(status("GET /metrics SMTP\r\n"), "HTTP/1.1 400 Bad Request");
        let head = x.answer(b"HEAD /metrics HTTP/1.1\r\n");
        assert!(String::from_utf8_lossy(&head).ends_with("\r\n\r\n"), "HEAD has no body");
    }
}

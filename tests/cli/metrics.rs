//! `veltix serve --metrics ADDR`: known traffic, then a scrape over plain
//! HTTP parsed with a strict OpenMetrics parser; the paths and methods
//! answered; scrapers that send nothing or dribble.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};
use veltix::{
    handshake, types, Client, ClientConfig, Frame, FrameReader, RequestId, PROTOCOL_VERSION,
};

use crate::common::wait_until;
use crate::util::{code, run, stderr, veltix, Serve};

const T: Duration = Duration::from_secs(5);
/// The exporter's bounds (src/cmd/serve/metrics.rs): scrapes at once, and
/// how long a request head may take.
const MAX_SCRAPES: usize = 4;
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

/// `veltix serve ARGS --metrics 127.0.0.1:0` and the metrics address its
/// log line names.
fn serve_with_metrics(args: &[&str]) -> (Serve, String) {
    let mut all = args.to_vec();
    all.extend(["--metrics", "127.0.0.1:0"]);
    let s = Serve::start(&all);
    let line = s.wait_stderr("metrics listening on");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no http://ADDR/metrics in {line:?}"))
        .to_string();
    (s, addr)
}

/// An HTTP response: status code, head (status line and headers), body.
struct Response {
    status: u16,
    head: String,
    body: String,
}

/// Sends `request` as it is and reads the whole response.
fn http(addr: &str, request: &str) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect to the exporter");
    s.set_read_timeout(Some(T)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    read_response(&mut s)
}

fn read_response(s: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("the exporter answers and closes");
    let text = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Response { status, head: head.to_string(), body: body.to_string() }
}

fn get(addr: &str, path: &str) -> Response {
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"))
}

/// GET /metrics, parsed.
fn scrape(addr: &str) -> Exposition {
    let r = get(addr, "/metrics");
    assert_eq!(r.status, 200, "{}", r.head);
    parse_openmetrics(&r.body).unwrap_or_else(|e| panic!("not OpenMetrics: {e}\n{}", r.body))
}

/// The value of `family`'s sample with these label values.
fn value(e: &Exposition, family: &str, labels: &[&str]) -> f64 {
    let f = e.families.get(family).unwrap_or_else(|| panic!("no metric family {family}"));
    let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    let sample = f
        .get_sample_by_label_values(&labels)
        .unwrap_or_else(|| panic!("no {family} sample {labels:?}"));
    match &sample.value {
        OpenMetricsValue::Counter(c) => c.value.as_f64(),
        OpenMetricsValue::Gauge(g) => g.as_f64(),
        other => panic!("{family} is neither a counter nor a gauge: {other:?}"),
    }
}

fn family_type(e: &Exposition, family: &str) -> OpenMetricsType {
    e.families[family].family_type
}

/// A raw connection past the server's HELLO; its frame reader.
fn raw_peer(addr: &str) -> (TcpStream, FrameReader<TcpStream>, Frame) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let mut r = FrameReader::new(s.try_clone().unwrap(), 1 << 20);
    let hello = r.read_frame().unwrap().unwrap();
    assert_eq!(hello.type_code, types::HELLO);
    (s, r, hello)
}

/// Answers `hello` with a HELLO_ACK for `version`; the bytes written.
fn ack(s: &mut TcpStream, hello: &Frame, version: &str) -> u64 {
    let ack = Frame::new(types::HELLO_ACK, hello.request_id, handshake::encode_hello(version));
    let bytes = ack.encode().unwrap();
    s.write_all(&bytes).unwrap();
    bytes.len() as u64
}

fn frame_len(f: &Frame) -> u64 {
    f.encode().unwrap().len() as u64
}

#[test]
fn a_scrape_counts_the_traffic_sent() {
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let (s, metrics) = serve_with_metrics(&["--mode", "echo"]);

    // Nothing yet: every family there, at 0.
    let e = scrape(&metrics);
    assert_eq!(value(&e, "veltix_connections", &[]), 0.0);
    assert_eq!(value(&e, "veltix_relay_up", &[]), 0.0);
    assert_eq!(value(&e, "veltix_relay_messages", &["published"]), 0.0);
    assert_eq!(value(&e, "veltix_relay_messages", &["received"]), 0.0);

    // 3 application messages of 100 bytes, 2 plugin ones (type >= 500) of
    // 7, each echoed; a ping.
    let c = Client::connect(ClientConfig::new(s.addr.clone())).expect("connect");
    for _ in 0..3 {
        c.send_and_wait(200, &[b'a'; 100], T).unwrap();
    }
    for _ in 0..2 {
        c.send_and_wait(600, b"plugins", T).unwrap();
    }
    c.ping(T).unwrap();
    // The client's stats begin after its handshake (made before its
    // connection object exists): add its HELLO_ACK out; the HELLO it got
    // is added below, the same as the raw clients'.
    let cs = c.stats().expect("client stats");
    let handshake_ack =
        Frame::new(types::HELLO_ACK, RequestId::from(0), handshake::encode_hello(PROTOCOL_VERSION));
    let (mut bytes_in, mut bytes_out) = (cs.bytes_out + frame_len(&handshake_ack), cs.bytes_in);

    // A client with a wrong version: its HELLO_ACK is read, an ERROR
    // sent, and the connection closed.
    let (mut bad, mut bad_r, hello) = raw_peer(&s.addr);
    bytes_in += ack(&mut bad, &hello, "9.9.9");
    // This HELLO, and the one the client got.
    bytes_out += 2 * frame_len(&hello);
    while let Some(f) = bad_r.read_frame().ok().flatten() {
        bytes_out += frame_len(&f);
    }

    // An established raw client sends a frame with a bad CRC: dropped,
    // answered with an ERROR, the connection kept.
    let (mut raw, mut raw_r, hello) = raw_peer(&s.addr);
    bytes_out += frame_len(&hello);
    bytes_in += ack(&mut raw, &hello, "1.6.3");
    let mut f = Frame::new(200, RequestId::from(5), b"abc".to_vec()).encode().unwrap();
    f[veltix::HEADER_LEN] ^= 1;
    raw.write_all(&f).unwrap();
    bytes_in += f.len() as u64;
    let error = raw_r.read_frame().unwrap().unwrap();
    assert_eq!(error.type_code, types::ERROR);
    bytes_out += frame_len(&error);

    wait_until("the bad CRC in the metrics", || {
        value(&scrape(&metrics), "veltix_messages_dropped", &["bad_crc"]) == 1.0
    });
    let e = scrape(&metrics);
    let v = |family: &str, labels: &[&str]| value(&e, family, labels);
    assert_eq!(v("veltix_clients_connected", &[]), 2.0);
    assert_eq!(v("veltix_connections", &[]), 3.0);
    assert_eq!(v("veltix_handshake_failures", &["version"]), 1.0);
    for reason in ["timeout", "protocol", "closed", "server_full"] {
        assert_eq!(v("veltix_handshake_failures", &[reason]), 0.0, "{reason}");
    }
    // Three HELLO_ACKs (the wrong one included) and the PING.
    assert_eq!(v("veltix_frames_received", &["system"]), 4.0);
    assert_eq!(v("veltix_frames_received", &["application"]), 3.0);
    assert_eq!(v("veltix_frames_received", &["plugin"]), 2.0);
    // Three HELLOs, the PONG, an ERROR for the version and one for the CRC.
    assert_eq!(v("veltix_frames_sent", &["system"]), 6.0);
    assert_eq!(v("veltix_frames_sent", &["application"]), 3.0);
    assert_eq!(v("veltix_frames_sent", &["plugin"]), 2.0);
    assert_eq!(v("veltix_bytes_received", &[]), bytes_in as f64);
    assert_eq!(v("veltix_bytes_sent", &[]), bytes_out as f64);
    assert_eq!(v("veltix_messages_dropped", &["bad_crc"]), 1.0);
    assert_eq!(v("veltix_messages_dropped", &["oversize"]), 0.0);
    assert_eq!(v("veltix_messages_dropped", &["slow_consumer"]), 0.0);
    assert_eq!(v("veltix_callback_queue_bytes", &[]), 0.0);
    assert_eq!(v("veltix_outbound_queue_bytes", &[]), 0.0);
    assert_eq!(v("veltix_relay_up", &[]), 0.0);

    // Prometheus conventions: _total counters, gauges, base units.
    for counter in ["veltix_connections", "veltix_frames_sent", "veltix_bytes_received"] {
        assert_eq!(family_type(&e, counter), OpenMetricsType::Counter, "{counter}");
    }
    for gauge in ["veltix_clients_connected", "veltix_outbound_queue_bytes", "veltix_relay_up"] {
        assert_eq!(family_type(&e, gauge), OpenMetricsType::Gauge, "{gauge}");
    }
    assert_eq!(e.families["veltix_callback_queue_bytes"].unit, "bytes");

    // The process: its resident memory (as /proc says, give or take what
    // it allocates meanwhile) and when it started.
    let rss = value(&e, "process_resident_memory_bytes", &[]);
    let vm_rss = crate::common::bin::rss_of(s.child.id()).expect("the child's VmRSS") as f64;
    assert!(rss > 1e6 && rss < vm_rss * 2.0 && rss > vm_rss / 2.0, "{rss} vs VmRSS {vm_rss}");
    let started = value(&e, "process_start_time_seconds", &[]);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    // btime is whole seconds, and the clock may have been stepped since boot.
    assert!(started > before - 2.0 && started < now + 2.0, "{before} <= {started} <= {now}");
    drop((c, raw));
}

#[test]
fn only_get_metrics_is_answered() {
    let (_s, metrics) = serve_with_metrics(&[]);
    let ok = get(&metrics, "/metrics");
    assert_eq!(ok.status, 200);
    assert!(
        ok.head.lines().any(|l| l.eq_ignore_ascii_case(
            "content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"
        )),
        "{}",
        ok.head
    );
    assert!(ok.body.ends_with("# EOF\n"), "{}", ok.body);
    for path in ["/", "/metric", "/metrics/", "/metricsx", "/favicon.ico"] {
        assert_eq!(get(&metrics, path).status, 404, "{path}");
    }
    let post = http(&metrics, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(post.status, 405);
    assert!(post.head.contains("Allow: GET, HEAD"), "{}", post.head);
    assert_eq!(http(&metrics, "nonsense\r\n\r\n").status, 400);
    let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(http(&metrics, &huge).status, 431);
}

#[test]
fn a_silent_connection_does_not_hold_up_a_scrape() {
    let (_s, metrics) = serve_with_metrics(&[]);
    let _silent = TcpStream::connect(&metrics).unwrap();
    let mut partial = TcpStream::connect(&metrics).unwrap();
    partial.write_all(b"GET /metr").unwrap();
    let t0 = Instant::now();
    scrape(&metrics);
    assert!(t0.elapsed() < Duration::from_secs(2), "the scrape took {:?}", t0.elapsed());
}

#[test]
fn hostile_scrapers_are_bounded_and_timed_out() {
    let (_s, metrics) = serve_with_metrics(&[]);
    // Every slot taken: three that send nothing, one that sends a byte
    // every 200 ms and never ends its request.
    let silent: Vec<TcpStream> =
        (0..MAX_SCRAPES - 1).map(|_| TcpStream::connect(&metrics).unwrap()).collect();
    let mut dribbler = TcpStream::connect(&metrics).unwrap();
    let mut writer = dribbler.try_clone().unwrap();
    std::thread::spawn(move || {
        for b in b"GET /metrics HTTP/1.1\r\nX-Slow: ".iter().chain(&[b'a'; 200]) {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let t0 = Instant::now();
    // One more is told at once, without reading a request.
    let mut extra = TcpStream::connect(&metrics).unwrap();
    extra.set_read_timeout(Some(T)).unwrap();
    assert_eq!(read_response(&mut extra).status, 503);
    assert!(t0.elapsed() < Duration::from_secs(2), "503 after {:?}", t0.elapsed());

    // Each hostile one is cut off at the request deadline: 408 for the
    // silent ones; the dribbler's connection ends (a 408, or a reset if a
    // byte of it was in flight when it closed).
    for mut s in silent {
        s.set_read_timeout(Some(REQUEST_DEADLINE + T)).unwrap();
        assert_eq!(read_response(&mut s).status, 408);
    }
    dribbler.set_read_timeout(Some(T)).unwrap();
    let mut sink = Vec::new();
    match dribbler.read_to_end(&mut sink) {
        Ok(_) => assert!(String::from_utf8_lossy(&sink).contains(" 408 "), "{sink:?}"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    let took = t0.elapsed();
    assert!(took >= REQUEST_DEADLINE - Duration::from_millis(500), "cut off after {took:?}");
    assert!(took < REQUEST_DEADLINE + Duration::from_secs(3), "cut off after {took:?}");
    // The slots are free again.
    scrape(&metrics);
}

#[test]
fn a_metrics_address_that_cannot_be_bound_is_an_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(veltix(["serve", "--host", "127.0.0.1", "-p", "0", "--metrics", &addr]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("cannot serve metrics on {addr}")), "{}", stderr(&out));
    let out = run(veltix(["serve", "--host", "127.0.0.1", "-p", "0", "--metrics", "nowhere"]));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot serve metrics on nowhere"), "{}", stderr(&out));
}

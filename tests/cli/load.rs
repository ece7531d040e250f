//! `veltix bench --only load`: the corrected latency sees a stalling
//! server that the uncorrected one hides; without stalls the two agree and
//! the rate is kept; `--merge` adds documents up exactly; `--start-at`
//! waits; `--plot` draws SVG. Every run is short (≤ 3 s at ≤ 1000 req/s).

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use serde_json::Value;
use veltix::{handshake, types, Decoder, Frame, RequestId};

use crate::bench::{num, ok, read_json};
use crate::util::{code, run, stderr, stdout, veltix};

fn bench(args: &[&str]) -> std::process::Output {
    let mut cmd = veltix(["bench"]);
    cmd.args(args);
    run(cmd)
}

fn json_of(out: &std::process::Output) -> Value {
    ok(out);
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// The histogram a document stores at `hdr`.
fn hdr(v: &Value) -> Histogram<u64> {
    let text = v["hdr"].as_str().unwrap_or_else(|| panic!("no hdr in {v:#}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
    Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap()
}

/// A 1.6.3 server on a raw socket that answers PINGs with PONGs but stops
/// reading for the first `stall` of every second (since it started): its
/// PONGs, answered by the thread that reads, stop with it.
struct StallingServer {
    addr: String,
    closing: Arc<AtomicBool>,
}

impl StallingServer {
    fn start(stall: Duration) -> StallingServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let closing = Arc::new(AtomicBool::new(false));
        let c = closing.clone();
        let epoch = Instant::now();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if c.load(Ordering::Acquire) {
                    return;
                }
                let Ok(stream) = stream else { return };
                std::thread::spawn(move || serve_stalling(stream, epoch, stall));
            }
        });
        StallingServer { addr, closing }
    }
}

impl Drop for StallingServer {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Release);
        let _ = TcpStream::connect(&self.addr);
    }
}

fn serve_stalling(mut stream: TcpStream, epoch: Instant, stall: Duration) {
    let hello = Frame::new(types::HELLO, RequestId::random(), handshake::encode_hello("1.6.3"));
    if stream.write_all(&hello.encode().unwrap()).is_err() {
        return;
    }
    let mut dec = Decoder::new(1 << 20);
    loop {
        while let Ok(Some(f)) = dec.next_frame() {
            if f.type_code == types::PING {
                let pong = Frame::new(types::PONG, f.request_id, vec![]);
                if stream.write_all(&pong.encode().unwrap()).is_err() {
                    return;
                }
            }
        }
        let into_second = Duration::from_nanos((epoch.elapsed().as_nanos() % 1_000_000_000) as u64);
        if into_second < stall {
            std::thread::sleep(stall - into_second);
        }
        match dec.read_from(&mut stream, 65536) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

#[test]
fn a_stalling_server_shows_in_the_corrected_latency_only() {
    let server = StallingServer::start(Duration::from_millis(300));
    let out = bench(&[
        "--target",
        &server.addr,
        "--wire",
        "1.6",
        "--only",
        "load",
        "--load-rate",
        "1000",
        "--load-connections",
        "4",
        "--load-duration",
        "3s",
        "--json",
    ]);
    let doc = json_of(&out);
    let m = &doc["results"]["load"]["median"];
    assert_eq!(num(m, "scheduled"), 3000.0, "{m:#}");
    assert_eq!(num(m, "errors"), 0.0, "{m:#}");
    assert_eq!(num(m, "completed"), 3000.0, "{m:#}");
    // About 30 % of the requests were due during a stall, waiting up to
    // 300 ms: the corrected p90 is among them.
    let (c90, u90) = (num(m, "corrected.p90_us"), num(m, "uncorrected.p90_us"));
    assert!(c90 > 100_000.0, "corrected p90 {c90} µs in {m:#}");
    // Only the one request per connection in flight when a stall began
    // waited through it once sent.
    assert!(u90 < 20_000.0, "uncorrected p90 {u90} µs in {m:#}");
    assert!(num(m, "corrected.max_us") > 200_000.0, "{m:#}");
    // Requests due in a stall went out late, and were counted, not skipped.
    assert!(num(m, "late") > 300.0, "{m:#}");
    assert_eq!(num(m, "sent"), 3000.0, "{m:#}");
}

#[test]
fn without_stalls_the_two_agree_and_the_rate_is_kept_on_both_cores() {
    for core in ["threads", "poll"] {
        let doc = json_of(&bench(&[
            "--only",
            "load",
            "--core",
            core,
            "--load-rate",
            "1000",
            "--load-duration",
            "2s",
            "--json",
        ]));
        let m = &doc["results"]["load"]["median"];
        assert_eq!(m["message"], "ping");
        assert_eq!(num(m, "target_msgs_per_s"), 1000.0);
        let achieved = num(m, "achieved_msgs_per_s");
        assert!((achieved - 1000.0).abs() <= 50.0, "{core}: achieved {achieved} in {m:#}");
        assert_eq!(num(m, "completed"), 2000.0, "{core}: {m:#}");
        assert_eq!(num(m, "errors"), 0.0, "{core}: {m:#}");
        for p in ["p50_us", "p90_us"] {
            let (c, u) = (num(m, &format!("corrected.{p}")), num(m, &format!("uncorrected.{p}")));
            assert!(c >= u && c - u < 5_000.0, "{core}: {p} corrected {c} uncorrected {u}");
        }
        for side in ["corrected", "uncorrected"] {
            for key in ["min_us", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "avg_us"] {
                assert!(num(&m[side], key) > 0.0, "{core}: {side}.{key} in {m:#}");
            }
            // The median has no histogram; every run has its own.
            assert!(m[side]["hdr"].is_null());
            let run = &doc["results"]["load"]["runs"][0][side];
            assert_eq!(hdr(run).len(), 2000, "{core}");
        }
        assert_eq!(doc["knobs"]["load_rate_msgs_per_s"], 1000);
        assert_eq!(doc["knobs"]["scenarios"], serde_json::json!(["load"]));
    }
}

#[test]
fn echo_requests_with_runs_warmup_save_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("echo.json");
    let out = bench(&[
        "--only",
        "load",
        "--load-message",
        "echo",
        "--load-payload",
        "100",
        "--load-rate",
        "400",
        "--load-connections",
        "2",
        "--load-duration",
        "500ms",
        "--runs",
        "2",
        "--warmup",
        "1",
        "--save",
        file.to_str().unwrap(),
    ]);
    ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("LOAD  echo requests of 100 B at 400 msg/s over 2 connections"),
        "{text}"
    );
    assert!(text.contains("corrected") && text.contains("uncorrected"), "{text}");
    let doc = read_json(&file);
    let rec = &doc["results"]["load"];
    assert_eq!(rec["runs"].as_array().map(Vec::len), Some(2), "{rec:#}");
    for r in rec["runs"].as_array().unwrap() {
        assert_eq!(r["message"], "echo");
        assert_eq!(num(r, "payload_bytes"), 100.0);
        assert_eq!(num(r, "completed"), 200.0, "{r:#}");
    }
    assert!(num(rec, "min.corrected.p50_us") <= num(rec, "max.corrected.p50_us"));
    let cmp = bench(&["--compare", file.to_str().unwrap(), file.to_str().unwrap()]);
    ok(&cmp);
    assert!(stdout(&cmp).contains("corrected p99"), "{}", stdout(&cmp));
}

#[test]
fn the_load_scenario_runs_only_on_request() {
    let out = bench(&["--help"]);
    ok(&out);
    let help = stdout(&out);
    assert!(help.contains("--load-rate"), "{help}");
    assert!(help.contains("all but connections and load"), "{help}");
}

/// A short run of latency and load, saved to `path`.
fn save_short_run(path: &Path) {
    ok(&bench(&[
        "--only",
        "latency",
        "load",
        "--latency-iterations",
        "60",
        "--latency-warmup",
        "2",
        "--load-rate",
        "500",
        "--load-connections",
        "2",
        "--load-duration",
        "400ms",
        "--save",
        path.to_str().unwrap(),
        "--json",
    ]));
}

#[test]
fn merge_sums_counts_and_reads_percentiles_from_the_summed_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, m) =
        (dir.path().join("a.json"), dir.path().join("b.json"), dir.path().join("m.json"));
    save_short_run(&a);
    save_short_run(&b);
    let out = bench(&[
        "--merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--save",
        m.to_str().unwrap(),
    ]);
    ok(&out);
    assert!(stdout(&out).contains("merged from 2 documents"), "{}", stdout(&out));
    let (da, db, dm) = (read_json(&a), read_json(&b), read_json(&m));
    assert_eq!(dm["schema"], 1);

    let (ra, rb, rm) = (
        &da["results"]["load"]["runs"][0],
        &db["results"]["load"]["runs"][0],
        &dm["results"]["load"]["runs"][0],
    );
    for key in ["scheduled", "sent", "completed", "errors", "late", "connections"] {
        assert_eq!(num(rm, key), num(ra, key) + num(rb, key), "{key}");
    }
    assert_eq!(num(rm, "target_msgs_per_s"), 1000.0);
    for side in ["corrected", "uncorrected"] {
        let mut all = hdr(&ra[side]);
        all.add(hdr(&rb[side])).unwrap();
        assert_eq!(hdr(&rm[side]), all, "{side}");
        for (key, q) in [("p50_us", 0.5), ("p90_us", 0.9), ("p99_us", 0.99), ("p999_us", 0.999)] {
            let want = all.value_at_quantile(q) as f64 / 1000.0;
            assert_eq!(num(&rm[side], key), want, "{side}.{key}");
        }
        assert_eq!(num(&rm[side], "max_us"), all.max() as f64 / 1000.0);
        assert_eq!(
            num(&dm["results"]["load"]["median"], &format!("{side}.p90_us")),
            num(&rm[side], "p90_us")
        );
    }

    let (la, lb, lm) = (
        &da["results"]["latency"]["runs"][0],
        &db["results"]["latency"]["runs"][0],
        &dm["results"]["latency"]["runs"][0],
    );
    for key in ["pings", "completed", "lost", "raw.completed"] {
        assert_eq!(num(lm, key), num(la, key) + num(lb, key), "{key}");
    }
    let mut all = hdr(la);
    all.add(hdr(lb)).unwrap();
    assert_eq!(hdr(lm).len(), all.len());
    let min = num(la, "min_us").min(num(lb, "min_us"));
    let max = num(la, "max_us").max(num(lb, "max_us"));
    assert_eq!(num(lm, "min_us"), min);
    assert_eq!(num(lm, "max_us"), max);
    let want = (all.value_at_quantile(0.99) as f64 / 1000.0).clamp(min, max);
    assert_eq!(num(lm, "p99_us"), want);
}

#[test]
fn merge_refuses_documents_it_cannot_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    save_short_run(&a);
    // A run without its histogram (as an older veltix saved it).
    let mut old = read_json(&a);
    old["results"]["load"]["runs"][0]["corrected"].as_object_mut().unwrap().remove("hdr");
    let b = dir.path().join("old.json");
    std::fs::write(&b, old.to_string()).unwrap();
    let out = bench(&["--merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("older veltix"), "{}", stderr(&out));
    // Different numbers of runs.
    let mut two = read_json(&a);
    let run = two["results"]["load"]["runs"][0].clone();
    two["results"]["load"]["runs"].as_array_mut().unwrap().push(run);
    std::fs::write(&b, two.to_string()).unwrap();
    let out = bench(&["--merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("different number of load runs"), "{}", stderr(&out));
}

#[test]
fn start_at_waits_for_its_instant_and_refuses_a_past_one() {
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let text = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let started = Instant::now();
    let doc = json_of(&bench(&[
        "--only",
        "load",
        "--load-rate",
        "200",
        "--load-duration",
        "100ms",
        "--start-at",
        &text,
        "--json",
    ]));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1400), "took {took:?}");
    assert!(doc["knobs"]["start_at"].is_string(), "{:#}", doc["knobs"]);
    assert_eq!(num(&doc["results"]["load"]["median"], "completed"), 20.0);

    let past = (chrono::Utc::now() - chrono::Duration::seconds(5)).to_rfc3339();
    let out = bench(&["--only", "load", "--start-at", &past]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("ago"), "{}", stderr(&out));
    let out = bench(&["--only", "load", "--start-at", "tomorrow"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("RFC 3339"), "{}", stderr(&out));
}

#[test]
fn plot_draws_one_labelled_curve_per_document_and_scenario_as_valid_svg() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, svg) =
        (dir.path().join("a.json"), dir.path().join("b.json"), dir.path().join("out.svg"));
    save_short_run(&a);
    std::fs::copy(&a, &b).unwrap();
    let out = bench(&["--plot", svg.to_str().unwrap(), a.to_str().unwrap(), b.to_str().unwrap()]);
    ok(&out);
    let text = std::fs::read_to_string(&svg).unwrap();
    let xml = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    let texts: Vec<String> = xml
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect();
    for doc in ["a", "b"] {
        for curve in ["latency", "latency, raw TCP", "load corrected", "load uncorrected"] {
            let label = format!("{doc}: {curve}");
            assert!(texts.contains(&label), "{label} not in {texts:?}");
        }
    }
    for axis in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"] {
        assert!(texts.iter().any(|t| t == axis), "{axis} not in {texts:?}");
    }
    // The curves (axes, ticks and legend marks are thin polylines too).
    let curves = xml
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("2"))
        .count();
    assert_eq!(curves, 8, "one line per curve");

    // A document without histograms has nothing to plot.
    let mut none = read_json(&a);
    none["results"]["load"] = Value::Null;
    none["results"]["latency"] = Value::Null;
    std::fs::write(&b, none.to_string()).unwrap();
    let out = bench(&["--plot", svg.to_str().unwrap(), b.to_str().unwrap()]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("no latency or load histogram"), "{}", stderr(&out));
}

/// `veltix bench ARGS` in a pseudo-terminal (stdout and stderr both); its
/// whole output once it exited, and its exit code.
fn in_a_terminal(args: &[&str]) -> (String, i32) {
    let mut cmd = veltix(["bench"]);
    cmd.args(args).env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    let text = p.exp_eof().expect("the run ends");
    let code = match p.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => code,
        other => panic!("veltix did not exit: {other:?}"),
    };
    (text, code)
}

#[test]
fn the_live_view_shows_on_a_terminal_only_and_not_with_json() {
    let load = ["--only", "load", "--load-rate", "500", "--load-duration", "1500ms"];
    let (text, code) = in_a_terminal(&load);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("last 1 s: p50"), "no live view in\n{text}");
    assert!(text.contains("PINGs at 500 msg/s"), "{text}");

    let (text, code) = in_a_terminal(&[&load[..], &["--json"]].concat());
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("last 1 s"), "a live view with --json:\n{text}");
    assert!(text.contains("\"achieved_msgs_per_s\""), "{text}");

    // Not a terminal: nothing but the report.
    let out = bench(&load);
    ok(&out);
    assert!(!stderr(&out).contains("last 1 s"), "{}", stderr(&out));
}

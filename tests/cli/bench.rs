//! `veltix bench`: scenarios with tiny knobs (no test asserts a speed),
//! the saved document, `--json`, `--compare`, honest loss reporting, bad
//! input, and a run against the Python reference's echo server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::common::python;
use crate::util::{code, run, stderr, stdout, veltix, Serve};

/// Knobs small enough for a test: every scenario in well under a second.
const TINY: &[&str] = &[
    "--latency-iterations",
    "40",
    "--latency-warmup",
    "5",
    "--fps-players",
    "3",
    "--fps2-players",
    "4",
    "--fps-duration",
    "200ms",
    "--burst-count",
    "300",
    "--stress-clients",
    "4",
    "--stress-msgs",
    "25",
    "--memory-clients",
    "4",
    "--memory-detail",
    "2",
];

fn bench(args: &[&str]) -> std::process::Output {
    let mut cmd = veltix(["bench"]);
    cmd.args(args).args(TINY);
    if !args.contains(&"--drain-timeout") {
        cmd.args(["--drain-timeout", "5s"]);
    }
    run(cmd)
}

pub(crate) fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()))
}

pub(crate) fn ok(out: &std::process::Output) {
    assert_eq!(code(out), 0, "stdout:\n{}\nstderr:\n{}", stdout(out), stderr(out));
}

pub(crate) fn num(v: &Value, path: &str) -> f64 {
    let mut cur = v;
    for part in path.split('.') {
        cur = &cur[part];
    }
    cur.as_f64().unwrap_or_else(|| panic!("no number at {path} in {v:#}"))
}

#[test]
fn only_latency_saves_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.json");
    let out = bench(&["--only", "latency", "--save", file.to_str().unwrap()]);
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("LATENCY"), "{text}");
    assert!(text.contains("p99.9"), "{text}");
    assert!(text.contains("raw TCP"), "{text}");
    assert!(text.contains("README-ready summary"), "{text}");
    assert!(!text.contains("BURST"), "only latency ran:\n{text}");

    let doc = read_json(&file);
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["tool"]["name"], "veltix");
    assert!(doc["tool"]["version"].is_string());
    assert_eq!(doc["protocol_version"], "1.6.3");
    // --wire auto: the in-process server speaks 1.6.
    assert_eq!(doc["setup"]["wire"], "1.6");
    assert_eq!(doc["knobs"]["conn"]["wire"], "auto");
    for key in ["cpu_model", "os", "kernel", "arch"] {
        assert!(doc["machine"][key].is_string(), "machine.{key} in {:#}", doc["machine"]);
    }
    assert!(num(&doc, "machine.logical_cores") >= 1.0);
    assert!(num(&doc, "machine.memory_bytes") > 0.0);
    assert_eq!(num(&doc, "knobs.latency_iterations"), 40.0);
    assert_eq!(doc["knobs"]["scenarios"], serde_json::json!(["latency"]));
    assert!(doc["results"]["burst"].is_null());

    let lat = &doc["results"]["latency"];
    assert_eq!(lat["runs"].as_array().unwrap().len(), 1);
    let m = &lat["median"];
    assert_eq!(num(m, "pings"), 40.0);
    assert_eq!(num(m, "completed") + num(m, "lost"), 40.0);
    for key in [
        "avg_us",
        "stdev_us",
        "jitter_us",
        "min_us",
        "p50_us",
        "p90_us",
        "p99_us",
        "p999_us",
        "max_us",
    ] {
        assert!(m[key].is_number(), "{key} in {m:#}");
    }
    assert!(num(m, "min_us") > 0.0 && num(m, "min_us") <= num(m, "p50_us"));
    assert!(num(m, "p50_us") <= num(m, "p99_us") && num(m, "p99_us") <= num(m, "max_us"));
    assert!(num(m, "pings_per_s") > 0.0);
    assert!(m["histogram"].as_array().is_some_and(|h| !h.is_empty()));
    assert!(num(m, "raw.p50_us") > 0.0);
    assert!(num(m, "efficiency") > 0.0);
    // Every block of each side is placed (the echoing threads are in this
    // process): on one vCPU, on two, or moved.
    let run = &lat["runs"][0];
    for side in ["placement", "raw_placement"] {
        let p = &run[side];
        let blocks = |k: &str| p[k]["blocks"].as_f64().unwrap_or(0.0);
        assert_eq!(
            blocks("shared") + blocks("apart") + num(p, "moved_blocks"),
            10.0,
            "{side} in {run:#}"
        );
        for k in ["shared", "apart"] {
            assert!(p[k].is_null() || num(&p[k], "p50_us") > 0.0, "{side}.{k} in {run:#}");
        }
    }
}

#[test]
fn json_prints_the_whole_document_and_nothing_else() {
    let out = bench(&["--only", "burst", "--json"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("stdout is one JSON document");
    let b = &doc["results"]["burst"]["median"];
    assert_eq!(num(b, "count"), 300.0);
    assert_eq!(num(b, "delivered"), 300.0, "{b:#}");
    assert_eq!(num(b, "lost"), 0.0);
    assert_eq!(num(b, "success_pct"), 100.0);
    assert_eq!(num(b, "raw.delivered"), 300.0);
    assert!(num(b, "recv_msgs_per_s") > 0.0);
    assert!(num(b, "delivery_p50_us") <= num(b, "delivery_max_us"));
    // The bulk baseline: the same 86-byte frames in 256 KiB writes.
    assert_eq!(num(b, "bulk.write_size_bytes"), 262_144.0);
    assert_eq!(
        (num(b, "bulk.sent"), num(b, "bulk.delivered"), num(b, "bulk.lost")),
        (300.0, 300.0, 0.0)
    );
    let per_msg = num(b, "bulk.recv_bytes_per_s") / num(b, "bulk.recv_msgs_per_s");
    assert!((per_msg - 86.0).abs() < 1e-6, "{per_msg}");
    let eff = num(b, "recv_msgs_per_s") / num(b, "bulk.recv_msgs_per_s");
    assert!((num(b, "efficiency_vs_bulk") - eff).abs() < 1e-9, "{b:#}");
}

#[test]
fn burst_and_stress_report_the_bulk_baseline() {
    let out = bench(&["--only", "burst", "stress"]);
    ok(&out);
    let text = stdout(&out);
    for what in ["receive rate", "aggregate rate"] {
        assert!(text.contains(&format!("veltix / bulk: {what} ")), "{what}:\n{text}");
    }
    let bulk_lines = text.matches("  bulk TCP (the same frames, 256 KiB per write): ").count();
    assert_eq!(bulk_lines, 2, "{text}");
    assert_eq!(text.matches("│   vs bulk TCP ").count(), 2, "summary box:\n{text}");
}

#[test]
fn memory_fps_and_stress_count_what_the_server_received() {
    let out = bench(&["--only", "stress", "fps", "memory", "--json", "--no-baseline"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["knobs"]["scenarios"], serde_json::json!(["memory", "fps", "stress"]));
    let mem = &doc["results"]["memory"]["median"];
    assert!(num(mem, "idle_rss_bytes") > 0.0);
    assert!(num(mem, "total_rss_bytes") > 0.0);
    assert_eq!(num(mem, "total_clients"), 4.0);
    assert!(mem["per_client_avg_bytes"].is_number() && mem["leak_bytes"].is_number());

    for (key, players) in [("fps", 3.0), ("fps2", 4.0)] {
        let f = &doc["results"][key]["median"];
        assert_eq!(num(f, "players"), players);
        assert!(num(f, "sent") > 0.0);
        assert_eq!(num(f, "delivered"), num(f, "sent"), "{f:#}");
        assert_eq!(num(f, "sent"), num(f, "sent_move") + num(f, "sent_shoot"));
        assert!(f["server_rss_delta_bytes"].is_number());
    }

    let s = &doc["results"]["stress"]["median"];
    assert_eq!(num(s, "delivered"), 100.0, "{s:#}");
    assert!(num(s, "fairness_jain") > 0.0 && num(s, "fairness_jain") <= 1.0 + 1e-9);
    assert!(s["raw"].is_null(), "--no-baseline");
    assert!(s["bulk"].is_null() && s["efficiency_vs_bulk"].is_null(), "--no-baseline: {s:#}");
}

#[test]
fn runs_report_the_median_with_min_and_max() {
    let out =
        bench(&["--only", "burst", "--runs", "3", "--warmup", "1", "--no-baseline", "--json"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rec = &doc["results"]["burst"];
    assert_eq!(rec["runs"].as_array().unwrap().len(), 3, "warm-up runs are not kept");
    let (lo, mid, hi) = (
        num(&rec["min"], "recv_msgs_per_s"),
        num(&rec["median"], "recv_msgs_per_s"),
        num(&rec["max"], "recv_msgs_per_s"),
    );
    assert!(lo <= mid && mid <= hi, "{lo} {mid} {hi}");
    assert_eq!(doc["knobs"]["warmup_runs"], 1);
}

#[test]
fn compare_prints_a_ratio_and_the_better_run_for_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    ok(&bench(&["--only", "latency", "burst", "--save", a.to_str().unwrap()]));
    // B: the same run with round trips twice as long and a better rate.
    let mut doc = read_json(&a);
    let lat = &mut doc["results"]["latency"]["median"];
    let p50 = lat["p50_us"].as_f64().unwrap();
    lat["p50_us"] = Value::from(p50 * 2.0);
    let burst = &mut doc["results"]["burst"]["median"];
    let rate = burst["recv_msgs_per_s"].as_f64().unwrap();
    burst["recv_msgs_per_s"] = Value::from(rate * 4.0);
    std::fs::write(&b, doc.to_string()).unwrap();

    let out = run(veltix(["bench", "--compare", a.to_str().unwrap(), b.to_str().unwrap()]));
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("B/A") && text.contains("better"), "{text}");
    let row = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no '{label}' row in:\n{text}"))
            .to_string()
    };
    let p50_row = row("p50 ");
    assert!(p50_row.contains("2.00×") && p50_row.trim_end().ends_with('A'), "{p50_row}");
    let rate_row = row("receive rate");
    assert!(rate_row.contains("4.00×") && rate_row.trim_end().ends_with('B'), "{rate_row}");
    let avg_row = row("avg");
    assert!(avg_row.contains("1.00×") && avg_row.trim_end().ends_with('='), "{avg_row}");

    let out =
        run(veltix(["bench", "--compare", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]));
    ok(&out);
    let rows: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let p50 = rows.as_array().unwrap().iter().find(|r| r["figure"] == "p50_us").unwrap();
    assert_eq!(p50["ratio"], 2.0);
    assert_eq!(p50["better"], "a");
}

#[test]
fn unknown_scenario_is_a_usage_error() {
    let out = run(veltix(["bench", "--only", "latency", "warp"]));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("'warp'") && err.contains("memory, latency, fps, burst, stress"), "{err}");
}

#[test]
fn bad_knobs_are_usage_errors() {
    for args in [&["--runs", "0"][..], &["--burst-count", "many"], &["--fps-duration", "soon"]] {
        let mut cmd = veltix(["bench"]);
        cmd.args(args);
        let out = run(cmd);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(args[0]), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn compare_rejects_files_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"schema": 1, "results": {}}"#).unwrap();
    let cases: [(&str, Option<&str>, &str); 4] = [
        ("missing.json", None, "cannot read"),
        ("broken.json", Some("{\"schema\": 1,"), "invalid JSON"),
        ("other.json", Some("{\"hello\": 1}"), "no \"schema\""),
        ("future.json", Some("{\"schema\": 99, \"results\": {}}"), "schema 99"),
    ];
    for (name, content, message) in cases {
        let path = dir.path().join(name);
        if let Some(c) = content {
            std::fs::write(&path, c).unwrap();
        }
        let out =
            run(veltix(["bench", "--compare", good.to_str().unwrap(), path.to_str().unwrap()]));
        assert_eq!(code(&out), 1, "{name}");
        let err = stderr(&out);
        assert!(err.contains(message) && err.contains(name), "{name}: {err}");
    }
}

#[test]
fn a_failed_scenario_keeps_the_saved_document() {
    // A port nobody listens on: bind one, read it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("partial.json");
    let target = format!("127.0.0.1:{port}");
    // An explicit wire: no probe connection before the scenarios.
    let out = bench(&[
        "--only",
        "latency",
        "--target",
        &target,
        "--wire",
        "1.6",
        "--save",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 3, "cannot connect: {}", stderr(&out));
    assert!(stderr(&out).contains("latency scenario failed"), "{}", stderr(&out));
    let doc = read_json(&file);
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["errors"][0]["scenario"], "latency");
    assert_eq!(doc["setup"]["target"], target.as_str());
    assert!(doc["machine"]["kernel"].is_string());
}

/// An echo server, built with the library, that drops every fifth message.
fn lossy_echo_server() -> (veltix::Server, Arc<AtomicU64>) {
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let mut cfg = veltix::ServerConfig::default().host("127.0.0.1").port(0);
    cfg.conn.max_workers = 1;
    let server = veltix::Server::builder(cfg)
        .on_message(move |peer, frame| {
            if s.fetch_add(1, Ordering::SeqCst) % 5 != 4 {
                let _ = peer.reply(&frame, &frame.payload);
            }
        })
        .start()
        .expect("start the lossy server");
    (server, seen)
}

#[test]
fn loss_is_reported_not_hidden() {
    let (server, seen) = lossy_echo_server();
    let target = server.local_addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loss.json");
    let out = bench(&[
        "--only",
        "burst",
        "--target",
        &target,
        "--no-baseline",
        "--drain-timeout",
        "300ms",
        "--save",
        file.to_str().unwrap(),
    ]);
    ok(&out);
    assert_eq!(seen.load(Ordering::SeqCst), 300);
    let text = stdout(&out);
    assert!(text.contains("60 of 300 messages were not delivered"), "{text}");
    assert!(text.contains("80.00% delivered (60 lost)"), "{text}");
    let b = &read_json(&file)["results"]["burst"]["median"];
    assert_eq!(num(b, "delivered"), 240.0);
    assert_eq!(num(b, "lost"), 60.0);
    assert_eq!(num(b, "success_pct"), 80.0);
    assert_eq!(num(b, "sent"), 300.0, "every message left the client");
}

#[test]
fn runs_against_the_python_reference_echo_server() {
    let mut child = python::KillOnDrop(python::spawn_py("echo_server.py", &["--port", "0"]));
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(lines.next());
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("echo_server.py says READY within a minute")
        .expect("a line")
        .expect("readable stdout");
    let port = ready
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("expected READY <port>, got {ready:?}"));
    let target = format!("127.0.0.1:{port}");

    let out = bench(&["--target", &target, "--json"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["setup"]["server"], "external");
    assert_eq!(doc["setup"]["wire"], "1.6", "detected");
    assert!(doc["results"]["memory"].is_null());
    assert!(
        doc["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("memory: skipped")),
        "{:#}",
        doc["notes"]
    );
    let r = &doc["results"];
    assert_eq!(num(&r["latency"]["median"], "completed"), 40.0, "{:#}", r["latency"]);
    for key in ["fps", "fps2"] {
        let f = &r[key]["median"];
        assert_eq!(num(f, "delivered"), num(f, "sent"), "{key}: {f:#}");
    }
    assert_eq!(num(&r["burst"]["median"], "delivered"), 300.0, "{:#}", r["burst"]);
    assert_eq!(num(&r["stress"]["median"], "delivered"), 100.0, "{:#}", r["stress"]);
    assert!(num(&r["burst"]["median"], "raw.delivered") > 0.0);
    // Closing stdin lets the script shut the reference server down.
    drop(child.stdin.take());
}

#[test]
fn every_scenario_runs_on_the_vx_wire_on_both_cores() {
    for core in ["threads", "poll"] {
        let out = bench(&[
            "--wire",
            "vx",
            "--core",
            core,
            "--only",
            "latency",
            "burst",
            "stress",
            "fps",
            "connections",
            "--conn-count",
            "20",
            "--conn-sample",
            "3",
            "--json",
        ]);
        ok(&out);
        let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(doc["setup"]["wire"], "vx", "{core}");
        assert_eq!(doc["knobs"]["conn"]["wire"], "vx", "{core}");
        let r = &doc["results"];
        let lat = &r["latency"]["median"];
        assert_eq!(num(lat, "completed"), 40.0, "{core}: {lat:#}");
        assert_eq!(num(lat, "raw.completed"), 40.0, "{core}: {lat:#}");
        let b = &r["burst"]["median"];
        assert_eq!(num(b, "delivered"), 300.0, "{core}: {b:#}");
        assert_eq!(num(b, "raw.delivered"), 300.0, "{core}: {b:#}");
        assert_eq!(num(b, "bulk.delivered"), 300.0, "{core}: {b:#}");
        // Frame bytes are 15 + 64 per message on the VX wire.
        let per_msg = num(b, "wire_mib_per_s") / num(b, "payload_mib_per_s");
        assert!((per_msg - 79.0 / 64.0).abs() < 1e-9, "{core}: {per_msg}");
        let per_msg = num(b, "bulk.recv_bytes_per_s") / num(b, "bulk.recv_msgs_per_s");
        assert!((per_msg - 79.0).abs() < 1e-6, "{core}: {per_msg}");
        let s = &r["stress"]["median"];
        assert_eq!(num(s, "delivered"), 100.0, "{core}: {s:#}");
        assert_eq!(num(s, "raw.delivered"), 100.0, "{core}: {s:#}");
        assert_eq!(num(s, "bulk.delivered"), 100.0, "{core}: {s:#}");
        let per_msg = num(s, "bulk.recv_bytes_per_s") / num(s, "bulk.recv_msgs_per_s");
        assert!((per_msg - 47.0).abs() < 1e-6, "{core}: 15 + 32 bytes, {per_msg}");
        for key in ["fps", "fps2"] {
            let f = &r[key]["median"];
            assert!(num(f, "sent") > 0.0);
            assert_eq!(num(f, "delivered"), num(f, "sent"), "{core} {key}: {f:#}");
        }
        let c = &r["connections"]["median"];
        assert_eq!(num(c, "connections"), 20.0, "{core}: {c:#}");
        assert_eq!(num(c, "sample_completed"), 3.0, "{core}: {c:#}");
    }
}

#[test]
fn a_vx_target_is_detected_and_recorded() {
    let server = Serve::start(&["--wire", "vx", "--mode", "echo"]);
    let out = bench(&["--target", &server.addr, "--only", "latency", "burst", "--json"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["setup"]["wire"], "vx");
    assert_eq!(doc["knobs"]["conn"]["wire"], "auto");
    let r = &doc["results"];
    assert_eq!(num(&r["latency"]["median"], "completed"), 40.0, "{:#}", r["latency"]);
    // The target's echoing thread is not ours to place; the baseline's is.
    assert!(r["latency"]["runs"][0]["placement"].is_null(), "{:#}", r["latency"]);
    assert!(r["latency"]["runs"][0]["raw_placement"].is_object(), "{:#}", r["latency"]);
    assert_eq!(num(&r["burst"]["median"], "delivered"), 300.0, "{:#}", r["burst"]);
    // The raw and bulk echo baselines ran on VX frames too.
    assert_eq!(num(&r["burst"]["median"], "raw.delivered"), 300.0, "{:#}", r["burst"]);
    assert_eq!(num(&r["burst"]["median"], "bulk.delivered"), 300.0, "{:#}", r["burst"]);

    // The text report says so.
    let out = bench(&["--target", &server.addr, "--only", "latency", "--no-baseline"]);
    ok(&out);
    let first = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(first.contains(&format!("external server {}, wire vx", server.addr)), "{first}");
}

#[test]
fn auto_against_an_unreachable_target_fails_before_any_scenario() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("127.0.0.1:{port}");
    let out = bench(&["--only", "latency", "--target", &target]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("to learn its wire profile (--wire auto)"), "{err}");
    assert!(!err.contains("scenario failed"), "{err}");
}

/// A tiny connections run: 50 idle connections, 5 of them pinged.
fn connections(core: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--only", "connections", "--conn-count", "50", "--conn-sample", "5"];
    args.extend_from_slice(&["--core", core]);
    args.extend_from_slice(extra);
    bench(&args)
}

#[test]
fn connections_holds_pings_and_closes_idle_connections_on_both_cores() {
    for core in ["threads", "poll"] {
        let out = connections(core, &["--json"]);
        ok(&out);
        let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(doc["setup"]["core"], core);
        assert_eq!(doc["knobs"]["scenarios"], serde_json::json!(["connections"]));
        assert_eq!(num(&doc, "knobs.connections_count"), 50.0);
        assert_eq!(num(&doc, "knobs.connections_sample"), 5.0);
        assert!(doc["setup"]["conn_sources"].is_null(), "{:#}", doc["setup"]);
        let c = &doc["results"]["connections"]["median"];
        assert_eq!(num(c, "connections"), 50.0, "{core}: {c:#}");
        assert_eq!(num(c, "source_addrs"), 1.0, "{core}: {c:#}");
        assert_eq!(num(c, "sampled"), 5.0);
        assert_eq!(num(c, "sample_completed"), 5.0, "{core}: {c:#}");
        assert_eq!(num(c, "sample_lost"), 0.0);
        for key in ["idle_rss_bytes", "connected_rss_bytes", "after_teardown_rss_bytes"] {
            assert!(num(c, key) > 0.0, "{core}: {key} in {c:#}");
        }
        assert!(c["per_conn_bytes"].is_number() && c["teardown_delta_bytes"].is_number());
        assert!(num(c, "connect_s") > 0.0 && num(c, "conns_per_s") > 0.0, "{c:#}");
        assert!(num(c, "teardown_s") > 0.0);
        assert!(num(c, "sample_min_us") > 0.0);
        assert!(num(c, "sample_min_us") <= num(c, "sample_p50_us"));
        assert!(num(c, "sample_p50_us") <= num(c, "sample_p99_us"));
        assert!(num(c, "sample_p99_us") <= num(c, "sample_max_us"));
        assert!(num(c, "sample_avg_us") <= num(c, "sample_max_us"));
        // The threads core runs a reader thread per connection; the poll
        // core a fixed few.
        let grown = num(c, "connected_threads") - num(c, "idle_threads");
        match core {
            "threads" => assert!(grown >= 50.0, "{grown} more threads for 50 connections"),
            _ => assert!(grown < 50.0, "{grown} more threads for 50 connections"),
        }
    }
}

#[test]
fn connections_spread_over_the_source_addresses_given() {
    let out = connections("poll", &["--conn-sources", "127.0.0.1-127.0.0.4", "--json"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["setup"]["conn_sources"], "127.0.0.1-127.0.0.4");
    let c = &doc["results"]["connections"]["median"];
    assert_eq!(num(c, "connections"), 50.0, "{c:#}");
    // Counted by the server from its clients' peer addresses.
    assert_eq!(num(c, "source_addrs"), 4.0, "{c:#}");
    assert_eq!(num(c, "sample_completed"), 5.0, "{c:#}");

    let out = connections("poll", &["--conn-sources", "127.0.0.2-127.0.0.3"]);
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("in a helper process from 2 source addresses;"), "{text}");
}

#[test]
fn bad_source_addresses_are_usage_errors() {
    for (bad, says) in [
        ("127.0.0.9-127.0.0.2", "first address comes after its last"),
        ("192.0.2.1", "not a loopback address (127.0.0.0/8)"),
        ("127.0.0.1-127.0.0.x", "'127.0.0.x' is not an IPv4 address"),
        ("::1", "not an IPv4 address"),
    ] {
        let out = connections("poll", &["--conn-sources", bad]);
        assert_eq!(code(&out), 2, "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("--conn-sources") && err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn connections_table_and_summary() {
    let out = connections("poll", &[]);
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("CONNECTIONS"), "{text}");
    assert!(text.contains("50 idle connections") && text.contains("(poll core)"), "{text}");
    assert!(text.contains("per connection") && text.contains("conn/s"), "{text}");
    assert!(text.contains("50 connections (poll core)"), "summary box:\n{text}");
    assert!(text.contains("ping 5 of them p50 / p99"), "summary box:\n{text}");
}

#[test]
fn connections_runs_only_on_request() {
    // A port nobody listens on: the first scenario fails at once, and the
    // saved document still says which scenarios were selected.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("default.json");
    let out = bench(&["--target", &target, "--wire", "vx", "--save", file.to_str().unwrap()]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let doc = read_json(&file);
    assert_eq!(
        doc["knobs"]["scenarios"],
        serde_json::json!(["memory", "latency", "fps", "burst", "stress"]),
        "the default set has no connections scenario"
    );

    // It measures the in-process server: --target skips it, with a note.
    let out = bench(&["--only", "connections", "--target", &target, "--json"]);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(doc["results"]["connections"].is_null());
    let notes = doc["notes"].to_string();
    assert!(notes.contains("connections: skipped with --target"), "{notes}");
}

/// `veltix ARGS` with RLIMIT_NOFILE set to `soft`, `hard` in the child.
fn with_nofile(args: &[&str], soft: u64, hard: u64) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = veltix(args);
    // SAFETY: setrlimit is async-signal-safe and only changes the child.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit { rlim_cur: soft as _, rlim_max: hard as _ };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

#[test]
fn connections_refuse_a_count_above_the_open_file_limit() {
    let args = ["bench", "--only", "connections", "--conn-count", "100"];
    let out = run(with_nofile(&args, 64, 64));
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("connections scenario failed"), "{err}");
    assert!(err.contains("--conn-count 100 needs") && err.contains("RLIMIT_NOFILE"), "{err}");
    assert!(err.contains("its limit is 64"), "{err}");
}

#[test]
fn connections_raise_the_soft_open_file_limit_in_both_processes() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into a local struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_max < 1024 {
        eprintln!("skipped: the hard open-file limit is {}", lim.rlim_max);
        return;
    }
    // 200 connections under a soft limit of 64: the bench process and its
    // helper (the same binary) must both raise it to the hard limit.
    let mut cmd = with_nofile(&[], 64, lim.rlim_max);
    cmd.args(["bench", "--only", "connections", "--conn-count", "200", "--conn-sample", "2"]);
    cmd.args(["--core", "poll", "--json"]);
    let out = run(cmd);
    ok(&out);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(num(&doc["results"]["connections"]["median"], "connections"), 200.0);
}

#[test]
fn a_pinned_run_records_its_cpus_and_says_so() {
    use std::os::unix::process::CommandExt;
    // SAFETY: sched_getaffinity fills a local set for this process.
    let (first, count) = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set), 0);
        let cpus: Vec<usize> =
            (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect();
        (cpus[0], cpus.len())
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pinned.json");
    let mut cmd = veltix(["bench", "--only", "latency", "--save", file.to_str().unwrap()]);
    cmd.args(TINY);
    // SAFETY: sched_setaffinity is async-signal-safe and only changes the child.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(first, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = run(cmd);
    ok(&out);
    let doc = read_json(&file);
    assert_eq!(doc["setup"]["cpus_allowed"], serde_json::json!([first]));
    // The machine's CPUs, not the process's.
    assert!(num(&doc, "machine.logical_cores") >= count as f64);
    if num(&doc, "machine.logical_cores") > 1.0 {
        assert!(stdout(&out).contains(&format!("pinned to CPU {first}")), "{}", stdout(&out));
    }
}

/// `scripts/check-cycles` at the root of the repository, with `args`.
fn check_cycles(args: &[&str]) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = std::process::Command::new(root.join("scripts/check-cycles"));
    cmd.current_dir(root).args(args);
    cmd.output().expect("run scripts/check-cycles")
}

#[test]
fn the_cycle_checker_passes_its_fixtures() {
    let out = check_cycles(&["--self-test"]);
    ok(&out);
    assert!(stdout(&out).contains("fixtures as expected"), "{}", stdout(&out));
}

#[test]
fn the_bench_modules_have_no_import_cycle() {
    let out = check_cycles(&["--within", "cmd::bench", "src/main.rs"]);
    ok(&out);
    assert!(stdout(&out).starts_with("no module cycle"), "{}", stdout(&out));
}

//! `veltix bench --compare A.json B.json`: every figure of two saved runs
//! side by side, with B / A and which run is better (each figure knows
//! whether higher or lower is better). When both documents have several
//! runs and the min–max ranges overlap, the difference is called noise.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::cmd::bench::model;
use crate::cmd::bench::units;
use crate::output::{Palette, Role};

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// How to show a figure.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Us,
    S,
    Bytes,
    SignedBytes,
    Rate,
    ConnRate,
    MiBps,
    BytesPs,
    Pct,
    Count,
    Hz,
    Ratio,
}

/// A compared figure: its key in a scenario's record, a label, a unit and
/// a direction. A scenario with a baseline also compares `raw.<key>`.
pub struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: Unit,
    pub better: Better,
}

const fn f(key: &'static str, label: &'static str, unit: Unit, better: Better) -> Figure {
    Figure { key, label, unit, better }
}

use Better::{Higher as H, Lower as L};
use Unit::*;

/// Scenarios in report order, their labels, whether they have a baseline,
/// and their figures. Knobs (counts chosen by the user) are not figures.
pub const SCENARIOS: &[(&str, &str, bool, &[Figure])] = &[
    ("memory", "MEMORY", false, MEMORY),
    ("latency", "LATENCY", true, LATENCY),
    ("fps", "FPS (first setting)", false, FPS),
    ("fps2", "FPS (second setting)", false, FPS),
    ("burst", "BURST", true, BURST),
    ("stress", "STRESS", true, STRESS),
    ("connections", "CONNECTIONS", false, CONNECTIONS),
    ("load", "LOAD", false, LOAD),
];

const MEMORY: &[Figure] = &[
    f("baseline_rss_bytes", "before the server", Bytes, L),
    f("idle_rss_bytes", "idle server", Bytes, L),
    f("server_start_bytes", "server start cost", SignedBytes, L),
    f("per_client_avg_bytes", "per client avg", SignedBytes, L),
    f("per_client_min_bytes", "per client min", SignedBytes, L),
    f("per_client_max_bytes", "per client max", SignedBytes, L),
    f("per_client_median_bytes", "per client median", SignedBytes, L),
    f("per_client_stdev_bytes", "per client stdev", Bytes, L),
    f("detail_rss_bytes", "with the first clients", Bytes, L),
    f("total_rss_bytes", "with all clients", Bytes, L),
    f("per_client_at_scale_bytes", "per client at scale", SignedBytes, L),
    f("after_teardown_rss_bytes", "after clients left", Bytes, L),
    f("leak_bytes", "leak delta", SignedBytes, L),
    f("after_shutdown_rss_bytes", "after shutdown", Bytes, L),
];

const LATENCY: &[Figure] = &[
    f("avg_us", "avg", Us, L),
    f("stdev_us", "stdev", Us, L),
    f("jitter_us", "jitter", Us, L),
    f("min_us", "min", Us, L),
    f("p50_us", "p50", Us, L),
    f("p90_us", "p90", Us, L),
    f("p99_us", "p99", Us, L),
    f("p999_us", "p99.9", Us, L),
    f("max_us", "max", Us, L),
    f("pings_per_s", "pings/s", Rate, H),
    f("completed", "answered", Count, H),
    f("lost", "lost", Count, L),
    f("success_pct", "success", Pct, H),
    f("duration_s", "duration", S, L),
    f("warmup_avg_us", "warm-up avg", Us, L),
    f("efficiency", "efficiency vs raw", Ratio, H),
];

const FPS: &[Figure] = &[
    f("duration_s", "duration", S, L),
    f("ticks", "ticks", Count, H),
    f("actual_tick_rate_hz", "actual tick rate", Hz, H),
    f("sent_move", "PLAYER_MOVE sent", Count, H),
    f("sent_shoot", "PLAYER_SHOOT sent", Count, H),
    f("sent", "sent", Count, H),
    f("send_errors", "send errors", Count, L),
    f("delivered", "delivered", Count, H),
    f("lost", "lost", Count, L),
    f("success_pct", "success", Pct, H),
    f("sent_msgs_per_s", "sent rate", Rate, H),
    f("delivered_msgs_per_s", "delivered rate", Rate, H),
    f("tick_avg_us", "tick avg", Us, L),
    f("tick_min_us", "tick min", Us, L),
    f("tick_max_us", "tick max", Us, L),
    f("tick_stdev_us", "tick stdev", Us, L),
    f("ticks_within_budget_pct", "ticks within budget", Pct, H),
    f("overrun_ticks", "overrun ticks", Count, L),
    f("server_rss_delta_bytes", "server RSS delta", SignedBytes, L),
];

const BURST: &[Figure] = &[
    f("sent", "sent", Count, H),
    f("send_errors", "send errors", Count, L),
    f("delivered", "delivered", Count, H),
    f("lost", "lost", Count, L),
    f("success_pct", "success", Pct, H),
    f("send_duration_s", "send time", S, L),
    f("send_msgs_per_s", "send rate", Rate, H),
    f("recv_duration_s", "last arrival", S, L),
    f("recv_msgs_per_s", "receive rate", Rate, H),
    f("payload_mib_per_s", "payload", MiBps, H),
    f("wire_mib_per_s", "on the wire", MiBps, H),
    f("delivery_first_us", "delivery first", Us, L),
    f("delivery_p50_us", "delivery p50", Us, L),
    f("delivery_p90_us", "delivery p90", Us, L),
    f("delivery_p99_us", "delivery p99", Us, L),
    f("delivery_max_us", "delivery max", Us, L),
    f("efficiency", "efficiency vs raw", Ratio, H),
];

const STRESS: &[Figure] = &[
    f("sent", "sent", Count, H),
    f("send_errors", "send errors", Count, L),
    f("delivered", "delivered", Count, H),
    f("lost", "lost", Count, L),
    f("success_pct", "success", Pct, H),
    f("send_phase_s", "send phase", S, L),
    f("drain_s", "drain", S, L),
    f("total_s", "total", S, L),
    f("aggregate_msgs_per_s", "aggregate rate", Rate, H),
    f("first_delivery_us", "first arrival", Us, L),
    f("per_client_avg_msgs_per_s", "per client avg", Rate, H),
    f("per_client_min_msgs_per_s", "per client min", Rate, H),
    f("per_client_max_msgs_per_s", "per client max", Rate, H),
    f("per_client_stdev_msgs_per_s", "per client stdev", Rate, L),
    f("fairness_jain", "fairness (Jain)", Ratio, H),
    f("efficiency", "efficiency vs raw", Ratio, H),
];

/// The bulk-TCP baseline's figures, compared in the scenarios that have
/// one (burst and stress).
const BULK: &[Figure] = &[
    f("bulk.sent", "bulk TCP sent", Count, H),
    f("bulk.delivered", "bulk TCP delivered", Count, H),
    f("bulk.lost", "bulk TCP lost", Count, L),
    f("bulk.recv_duration_s", "bulk TCP last arrival", S, L),
    f("bulk.recv_msgs_per_s", "bulk TCP receive rate", Rate, H),
    f("bulk.recv_bytes_per_s", "bulk TCP on the wire", BytesPs, H),
    f("efficiency_vs_bulk", "efficiency vs bulk", Ratio, H),
];

/// The figures of `scenario`: its own, then its bulk baseline's.
fn figures_of(scenario: &str) -> impl Iterator<Item = &'static Figure> {
    let own = SCENARIOS.iter().find(|s| s.0 == scenario).map_or(&[][..], |s| s.3);
    let bulk = if matches!(scenario, "burst" | "stress") { BULK } else { &[] };
    own.iter().chain(bulk)
}

const CONNECTIONS: &[Figure] = &[
    f("idle_rss_bytes", "idle server", Bytes, L),
    f("connected_rss_bytes", "with all connections", Bytes, L),
    f("per_conn_bytes", "per connection", SignedBytes, L),
    f("after_teardown_rss_bytes", "after they closed", Bytes, L),
    f("teardown_delta_bytes", "delta after teardown", SignedBytes, L),
    f("after_trim_rss_bytes", "after malloc_trim", Bytes, L),
    f("idle_threads", "server threads idle", Count, L),
    f("connected_threads", "server threads connected", Count, L),
    f("after_teardown_threads", "server threads after", Count, L),
    f("connect_s", "connect all", S, L),
    f("conns_per_s", "connect rate", ConnRate, H),
    f("teardown_s", "close all", S, L),
    f("sample_completed", "sample pings answered", Count, H),
    f("sample_lost", "sample pings lost", Count, L),
    f("sample_avg_us", "sample ping avg", Us, L),
    f("sample_min_us", "sample ping min", Us, L),
    f("sample_p50_us", "sample ping p50", Us, L),
    f("sample_p99_us", "sample ping p99", Us, L),
    f("sample_max_us", "sample ping max", Us, L),
];

const LOAD: &[Figure] = &[
    f("achieved_msgs_per_s", "achieved rate", Rate, H),
    f("sent", "sent", Count, H),
    f("completed", "completed", Count, H),
    f("errors", "errors", Count, L),
    f("late", "late", Count, L),
    f("duration_s", "duration", S, L),
    f("corrected.min_us", "corrected min", Us, L),
    f("corrected.p50_us", "corrected p50", Us, L),
    f("corrected.p90_us", "corrected p90", Us, L),
    f("corrected.p99_us", "corrected p99", Us, L),
    f("corrected.p999_us", "corrected p99.9", Us, L),
    f("corrected.max_us", "corrected max", Us, L),
    f("corrected.avg_us", "corrected avg", Us, L),
    f("uncorrected.min_us", "uncorrected min", Us, L),
    f("uncorrected.p50_us", "uncorrected p50", Us, L),
    f("uncorrected.p90_us", "uncorrected p90", Us, L),
    f("uncorrected.p99_us", "uncorrected p99", Us, L),
    f("uncorrected.p999_us", "uncorrected p99.9", Us, L),
    f("uncorrected.max_us", "uncorrected max", Us, L),
    f("uncorrected.avg_us", "uncorrected avg", Us, L),
];

/// Keys that describe the setup rather than measure it.
#[cfg(test)]
pub const KNOB_KEYS: &[&str] = &[
    "detail_clients",
    "total_clients",
    "pings",
    "warmup_pings",
    "players",
    "tick_rate_hz",
    "count",
    "payload_bytes",
    "clients",
    "msgs_per_client",
    "connections",
    "sampled",
    "scheduled",
    "target_msgs_per_s",
    "bulk.write_size_bytes",
    "bulk.repeats",
    "source_addrs",
];

/// One compared row.
#[derive(Debug, serde::Serialize)]
struct Row {
    scenario: String,
    figure: String,
    label: String,
    a: f64,
    b: f64,
    /// b / a; null when a is 0 and b is not.
    ratio: Option<f64>,
    /// "a", "b", "same", or "noise" (the min–max ranges overlap).
    better: &'static str,
}

/// Runs the comparison.
pub fn run(a_path: &Path, b_path: &Path, json: bool, color: bool) -> anyhow::Result<ExitCode> {
    let a = load(a_path)?;
    let b = load(b_path)?;
    let rows = rows(&a, &b);
    let text = if json {
        serde_json::to_string_pretty(&rows)? + "\n"
    } else {
        render(a_path, &a, b_path, &b, &rows, color)
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn load(path: &Path) -> anyhow::Result<Value> {
    let v = model::read_value(path)?;
    if !v.get("results").is_some_and(Value::is_object) {
        bail!("{} is not a veltix bench result (it has no \"results\" object)", path.display());
    }
    Ok(v)
}

/// The figure at `key` (dotted) of one summary of one scenario.
fn get(doc: &Value, scenario: &str, which: &str, key: &str) -> Option<f64> {
    let mut v = doc.get("results")?.get(scenario)?.get(which)?;
    for part in key.split('.') {
        v = v.get(part)?;
    }
    v.as_f64()
}

fn runs(doc: &Value, scenario: &str) -> usize {
    doc["results"][scenario]["runs"].as_array().map_or(0, Vec::len)
}

fn rows(a: &Value, b: &Value) -> Vec<Row> {
    let mut out = Vec::new();
    for &(scenario, _, has_raw, figures) in SCENARIOS {
        let raw_keys: Vec<(String, String, &Figure)> = if has_raw {
            figures
                .iter()
                .filter(|f| !matches!(f.key, "efficiency" | "warmup_avg_us"))
                .map(|f| (format!("raw.{}", f.key), format!("raw TCP {}", f.label), f))
                .collect()
        } else {
            Vec::new()
        };
        let all = figures_of(scenario)
            .map(|f| (f.key.to_string(), f.label.to_string(), f))
            .chain(raw_keys);
        for (key, label, fig) in all {
            let (Some(va), Some(vb)) =
                (get(a, scenario, "median", &key), get(b, scenario, "median", &key))
            else {
                continue;
            };
            let ratio = if va != 0.0 {
                Some(vb / va)
            } else if vb == 0.0 {
                Some(1.0)
            } else {
                None
            };
            let noise = runs(a, scenario) > 1 && runs(b, scenario) > 1 && {
                let lo = |d, k: &str| get(d, scenario, "min", k);
                let hi = |d, k: &str| get(d, scenario, "max", k);
                matches!(
                    (lo(a, &key), hi(a, &key), lo(b, &key), hi(b, &key)),
                    (Some(al), Some(ah), Some(bl), Some(bh)) if al <= bh && bl <= ah
                )
            };
            let better = if va == vb {
                "same"
            } else if noise {
                "noise"
            } else if (vb > va) == (fig.better == Better::Higher) {
                "b"
            } else {
                "a"
            };
            out.push(Row {
                scenario: scenario.into(),
                figure: key,
                label,
                a: va,
                b: vb,
                ratio,
                better,
            });
        }
    }
    out
}

fn fmt(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Us => units::us(v),
        Unit::S => units::secs(v),
        Unit::Bytes => units::bytes(v),
        Unit::SignedBytes => units::signed_bytes(v),
        Unit::Rate => units::rate(v),
        Unit::ConnRate => units::conn_rate(v),
        Unit::MiBps => units::mibps(v),
        Unit::BytesPs => units::bytes_per_s(v),
        Unit::Pct => units::pct(v),
        Unit::Count => units::count(v),
        Unit::Hz => units::hz(v),
        Unit::Ratio => units::ratio(v),
    }
}

fn unit_of(scenario: &str, key: &str) -> Unit {
    let key = key.strip_prefix("raw.").unwrap_or(key);
    figures_of(scenario).find(|f| f.key == key).map_or(Unit::Ratio, |f| f.unit)
}

fn describe(path: &Path, doc: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("?").to_string();
    // Documents older than setup.wire were all 1.6.
    let wire = doc["setup"]["wire"].as_str().unwrap_or("1.6");
    let server = match doc["setup"]["target"].as_str() {
        Some(t) => format!("target {t}, wire {wire}"),
        None => format!("in-process, {} core, wire {wire}", s(&doc["setup"]["core"])),
    };
    format!(
        "{} — veltix {} ({}), {}, {} cores, {}, {}",
        path.display(),
        s(&doc["tool"]["version"]),
        s(&doc["tool"]["build_profile"]),
        s(&doc["machine"]["cpu_model"]),
        doc["machine"]["logical_cores"].as_u64().unwrap_or(0),
        server,
        s(&doc["started_at"]),
    )
}

fn render(a_path: &Path, a: &Value, b_path: &Path, b: &Value, rows: &[Row], color: bool) -> String {
    let p = Palette::new(color);
    let mut out = String::new();
    let _ = writeln!(out, "A: {}", describe(a_path, a));
    let _ = writeln!(out, "B: {}", describe(b_path, b));
    let _ = writeln!(
        out,
        "{}",
        p.paint(Role::Dim, "ratio = B / A; \"better\" names the run with the better figure")
    );
    if rows.is_empty() {
        let _ = writeln!(out, "\nno figure in common: the two files ran different scenarios");
        return out;
    }
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let u = unit_of(&r.scenario, &r.figure);
            [
                r.label.clone(),
                fmt(u, r.a),
                fmt(u, r.b),
                r.ratio.map_or("—".into(), |x| format!("{x:.2}×")),
                match r.better {
                    "a" => "A".into(),
                    "b" => "B".into(),
                    "noise" => "≈ (ranges overlap)".into(),
                    _ => "=".into(),
                },
            ]
        })
        .collect();
    let head = ["", "A", "B", "B/A", "better"];
    let mut w = [0usize; 5];
    for c in
        cells.iter().map(|c| c.each_ref().map(|s| s.chars().count())).chain([head.map(|h| h.len())])
    {
        for i in 0..5 {
            w[i] = w[i].max(c[i]);
        }
    }
    let line = |c: [&str; 5]| {
        let mut s = String::from("  ");
        for (i, x) in c.iter().enumerate() {
            let n = x.chars().count();
            if i == 0 {
                s.push_str(&format!("{x}{}  ", " ".repeat(w[0] - n)));
            } else if i < 4 {
                s.push_str(&format!("{}{x}  ", " ".repeat(w[i] - n)));
            } else {
                s.push_str(x);
            }
        }
        s.trim_end().to_string()
    };
    let mut current = "";
    for (r, c) in rows.iter().zip(&cells) {
        if r.scenario != current {
            current = &r.scenario;
            let title = SCENARIOS.iter().find(|s| s.0 == current).map_or(current, |s| s.1);
            let _ = writeln!(out, "\n{}", p.paint(Role::Strong, title));
            let _ = writeln!(out, "{}", p.paint(Role::Dim, line(head)));
        }
        let text = line(c.each_ref().map(String::as_str));
        let role = match r.better {
            "a" => Some(Role::Warn),
            "b" => Some(Role::Good),
            _ => None,
        };
        let _ = match role {
            Some(role) => writeln!(out, "{}", p.paint(role, text)),
            None => writeln!(out, "{text}"),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::bench::model::{
        BulkFigures, BurstRun, ConnectionsRun, FpsRun, LatencyRun, LoadRun, MemoryRun, StressRun,
    };

    fn bulk() -> BulkFigures {
        BulkFigures::default()
    }

    /// Every numeric field a run writes is a compared figure or a knob.
    #[test]
    fn every_figure_has_a_direction() {
        let samples: Vec<(&str, Value)> = vec![
            ("memory", serde_json::to_value(MemoryRun::default()).unwrap()),
            ("latency", serde_json::to_value(LatencyRun::default()).unwrap()),
            (
                "fps",
                serde_json::to_value(FpsRun {
                    server_rss_delta_bytes: Some(0),
                    ..Default::default()
                })
                .unwrap(),
            ),
            (
                "burst",
                serde_json::to_value(BurstRun { bulk: Some(bulk()), ..Default::default() })
                    .unwrap(),
            ),
            (
                "stress",
                serde_json::to_value(StressRun { bulk: Some(bulk()), ..Default::default() })
                    .unwrap(),
            ),
            ("connections", serde_json::to_value(ConnectionsRun::default()).unwrap()),
            ("load", serde_json::to_value(LoadRun::default()).unwrap()),
        ];
        for (scenario, v) in samples {
            let figures: Vec<&Figure> = figures_of(scenario).collect();
            let mut leaves = Vec::new();
            for (key, val) in v.as_object().unwrap() {
                match val {
                    Value::Object(inner) => {
                        leaves.extend(inner.iter().map(|(k, v)| (format!("{key}.{k}"), v.clone())))
                    }
                    _ => leaves.push((key.clone(), val.clone())),
                }
            }
            for (key, val) in &leaves {
                if !val.is_number() {
                    continue;
                }
                assert!(
                    figures.iter().any(|f| f.key == key) || KNOB_KEYS.contains(&key.as_str()),
                    "{scenario}.{key} has no entry in the compare table"
                );
            }
        }
    }

    #[test]
    fn bulk_figures_compare_when_both_documents_have_them() {
        let doc = |bulk: Option<f64>| {
            let mut m = serde_json::json!({"aggregate_msgs_per_s": 1000.0, "efficiency": 0.5,
                "raw": {"aggregate_msgs_per_s": 2000.0}});
            if let Some(rate) = bulk {
                m["bulk"] = serde_json::json!({"recv_msgs_per_s": rate,
                    "recv_bytes_per_s": rate * 54.0, "write_size_bytes": 262144});
                m["efficiency_vs_bulk"] = (1000.0 / rate).into();
            }
            serde_json::json!({"schema": 1, "results": {"stress": {"runs": [{}], "median": m}}})
        };
        let figures = |a: &Value, b: &Value| -> Vec<String> {
            rows(a, b).into_iter().map(|r| r.figure).collect()
        };
        // A document older than the bulk baseline compares as before.
        let old = figures(&doc(None), &doc(Some(1e6)));
        assert_eq!(old, ["aggregate_msgs_per_s", "efficiency", "raw.aggregate_msgs_per_s"]);
        let new = rows(&doc(Some(1e6)), &doc(Some(2e6)));
        let rate = new.iter().find(|r| r.figure == "bulk.recv_msgs_per_s").unwrap();
        assert_eq!((rate.ratio, rate.better), (Some(2.0), "b"));
        let eff = new.iter().find(|r| r.figure == "efficiency_vs_bulk").unwrap();
        assert_eq!(eff.better, "a");
        assert!(new.iter().any(|r| r.figure == "bulk.recv_bytes_per_s"));
        assert!(!new
            .iter()
            .any(|r| r.figure.starts_with("raw.bulk") || r.figure.contains("write_size")));
        assert_eq!(fmt(unit_of("stress", "bulk.recv_bytes_per_s"), 2_097_152.0), "2.00 MiB/s");
    }

    #[test]
    fn ratio_and_direction() {
        let doc = |p50: f64, rate: f64| {
            serde_json::json!({"schema": 1, "results": {
                "latency": {"runs": [{}], "median": {"p50_us": p50}},
                "burst": {"runs": [{}], "median": {"recv_msgs_per_s": rate}}
            }})
        };
        let rows = rows(&doc(40.0, 1000.0), &doc(20.0, 1000.0));
        let p50 = rows.iter().find(|r| r.figure == "p50_us").unwrap();
        assert_eq!(p50.ratio, Some(0.5));
        assert_eq!(p50.better, "b");
        let rate = rows.iter().find(|r| r.figure == "recv_msgs_per_s").unwrap();
        assert_eq!(rate.better, "same");
    }

    #[test]
    fn colours_come_from_the_palette_and_only_add_escapes() {
        let a: Value = serde_json::from_str(include_str!("testdata/sample.json")).unwrap();
        let mut b = a.clone();
        // One run in B: no min–max ranges, so no difference is noise.
        b["results"]["latency"]["runs"] = Value::Array(vec![Value::Null]);
        b["results"]["latency"]["median"]["avg_us"] = 1.0.into();
        b["results"]["latency"]["median"]["p50_us"] = 1e6.into();
        let rows = rows(&a, &b);
        let (pa, pb) = (Path::new("a.json"), Path::new("b.json"));
        let plain = render(pa, &a, pb, &b, &rows, false);
        let coloured = render(pa, &a, pb, &b, &rows, true);
        let p = Palette::new(true);
        let line = |label: &str| plain.lines().find(|l| l.starts_with(label)).unwrap().to_string();
        for painted in [
            p.paint(Role::Strong, "LATENCY").to_string(),
            p.paint(Role::Good, line("  avg ")).to_string(),
            p.paint(Role::Warn, line("  p50 ")).to_string(),
            p.paint(Role::Dim, "ratio = B / A; \"better\" names the run with the better figure")
                .to_string(),
        ] {
            assert!(coloured.contains(&painted), "{painted:?} missing in\n{coloured}");
        }
        let plain_lines: Vec<&str> = plain.lines().collect();
        let unpainted = coloured.lines().filter(|l| plain_lines.contains(l)).count();
        assert_eq!(coloured.lines().count(), plain_lines.len());
        assert!(unpainted > 0 && unpainted < plain_lines.len());
    }

    #[test]
    fn each_run_names_its_wire() {
        let mut doc: Value = serde_json::from_str(include_str!("testdata/sample.json")).unwrap();
        let path = Path::new("a.json");
        assert!(describe(path, &doc).contains("threads core, wire 1.6"), "older documents");
        doc["setup"]["wire"] = "vx".into();
        assert!(describe(path, &doc).contains("threads core, wire vx"));
        doc["setup"]["target"] = "127.0.0.1:9".into();
        assert!(describe(path, &doc).contains("target 127.0.0.1:9, wire vx"));
    }
}

//! The human-readable report: one table per scenario (veltix beside the
//! raw-TCP baseline), a latency histogram, and a README-ready summary box.
//! With several runs a cell reads `median (min–max)`.
//!
//! `table` is the table engine, `summary` the box, `compare` the diff of
//! two saved documents; the figures are formatted by `units` and coloured
//! by the crate's [`Palette`].

use std::fmt::Write as _;

use crate::cmd::bench::model::{
    Bucket, BulkFigures, BurstRun, ConnectionsRun, Document, FpsRun, LatencyRun, LoadLatency,
    LoadRun, MemoryRun, Record, StressRun,
};
use crate::cmd::bench::units::{
    bytes, bytes_per_s, conn_rate, count, group, hz, mibps, pct, pct0, pct1, rate, ratio, secs,
    signed_bytes, us,
};
use crate::output::{Palette, Role};
use table::{cell, width, with_baseline, Row, Table};

pub mod compare;
mod summary;
mod table;

/// The report of `doc`, ready for stdout.
pub fn render(doc: &Document, color: bool) -> String {
    let st = Palette::new(color);
    let mut out = String::new();
    header(&mut out, doc, st);
    let r = &doc.results;
    if let Some(rec) = &r.memory {
        memory(&mut out, rec, st);
    }
    if let Some(rec) = &r.latency {
        latency(&mut out, rec, st);
    }
    for rec in [&r.fps, &r.fps2].into_iter().flatten() {
        fps(&mut out, rec, st);
    }
    if let Some(rec) = &r.burst {
        burst(&mut out, rec, doc.setup.wire_profile().header_len(), st);
    }
    if let Some(rec) = &r.stress {
        stress(&mut out, rec, st);
    }
    if let Some(rec) = &r.connections {
        connections(&mut out, rec, &doc.setup.core, st);
    }
    if let Some(rec) = &r.load {
        load(&mut out, rec, st);
    }
    for n in &doc.notes {
        let _ = writeln!(out, "{}", st.paint(Role::Dim, format!("note: {n}")));
    }
    for e in &doc.errors {
        let _ = writeln!(
            out,
            "{}",
            st.paint(Role::Bad, format!("failed: {}: {}", e.scenario, e.message))
        );
    }
    summary::summary(&mut out, doc, st);
    out
}

fn header(out: &mut String, doc: &Document, st: Palette) {
    let m = &doc.machine;
    let wire = &doc.setup.wire;
    let server = match &doc.setup.target {
        Some(t) => format!("external server {t}, wire {wire} (delivery counted from echoes)"),
        None => format!("in-process server, {} core, wire {wire}", doc.setup.core),
    };
    let server = match &doc.setup.cpus_allowed {
        Some(cpus) if !cpus.is_empty() && cpus.len() < doc.machine.logical_cores as usize => {
            let list: Vec<String> = cpus.iter().map(u32::to_string).collect();
            let s = if cpus.len() == 1 { "" } else { "s" };
            format!("{server} · pinned to CPU{s} {}", list.join(","))
        }
        _ => server,
    };
    // --protocol-version is what a 1.6.3 HELLO announces; a VX hello
    // announces the VX protocol version instead.
    let protocol = match doc.setup.wire_profile() {
        veltix::Wire::V1_6 => doc.protocol_version.clone(),
        veltix::Wire::Vx => format!("VX {}", veltix::vx::PROTOCOL_VERSION),
    };
    let _ = writeln!(
        out,
        "{} · protocol {protocol} · {} build · {server}",
        st.paint(Role::Strong, format!("veltix bench {}", doc.tool.version)),
        doc.tool.build_profile
    );
    let _ = writeln!(
        out,
        "{} · {} logical cores{} · {} · {} · {}",
        m.cpu_model,
        m.logical_cores,
        m.physical_cores.map(|p| format!(" ({p} physical)")).unwrap_or_default(),
        bytes(m.memory_bytes as f64),
        m.os,
        m.kernel
    );
    let k = &doc.knobs;
    let runs = if k.runs > 1 {
        format!("{} runs per scenario: median (min–max)", k.runs)
    } else {
        "1 run per scenario".to_string()
    };
    let warm = if k.warmup_runs > 0 {
        format!(", after {} discarded", k.warmup_runs)
    } else {
        String::new()
    };
    let _ = writeln!(out, "{runs}{warm}; started {}", doc.started_at);
}

fn section(out: &mut String, st: Palette, title: &str, detail: &str) {
    let _ = writeln!(out, "\n{}  {}", st.paint(Role::Strong, title), st.paint(Role::Dim, detail));
}

fn loss_warning<T>(
    out: &mut String,
    st: Palette,
    rec: &Record<T>,
    lost: impl Fn(&T) -> u64,
    of: impl Fn(&T) -> u64,
) {
    let worst = rec.runs.iter().map(&lost).max().unwrap_or(0);
    let Some(run) = rec.runs.iter().find(|r| worst > 0 && lost(r) == worst) else { return };
    warning(out, st, format!("{} of {} messages were not delivered", group(worst), group(of(run))));
}

/// An indented `⚠` line, in the warning colour.
fn warning(out: &mut String, st: Palette, text: String) {
    let _ = writeln!(out, "  {}", st.paint(Role::Warn, format!("⚠ {text}")));
}

fn memory(out: &mut String, rec: &Record<MemoryRun>, st: Palette) {
    let m = &rec.median;
    section(out, st, "MEMORY", "RSS of the server's process; the clients run in a helper process");
    let mut t = Table::new(&["", ""]);
    let b = |get: fn(&MemoryRun) -> f64| cell(rec, |r| Some(get(r)), bytes);
    let d = |get: fn(&MemoryRun) -> f64| cell(rec, |r| Some(get(r)), signed_bytes);
    t.row(vec!["before the server".into(), b(|r| r.baseline_rss_bytes as f64)]);
    t.row(vec!["idle server".into(), b(|r| r.idle_rss_bytes as f64)]);
    t.row(vec!["  server start cost".into(), d(|r| r.server_start_bytes as f64)]);
    let n = m.detail_clients;
    t.row(vec![format!("per client (first {n}) avg"), d(|r| r.per_client_avg_bytes)]);
    t.row(vec!["  min".into(), d(|r| r.per_client_min_bytes)]);
    t.row(vec!["  max".into(), d(|r| r.per_client_max_bytes)]);
    t.row(vec!["  median".into(), d(|r| r.per_client_median_bytes)]);
    t.row(vec!["  stdev".into(), b(|r| r.per_client_stdev_bytes)]);
    t.row(vec![format!("with {n} clients"), b(|r| r.detail_rss_bytes as f64)]);
    t.row(vec![format!("with {} clients", m.total_clients), b(|r| r.total_rss_bytes as f64)]);
    if m.total_clients > n {
        t.row(vec![
            format!("  per client, {n}→{}", m.total_clients),
            d(|r| r.per_client_at_scale_bytes),
        ]);
    }
    t.row(vec!["after every client left".into(), b(|r| r.after_teardown_rss_bytes as f64)]);
    t.row(vec!["  leak delta (vs idle)".into(), d(|r| r.leak_bytes as f64)]);
    t.row(vec!["after server shutdown".into(), b(|r| r.after_shutdown_rss_bytes as f64)]);
    t.render(out, st);
}

fn latency(out: &mut String, rec: &Record<LatencyRun>, st: Palette) {
    use crate::cmd::bench::model::{LatencyFigures as F, LatencyRun as R};
    let m = &rec.median;
    section(
        out,
        st,
        "LATENCY",
        &format!(
            "{} pings, one at a time, after {} warm-up pings (avg {}, discarded)",
            group(m.figures.pings),
            group(m.warmup_pings),
            us(m.warmup_avg_us)
        ),
    );
    let rows: &[Row<F>] = &[
        ("avg", |f| f.avg_us, us),
        ("stdev", |f| f.stdev_us, us),
        ("jitter", |f| f.jitter_us, us),
        ("min", |f| f.min_us, us),
        ("p50", |f| f.p50_us, us),
        ("p90", |f| f.p90_us, us),
        ("p99", |f| f.p99_us, us),
        ("p99.9", |f| f.p999_us, us),
        ("max", |f| f.max_us, us),
        ("pings/s", |f| f.pings_per_s, |x| group(x.round() as u64)),
        ("lost", |f| f.lost as f64, |x| group(x as u64)),
        ("success", |f| f.success_pct, pct),
    ];
    let t = with_baseline(rec, |r: &R| &r.figures, |r: &R| r.raw.as_ref(), rows);
    t.render(out, st);
    if let (Some(raw), Some(eff)) = (&m.raw, m.efficiency) {
        let _ = writeln!(
            out,
            "  veltix / raw: p50 {} vs {}, {:.2}× the raw round trip; efficiency {}",
            us(m.figures.p50_us),
            us(raw.p50_us),
            if eff > 0.0 { 1.0 / eff } else { 0.0 },
            cell(rec, |r| r.efficiency.map(|e| e * 100.0), pct0)
        );
    }
    placement(out, rec);
    loss_warning(out, st, rec, |r| r.figures.lost, |r| r.figures.pings);
    histogram(out, &m.figures.histogram);
}

/// Where each side's blocks ran (the pinger and its echoing thread on one
/// vCPU or two), over all runs, and veltix beside raw TCP within a
/// placement: the comparison the scheduler does not skew.
fn placement(out: &mut String, rec: &Record<LatencyRun>) {
    use crate::cmd::bench::model::{Placed, Placement};
    type Side = fn(&LatencyRun) -> Option<&Placement>;
    type Kind = fn(&Placement) -> Option<&Placed>;
    let veltix: Side = |r| r.placement.as_ref();
    let raw: Side = |r| r.raw_placement.as_ref();
    let kinds: [(&str, Kind); 2] =
        [("one vCPU", |p| p.shared.as_ref()), ("two vCPUs", |p| p.apart.as_ref())];
    // Blocks over the runs, and the median of the runs' p50s.
    let of = |side: Side, kind: Kind| -> (u64, Option<f64>) {
        let placed: Vec<&Placed> = rec.runs.iter().filter_map(side).filter_map(kind).collect();
        let mut p50s: Vec<f64> = placed.iter().map(|p| p.p50_us).collect();
        p50s.sort_by(f64::total_cmp);
        let median = match p50s.len() {
            0 => None,
            n if n % 2 == 1 => Some(p50s[n / 2]),
            n => Some((p50s[n / 2 - 1] + p50s[n / 2]) / 2.0),
        };
        (placed.iter().map(|p| p.blocks).sum(), median)
    };
    let describe = |side: Side| -> Option<String> {
        if !rec.runs.iter().any(|r| side(r).is_some()) {
            return None;
        }
        let mut parts: Vec<String> = kinds
            .iter()
            .map(|(name, kind)| match of(side, *kind) {
                (0, _) | (_, None) => format!("{name} 0"),
                (n, Some(p50)) => format!("{name} {n} (p50 {})", us(p50)),
            })
            .collect();
        let moved: u64 = rec.runs.iter().filter_map(side).map(|p| p.moved_blocks).sum();
        if moved > 0 {
            parts.push(format!("moved {moved}"));
        }
        Some(parts.join(", "))
    };
    let (Some(v), r) = (describe(veltix), describe(raw)) else { return };
    let mut line = format!("  blocks by where the pinger and its echoer ran: veltix {v}");
    if let Some(r) = r {
        let _ = write!(line, "; raw TCP {r}");
    }
    let _ = writeln!(out, "{line}");
    if rec.median.raw.is_none() {
        return;
    }
    let pairs: Vec<String> = kinds
        .iter()
        .filter_map(|(name, kind)| match (of(veltix, *kind).1, of(raw, *kind).1) {
            (Some(v), Some(r)) if r > 0.0 => {
                Some(format!("{name} {} vs {}, {:.2}×", us(v), us(r), v / r))
            }
            _ => None,
        })
        .collect();
    if pairs.is_empty() {
        let _ = writeln!(
            out,
            "  like for like: no placement held blocks of both sides (more runs: --runs 3)"
        );
    } else {
        let _ = writeln!(out, "  like for like: {}", pairs.join("; "));
    }
}

fn histogram(out: &mut String, buckets: &[Bucket]) {
    let first = buckets.iter().position(|b| b.count > 0);
    let last = buckets.iter().rposition(|b| b.count > 0);
    let (Some(first), Some(last)) = (first, last) else { return };
    let _ = writeln!(out, "  round trips:");
    let labels: Vec<String> = (first..=last)
        .map(|i| {
            let lo = if i == 0 { None } else { buckets[i - 1].below_us };
            match (lo, buckets[i].below_us) {
                (None, Some(hi)) => format!("< {}", bound(hi)),
                (Some(lo), Some(hi)) => {
                    format!("{}–{}", bound(lo).trim_end_matches(" µs"), bound(hi))
                }
                (Some(lo), None) => format!("≥ {}", bound(lo)),
                (None, None) => "all".into(),
            }
        })
        .collect();
    let lw = labels.iter().map(|l| width(l)).max().unwrap_or(0);
    let cw = buckets[first..=last].iter().map(|b| group(b.count).len()).max().unwrap_or(1);
    for (label, b) in labels.iter().zip(&buckets[first..=last]) {
        let bar = "█".repeat((b.pct / 100.0 * 40.0).round() as usize);
        let line = format!(
            "    {label}{} {:>cw$} {:>6.2}%  {bar}",
            " ".repeat(lw - width(label)),
            group(b.count),
            b.pct
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn bound(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.0} µs")
    } else if v < 1_000_000.0 {
        format!("{} ms", trim(v / 1000.0))
    } else {
        format!("{} s", trim(v / 1e6))
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn fps(out: &mut String, rec: &Record<FpsRun>, st: Palette) {
    use crate::cmd::bench::model::FpsRun as R;
    let m = &rec.median;
    section(
        out,
        st,
        "FPS",
        &format!(
            "{} players at {} Hz for {}: PLAYER_MOVE 32 B every tick, PLAYER_SHOOT 16 B one tick in ten",
            m.players,
            m.tick_rate_hz,
            secs(m.duration_s)
        ),
    );
    let mut t = Table::new(&["", ""]);
    let mut row = |label: &str, get: fn(&R) -> Option<f64>, fmt: fn(f64) -> String| {
        t.row(vec![label.to_string(), cell(rec, get, fmt)]);
    };
    row("ticks", |r| Some(r.ticks as f64), count);
    row("actual tick rate", |r| Some(r.actual_tick_rate_hz), hz);
    row("sent", |r| Some(r.sent as f64), count);
    row("  PLAYER_MOVE", |r| Some(r.sent_move as f64), count);
    row("  PLAYER_SHOOT", |r| Some(r.sent_shoot as f64), count);
    row("send errors", |r| Some(r.send_errors as f64), count);
    row("delivered", |r| Some(r.delivered as f64), count);
    row("lost", |r| Some(r.lost as f64), count);
    row("success", |r| Some(r.success_pct), pct);
    row("sent rate", |r| Some(r.sent_msgs_per_s), rate);
    row("delivered rate", |r| Some(r.delivered_msgs_per_s), rate);
    row("tick duration avg", |r| Some(r.tick_avg_us), us);
    row("  min", |r| Some(r.tick_min_us), us);
    row("  max", |r| Some(r.tick_max_us), us);
    row("  stdev", |r| Some(r.tick_stdev_us), us);
    row("ticks within budget", |r| Some(r.ticks_within_budget_pct), pct);
    row("  overruns", |r| Some(r.overrun_ticks as f64), count);
    row("server RSS delta", |r| r.server_rss_delta_bytes.map(|b| b as f64), signed_bytes);
    t.render(out, st);
    loss_warning(out, st, rec, |r| r.lost, |r| r.sent);
}

fn burst(out: &mut String, rec: &Record<BurstRun>, header_len: usize, st: Palette) {
    use crate::cmd::bench::model::{BurstFigures as F, BurstRun as R};
    let m = &rec.median;
    section(
        out,
        st,
        "BURST",
        &format!(
            "{} messages × {} B payload (+{header_len} B header) from one client, as fast as it \
             can",
            group(m.figures.count),
            m.figures.payload_bytes
        ),
    );
    let rows: &[Row<F>] = &[
        ("sent", |f| f.sent as f64, count),
        ("send errors", |f| f.send_errors as f64, count),
        ("send rate", |f| f.send_msgs_per_s, rate),
        ("send time", |f| f.send_duration_s, secs),
        ("delivered", |f| f.delivered as f64, count),
        ("lost", |f| f.lost as f64, count),
        ("success", |f| f.success_pct, pct),
        ("receive rate", |f| f.recv_msgs_per_s, rate),
        ("payload", |f| f.payload_mib_per_s, mibps),
        ("on the wire", |f| f.wire_mib_per_s, mibps),
        ("last arrival", |f| f.recv_duration_s, secs),
        ("delivery: first", |f| f.delivery_first_us, us),
        ("  p50", |f| f.delivery_p50_us, us),
        ("  p90", |f| f.delivery_p90_us, us),
        ("  p99", |f| f.delivery_p99_us, us),
        ("  max", |f| f.delivery_max_us, us),
    ];
    let t = with_baseline(rec, |r: &R| &r.figures, |r: &R| r.raw.as_ref(), rows);
    t.render(out, st);
    if m.efficiency.is_some() {
        let _ = writeln!(
            out,
            "  veltix / raw: receive rate {}",
            cell(rec, |r| r.efficiency.map(|e| e * 100.0), |x| format!("{x:.0}% of raw TCP"))
        );
    }
    bulk_line(out, st, rec, |r| r.bulk.as_ref(), |r| r.efficiency_vs_bulk, "receive rate");
    loss_warning(out, st, rec, |r| r.figures.lost, |r| r.figures.count);
}

fn stress(out: &mut String, rec: &Record<StressRun>, st: Palette) {
    use crate::cmd::bench::model::{StressFigures as F, StressRun as R};
    let m = &rec.median;
    section(
        out,
        st,
        "STRESS",
        &format!(
            "{} clients on {} threads × {} messages of 32 B, at once",
            m.figures.clients,
            m.figures.clients,
            group(m.figures.msgs_per_client)
        ),
    );
    let rows: &[Row<F>] = &[
        ("sent", |f| f.sent as f64, count),
        ("send errors", |f| f.send_errors as f64, count),
        ("delivered", |f| f.delivered as f64, count),
        ("lost", |f| f.lost as f64, count),
        ("success", |f| f.success_pct, pct),
        ("aggregate rate", |f| f.aggregate_msgs_per_s, rate),
        ("send phase", |f| f.send_phase_s, secs),
        ("drain after sends", |f| f.drain_s, secs),
        ("total", |f| f.total_s, secs),
        ("first arrival", |f| f.first_delivery_us, us),
        ("per client: avg", |f| f.per_client_avg_msgs_per_s, rate),
        ("  min", |f| f.per_client_min_msgs_per_s, rate),
        ("  max", |f| f.per_client_max_msgs_per_s, rate),
        ("  stdev", |f| f.per_client_stdev_msgs_per_s, rate),
        ("fairness (Jain)", |f| f.fairness_jain, ratio),
    ];
    let t = with_baseline(rec, |r: &R| &r.figures, |r: &R| r.raw.as_ref(), rows);
    t.render(out, st);
    if m.efficiency.is_some() {
        let _ = writeln!(
            out,
            "  veltix / raw: aggregate rate {}",
            cell(rec, |r| r.efficiency.map(|e| e * 100.0), |x| format!("{x:.0}% of raw TCP"))
        );
    }
    bulk_line(out, st, rec, |r| r.bulk.as_ref(), |r| r.efficiency_vs_bulk, "aggregate rate");
    loss_warning(out, st, rec, |r| r.figures.lost, |r| r.figures.sent + r.figures.send_errors);
}

/// The bulk-TCP baseline of burst or stress, and veltix's share of it.
fn bulk_line<R>(
    out: &mut String,
    st: Palette,
    rec: &Record<R>,
    bulk: fn(&R) -> Option<&BulkFigures>,
    efficiency: fn(&R) -> Option<f64>,
    what: &str,
) {
    let Some(b) = bulk(&rec.median) else { return };
    let _ = writeln!(
        out,
        "  bulk TCP (the same frames, {} KiB per write): {} received, {} on the wire",
        b.write_size_bytes / 1024,
        cell(rec, |r| bulk(r).map(|b| b.recv_msgs_per_s), rate),
        cell(rec, |r| bulk(r).map(|b| b.recv_bytes_per_s), bytes_per_s),
    );
    let _ = writeln!(
        out,
        "  veltix / bulk: {what} {}",
        cell(rec, |r| efficiency(r).map(|e| e * 100.0), |x| format!("{} of bulk TCP", pct1(x)))
    );
    let worst = rec.runs.iter().filter_map(|r| bulk(r).map(|b| b.lost)).max().unwrap_or(0);
    if worst > 0 {
        let text = format!("{} frames of the bulk baseline were not counted", group(worst));
        warning(out, st, text);
    }
}

fn connections(out: &mut String, rec: &Record<ConnectionsRun>, core: &str, st: Palette) {
    use crate::cmd::bench::model::ConnectionsRun as R;
    let m = &rec.median;
    section(
        out,
        st,
        "CONNECTIONS",
        &format!(
            "{} idle connections to the in-process server ({core} core), raw sockets in a helper \
             process{}; {} of them pinged",
            group(u64::from(m.connections)),
            if m.source_addrs > 1 {
                format!(" from {} source addresses", m.source_addrs)
            } else {
                String::new()
            },
            group(u64::from(m.sampled))
        ),
    );
    let mut t = Table::new(&["", ""]);
    let mut row = |label: String, get: fn(&R) -> f64, fmt: fn(f64) -> String| {
        t.row(vec![label, cell(rec, |r| Some(get(r)), fmt)]);
    };
    let n = group(u64::from(m.connections));
    row("idle server RSS".into(), |r| r.idle_rss_bytes as f64, bytes);
    row(format!("with {n} connections"), |r| r.connected_rss_bytes as f64, bytes);
    row("  per connection".into(), |r| r.per_conn_bytes, signed_bytes);
    row("after every connection closed".into(), |r| r.after_teardown_rss_bytes as f64, bytes);
    row("  delta (vs idle)".into(), |r| r.teardown_delta_bytes as f64, signed_bytes);
    if m.after_trim_rss_bytes.is_some() {
        t.row(vec![
            "  after malloc_trim".into(),
            cell(rec, |r| r.after_trim_rss_bytes.map(|b| b as f64), bytes),
        ]);
    }
    let mut row = |label: String, get: fn(&R) -> f64, fmt: fn(f64) -> String| {
        t.row(vec![label, cell(rec, |r| Some(get(r)), fmt)]);
    };
    row("server threads, idle".into(), |r| r.idle_threads as f64, count);
    row(format!("  with {n} connections"), |r| r.connected_threads as f64, count);
    row("  after every connection closed".into(), |r| r.after_teardown_threads as f64, count);
    row("connect all".into(), |r| r.connect_s, secs);
    row("  rate".into(), |r| r.conns_per_s, conn_rate);
    row("close all".into(), |r| r.teardown_s, secs);
    row("sample pings answered".into(), |r| r.sample_completed as f64, count);
    row("  lost".into(), |r| r.sample_lost as f64, count);
    row("  avg".into(), |r| r.sample_avg_us, us);
    row("  min".into(), |r| r.sample_min_us, us);
    row("  p50".into(), |r| r.sample_p50_us, us);
    row("  p99".into(), |r| r.sample_p99_us, us);
    row("  max".into(), |r| r.sample_max_us, us);
    t.render(out, st);
    let worst = rec.runs.iter().map(|r| r.sample_lost).max().unwrap_or(0);
    if worst > 0 {
        let text = format!(
            "{} of {} sample pings were not answered",
            group(worst),
            group(u64::from(m.sampled))
        );
        warning(out, st, text);
    }
}

fn load(out: &mut String, rec: &Record<LoadRun>, st: Palette) {
    let m = &rec.median;
    let what = if m.message == "echo" {
        format!("echo requests of {} B", m.payload_bytes)
    } else {
        "PINGs".to_string()
    };
    section(
        out,
        st,
        "LOAD",
        &format!(
            "{what} at {} over {} connections for {}; latency corrected from each due time",
            rate(m.target_msgs_per_s),
            m.connections,
            secs(m.duration_s)
        ),
    );
    let mut t = Table::new(&["", ""]);
    let mut row = |label: &str, get: fn(&LoadRun) -> f64, fmt: fn(f64) -> String| {
        t.row(vec![label.to_string(), cell(rec, |r| Some(get(r)), fmt)]);
    };
    row("target rate", |r| r.target_msgs_per_s, rate);
    row("achieved rate", |r| r.achieved_msgs_per_s, rate);
    row("scheduled", |r| r.scheduled as f64, count);
    row("sent", |r| r.sent as f64, count);
    row("completed", |r| r.completed as f64, count);
    row("errors", |r| r.errors as f64, count);
    row("late (> 1 ms)", |r| r.late as f64, count);
    t.render(out, st);
    let mut t = Table::new(&["", "corrected", "uncorrected"]);
    type Get = fn(&LoadLatency) -> f64;
    let rows: &[(&str, Get)] = &[
        ("min", |l| l.min_us),
        ("p50", |l| l.p50_us),
        ("p90", |l| l.p90_us),
        ("p99", |l| l.p99_us),
        ("p99.9", |l| l.p999_us),
        ("max", |l| l.max_us),
        ("avg", |l| l.avg_us),
    ];
    for &(label, get) in rows {
        t.row(vec![
            label.to_string(),
            cell(rec, |r| Some(get(&r.corrected)), us),
            cell(rec, |r| Some(get(&r.uncorrected)), us),
        ]);
    }
    t.render(out, st);
    let worst = rec.runs.iter().map(|r| r.errors).max().unwrap_or(0);
    if worst > 0 {
        warning(out, st, format!("{} requests were not answered", group(worst)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A saved document of every scenario with two runs each, a failure,
    /// notes and losses (the machine's name made up).
    pub(super) fn sample() -> Document {
        serde_json::from_str(include_str!("testdata/sample.json")).unwrap()
    }

    fn strip_escapes(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('\x1b') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            let end = tail.find('m').map_or(tail.len(), |j| j + 1);
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn the_plain_report_is_unchanged() {
        assert_eq!(render(&sample(), false), include_str!("testdata/sample.txt"));
    }

    #[test]
    fn colours_come_from_the_palette_and_only_add_escapes() {
        let doc = sample();
        let coloured = render(&doc, true);
        assert_eq!(strip_escapes(&coloured), render(&doc, false));
        let p = Palette::new(true);
        for painted in [
            p.paint(Role::Strong, "veltix bench 0.1.0").to_string(),
            p.paint(Role::Dim, "note: a second note").to_string(),
            p.paint(Role::Bad, "failed: stress: boom: it broke").to_string(),
            p.paint(Role::Warn, "⚠ 3 of 200 messages were not delivered").to_string(),
            p.paint(Role::Warn, "⚠ 4 of 10 sample pings were not answered").to_string(),
        ] {
            assert!(coloured.contains(&painted), "{painted:?} missing in\n{coloured}");
        }
    }

    #[test]
    fn the_report_names_the_wire_and_its_header() {
        let mut doc = sample();
        let text = render(&doc, false);
        assert!(text.contains("(+22 B header)"), "{text}");
        doc.setup.wire = "vx".into();
        let text = render(&doc, false);
        let first = text.lines().next().unwrap_or_default();
        assert!(first.ends_with("in-process server, threads core, wire vx"), "{first}");
        assert!(first.contains("· protocol VX 1.0 ·"), "{first}");
        assert!(text.contains("× 64 B payload (+15 B header)"), "{text}");
        doc.setup.target = Some("127.0.0.1:9".into());
        let first = render(&doc, false).lines().next().unwrap_or_default().to_string();
        assert!(first.contains("external server 127.0.0.1:9, wire vx"), "{first}");
    }

    #[test]
    fn the_load_section_shows_both_latencies() {
        let mut doc = sample();
        let run = LoadRun {
            message: "ping".into(),
            connections: 4,
            target_msgs_per_s: 1000.0,
            achieved_msgs_per_s: 998.0,
            errors: 2,
            corrected: LoadLatency { p90_us: 250_000.0, ..Default::default() },
            uncorrected: LoadLatency { p90_us: 120.0, ..Default::default() },
            ..Default::default()
        };
        doc.results.load = Some(crate::cmd::bench::model::record(vec![run]).unwrap());
        let text = render(&doc, false);
        assert!(text.contains("LOAD  PINGs at 1,000 msg/s over 4 connections"), "{text}");
        let p90 = text.lines().find(|l| l.trim_start().starts_with("p90 ") && l.contains("250"));
        assert!(p90.is_some_and(|l| l.contains("250.00 ms") && l.contains("120.0 µs")), "{text}");
        assert!(text.contains("⚠ 2 requests were not answered"), "{text}");
        assert!(text.contains("p50 / p99 corrected"), "{text}");
    }

    #[test]
    fn placements_are_compared_like_for_like() {
        use crate::cmd::bench::model::{Placed, Placement};
        let mut doc = sample();
        let rec = doc.results.latency.as_mut().unwrap();
        let at = |blocks, p50_us| Some(Placed { blocks, pings: blocks * 100, p50_us });
        // Run 1: veltix on one vCPU, raw TCP on two; run 2 the other way.
        rec.runs[0].placement =
            Some(Placement { shared: at(10, 15.0), apart: None, moved_blocks: 0 });
        rec.runs[0].raw_placement =
            Some(Placement { shared: None, apart: at(9, 50.0), moved_blocks: 1 });
        rec.runs[1].placement =
            Some(Placement { shared: None, apart: at(10, 55.0), moved_blocks: 0 });
        rec.runs[1].raw_placement =
            Some(Placement { shared: at(10, 12.5), apart: None, moved_blocks: 0 });
        let text = render(&doc, false);
        assert!(
            text.contains(
                "blocks by where the pinger and its echoer ran: veltix one vCPU 10 (p50 15.0 µs), \
                 two vCPUs 10 (p50 55.0 µs); raw TCP one vCPU 10 (p50 12.5 µs), two vCPUs 9 \
                 (p50 50.0 µs), moved 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("like for like: one vCPU 15.0 µs vs 12.5 µs, 1.20×; two vCPUs 55.0 µs vs 50.0 µs, 1.10×"),
            "{text}"
        );
        // One run, each side in its own placement: nothing to compare.
        doc.results.latency.as_mut().unwrap().runs.truncate(1);
        let text = render(&doc, false);
        assert!(text.contains("like for like: no placement held blocks of both sides"), "{text}");
    }

    #[test]
    fn histogram_bounds() {
        assert_eq!(bound(500.0), "500 µs");
        assert_eq!(bound(2000.0), "2 ms");
        assert_eq!(bound(2_500_000.0), "2.5 s");
    }
}

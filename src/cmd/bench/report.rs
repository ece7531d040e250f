//! The human-readable report: one table per scenario (veltix beside the
//! raw-TCP baseline), a latency histogram, and a README-ready summary box.
//! With several runs a cell reads `median (min–max)`.

use std::fmt::Write as _;

use super::model::{Bucket, Document, Record};

/// The report of `doc`, ready for stdout.
pub fn render(doc: &Document, color: bool) -> String {
    let st = Style(color);
    let mut out = String::new();
    header(&mut out, doc, &st);
    let r = &doc.results;
    if let Some(rec) = &r.memory {
        memory(&mut out, rec, &st);
    }
    if let Some(rec) = &r.latency {
        latency(&mut out, rec, &st);
    }
    for rec in [&r.fps, &r.fps2].into_iter().flatten() {
        fps(&mut out, rec, &st);
    }
    if let Some(rec) = &r.burst {
        burst(&mut out, rec, &st);
    }
    if let Some(rec) = &r.stress {
        stress(&mut out, rec, &st);
    }
    if let Some(rec) = &r.connections {
        connections(&mut out, rec, &doc.setup.core, &st);
    }
    for n in &doc.notes {
        let _ = writeln!(out, "{}", st.dim(&format!("note: {n}")));
    }
    for e in &doc.errors {
        let _ = writeln!(out, "{}", st.red(&format!("failed: {}: {}", e.scenario, e.message)));
    }
    summary(&mut out, doc, &st);
    out
}

struct Style(bool);

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
}

fn header(out: &mut String, doc: &Document, st: &Style) {
    let m = &doc.machine;
    let server = match &doc.setup.target {
        Some(t) => format!("external server {t} (delivery counted from echoes)"),
        None => format!("in-process server, {} core", doc.setup.core),
    };
    let server = match &doc.setup.cpus_allowed {
        Some(cpus) if !cpus.is_empty() && cpus.len() < doc.machine.logical_cores as usize => {
            let list: Vec<String> = cpus.iter().map(u32::to_string).collect();
            let s = if cpus.len() == 1 { "" } else { "s" };
            format!("{server} · pinned to CPU{s} {}", list.join(","))
        }
        _ => server,
    };
    let _ = writeln!(
        out,
        "{} · protocol {} · {} build · {server}",
        st.bold(&format!("veltix bench {}", doc.tool.version)),
        doc.protocol_version,
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

/// A table: a label column, then one column per header.
struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[&str]) -> Table {
        Table { head: head.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn render(&self, out: &mut String, st: &Style) {
        let cols = self.head.len();
        let mut w = vec![0usize; cols];
        for r in std::iter::once(&self.head).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                w[i] = w[i].max(width(c));
            }
        }
        let line = |r: &[String]| {
            let mut s = String::from(" ");
            for (i, c) in r.iter().enumerate().take(cols) {
                s.push(' ');
                s.push_str(c);
                if i + 1 < cols {
                    s.push_str(&" ".repeat(w[i] - width(c) + 2));
                }
            }
            s.trim_end().to_string()
        };
        if self.head.iter().skip(1).any(|h| !h.is_empty()) {
            let _ = writeln!(out, "{}", st.dim(&line(&self.head)));
        }
        for r in &self.rows {
            let _ = writeln!(out, "{}", line(r));
        }
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn section(out: &mut String, st: &Style, title: &str, detail: &str) {
    let _ = writeln!(out, "\n{}  {}", st.bold(title), st.dim(detail));
}

/// `median` or `median (min–max)` of one figure.
fn cell<T>(
    rec: &Record<T>,
    get: impl Fn(&T) -> Option<f64>,
    fmt: impl Fn(f64) -> String,
) -> String {
    let Some(m) = get(&rec.median) else { return "—".into() };
    if rec.runs.len() <= 1 {
        return fmt(m);
    }
    match (get(&rec.min), get(&rec.max)) {
        (Some(lo), Some(hi)) => format!("{} ({}–{})", fmt(m), fmt(lo), fmt(hi)),
        _ => fmt(m),
    }
}

fn loss_warning<T>(
    out: &mut String,
    st: &Style,
    rec: &Record<T>,
    lost: impl Fn(&T) -> u64,
    of: impl Fn(&T) -> u64,
) {
    let worst = rec.runs.iter().map(&lost).max().unwrap_or(0);
    if worst > 0 {
        let run = rec.runs.iter().find(|r| lost(r) == worst).expect("a run with the loss");
        let _ = writeln!(
            out,
            "  {}",
            st.yellow(&format!(
                "⚠ {} of {} messages were not delivered",
                group(worst),
                group(of(run))
            ))
        );
    }
}

fn memory(out: &mut String, rec: &Record<super::model::MemoryRun>, st: &Style) {
    let m = &rec.median;
    section(out, st, "MEMORY", "RSS of the server's process; the clients run in a helper process");
    let mut t = Table::new(&["", ""]);
    let b = |get: fn(&super::model::MemoryRun) -> f64| cell(rec, |r| Some(get(r)), bytes);
    let d = |get: fn(&super::model::MemoryRun) -> f64| cell(rec, |r| Some(get(r)), signed_bytes);
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

fn latency(out: &mut String, rec: &Record<super::model::LatencyRun>, st: &Style) {
    use super::model::{LatencyFigures as F, LatencyRun as R};
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
    let has_raw = m.raw.is_some();
    let mut t = Table::new(if has_raw { &["", "veltix", "raw TCP"] } else { &["", "veltix"] });
    let mut row = |label: &str, get: fn(&F) -> f64, fmt: fn(f64) -> String| {
        let mut cells = vec![label.to_string(), cell(rec, |r: &R| Some(get(&r.figures)), fmt)];
        if has_raw {
            cells.push(cell(rec, |r: &R| r.raw.as_ref().map(get), fmt));
        }
        t.row(cells);
    };
    row("avg", |f| f.avg_us, us);
    row("stdev", |f| f.stdev_us, us);
    row("jitter", |f| f.jitter_us, us);
    row("min", |f| f.min_us, us);
    row("p50", |f| f.p50_us, us);
    row("p90", |f| f.p90_us, us);
    row("p99", |f| f.p99_us, us);
    row("p99.9", |f| f.p999_us, us);
    row("max", |f| f.max_us, us);
    row("pings/s", |f| f.pings_per_s, |x| group(x.round() as u64));
    row("lost", |f| f.lost as f64, |x| group(x as u64));
    row("success", |f| f.success_pct, pct);
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
    loss_warning(out, st, rec, |r| r.figures.lost, |r| r.figures.pings);
    histogram(out, &m.figures.histogram);
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

fn fps(out: &mut String, rec: &Record<super::model::FpsRun>, st: &Style) {
    use super::model::FpsRun as R;
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
    row("actual tick rate", |r| Some(r.actual_tick_rate_hz), |x| format!("{x:.1} Hz"));
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

fn burst(out: &mut String, rec: &Record<super::model::BurstRun>, st: &Style) {
    use super::model::{BurstFigures as F, BurstRun as R};
    let m = &rec.median;
    section(
        out,
        st,
        "BURST",
        &format!(
            "{} messages × {} B payload (+22 B header) from one client, as fast as it can",
            group(m.figures.count),
            m.figures.payload_bytes
        ),
    );
    let has_raw = m.raw.is_some();
    let mut t = Table::new(if has_raw { &["", "veltix", "raw TCP"] } else { &["", "veltix"] });
    let mut row = |label: &str, get: fn(&F) -> f64, fmt: fn(f64) -> String| {
        let mut cells = vec![label.to_string(), cell(rec, |r: &R| Some(get(&r.figures)), fmt)];
        if has_raw {
            cells.push(cell(rec, |r: &R| r.raw.as_ref().map(get), fmt));
        }
        t.row(cells);
    };
    row("sent", |f| f.sent as f64, count);
    row("send errors", |f| f.send_errors as f64, count);
    row("send rate", |f| f.send_msgs_per_s, rate);
    row("send time", |f| f.send_duration_s, secs);
    row("delivered", |f| f.delivered as f64, count);
    row("lost", |f| f.lost as f64, count);
    row("success", |f| f.success_pct, pct);
    row("receive rate", |f| f.recv_msgs_per_s, rate);
    row("payload", |f| f.payload_mib_per_s, mibps);
    row("on the wire", |f| f.wire_mib_per_s, mibps);
    row("last arrival", |f| f.recv_duration_s, secs);
    row("delivery: first", |f| f.delivery_first_us, us);
    row("  p50", |f| f.delivery_p50_us, us);
    row("  p90", |f| f.delivery_p90_us, us);
    row("  p99", |f| f.delivery_p99_us, us);
    row("  max", |f| f.delivery_max_us, us);
    t.render(out, st);
    if m.efficiency.is_some() {
        let _ = writeln!(
            out,
            "  veltix / raw: receive rate {}",
            cell(rec, |r| r.efficiency.map(|e| e * 100.0), |x| format!("{x:.0}% of raw TCP"))
        );
    }
    loss_warning(out, st, rec, |r| r.figures.lost, |r| r.figures.count);
}

fn stress(out: &mut String, rec: &Record<super::model::StressRun>, st: &Style) {
    use super::model::{StressFigures as F, StressRun as R};
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
    let has_raw = m.raw.is_some();
    let mut t = Table::new(if has_raw { &["", "veltix", "raw TCP"] } else { &["", "veltix"] });
    let mut row = |label: &str, get: fn(&F) -> f64, fmt: fn(f64) -> String| {
        let mut cells = vec![label.to_string(), cell(rec, |r: &R| Some(get(&r.figures)), fmt)];
        if has_raw {
            cells.push(cell(rec, |r: &R| r.raw.as_ref().map(get), fmt));
        }
        t.row(cells);
    };
    row("sent", |f| f.sent as f64, count);
    row("send errors", |f| f.send_errors as f64, count);
    row("delivered", |f| f.delivered as f64, count);
    row("lost", |f| f.lost as f64, count);
    row("success", |f| f.success_pct, pct);
    row("aggregate rate", |f| f.aggregate_msgs_per_s, rate);
    row("send phase", |f| f.send_phase_s, secs);
    row("drain after sends", |f| f.drain_s, secs);
    row("total", |f| f.total_s, secs);
    row("first arrival", |f| f.first_delivery_us, us);
    row("per client: avg", |f| f.per_client_avg_msgs_per_s, rate);
    row("  min", |f| f.per_client_min_msgs_per_s, rate);
    row("  max", |f| f.per_client_max_msgs_per_s, rate);
    row("  stdev", |f| f.per_client_stdev_msgs_per_s, rate);
    row("fairness (Jain)", |f| f.fairness_jain, |x| format!("{x:.3}"));
    t.render(out, st);
    if m.efficiency.is_some() {
        let _ = writeln!(
            out,
            "  veltix / raw: aggregate rate {}",
            cell(rec, |r| r.efficiency.map(|e| e * 100.0), |x| format!("{x:.0}% of raw TCP"))
        );
    }
    loss_warning(out, st, rec, |r| r.figures.lost, |r| r.figures.sent + r.figures.send_errors);
}

fn connections(
    out: &mut String,
    rec: &Record<super::model::ConnectionsRun>,
    core: &str,
    st: &Style,
) {
    use super::model::ConnectionsRun as R;
    let m = &rec.median;
    section(
        out,
        st,
        "CONNECTIONS",
        &format!(
            "{} idle connections to the in-process server ({core} core), raw sockets in a helper \
             process; {} of them pinged",
            group(u64::from(m.connections)),
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
        let _ = writeln!(
            out,
            "  {}",
            st.yellow(&format!(
                "⚠ {} of {} sample pings were not answered",
                group(worst),
                group(u64::from(m.sampled))
            ))
        );
    }
}

fn summary(out: &mut String, doc: &Document, st: &Style) {
    let r = &doc.results;
    let mut rows: Vec<(String, String)> = Vec::new();
    if let Some(m) = r.memory.as_ref().map(|x| &x.median) {
        rows.push(("Idle server".into(), bytes(m.idle_rss_bytes as f64)));
        rows.push(("Per client".into(), bytes(m.per_client_avg_bytes)));
        rows.push((format!("{} clients", m.total_clients), bytes(m.total_rss_bytes as f64)));
        rows.push(("Leak after teardown".into(), signed_bytes(m.leak_bytes as f64)));
    }
    if let Some(m) = r.latency.as_ref().map(|x| &x.median) {
        let f = &m.figures;
        rows.push(("Ping avg / p50".into(), format!("{} / {}", us(f.avg_us), us(f.p50_us))));
        rows.push((
            "Ping p99 / p99.9 / max".into(),
            format!("{} / {} / {}", us(f.p99_us), us(f.p999_us), us(f.max_us)),
        ));
        rows.push(("Pings per second".into(), group(f.pings_per_s.round() as u64)));
        if let (Some(raw), Some(e)) = (&m.raw, m.efficiency) {
            rows.push((
                "Ping vs raw TCP".into(),
                format!("{:.0}% (raw p50 {})", e * 100.0, us(raw.p50_us)),
            ));
        }
    }
    for m in [&r.fps, &r.fps2].into_iter().flatten().map(|x| &x.median) {
        rows.push((
            format!("FPS {} players @ {} Hz", m.players, m.tick_rate_hz),
            format!("{}, {}", rate(m.delivered_msgs_per_s), delivery(m.success_pct, m.lost)),
        ));
    }
    if let Some(m) = r.burst.as_ref().map(|x| &x.median) {
        let f = &m.figures;
        rows.push((
            format!("Burst {} × {} B", group(f.count), f.payload_bytes),
            format!("{} received, {}", rate(f.recv_msgs_per_s), mibps(f.payload_mib_per_s)),
        ));
        rows.push((
            "  send / delivery".into(),
            format!("{} sent, {}", rate(f.send_msgs_per_s), delivery(f.success_pct, f.lost)),
        ));
        if let Some(e) = m.efficiency {
            rows.push(("  vs raw TCP".into(), format!("{:.0}%", e * 100.0)));
        }
    }
    if let Some(m) = r.stress.as_ref().map(|x| &x.median) {
        let f = &m.figures;
        rows.push((
            format!("Stress {} clients × {}", f.clients, group(f.msgs_per_client)),
            format!("{}, {}", rate(f.aggregate_msgs_per_s), delivery(f.success_pct, f.lost)),
        ));
        rows.push(("  fairness (Jain)".into(), format!("{:.3}", f.fairness_jain)));
        if let Some(e) = m.efficiency {
            rows.push(("  vs raw TCP".into(), format!("{:.0}%", e * 100.0)));
        }
    }
    if let Some(m) = r.connections.as_ref().map(|x| &x.median) {
        rows.push((
            format!("{} connections ({} core)", group(u64::from(m.connections)), doc.setup.core),
            format!(
                "{}, {} each",
                bytes(m.connected_rss_bytes as f64),
                signed_bytes(m.per_conn_bytes)
            ),
        ));
        rows.push((
            "  connect all".into(),
            format!("{} ({})", secs(m.connect_s), conn_rate(m.conns_per_s)),
        ));
        rows.push((
            format!("  ping {} of them p50 / p99", group(u64::from(m.sampled))),
            format!("{} / {}", us(m.sample_p50_us), us(m.sample_p99_us)),
        ));
    }
    if rows.is_empty() {
        return;
    }
    let m = &doc.machine;
    let title =
        format!("veltix {} ({}) · README-ready summary", doc.tool.version, doc.tool.build_profile);
    let sub = format!("{}, {} cores, {}", m.cpu_model, m.logical_cores, m.kernel);
    let w1 = rows.iter().map(|(l, _)| width(l)).max().unwrap_or(0);
    let w2 = rows
        .iter()
        .map(|(_, v)| width(v))
        .max()
        .unwrap_or(0)
        .max(width(&title).max(width(&sub)).saturating_sub(w1 + 3));
    let inner = w1 + w2 + 5;
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(width(s))));
    let _ = writeln!(out);
    let _ = writeln!(out, "┌{}┐", "─".repeat(inner));
    let _ = writeln!(out, "│ {} │", st.bold(&pad(&title, inner - 2)));
    let _ = writeln!(out, "│ {} │", pad(&sub, inner - 2));
    let _ = writeln!(out, "├{}┬{}┤", "─".repeat(w1 + 2), "─".repeat(w2 + 2));
    for (l, v) in &rows {
        let _ = writeln!(out, "│ {} │ {} │", pad(l, w1), pad(v, w2));
    }
    let _ = writeln!(out, "└{}┴{}┘", "─".repeat(w1 + 2), "─".repeat(w2 + 2));
}

fn delivery(success_pct: f64, lost: u64) -> String {
    if lost == 0 {
        format!("{} delivered", pct(success_pct))
    } else {
        format!("{} delivered ({} lost)", pct(success_pct), group(lost))
    }
}

/// Microseconds, scaled.
pub fn us(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.1} µs")
    } else if v < 1_000_000.0 {
        format!("{:.2} ms", v / 1000.0)
    } else {
        format!("{:.2} s", v / 1e6)
    }
}

/// Seconds, scaled.
pub fn secs(v: f64) -> String {
    us(v * 1e6)
}

/// Bytes in B, KiB, MiB or GiB.
pub fn bytes(v: f64) -> String {
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a < 1024.0 {
        format!("{sign}{a:.0} B")
    } else if a < 1024.0 * 1024.0 {
        format!("{sign}{:.1} KiB", a / 1024.0)
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        format!("{sign}{:.1} MiB", a / 1_048_576.0)
    } else {
        format!("{sign}{:.2} GiB", a / 1_073_741_824.0)
    }
}

/// Bytes with an explicit sign.
pub fn signed_bytes(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", bytes(v))
    } else {
        bytes(v)
    }
}

/// Messages per second.
pub fn rate(v: f64) -> String {
    format!("{} msg/s", group(v.round().max(0.0) as u64))
}

/// Connections per second.
pub fn conn_rate(v: f64) -> String {
    format!("{} conn/s", group(v.round().max(0.0) as u64))
}

/// MiB per second.
pub fn mibps(v: f64) -> String {
    format!("{v:.2} MiB/s")
}

/// A percentage with two decimals.
pub fn pct(v: f64) -> String {
    format!("{v:.2}%")
}

fn pct0(v: f64) -> String {
    format!("{v:.0}%")
}

/// A count.
pub fn count(v: f64) -> String {
    group(v.round().max(0.0) as u64)
}

/// 1234567 → "1,234,567".
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(us(41.23), "41.2 µs");
        assert_eq!(us(1500.0), "1.50 ms");
        assert_eq!(bytes(2048.0), "2.0 KiB");
        assert_eq!(signed_bytes(-512.0), "-512 B");
        assert_eq!(signed_bytes(3.0 * 1_048_576.0), "+3.0 MiB");
        assert_eq!(bound(500.0), "500 µs");
        assert_eq!(bound(2000.0), "2 ms");
    }
}

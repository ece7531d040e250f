//! The README-ready summary box: the headline figure of each scenario
//! that ran, under the version and the machine.

use std::fmt::Write as _;

use super::table::width;
use crate::cmd::bench::model::{BulkFigures, Document};
use crate::cmd::bench::units::{
    bytes, bytes_per_s, conn_rate, group, mibps, pct, pct0, pct1, rate, ratio, secs, signed_bytes,
    us,
};
use crate::output::{Palette, Role};

/// Appends the box of headline figures (nothing when no scenario ran).
pub fn summary(out: &mut String, doc: &Document, p: Palette) {
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
            rows.push(("  vs raw TCP".into(), pct0(e * 100.0)));
        }
        vs_bulk(&mut rows, m.bulk.as_ref(), m.efficiency_vs_bulk);
    }
    if let Some(m) = r.stress.as_ref().map(|x| &x.median) {
        let f = &m.figures;
        rows.push((
            format!("Stress {} clients × {}", f.clients, group(f.msgs_per_client)),
            format!("{}, {}", rate(f.aggregate_msgs_per_s), delivery(f.success_pct, f.lost)),
        ));
        rows.push(("  fairness (Jain)".into(), ratio(f.fairness_jain)));
        if let Some(e) = m.efficiency {
            rows.push(("  vs raw TCP".into(), pct0(e * 100.0)));
        }
        vs_bulk(&mut rows, m.bulk.as_ref(), m.efficiency_vs_bulk);
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
    if let Some(m) = r.load.as_ref().map(|x| &x.median) {
        rows.push((
            format!("Load {} at {}", m.message, rate(m.target_msgs_per_s)),
            format!("{} achieved, {} errors", rate(m.achieved_msgs_per_s), group(m.errors)),
        ));
        rows.push((
            "  p50 / p99 corrected".into(),
            format!("{} / {}", us(m.corrected.p50_us), us(m.corrected.p99_us)),
        ));
        rows.push((
            "  p50 / p99 uncorrected".into(),
            format!("{} / {}", us(m.uncorrected.p50_us), us(m.uncorrected.p99_us)),
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
    let _ = writeln!(out, "│ {} │", p.paint(Role::Strong, pad(&title, inner - 2)));
    let _ = writeln!(out, "│ {} │", pad(&sub, inner - 2));
    let _ = writeln!(out, "├{}┬{}┤", "─".repeat(w1 + 2), "─".repeat(w2 + 2));
    for (l, v) in &rows {
        let _ = writeln!(out, "│ {} │ {} │", pad(l, w1), pad(v, w2));
    }
    let _ = writeln!(out, "└{}┴{}┘", "─".repeat(w1 + 2), "─".repeat(w2 + 2));
}

/// The row of veltix's share of the bulk-TCP baseline.
fn vs_bulk(rows: &mut Vec<(String, String)>, bulk: Option<&BulkFigures>, e: Option<f64>) {
    if let (Some(b), Some(e)) = (bulk, e) {
        rows.push((
            "  vs bulk TCP".into(),
            format!(
                "{} (bulk {}, {})",
                pct1(e * 100.0),
                rate(b.recv_msgs_per_s),
                bytes_per_s(b.recv_bytes_per_s)
            ),
        ));
    }
}

fn delivery(success_pct: f64, lost: u64) -> String {
    if lost == 0 {
        format!("{} delivered", pct(success_pct))
    } else {
        format!("{} delivered ({} lost)", pct(success_pct), group(lost))
    }
}

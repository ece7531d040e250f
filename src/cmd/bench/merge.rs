//! `veltix bench --merge A.json B.json ...`: one document from several
//! that ran at the same time against one server (each from its own
//! machine, started together with `--start-at`). Run `i` of the result
//! is run `i` of every input added up: counts and rates are sums, and
//! every percentile is read from the sum of the runs' stored histograms,
//! so it is exactly what one histogram fed every sample would give.
//!
//! Only the scenarios with histograms merge (latency and load); the
//! others are left out, with a note.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::model::{
    self, Document, LatencyFigures, LatencyRun, LoadLatency, LoadRun, Record, Results,
};
use super::stats;

/// Reads the documents at `paths` and merges them.
pub fn merge_files(paths: &[PathBuf]) -> anyhow::Result<Document> {
    let docs =
        paths.iter().map(|p| Ok((p.as_path(), load(p)?))).collect::<anyhow::Result<Vec<_>>>()?;
    merge(&docs)
}

fn load(path: &Path) -> anyhow::Result<Document> {
    serde_json::from_value(model::read_value(path)?)
        .with_context(|| format!("{} is not a complete veltix bench result", path.display()))
}

/// The merged document of `docs` (at least two).
pub fn merge(docs: &[(&Path, Document)]) -> anyhow::Result<Document> {
    let Some((_, first)) = docs.first() else { bail!("nothing to merge") };
    let names: Vec<String> = docs.iter().map(|(p, _)| p.display().to_string()).collect();
    let mut out = first.clone();
    out.results = Results {
        latency: merge_records(docs, "latency", |d| d.results.latency.as_ref(), merge_latency)?,
        load: merge_records(docs, "load", |d| d.results.load.as_ref(), merge_load)?,
        ..Default::default()
    };
    out.started_at = docs.iter().map(|(_, d)| d.started_at.clone()).min().unwrap_or_default();
    out.finished_at = docs.iter().map(|(_, d)| d.finished_at.clone()).max().flatten();
    out.complete = docs.iter().all(|(_, d)| d.complete);
    out.notes = vec![format!(
        "merged from {} documents: {}; counts and rates are their sums, percentiles come \
         from the sums of their histograms",
        docs.len(),
        names.join(", ")
    )];
    let dropped: Vec<&str> = [
        ("memory", docs.iter().any(|(_, d)| d.results.memory.is_some())),
        ("fps", docs.iter().any(|(_, d)| d.results.fps.is_some())),
        ("burst", docs.iter().any(|(_, d)| d.results.burst.is_some())),
        ("stress", docs.iter().any(|(_, d)| d.results.stress.is_some())),
        ("connections", docs.iter().any(|(_, d)| d.results.connections.is_some())),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
    .collect();
    if !dropped.is_empty() {
        out.notes.push(format!(
            "left out (only latency and load have histograms to merge): {}",
            dropped.join(", ")
        ));
    }
    out.knobs.scenarios.retain(|s| s == "latency" || s == "load");
    out.errors = docs.iter().flat_map(|(_, d)| d.errors.clone()).collect();
    Ok(out)
}

/// Run `i` of every document's record merged into run `i` of one record;
/// None when no document has the scenario.
fn merge_records<T>(
    docs: &[(&Path, Document)],
    name: &str,
    get: impl Fn(&Document) -> Option<&Record<T>>,
    merge_runs: impl Fn(&[&T]) -> anyhow::Result<T>,
) -> anyhow::Result<Option<Record<T>>>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    if docs.iter().all(|(_, d)| get(d).is_none()) {
        return Ok(None);
    }
    let mut records = Vec::new();
    for (path, d) in docs {
        let rec =
            get(d).with_context(|| format!("{} has no {name} results to merge", path.display()))?;
        records.push(rec);
    }
    let runs = records[0].runs.len();
    if let Some((path, _)) = docs.iter().zip(&records).find(|(_, r)| r.runs.len() != runs) {
        bail!(
            "{} has a different number of {name} runs from {} ({runs}): run i of each is \
             merged with run i of the others",
            path.0.display(),
            docs[0].0.display()
        );
    }
    let merged = (0..runs)
        .map(|i| {
            let of_run: Vec<&T> = records.iter().map(|r| &r.runs[i]).collect();
            merge_runs(&of_run).with_context(|| format!("cannot merge {name} run {}", i + 1))
        })
        .collect::<anyhow::Result<Vec<T>>>()?;
    Ok(Some(model::record(merged)?))
}

fn hdr_of(hdr: &Option<String>) -> anyhow::Result<hdrhistogram::Histogram<u64>> {
    let text = hdr.as_deref().context(
        "a run has no stored histogram (\"hdr\"): saved by an older veltix, it cannot be merged",
    )?;
    stats::decode_hdr(text)
}

/// Sum of `f` over `xs`.
fn sum<T>(xs: &[&T], f: impl Fn(&T) -> u64) -> u64 {
    xs.iter().map(|x| f(x)).sum()
}

/// Mean of `value` weighted by `weight` (0 when the weights are).
fn weighted<T>(xs: &[&T], value: impl Fn(&T) -> f64, weight: impl Fn(&T) -> u64) -> f64 {
    let w = sum(xs, &weight);
    if w == 0 {
        return 0.0;
    }
    xs.iter().map(|x| value(x) * weight(x) as f64).sum::<f64>() / w as f64
}

fn max_f64<T>(xs: &[&T], f: impl Fn(&T) -> f64) -> f64 {
    xs.iter().map(|x| f(x)).fold(0.0, f64::max)
}

fn merge_load(runs: &[&LoadRun]) -> anyhow::Result<LoadRun> {
    let hists = |get: fn(&LoadRun) -> &LoadLatency| {
        runs.iter().map(|r| hdr_of(&get(r).hdr)).collect::<anyhow::Result<Vec<_>>>()
    };
    let corrected = stats::merge_histograms(&hists(|r| &r.corrected)?)?;
    let uncorrected = stats::merge_histograms(&hists(|r| &r.uncorrected)?)?;
    let first = runs[0];
    Ok(LoadRun {
        message: first.message.clone(),
        payload_bytes: first.payload_bytes,
        connections: runs.iter().map(|r| r.connections).sum(),
        scheduled: sum(runs, |r| r.scheduled),
        target_msgs_per_s: runs.iter().map(|r| r.target_msgs_per_s).sum(),
        achieved_msgs_per_s: runs.iter().map(|r| r.achieved_msgs_per_s).sum(),
        sent: sum(runs, |r| r.sent),
        completed: sum(runs, |r| r.completed),
        errors: sum(runs, |r| r.errors),
        late: sum(runs, |r| r.late),
        duration_s: max_f64(runs, |r| r.duration_s),
        corrected: stats::load_latency(&corrected),
        uncorrected: stats::load_latency(&uncorrected),
    })
}

fn merge_latency(runs: &[&LatencyRun]) -> anyhow::Result<LatencyRun> {
    let figures: Vec<&LatencyFigures> = runs.iter().map(|r| &r.figures).collect();
    let figures = merge_latency_figures(&figures)?;
    let raws: Option<Vec<&LatencyFigures>> = runs.iter().map(|r| r.raw.as_ref()).collect();
    let raw = raws.map(|r| merge_latency_figures(&r)).transpose()?;
    let efficiency =
        raw.as_ref().and_then(|r| (figures.p50_us > 0.0).then(|| r.p50_us / figures.p50_us));
    Ok(LatencyRun {
        warmup_pings: sum(runs, |r| r.warmup_pings),
        warmup_avg_us: weighted(runs, |r| r.warmup_avg_us, |r| r.warmup_pings),
        figures,
        raw,
        efficiency,
        // Which vCPUs ran a thread is a fact of one machine's run.
        placement: None,
        raw_placement: None,
    })
}

/// Ping series added up: counts and rates summed, extremes and the mean
/// exact, stdev and percentiles from the summed histogram, the jitter
/// (which needs the order of the samples) the mean of the series'
/// jitters weighted by their answered pings.
pub fn merge_latency_figures(xs: &[&LatencyFigures]) -> anyhow::Result<LatencyFigures> {
    let answered: Vec<&LatencyFigures> = xs.iter().copied().filter(|f| f.completed > 0).collect();
    let h = stats::merge_histograms(
        &answered.iter().map(|f| hdr_of(&f.hdr)).collect::<anyhow::Result<Vec<_>>>()?,
    )?;
    let pings = sum(xs, |f| f.pings);
    let completed = sum(xs, |f| f.completed);
    let len = xs.iter().map(|f| f.histogram.len()).max().unwrap_or(0);
    let counts = (0..len)
        .map(|i| xs.iter().filter_map(|f| f.histogram.get(i)).map(|b| b.count).sum())
        .collect();
    let mut f = LatencyFigures {
        pings,
        completed,
        lost: sum(xs, |f| f.lost),
        success_pct: stats::pct(completed, pings),
        duration_s: max_f64(xs, |f| f.duration_s),
        pings_per_s: xs.iter().map(|f| f.pings_per_s).sum(),
        histogram: stats::buckets_of(counts),
        ..Default::default()
    };
    if answered.is_empty() {
        return Ok(f);
    }
    f.hdr = Some(stats::encode_hdr(&h));
    f.min_us = answered.iter().map(|f| f.min_us).fold(f64::INFINITY, f64::min);
    f.max_us = max_f64(&answered, |f| f.max_us);
    f.avg_us = weighted(&answered, |f| f.avg_us, |f| f.completed);
    f.jitter_us = weighted(&answered, |f| f.jitter_us, |f| f.completed);
    stats::latency_percentiles(&mut f, &h);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(n: u64, seed: u64) -> Vec<u64> {
        // A spread of round trips from 20 µs to ~20 ms.
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                20_000 + (x >> 33) % 20_000_000
            })
            .collect()
    }

    #[test]
    fn merged_latency_is_one_histogram_of_every_sample() {
        let (a, b) = (samples(1500, 1), samples(700, 2));
        let fa = stats::latency(&a, 1502, 1.0);
        let fb = stats::latency(&b, 700, 2.0);
        let all = stats::latency(&[a, b].concat(), 2202, 2.0);
        let m = merge_latency_figures(&[&fa, &fb]).unwrap();
        assert_eq!((m.pings, m.completed, m.lost), (2202, 2200, 2));
        assert_eq!(
            (m.p50_us, m.p90_us, m.p99_us, m.p999_us, m.min_us, m.max_us, m.stdev_us),
            (all.p50_us, all.p90_us, all.p99_us, all.p999_us, all.min_us, all.max_us, all.stdev_us)
        );
        assert!((m.avg_us - all.avg_us).abs() < 1e-6, "{} {}", m.avg_us, all.avg_us);
        assert_eq!(
            m.histogram.iter().map(|b| b.count).collect::<Vec<_>>(),
            all.histogram.iter().map(|b| b.count).collect::<Vec<_>>()
        );
        assert_eq!(stats::decode_hdr(m.hdr.as_deref().unwrap()).unwrap().len(), 2200);
        assert_eq!(m.duration_s, 2.0);
        assert_eq!(m.pings_per_s, fa.pings_per_s + fb.pings_per_s);
    }

    #[test]
    fn merged_load_sums_counts_and_histograms() {
        let run = |s: &[u64], rate: f64| LoadRun {
            message: "ping".into(),
            connections: 2,
            target_msgs_per_s: rate,
            achieved_msgs_per_s: rate - 1.0,
            sent: s.len() as u64 + 1,
            completed: s.len() as u64,
            errors: 1,
            late: 3,
            corrected: stats::load_latency(&stats::histogram_of(s)),
            uncorrected: stats::load_latency(&stats::histogram_of(&s[..10])),
            ..Default::default()
        };
        let (a, b) = (samples(900, 3), samples(400, 4));
        let m = merge_load(&[&run(&a, 100.0), &run(&b, 50.0)]).unwrap();
        let all = stats::load_latency(&stats::histogram_of(&[a.clone(), b.clone()].concat()));
        assert_eq!(m.corrected, all);
        assert_eq!((m.sent, m.completed, m.errors, m.late, m.connections), (1302, 1300, 2, 6, 4));
        assert_eq!((m.target_msgs_per_s, m.achieved_msgs_per_s), (150.0, 148.0));
        let u = stats::decode_hdr(m.uncorrected.hdr.as_deref().unwrap()).unwrap();
        assert_eq!(u.len(), 20);
    }

    #[test]
    fn a_run_without_its_histogram_cannot_merge() {
        let f = stats::latency(&samples(10, 5), 10, 1.0);
        let old = LatencyFigures { hdr: None, ..f.clone() };
        let e = merge_latency_figures(&[&f, &old]).unwrap_err();
        assert!(format!("{e:#}").contains("older veltix"), "{e:#}");
    }
}

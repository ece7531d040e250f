//! Statistics over samples: HDR-histogram percentiles for latencies,
//! mean / stdev / median for small series, Jain's fairness index, and the
//! lossless text form of a histogram that documents carry (`hdr`).

use anyhow::Context;
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

use super::model::{Bucket, LatencyFigures, LoadLatency};

/// Mean, standard deviation (sample), min, max and median of a series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub avg: f64,
    pub stdev: f64,
    pub min: f64,
    pub max: f64,
    pub median: f64,
}

impl Moments {
    /// Zeroes for an empty series.
    pub fn of(xs: &[f64]) -> Moments {
        if xs.is_empty() {
            return Moments::default();
        }
        let n = xs.len() as f64;
        let avg = xs.iter().sum::<f64>() / n;
        let stdev = if xs.len() > 1 {
            (xs.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let m = sorted.len();
        let median =
            if m % 2 == 1 { sorted[m / 2] } else { (sorted[m / 2 - 1] + sorted[m / 2]) / 2.0 };
        Moments { avg, stdev, min: sorted[0], max: sorted[m - 1], median }
    }
}

/// Jain's fairness index: (Σx)² / (n·Σx²); 1.0 when all are equal.
pub fn jain(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let sq: f64 = xs.iter().map(|x| x * x).sum();
    if xs.is_empty() || sq == 0.0 {
        return 0.0;
    }
    sum * sum / (xs.len() as f64 * sq)
}

/// A histogram of nanoseconds from 1 ns to one hour, 3 significant digits
/// (values within 0.1 % of each other may share a bucket).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid HDR bounds")
}

/// A histogram of `samples_ns`.
pub fn histogram_of(samples_ns: &[u64]) -> Histogram<u64> {
    let mut h = histogram();
    for &s in samples_ns {
        h.saturating_record(s.max(1));
    }
    h
}

/// A histogram as text: HdrHistogram's V2 serialization (uncompressed),
/// in standard base64. Lossless: [`decode_hdr`] gives back every count.
pub fn encode_hdr(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail; an empty string (read back as an
    // error) would say so if it ever did.
    if V2Serializer::new().serialize(h, &mut buf).is_err() {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// The histogram [`encode_hdr`] wrote.
pub fn decode_hdr(text: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .context("the histogram is not base64")?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("the histogram is not an HdrHistogram V2 encoding: {e}"))
}

/// The sum of `hs` in a [`histogram`] (the bounds every document uses).
pub fn merge_histograms<'a>(
    hs: impl IntoIterator<Item = &'a Histogram<u64>>,
) -> anyhow::Result<Histogram<u64>> {
    let mut sum = histogram();
    for h in hs {
        sum.add(h).map_err(|e| anyhow::anyhow!("cannot add histograms: {e:?}"))?;
    }
    Ok(sum)
}

/// The latency figures of the load scenario, all read from `h`
/// (nanoseconds), so that merged histograms give exactly the figures of
/// one histogram fed every sample; zeroes when it is empty.
pub fn load_latency(h: &Histogram<u64>) -> LoadLatency {
    let mut f = LoadLatency { hdr: Some(encode_hdr(h)), ..Default::default() };
    if h.is_empty() {
        return f;
    }
    f.min_us = us(h.min());
    f.max_us = us(h.max());
    f.avg_us = h.mean() / 1000.0;
    f.p50_us = us(h.value_at_quantile(0.50));
    f.p90_us = us(h.value_at_quantile(0.90));
    f.p99_us = us(h.value_at_quantile(0.99));
    f.p999_us = us(h.value_at_quantile(0.999));
    f
}

/// Nanoseconds as microseconds.
pub fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Upper bounds (µs, exclusive) of the latency histogram's buckets: 1, 2,
/// 3, 5 and 7 in every decade from 1 µs to 1 s; a last bucket holds
/// everything above.
pub const BUCKET_BOUNDS_US: &[f64] = &[
    1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0, 50.0, 70.0, 100.0, 200.0, 300.0, 500.0, 700.0, 1e3,
    2e3, 3e3, 5e3, 7e3, 1e4, 2e4, 3e4, 5e4, 7e4, 1e5, 2e5, 3e5, 5e5, 7e5, 1e6,
];

/// Latency figures from round-trip samples (in the order they were taken)
/// and the number of pings sent.
pub fn latency(samples_ns: &[u64], pings: u64, duration_s: f64) -> LatencyFigures {
    let completed = samples_ns.len() as u64;
    let mut f = LatencyFigures {
        pings,
        completed,
        lost: pings.saturating_sub(completed),
        success_pct: pct(completed, pings),
        duration_s,
        pings_per_s: if duration_s > 0.0 { completed as f64 / duration_s } else { 0.0 },
        histogram: buckets(samples_ns),
        ..Default::default()
    };
    if samples_ns.is_empty() {
        return f;
    }
    let h = histogram_of(samples_ns);
    f.hdr = Some(encode_hdr(&h));
    // Exact extremes; the HDR histogram rounds them to its bucket edges.
    f.min_us = us(*samples_ns.iter().min().unwrap_or(&0));
    f.max_us = us(*samples_ns.iter().max().unwrap_or(&0));
    f.avg_us = samples_ns.iter().map(|&s| s as f64).sum::<f64>() / samples_ns.len() as f64 / 1000.0;
    // The histogram reports a bucket's upper edge: the percentiles are
    // kept within the exact extremes.
    latency_percentiles(&mut f, &h);
    f.jitter_us = jitter_us(samples_ns);
    f
}

/// The percentiles and stdev of latency figures from their (merged)
/// histogram, kept within the exact extremes as [`latency`] does.
pub fn latency_percentiles(f: &mut LatencyFigures, h: &Histogram<u64>) {
    f.stdev_us = h.stdev() / 1000.0;
    let at = |q: f64| us(h.value_at_quantile(q)).clamp(f.min_us, f.max_us);
    f.p50_us = at(0.50);
    f.p90_us = at(0.90);
    f.p99_us = at(0.99);
    f.p999_us = at(0.999);
}

/// Mean absolute difference between consecutive samples (as RFC 3550's
/// interarrival jitter, without its smoothing).
pub fn jitter_us(samples_ns: &[u64]) -> f64 {
    if samples_ns.len() < 2 {
        return 0.0;
    }
    let total: u64 = samples_ns.windows(2).map(|w| w[0].abs_diff(w[1])).sum();
    us(total) / (samples_ns.len() - 1) as f64
}

/// The bars of [`BUCKET_BOUNDS_US`] with `counts` (one per bar).
pub fn buckets_of(counts: Vec<u64>) -> Vec<Bucket> {
    let n: u64 = counts.iter().sum();
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bucket {
            below_us: BUCKET_BOUNDS_US.get(i).copied(),
            count,
            pct: pct(count, n),
        })
        .collect()
}

fn buckets(samples_ns: &[u64]) -> Vec<Bucket> {
    let mut counts = vec![0u64; BUCKET_BOUNDS_US.len() + 1];
    for &s in samples_ns {
        let v = us(s);
        let i = BUCKET_BOUNDS_US.iter().position(|&b| v < b).unwrap_or(BUCKET_BOUNDS_US.len());
        counts[i] += 1;
    }
    buckets_of(counts)
}

/// part / whole × 100 (0 when whole is 0).
pub fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Value at `q` of an already sorted series of nanoseconds, in µs
/// (nearest rank).
pub fn quantile_sorted_us(sorted_ns: &[u64], q: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_ns.len() as f64).ceil() as usize).clamp(1, sorted_ns.len());
    us(sorted_ns[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_a_series() {
        let m = Moments::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.avg, 2.5);
        assert_eq!(m.median, 2.5);
        assert_eq!((m.min, m.max), (1.0, 4.0));
        assert!((m.stdev - 1.2909944).abs() < 1e-6);
        assert_eq!(Moments::of(&[]), Moments::default());
    }

    #[test]
    fn jain_index() {
        assert!((jain(&[5.0, 5.0, 5.0]) - 1.0).abs() < 1e-12);
        assert!((jain(&[1.0, 0.0]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn latency_percentiles_and_buckets() {
        // 1..=1000 µs
        let samples: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let f = latency(&samples, 1002, 1.0);
        assert_eq!(f.lost, 2);
        assert_eq!(f.min_us, 1.0);
        assert_eq!(f.max_us, 1000.0);
        assert!((f.p50_us - 500.0).abs() < 1.0, "{}", f.p50_us);
        assert!((f.p99_us - 990.0).abs() < 1.0, "{}", f.p99_us);
        assert_eq!(f.jitter_us, 1.0);
        assert_eq!(f.histogram.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert_eq!(f.histogram[3].count, 2); // 3 and 4 µs are in [3, 5)
        assert!(f.histogram.last().unwrap().below_us.is_none());
    }

    #[test]
    fn histograms_survive_their_text_form() {
        let samples: Vec<u64> = (1..=5000).map(|i| i * 997).collect();
        let h = histogram_of(&samples);
        let back = decode_hdr(&encode_hdr(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 5000);
        assert!(decode_hdr("not base64!").is_err());
        assert!(decode_hdr("aGVsbG8=").is_err());
    }

    #[test]
    fn load_figures_come_from_the_histogram_alone() {
        let (a, b): (Vec<u64>, Vec<u64>) =
            (1..=3000u64).map(|i| i * 1013).partition(|v| v % 3 == 0);
        let all = load_latency(&histogram_of(&[a.clone(), b.clone()].concat()));
        let merged =
            load_latency(&merge_histograms([&histogram_of(&a), &histogram_of(&b)]).unwrap());
        assert_eq!(merged, all);
        assert!((all.p50_us - 1519.0).abs() < 2.0, "{}", all.p50_us);
        assert_eq!(load_latency(&histogram()).p99_us, 0.0);
    }

    #[test]
    fn nearest_rank() {
        let s: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(quantile_sorted_us(&s, 0.5), 50.0);
        assert_eq!(quantile_sorted_us(&s, 0.99), 99.0);
        assert_eq!(quantile_sorted_us(&s, 1.0), 100.0);
    }
}

//! `veltix bench --plot OUT.svg A.json [B.json ...]`: the latency
//! percentile distribution of every stored histogram, as HdrHistogram's
//! plotter draws it: x is the percentile on a log scale (0 %, 90 %, 99 %,
//! … 99.999 %, i.e. 1 / (1 − q)), y the latency (log scale). One curve
//! per document and scenario: latency (and its raw-TCP baseline), load
//! corrected and uncorrected; a scenario's runs are added up.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hdrhistogram::Histogram;
use plotters::prelude::*;

use super::model::{self, Document};
use super::{stats, units};

/// 1 / (1 − q) at the right edge: 99.999 %.
const X_MAX: f64 = 1e5;
/// Points per curve, evenly spaced on the log x axis.
const POINTS: usize = 240;
const SIZE: (u32, u32) = (960, 600);

/// One labelled curve: its histogram (nanoseconds).
pub struct Curve {
    pub label: String,
    pub hist: Histogram<u64>,
}

/// Reads the documents, draws their curves and writes the SVG to `out`.
pub fn run(out: &Path, inputs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut all = Vec::new();
    for path in inputs {
        let doc: Document = serde_json::from_value(model::read_value(path)?)
            .with_context(|| format!("{} is not a complete veltix bench result", path.display()))?;
        let name = path
            .file_stem()
            .map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        let found = curves(&name, &doc).with_context(|| format!("in {}", path.display()))?;
        anyhow::ensure!(
            !found.is_empty(),
            "{} has no latency or load histogram to plot",
            path.display()
        );
        all.extend(found);
    }
    let text = svg(&all)?;
    std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("wrote {} ({} curves)", out.display(), all.len());
    Ok(ExitCode::SUCCESS)
}

/// The curves of one document, labelled `name: scenario`.
pub fn curves(name: &str, doc: &Document) -> anyhow::Result<Vec<Curve>> {
    let mut out = Vec::new();
    let mut add = |label: &str, hdrs: Vec<Option<&String>>| -> anyhow::Result<()> {
        let hs = hdrs
            .into_iter()
            .flatten()
            .map(|t| stats::decode_hdr(t))
            .collect::<Result<Vec<_>, _>>()?;
        let hist = stats::merge_histograms(&hs)?;
        if !hist.is_empty() {
            out.push(Curve { label: format!("{name}: {label}"), hist });
        }
        Ok(())
    };
    if let Some(rec) = &doc.results.latency {
        add("latency", rec.runs.iter().map(|r| r.figures.hdr.as_ref()).collect())?;
        add(
            "latency, raw TCP",
            rec.runs.iter().map(|r| r.raw.as_ref().and_then(|f| f.hdr.as_ref())).collect(),
        )?;
    }
    if let Some(rec) = &doc.results.load {
        add("load corrected", rec.runs.iter().map(|r| r.corrected.hdr.as_ref()).collect())?;
        add("load uncorrected", rec.runs.iter().map(|r| r.uncorrected.hdr.as_ref()).collect())?;
    }
    Ok(out)
}

/// The label of an x position: the percentile 1 − 1/x.
fn percentile_label(x: &f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x);
    let digits = if *x <= 1.0 { 0 } else { (x.log10().round() as i32 - 2).max(0) as usize };
    format!("{q:.digits$}%")
}

/// The points of a curve: (1 / (1 − q), latency in µs).
fn points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    (0..POINTS)
        .map(|i| {
            let x = X_MAX.powf(i as f64 / (POINTS - 1) as f64);
            let q = 1.0 - 1.0 / x;
            (x, stats::us(h.value_at_quantile(q)).max(0.001))
        })
        .collect()
}

/// The SVG text of `curves` on one chart.
pub fn svg(curves: &[Curve]) -> anyhow::Result<String> {
    anyhow::ensure!(!curves.is_empty(), "nothing to plot");
    let series: Vec<Vec<(f64, f64)>> = curves.iter().map(|c| points(&c.hist)).collect();
    let ys = series.iter().flatten().map(|p| p.1);
    let lo = ys.clone().fold(f64::INFINITY, f64::min);
    let hi = ys.fold(0.0, f64::max);
    let (lo, hi) = (lo / 1.5, (hi * 1.5).max(lo * 2.0));
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("latency by percentile", ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d((1.0..X_MAX).log_scale(), (lo..hi).log_scale())
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency")
            .x_labels(6)
            .x_label_formatter(&percentile_label)
            .y_label_formatter(&|v| units::us(*v))
            .draw()
            .map_err(plot_error)?;
        for (i, (curve, pts)) in curves.iter().zip(series).enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(plot_error)?
                .label(curve.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(text)
}

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the plot: {e:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_on_the_log_axis() {
        assert_eq!(percentile_label(&1.0), "0%");
        assert_eq!(percentile_label(&10.0), "90%");
        assert_eq!(percentile_label(&100.0), "99%");
        assert_eq!(percentile_label(&1000.0), "99.9%");
        assert_eq!(percentile_label(&1e5), "99.999%");
    }

    #[test]
    fn a_curve_rises_with_the_percentile() {
        let h = stats::histogram_of(&(1..=10_000u64).map(|i| i * 1000).collect::<Vec<_>>());
        let p = points(&h);
        assert_eq!(p.len(), POINTS);
        assert!(p.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert!((p[0].1 - 1.0).abs() < 0.01, "{:?}", p[0]);
        assert!((p[POINTS - 1].1 - 10_000.0).abs() < 10.0, "{:?}", p[POINTS - 1]);
    }

    #[test]
    fn the_svg_names_every_curve() {
        let curve = |label: &str, scale: u64| Curve {
            label: label.into(),
            hist: stats::histogram_of(&(1..=500u64).map(|i| i * scale).collect::<Vec<_>>()),
        };
        let text =
            svg(&[curve("a: load corrected", 3000), curve("a: load uncorrected", 700)]).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..100]);
        assert!(text.contains("a: load corrected") && text.contains("a: load uncorrected"));
        assert!(text.contains("99.9%"), "the percentile axis");
        assert!(svg(&[]).is_err());
    }
}

//! The table engine of the report: a label column, then one column per
//! header, each as wide as its widest cell; and the cell of one figure
//! over several runs.

use std::fmt::Write as _;

use crate::cmd::bench::model::Record;
use crate::output::{Palette, Role};

/// A table: a label column, then one column per header.
pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(head: &[&str]) -> Table {
        Table { head: head.iter().map(|s| s.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Appends the table to `out`; the header row (dimmed) only when a
    /// column past the label has a heading.
    pub fn render(&self, out: &mut String, p: Palette) {
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
            let _ = writeln!(out, "{}", p.paint(Role::Dim, line(&self.head)));
        }
        for r in &self.rows {
            let _ = writeln!(out, "{}", line(r));
        }
    }
}

/// The width of `s` in a terminal (one column per char: the report's
/// text has no wide characters).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// `median` or `median (min–max)` of one figure.
pub fn cell<T>(
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

/// One row of a table: its label, the figure it shows, how to write it.
pub type Row<F> = (&'static str, fn(&F) -> f64, fn(f64) -> String);

/// A table of veltix's figures (`veltix` of each run) beside the raw-TCP
/// baseline's (`raw`), the second column only when the runs have one.
pub fn with_baseline<R, F>(
    rec: &Record<R>,
    veltix: fn(&R) -> &F,
    raw: fn(&R) -> Option<&F>,
    rows: &[Row<F>],
) -> Table {
    let has_raw = raw(&rec.median).is_some();
    let mut t = Table::new(if has_raw { &["", "veltix", "raw TCP"] } else { &["", "veltix"] });
    for &(label, get, fmt) in rows {
        let mut cells = vec![label.to_string(), cell(rec, |r| Some(get(veltix(r))), fmt)];
        if has_raw {
            cells.push(cell(rec, |r| raw(r).map(get), fmt));
        }
        t.row(cells);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_the_header_is_dimmed() {
        let mut t = Table::new(&["", "veltix", "raw TCP"]);
        t.row(vec!["avg".into(), "41.2 µs".into(), "20.0 µs".into()]);
        t.row(vec!["pings/s".into(), "1,000".into(), "".into()]);
        let mut plain = String::new();
        t.render(&mut plain, Palette::new(false));
        assert_eq!(
            plain,
            "            veltix    raw TCP\n  avg       41.2 µs   20.0 µs\n  pings/s   1,000\n"
        );
        let mut coloured = String::new();
        t.render(&mut coloured, Palette::new(true));
        let head = "            veltix    raw TCP";
        assert!(coloured.starts_with(&format!("{}\n", Palette::new(true).paint(Role::Dim, head))));
    }

    #[test]
    fn a_table_without_headings_has_no_header_row() {
        let mut t = Table::new(&["", ""]);
        t.row(vec!["idle server".into(), "1.0 MiB".into()]);
        let mut out = String::new();
        t.render(&mut out, Palette::new(true));
        assert_eq!(out, "  idle server   1.0 MiB\n");
    }
}

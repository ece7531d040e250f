//! Unit formatters shared by the report, `--compare` and the scenarios'
//! messages: microseconds, seconds, bytes, rates, percentages and counts.

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

/// Bytes per second, in MiB per second.
pub fn bytes_per_s(v: f64) -> String {
    mibps(v / 1_048_576.0)
}

/// A percentage with one decimal.
pub fn pct1(v: f64) -> String {
    format!("{v:.1}%")
}

/// A percentage with two decimals.
pub fn pct(v: f64) -> String {
    format!("{v:.2}%")
}

/// A whole percentage.
pub fn pct0(v: f64) -> String {
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
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A dimensionless figure (fairness), three decimals.
pub fn ratio(v: f64) -> String {
    format!("{v:.3}")
}

/// A tick rate.
pub fn hz(v: f64) -> String {
    format!("{v:.1} Hz")
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
        assert_eq!(hz(63.96), "64.0 Hz");
    }
}

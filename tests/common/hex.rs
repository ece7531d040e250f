//! Hex text of test data: the one encoder and decoder every test crate
//! uses (the golden vectors, the reference scripts' arguments and answers).

use std::fmt::Write;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Bytes of a hex string (surrounding whitespace ignored).
///
/// # Panics
/// On odd length or a non-hex digit: it reads test data only.
pub fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len().is_multiple_of(2), "odd-length hex: {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .unwrap_or_else(|| panic!("bad hex: {s:?}"))
        })
        .collect()
}

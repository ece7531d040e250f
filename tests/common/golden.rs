//! Test support: the golden frames produced by the reference's
//! `Request.compile()` (`tests/data/veltix-1.6.3-frames.json`) and hex
//! helpers.
//!
//! Include with `#[path = "common/golden.rs"] mod golden;` (or
//! `"../common/golden.rs"` from `tests/X/main.rs`).
#![allow(dead_code)] // each test crate uses a different part of this module

use std::path::PathBuf;

use serde::Deserialize;
use veltix::{Frame, RequestId};

/// One golden frame, each field broken out.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldenFrame {
    /// Short label of the case.
    pub name: String,
    /// Message type code.
    pub type_code: u16,
    /// The name the reference registry gives the code.
    pub type_name: String,
    /// The 4-byte request id as 8 hex digits.
    pub request_id_hex: String,
    /// Header timestamp.
    pub timestamp_ms: u64,
    /// The payload as hex.
    pub payload_hex: String,
    /// The header's CRC32 as 8 hex digits.
    pub crc32_hex: String,
    /// The whole frame as hex.
    pub frame_hex: String,
}

impl GoldenFrame {
    /// The frame's fields as a [`Frame`].
    pub fn frame(&self) -> Frame {
        Frame {
            type_code: self.type_code,
            request_id: RequestId::from_hex(&self.request_id_hex).expect("request id hex"),
            timestamp_ms: self.timestamp_ms,
            payload: unhex(&self.payload_hex),
        }
    }

    /// The reference's encoding.
    pub fn bytes(&self) -> Vec<u8> {
        unhex(&self.frame_hex)
    }

    /// The header's CRC32.
    pub fn crc(&self) -> u32 {
        u32::from_str_radix(&self.crc32_hex, 16).expect("crc hex")
    }
}

#[derive(Deserialize)]
struct GoldenFile {
    vectors: Vec<GoldenFrame>,
}

/// Path of the golden file.
pub fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/veltix-1.6.3-frames.json")
}

/// All golden frames.
pub fn golden_frames() -> Vec<GoldenFrame> {
    let path = golden_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file: GoldenFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert!(!file.vectors.is_empty(), "{} holds no vectors", path.display());
    file.vectors
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Bytes of a hex string (surrounding whitespace ignored).
///
/// # Panics
/// On odd length or a non-hex digit.
pub fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len() % 2 == 0, "odd-length hex: {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex: {s:?}")))
        .collect()
}

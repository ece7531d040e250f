//! The golden frames produced by the reference's `Request.compile()`
//! (`tests/data/veltix-1.6.3-frames.json`): the one loader of that file.

use std::path::PathBuf;

use serde::Deserialize;
use veltix::{Frame, RequestId};

use super::hex::unhex;

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
    /// The reference's encoding: the bytes of `frame_hex`.
    pub fn frame(&self) -> Vec<u8> {
        unhex(&self.frame_hex)
    }

    /// The payload: the bytes of `payload_hex`.
    pub fn payload(&self) -> Vec<u8> {
        unhex(&self.payload_hex)
    }

    /// The frame's fields as a [`Frame`].
    pub fn to_frame(&self) -> Frame {
        Frame {
            type_code: self.type_code,
            request_id: RequestId::from_hex(&self.request_id_hex).expect("request id hex"),
            timestamp_ms: self.timestamp_ms,
            payload: self.payload(),
        }
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
    super::data_path("veltix-1.6.3-frames.json")
}

/// All golden frames, in the file's order.
pub fn golden_frames() -> Vec<GoldenFrame> {
    let path = golden_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file: GoldenFile = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert!(!file.vectors.is_empty(), "{} holds no vectors", path.display());
    file.vectors
}

/// Every golden frame's bytes, back to back.
pub fn golden_stream() -> Vec<u8> {
    golden_frames().iter().flat_map(GoldenFrame::frame).collect()
}

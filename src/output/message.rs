//! How a received message is shown: one text line (with a hexdump under it
//! for binary payloads) or one NDJSON record. Shared by `serve`,
//! `request` and `connect`.

use std::io::{self, Write};
use std::net::SocketAddr;

use serde::Serialize;
use veltix::{Frame, TypeRegistry};

use super::hexdump::write_hexdump;
use super::json::Payload;
use super::style::{Palette, Role};
use super::time::format_utc_ms;

/// One received message as an NDJSON record.
#[derive(Debug, Serialize)]
pub struct MessageRecord {
    /// Always `"message"`.
    pub event: &'static str,
    /// When it was received, ISO-8601 UTC with milliseconds.
    pub ts: String,
    /// The sender's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The sender's client id (server side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<u64>,
    /// Type code.
    pub type_code: u16,
    /// Type name (`type_N` when it has none).
    pub type_name: String,
    /// Request id, 8 hex digits.
    pub request_id: String,
    /// The sender's timestamp (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Payload size in bytes.
    pub size: usize,
    /// Round-trip time in microseconds, for replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_us: Option<u64>,
    /// The payload: `payload_text` when valid UTF-8, else `payload_hex`.
    #[serde(flatten)]
    pub payload: Payload,
}

impl MessageRecord {
    /// The record of `frame` received now.
    pub fn new(
        frame: &Frame,
        types: &TypeRegistry,
        peer: Option<SocketAddr>,
        client: Option<u64>,
    ) -> Self {
        MessageRecord {
            event: "message",
            ts: format_utc_ms(veltix::frame::now_ms()),
            peer: peer.map(|p| p.to_string()),
            client,
            type_code: frame.type_code,
            type_name: types.label(frame.type_code),
            request_id: frame.request_id.to_string(),
            timestamp_ms: frame.timestamp_ms,
            size: frame.payload.len(),
            rtt_us: None,
            payload: Payload::new(&frame.payload),
        }
    }
}

/// Whether a payload reads as text on a terminal: valid UTF-8 without
/// control characters other than tab and newline.
pub fn is_printable(payload: &[u8]) -> bool {
    std::str::from_utf8(payload)
        .is_ok_and(|s| s.chars().all(|c| !c.is_control() || c == '\t' || c == '\n'))
}

/// Renders one message for people: a line with time, sender, type, id and
/// size, then the text (or a hexdump of at most `max_bytes` for binary).
#[allow(clippy::too_many_arguments)]
pub fn write_message_text<W: Write + ?Sized>(
    w: &mut W,
    frame: &Frame,
    types: &TypeRegistry,
    from: Option<&str>,
    rtt: Option<std::time::Duration>,
    max_bytes: usize,
    palette: Palette,
) -> io::Result<()> {
    let ts = format_utc_ms(veltix::frame::now_ms());
    let time = ts.get(11..23).unwrap_or(&ts);
    let mut line = format!("{} ", palette.paint(Role::Dim, time));
    if let Some(from) = from {
        line.push_str(&format!("{} ", palette.paint(Role::Strong, from)));
    }
    line.push_str(&format!(
        "{}({}) id={} {} B",
        palette.paint(Role::Accent, types.label(frame.type_code)),
        frame.type_code,
        frame.request_id,
        frame.payload.len()
    ));
    if let Some(rtt) = rtt {
        line.push_str(&format!(" rtt={:.3} ms", rtt.as_secs_f64() * 1e3));
    }
    let text = is_printable(&frame.payload);
    if text && !frame.payload.is_empty() {
        let s = String::from_utf8_lossy(&frame.payload);
        line.push_str("  ");
        line.push_str(&s);
    }
    line.push('\n');
    if !text {
        let mut dump = Vec::new();
        write_hexdump(&mut dump, &frame.payload, max_bytes, "    ", palette)?;
        line.push_str(&String::from_utf8_lossy(&dump));
    }
    // One write per message, so lines from several threads never interleave.
    w.write_all(line.as_bytes())
}

//! How a received message looks: a few lines for the REPL, one JSON
//! object for pipe mode.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use veltix::{Frame, TypeRegistry};

use crate::output::hexdump::write_hexdump;
use crate::output::json::Payload;
use crate::output::time::format_utc_ms;
use crate::output::{Palette, Role};

/// Payloads longer than this are cut in the REPL's hexdumps.
const MAX_DUMP: usize = 4096;

/// The payload as text when it is UTF-8 that is safe to print: no control
/// characters but tab and line breaks (an escape sequence from the server
/// must not reach the terminal).
pub(super) fn printable(payload: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(payload).ok()?;
    let safe = text.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    safe.then_some(text)
}

/// `HH:MM:SS.mmm` (UTC) of a time in Unix milliseconds.
pub(super) fn clock(ms: u64) -> String {
    let full = format_utc_ms(ms);
    full.get(11..23).unwrap_or(&full).to_string()
}

/// A duration in milliseconds with 3 decimals, e.g. `0.412`.
pub(super) fn millis(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// A type for people: its name, or its code when it has none.
pub(super) fn type_label(registry: &TypeRegistry, code: u16) -> String {
    registry.name(code).map_or_else(|| code.to_string(), str::to_string)
}

/// A received message for the terminal, without a final newline:
///
/// ```text
/// 09:40:00.123 chat #a3f21c07: Hello Server!
/// 09:40:00.125 300 #0000002a (reply, rtt 0.412 ms): 5 bytes
///   0000 | 00 01 02 03 04 ...
/// ```
///
/// `received_ms` is when it arrived; `note` goes in parentheses after the
/// request id.
pub(super) fn render(
    frame: &Frame,
    registry: &TypeRegistry,
    palette: Palette,
    received_ms: u64,
    note: Option<&str>,
) -> String {
    let mut head = format!(
        "{} {} {}",
        palette.paint(Role::Dim, clock(received_ms)),
        palette.paint(Role::Accent, type_label(registry, frame.type_code)),
        palette.paint(Role::Dim, format!("#{}", frame.request_id)),
    );
    if let Some(note) = note {
        head.push_str(&format!(" ({note})"));
    }
    head.push(':');
    if frame.payload.is_empty() {
        return format!("{head} {}", palette.paint(Role::Dim, "(empty)"));
    }
    if let Some(text) = printable(&frame.payload) {
        return format!("{head} {text}");
    }
    let mut dump = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_hexdump(&mut dump, &frame.payload, MAX_DUMP, "  ", palette);
    let dump = String::from_utf8_lossy(&dump);
    let size = palette.paint(Role::Dim, format!("{} bytes", frame.payload.len()));
    format!("{head} {size}\n{}", dump.trim_end_matches('\n'))
}

/// One received message as a line of pipe mode's `--json` output.
#[derive(Debug, Serialize)]
pub(super) struct Record {
    /// The message type code.
    pub type_code: u16,
    /// Its name, or `type_CODE`.
    pub type_name: String,
    /// The request id, 8 hex digits.
    pub request_id: String,
    /// Payload size in bytes.
    pub size: usize,
    /// `payload_text` (UTF-8) or `payload_hex`.
    #[serde(flatten)]
    pub payload: Payload,
    /// The server's address.
    pub peer: String,
    /// When the message arrived, ISO-8601 UTC.
    pub ts: String,
    /// The sender's time stamp from the frame header, Unix milliseconds.
    pub timestamp_ms: u64,
}

impl Record {
    pub(super) fn new(
        frame: &Frame,
        registry: &TypeRegistry,
        peer: SocketAddr,
        received_ms: u64,
    ) -> Record {
        Record {
            type_code: frame.type_code,
            type_name: registry.label(frame.type_code),
            request_id: frame.request_id.to_string(),
            size: frame.payload.len(),
            payload: Payload::new(&frame.payload),
            peer: peer.to_string(),
            ts: format_utc_ms(received_ms),
            timestamp_ms: frame.timestamp_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use veltix::RequestId;

    fn frame(payload: &[u8]) -> Frame {
        Frame {
            type_code: 200,
            request_id: RequestId::from(0x2a),
            timestamp_ms: 0,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn text_binary_and_empty_payloads() {
        let mut reg = TypeRegistry::new();
        reg.define_str("200=chat").unwrap();
        let p = Palette::new(false);
        let ms = 1_764_150_000_123;
        assert_eq!(
            render(&frame(b"hi there"), &reg, p, ms, None),
            "09:40:00.123 chat #0000002a: hi there"
        );
        assert_eq!(
            render(&frame(b""), &reg, p, ms, Some("reply")),
            "09:40:00.123 chat #0000002a (reply): (empty)"
        );
        let bin = render(&frame(b"\x1b[2Jboom"), &reg, p, ms, None);
        assert!(bin.starts_with("09:40:00.123 chat #0000002a: 8 bytes\n  0000 | 1b 5b"), "{bin}");
    }

    #[test]
    fn records_carry_every_field() {
        let reg = TypeRegistry::new();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let v = serde_json::to_value(Record::new(&frame(b"\xff"), &reg, peer, 0)).unwrap();
        assert_eq!(v["type_name"], "type_200");
        assert_eq!(v["request_id"], "0000002a");
        assert_eq!(v["payload_hex"], "ff");
        assert_eq!(v["size"], 1);
        assert_eq!(v["ts"], "1970-01-01T00:00:00.000Z");
        assert_eq!(millis(Duration::from_micros(412)), "0.412");
    }
}

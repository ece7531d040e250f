//! Reading frames out of what people hand an inspector: raw bytes, hex
//! text, or a pcap/pcapng capture of the TCP traffic.
//!
//! These are the input parsers behind `veltix decode`. They live in the
//! library so that they can be tested and fuzzed on their own; they only
//! turn input into bytes (or into TCP streams put back in order), and
//! leave the framing to [`Decoder`](crate::Decoder).
//!
//! | module | what lives there |
//! |---|---|
//! | [`hex`] | hex text (plain, spaced, `xxd`, `hexdump -C`) to bytes, line by line |
//! | `pcap` | pcap/pcapng captures to TCP segments, and their reassembly per direction (feature `pcap`, on by default) |
//!
//! ```
//! use veltix::inspect::{detect, Format};
//!
//! assert_eq!(detect(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00"), Format::Capture);
//! assert_eq!(detect(b"00000000: 00c8 0000"), Format::Hex);
//! assert_eq!(detect(b"\x00\xc8\x00\x00\x00\x0d"), Format::Raw);
//! ```

pub mod hex;
#[cfg(feature = "pcap")]
pub mod pcap;

/// The magic numbers a capture starts with.
const MAGICS: [[u8; 4]; 5] = [
    [0xa1, 0xb2, 0xc3, 0xd4], // pcap, microseconds
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d], // pcap, nanoseconds
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0x0a, 0x0d, 0x0d, 0x0a], // pcapng section header
];

/// Whether `head` starts with a pcap or pcapng magic number.
pub fn is_capture(head: &[u8]) -> bool {
    head.get(..4).is_some_and(|h| MAGICS.iter().any(|m| h == m))
}

/// The kinds of input an inspector tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raw frame bytes, as sent on the wire.
    Raw,
    /// Hex text: plain, spaced, `xxd` or `hexdump -C` (see [`hex`]).
    Hex,
    /// A pcap or pcapng capture (see [`pcap`]).
    Capture,
}

/// Guesses the format of an input from its first bytes.
///
/// A capture starts with a pcap or pcapng magic number. Hex text is all
/// printable ASCII or whitespace; a frame header never is, because its
/// timestamp always holds zero bytes. So the first
/// [`HEADER_LEN`](crate::HEADER_LEN) bytes are enough to decide.
pub fn detect(head: &[u8]) -> Format {
    if is_capture(head) {
        Format::Capture
    } else if !head.is_empty()
        && head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        Format::Hex
    } else {
        Format::Raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Frame, RequestId};

    #[test]
    fn a_frame_is_never_taken_for_text() {
        // Even one whose other fields are all printable.
        let frame = Frame {
            type_code: 0x4142,
            request_id: RequestId(*b"abcd"),
            timestamp_ms: 1_764_150_000_123,
            payload: b"Hello".to_vec(),
        };
        assert_eq!(detect(&frame.encode().unwrap()), Format::Raw);
        assert_eq!(detect(b""), Format::Raw);
        assert_eq!(detect(b"\x0a\x0d\x0d\x0a"), Format::Capture);
    }
}

//! One Veltix frame: the 22-byte header and its payload.
//!
//! ```text
//! offset size field
//!      0    2 type code      u16 big-endian
//!      2    4 payload size   u32 big-endian
//!      6    4 CRC32          zlib crc32 of the payload, big-endian
//!     10    8 timestamp      u64 ms since the Unix epoch, big-endian
//!     18    4 request id     4 opaque bytes
//!     22    n payload
//! ```

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ProtocolError;

/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 22;

/// Default `max_message_size`: 10 MiB, header included (as in 1.6.3).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// The 4 opaque bytes that correlate a reply with its request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct RequestId(pub [u8; 4]);

impl RequestId {
    /// The id as a big-endian integer.
    pub fn as_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
    /// A random id (std's randomly seeded hasher over the time and a
    /// counter: unpredictable enough for ids, no extra dependency).
    pub fn random() -> RequestId {
        RequestId::from(crate::sync::random_u32())
    }

    /// Parses 8 hex digits (an optional `0x` prefix is allowed).
    pub fn from_hex(s: &str) -> Option<RequestId> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if s.len() != 8 {
            return None;
        }
        u32::from_str_radix(s, 16).ok().map(RequestId::from)
    }
}

impl From<u32> for RequestId {
    fn from(v: u32) -> Self {
        RequestId(v.to_be_bytes())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.as_u32())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({self})")
    }
}

/// The decoded fixed header of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message type code.
    pub type_code: u16,
    /// Declared payload size in bytes.
    pub size: u32,
    /// CRC32 stated by the sender.
    pub crc: u32,
    /// Sender's wall clock, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Correlation id.
    pub request_id: RequestId,
}

impl Header {
    /// Reads a header from exactly [`HEADER_LEN`] bytes.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            type_code: u16::from_be_bytes([b[0], b[1]]),
            size: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
            crc: u32::from_be_bytes([b[6], b[7], b[8], b[9]]),
            timestamp_ms: u64::from_be_bytes([
                b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17],
            ]),
            request_id: RequestId([b[18], b[19], b[20], b[21]]),
        }
    }

    /// Reads a header from the start of `b`, if it holds one.
    pub fn peek(b: &[u8]) -> Option<Header> {
        b.get(..HEADER_LEN).and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok()).map(Header::parse)
    }

    /// Writes the header's 22 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&self.type_code.to_be_bytes());
        out[2..6].copy_from_slice(&self.size.to_be_bytes());
        out[6..10].copy_from_slice(&self.crc.to_be_bytes());
        out[10..18].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        out[18..22].copy_from_slice(&self.request_id.0);
        out
    }

    /// Total frame size (header + payload) this header declares.
    pub fn frame_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.size)
    }

    /// The header of a frame carrying `payload`: size and CRC computed here.
    /// The one place a header is built from a payload.
    pub fn for_payload(
        type_code: u16,
        request_id: RequestId,
        timestamp_ms: u64,
        payload: &[u8],
    ) -> Result<Header, ProtocolError> {
        Ok(Header {
            type_code,
            size: payload_size(payload)?,
            crc: crc32(payload),
            timestamp_ms,
            request_id,
        })
    }

    /// Checks that `payload` hashes to the stated CRC. The one place a
    /// received CRC is compared.
    pub fn verify(&self, payload: &[u8]) -> Result<(), ProtocolError> {
        super::crc::check(self.crc, payload)
            .map_err(|computed| ProtocolError::CrcMismatch { stated: self.crc, computed })
    }

    /// Checks the declared size against a limit on the whole frame.
    pub fn check_size(&self, max_message_size: usize) -> Result<(), ProtocolError> {
        if self.frame_len() > max_message_size as u64 {
            return Err(ProtocolError::FrameTooLarge {
                size: self.frame_len(),
                payload: self.size,
                max_size: max_message_size as u64,
            });
        }
        Ok(())
    }
}

pub use super::crc::crc32;

/// Milliseconds since the Unix epoch by the wall clock.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The wall clock in milliseconds from the kernel's coarse clock: a few
/// nanoseconds to read where the precise clock costs a hundred or more
/// (on virtual machines), at the resolution of a scheduler tick (1–4 ms).
/// For frames sent in bulk ([`Pipeline`](crate::Pipeline)).
#[cfg(target_os = "linux")]
pub fn coarse_now_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a valid out pointer.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if r != 0 || ts.tv_sec < 0 {
        return now_ms();
    }
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// The wall clock in milliseconds (no coarse clock on this system).
#[cfg(not(target_os = "linux"))]
pub fn coarse_now_ms() -> u64 {
    now_ms()
}

/// A whole message: type, correlation id, timestamp and payload.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// Message type code (0..=65535; names are only labels).
    pub type_code: u16,
    /// Correlation id; a reply echoes its request's id.
    pub request_id: RequestId,
    /// Sender's wall clock in ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("type_code", &self.type_code)
            .field("request_id", &self.request_id)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

impl Frame {
    /// A frame stamped with the current time.
    pub fn new(type_code: u16, request_id: RequestId, payload: impl Into<Vec<u8>>) -> Frame {
        Frame { type_code, request_id, timestamp_ms: now_ms(), payload: payload.into() }
    }

    /// The header this frame encodes with (size and CRC computed).
    pub fn header(&self) -> Result<Header, ProtocolError> {
        Header::for_payload(self.type_code, self.request_id, self.timestamp_ms, &self.payload)
    }

    /// Length of the encoded frame in bytes.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Appends the encoded frame to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        encode_into(self.type_code, self.request_id, self.timestamp_ms, &self.payload, out)
    }

    /// Encodes the frame into a new buffer.
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Parses exactly one whole frame from `bytes` (no trailing bytes
    /// allowed), checking size limit and CRC.
    pub fn decode(bytes: &[u8], max_message_size: usize) -> Result<Frame, ProtocolError> {
        let header = Header::peek(bytes).ok_or(ProtocolError::Truncated {
            needed: HEADER_LEN as u64,
            available: bytes.len() as u64,
        })?;
        header.check_size(max_message_size)?;
        if bytes.len() as u64 != header.frame_len() {
            return Err(ProtocolError::Truncated {
                needed: header.frame_len(),
                available: bytes.len() as u64,
            });
        }
        Frame::from_parts(header, bytes[HEADER_LEN..].to_vec())
    }

    /// Builds a frame from a header and its payload, verifying the CRC.
    pub fn from_parts(header: Header, payload: Vec<u8>) -> Result<Frame, ProtocolError> {
        header.verify(&payload)?;
        Ok(Frame {
            type_code: header.type_code,
            request_id: header.request_id,
            timestamp_ms: header.timestamp_ms,
            payload,
        })
    }
}

fn payload_size(payload: &[u8]) -> Result<u32, ProtocolError> {
    u32::try_from(payload.len()).map_err(|_| ProtocolError::PayloadTooLarge(payload.len() as u64))
}

/// Appends one encoded frame built from its parts to `out`, without
/// building a [`Frame`] first (the allocation-free send path).
pub fn encode_into(
    type_code: u16,
    request_id: RequestId,
    timestamp_ms: u64,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
    let header = Header::for_payload(type_code, request_id, timestamp_ms, payload)?;
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_clock_is_the_wall_clock_within_a_tick() {
        let before = now_ms();
        let coarse = coarse_now_ms();
        let after = now_ms();
        // Behind by at most a scheduler tick (10 ms even at HZ=100), never ahead.
        assert!(coarse <= after, "coarse {coarse} ahead of {after}");
        assert!(before.saturating_sub(coarse) <= 10, "coarse {coarse} vs {before}");
    }

    #[test]
    fn empty_payload_has_crc_zero() {
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn header_round_trips() {
        let h = Header {
            type_code: 0xabcd,
            size: 7,
            crc: 0x01020304,
            timestamp_ms: 0x0102030405060708,
            request_id: RequestId([9, 10, 11, 12]),
        };
        assert_eq!(Header::parse(&h.to_bytes()), h);
    }

    #[test]
    fn decode_rejects_trailing_bytes_and_short_input() {
        let f = Frame::new(200, RequestId::from(1), b"hi".to_vec());
        let mut bytes = f.encode().unwrap();
        assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE).unwrap(), f);
        bytes.push(0);
        assert!(matches!(
            Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE),
            Err(ProtocolError::Truncated { .. })
        ));
        assert!(matches!(
            Frame::decode(&bytes[..10], DEFAULT_MAX_MESSAGE_SIZE),
            Err(ProtocolError::Truncated { needed: 22, available: 10 })
        ));
    }

    #[test]
    fn request_id_hex() {
        assert_eq!(RequestId::from_hex("a3f21c07"), Some(RequestId([0xa3, 0xf2, 0x1c, 0x07])));
        assert_eq!(
            RequestId::from_hex("0xdeadbeef").map(|r| r.to_string()),
            Some("deadbeef".into())
        );
        assert_eq!(RequestId::from_hex("123"), None);
    }
}

//! The "VX" wire profile of veltix 2.0.3 to 3.3.x (PyPI): the 15-byte
//! frame header and the JSON handshake, as a pure codec (no sockets).
//!
//! ```text
//! offset size field
//!      0    2 magic          b"VX"
//!      2    1 flags          reserved: 3.3.0 always sends 0
//!      3    2 type code      u16 big-endian
//!      5    4 payload size   u32 big-endian
//!      9    4 CRC32          zlib crc32 of the payload, big-endian
//!     13    2 request id     u16 big-endian
//!     15    n payload
//! ```
//!
//! Before any frame, each side sends length-prefixed JSON objects (u16
//! big-endian length, then that many bytes of UTF-8 JSON, at most 30 KiB):
//! the server `{"v", "pv", "meta"}`, the client `{"v", "pv", "meta"}`, the
//! server `{"result": "ok"}`; a full server sends `{"error": "server_full"}`
//! instead of its hello. Peers are compatible when the majors of their
//! `pv` (`MAJOR.MINOR`) are equal. docs/wire-vx.md has the details, where
//! this codec is stricter than 3.3.0, and why.

use std::fmt;
use std::ops::{Range, RangeInclusive};

use serde_json::{Map, Value};

/// The two bytes every frame starts with.
pub const MAGIC: [u8; 2] = *b"VX";

/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 15;

/// 3.3.0's default `max_message_size`: 10 MiB, header included.
pub const DEFAULT_MAX_FRAME: usize = 10 * 1024 * 1024;

/// PING: empty payload; the peer answers PONG with the same request id.
pub const PING: u16 = 0;

/// PONG: the answer to a PING, empty payload, the PING's request id.
pub const PONG: u16 = 1;

/// Codes reserved for system messages (3.3.0 defines only PING and PONG).
pub const SYSTEM_CODES: RangeInclusive<u16> = 0..=199;

/// Codes for application messages (3.3.0 auto-allocates from these).
pub const USER_CODES: RangeInclusive<u16> = 200..=9999;

/// Codes 3.3.0 calls plugin/extension messages.
pub const PLUGIN_CODES: RangeInclusive<u16> = 10000..=65535;

/// Request ids a 3.x client allocates by itself (the lower half).
pub const CLIENT_REQUEST_IDS: Range<u16> = 0..32768;

/// Request ids a 3.x server allocates by itself (the upper half).
pub const SERVER_REQUEST_IDS: RangeInclusive<u16> = 32768..=65535;

/// Largest handshake message body 3.x accepts, in bytes.
pub const HANDSHAKE_MAX_LEN: usize = 30 * 1024;

/// The protocol version 2.0.3 to 3.3.x announce as `pv`.
pub const PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion { major: 1, minor: 0 };

/// What can be wrong with VX bytes, or with what we were asked to encode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VxError {
    /// Fewer than [`HEADER_LEN`] bytes were given to [`VxHeader::parse`].
    #[error("truncated VX header: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes a header needs.
        needed: usize,
        /// Bytes that were there.
        available: usize,
    },
    /// The frame does not start with `VX` (holds the one or two bytes seen).
    #[error("bad magic: expected 5658 (\"VX\"), found {}", hex(found))]
    BadMagic {
        /// The bytes found where the magic should be.
        found: Vec<u8>,
    },
    /// The reserved flags byte is not 0.
    #[error("reserved flags byte is {0:#04x}, must be 0")]
    Flags(u8),
    /// The header declares a frame larger than the limit.
    #[error("frame of {size} bytes (15-byte header + payload) exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// Total frame size declared by the header, header included.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A payload too large for the 32-bit size field.
    #[error("payload of {0} bytes does not fit the 32-bit size field")]
    PayloadTooLarge(u64),
    /// The payload's CRC32 does not match the header's.
    #[error("CRC mismatch: header states {stated:08x}, payload hashes to {computed:08x}")]
    CrcMismatch {
        /// CRC32 carried in the header.
        stated: u32,
        /// CRC32 computed over the payload.
        computed: u32,
    },
    /// A handshake message longer than [`HANDSHAKE_MAX_LEN`].
    #[error("handshake message of {len} bytes exceeds the limit of {max}")]
    HandshakeTooLong {
        /// The length (announced by a peer, or of what we were to send).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A handshake message of length 0.
    #[error("empty handshake message")]
    HandshakeEmpty,
    /// A handshake message that is not UTF-8.
    #[error("handshake message is not valid UTF-8")]
    HandshakeUtf8,
    /// A handshake message that is not JSON.
    #[error("handshake message is not valid JSON: {0}")]
    HandshakeJson(String),
    /// A handshake message that is JSON but not an object.
    #[error("handshake message is a JSON {0}, not an object")]
    HandshakeNotObject(&'static str),
    /// A hello without `pv`.
    #[error("the peer's hello has no protocol version (pv)")]
    MissingPv,
    /// A hello whose `pv` is not a string.
    #[error("the peer's protocol version (pv) is a JSON {0}, not a string")]
    PvNotString(&'static str),
    /// A `pv` that is not `MAJOR.MINOR` in ASCII digits.
    #[error("the peer's protocol version {0:?} is not MAJOR.MINOR")]
    BadPv(String),
    /// The peer's protocol major differs from ours.
    #[error("protocol version mismatch: we speak {ours}, the peer announced {theirs}")]
    PvMismatch {
        /// Our protocol version.
        ours: ProtocolVersion,
        /// The peer's.
        theirs: ProtocolVersion,
    },
    /// The server answered `{"error": reason}` (3.3.0: `server_full`).
    #[error("the server refused the connection: {0}")]
    Rejected(String),
    /// The server's last handshake message is not `{"result": "ok"}`.
    #[error("expected the handshake acknowledgement {{\"result\": \"ok\"}}, got {0}")]
    BadAck(String),
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------
// Frames

/// The fields of a 15-byte VX header (the magic is implied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VxHeader {
    /// Reserved flags byte (0).
    pub flags: u8,
    /// Message type code.
    pub type_code: u16,
    /// Payload size in bytes.
    pub size: u32,
    /// CRC32 (zlib) of the payload.
    pub crc: u32,
    /// Request id: correlates a reply with its request.
    pub request_id: u16,
}

impl VxHeader {
    /// The header of a frame carrying `payload` (flags 0).
    pub fn for_payload(type_code: u16, request_id: u16, payload: &[u8]) -> Result<Self, VxError> {
        Ok(VxHeader {
            flags: 0,
            type_code,
            size: size_field(payload.len())?,
            crc: super::crc::crc32(payload),
            request_id,
        })
    }

    /// The 15 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = self.flags;
        out[3..5].copy_from_slice(&self.type_code.to_be_bytes());
        out[5..9].copy_from_slice(&self.size.to_be_bytes());
        out[9..13].copy_from_slice(&self.crc.to_be_bytes());
        out[13..15].copy_from_slice(&self.request_id.to_be_bytes());
        out
    }

    /// Parses the header at the start of `bytes` (further bytes are
    /// ignored): the magic must be `VX`, the flags 0, and the whole frame
    /// (header included) at most `max_frame` bytes.
    pub fn parse(bytes: &[u8], max_frame: usize) -> Result<Self, VxError> {
        check_magic(bytes)?;
        let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(VxError::Truncated { needed: HEADER_LEN, available: bytes.len() });
        };
        let header = VxHeader {
            flags: h[2],
            type_code: u16::from_be_bytes([h[3], h[4]]),
            size: u32::from_be_bytes([h[5], h[6], h[7], h[8]]),
            crc: u32::from_be_bytes([h[9], h[10], h[11], h[12]]),
            request_id: u16::from_be_bytes([h[13], h[14]]),
        };
        if header.flags != 0 {
            return Err(VxError::Flags(header.flags));
        }
        let max = u64::try_from(max_frame).unwrap_or(u64::MAX);
        if header.frame_len() > max {
            return Err(VxError::FrameTooLarge { size: header.frame_len(), max });
        }
        Ok(header)
    }

    /// Length of the whole frame, header included.
    pub fn frame_len(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.size)
    }

    /// Checks `payload` against the header's CRC32.
    pub fn check_crc(&self, payload: &[u8]) -> Result<(), VxError> {
        super::crc::check(self.crc, payload)
            .map_err(|computed| VxError::CrcMismatch { stated: self.crc, computed })
    }
}

/// A payload length as the header's u32 size field.
fn size_field(len: usize) -> Result<u32, VxError> {
    u32::try_from(len).map_err(|_| VxError::PayloadTooLarge(len as u64))
}

/// Fails unless `bytes` starts with as much of `VX` as it holds (so junk is
/// caught from its first byte, not after 15 bytes as in 3.3.0).
fn check_magic(bytes: &[u8]) -> Result<(), VxError> {
    let seen = &bytes[..bytes.len().min(MAGIC.len())];
    if MAGIC.starts_with(seen) {
        Ok(())
    } else {
        Err(VxError::BadMagic { found: seen.to_vec() })
    }
}

/// One whole frame: header and payload.
pub fn encode_frame(type_code: u16, request_id: u16, payload: &[u8]) -> Result<Vec<u8>, VxError> {
    let header = VxHeader::for_payload(type_code, request_id, payload)?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// What [`split_frame`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split<'a> {
    /// No whole frame yet: at least this many more bytes are needed.
    NeedMore(usize),
    /// A whole, valid frame, `len` bytes long (header included).
    Frame {
        /// The parsed header.
        header: VxHeader,
        /// The payload, checked against the header's CRC32.
        payload: &'a [u8],
        /// Bytes the frame occupies at the start of the buffer.
        len: usize,
    },
}

/// Takes the frame at the start of `buf` (a stream's unread bytes).
///
/// Errors are found as early as possible: bad magic from the first byte,
/// bad flags and oversize as soon as the header is in. On
/// [`VxError::CrcMismatch`] the header was sound, so a reader that wants to
/// go on can skip exactly [`VxHeader::frame_len`] bytes and stay in sync;
/// after any other error the stream has no trustworthy frame boundary.
pub fn split_frame(buf: &[u8], max_frame: usize) -> Result<Split<'_>, VxError> {
    check_magic(buf)?;
    if buf.len() < HEADER_LEN {
        return Ok(Split::NeedMore(HEADER_LEN - buf.len()));
    }
    let header = VxHeader::parse(buf, max_frame)?;
    // frame_len() <= max_frame, a usize: the conversion cannot fail.
    let len = usize::try_from(header.frame_len()).unwrap_or(usize::MAX);
    let Some(payload) = buf.get(HEADER_LEN..len) else {
        return Ok(Split::NeedMore(len - buf.len()));
    };
    header.check_crc(payload)?;
    Ok(Split::Frame { header, payload, len })
}

/// Index of the first `VX` in `buf` at or after `from`.
pub fn find_magic(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.windows(MAGIC.len()).position(|w| w == MAGIC).map(|i| i + from)
}

/// How many bytes a resynchronising reader (an inspector such as `veltix
/// decode`, never a live connection) drops from the front of `buf` after a
/// bad frame there: up to the next `VX` after offset 0, else all but a
/// final `V` (the first half of a magic whose second half has not arrived:
/// 3.3.0 drops it and so loses that frame), else everything.
pub fn resync_offset(buf: &[u8]) -> usize {
    match find_magic(buf, 1) {
        Some(i) => i,
        None if buf.len() > 1 && buf.last() == Some(&MAGIC[0]) => buf.len() - 1,
        None => buf.len(),
    }
}

// ---------------------------------------------------------------------------
// Handshake

/// A `MAJOR.MINOR` protocol version (`pv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion {
    /// Peers are compatible when their majors are equal.
    pub major: u32,
    /// Informational only.
    pub minor: u32,
}

impl ProtocolVersion {
    /// Parses `MAJOR.MINOR`: two runs of ASCII digits around one dot.
    /// Stricter than 3.3.0, which runs each part through Python's `int()`
    /// and so also takes `" 1.0"`, `"+1.0"`, `"1.-1"`, `"1.0_0"` and
    /// non-ASCII digits.
    pub fn parse(s: &str) -> Option<ProtocolVersion> {
        let (major, minor) = s.split_once('.')?;
        Some(ProtocolVersion { major: digits(major)?, minor: digits(minor)? })
    }

    /// The compatibility rule: equal majors.
    pub fn compatible_with(self, other: ProtocolVersion) -> bool {
        self.major == other.major
    }
}

/// A non-empty run of ASCII digits as a u32.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Which handshake message a side waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A client's first read: the server's hello, or `{"error": ...}`.
    ServerHello,
    /// A server's only read: the client's hello.
    ClientHello,
    /// A client's last read: `{"result": "ok"}`.
    Ack,
}

/// A validated hello.
#[derive(Debug, Clone, PartialEq)]
pub struct Hello {
    /// The peer's package version (`v`), when it is a string; 3.3.0 never
    /// checks it.
    pub version: Option<String>,
    /// The peer's protocol version (`pv`), compatible with ours.
    pub pv: ProtocolVersion,
    /// The peer's `meta` object (empty when absent or not an object).
    pub meta: Map<String, Value>,
}

/// A validated handshake message.
#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeMsg {
    /// A server's or client's hello.
    Hello(Hello),
    /// The server's `{"result": "ok"}`.
    Ok,
}

/// What [`read_handshake`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeRead {
    /// Not a whole message yet: at least this many more bytes are needed.
    NeedMore(usize),
    /// A whole, valid message, `len` bytes long (length prefix included).
    Message {
        /// The message.
        msg: HandshakeMsg,
        /// Bytes it occupies at the start of the buffer.
        len: usize,
    },
}

/// Reads and validates the handshake message at the start of `buf`, the
/// `expect`ed one, against our protocol version `ours`.
///
/// An announced length over [`HANDSHAKE_MAX_LEN`] is refused before its
/// body arrives. A hello's `pv` must be a `MAJOR.MINOR` string whose major
/// equals ours; `v` and `meta` are not checked (as in 3.3.0). While
/// waiting for the server's hello, an `{"error": reason}` object is
/// [`VxError::Rejected`] (3.3.0 raises ServerFullError for any reason).
pub fn read_handshake(
    buf: &[u8],
    expect: Expect,
    ours: ProtocolVersion,
) -> Result<HandshakeRead, VxError> {
    let Some((len, rest)) = buf.split_first_chunk::<2>() else {
        return Ok(HandshakeRead::NeedMore(2 - buf.len()));
    };
    let body_len = usize::from(u16::from_be_bytes(*len));
    if body_len > HANDSHAKE_MAX_LEN {
        return Err(VxError::HandshakeTooLong { len: body_len, max: HANDSHAKE_MAX_LEN });
    }
    if body_len == 0 {
        return Err(VxError::HandshakeEmpty);
    }
    let Some(body) = rest.get(..body_len) else {
        return Ok(HandshakeRead::NeedMore(body_len - rest.len()));
    };
    let text = std::str::from_utf8(body).map_err(|_| VxError::HandshakeUtf8)?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| VxError::HandshakeJson(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(VxError::HandshakeNotObject(kind(&value)));
    };
    let msg = match expect {
        Expect::ServerHello => {
            if let Some(reason) = object.get("error") {
                return Err(VxError::Rejected(reason_text(reason)));
            }
            HandshakeMsg::Hello(check_hello(object, ours)?)
        }
        Expect::ClientHello => HandshakeMsg::Hello(check_hello(object, ours)?),
        Expect::Ack => match (object.get("result"), object.get("error")) {
            (Some(Value::String(r)), _) if r == "ok" => HandshakeMsg::Ok,
            (_, Some(reason)) => return Err(VxError::Rejected(reason_text(reason))),
            _ => return Err(VxError::BadAck(to_json(&Value::Object(object)))),
        },
    };
    Ok(HandshakeRead::Message { msg, len: 2 + body_len })
}

fn check_hello(mut object: Map<String, Value>, ours: ProtocolVersion) -> Result<Hello, VxError> {
    let pv = match object.get("pv") {
        None => return Err(VxError::MissingPv),
        Some(Value::String(s)) => {
            ProtocolVersion::parse(s).ok_or_else(|| VxError::BadPv(s.clone()))?
        }
        Some(other) => return Err(VxError::PvNotString(kind(other))),
    };
    if !ours.compatible_with(pv) {
        return Err(VxError::PvMismatch { ours, theirs: pv });
    }
    let version = match object.remove("v") {
        Some(Value::String(v)) => Some(v),
        _ => None,
    };
    let meta = match object.remove("meta") {
        Some(Value::Object(meta)) => meta,
        _ => Map::new(),
    };
    Ok(Hello { version, pv, meta })
}

/// The text of an `error` value: a string as is, anything else as JSON.
fn reason_text(reason: &Value) -> String {
    match reason {
        Value::String(s) => s.clone(),
        other => to_json(other),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The server's hello: `{"v": version, "pv": pv, "meta": {}}`, framed.
pub fn server_hello(version: &str, pv: ProtocolVersion) -> Result<Vec<u8>, VxError> {
    client_hello(version, pv, &Map::new())
}

/// The client's hello: `{"v": version, "pv": pv, "meta": meta}`, framed
/// (3.3.0 always sends an empty `meta`).
pub fn client_hello(
    version: &str,
    pv: ProtocolVersion,
    meta: &Map<String, Value>,
) -> Result<Vec<u8>, VxError> {
    let mut body = String::from("{\"v\": ");
    write_str(&mut body, version);
    body.push_str(", \"pv\": ");
    write_str(&mut body, &pv.to_string());
    body.push_str(", \"meta\": ");
    write_object(&mut body, meta);
    body.push('}');
    framed(body)
}

/// The server's acknowledgement `{"result": "ok"}`, framed.
pub fn result_ok() -> Vec<u8> {
    let body = b"{\"result\": \"ok\"}";
    let mut out = Vec::with_capacity(2 + body.len());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A server's refusal `{"error": reason}`, framed (3.3.0 sends it, with
/// `server_full`, instead of its hello, then closes).
pub fn error_answer(reason: &str) -> Result<Vec<u8>, VxError> {
    let mut body = String::from("{\"error\": ");
    write_str(&mut body, reason);
    body.push('}');
    framed(body)
}

/// `body` behind its u16 length.
fn framed(body: String) -> Result<Vec<u8>, VxError> {
    let len = body.len();
    let prefix = u16::try_from(len)
        .ok()
        .filter(|&l| usize::from(l) <= HANDSHAKE_MAX_LEN)
        .ok_or(VxError::HandshakeTooLong { len, max: HANDSHAKE_MAX_LEN })?;
    let mut out = Vec::with_capacity(2 + len);
    out.extend_from_slice(&prefix.to_be_bytes());
    out.extend_from_slice(body.as_bytes());
    Ok(out)
}

/// JSON text as Python's `json.dumps(..., ensure_ascii=False)` writes it:
/// `", "` and `": "` separators, non-ASCII characters as they are.
fn to_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    out.push('{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_str(out, key);
        out.push_str(": ");
        write_value(out, value);
    }
    out.push('}');
}

/// A JSON string literal, escaped as Python's json module does.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written by tests/py/make_vx_vectors.py from the real veltix 3.3.0.
    const GOLDEN: &str = include_str!("../../../tests/data/veltix-3.3.0-vx-frames.json");

    fn golden() -> Value {
        serde_json::from_str(GOLDEN).expect("the golden file is JSON")
    }

    fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
        v[key].as_array().unwrap_or_else(|| panic!("{key} is a list"))
    }

    fn text<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_else(|| panic!("{key} is a string in {v}"))
    }

    fn int(v: &Value, key: &str) -> u64 {
        v[key].as_u64().unwrap_or_else(|| panic!("{key} is an integer in {v}"))
    }

    fn unhex(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2), "odd-length hex {s:?}");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// The golden file's long payloads: byte i is i % 251.
    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    fn name(v: &Value) -> &str {
        text(v, "name")
    }

    // -- frames ------------------------------------------------------------

    #[test]
    fn the_issue_example_is_what_3_3_0_compiles() {
        let frame = encode_frame(200, 0x1234, b"hello").unwrap();
        assert_eq!(hex(&frame), "56580000c8000000053610a686123468656c6c6f");
    }

    #[test]
    fn golden_frames_encode_and_parse_byte_for_byte() {
        let g = golden();
        let vectors = list(&g, "vectors");
        assert!(vectors.len() >= 15);
        for v in vectors {
            let payload = match v["payload_hex"].as_str() {
                Some(h) => unhex(h),
                None => pattern(int(v, "payload_len") as usize),
            };
            assert_eq!(payload.len() as u64, int(v, "payload_len"), "{}", name(v));
            let type_code = int(v, "type_code") as u16;
            let request_id = int(v, "request_id") as u16;
            let header = VxHeader::for_payload(type_code, request_id, &payload).unwrap();
            assert_eq!(hex(&header.to_bytes()), text(v, "header_hex"), "{}", name(v));
            assert_eq!(format!("{:08x}", header.crc), text(v, "crc32_hex"), "{}", name(v));
            assert_eq!(format!("{request_id:04x}"), text(v, "request_id_hex"), "{}", name(v));
            assert_eq!(u64::from(header.flags), int(v, "flags"));

            let frame = encode_frame(type_code, request_id, &payload).unwrap();
            if let Some(expected) = v["frame_hex"].as_str() {
                assert_eq!(hex(&frame), expected, "{}", name(v));
            }
            assert_eq!(VxHeader::parse(&frame, DEFAULT_MAX_FRAME), Ok(header), "{}", name(v));
            assert_eq!(
                split_frame(&frame, DEFAULT_MAX_FRAME),
                Ok(Split::Frame { header, payload: &payload, len: frame.len() }),
                "{}",
                name(v)
            );
        }
    }

    #[test]
    fn golden_sizes_and_ids_are_covered() {
        let g = golden();
        let vectors = list(&g, "vectors");
        for len in [0, 1, 5, 255, 256, 65535, 65536, 1 << 20] {
            assert!(vectors.iter().any(|v| int(v, "payload_len") == len), "payload of {len}");
        }
        for id in [0, 1, 0x1234, 32767, 32768, 65535] {
            assert!(vectors.iter().any(|v| int(v, "request_id") == id), "request id {id}");
        }
        for code in [PING, PONG, 150, 200, 9999, 10000, 65535] {
            assert!(vectors.iter().any(|v| int(v, "type_code") == u64::from(code)), "{code}");
        }
    }

    /// Our verdict on one frame given alone: accepted, or why not.
    fn one_frame(bytes: &[u8], max: usize) -> Result<(VxHeader, Vec<u8>), String> {
        match split_frame(bytes, max) {
            Ok(Split::Frame { header, payload, len }) if len == bytes.len() => {
                Ok((header, payload.to_vec()))
            }
            Ok(Split::Frame { len, .. }) => {
                Err(format!("{} bytes after the frame", bytes.len() - len))
            }
            Ok(Split::NeedMore(n)) => Err(format!("{n} more bytes needed")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn parse_cases_agree_with_3_3_0_except_flags_and_types() {
        let g = golden();
        for case in list(&g, "parse_cases") {
            let bytes = unhex(text(case, "frame_hex"));
            let max = int(case, "max_message_size") as usize;
            let ours = one_frame(&bytes, max);
            let theirs = case["accepted"].as_bool().expect("accepted");
            match name(case) {
                // 3.3.0 ignores the reserved byte; a set flag would change
                // what the payload means, so we refuse it.
                "flags_0x01" | "flags_0xff" => {
                    assert!(theirs);
                    let flags = bytes[2];
                    assert_eq!(ours, Err(VxError::Flags(flags).to_string()));
                }
                // Which codes an application knows is not the codec's
                // business: the frame itself is sound.
                "unregistered_type_5555" => {
                    assert!(!theirs);
                    let (header, payload) = ours.expect("a sound frame");
                    assert_eq!((header.type_code, payload.as_slice()), (5555, &b"zz"[..]));
                }
                other => {
                    assert_eq!(ours.is_ok(), theirs, "{other}: ours {ours:?}");
                    if let Ok((header, payload)) = ours {
                        assert_eq!(u64::from(header.type_code), int(case, "type_code"));
                        assert_eq!(u64::from(header.request_id), int(case, "request_id"));
                        assert_eq!(hex(&payload), text(case, "payload_hex"));
                    }
                }
            }
        }
    }

    #[test]
    fn frame_errors_are_the_right_ones() {
        let good = encode_frame(200, 0x1234, b"hello").unwrap();
        let mut bad_crc = good.clone();
        bad_crc[9] ^= 1;
        assert_eq!(
            split_frame(&bad_crc, DEFAULT_MAX_FRAME),
            Err(VxError::CrcMismatch { stated: 0x3710a686, computed: 0x3610a686 })
        );
        assert_eq!(
            VxHeader::parse(b"WX", DEFAULT_MAX_FRAME),
            Err(VxError::BadMagic { found: b"WX".to_vec() })
        );
        // Junk is refused from its first byte; a lone V may be a magic.
        assert_eq!(split_frame(b"Q", 100), Err(VxError::BadMagic { found: b"Q".to_vec() }));
        assert_eq!(split_frame(b"V", 100), Ok(Split::NeedMore(14)));
        assert_eq!(split_frame(b"VY", 100), Err(VxError::BadMagic { found: b"VY".to_vec() }));
        assert_eq!(split_frame(b"", 100), Ok(Split::NeedMore(15)));
        assert_eq!(
            VxHeader::parse(&good[..14], DEFAULT_MAX_FRAME),
            Err(VxError::Truncated { needed: 15, available: 14 })
        );
        let mut flagged = good.clone();
        flagged[2] = 0x80;
        assert_eq!(split_frame(&flagged, DEFAULT_MAX_FRAME), Err(VxError::Flags(0x80)));
        // The limit counts the header; the frame is refused from its header.
        assert!(split_frame(&good, good.len()).is_ok());
        assert_eq!(
            split_frame(&good[..15], good.len() - 1),
            Err(VxError::FrameTooLarge { size: 20, max: 19 })
        );
        assert_eq!(split_frame(&good[..16], DEFAULT_MAX_FRAME), Ok(Split::NeedMore(4)));
        let huge = VxHeader { flags: 0, type_code: 200, size: u32::MAX, crc: 0, request_id: 0 };
        assert_eq!(
            VxHeader::parse(&huge.to_bytes(), usize::MAX),
            Ok(huge),
            "a 4 GiB frame is only refused by the limit"
        );
        assert_eq!(
            VxHeader::parse(&huge.to_bytes(), DEFAULT_MAX_FRAME),
            Err(VxError::FrameTooLarge { size: 15 + u64::from(u32::MAX), max: 10 << 20 })
        );
    }

    #[test]
    fn payloads_over_4_gib_do_not_fit_the_size_field() {
        assert_eq!(size_field(u32::MAX as usize), Ok(u32::MAX));
        if let Some(over) = (u32::MAX as usize).checked_add(1) {
            assert_eq!(size_field(over), Err(VxError::PayloadTooLarge(1 << 32)));
        }
    }

    #[test]
    fn frames_are_taken_one_by_one_from_a_stream() {
        let a = encode_frame(200, 1, b"first").unwrap();
        let b = encode_frame(PING, 2, b"").unwrap();
        let stream = [a.clone(), b.clone(), b"VX".to_vec()].concat();
        let Ok(Split::Frame { len, payload, .. }) = split_frame(&stream, 100) else {
            panic!("first frame")
        };
        assert_eq!((len, payload), (a.len(), &b"first"[..]));
        let rest = &stream[len..];
        let Ok(Split::Frame { len, header, .. }) = split_frame(rest, 100) else {
            panic!("second frame")
        };
        assert_eq!((len, header.type_code, header.request_id), (b.len(), PING, 2));
        assert_eq!(split_frame(&rest[len..], 100), Ok(Split::NeedMore(13)));
    }

    type Frames = Vec<(u16, Vec<u8>)>;

    /// Feeds `chunks` to a reader; after an error, `recover` gets the
    /// unread bytes and says how many to drop, or `None` to stop reading.
    fn read_stream(
        chunks: &[Vec<u8>],
        max: usize,
        mut recover: impl FnMut(&[u8], &VxError) -> Option<usize>,
    ) -> (Frames, Vec<VxError>) {
        let (mut buf, mut frames, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match split_frame(&buf, max) {
                    Ok(Split::Frame { header, payload, len }) => {
                        frames.push((header.request_id, payload.to_vec()));
                        buf.drain(..len);
                    }
                    Ok(Split::NeedMore(_)) => break,
                    Err(e) => {
                        let cut = recover(&buf, &e);
                        errors.push(e);
                        match cut {
                            Some(cut) => drop(buf.drain(..cut)),
                            None => return (frames, errors),
                        }
                    }
                }
            }
        }
        (frames, errors)
    }

    /// A live-connection reader by our rules: frames until the first error;
    /// a CRC mismatch skips that frame whole (the header was sound).
    fn drain(chunks: &[Vec<u8>], max: usize) -> (Frames, Vec<VxError>) {
        read_stream(chunks, max, |buf, e| match e {
            VxError::CrcMismatch { .. } => {
                Some(VxHeader::parse(buf, max).expect("sound header").frame_len() as usize)
            }
            _ => None,
        })
    }

    /// An inspector's reader: after a bad frame, resynchronise on the magic.
    fn drain_resync(chunks: &[Vec<u8>], max: usize) -> Frames {
        read_stream(chunks, max, |buf, _| Some(resync_offset(buf))).0
    }

    #[test]
    fn golden_streams_by_our_rules() {
        let g = golden();
        for case in list(&g, "streams") {
            let chunks: Vec<Vec<u8>> =
                list(case, "chunks_hex").iter().map(|c| unhex(c.as_str().expect("hex"))).collect();
            let max = int(case, "max_message_size") as usize;
            let theirs: Vec<(u16, Vec<u8>)> = list(case, "delivered")
                .iter()
                .map(|m| (int(m, "request_id") as u16, unhex(text(m, "payload_hex"))))
                .collect();
            let (ours, errors) = drain(&chunks, max);
            let first_error = errors.first().map(std::mem::discriminant);
            let is = |e: VxError| first_error == Some(std::mem::discriminant(&e));
            match name(case) {
                "two_frames_one_chunk" | "byte_by_byte" => {
                    assert_eq!((ours, errors), (theirs, vec![]), "{}", name(case));
                }
                // A bad CRC skips that frame whole, as 3.3.0 does here...
                "bad_crc_then_frame" => {
                    assert_eq!(ours, theirs);
                    assert!(is(VxError::CrcMismatch { stated: 0, computed: 0 }));
                }
                // ...but never looks for frames inside its payload, where
                // 3.3.0 finds and delivers the one smuggled there.
                "bad_crc_payload_holds_a_frame" => {
                    assert_eq!(theirs.len(), 1);
                    assert_eq!(ours, vec![]);
                    assert!(is(VxError::CrcMismatch { stated: 0, computed: 0 }));
                }
                // No resynchronisation on a live stream: the first bad byte ends it.
                "junk_then_frame" | "short_junk_waits" | "magic_split_after_junk" => {
                    assert_eq!(ours, vec![]);
                    assert!(is(VxError::BadMagic { found: vec![] }));
                }
                "oversize_then_frame" | "oversize_header_alone" => {
                    assert_eq!(ours, vec![]);
                    assert!(is(VxError::FrameTooLarge { size: 0, max: 0 }));
                }
                "unregistered_type_then_frame" => {
                    assert_eq!(theirs.len(), 1, "3.3.0 drops the unknown type");
                    assert_eq!(ours.len(), 2, "we deliver it");
                    assert_eq!(ours[1], theirs[0]);
                }
                "flags_set_delivered" => {
                    assert_eq!(theirs.len(), 1);
                    assert_eq!((ours, errors), (vec![], vec![VxError::Flags(0x80)]));
                }
                other => panic!("golden stream {other} has no expectation here"),
            }
        }
    }

    #[test]
    fn resynchronising_keeps_a_magic_split_across_reads() {
        let g = golden();
        let case = list(&g, "streams")
            .iter()
            .find(|c| name(c) == "magic_split_after_junk")
            .expect("the case");
        let chunks: Vec<Vec<u8>> =
            list(case, "chunks_hex").iter().map(|c| unhex(c.as_str().expect("hex"))).collect();
        // 3.3.0 drops the trailing V with the junk and so loses the frame.
        assert_eq!(list(case, "delivered").len(), 0);
        assert_eq!(drain_resync(&chunks, DEFAULT_MAX_FRAME), vec![(1, b"first".to_vec())]);
    }

    #[test]
    fn resync_offsets() {
        assert_eq!(find_magic(b"abVXcdVX", 0), Some(2));
        assert_eq!(find_magic(b"abVXcdVX", 3), Some(6));
        assert_eq!(find_magic(b"VX", 1), None);
        assert_eq!(find_magic(b"VX", 9), None);
        assert_eq!(resync_offset(b"VXjunkVX.."), 6, "the next magic after offset 0");
        assert_eq!(resync_offset(b"junk"), 4, "nothing worth keeping");
        assert_eq!(resync_offset(b"junkV"), 4, "a final V may start a magic");
        assert_eq!(resync_offset(b"V"), 1, "a lone V at offset 0 is what failed");
        assert_eq!(resync_offset(b""), 0);
    }

    // -- handshake -----------------------------------------------------------

    fn message_bytes(g: &Value, which: &str) -> Vec<u8> {
        let m = list(&g["handshake"], "messages")
            .iter()
            .find(|m| name(m) == which)
            .unwrap_or_else(|| panic!("no {which} message"));
        let bytes = unhex(text(m, "bytes_hex"));
        assert_eq!(&bytes[2..], text(m, "json").as_bytes());
        bytes
    }

    #[test]
    fn handshake_messages_are_3_3_0s_bytes() {
        let g = golden();
        let v = text(&g["handshake"], "package_version");
        assert_eq!(int(&g["handshake"], "max_len") as usize, HANDSHAKE_MAX_LEN);
        assert_eq!(server_hello(v, PROTOCOL_VERSION).unwrap(), message_bytes(&g, "server_hello"));
        assert_eq!(
            client_hello(v, PROTOCOL_VERSION, &Map::new()).unwrap(),
            message_bytes(&g, "client_hello")
        );
        assert_eq!(result_ok(), message_bytes(&g, "result_ok"));
        assert_eq!(error_answer("server_full").unwrap(), message_bytes(&g, "error_server_full"));
    }

    #[test]
    fn handshake_messages_read_back() {
        let g = golden();
        let hello = Hello { version: Some("3.3.0".into()), pv: PROTOCOL_VERSION, meta: Map::new() };
        for (which, expect) in
            [("server_hello", Expect::ServerHello), ("client_hello", Expect::ClientHello)]
        {
            let bytes = message_bytes(&g, which);
            assert_eq!(
                read_handshake(&bytes, expect, PROTOCOL_VERSION),
                Ok(HandshakeRead::Message {
                    msg: HandshakeMsg::Hello(hello.clone()),
                    len: bytes.len()
                })
            );
        }
        let ok = message_bytes(&g, "result_ok");
        assert_eq!(
            read_handshake(&ok, Expect::Ack, PROTOCOL_VERSION),
            Ok(HandshakeRead::Message { msg: HandshakeMsg::Ok, len: ok.len() })
        );
        let full = message_bytes(&g, "error_server_full");
        assert_eq!(
            read_handshake(&full, Expect::ServerHello, PROTOCOL_VERSION),
            Err(VxError::Rejected("server_full".into()))
        );
    }

    /// Verdicts where we knowingly differ from 3.3.0, which accepts them
    /// all (Python's json.loads on bytes and int() are lenient).
    const STRICTER_THAN_3_3_0: &[&str] = &[
        "pv_leading_space",
        "pv_plus_sign",
        "pv_negative_minor",
        "pv_underscore_digits",
        "pv_arabic_indic_digits",
        "utf8_bom",
        "utf16_with_bom",
        "nan_value",
        "lone_surrogate_escape",
    ];

    /// Our verdict on a peer's handshake bytes, read as `role` does, with
    /// the end of the bytes as end of stream: Ok, or why not.
    fn our_verdict(role: &str, input: &[u8]) -> Result<(), VxError> {
        let eof = |n| Err(VxError::HandshakeJson(format!("end of stream, {n} more bytes needed")));
        let steps: &[Expect] = match role {
            "server" => &[Expect::ClientHello],
            "client" => &[Expect::ServerHello, Expect::Ack],
            other => panic!("role {other}"),
        };
        let mut at = 0;
        for &expect in steps {
            match read_handshake(&input[at..], expect, PROTOCOL_VERSION)? {
                HandshakeRead::NeedMore(n) => return eof(n),
                HandshakeRead::Message { len, .. } => at += len,
            }
        }
        Ok(())
    }

    #[test]
    fn handshake_verdicts_agree_with_3_3_0_where_we_mean_to() {
        let g = golden();
        let verdicts = list(&g["handshake"], "verdicts");
        assert!(verdicts.len() > 50);
        let mut deviations = Vec::new();
        for v in verdicts {
            let mut input = unhex(text(v, "input_hex"));
            input.resize(input.len() + int(v, "trailing_spaces") as usize, b' ');
            let ours = our_verdict(text(v, "role"), &input);
            let theirs = v["reference_accepts"].as_bool().expect("reference_accepts");
            if STRICTER_THAN_3_3_0.contains(&name(v)) {
                assert!(theirs && ours.is_err(), "{}: ours {ours:?}", name(v));
                deviations.push(name(v));
                continue;
            }
            assert_eq!(ours.is_ok(), theirs, "{}: ours {ours:?}", name(v));
            if let Some(reason) = v["reference_error"].as_str() {
                assert_eq!(ours, Err(VxError::Rejected(reason.into())), "{}", name(v));
            }
        }
        assert_eq!(deviations.len(), STRICTER_THAN_3_3_0.len(), "every deviation is in the file");
    }

    fn read(body: &[u8], expect: Expect) -> Result<HandshakeRead, VxError> {
        let framed = [&(body.len() as u16).to_be_bytes()[..], body].concat();
        read_handshake(&framed, expect, PROTOCOL_VERSION)
    }

    #[test]
    fn handshake_errors_are_the_right_ones() {
        use Expect::*;
        // The length is refused before the body arrives.
        assert_eq!(
            read_handshake(&[0x78, 0x01], ClientHello, PROTOCOL_VERSION),
            Err(VxError::HandshakeTooLong { len: 30721, max: 30720 })
        );
        assert_eq!(
            read_handshake(&[0x78, 0x00], ClientHello, PROTOCOL_VERSION),
            Ok(HandshakeRead::NeedMore(30720))
        );
        assert_eq!(read(b"", ClientHello), Err(VxError::HandshakeEmpty));
        assert_eq!(read(b"{\"pv\": \"1.0\xff\"}", ClientHello), Err(VxError::HandshakeUtf8));
        assert!(matches!(read(b"{\"pv\": ", ClientHello), Err(VxError::HandshakeJson(_))));
        assert!(matches!(
            read(b"{\"pv\": \"1.0\"} x", ClientHello),
            Err(VxError::HandshakeJson(_))
        ));
        assert_eq!(read(b"[\"1.0\"]", ClientHello), Err(VxError::HandshakeNotObject("array")));
        assert_eq!(read(b"null", ServerHello), Err(VxError::HandshakeNotObject("null")));
        assert_eq!(read(b"\"ok\"", Ack), Err(VxError::HandshakeNotObject("string")));
        assert_eq!(read(b"{}", ClientHello), Err(VxError::MissingPv));
        assert_eq!(read(b"{\"v\": \"3.3.0\"}", ServerHello), Err(VxError::MissingPv));
        assert_eq!(read(b"{\"pv\": 1.0}", ClientHello), Err(VxError::PvNotString("number")));
        assert_eq!(read(b"{\"pv\": null}", ClientHello), Err(VxError::PvNotString("null")));
        assert_eq!(read(b"{\"pv\": \"\"}", ClientHello), Err(VxError::BadPv(String::new())));
        assert_eq!(read(b"{\"pv\": \"1.0.0\"}", ClientHello), Err(VxError::BadPv("1.0.0".into())));
        assert_eq!(
            read(b"{\"pv\": \"2.0\"}", ServerHello),
            Err(VxError::PvMismatch {
                ours: PROTOCOL_VERSION,
                theirs: ProtocolVersion { major: 2, minor: 0 }
            })
        );
        assert_eq!(
            read(b"{\"error\": \"server_full\"}", ServerHello),
            Err(VxError::Rejected("server_full".into()))
        );
        assert_eq!(read(b"{\"error\": 5}", ServerHello), Err(VxError::Rejected("5".into())));
        assert_eq!(read(b"{\"error\": \"x\"}", Ack), Err(VxError::Rejected("x".into())));
        assert_eq!(
            read(b"{\"result\": \"no\", \"n\": [1,  2]}", Ack),
            Err(VxError::BadAck("{\"n\": [1, 2], \"result\": \"no\"}".into()))
        );
        // A client's hello is never taken for a refusal (3.3.0 servers
        // ignore an error key there), and a server hello is not an ack.
        assert!(read(b"{\"error\": \"x\", \"pv\": \"1.2\"}", ClientHello).is_ok());
        assert!(matches!(read(b"{\"pv\": \"1.0\"}", Ack), Err(VxError::BadAck(_))));
    }

    #[test]
    fn a_handshake_message_is_read_incrementally() {
        let bytes =
            [client_hello("x", PROTOCOL_VERSION, &Map::new()).unwrap(), b"VX".to_vec()].concat();
        let whole = bytes.len() - 2;
        for cut in 0..whole {
            let want = if cut < 2 { 2 - cut } else { whole - cut };
            assert_eq!(
                read_handshake(&bytes[..cut], Expect::ClientHello, PROTOCOL_VERSION),
                Ok(HandshakeRead::NeedMore(want)),
                "after {cut} bytes"
            );
        }
        let Ok(HandshakeRead::Message { msg: HandshakeMsg::Hello(hello), len }) =
            read_handshake(&bytes, Expect::ClientHello, PROTOCOL_VERSION)
        else {
            panic!("a hello")
        };
        assert_eq!((len, hello.version.as_deref()), (whole, Some("x")));
    }

    #[test]
    fn hello_fields_beyond_pv_are_taken_as_they_come() {
        let Ok(HandshakeRead::Message { msg: HandshakeMsg::Hello(hello), .. }) = read(
            b"{\"v\": 5, \"pv\": \"1.9\", \"meta\": {\"motd\": \"hi\"}, \"x\": 1}",
            Expect::ServerHello,
        ) else {
            panic!("a hello")
        };
        assert_eq!(hello.version, None);
        assert_eq!(hello.pv, ProtocolVersion { major: 1, minor: 9 });
        assert_eq!(hello.meta.get("motd"), Some(&Value::from("hi")));
        let Ok(HandshakeRead::Message { msg: HandshakeMsg::Hello(hello), .. }) =
            read(b"{\"pv\": \"1.0\", \"meta\": [1]}", Expect::ClientHello)
        else {
            panic!("a hello")
        };
        assert!(hello.meta.is_empty());
    }

    #[test]
    fn protocol_versions() {
        assert_eq!(ProtocolVersion::parse("1.0"), Some(PROTOCOL_VERSION));
        assert_eq!(ProtocolVersion::parse("01.007"), Some(ProtocolVersion { major: 1, minor: 7 }));
        for bad in
            ["", "1", "1.", ".0", "1.0.0", " 1.0", "+1.0", "1.-1", "1.0_0", "١.٠", "99999999999.0"]
        {
            assert_eq!(ProtocolVersion::parse(bad), None, "{bad:?}");
        }
        assert!(PROTOCOL_VERSION.compatible_with(ProtocolVersion { major: 1, minor: 99 }));
        assert!(!PROTOCOL_VERSION.compatible_with(ProtocolVersion { major: 0, minor: 0 }));
        assert_eq!(ProtocolVersion { major: 2, minor: 13 }.to_string(), "2.13");
    }

    #[test]
    fn hello_json_is_written_as_python_writes_it() {
        // Expected text from Python 3.11's json.dumps(..., ensure_ascii=False)
        // (keys of meta sorted, as serde_json's map keeps them).
        let meta: Map<String, Value> = serde_json::from_str(
            r#"{"z": [1, 2.5, null, true], "a": {"b": "c"}, "s": "q\"b\\c\n\t\u0001\u007f é ✓ \u2028"}"#,
        )
        .unwrap();
        let bytes = client_hello("3.3.0", PROTOCOL_VERSION, &meta).unwrap();
        let expected = "{\"v\": \"3.3.0\", \"pv\": \"1.0\", \"meta\": {\"a\": {\"b\": \"c\"}, \
                        \"s\": \"q\\\"b\\\\c\\n\\t\\u0001\u{7f} é ✓ \u{2028}\", \
                        \"z\": [1, 2.5, null, true]}}";
        assert_eq!(std::str::from_utf8(&bytes[2..]).unwrap(), expected);
        assert_eq!(usize::from(u16::from_be_bytes([bytes[0], bytes[1]])), expected.len());
        let backspace = error_answer("\u{8}\u{c}\r").unwrap();
        assert_eq!(&backspace[2..], b"{\"error\": \"\\b\\f\\r\"}");
    }

    #[test]
    fn oversized_messages_are_not_built() {
        let long = "v".repeat(HANDSHAKE_MAX_LEN);
        assert!(matches!(
            server_hello(&long, PROTOCOL_VERSION),
            Err(VxError::HandshakeTooLong { max: HANDSHAKE_MAX_LEN, .. })
        ));
        let fits = "r".repeat(HANDSHAKE_MAX_LEN - "{\"error\": \"\"}".len());
        assert_eq!(error_answer(&fits).map(|b| b.len()), Ok(2 + HANDSHAKE_MAX_LEN));
        assert!(error_answer(&format!("{fits}r")).is_err());
    }
}

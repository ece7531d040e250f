//! The codec: bytes to frames and back, with nothing of connections.
//!
//! | module | what lives there |
//! |---|---|
//! | [`frame`] | the 22-byte header, [`Frame`](frame::Frame), the one header builder ([`Header::for_payload`](frame::Header::for_payload)) and [`Header::verify`](frame::Header::verify) |
//! | `crc` | CRC32 and the one comparison with a stated CRC, for both profiles |
//! | [`decoder`] | incremental decoding of a byte stream into frames, in either wire profile |
//! | [`vx`] | the VX profile of veltix 2.0.3–3.3.x: its 15-byte header and JSON handshake messages |
//!
//! Both profiles share one frame model ([`Frame`](frame::Frame): type,
//! request id, payload; a VX frame has no timestamp and a 16-bit id) and
//! one decoder. This layer imports only errors and `sync`.

mod crc;
pub mod decoder;
pub mod frame;
pub mod vx;

use crate::error::ProtocolError;
use frame::{now_ms, Header, RequestId, HEADER_LEN};

/// The wire profile a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Wire {
    /// veltix 1.6.3: 22-byte headers with a timestamp and a 4-byte request
    /// id; HELLO / HELLO_ACK frames for the handshake.
    #[default]
    V1_6,
    /// veltix 2.0.3 to 3.3.x: 15-byte headers starting with `VX`, a 16-bit
    /// request id; a JSON handshake before any frame.
    Vx,
}

impl Wire {
    /// The header's length in bytes.
    pub fn header_len(self) -> usize {
        match self {
            Wire::V1_6 => HEADER_LEN,
            Wire::Vx => vx::HEADER_LEN,
        }
    }

    /// The class of a type code in this profile.
    pub fn class(self, code: u16) -> Class {
        let plugins = match self {
            Wire::V1_6 => 500,
            Wire::Vx => 10_000,
        };
        match code {
            0..=199 => Class::System,
            c if c < plugins => Class::Application,
            _ => Class::Plugin,
        }
    }

    /// The short name people use: `1.6` or `vx`.
    pub fn name(self) -> &'static str {
        match self {
            Wire::V1_6 => "1.6",
            Wire::Vx => "vx",
        }
    }
}

/// What kind of message a type code is, by the profile's ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Protocol messages (0–199 in both profiles).
    System,
    /// Application messages (1.6.3: 200–499; VX: 200–9999).
    Application,
    /// Plugin and extension messages (1.6.3: 500 and up; VX: 10000 and up).
    Plugin,
}

impl Class {
    /// Every class, in the order of [`Class::index`].
    pub const ALL: [Class; 3] = [Class::System, Class::Application, Class::Plugin];

    /// 0, 1 or 2: for arrays of counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// `system`, `application` or `plugin`.
    pub fn name(self) -> &'static str {
        match self {
            Class::System => "system",
            Class::Application => "application",
            Class::Plugin => "plugin",
        }
    }
}

impl std::fmt::Display for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A frame's header bytes, as long as the profile's header.
#[derive(Debug, Clone, Copy)]
pub struct HeaderBytes {
    buf: [u8; HEADER_LEN],
    len: usize,
}

impl HeaderBytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The header of a frame carrying `payload` in profile `wire`, stamped
/// with the current time (1.6.3; VX has no timestamp). A VX request id
/// must fit 16 bits.
pub fn encode_header(
    wire: Wire,
    type_code: u16,
    id: RequestId,
    payload: &[u8],
) -> Result<HeaderBytes, ProtocolError> {
    let ts = match wire {
        Wire::V1_6 => now_ms(),
        Wire::Vx => 0,
    };
    encode_header_at(wire, type_code, id, ts, payload)
}

/// [`encode_header`] with the timestamp given (milliseconds since the
/// epoch; only 1.6.3 frames carry one).
pub fn encode_header_at(
    wire: Wire,
    type_code: u16,
    id: RequestId,
    timestamp_ms: u64,
    payload: &[u8],
) -> Result<HeaderBytes, ProtocolError> {
    let mut buf = [0u8; HEADER_LEN];
    match wire {
        Wire::V1_6 => {
            buf = Header::for_payload(type_code, id, timestamp_ms, payload)?.to_bytes();
            Ok(HeaderBytes { buf, len: HEADER_LEN })
        }
        Wire::Vx => {
            let short = u16::try_from(id.as_u32())
                .map_err(|_| ProtocolError::RequestIdTooLarge(id.as_u32()))?;
            let h = vx::VxHeader::for_payload(type_code, short, payload)
                .map_err(|_| ProtocolError::PayloadTooLarge(payload.len() as u64))?;
            buf[..vx::HEADER_LEN].copy_from_slice(&h.to_bytes());
            Ok(HeaderBytes { buf, len: vx::HEADER_LEN })
        }
    }
}

/// Appends one encoded frame in profile `wire` to `out`.
pub fn encode_frame_into(
    wire: Wire,
    type_code: u16,
    id: RequestId,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
    let header = encode_header(wire, type_code, id, payload)?;
    out.reserve(header.len + payload.len());
    out.extend_from_slice(header.as_slice());
    out.extend_from_slice(payload);
    Ok(())
}

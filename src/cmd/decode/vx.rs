//! Reading a VX stream (veltix 2.0.3 to 3.3.x) for `veltix decode`: the
//! JSON handshake messages, then frames, with resynchronisation on the
//! next `VX` magic after damage, so the rest of a capture is still shown.
//!
//! Unlike a live connection (which ends at the first bad frame, see
//! docs/wire-vx.md), an inspector skips damage: a frame with a bad CRC is
//! shown and skipped by its size field (its header is sound); junk, a
//! frame with reserved flags set or an oversize header is reported with
//! the number of bytes skipped to the next magic.

use serde_json::Value;
use veltix::inspect::pcap::Direction;
use veltix::vx::{self, Split, VxError, VxHeader};

/// What a handshake message is, by its content and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    /// A hello sent by the server (a capture's server-to-client side).
    ServerHello,
    /// A hello sent by the client.
    ClientHello,
    /// A hello whose sender is unknown (not a capture).
    Hello,
    /// `{"result": "ok"}`: the server accepted the client.
    ResultOk,
    /// A `result` other than `"ok"` (a 3.x client fails on it).
    Result,
    /// `{"error": ...}`: the server refused the connection.
    Error,
}

impl HandshakeKind {
    /// The `handshake` field of the JSON output.
    pub fn key(self) -> &'static str {
        match self {
            HandshakeKind::ServerHello => "server_hello",
            HandshakeKind::ClientHello => "client_hello",
            HandshakeKind::Hello => "hello",
            HandshakeKind::ResultOk => "result_ok",
            HandshakeKind::Result => "result",
            HandshakeKind::Error => "error",
        }
    }

    /// The words of the listing.
    pub fn label(self) -> &'static str {
        match self {
            HandshakeKind::ServerHello => "server hello",
            HandshakeKind::ClientHello => "client hello",
            HandshakeKind::Hello => "hello",
            HandshakeKind::ResultOk => "result ok",
            HandshakeKind::Result => "result (not ok)",
            HandshakeKind::Error => "error",
        }
    }

    fn of(object: &serde_json::Map<String, Value>, dir: Option<Direction>) -> HandshakeKind {
        if object.contains_key("error") {
            HandshakeKind::Error
        } else if let Some(result) = object.get("result") {
            if result.as_str() == Some("ok") {
                HandshakeKind::ResultOk
            } else {
                HandshakeKind::Result
            }
        } else {
            match dir {
                Some(Direction::ToClient) => HandshakeKind::ServerHello,
                Some(Direction::ToServer) => HandshakeKind::ClientHello,
                None => HandshakeKind::Hello,
            }
        }
    }
}

/// What is wrong with some bytes of a VX stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bytes that do not start with the magic.
    BadMagic,
    /// A header with the reserved flags byte set.
    BadFlags,
    /// A header declaring more than `--max-message-size`.
    TooLarge,
    /// A handshake message that is not a length-prefixed JSON object.
    BadHandshake,
    /// The input ends inside a frame.
    TruncatedFrame,
    /// The input ends inside a handshake message.
    TruncatedHandshake,
}

/// One thing found in a VX stream.
#[derive(Debug)]
pub enum Event {
    /// A handshake message, valid JSON object.
    Handshake {
        offset: u64,
        kind: HandshakeKind,
        /// The body's length (the u16 prefix).
        length: usize,
        /// The JSON text as sent.
        text: String,
        /// Why a hello fails the handshake check of `veltix::vx` (docs/wire-vx.md
        /// compares it with 3.3.0's), if it does.
        hello_error: Option<String>,
    },
    /// A frame whose header is sound; its CRC may not match.
    Frame { offset: u64, header: VxHeader, payload: Vec<u8>, computed_crc: u32 },
    /// Damage, with the bytes skipped over it when resynchronising.
    Problem { offset: u64, fault: Fault, message: String, skipped: Option<u64> },
}

/// A resynchronisation under way: bytes are dropped up to the next magic.
struct Skip {
    /// Where the damage starts.
    start: u64,
    fault: Fault,
    reason: String,
}

/// One VX byte stream (an input, or one direction of a TCP connection).
pub struct Reader {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    max_frame: usize,
    dir: Option<Direction>,
    /// Still before the first frame: length-prefixed JSON may come.
    handshake: bool,
    skip: Option<Skip>,
}

impl Reader {
    pub fn new(max_frame: usize, dir: Option<Direction>) -> Reader {
        Reader { buf: Vec::new(), offset: 0, max_frame, dir, handshake: true, skip: None }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.offset += n as u64;
    }

    /// Starts resynchronising after damage at the start of the buffer:
    /// the search for the next magic begins at its second byte.
    fn start_skip(&mut self, fault: Fault, reason: String) {
        self.skip = Some(Skip { start: self.offset, fault, reason });
        self.consume(self.buf.len().min(1));
    }

    /// The next event, or None when more input is needed (`at_end`: the
    /// input has ended, so whatever is left is reported).
    pub fn next(&mut self, at_end: bool) -> Option<Event> {
        if let Some(event) = self.resync(at_end) {
            return Some(event);
        }
        if self.skip.is_some() || self.buf.is_empty() {
            return None;
        }
        if self.handshake {
            if self.buf.starts_with(&vx::MAGIC) {
                self.handshake = false;
            } else if self.buf == vx::MAGIC[..1] && !at_end {
                return None; // a magic, or a length of 0x56xx: wait
            } else {
                return self.handshake_message(at_end);
            }
        }
        self.frame(at_end)
    }

    /// Drops bytes up to the next magic while resynchronising; reports
    /// the damage once the magic (or the end of input) is reached.
    fn resync(&mut self, at_end: bool) -> Option<Event> {
        self.skip.as_ref()?;
        let found = vx::find_magic(&self.buf, 0);
        let keep = match found {
            Some(i) => i,
            None if at_end => self.buf.len(),
            // A final V may be the first half of the next magic.
            None => self.buf.len() - usize::from(self.buf.last() == Some(&vx::MAGIC[0])),
        };
        self.consume(keep);
        if found.is_none() && !at_end {
            return None;
        }
        let skip = self.skip.take()?;
        let skipped = self.offset - skip.start;
        let tail = match found {
            Some(_) => format!(
                "skipped {skipped} {} to the next VX magic at offset {}",
                bytes(skipped),
                self.offset
            ),
            None => format!("skipped {skipped} {}: no VX magic follows", bytes(skipped)),
        };
        let event = Event::Problem {
            offset: skip.start,
            fault: skip.fault,
            message: format!("{}; {tail}", skip.reason),
            skipped: Some(skipped),
        };
        // Frames follow a magic; handshake messages never follow frames.
        self.handshake = false;
        Some(event)
    }

    fn handshake_message(&mut self, at_end: bool) -> Option<Event> {
        let offset = self.offset;
        let Some(&[hi, lo]) = self.buf.first_chunk::<2>() else {
            return at_end.then(|| self.truncated_handshake(None));
        };
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if length == 0 || length > vx::HANDSHAKE_MAX_LEN {
            let why = if length == 0 {
                VxError::HandshakeEmpty
            } else {
                VxError::HandshakeTooLong { len: length, max: vx::HANDSHAKE_MAX_LEN }
            };
            self.start_skip(Fault::BadHandshake, format!("bad handshake message: {why}"));
            return self.next(at_end);
        }
        if self.buf.len() < 2 + length {
            return at_end.then(|| self.truncated_handshake(Some(length)));
        }
        let whole = self.buf[..2 + length].to_vec();
        // The length was sound: skip exactly this message either way.
        self.consume(2 + length);
        // The codec's reader judges the JSON first, then a hello's fields.
        let verdict =
            vx::read_handshake(&whole, vx::Expect::ClientHello, vx::PROTOCOL_VERSION).err();
        let not_an_object = matches!(
            verdict,
            Some(
                VxError::HandshakeUtf8 | VxError::HandshakeJson(_) | VxError::HandshakeNotObject(_)
            )
        );
        let object = if not_an_object {
            Err(verdict.clone())
        } else {
            serde_json::from_slice::<serde_json::Map<String, Value>>(&whole[2..])
                .map_err(|e| Some(VxError::HandshakeJson(e.to_string())))
        };
        Some(match object {
            Ok(object) => {
                let kind = HandshakeKind::of(&object, self.dir);
                let hello = matches!(
                    kind,
                    HandshakeKind::ServerHello | HandshakeKind::ClientHello | HandshakeKind::Hello
                );
                Event::Handshake {
                    offset,
                    kind,
                    length,
                    text: String::from_utf8_lossy(&whole[2..]).into_owned(),
                    hello_error: verdict.filter(|_| hello).map(|e| e.to_string()),
                }
            }
            Err(e) => Event::Problem {
                offset,
                fault: Fault::BadHandshake,
                message: format!(
                    "bad handshake message ({length} bytes): {}",
                    e.map_or_else(|| "not a JSON object".to_string(), |e| e.to_string())
                ),
                skipped: None,
            },
        })
    }

    fn truncated_handshake(&mut self, length: Option<usize>) -> Event {
        let have = self.buf.len();
        let message = match length {
            Some(l) => format!(
                "incomplete handshake message: the input ends after {have} of its {} bytes (2-byte length + {l} of JSON)",
                l + 2
            ),
            None => format!(
                "incomplete handshake message: the input ends after {have} of the 2 length bytes"
            ),
        };
        let offset = self.offset;
        self.consume(have);
        Event::Problem { offset, fault: Fault::TruncatedHandshake, message, skipped: None }
    }

    fn frame(&mut self, at_end: bool) -> Option<Event> {
        if self.buf.len() < vx::MAGIC.len() && !at_end {
            // Judge the magic on both bytes, however the input is cut.
            return None;
        }
        let offset = self.offset;
        match vx::split_frame(&self.buf, self.max_frame) {
            Ok(Split::Frame { header, payload, len }) => {
                let event = Event::Frame {
                    offset,
                    header,
                    payload: payload.to_vec(),
                    computed_crc: header.crc,
                };
                self.consume(len);
                Some(event)
            }
            Ok(Split::NeedMore(_)) => at_end.then(|| self.truncated_frame()),
            Err(VxError::CrcMismatch { computed, .. }) => {
                // The header was sound: show the frame, go on after it.
                let header = VxHeader::parse(&self.buf, self.max_frame).ok()?;
                let len = usize::try_from(header.frame_len()).ok()?;
                let payload = self.buf.get(vx::HEADER_LEN..len)?.to_vec();
                self.consume(len);
                Some(Event::Frame { offset, header, payload, computed_crc: computed })
            }
            Err(e) => {
                let fault = match e {
                    VxError::Flags(_) => Fault::BadFlags,
                    VxError::FrameTooLarge { .. } => Fault::TooLarge,
                    _ => Fault::BadMagic,
                };
                self.start_skip(fault, e.to_string());
                self.next(at_end)
            }
        }
    }

    fn truncated_frame(&mut self) -> Event {
        let have = self.buf.len();
        let message = match VxHeader::parse(&self.buf, usize::MAX) {
            Ok(h) => format!(
                "incomplete frame: the input ends after {have} of its {} bytes ({}-byte header + {} payload)",
                h.frame_len(),
                vx::HEADER_LEN,
                h.size
            ),
            Err(_) => format!(
                "incomplete frame: the input ends after {have} of the {} header bytes",
                vx::HEADER_LEN
            ),
        };
        let offset = self.offset;
        self.consume(have);
        Event::Problem { offset, fault: Fault::TruncatedFrame, message, skipped: None }
    }
}

fn bytes(n: u64) -> &'static str {
    if n == 1 {
        "byte"
    } else {
        "bytes"
    }
}

/// Whether the first bytes of a stream look like the VX profile: the
/// magic, or a length prefix followed by the `{` of a JSON object. None
/// while too few bytes have arrived to tell (`at_end`: no more will).
pub fn looks_vx(head: &[u8], at_end: bool) -> Option<bool> {
    if head.starts_with(&vx::MAGIC) {
        return Some(true);
    }
    match head.get(2) {
        Some(&b) => Some(b == b'{'),
        None if at_end => Some(false),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<Event> {
        let mut r = Reader::new(vx::DEFAULT_MAX_FRAME, None);
        let mut out = Vec::new();
        for c in chunks {
            r.push(c);
            while let Some(e) = r.next(false) {
                out.push(e);
            }
        }
        while let Some(e) = r.next(true) {
            out.push(e);
        }
        out
    }

    fn frame(id: u16, payload: &[u8]) -> Vec<u8> {
        vx::encode_frame(200, id, payload).unwrap()
    }

    #[test]
    fn junk_split_across_chunks_is_one_problem() {
        let a = frame(1, b"a");
        let b = frame(2, b"b");
        // The next magic straddles two chunks after the junk.
        let junk_and_v = [&b"junk"[..], &b[..1]].concat();
        let out = events(&[&a, &junk_and_v, &b[1..]]);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(matches!(out[0], Event::Frame { offset: 0, .. }));
        let Event::Problem { offset, fault, skipped, ref message } = out[1] else {
            panic!("{out:?}")
        };
        assert_eq!((offset, fault, skipped), (16, Fault::BadMagic, Some(4)), "{message}");
        assert!(
            matches!(out[2], Event::Frame { offset: 20, header, .. } if header.request_id == 2)
        );
    }

    #[test]
    fn looks_vx_needs_three_bytes_unless_magic() {
        assert_eq!(looks_vx(b"VX", false), Some(true));
        assert_eq!(looks_vx(b"\x00\x27{", false), Some(true));
        assert_eq!(looks_vx(b"\x00\xc8\x00", false), Some(false));
        assert_eq!(looks_vx(b"\x00\x27", false), None);
        assert_eq!(looks_vx(b"\x00\x27", true), Some(false));
    }
}

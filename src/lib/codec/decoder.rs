//! Incremental frame decoding: push bytes in any split, take whole frames out.
//!
//! The declared size is checked against `max_message_size` as soon as a
//! header is complete, *before* the buffer grows for the payload, so a
//! header announcing 4 GiB costs nothing. The buffer then grows at most
//! geometrically with the bytes that actually arrive, so a peer that
//! announces a large frame and trickles it in cannot make us reserve the
//! whole frame up front.

use std::io::{self, Read};

use super::frame::{Frame, Header, RequestId, DEFAULT_MAX_MESSAGE_SIZE};
use super::{vx, Wire};
use crate::error::{Error, ProtocolError};

/// A frame whose CRC has not been checked, with its position in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// Byte offset of the frame's first header byte in the stream.
    pub offset: u64,
    /// The header as sent.
    pub header: Header,
    /// The payload as received.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// CRC32 computed over the payload.
    pub fn computed_crc(&self) -> u32 {
        super::frame::crc32(&self.payload)
    }
    /// Whether the stated CRC matches the payload.
    pub fn crc_ok(&self) -> bool {
        self.header.verify(&self.payload).is_ok()
    }
    /// Converts into a [`Frame`], checking the CRC.
    pub fn into_frame(self) -> Result<Frame, ProtocolError> {
        Frame::from_parts(self.header, self.payload)
    }
}

/// A frame borrowed from a [`Decoder`]'s buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Byte offset of the frame's first header byte in the stream.
    pub offset: u64,
    /// The header as sent.
    pub header: Header,
    /// The payload as received.
    pub payload: &'a [u8],
}

impl FrameRef<'_> {
    /// Whether the stated CRC matches the payload.
    pub fn crc_ok(&self) -> bool {
        self.verify().is_ok()
    }

    /// Checks the CRC.
    pub fn verify(&self) -> Result<(), ProtocolError> {
        self.header.verify(self.payload)
    }

    /// An owned [`Frame`] (copies the payload; the CRC is not checked).
    pub fn to_frame(&self) -> Frame {
        Frame {
            type_code: self.header.type_code,
            request_id: self.header.request_id,
            timestamp_ms: self.header.timestamp_ms,
            payload: self.payload.to_vec(),
        }
    }
}

/// Stream decoder. Feed it with [`push`](Decoder::push) or
/// [`read_from`](Decoder::read_from); take frames with
/// [`next_frame`](Decoder::next_frame).
///
/// After a fatal error ([`ProtocolError::is_fatal`]) the decoder keeps
/// returning that error: the stream is out of sync and must be dropped.
#[derive(Debug)]
pub struct Decoder {
    /// Storage; every byte of it is initialised, valid data is `start..end`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    consumed: u64,
    max_message_size: usize,
    failed: Option<ProtocolError>,
    /// The chunk size of the last read (storage up to twice it is kept).
    chunk: usize,
    /// The size of the next read (0: [`FIRST_READ`]), at most the chunk.
    ramp: usize,
    wire: Wire,
}

/// Storage an idle decoder keeps at most (or twice its read size, if more):
/// a large frame's buffer is given back as soon as it has been handled.
const KEEP_IDLE: usize = 256 * 1024;

/// The first read of a decoder, and the least one (see `read_from`).
const FIRST_READ: usize = 1024;

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

impl Decoder {
    /// A decoder that rejects frames larger than `max_message_size` bytes
    /// (header included).
    pub fn new(max_message_size: usize) -> Decoder {
        Decoder {
            buf: Vec::new(),
            start: 0,
            end: 0,
            consumed: 0,
            max_message_size,
            failed: None,
            chunk: 0,
            ramp: 0,
            wire: Wire::V1_6,
        }
    }

    /// A decoder of the given wire profile.
    pub fn with_wire(max_message_size: usize, wire: Wire) -> Decoder {
        Decoder { wire, ..Decoder::new(max_message_size) }
    }

    /// The wire profile frames are read in.
    pub fn wire(&self) -> Wire {
        self.wire
    }

    /// Reads the following frames in `wire` (a client learns the profile
    /// from the server's first bytes).
    pub fn set_wire(&mut self, wire: Wire) {
        self.wire = wire;
    }

    /// Drops `n` bytes from the front of what is buffered, unread as frames
    /// (the VX handshake's messages, which come before any frame).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }

    /// The header at the front of the buffer, in this decoder's profile,
    /// with the whole frame's length; `Ok(None)` until it is all in.
    fn peek_header(&self) -> Result<Option<(Header, u64)>, ProtocolError> {
        let buf = self.buffered();
        match self.wire {
            Wire::V1_6 => {
                let Some(h) = Header::peek(buf) else { return Ok(None) };
                h.check_size(self.max_message_size)?;
                Ok(Some((h, h.frame_len())))
            }
            Wire::Vx => {
                // A bad magic shows from the first two bytes: no need to
                // wait for a whole header of junk. (Two, not one, so the
                // error is the same however the bytes were split.)
                if buf.len() < vx::HEADER_LEN {
                    if buf.len() >= vx::MAGIC.len() && buf[..vx::MAGIC.len()] != vx::MAGIC {
                        vx::VxHeader::parse(buf, self.max_message_size)?;
                    }
                    return Ok(None);
                }
                let h = vx::VxHeader::parse(buf, self.max_message_size)?;
                let header = Header {
                    type_code: h.type_code,
                    size: h.size,
                    crc: h.crc,
                    timestamp_ms: 0,
                    request_id: RequestId::from(u32::from(h.request_id)),
                };
                Ok(Some((header, h.frame_len())))
            }
        }
    }

    /// The length of the frame whose start is buffered, when its header is
    /// in (else the header's length): what a stream cut here lost.
    pub fn pending_frame_len(&self) -> u64 {
        match self.peek_header() {
            Ok(Some((_, len))) => len,
            _ => self.wire.header_len() as u64,
        }
    }

    /// The configured size limit.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.compact();
        self.buf.truncate(self.end);
        self.buf.extend_from_slice(data);
        self.end = self.buf.len();
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Capacity of the internal buffer (for memory accounting and tests).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Stream offset of the first byte not yet returned as a frame.
    pub fn stream_offset(&self) -> u64 {
        self.consumed
    }

    /// Performs one `read` from `r` straight into the buffer, of up to
    /// `chunk` bytes (more when a large frame is in progress). Reads start
    /// at 1 KiB and grow four-fold each time one comes back full, up to
    /// `chunk`, until [`release`](Decoder::release) (a quiet connection)
    /// starts them small again. So a handshake or a lone ping costs a
    /// connection 1 KiB of buffer, and a burst is read in `chunk`-sized
    /// reads after a few.
    /// Returns what `read` returned: `Ok(0)` is end of stream.
    pub fn read_from<R: Read + ?Sized>(&mut self, r: &mut R, chunk: usize) -> io::Result<usize> {
        self.compact();
        let chunk = chunk.max(1);
        self.chunk = chunk;
        let step = self.ramp.max(FIRST_READ).min(chunk);
        let have = self.end - self.start;
        // How much the frame in progress still needs, if its header is in
        // and within the limit; grow towards it at most geometrically.
        let want = match self.peek_header() {
            Ok(Some((_, len))) => {
                let need = (len as usize).saturating_sub(have);
                need.clamp(step, step.max(have))
            }
            _ => step,
        };
        // Zero-fill only storage never used before: after the first reads
        // the buffer is reused as it is, so a read costs no memset.
        if self.buf.len() < self.end + want {
            self.buf.resize(self.end + want, 0);
        }
        let n = r.read(&mut self.buf[self.end..self.end + want])?;
        self.end += n;
        if n == want {
            self.ramp = want.saturating_mul(4);
        }
        Ok(n)
    }

    /// The next whole frame with its CRC verified, `Ok(None)` when more
    /// bytes are needed. A CRC mismatch consumes the bad frame and is
    /// reported once; the next call goes on with the following frame.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ProtocolError> {
        match self.next_raw()? {
            Some(raw) => raw.into_frame().map(Some),
            None => Ok(None),
        }
    }

    /// The next whole frame without checking its CRC (for inspectors).
    pub fn next_raw(&mut self) -> Result<Option<RawFrame>, ProtocolError> {
        Ok(self.next_ref()?.map(|f| RawFrame {
            offset: f.offset,
            header: f.header,
            payload: f.payload.to_vec(),
        }))
    }

    /// The next whole frame, borrowed from the decoder's buffer (no copy,
    /// no allocation; the CRC is not checked — see [`FrameRef::crc_ok`]).
    /// The frame counts as consumed.
    pub fn next_ref(&mut self) -> Result<Option<FrameRef<'_>>, ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let (header, total) = match self.peek_header() {
            Ok(Some(h)) => h,
            Ok(None) => {
                self.release_if_idle();
                return Ok(None);
            }
            Err(e) => {
                self.failed = Some(e.clone());
                return Err(e);
            }
        };
        let total = total as usize;
        if self.end - self.start < total {
            return Ok(None);
        }
        let body = self.start + self.wire.header_len()..self.start + total;
        let offset = self.consumed;
        self.start += total;
        self.consumed += total as u64;
        Ok(Some(FrameRef { offset, header, payload: &self.buf[body] }))
    }

    /// Gives the read buffer back if it holds no partial frame (a quiet
    /// connection); the next read takes a new one. Returns whether it did.
    pub fn release(&mut self) -> bool {
        if self.start != self.end || self.buf.capacity() == 0 {
            return false;
        }
        self.buf = Vec::new();
        self.start = 0;
        self.end = 0;
        self.ramp = 0;
        true
    }

    /// Gives a large buffer back once everything in it has been handled,
    /// so a connection that passed one large frame and went quiet does not
    /// keep its high-water mark.
    fn release_if_idle(&mut self) {
        if self.start == self.end && self.buf.len() > KEEP_IDLE.max(2 * self.chunk) {
            self.buf = Vec::new();
            self.start = 0;
            self.end = 0;
        }
    }

    /// Drops consumed bytes from the front of the buffer.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        // Give memory back after a large frame has passed through.
        if self.buf.len() > 256 * 1024 && self.end < self.buf.len() / 4 {
            let keep = self.end.max(64 * 1024);
            self.buf.truncate(keep);
            self.buf.shrink_to_fit();
        }
    }
}

/// Reads frames from any [`Read`] (a file, a socket, stdin).
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    decoder: Decoder,
    chunk: usize,
}

impl<R: Read> FrameReader<R> {
    /// Wraps a reader, with the given size limit.
    pub fn new(inner: R, max_message_size: usize) -> FrameReader<R> {
        FrameReader { inner, decoder: Decoder::new(max_message_size), chunk: 8192 }
    }

    /// Reads the next frame; `Ok(None)` on a clean end of stream at a frame
    /// boundary, [`ProtocolError::Truncated`] when the stream ends inside one.
    pub fn read_frame(&mut self) -> Result<Option<Frame>, Error> {
        loop {
            if let Some(f) = self.decoder.next_frame()? {
                return Ok(Some(f));
            }
            let n = match self.decoder.read_from(&mut self.inner, self.chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                let left = self.decoder.buffered();
                if left.is_empty() {
                    return Ok(None);
                }
                let needed = self.decoder.pending_frame_len();
                return Err(
                    ProtocolError::Truncated { needed, available: left.len() as u64 }.into()
                );
            }
        }
    }

    /// The wrapped reader and the bytes read past the last frame returned.
    pub fn into_inner(self) -> (R, Vec<u8>) {
        (self.inner, self.decoder.buffered().to_vec())
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = Result<Frame, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::frame::RequestId;

    fn frame(t: u16, p: &[u8]) -> Frame {
        Frame {
            type_code: t,
            request_id: RequestId::from(7),
            timestamp_ms: 42,
            payload: p.to_vec(),
        }
    }

    #[test]
    fn byte_by_byte() {
        let f1 = frame(200, b"hello");
        let f2 = frame(0, b"");
        let mut bytes = f1.encode().unwrap();
        bytes.extend(f2.encode().unwrap());
        let mut d = Decoder::default();
        let mut out = vec![];
        for b in &bytes {
            d.push(&[*b]);
            while let Some(f) = d.next_frame().unwrap() {
                out.push(f);
            }
        }
        assert_eq!(out, vec![f1, f2]);
        assert!(d.buffered().is_empty());
        assert_eq!(d.stream_offset(), bytes.len() as u64);
    }

    #[test]
    fn four_gib_header_is_rejected_before_any_growth() {
        let mut h = frame(200, b"").header().unwrap().to_bytes();
        h[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
        let mut d = Decoder::default();
        d.push(&h);
        let err = d.next_frame().unwrap_err();
        assert!(matches!(err, ProtocolError::FrameTooLarge { payload: u32::MAX, .. }));
        assert!(d.capacity() < 1024);
        // Fatal: stays failed.
        assert_eq!(d.next_frame().unwrap_err(), err);
    }

    #[test]
    fn limit_counts_the_header() {
        let f = frame(200, &[0u8; 10]);
        let bytes = f.encode().unwrap();
        let mut d = Decoder::new(32);
        d.push(&bytes);
        assert_eq!(d.next_frame().unwrap(), Some(f));
        let mut d = Decoder::new(31);
        d.push(&bytes);
        assert!(matches!(d.next_frame(), Err(ProtocolError::FrameTooLarge { size: 32, .. })));
    }

    #[test]
    fn crc_mismatch_skips_the_frame_and_goes_on() {
        let mut bad = frame(200, b"abc").encode().unwrap();
        bad[22] ^= 1;
        let good = frame(201, b"ok");
        bad.extend(good.encode().unwrap());
        let mut d = Decoder::default();
        d.push(&bad);
        assert!(matches!(d.next_frame(), Err(ProtocolError::CrcMismatch { .. })));
        assert_eq!(d.next_frame().unwrap(), Some(good));
    }

    #[test]
    fn reader_reports_truncation_and_eof() {
        let bytes = frame(200, b"hello").encode().unwrap();
        let mut r = FrameReader::new(&bytes[..], DEFAULT_MAX_MESSAGE_SIZE);
        assert!(r.read_frame().unwrap().is_some());
        assert!(r.read_frame().unwrap().is_none());
        let mut r = FrameReader::new(&bytes[..25], DEFAULT_MAX_MESSAGE_SIZE);
        match r.read_frame() {
            Err(Error::Protocol(ProtocolError::Truncated { needed: 27, available: 25 })) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn large_frame_read_grows_geometrically() {
        // A 1 MiB frame read in 1 KiB chunks grows the buffer step by step
        // rather than reserving 1 MiB when the header arrives.
        let f = frame(200, &vec![7u8; 1 << 20]);
        let bytes = f.encode().unwrap();
        let mut d = Decoder::default();
        let mut src = &bytes[..2048];
        d.read_from(&mut src, 1024).unwrap();
        d.read_from(&mut src, 1024).unwrap();
        assert!(d.capacity() <= 8 * 1024, "{}", d.capacity());
        let mut src = &bytes[d.buffered().len()..];
        while d.next_frame().unwrap().is_none() {
            assert!(d.read_from(&mut src, 1024).unwrap() > 0);
        }
    }

    #[test]
    fn a_quiet_decoder_gives_its_buffer_back_and_starts_small_again() {
        let bytes =
            [frame(200, b"one").encode().unwrap(), frame(200, b"two").encode().unwrap()].concat();
        let mut d = Decoder::default();
        let mut src = &bytes[..];
        // The first read takes at most 1 KiB.
        assert!(d.read_from(&mut src, 8192).unwrap() > 0);
        assert!(d.capacity() <= 1024, "{}", d.capacity());
        // Not while a frame is only partly in: nothing may be lost.
        let partial = frame(200, &[9u8; 3000]).encode().unwrap();
        let mut p = Decoder::default();
        p.read_from(&mut &partial[..100], 8192).unwrap();
        assert!(!p.release());
        assert_eq!(p.buffered().len(), 100);
        // Once everything read is handled, the buffer goes.
        assert_eq!(d.next_frame().unwrap().unwrap().payload, b"one");
        assert_eq!(d.next_frame().unwrap().unwrap().payload, b"two");
        assert!(d.release());
        assert_eq!(d.capacity(), 0);
        assert!(!d.release(), "nothing left to give back");
        // A burst grows the reads four-fold up to the chunk: 1 KiB, 4 KiB,
        // then 8 KiB reads.
        let big: Vec<u8> =
            (0..300).flat_map(|_| frame(200, &[1u8; 64]).encode().unwrap()).collect();
        let mut src = &big[..];
        let sizes: Vec<usize> = (0..4).map(|_| d.read_from(&mut src, 8192).unwrap()).collect();
        assert_eq!(sizes, [1024, 4096, 8192, 8192]);
        // A short read keeps the size; a release starts small again.
        d.start = d.end; // all handled
        assert_eq!(d.read_from(&mut &big[..300], 8192).unwrap(), 300);
        assert_eq!(d.read_from(&mut &big[..], 8192).unwrap(), 8192);
        d.start = d.end;
        assert!(d.release());
        assert_eq!(d.read_from(&mut &big[..], 8192).unwrap(), 1024);
    }

    #[test]
    fn a_large_frame_buffer_is_given_back_once_handled() {
        let f = frame(200, &vec![7u8; 4 << 20]);
        let bytes = f.encode().unwrap();
        let mut d = Decoder::default();
        let mut src = &bytes[..];
        while d.next_frame().unwrap().is_none() {
            assert!(d.read_from(&mut src, 8192).unwrap() > 0);
        }
        assert!(d.capacity() >= 4 << 20, "the frame was held whole");
        assert!(d.next_frame().unwrap().is_none());
        assert_eq!(d.capacity(), 0, "an idle decoder keeps no large buffer");
        // Ordinary reads keep their buffer from read to read.
        let small = frame(200, b"x").encode().unwrap();
        let mut src = &small[..];
        d.read_from(&mut src, 8192).unwrap();
        assert!(d.next_frame().unwrap().is_some());
        assert!(d.next_frame().unwrap().is_none());
        // (A first small read: 1 KiB, kept for the next read.)
        assert!(d.capacity() >= 1024);
    }
}

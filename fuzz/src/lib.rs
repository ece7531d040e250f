//! The invariants the fuzz targets check, one function per target.
//!
//! Each function takes plain values (the targets build them from the
//! fuzzer's bytes), runs the library code on them and panics when an
//! invariant breaks. `tests/fuzz_regressions/main.rs` compiles this same file
//! and replays the inputs under `tests/data/fuzz/` through it in the
//! normal `cargo test`, so a fixed crash stays fixed.

use std::fmt::Write as _;
use std::io::{self, BufReader, Read};

use veltix::handshake::{check_version, encode_hello, parse_hello, parse_version};
use veltix::inspect::{hex, pcap};
use veltix::{Decoder, Frame, FrameReader, ProtocolError, RawFrame, DEFAULT_MAX_MESSAGE_SIZE};

/// A size limit small enough that fuzzed headers often exceed it.
pub const SMALL_LIMIT: usize = 64;

/// What a decoder hands out, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole frame (CRC not checked).
    Frame(RawFrame),
    /// An error; decoding stops after a fatal one.
    Error(ProtocolError),
}

/// Takes every frame `dec` holds with `next_raw`, appending them to
/// `events`. Returns false once the decoder has failed for good.
pub fn drain(dec: &mut Decoder, events: &mut Vec<Event>) -> bool {
    loop {
        match dec.next_raw() {
            Ok(Some(raw)) => events.push(Event::Frame(raw)),
            Ok(None) => return true,
            Err(e) => {
                assert!(e.is_fatal(), "next_raw reported a non-fatal error: {e:?}");
                // A failed decoder keeps failing the same way.
                assert_eq!(dec.next_raw().as_ref(), Err(&e));
                events.push(Event::Error(e));
                return false;
            }
        }
    }
}

/// Checks what a decoder made of the whole stream `data`: every frame is
/// the bytes at its offset, frames tile the stream, and what is left is
/// either a frame in progress or follows a fatal error.
fn check_events(data: &[u8], limit: usize, events: &[Event], dec: &Decoder) {
    let mut offset = 0usize;
    for event in events {
        match event {
            Event::Frame(raw) => {
                assert_eq!(raw.offset, offset as u64);
                let len = raw.header.frame_len() as usize;
                assert!(len <= limit, "frame of {len} bytes passed a limit of {limit}");
                assert_eq!(raw.payload.len(), raw.header.size as usize);
                let bytes = &data[offset..offset + len];
                assert_eq!(&bytes[..veltix::HEADER_LEN], raw.header.to_bytes());
                assert_eq!(&bytes[veltix::HEADER_LEN..], raw.payload);
                if raw.crc_ok() {
                    let frame = raw.clone().into_frame().expect("CRC checked");
                    assert_eq!(frame.encode().expect("size fits"), bytes);
                    assert_eq!(Frame::decode(bytes, limit), Ok(frame));
                } else {
                    assert!(matches!(
                        raw.clone().into_frame(),
                        Err(ProtocolError::CrcMismatch { .. })
                    ));
                }
                offset += len;
            }
            Event::Error(e) => {
                let ProtocolError::FrameTooLarge { size, max_size, .. } = e else {
                    panic!("unexpected error from next_raw: {e:?}");
                };
                assert_eq!(*max_size, limit as u64);
                assert!(*size > *max_size);
            }
        }
    }
    assert_eq!(dec.stream_offset(), offset as u64);
    assert_eq!(dec.buffered(), &data[offset..]);
    if !matches!(events.last(), Some(Event::Error(_))) {
        // Whatever is left is shorter than the frame it starts.
        let left = dec.buffered();
        if let Some(h) = veltix::Header::peek(left) {
            assert!((left.len() as u64) < h.frame_len());
        }
    }
}

/// `decoder_whole`: `data` pushed at once, drained with `next_raw`,
/// `next_frame` and through a [`FrameReader`], under the default and a
/// small size limit.
pub fn decoder_whole(data: &[u8]) {
    for limit in [DEFAULT_MAX_MESSAGE_SIZE, SMALL_LIMIT] {
        let mut dec = Decoder::new(limit);
        dec.push(data);
        // Pushing copies what arrived and nothing more.
        assert!(dec.capacity() <= data.len().max(64), "{} for {}", dec.capacity(), data.len());
        let mut events = Vec::new();
        drain(&mut dec, &mut events);
        check_events(data, limit, &events, &dec);

        // next_ref: the same frames, borrowed.
        let mut dec = Decoder::new(limit);
        dec.push(data);
        for event in &events {
            match (dec.next_ref(), event) {
                (Ok(Some(f)), Event::Frame(raw)) => {
                    assert_eq!(
                        (f.offset, f.header, f.payload),
                        (raw.offset, raw.header, &raw.payload[..])
                    );
                    assert_eq!(f.crc_ok(), raw.crc_ok());
                    assert_eq!(f.verify(), raw.clone().into_frame().map(|_| ()));
                    assert_eq!(f.to_frame().payload, raw.payload);
                }
                (Err(e), Event::Error(expected)) => assert_eq!(&e, expected),
                (got, expected) => panic!("next_ref gave {got:?}, next_raw {expected:?}"),
            }
        }
        if !matches!(events.last(), Some(Event::Error(_))) {
            assert!(matches!(dec.next_ref(), Ok(None)));
        }

        // next_frame: the same frames, a CRC mismatch reported once each.
        let mut dec = Decoder::new(limit);
        dec.push(data);
        let mut frames = Vec::new();
        loop {
            match dec.next_frame() {
                Ok(Some(f)) => frames.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    let fatal = e.is_fatal();
                    frames.push(Err(e));
                    if fatal {
                        break;
                    }
                }
            }
        }
        let expected: Vec<_> = events
            .iter()
            .map(|e| match e {
                Event::Frame(raw) => raw.clone().into_frame(),
                Event::Error(e) => Err(e.clone()),
            })
            .collect();
        assert_eq!(frames, expected);

        // FrameReader over a slice: the same, then a clean end or Truncated.
        let mut reader = FrameReader::new(data, limit);
        let mut read = Vec::new();
        let end = loop {
            match reader.read_frame() {
                Ok(Some(f)) => read.push(Ok(f)),
                Ok(None) => break None,
                Err(veltix::Error::Protocol(e)) if !e.is_fatal() => read.push(Err(e)),
                Err(veltix::Error::Protocol(e)) => break Some(e),
                Err(e) => panic!("reading a slice failed: {e:?}"),
            }
        };
        match end {
            None => {
                assert_eq!(read, expected);
                assert_eq!(dec.buffered(), b"");
            }
            Some(ProtocolError::Truncated { available, .. }) => {
                assert_eq!(read, expected);
                assert_eq!(available, dec.buffered().len() as u64);
                assert!(available > 0);
            }
            Some(e) => {
                read.push(Err(e));
                assert_eq!(read, expected);
            }
        }
    }
}

/// A [`Read`] that hands out its data in the given piece sizes.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    next: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes.get(self.next).copied().unwrap_or(usize::MAX);
        self.next += 1;
        let n = size.max(1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// `decoder_split`: `data` arriving in pieces of the given sizes (pushed,
/// or read with [`Decoder::read_from`] in reads of up to `chunk` bytes)
/// must give exactly the frames and errors of `data` pushed at once.
pub fn decoder_split(data: &[u8], sizes: &[usize], small_limit: bool, chunk: Option<usize>) {
    let limit = if small_limit { SMALL_LIMIT } else { DEFAULT_MAX_MESSAGE_SIZE };
    let mut whole = Decoder::new(limit);
    whole.push(data);
    let mut expected = Vec::new();
    drain(&mut whole, &mut expected);

    let mut dec = Decoder::new(limit);
    let mut events = Vec::new();
    match chunk {
        None => {
            let mut rest = data;
            let mut sizes = sizes.iter().copied();
            while !rest.is_empty() {
                let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
                dec.push(&rest[..n]);
                rest = &rest[n..];
                // Growth follows the bytes that arrived, never a header.
                assert!(dec.capacity() <= 2 * data.len() + 64);
                if !drain(&mut dec, &mut events) {
                    break;
                }
            }
        }
        Some(chunk) => {
            let mut input = Pieces { data, sizes, next: 0 };
            while drain(&mut dec, &mut events) {
                let n = dec.read_from(&mut input, chunk).expect("reading a slice");
                let bound = 4 * data.len() + 2 * chunk.max(1) + 64;
                assert!(dec.capacity() <= bound, "capacity {} > {bound}", dec.capacity());
                if n == 0 {
                    break;
                }
            }
        }
    }
    assert_eq!(events, expected);
    if !matches!(expected.last(), Some(Event::Error(_))) {
        assert_eq!(dec.buffered(), whole.buffered());
    }
    assert_eq!(dec.stream_offset(), whole.stream_offset());
    check_events(data, limit, &expected, &whole);
}

/// `handshake`: HELLO payloads and version strings from arbitrary bytes.
pub fn handshake(data: &[u8]) {
    match parse_hello(data) {
        Ok(v) => {
            let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
            assert_eq!(v.len(), len);
            assert_eq!(encode_hello(&v), &data[..2 + len]);
        }
        Err(e) => assert!(matches!(e, ProtocolError::BadHello(_)), "{e:?}"),
    }
    let text = String::from_utf8_lossy(data);
    round_trip_hello(&text);
    // Split the text in two to compare versions.
    let mid = text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(i, _)| i);
    let (ours, theirs) = text.split_at(mid);
    for v in [&text[..], ours, theirs] {
        match parse_version(v) {
            Some((a, b, c)) => {
                assert!(check_version(v, v).is_ok());
                assert!(check_version(v, &format!("{a}.{b}.{c}")).is_ok());
                assert_eq!(parse_version(&format!("{a}.{b}.{c}")), Some((a, b, c)));
            }
            None => assert_eq!(
                check_version(v, v),
                Err(ProtocolError::VersionMismatch { ours: v.into(), theirs: v.into() })
            ),
        }
    }
    let same = matches!((parse_version(ours), parse_version(theirs)), (Some(a), Some(b)) if a == b);
    assert_eq!(check_version(ours, theirs).is_ok(), same);
}

/// A version survives the HELLO payload when it fits its 16-bit length.
fn round_trip_hello(version: &str) {
    let payload = encode_hello(version);
    match parse_hello(&payload) {
        Ok(v) if version.len() <= usize::from(u16::MAX) => assert_eq!(v, version),
        Ok(v) => assert!(version.starts_with(&v) && v.len() == usize::from(u16::MAX)),
        Err(e) => {
            // Only a cut through a character can fail.
            assert!(version.len() > usize::from(u16::MAX), "{e:?}");
            assert!(!version.is_char_boundary(usize::from(u16::MAX)));
        }
    }
}

/// `hex_input`: arbitrary text through the hex reader, whole and as a
/// stream; and arbitrary bytes through every dump layout and back.
pub fn hex_input(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let whole = hex::decode(&text);
    // Streamed line by line from a reader with a tiny buffer: the same.
    let mut stream = hex::HexStream::new(BufReader::with_capacity(3, data));
    let mut bytes = Vec::new();
    let streamed = loop {
        match stream.read_line(&mut bytes) {
            Ok(true) => {}
            Ok(false) => break Ok(bytes),
            Err(hex::ReadError::Hex(e)) => break Err(e),
            Err(hex::ReadError::Io(e)) => panic!("reading a slice failed: {e}"),
        }
    };
    assert_eq!(streamed, whole);
    if let Ok(bytes) = &whole {
        assert!(bytes.len() <= data.len() / 2);
    }
    // Any bytes survive every dump layout (a prefix is enough: the
    // layouts repeat every line).
    let data = &data[..data.len().min(64)];
    for layout in [plain(data), xxd(data), hexdump_c(data)] {
        assert_eq!(hex::decode(&layout).as_deref(), Ok(data), "{layout}");
    }
}

/// Spaced hex, 20 bytes a line, `0x` before every fourth byte.
pub fn plain(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, b) in data.iter().enumerate() {
        let _ = write!(out, "{}{b:02x}", if i % 4 == 3 { "0x" } else { "" });
        out.push(if i % 20 == 19 { '\n' } else { ' ' });
    }
    out
}

fn ascii(chunk: &[u8]) -> String {
    chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect()
}

/// What `xxd` prints.
pub fn xxd(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(16).enumerate() {
        let mut hex = String::new();
        for (j, b) in chunk.iter().enumerate() {
            let _ = write!(hex, "{}{b:02x}", if j > 0 && j % 2 == 0 { " " } else { "" });
        }
        let _ = writeln!(out, "{:08x}: {hex:<39}  {}", i * 16, ascii(chunk));
    }
    out
}

/// What `hexdump -Cv` prints.
pub fn hexdump_c(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(16).enumerate() {
        let mut hex = String::new();
        for (j, b) in chunk.iter().enumerate() {
            let _ = write!(hex, "{b:02x} {}", if j == 7 { " " } else { "" });
        }
        let _ = writeln!(out, "{:08x}  {hex:<49} |{}|", i * 16, ascii(chunk));
    }
    if !data.is_empty() {
        let _ = writeln!(out, "{:08x}", data.len());
    }
    out
}

/// `pcap_input`: arbitrary bytes as a capture; its streams reassembled
/// and framed as `veltix decode` does.
pub fn pcap_input(data: &[u8]) {
    let capture = match pcap::read(data, None) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    check_capture(&capture, None);
    // Filtered on one of the ports seen: a subset, in the same order.
    if let Some(stream) = capture.streams.first() {
        let port = stream.ends[0].port();
        let filtered = pcap::read(data, Some(port)).expect("read once already");
        check_capture(&filtered, Some(port));
        let kept = capture.segments.iter().filter(|s| {
            let ends = capture.streams[s.stream].ends;
            ends[0].port() == port || ends[1].port() == port
        });
        let kept: Vec<_> = kept.map(|s| (&s.payload, s.seq)).collect();
        let got: Vec<_> = filtered.segments.iter().map(|s| (&s.payload, s.seq)).collect();
        assert_eq!(got, kept);
    }
}

fn check_capture(capture: &pcap::Capture, port: Option<u16>) {
    for w in &capture.warnings {
        assert!(!w.to_string().is_empty());
    }
    assert_eq!(
        capture.segments.is_empty(),
        capture.warnings.contains(&pcap::Warning::NoTcpPayload { port })
    );
    for s in &capture.streams {
        assert!(s.client < 2);
        assert_ne!(s.direction(0), s.direction(1));
        assert!(s.ends[0] <= s.ends[1]);
        if let Some(p) = port {
            assert!(s.ends.iter().any(|e| e.port() == p));
        }
    }
    let mut flows = capture.flows();
    let mut decoders: Vec<[Decoder; 2]> = capture
        .streams
        .iter()
        .map(|_| [Decoder::new(SMALL_LIMIT * 16), Decoder::new(SMALL_LIMIT * 16)])
        .collect();
    let mut streams: Vec<[Vec<u8>; 2]> =
        capture.streams.iter().map(|_| Default::default()).collect();
    let mut events: Vec<[Vec<Event>; 2]> =
        capture.streams.iter().map(|_| Default::default()).collect();
    let mut bytes = Vec::new();
    for seg in &capture.segments {
        assert!(!seg.payload.is_empty());
        let (i, side) = (seg.stream, seg.side);
        bytes.clear();
        let n = flows[i][side].segment(seg.seq, &seg.payload, &mut bytes);
        assert_eq!(n, bytes.len());
        streams[i][side].extend_from_slice(&bytes);
        assert_eq!(flows[i][side].offset(), streams[i][side].len() as u64);
        decoders[i][side].push(&bytes);
        if !flows[i][side].is_stopped() && !drain(&mut decoders[i][side], &mut events[i][side]) {
            flows[i][side].stop();
        }
    }
    for (i, pair) in flows.iter().enumerate() {
        for side in 0..2 {
            let flow = &pair[side];
            if let Some(gap) = flow.gap() {
                assert!(!flow.is_stopped());
                assert_eq!(gap.offset, flow.offset());
                assert!(gap.missing > 0 && gap.after > 0);
            }
            let limit = SMALL_LIMIT * 16;
            check_events(&streams[i][side], limit, &events[i][side], &decoders[i][side]);
        }
    }
}

/// `session`: the protocol session, server or client side, either wire
/// profile, fed arbitrary bytes in pieces with clock advances between them
/// (see `veltix::fuzz_session` for the invariants it checks).
///
/// Input layout: byte 0 bit 0 = server side, bit 1 = complete the
/// handshake first, bits 2..5 select the size limit (64 << n bytes, at
/// least the header), bits 6..7 the wire (0: 1.6, 1: vx, 2 and 3: auto);
/// then steps, each `len: u8, advance: u8` (advance in units of 250 ms)
/// followed by up to `len` bytes.
pub fn session(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let limit = 64usize << ((flags >> 2) & 15);
    let wire = match flags >> 6 {
        0 => veltix::WireMode::V1_6,
        1 => veltix::WireMode::Vx,
        _ => veltix::WireMode::Auto,
    };
    let mut steps = Vec::new();
    while let [len, advance, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        steps.push((&tail[..n], u16::from(*advance) * 250));
        rest = &tail[n..];
    }
    veltix::fuzz_session(flags & 1 == 1, wire, flags & 2 == 2, limit, &steps);
}

/// `vx_decoder`: arbitrary bytes through a VX-profile decoder, whole and
/// in two pieces: every frame is the bytes at its offset (its header
/// rebuilt from the fields, flags 0), frames tile the stream, both ways
/// give the same frames and the same error.
pub fn vx_decoder(data: &[u8]) {
    use veltix::vx;
    let run = |pieces: &[&[u8]]| {
        let mut d = Decoder::with_wire(SMALL_LIMIT * 4, veltix::Wire::Vx);
        let mut events = Vec::new();
        for p in pieces {
            d.push(p);
            if !drain(&mut d, &mut events) {
                break;
            }
        }
        events
    };
    let whole = run(&[data]);
    let mut offset = 0usize;
    for event in &whole {
        match event {
            Event::Frame(raw) => {
                assert_eq!(raw.offset, offset as u64);
                let h = vx::VxHeader {
                    flags: 0,
                    type_code: raw.header.type_code,
                    size: raw.header.size,
                    crc: raw.header.crc,
                    request_id: u16::try_from(raw.header.request_id.as_u32())
                        .expect("a VX id fits 16 bits"),
                };
                let len = vx::HEADER_LEN + raw.payload.len();
                assert!(len <= SMALL_LIMIT * 4);
                assert_eq!(&data[offset..offset + vx::HEADER_LEN], h.to_bytes());
                assert_eq!(&data[offset + vx::HEADER_LEN..offset + len], raw.payload);
                offset += len;
            }
            Event::Error(e) => assert!(matches!(e, ProtocolError::Vx(_)), "{e:?}"),
        }
    }
    let mid = data.len() / 2;
    assert_eq!(run(&[&data[..mid], &data[mid..]]), whole, "a split changed the frames");
}

/// `vx_handshake`: arbitrary bytes read as each VX handshake message:
/// never a panic, a message's length is its prefix, and what we build
/// reads back.
pub fn vx_handshake(data: &[u8]) {
    use veltix::vx::{self, Expect, HandshakeRead};
    for expect in [Expect::ServerHello, Expect::ClientHello, Expect::Ack] {
        match vx::read_handshake(data, expect, vx::PROTOCOL_VERSION) {
            Ok(HandshakeRead::Message { len, .. }) => {
                assert_eq!(len, 2 + usize::from(u16::from_be_bytes([data[0], data[1]])));
                assert!(len <= data.len() && len <= 2 + vx::HANDSHAKE_MAX_LEN);
            }
            Ok(HandshakeRead::NeedMore(n)) => assert!(n > 0),
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(data);
    let text: String = text.chars().take(1000).collect();
    if let Ok(hello) = vx::server_hello(&text, vx::PROTOCOL_VERSION) {
        match vx::read_handshake(&hello, Expect::ServerHello, vx::PROTOCOL_VERSION) {
            Ok(HandshakeRead::Message { msg: vx::HandshakeMsg::Hello(h), len }) => {
                assert_eq!(len, hello.len());
                assert_eq!(h.version.as_deref(), Some(&text[..]));
            }
            other => panic!("our own hello does not read back: {other:?}"),
        }
    }
}

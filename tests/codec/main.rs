//! The codec against the reference's golden frames, and its properties:
//! round trips, arbitrary splits, arbitrary bytes, bounded memory.

#[path = "../common/mod.rs"]
mod common;

use std::io::{self, Read};

use common::golden::golden_frames;
use proptest::prelude::*;
use veltix::frame::{crc32, encode_into};
use veltix::{
    Decoder, Error, Frame, FrameReader, Header, ProtocolError, RequestId, TypeRegistry,
    DEFAULT_MAX_MESSAGE_SIZE, HEADER_LEN,
};

// ---------------------------------------------------------------------------
// Helpers

/// What a decoder yields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Frame(Frame),
    Error(ProtocolError),
}

/// Takes every available frame out of `d`. Returns false once the decoder
/// has failed fatally (the stream is then dead and nothing more is pushed).
fn drain(d: &mut Decoder, out: &mut Vec<Event>) -> bool {
    loop {
        match d.next_frame() {
            Ok(Some(f)) => out.push(Event::Frame(f)),
            Ok(None) => return true,
            Err(e) => {
                let fatal = e.is_fatal();
                out.push(Event::Error(e));
                if fatal {
                    return false;
                }
            }
        }
    }
}

/// The result of decoding a whole byte stream.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    events: Vec<Event>,
    /// Bytes left over after the last frame (None after a fatal error).
    leftover: Option<Vec<u8>>,
}

fn decode_whole(bytes: &[u8], max: usize) -> Decoded {
    let mut d = Decoder::new(max);
    d.push(bytes);
    let mut events = vec![];
    let alive = drain(&mut d, &mut events);
    Decoded { events, leftover: alive.then(|| d.buffered().to_vec()) }
}

/// Decodes `bytes` pushed in chunks whose sizes cycle through `splits`
/// (a 0 pushes an empty slice), checking the buffer capacity after every
/// push against the bound the decoder promises: a frame in progress is
/// never larger than `max`, so the buffer holds less than `max + chunk`
/// bytes, and amortised growth at most doubles that.
fn decode_split(bytes: &[u8], splits: &[usize], max: usize) -> Decoded {
    let biggest = splits.iter().copied().max().unwrap_or(0);
    let bound = 2 * (max + biggest);
    let mut d = Decoder::new(max);
    let mut events = vec![];
    let mut rest = bytes;
    let mut alive = drain(&mut d, &mut events);
    for &n in splits.iter().cycle() {
        if rest.is_empty() || !alive {
            break;
        }
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        d.push(chunk);
        assert!(d.capacity() <= bound, "capacity {} > bound {bound}", d.capacity());
        alive = drain(&mut d, &mut events);
        assert!(d.capacity() <= bound, "capacity {} > bound {bound}", d.capacity());
    }
    Decoded { events, leftover: alive.then(|| d.buffered().to_vec()) }
}

/// A reader that hands out the data in small reads of cycling sizes and
/// now and then fails with `Interrupted` (which readers must retry).
struct ChunkyReader<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    calls: usize,
    interrupt_every: Option<usize>,
}

impl Read for ChunkyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.interrupt_every.is_some_and(|k| self.calls.is_multiple_of(k)) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = self.sizes[self.calls % self.sizes.len()].min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// What a FrameReader yields until end of stream or a fatal error, as
/// decoder events; a stream ending inside a frame is reported as the
/// Truncated error that FrameReader gives.
fn read_all<R: Read>(r: R, max: usize) -> Vec<Event> {
    let mut reader = FrameReader::new(r, max);
    let mut events = vec![];
    loop {
        match reader.read_frame() {
            Ok(Some(f)) => events.push(Event::Frame(f)),
            Ok(None) => return events,
            Err(Error::Protocol(e)) => {
                let fatal = e.is_fatal();
                events.push(Event::Error(e));
                if fatal {
                    return events;
                }
            }
            Err(e) => panic!("unexpected error from FrameReader: {e}"),
        }
    }
}

/// The events FrameReader must give for a stream: the decoder's, plus a
/// Truncated error when bytes are left over at end of stream.
fn expected_reader_events(bytes: &[u8], max: usize) -> Vec<Event> {
    let Decoded { mut events, leftover } = decode_whole(bytes, max);
    if let Some(left) = leftover.filter(|l| !l.is_empty()) {
        let needed = Header::peek(&left).map_or(HEADER_LEN as u64, |h| h.frame_len());
        events
            .push(Event::Error(ProtocolError::Truncated { needed, available: left.len() as u64 }));
    }
    events
}

fn header_declaring(payload_len: u32) -> [u8; HEADER_LEN] {
    Header {
        type_code: 200,
        size: payload_len,
        crc: 0,
        timestamp_ms: 1_764_150_000_000,
        request_id: RequestId::from(7),
    }
    .to_bytes()
}

// ---------------------------------------------------------------------------
// Golden frames from the reference

#[test]
fn golden_frames_encode_to_the_reference_bytes() {
    for g in golden_frames() {
        let frame = g.to_frame();
        assert_eq!(common::hex::hex(&frame.encode().unwrap()), g.frame_hex, "{}", g.name);
        let mut out = vec![0xaa];
        encode_into(
            frame.type_code,
            frame.request_id,
            frame.timestamp_ms,
            &frame.payload,
            &mut out,
        )
        .unwrap();
        assert_eq!(out[1..], g.frame()[..], "{}: encode_into", g.name);
        assert_eq!(frame.encoded_len(), g.frame().len(), "{}", g.name);
        assert_eq!(frame.header().unwrap().crc, g.crc(), "{}", g.name);
    }
}

#[test]
fn golden_frames_decode_to_their_fields() {
    for g in golden_frames() {
        let bytes = g.frame();
        let header = Header::peek(&bytes).unwrap();
        assert_eq!(header.type_code, g.type_code, "{}", g.name);
        assert_eq!(header.size as usize, bytes.len() - HEADER_LEN, "{}", g.name);
        assert_eq!(header.crc, g.crc(), "{}", g.name);
        assert_eq!(header.timestamp_ms, g.timestamp_ms, "{}", g.name);
        assert_eq!(header.request_id.to_string(), g.request_id_hex, "{}", g.name);
        assert_eq!(crc32(&g.to_frame().payload), g.crc(), "{}", g.name);

        let frame = Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE).unwrap();
        assert_eq!(frame, g.to_frame(), "{}", g.name);

        let mut d = Decoder::default();
        d.push(&bytes);
        let raw = d.next_raw().unwrap().unwrap();
        assert!(raw.crc_ok(), "{}", g.name);
        assert_eq!((raw.offset, raw.header), (0, header), "{}", g.name);
        assert_eq!(raw.into_frame().unwrap(), g.to_frame(), "{}", g.name);
        assert_eq!(d.next_raw().unwrap(), None);
    }
}

#[test]
fn golden_stream_decodes_byte_by_byte_and_whole() {
    let goldens = golden_frames();
    let stream: Vec<u8> = goldens.iter().flat_map(|g| g.frame()).collect();
    let expected: Vec<Event> = goldens.iter().map(|g| Event::Frame(g.to_frame())).collect();
    let whole = decode_whole(&stream, DEFAULT_MAX_MESSAGE_SIZE);
    assert_eq!(whole, Decoded { events: expected, leftover: Some(vec![]) });
    assert_eq!(decode_split(&stream, &[1], DEFAULT_MAX_MESSAGE_SIZE), whole);
    assert_eq!(
        read_all(
            ChunkyReader {
                data: &stream,
                sizes: vec![1, 7, 3],
                calls: 0,
                interrupt_every: Some(5)
            },
            DEFAULT_MAX_MESSAGE_SIZE
        ),
        whole.events
    );
}

#[test]
fn golden_system_types_have_the_reference_names() {
    let registry = TypeRegistry::new();
    for g in golden_frames() {
        if veltix::types::is_system(g.type_code) {
            assert_eq!(registry.name(g.type_code), Some(g.type_name.as_str()), "{}", g.name);
        }
    }
}

#[test]
fn one_mib_frame_through_uneven_reads() {
    let payload: Vec<u8> =
        (0..1u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let frames = vec![
        Frame::new(200, RequestId::from(1), payload),
        Frame::new(0, RequestId::from(2), vec![]),
    ];
    let stream: Vec<u8> = frames.iter().flat_map(|f| f.encode().unwrap()).collect();
    let reader = ChunkyReader {
        data: &stream,
        sizes: vec![1, 4093, 7, 65536, 22],
        calls: 0,
        interrupt_every: Some(3),
    };
    let got =
        FrameReader::new(reader, DEFAULT_MAX_MESSAGE_SIZE).collect::<Result<Vec<_>, _>>().unwrap();
    assert!(got == frames, "the frames differ");
}

// ---------------------------------------------------------------------------
// Oversized headers

#[test]
fn four_gib_header_is_rejected_without_growing_the_buffer() {
    let header = header_declaring(u32::MAX);
    let too_large = ProtocolError::FrameTooLarge {
        size: HEADER_LEN as u64 + u64::from(u32::MAX),
        payload: u32::MAX,
        max_size: DEFAULT_MAX_MESSAGE_SIZE as u64,
    };

    let mut d = Decoder::default();
    d.push(&header);
    assert_eq!(d.next_frame(), Err(too_large.clone()));
    assert!(d.capacity() < 1024, "capacity {}", d.capacity());
    assert!(too_large.is_fatal());
    assert_eq!(d.next_raw(), Err(too_large.clone()), "the decoder stays failed");

    assert_eq!(Frame::decode(&header, DEFAULT_MAX_MESSAGE_SIZE), Err(too_large.clone()));

    // A reader backed by an endless stream: the error comes after one small
    // read, not after trying to buffer 4 GiB.
    let mut read = 0u64;
    let endless = io::repeat(0).take(u64::MAX);
    let counting = CountingReader { inner: header.chain(endless), read: &mut read };
    match FrameReader::new(counting, DEFAULT_MAX_MESSAGE_SIZE).read_frame() {
        Err(Error::Protocol(e)) => assert_eq!(e, too_large),
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
    assert!(read <= 64 * 1024, "read {read} bytes before failing");
}

struct CountingReader<'a, R> {
    inner: R,
    read: &'a mut u64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.read += n as u64;
        Ok(n)
    }
}

#[test]
fn limit_is_inclusive_and_counts_the_header() {
    let max = DEFAULT_MAX_MESSAGE_SIZE;
    let at_limit = (max - HEADER_LEN) as u32;

    let mut d = Decoder::default();
    d.push(&header_declaring(at_limit));
    assert_eq!(d.next_frame(), Ok(None), "a frame of exactly max_message_size is allowed");
    assert!(d.capacity() < 1024, "capacity {}", d.capacity());

    let mut d = Decoder::default();
    d.push(&header_declaring(at_limit + 1));
    assert_eq!(
        d.next_frame(),
        Err(ProtocolError::FrameTooLarge {
            size: max as u64 + 1,
            payload: at_limit + 1,
            max_size: max as u64
        })
    );
    assert!(d.capacity() < 1024, "capacity {}", d.capacity());
}

#[test]
fn small_limit_boundary() {
    let fits = Frame::new(200, RequestId::from(1), vec![1u8; 100 - HEADER_LEN]);
    let bytes = fits.encode().unwrap();
    assert_eq!(Frame::decode(&bytes, 100), Ok(fits.clone()));
    assert!(matches!(
        Frame::decode(&bytes, 99),
        Err(ProtocolError::FrameTooLarge { size: 100, max_size: 99, .. })
    ));
    assert_eq!(decode_whole(&bytes, 100).events, vec![Event::Frame(fits)]);
}

#[test]
fn crc_mismatch_is_reported_once_and_the_stream_goes_on() {
    let bad = Frame::new(200, RequestId::from(1), b"abc".to_vec());
    let good = Frame::new(201, RequestId::from(2), b"ok".to_vec());
    let mut bytes = bad.encode().unwrap();
    bytes[HEADER_LEN] ^= 0x01;
    bytes.extend(good.encode().unwrap());
    let decoded = decode_whole(&bytes, DEFAULT_MAX_MESSAGE_SIZE);
    assert_eq!(
        decoded.events,
        vec![
            Event::Error(ProtocolError::CrcMismatch {
                stated: crc32(b"abc"),
                computed: crc32(b"`bc")
            }),
            Event::Frame(good)
        ]
    );
}

// ---------------------------------------------------------------------------
// Properties

fn arb_frame(max_payload: usize) -> impl Strategy<Value = Frame> {
    (
        any::<u16>(),
        any::<[u8; 4]>(),
        any::<u64>(),
        prop::collection::vec(any::<u8>(), 0..=max_payload),
    )
        .prop_map(|(type_code, id, timestamp_ms, payload)| Frame {
            type_code,
            request_id: RequestId(id),
            timestamp_ms,
            payload,
        })
}

/// Chunk sizes for pushes; 0 pushes an empty slice. At least one is
/// non-zero so the stream always advances.
fn arb_splits() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..=97, 1..12).prop_map(|mut v| {
        if v.iter().all(|&n| n == 0) {
            v.push(1);
        }
        v
    })
}

/// A stream segment: mostly frames, some damaged, some noise, so arbitrary
/// input reaches every decoder path (frames, CRC errors, oversize headers,
/// truncation) rather than failing on the first random header.
#[derive(Debug, Clone)]
enum Segment {
    Frame(Frame),
    BadCrc(Frame, u8),
    BigSize(Frame, u32),
    Noise(Vec<u8>),
}

fn arb_segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        4 => arb_frame(200).prop_map(Segment::Frame),
        1 => (arb_frame(200), 1u8..).prop_map(|(f, x)| Segment::BadCrc(f, x)),
        1 => (arb_frame(200), any::<u32>()).prop_map(|(f, s)| Segment::BigSize(f, s)),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Segment::Noise),
    ]
}

fn segment_bytes(s: &Segment) -> Vec<u8> {
    match s {
        Segment::Frame(f) => f.encode().unwrap(),
        Segment::BadCrc(f, x) => {
            let mut b = f.encode().unwrap();
            b[6] ^= x;
            b
        }
        Segment::BigSize(f, size) => {
            let mut b = f.encode().unwrap();
            b[2..6].copy_from_slice(&size.to_be_bytes());
            b
        }
        Segment::Noise(n) => n.clone(),
    }
}

proptest! {
    #[test]
    fn encode_then_decode_round_trips(frame in arb_frame(2048)) {
        let bytes = frame.encode().unwrap();
        prop_assert_eq!(bytes.len(), frame.encoded_len());
        let header = Header::peek(&bytes).unwrap();
        prop_assert_eq!(header, frame.header().unwrap());
        prop_assert_eq!(header.crc, crc32(&frame.payload));
        prop_assert_eq!(&bytes[HEADER_LEN..], &frame.payload[..]);
        prop_assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE), Ok(frame.clone()));
        let mut d = Decoder::default();
        d.push(&bytes);
        prop_assert_eq!(d.next_frame(), Ok(Some(frame)));
        prop_assert_eq!(d.next_frame(), Ok(None));
        prop_assert!(d.buffered().is_empty());
    }

    #[test]
    fn valid_stream_in_any_split_yields_the_same_frames(
        frames in prop::collection::vec(arb_frame(300), 0..8),
        splits in arb_splits(),
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(|f| f.encode().unwrap()).collect();
        let expected = Decoded {
            events: frames.into_iter().map(Event::Frame).collect(),
            leftover: Some(vec![]),
        };
        prop_assert_eq!(&decode_whole(&stream, DEFAULT_MAX_MESSAGE_SIZE), &expected);
        prop_assert_eq!(&decode_split(&stream, &splits, DEFAULT_MAX_MESSAGE_SIZE), &expected);
    }

    #[test]
    fn arbitrary_bytes_in_any_split_match_one_push(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        splits in arb_splits(),
        max in HEADER_LEN..2048,
    ) {
        prop_assert_eq!(decode_split(&bytes, &splits, max), decode_whole(&bytes, max));
    }

    #[test]
    fn mixed_streams_in_any_split_match_one_push(
        segments in prop::collection::vec(arb_segment(), 0..10),
        splits in arb_splits(),
        // Mostly above the largest generated frame (222 bytes), sometimes
        // below it, so some streams end in FrameTooLarge and most do not.
        max in 150usize..400,
    ) {
        let stream: Vec<u8> = segments.iter().flat_map(segment_bytes).collect();
        prop_assert_eq!(decode_split(&stream, &splits, max), decode_whole(&stream, max));
    }

    #[test]
    fn frame_reader_over_small_reads_matches_the_decoder(
        segments in prop::collection::vec(arb_segment(), 0..10),
        sizes in prop::collection::vec(1usize..=7, 1..8),
        interrupt_every in prop::option::of(2usize..6),
        max in 150usize..400,
    ) {
        let stream: Vec<u8> = segments.iter().flat_map(segment_bytes).collect();
        let reader = ChunkyReader { data: &stream, sizes, calls: 0, interrupt_every };
        prop_assert_eq!(read_all(reader, max), expected_reader_events(&stream, max));
    }

    #[test]
    fn frame_reader_yields_valid_frames_in_order(
        // Small payloads: every read call costs the reader a fixed amount of
        // work, and reads here are 1..=7 bytes.
        frames in prop::collection::vec(arb_frame(600), 0..6),
        sizes in prop::collection::vec(1usize..=7, 1..8),
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(|f| f.encode().unwrap()).collect();
        let reader = ChunkyReader { data: &stream, sizes, calls: 0, interrupt_every: None };
        let got = FrameReader::new(reader, DEFAULT_MAX_MESSAGE_SIZE)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        prop_assert_eq!(got, frames);
    }
}

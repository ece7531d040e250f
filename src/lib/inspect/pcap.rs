//! TCP streams out of pcap and pcapng captures.
//!
//! [`read`] parses a whole capture and sorts its TCP segments into
//! connections ([`Stream`]), keeping them in capture order; a [`Flow`]
//! then puts the segments of one direction back in stream order, ready
//! for a [`Decoder`](crate::Decoder).
//!
//! Link types: Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback
//! and the others [`pcap_parser`] knows; IPv4 and IPv6. IP fragments are
//! skipped (with a [`Warning`]), not reassembled.
//!
//! ```no_run
//! use veltix::inspect::pcap;
//! use veltix::Decoder;
//!
//! let data = std::fs::read("chat.pcap")?;
//! let capture = pcap::read(&data, Some(7000))?;
//! let mut flows = capture.flows();
//! let mut decoders: Vec<[Decoder; 2]> =
//!     capture.streams.iter().map(|_| [Decoder::default(), Decoder::default()]).collect();
//! let mut bytes = Vec::new();
//! for seg in &capture.segments {
//!     bytes.clear();
//!     flows[seg.stream][seg.side].segment(seg.seq, &seg.payload, &mut bytes);
//!     let decoder = &mut decoders[seg.stream][seg.side];
//!     decoder.push(&bytes);
//!     while let Some(frame) = decoder.next_raw()? {
//!         println!("stream {}: type {}", seg.stream, frame.header.type_code);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::data::{get_packetdata, PacketData};
use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

pub use super::is_capture;

/// A capture that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The data does not start with a pcap or pcapng header.
    #[error("the header is not a pcap or pcapng header")]
    NotACapture,
    /// The data ends before its first record is whole.
    #[error("the capture ends too early")]
    TooShort,
    /// A block that does not parse.
    #[error("malformed block at byte {offset} ({reason})")]
    Malformed {
        /// Offset of the block in the capture.
        offset: usize,
        /// What the parser tripped on.
        reason: String,
    },
    /// A block larger than the whole capture claims to be.
    #[error("block too large at byte {offset}")]
    BlockTooLarge {
        /// Offset of the block in the capture.
        offset: usize,
    },
    /// The parser could not read its input.
    #[error("read error")]
    Read,
}

impl CaptureError {
    fn from_pcap<I>(e: &PcapError<I>, offset: usize) -> CaptureError {
        match e {
            PcapError::HeaderNotRecognized => CaptureError::NotACapture,
            PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
                CaptureError::TooShort
            }
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                CaptureError::Malformed { offset, reason: format!("{kind:?}") }
            }
            PcapError::BufferTooSmall => CaptureError::BlockTooLarge { offset },
            PcapError::ReadError => CaptureError::Read,
        }
    }
}

/// Something about a capture worth telling that does not stop reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The capture ends inside a packet record.
    CutShort,
    /// Packets whose link, IP or TCP headers do not parse.
    Unparsable(u64),
    /// IP fragments, which are not reassembled.
    Fragments(u64),
    /// pcapng packets that name no interface described before them.
    NoInterface(u64),
    /// Packets of a link type that cannot be read, skipped.
    UnsupportedLinkType(i32),
    /// No TCP segment with payload (on the port asked for, if any).
    NoTcpPayload {
        /// The port filter given to [`read`].
        port: Option<u16>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CutShort => {
                f.write_str("the capture ends inside a packet record (was the capture cut short?)")
            }
            Warning::Unparsable(n) => write!(f, "{n} packets could not be parsed and were skipped"),
            Warning::Fragments(n) => write!(
                f,
                "{n} IP fragments were skipped (reassembly of IP fragments is not supported)"
            ),
            Warning::NoInterface(n) => {
                write!(f, "{n} packets name no known interface and were skipped")
            }
            Warning::UnsupportedLinkType(lt) => {
                write!(f, "link type {} is not supported; its packets were skipped", Linktype(*lt))
            }
            Warning::NoTcpPayload { port: None } => f.write_str("no TCP payload in the capture"),
            Warning::NoTcpPayload { port: Some(p) } => {
                write!(f, "no TCP payload on port {p} in the capture")
            }
        }
    }
}

/// A TCP segment with payload, in capture order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Index into [`Capture::streams`].
    pub stream: usize,
    /// Which end sent it: index into [`Stream::ends`].
    pub side: usize,
    /// Sequence number of the first payload byte.
    pub seq: u32,
    /// The TCP payload.
    pub payload: Vec<u8>,
}

/// Which way bytes travel in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the side that opened the connection.
    ToServer,
    /// Towards the side that opened the connection.
    ToClient,
}

/// One TCP connection. Its two ends are its sides 0 and 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The two endpoints, the smaller address first.
    pub ends: [SocketAddr; 2],
    /// The side that opened the connection: the one that sent the SYN,
    /// else the first one seen sending payload.
    pub client: usize,
    /// Whether `client` comes from a SYN rather than a guess.
    client_known: bool,
    /// Whether any payload was seen.
    spoke: bool,
    /// Initial sequence number of each side, from its SYN.
    isn: [Option<u32>; 2],
    /// First payload sequence number seen per side, and how far before
    /// it the earliest payload starts (for captures without the SYN).
    first_seq: [Option<u32>; 2],
    earliest: [i64; 2],
}

impl Stream {
    /// Sequence number of the first payload byte of `side` (0 or 1).
    pub fn base(&self, side: usize) -> u32 {
        match (self.isn[side], self.first_seq[side]) {
            (Some(isn), _) => isn.wrapping_add(1),
            (None, Some(first)) => first.wrapping_add(self.earliest[side] as u32),
            (None, None) => 0,
        }
    }

    /// The direction of the bytes that `side` sends.
    pub fn direction(&self, side: usize) -> Direction {
        if side == self.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// The address of the side that opened the connection.
    pub fn client_addr(&self) -> SocketAddr {
        self.ends[self.client]
    }

    /// The address of the other side.
    pub fn server_addr(&self) -> SocketAddr {
        self.ends[1 - self.client]
    }
}

/// The TCP payloads of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The connections, in the order their first packet appears.
    pub streams: Vec<Stream>,
    /// Every segment with payload, in capture order.
    pub segments: Vec<Segment>,
    /// Things worth telling that did not stop reading.
    pub warnings: Vec<Warning>,
}

impl Capture {
    /// A fresh [`Flow`] for each side of each stream, indexed like
    /// [`streams`](Capture::streams) and [`Stream::ends`].
    pub fn flows(&self) -> Vec<[Flow; 2]> {
        self.streams.iter().map(|s| [0, 1].map(|side| Flow::new(s.base(side)))).collect()
    }
}

/// Reads every TCP segment with payload (only those with `port` at one
/// end, when given) and sorts them into connections.
///
/// A capture cut short inside a record is read up to the cut, with
/// [`Warning::CutShort`]; a malformed block is an error.
pub fn read(data: &[u8], port: Option<u16>) -> Result<Capture, CaptureError> {
    // The whole capture is in memory already: a buffer as large as it
    // lets the reader parse any record without growing.
    let capacity = data.len().max(65536) + 1;
    let mut reader =
        pcap_parser::create_reader(capacity, data).map_err(|e| CaptureError::from_pcap(&e, 0))?;
    let mut builder = Builder::new(port);
    let mut legacy: Option<Linktype> = None;
    let mut interfaces: Vec<Linktype> = Vec::new();
    // The byte order of the current pcapng section, once one has begun.
    let mut section: Option<bool> = None;
    let mut consumed = 0usize;
    loop {
        if let Some(big_endian) = section {
            if is_short_process_block(&data[consumed.min(data.len())..], big_endian) {
                return Err(CaptureError::Malformed { offset: consumed, reason: "Verify".into() });
            }
        }
        match reader.next() {
            Ok((len, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => legacy = Some(h.network),
                    PcapBlockOwned::Legacy(b) => {
                        builder.packet(legacy.unwrap_or(Linktype::ETHERNET), b.data)
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                        section = Some(shb.big_endian());
                        interfaces.clear()
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(idb.linktype)
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let data = epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
                        match interfaces.get(epb.if_id as usize) {
                            Some(&lt) => builder.packet(lt, data),
                            None => builder.no_interface += 1,
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let data = spb.data.get(..spb.origlen as usize).unwrap_or(spb.data);
                        match interfaces.first() {
                            Some(&lt) => builder.packet(lt, data),
                            None => builder.no_interface += 1,
                        }
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(len);
                consumed += len;
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                reader.refill().map_err(|e| CaptureError::from_pcap(&e, 0))?;
            }
            Err(PcapError::UnexpectedEof) => {
                builder.warnings.push(Warning::CutShort);
                break;
            }
            Err(e) => return Err(CaptureError::from_pcap(&e, consumed)),
        }
    }
    Ok(builder.finish())
}

/// Whether `block` starts with a pcapng Process Information Block whose
/// total length is below the 12 bytes of any block's framing.
///
/// pcap-parser 0.16 subtracts 12 from that length unchecked: a panic with
/// overflow checks on, a bogus 4 GiB block without. Every other block type
/// checks its minimum length first and fails with `Verify`, so such a
/// block is rejected here the same way, before the parser sees it.
fn is_short_process_block(block: &[u8], big_endian: bool) -> bool {
    let word = |at: usize| {
        let b: [u8; 4] = block.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    matches!((word(0), word(4)), (Some(pcap_parser::PIB_MAGIC), Some(len)) if len < 12)
}

/// Collects the segments of a capture, packet by packet.
struct Builder {
    port: Option<u16>,
    flows: HashMap<[SocketAddr; 2], usize>,
    streams: Vec<Stream>,
    segments: Vec<Segment>,
    warnings: Vec<Warning>,
    unparsable: u64,
    fragments: u64,
    no_interface: u64,
    unsupported: Vec<Linktype>,
}

impl Builder {
    fn new(port: Option<u16>) -> Builder {
        Builder {
            port,
            flows: HashMap::new(),
            streams: Vec::new(),
            segments: Vec::new(),
            warnings: Vec::new(),
            unparsable: 0,
            fragments: 0,
            no_interface: 0,
            unsupported: Vec::new(),
        }
    }

    fn packet(&mut self, linktype: Linktype, data: &[u8]) {
        let sliced = match get_packetdata(data, linktype, data.len()) {
            Some(PacketData::L2(frame)) => SlicedPacket::from_ethernet(frame),
            Some(PacketData::L3(ethertype, packet)) => {
                SlicedPacket::from_ether_type(EtherType(ethertype), packet)
            }
            Some(PacketData::L4(..)) => return, // tunnels: not TCP as such
            Some(PacketData::Unsupported(_)) => {
                if !self.unsupported.contains(&linktype) {
                    self.unsupported.push(linktype);
                }
                return;
            }
            None => {
                self.unparsable += 1;
                return;
            }
        };
        let Ok(packet) = sliced else {
            self.unparsable += 1;
            return;
        };
        if packet.is_ip_payload_fragmented() {
            self.fragments += 1;
            return;
        }
        let (src, dst): (IpAddr, IpAddr) = match &packet.net {
            Some(NetSlice::Ipv4(ip)) => {
                (ip.header().source_addr().into(), ip.header().destination_addr().into())
            }
            Some(NetSlice::Ipv6(ip)) => {
                (ip.header().source_addr().into(), ip.header().destination_addr().into())
            }
            _ => return,
        };
        let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
            return;
        };
        let (sport, dport) = (tcp.source_port(), tcp.destination_port());
        if self.port.is_some_and(|p| p != sport && p != dport) {
            return;
        }
        let src = SocketAddr::new(src, sport);
        let dst = SocketAddr::new(dst, dport);
        let seq = tcp.sequence_number();
        let opening = tcp.syn() && !tcp.ack();
        let ends = if src <= dst { [src, dst] } else { [dst, src] };
        let side = usize::from(src != ends[0]);
        let current = self.flows.get(&ends).copied();
        // A SYN on a known address pair opens a new connection, unless it
        // repeats the SYN that opened the current one.
        let index = match current {
            Some(i) if !(opening && self.streams[i].isn[side] != Some(seq)) => i,
            _ => {
                self.streams.push(Stream {
                    ends,
                    client: side,
                    client_known: false,
                    spoke: false,
                    isn: [None; 2],
                    first_seq: [None; 2],
                    earliest: [0; 2],
                });
                let i = self.streams.len() - 1;
                self.flows.insert(ends, i);
                i
            }
        };
        let stream = &mut self.streams[index];
        if tcp.syn() {
            stream.isn[side] = Some(seq);
            if !stream.client_known {
                stream.client = if opening { side } else { 1 - side };
                stream.client_known = true;
            }
        }
        let payload = tcp.payload();
        if payload.is_empty() {
            return;
        }
        if !stream.spoke && !stream.client_known {
            stream.client = side;
        }
        stream.spoke = true;
        // Payload on a SYN starts after the SYN's sequence number.
        let seq = seq.wrapping_add(u32::from(tcp.syn()));
        match stream.first_seq[side] {
            None => stream.first_seq[side] = Some(seq),
            Some(first) => {
                let rel = i64::from(seq.wrapping_sub(first) as i32);
                stream.earliest[side] = stream.earliest[side].min(rel);
            }
        }
        self.segments.push(Segment { stream: index, side, seq, payload: payload.to_vec() });
    }

    fn finish(mut self) -> Capture {
        let counts = [
            (self.unparsable, Warning::Unparsable as fn(u64) -> Warning),
            (self.fragments, Warning::Fragments),
            (self.no_interface, Warning::NoInterface),
        ];
        for (n, warning) in counts {
            if n > 0 {
                self.warnings.push(warning(n));
            }
        }
        for lt in &self.unsupported {
            self.warnings.push(Warning::UnsupportedLinkType(lt.0));
        }
        if self.segments.is_empty() {
            self.warnings.push(Warning::NoTcpPayload { port: self.port });
        }
        Capture { streams: self.streams, segments: self.segments, warnings: self.warnings }
    }
}

/// One direction of one TCP connection, being put back in order.
///
/// Segments go in as captured (out of order, repeated, overlapping); the
/// bytes come out once each, in stream order. Bytes after a hole wait
/// until the hole is filled, and are reported by [`gap`](Flow::gap) when
/// it never is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Sequence number of the first payload byte.
    base: u32,
    /// Stream offset of the next byte to hand out.
    next: u64,
    /// Segments that arrived ahead of `next`, by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    /// The reader gave up on this direction: the rest is noise.
    stopped: bool,
}

/// Bytes missing from a direction at the end of the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Stream offset of the first missing byte.
    pub offset: u64,
    /// How many bytes are missing before the next captured ones.
    pub missing: u64,
    /// Captured bytes after the gap, which could not be handed out.
    pub after: u64,
}

impl Flow {
    /// A flow whose first payload byte has sequence number `base` (see
    /// [`Stream::base`]).
    pub fn new(base: u32) -> Flow {
        Flow { base, next: 0, pending: BTreeMap::new(), stopped: false }
    }

    /// Takes one segment and appends to `out` the bytes that are now in
    /// order (none if it is ahead of a hole, repeats bytes already handed
    /// out, or the flow is stopped). Returns how many were appended.
    pub fn segment(&mut self, seq: u32, payload: &[u8], out: &mut Vec<u8>) -> usize {
        if self.stopped || payload.is_empty() {
            return 0;
        }
        // Place the segment relative to `next` in sequence space, so long
        // streams and sequence wrap-around need no special case.
        let expected = self.base.wrapping_add(self.next as u32);
        let start = self.next as i64 + i64::from(seq.wrapping_sub(expected) as i32);
        let end = start + payload.len() as i64;
        if end <= self.next as i64 {
            return 0; // a retransmission of bytes already handed out
        }
        if start > self.next as i64 {
            let slot = self.pending.entry(start as u64).or_default();
            if slot.len() < payload.len() {
                *slot = payload.to_vec();
            }
            return 0;
        }
        let before = self.next;
        self.take(start, payload, out);
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let start = *entry.key() as i64;
            let data = entry.remove();
            self.take(start, &data, out);
        }
        (self.next - before) as usize
    }

    /// Appends the part of `data` (which starts at `start`) past `next`.
    fn take(&mut self, start: i64, data: &[u8], out: &mut Vec<u8>) {
        let skip = (self.next as i64 - start).max(0) as usize;
        if let Some(fresh) = data.get(skip..) {
            out.extend_from_slice(fresh);
            self.next += fresh.len() as u64;
        }
    }

    /// Stream offset of the next byte to hand out: how many were.
    pub fn offset(&self) -> u64 {
        self.next
    }

    /// Stops the flow: later segments are ignored and waiting ones are
    /// dropped (for when the bytes handed out so far cannot be framed).
    pub fn stop(&mut self) {
        self.stopped = true;
        self.pending.clear();
    }

    /// Whether [`stop`](Flow::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The hole that keeps captured bytes from being handed out, if any.
    pub fn gap(&self) -> Option<Gap> {
        let (&at, _) = self.pending.first_key_value()?;
        Some(Gap {
            offset: self.next,
            missing: at - self.next,
            after: self.pending.values().map(|v| v.len() as u64).sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(flow: &mut Flow, segments: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (seq, data) in segments {
            flow.segment(*seq, data, &mut out);
        }
        out
    }

    #[test]
    fn reorders_drops_repeats_and_trims_overlaps() {
        let mut flow = Flow::new(1000);
        let out = run(
            &mut flow,
            &[(1005, b"fgh"), (1000, b"abc"), (1000, b"abc"), (1002, b"cde"), (1007, b"hij")],
        );
        assert_eq!(out, b"abcdefghij");
        assert_eq!(flow.offset(), 10);
        assert_eq!(flow.gap(), None);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut flow = Flow::new(u32::MAX - 1);
        assert_eq!(run(&mut flow, &[(0, b"cd"), (u32::MAX - 1, b"ab")]), b"abcd");
    }

    #[test]
    fn a_hole_is_a_gap_and_stop_drops_what_waits() {
        let mut flow = Flow::new(0);
        assert_eq!(run(&mut flow, &[(0, b"ab"), (5, b"fg"), (9, b"j")]), b"ab");
        assert_eq!(flow.gap(), Some(Gap { offset: 2, missing: 3, after: 3 }));
        flow.stop();
        assert!(flow.is_stopped());
        assert_eq!(flow.gap(), None);
        assert_eq!(run(&mut flow, &[(2, b"cde")]), b"");
    }

    #[test]
    fn not_a_capture() {
        assert_eq!(read(b"hello world, this is text", None), Err(CaptureError::NotACapture));
        assert!(!is_capture(b"\xd4\xc3\xb2"));
        assert!(is_capture(b"\xd4\xc3\xb2\xa1"));
    }

    #[test]
    fn a_block_shorter_than_its_framing_is_malformed() {
        // Found by fuzzing: a Process Information Block 5 bytes long, after
        // a section header; little- and big-endian.
        let le = b"\x0a\x0d\x0d\x0a\x1c\0\0\0\x4d\x3c\x2b\x1a\x01\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\x1c\0\0\0\
                   \x01\0\0\x80\x05\0\0\0\xa0\x41\xd4\0";
        let be = b"\x0a\x0d\x0d\x0a\0\0\0\x1c\x1a\x2b\x3c\x4d\0\x01\0\0\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\x1c\
                   \x80\0\0\x01\0\0\0\x05\xa0\x41\xd4\0";
        for capture in [&le[..], &be[..]] {
            let err = read(capture, None).unwrap_err();
            assert_eq!(err, CaptureError::Malformed { offset: 28, reason: "Verify".into() });
            assert_eq!(err.to_string(), "malformed block at byte 28 (Verify)");
        }
    }

    #[test]
    fn an_empty_pcap_warns_of_no_payload() {
        let header = [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0,
            0,
        ];
        let capture = read(&header, Some(7000)).unwrap();
        assert!(capture.streams.is_empty());
        assert_eq!(capture.warnings, vec![Warning::NoTcpPayload { port: Some(7000) }]);
        assert_eq!(capture.warnings[0].to_string(), "no TCP payload on port 7000 in the capture");
    }
}

//! `veltix decode`: the frame inspector.
//!
//! Reads raw frames, hex text or a pcap/pcapng capture and lists every
//! frame: where it starts, its header fields, whether its CRC holds, and a
//! dump of its payload (or one JSON object per frame with `--json`).
//! Raw and hex input are decoded as they arrive, so a live pipe can be
//! watched; a capture is read whole, because its TCP streams are put back
//! in order before framing.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use serde::Serialize;
use veltix::types::{HELLO, HELLO_ACK};
use veltix::{Decoder, Header, RawFrame, TypeRegistry, HEADER_LEN};

use crate::cli::{exit, GlobalArgs};
use crate::output::hexdump::write_hexdump;
use crate::output::{hex, json, time, Palette, Role};

const EXAMPLES: &str = "\
Examples:
  veltix decode frames.bin
  veltix encode --type chat Hello | veltix decode --type-name 200=chat
  xxd frames.bin | veltix decode
  veltix decode --port 7000 chat.pcap       # from: tcpdump -i lo -w chat.pcap
  veltix decode --json capture.pcapng | jq -r .payload_text

The input format is detected from the first bytes: a pcap or pcapng
magic number, text that reads as hex (plain, spaced, `xxd` or
`hexdump -C`), else raw frames. Frames from a capture are labelled with
their TCP stream number and direction: '>' client to server, '<' server
to client (the client is the side that sent the SYN, else the first one
seen sending).

Exit status: 0 when every frame is valid; 1 when any frame is not (CRC
mismatch, incomplete frame, header over --max-message-size, bytes
missing from a capture) or the input cannot be read.";

/// Options of `veltix decode`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// What to read: raw frames, hex text, or a pcap/pcapng capture; `-`
    /// or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Read the input as this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input: Option<InputFormat>,
    /// Print one JSON object per frame per line (NDJSON) instead of the
    /// listing; problems are objects with an "error" field.
    #[arg(long)]
    pub json: bool,
    /// Dump at most N payload bytes per frame (0: no limit). JSON output
    /// always carries the whole payload.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_bytes: usize,
    /// Largest frame accepted, header included: bytes, or with a KiB/MiB
    /// suffix. A header declaring more desynchronises the stream, so
    /// decoding of that stream stops there.
    #[arg(long, value_name = "BYTES", default_value = "10MiB", value_parser = parse_size)]
    pub max_message_size: usize,
    /// Captures only: decode only the TCP connections with this port at
    /// either end.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
}

/// `--input` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Raw frame bytes, as sent on the wire.
    Bin,
    /// Hex text: plain, spaced, `xxd` or `hexdump -C`.
    Hex,
    /// A pcap or pcapng capture of TCP traffic.
    Pcap,
}

/// Runs `veltix decode`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let types = global.types.registry()?;
    let stdout = io::stdout();
    let mut report = Report {
        out: io::BufWriter::new(stdout.lock()),
        json: args.json,
        palette: Palette::new(!args.json && global.color.for_stdout()),
        types,
        max_bytes: args.max_bytes,
        frames: 0,
        invalid: 0,
        errors: 0,
        announced: Vec::new(),
    };
    let warn = Palette::new(global.color.for_stderr());
    match inspect(&args, &mut report, warn).and_then(|()| report.finish().map_err(Into::into)) {
        Ok(()) => {}
        // `veltix decode | head`: the reader has seen enough.
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => {
            // Show what was decoded before the failure, then the error.
            let _ = report.out.flush();
            return Err(e);
        }
    }
    Ok(if report.all_valid() { ExitCode::SUCCESS } else { ExitCode::from(exit::ERROR) })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Parses `--max-message-size`: bytes, or a number with a K/KiB, M/MiB or
/// G/GiB suffix (binary multiples).
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "'{s}' is not a size; use bytes or a KiB/MiB suffix, e.g. 65536 or 10MiB"
            ))
        }
    };
    let n: u64 = num.parse().map_err(|_| {
        format!("'{s}' is not a size; use bytes or a KiB/MiB suffix, e.g. 65536 or 10MiB")
    })?;
    let size = n
        .checked_mul(mult)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| format!("'{s}' is too large"))?;
    if size < HEADER_LEN {
        return Err(format!("'{s}' is smaller than a frame header ({HEADER_LEN} bytes)"));
    }
    Ok(size)
}

/// Opens the input, picks its format and decodes it into `report`.
fn inspect<W: Write>(args: &Args, report: &mut Report<W>, warn: Palette) -> Result<()> {
    let (name, mut input): (String, Box<dyn Read>) = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let file =
                File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            (path.display().to_string(), Box::new(file))
        }
        _ => ("stdin".to_string(), Box::new(io::stdin().lock())),
    };
    // Enough to tell the formats apart: a capture's magic number, or a
    // frame header (whose timestamp always holds zero bytes, which hex
    // text never does).
    let head = read_head(&mut input, HEADER_LEN).with_context(|| format!("cannot read {name}"))?;
    let format = args.input.unwrap_or_else(|| detect(&head));
    let max = args.max_message_size;
    match format {
        InputFormat::Bin => decode_bin(head, &mut input, &name, max, report),
        InputFormat::Hex => {
            let reader = BufReader::new(Cursor::new(head).chain(input));
            decode_hex(reader, &name, max, report, args.input.is_none())
        }
        InputFormat::Pcap => {
            let mut data = head;
            input.read_to_end(&mut data).with_context(|| format!("cannot read {name}"))?;
            let capture = capture::read(&data, args.port)
                .with_context(|| format!("cannot read {name} as a pcap or pcapng capture"))?;
            for w in &capture.warnings {
                eprintln!("{} {name}: {w}", warn.paint(Role::Warn, "warning:"));
            }
            decode_capture(&capture, max, report)
        }
    }
}

/// Reads until `want` bytes are in or the input ends.
fn read_head(r: &mut dyn Read, want: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// Guesses the input format from its first bytes.
fn detect(head: &[u8]) -> InputFormat {
    const MAGICS: [[u8; 4]; 5] = [
        [0xa1, 0xb2, 0xc3, 0xd4], // pcap, microseconds
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d], // pcap, nanoseconds
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0x0a, 0x0d, 0x0d, 0x0a], // pcapng section header
    ];
    if head.len() >= 4 && MAGICS.iter().any(|m| head[..4] == m[..]) {
        InputFormat::Pcap
    } else if !head.is_empty()
        && head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        InputFormat::Hex
    } else {
        InputFormat::Bin
    }
}

fn decode_bin<W: Write>(
    head: Vec<u8>,
    input: &mut dyn Read,
    name: &str,
    max: usize,
    report: &mut Report<W>,
) -> Result<()> {
    let mut dec = Decoder::new(max);
    dec.push(&head);
    loop {
        if !report.drain(&mut dec, None)? {
            return Ok(());
        }
        match dec.read_from(input, 64 * 1024) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {name}")),
        }
    }
    report.end_of_stream(&dec, None)?;
    Ok(())
}

fn decode_hex<W: Write>(
    mut input: impl BufRead,
    name: &str,
    max: usize,
    report: &mut Report<W>,
    detected: bool,
) -> Result<()> {
    let hint =
        if detected { " (it looked like hex text; --input bin reads it as raw bytes)" } else { "" };
    let mut dec = Decoder::new(max);
    let mut reader = hex::HexReader::new();
    let mut line = Vec::new();
    let mut bytes = Vec::new();
    loop {
        line.clear();
        let n =
            input.read_until(b'\n', &mut line).with_context(|| format!("cannot read {name}"))?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        reader
            .line(text.trim_end_matches(['\n', '\r']), &mut bytes)
            .with_context(|| format!("{name} is not valid hex text{hint}"))?;
        dec.push(&bytes);
        bytes.clear();
        if !report.drain(&mut dec, None)? {
            return Ok(());
        }
    }
    reader.finish().with_context(|| format!("{name} is not valid hex text{hint}"))?;
    report.end_of_stream(&dec, None)?;
    Ok(())
}

/// One direction of one TCP connection, being put back in order.
struct Flow {
    /// Sequence number of the first payload byte.
    base: u32,
    /// Stream offset of the next byte to hand to the decoder.
    next: u64,
    /// Segments that arrived ahead of `next`, by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    decoder: Decoder,
    /// The decoder hit a fatal error: the rest of this direction is noise.
    dead: bool,
}

impl Flow {
    /// Takes one segment; returns whether new bytes reached the decoder.
    fn segment(&mut self, seq: u32, payload: &[u8]) -> bool {
        if self.dead || payload.is_empty() {
            return false;
        }
        // Place the segment relative to `next` in sequence space, so long
        // streams and sequence wrap-around need no special case.
        let expected = self.base.wrapping_add(self.next as u32);
        let start = self.next as i64 + i64::from(seq.wrapping_sub(expected) as i32);
        let end = start + payload.len() as i64;
        if end <= self.next as i64 {
            return false; // a retransmission of bytes already taken
        }
        if start > self.next as i64 {
            let slot = self.pending.entry(start as u64).or_default();
            if slot.len() < payload.len() {
                *slot = payload.to_vec();
            }
            return false;
        }
        self.take(start, payload);
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let start = *entry.key() as i64;
            let data = entry.remove();
            self.take(start, &data);
        }
        true
    }

    /// Hands the part of `data` (which starts at `start`) past `next` on.
    fn take(&mut self, start: i64, data: &[u8]) {
        let skip = (self.next as i64 - start).max(0) as usize;
        if let Some(fresh) = data.get(skip..) {
            self.decoder.push(fresh);
            self.next += fresh.len() as u64;
        }
    }
}

fn decode_capture<W: Write>(
    cap: &capture::Capture,
    max: usize,
    report: &mut Report<W>,
) -> Result<()> {
    let mut flows: Vec<[Flow; 2]> = cap
        .streams
        .iter()
        .map(|s| {
            [0, 1].map(|side| Flow {
                base: s.base(side),
                next: 0,
                pending: BTreeMap::new(),
                decoder: Decoder::new(max),
                dead: false,
            })
        })
        .collect();
    for seg in &cap.segments {
        let flow = &mut flows[seg.stream][seg.side];
        if flow.segment(seg.seq, &seg.payload) {
            let tag = cap.tag(seg.stream, seg.side);
            if !report.drain(&mut flow.decoder, Some(&tag))? {
                flow.dead = true;
                flow.pending.clear();
            }
        }
    }
    for (index, pair) in flows.iter().enumerate() {
        let client = cap.streams[index].client;
        for side in [client, 1 - client] {
            let flow = &pair[side];
            if flow.dead {
                continue;
            }
            let tag = cap.tag(index, side);
            if let Some((&at, _)) = flow.pending.first_key_value() {
                let after: usize = flow.pending.values().map(Vec::len).sum();
                let msg = format!(
                    "{} bytes of this stream were not captured; {after} captured bytes after the gap are not decoded",
                    at - flow.next
                );
                report.problem(Problem::Gap, flow.next, Some(&tag), msg)?;
            }
            report.end_of_stream(&flow.decoder, Some(&tag))?;
        }
    }
    Ok(())
}

/// Direction of a frame in a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    fn arrow(self) -> &'static str {
        match self {
            Dir::ToServer => ">",
            Dir::ToClient => "<",
        }
    }
}

/// Where in a capture a frame was found.
struct StreamTag {
    index: usize,
    dir: Dir,
    client: SocketAddr,
    server: SocketAddr,
}

#[derive(Debug, Clone, Copy)]
enum Problem {
    /// The input ends inside a frame.
    Truncated,
    /// A header declares more than `--max-message-size`.
    TooLarge,
    /// Bytes missing from a captured stream.
    Gap,
}

impl Problem {
    fn kind(self) -> &'static str {
        match self {
            Problem::Truncated => "truncated",
            Problem::TooLarge => "too_large",
            Problem::Gap => "gap",
        }
    }
}

/// One frame as a JSON line.
#[derive(Serialize)]
struct FrameJson<'a> {
    frame: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    offset: u64,
    type_code: u16,
    type_name: &'a str,
    size: u32,
    crc_stated: String,
    crc_computed: String,
    crc_ok: bool,
    timestamp_ms: u64,
    timestamp: String,
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_error: Option<String>,
    #[serde(flatten)]
    payload: json::Payload,
}

/// One problem as a JSON line.
#[derive(Serialize)]
struct ProblemJson {
    error: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    offset: u64,
}

/// Writes frames and problems as they are found, and counts them.
struct Report<W: Write> {
    out: W,
    json: bool,
    palette: Palette,
    types: TypeRegistry,
    max_bytes: usize,
    /// Frames seen, whole or not.
    frames: u64,
    /// Frames that are not valid (CRC, truncated, oversize).
    invalid: u64,
    /// Faults outside any frame (capture gaps).
    errors: u64,
    /// Streams whose endpoints the listing has named.
    announced: Vec<bool>,
}

impl<W: Write> Report<W> {
    fn all_valid(&self) -> bool {
        self.invalid == 0 && self.errors == 0
    }

    /// Reports every whole frame `dec` holds. Returns false after a fatal
    /// error (reported too): the stream cannot be read further.
    fn drain(&mut self, dec: &mut Decoder, tag: Option<&StreamTag>) -> io::Result<bool> {
        loop {
            match dec.next_raw() {
                Ok(Some(raw)) => self.frame(&raw, tag)?,
                Ok(None) => return Ok(true),
                Err(e) => {
                    let msg = format!(
                        "{e}; the stream cannot be resynchronised, decoding of it stops here"
                    );
                    self.problem(Problem::TooLarge, dec.stream_offset(), tag, msg)?;
                    return Ok(false);
                }
            }
        }
    }

    /// Reports the bytes left in `dec` when its input has ended.
    fn end_of_stream(&mut self, dec: &Decoder, tag: Option<&StreamTag>) -> io::Result<()> {
        let left = dec.buffered();
        if left.is_empty() {
            return Ok(());
        }
        let msg = match Header::peek(left) {
            Some(h) => format!(
                "incomplete frame: the input ends after {} of its {} bytes ({HEADER_LEN}-byte header + {} payload)",
                left.len(),
                h.frame_len(),
                h.size
            ),
            None => format!(
                "incomplete frame: the input ends after {} of the {HEADER_LEN} header bytes",
                left.len()
            ),
        };
        self.problem(Problem::Truncated, dec.stream_offset(), tag, msg)
    }

    fn frame(&mut self, raw: &RawFrame, tag: Option<&StreamTag>) -> io::Result<()> {
        self.frames += 1;
        let h = &raw.header;
        let computed = raw.computed_crc();
        let crc_ok = computed == h.crc;
        if !crc_ok {
            self.invalid += 1;
        }
        let name = self.types.label(h.type_code);
        let hello = matches!(h.type_code, HELLO | HELLO_ACK)
            .then(|| veltix::handshake::parse_hello(&raw.payload).map_err(|e| e.to_string()));
        if self.json {
            let record = FrameJson {
                frame: self.frames,
                stream: tag.map(|t| t.index),
                direction: tag.map(|t| t.dir.arrow()),
                client: tag.map(|t| t.client.to_string()),
                server: tag.map(|t| t.server.to_string()),
                offset: raw.offset,
                type_code: h.type_code,
                type_name: &name,
                size: h.size,
                crc_stated: format!("{:08x}", h.crc),
                crc_computed: format!("{computed:08x}"),
                crc_ok,
                timestamp_ms: h.timestamp_ms,
                timestamp: time::format_utc_ms(h.timestamp_ms),
                request_id: h.request_id.to_string(),
                version: hello.clone().and_then(Result::ok),
                version_error: hello.and_then(Result::err),
                payload: json::Payload::new(&raw.payload),
            };
            return json::write_line(&mut self.out, &record);
        }
        let p = self.palette;
        self.announce(tag)?;
        write!(self.out, "{}  ", p.paint(Role::Strong, format!("frame {}", self.frames)))?;
        self.location(tag, raw.offset)?;
        write!(
            self.out,
            "{} ({})  {} bytes  crc {:08x} ",
            p.paint(Role::Accent, &name),
            h.type_code,
            h.size,
            h.crc
        )?;
        if crc_ok {
            write!(self.out, "{}", p.paint(Role::Good, "OK"))?;
        } else {
            write!(
                self.out,
                "{} (payload hashes to {computed:08x})",
                p.paint(Role::Bad, "MISMATCH")
            )?;
        }
        write!(
            self.out,
            "  {}  id {}",
            time::format_utc_ms(h.timestamp_ms),
            p.paint(Role::Accent, h.request_id)
        )?;
        match hello {
            Some(Ok(v)) => write!(self.out, "  version {v}")?,
            Some(Err(e)) => write!(self.out, "  {}", p.paint(Role::Warn, e))?,
            None => {}
        }
        writeln!(self.out)?;
        if !raw.payload.is_empty() {
            write_hexdump(&mut self.out, &raw.payload, self.max_bytes, "    ", p)?;
            writeln!(self.out)?;
        }
        Ok(())
    }

    fn problem(
        &mut self,
        problem: Problem,
        offset: u64,
        tag: Option<&StreamTag>,
        msg: String,
    ) -> io::Result<()> {
        match problem {
            Problem::Truncated | Problem::TooLarge => {
                self.frames += 1;
                self.invalid += 1;
            }
            Problem::Gap => self.errors += 1,
        }
        if self.json {
            let record = ProblemJson {
                error: msg,
                kind: problem.kind(),
                stream: tag.map(|t| t.index),
                direction: tag.map(|t| t.dir.arrow()),
                offset,
            };
            return json::write_line(&mut self.out, &record);
        }
        self.announce(tag)?;
        write!(self.out, "{}  ", self.palette.paint(Role::Bad, "error"))?;
        self.location(tag, offset)?;
        writeln!(self.out, "{msg}")
    }

    /// `stream 0 >  offset 57  ` (or just the offset outside captures).
    fn location(&mut self, tag: Option<&StreamTag>, offset: u64) -> io::Result<()> {
        if let Some(t) = tag {
            write!(self.out, "stream {} {}  ", t.index, t.dir.arrow())?;
        }
        write!(self.out, "{}  ", self.palette.paint(Role::Dim, format!("offset {offset}")))
    }

    /// Names a stream's endpoints before its first line in the listing.
    fn announce(&mut self, tag: Option<&StreamTag>) -> io::Result<()> {
        let Some(t) = tag else { return Ok(()) };
        if self.announced.len() <= t.index {
            self.announced.resize(t.index + 1, false);
        }
        if !self.announced[t.index] {
            self.announced[t.index] = true;
            let line = format!("stream {}: client {} > server {}", t.index, t.client, t.server);
            writeln!(self.out, "{}", self.palette.paint(Role::Strong, line))?;
        }
        Ok(())
    }

    /// The summary line (text mode), then flush.
    fn finish(&mut self) -> io::Result<()> {
        if !self.json {
            let p = self.palette;
            let plural =
                |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
            let mut line =
                format!("{}, {} invalid", plural(self.frames, "frame", "frames"), self.invalid);
            if self.errors > 0 {
                line.push_str(&format!(", {}", plural(self.errors, "capture gap", "capture gaps")));
            }
            let role = if self.all_valid() { Role::Good } else { Role::Bad };
            writeln!(self.out, "{}", p.paint(role, line))?;
        }
        self.out.flush()
    }
}

/// Reading TCP payloads out of pcap and pcapng captures.
mod capture {
    use std::collections::HashMap;
    use std::net::{IpAddr, SocketAddr};

    use anyhow::{anyhow, Result};
    use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
    use pcap_parser::data::{get_packetdata, PacketData};
    use pcap_parser::pcapng::Block;
    use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

    use super::{Dir, StreamTag};

    /// A TCP segment with payload, in capture order.
    pub struct Segment {
        /// Index into [`Capture::streams`].
        pub stream: usize,
        /// Which end sent it: index into [`Stream::ends`].
        pub side: usize,
        /// Sequence number of the first payload byte.
        pub seq: u32,
        pub payload: Vec<u8>,
    }

    /// One TCP connection. Its two ends are its sides 0 and 1.
    pub struct Stream {
        pub ends: [SocketAddr; 2],
        /// The side that opened the connection (or spoke first).
        pub client: usize,
        /// Whether `client` comes from a SYN rather than a guess.
        client_known: bool,
        /// Whether any payload was seen (the first to send one is the
        /// client when no SYN was captured).
        spoke: bool,
        /// Initial sequence number of each side, from its SYN.
        isn: [Option<u32>; 2],
        /// First payload sequence number seen per side, and how far before
        /// it the earliest payload starts (for captures without the SYN).
        first_seq: [Option<u32>; 2],
        earliest: [i64; 2],
    }

    impl Stream {
        /// Sequence number of the first payload byte of `side`.
        pub fn base(&self, side: usize) -> u32 {
            match (self.isn[side], self.first_seq[side]) {
                (Some(isn), _) => isn.wrapping_add(1),
                (None, Some(first)) => first.wrapping_add(self.earliest[side] as u32),
                (None, None) => 0,
            }
        }
    }

    /// The TCP payloads of a capture.
    pub struct Capture {
        pub streams: Vec<Stream>,
        pub segments: Vec<Segment>,
        /// Things worth telling that do not stop decoding.
        pub warnings: Vec<String>,
    }

    impl Capture {
        pub fn tag(&self, stream: usize, side: usize) -> StreamTag {
            let s = &self.streams[stream];
            StreamTag {
                index: stream,
                dir: if side == s.client { Dir::ToServer } else { Dir::ToClient },
                client: s.ends[s.client],
                server: s.ends[1 - s.client],
            }
        }
    }

    /// Reads every TCP segment with payload (only those with `port` at one
    /// end, when given) and sorts them into connections.
    pub fn read(data: &[u8], port: Option<u16>) -> Result<Capture> {
        // The whole capture is in memory already: a buffer as large as it
        // lets the reader parse any record without growing.
        let capacity = data.len().max(65536) + 1;
        let mut reader = pcap_parser::create_reader(capacity, data)
            .map_err(|e| anyhow!("{}", describe(&e, 0)))?;
        let mut builder = Builder::new(port);
        let mut legacy: Option<Linktype> = None;
        let mut interfaces: Vec<Linktype> = Vec::new();
        let mut consumed = 0usize;
        loop {
            match reader.next() {
                Ok((len, block)) => {
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => legacy = Some(h.network),
                        PcapBlockOwned::Legacy(b) => {
                            builder.packet(legacy.unwrap_or(Linktype::ETHERNET), b.data)
                        }
                        PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
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
                    reader.refill().map_err(|e| anyhow!("{}", describe(&e, 0)))?;
                }
                Err(PcapError::UnexpectedEof) => {
                    builder.warnings.push(
                        "the capture ends inside a packet record (was the capture cut short?)"
                            .into(),
                    );
                    break;
                }
                Err(e) => {
                    return Err(anyhow!("{}", describe(&e, consumed)));
                }
            }
        }
        Ok(builder.finish())
    }

    fn describe<I>(e: &PcapError<I>, at: usize) -> String {
        match e {
            PcapError::HeaderNotRecognized => {
                "the header is not a pcap or pcapng header".to_string()
            }
            PcapError::Eof | PcapError::UnexpectedEof | PcapError::Incomplete(_) => {
                "the capture ends too early".to_string()
            }
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                format!("malformed block at byte {at} ({kind:?})")
            }
            PcapError::BufferTooSmall => format!("block too large at byte {at}"),
            PcapError::ReadError => "read error".to_string(),
        }
    }

    struct Builder {
        port: Option<u16>,
        flows: HashMap<[SocketAddr; 2], usize>,
        streams: Vec<Stream>,
        segments: Vec<Segment>,
        warnings: Vec<String>,
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
            // A SYN on a known address pair opens a new connection, unless
            // it repeats the SYN that opened the current one.
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
            if self.unparsable > 0 {
                self.warnings.push(format!(
                    "{} packets could not be parsed and were skipped",
                    self.unparsable
                ));
            }
            if self.fragments > 0 {
                self.warnings.push(format!(
                    "{} IP fragments were skipped (reassembly of IP fragments is not supported)",
                    self.fragments
                ));
            }
            if self.no_interface > 0 {
                self.warnings.push(format!(
                    "{} packets name no known interface and were skipped",
                    self.no_interface
                ));
            }
            for lt in &self.unsupported {
                self.warnings
                    .push(format!("link type {lt} is not supported; its packets were skipped"));
            }
            if self.segments.is_empty() {
                let filter = self.port.map(|p| format!(" on port {p}")).unwrap_or_default();
                self.warnings.push(format!("no TCP payload{filter} in the capture"));
            }
            Capture { streams: self.streams, segments: self.segments, warnings: self.warnings }
        }
    }
}

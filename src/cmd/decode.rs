//! `veltix decode`: the frame inspector.
//!
//! Reads raw frames, hex text or a pcap/pcapng capture and lists every
//! frame: where it starts, its header fields, whether its CRC holds, and a
//! dump of its payload (or one JSON object per frame with `--json`).
//! Each input (each direction of a captured connection) is read as the
//! 1.6.3 wire or the VX wire of veltix 2.0.3 to 3.3.x (`vx`), detected
//! from its first bytes unless `--wire` says which.
//! Raw and hex input are decoded as they arrive, so a live pipe can be
//! watched; a capture is read whole, because its TCP streams are put back
//! in order before framing.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use serde::Serialize;
use veltix::inspect::hex::{HexStream, ReadError};
use veltix::inspect::pcap::{self, Capture, Direction};
use veltix::inspect::{self, Format};
use veltix::types::{HELLO, HELLO_ACK, SYSTEM_TYPES};
use veltix::vx::VxHeader;
use veltix::{Decoder, Header, RawFrame, TypeRegistry, HEADER_LEN};

use crate::args::{exit, GlobalArgs, WireArg};
use crate::output::hexdump::write_hexdump;
use crate::output::{json, time, Palette, Role};

mod vx;

const EXAMPLES: &str = "\
Examples:
  veltix decode frames.bin
  veltix encode --type chat Hello | veltix decode --type-name 200=chat
  veltix encode --wire vx --id 1234 hello | veltix decode
  xxd frames.bin | veltix decode
  veltix decode --port 7000 chat.pcap       # from: tcpdump -i lo -w chat.pcap
  veltix decode --json capture.pcapng | jq -r .payload_text

The input format is detected from the first bytes: a pcap or pcapng
magic number, text that reads as hex (plain, spaced, `xxd` or
`hexdump -C`), else raw frames. Frames from a capture are labelled with
their TCP stream number and direction: '>' client to server, '<' server
to client (the client is the side that sent the SYN, else the first one
seen sending).

Two wire profiles are read (--wire): 1.6 is veltix 1.6.3 (22-byte header
with a timestamp and an 8-hex-digit request id; HELLO / HELLO_ACK frames);
vx is veltix 2.0.3 to 3.3.x (15-byte header starting with the magic VX,
flags, a 4-hex-digit request id; before any frame, JSON handshake messages
each behind a 2-byte length). With --wire auto (the default) each input,
and each direction of a captured connection, is vx when it starts with
VX or with a 2-byte length and '{', else 1.6.

In a vx stream, JSON handshake messages are listed as server hello,
client hello (in captures; hello elsewhere), result ok or error, with
their JSON text; a hello that fails the handshake check (no pv, a pv of
another major: docs/wire-vx.md) is flagged. A vx frame with a bad CRC is shown and skipped by its
size; junk, a frame with reserved flags set or an oversize header is
reported with the number of bytes skipped to the next VX magic, and
decoding goes on from there.

JSON fields (--json, one object a line): a frame has frame, offset,
type_code, type_name, size, crc_stated, crc_computed, crc_ok, request_id
and payload_text or payload_hex; 1.6 frames add timestamp_ms, timestamp
(and version for HELLO / HELLO_ACK), vx frames add \"wire\": \"vx\" and
flags, and their request_id has 4 hex digits. A vx handshake message has
handshake (server_hello, client_hello, hello, result_ok, result, error),
offset, wire, length and json (the text), and hello_error when a hello
fails the check. A problem has error, kind (truncated, too_large, gap,
bad_magic, bad_flags, bad_handshake) and offset, and skipped (bytes) when
decoding resynchronised. In captures, every object has stream and
direction, frames and messages also client and server.

Exit status: 0 when every frame is valid; 1 when any frame is not (CRC
mismatch, incomplete frame, header over --max-message-size, bytes
missing from a capture; in vx, also junk, reserved flags set and a bad
handshake message) or the input cannot be read.";

/// Inspect Veltix frames in a file, hex text or a pcap capture.
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
    /// suffix. A header declaring more desynchronises the stream: a 1.6
    /// stream is decoded no further, a vx stream resumes at the next magic.
    #[arg(long, value_name = "BYTES", default_value = "10MiB", value_parser = parse_size)]
    pub max_message_size: usize,
    /// Captures only: decode only the TCP connections with this port at
    /// either end.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x), or
    /// auto: detected for each input and each direction of a captured
    /// connection.
    #[arg(long, value_enum, value_name = "WIRE", default_value_t = WireArg::Auto)]
    pub wire: WireArg,
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
        handshakes: 0,
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
    let format = args.input.unwrap_or_else(|| match inspect::detect(&head) {
        Format::Raw => InputFormat::Bin,
        Format::Hex => InputFormat::Hex,
        Format::Capture => InputFormat::Pcap,
    });
    let new_stream = |dir| Stream::new(args.wire, args.max_message_size, dir);
    match format {
        InputFormat::Bin => decode_bin(head, &mut input, &name, new_stream(None), report),
        InputFormat::Hex => {
            let reader = BufReader::new(Cursor::new(head).chain(input));
            decode_hex(reader, &name, new_stream(None), report, args.input.is_none())
        }
        InputFormat::Pcap => {
            let mut data = head;
            input.read_to_end(&mut data).with_context(|| format!("cannot read {name}"))?;
            let capture = pcap::read(&data, args.port)
                .with_context(|| format!("cannot read {name} as a pcap or pcapng capture"))?;
            for w in &capture.warnings {
                eprintln!("{} {name}: {w}", warn.paint(Role::Warn, "warning:"));
            }
            decode_capture(&capture, new_stream, report)
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

fn decode_bin<W: Write>(
    head: Vec<u8>,
    input: &mut dyn Read,
    name: &str,
    mut stream: Stream,
    report: &mut Report<W>,
) -> Result<()> {
    stream.push(&head);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if !report.drain(&mut stream, None)? {
            return Ok(());
        }
        match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => stream.push(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {name}")),
        }
    }
    report.end_of_stream(&mut stream, None)?;
    Ok(())
}

fn decode_hex<W: Write>(
    input: impl BufRead,
    name: &str,
    mut dec: Stream,
    report: &mut Report<W>,
    detected: bool,
) -> Result<()> {
    let hint =
        if detected { " (it looked like hex text; --input bin reads it as raw bytes)" } else { "" };
    let mut stream = HexStream::new(input);
    let mut bytes = Vec::new();
    loop {
        match stream.read_line(&mut bytes) {
            Ok(true) => {}
            Ok(false) => break,
            Err(ReadError::Io(e)) => return Err(e).with_context(|| format!("cannot read {name}")),
            Err(ReadError::Hex(e)) => {
                return Err(e).with_context(|| format!("{name} is not valid hex text{hint}"))
            }
        }
        dec.push(&bytes);
        bytes.clear();
        if !report.drain(&mut dec, None)? {
            return Ok(());
        }
    }
    report.end_of_stream(&mut dec, None)?;
    Ok(())
}

fn decode_capture<W: Write>(
    cap: &Capture,
    new_stream: impl Fn(Option<Direction>) -> Stream,
    report: &mut Report<W>,
) -> Result<()> {
    let mut flows = cap.flows();
    let mut decoders: Vec<[Stream; 2]> = cap
        .streams
        .iter()
        .map(|s| [0, 1].map(|side| new_stream(Some(s.direction(side)))))
        .collect();
    let mut bytes = Vec::new();
    for seg in &cap.segments {
        let flow = &mut flows[seg.stream][seg.side];
        bytes.clear();
        if flow.segment(seg.seq, &seg.payload, &mut bytes) > 0 {
            let decoder = &mut decoders[seg.stream][seg.side];
            decoder.push(&bytes);
            if !report.drain(decoder, Some(&tag(cap, seg.stream, seg.side)))? {
                flow.stop();
            }
        }
    }
    for (index, stream) in cap.streams.iter().enumerate() {
        for side in [stream.client, 1 - stream.client] {
            let flow = &flows[index][side];
            if flow.is_stopped() {
                continue;
            }
            let tag = tag(cap, index, side);
            if let Some(gap) = flow.gap() {
                let msg = format!(
                    "{} bytes of this stream were not captured; {} captured bytes after the gap are not decoded",
                    gap.missing, gap.after
                );
                report.problem(Problem::Gap, gap.offset, Some(&tag), msg, None)?;
            }
            report.end_of_stream(&mut decoders[index][side], Some(&tag))?;
        }
    }
    Ok(())
}

/// One byte stream being decoded (an input, or one direction of a captured
/// connection) in its wire profile, once that is known.
struct Stream {
    wire: Wire,
    /// The first bytes (up to 3): what the profile is detected from.
    head: Vec<u8>,
}

enum Wire {
    /// `--wire auto`, and too few bytes yet to tell.
    Detect {
        pending: Vec<u8>,
        max: usize,
        dir: Option<Direction>,
    },
    V16(Decoder),
    Vx(vx::Reader),
}

impl Stream {
    fn new(wire: WireArg, max: usize, dir: Option<Direction>) -> Stream {
        let wire = match wire {
            WireArg::V1_6 => Wire::V16(Decoder::new(max)),
            WireArg::Vx => Wire::Vx(vx::Reader::new(max, dir)),
            WireArg::Auto => Wire::Detect { pending: Vec::new(), max, dir },
        };
        Stream { wire, head: Vec::new() }
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = 3usize.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        match &mut self.wire {
            Wire::Detect { pending, .. } => pending.extend_from_slice(bytes),
            Wire::V16(dec) => dec.push(bytes),
            Wire::Vx(reader) => reader.push(bytes),
        }
        self.settle(false);
    }

    /// Picks the profile once the first bytes tell (`at_end`: no more
    /// bytes will come, so decide with what there is).
    fn settle(&mut self, at_end: bool) {
        let Wire::Detect { pending, max, dir } = &mut self.wire else { return };
        let Some(is_vx) = vx::looks_vx(pending, at_end) else { return };
        let bytes = std::mem::take(pending);
        self.wire = if is_vx {
            let mut reader = vx::Reader::new(*max, *dir);
            reader.push(&bytes);
            Wire::Vx(reader)
        } else {
            let mut dec = Decoder::new(*max);
            dec.push(&bytes);
            Wire::V16(dec)
        };
    }

    /// For errors of a stream read as 1.6 that starts like a VX one.
    fn vx_hint(&self) -> &'static str {
        if vx::looks_vx(&self.head, true) == Some(true) {
            " (this stream starts like the VX wire of veltix 2.0.3 to 3.3.x: try --wire vx or --wire auto)"
        } else {
            ""
        }
    }
}

/// The name of a VX type code: the user's names, ping and pong, else
/// `type_CODE` (1.6.3's other system names mean nothing in VX).
fn vx_label(types: &TypeRegistry, code: u16) -> String {
    let v16_only = code > veltix::vx::PONG
        && SYSTEM_TYPES.iter().any(|(c, name, _)| *c == code && types.name(code) == Some(*name));
    if v16_only {
        format!("type_{code}")
    } else {
        types.label(code)
    }
}

/// The listing's arrow for a direction: `>` client to server.
fn arrow(dir: Direction) -> &'static str {
    match dir {
        Direction::ToServer => ">",
        Direction::ToClient => "<",
    }
}

/// Where in a capture a frame was found.
struct StreamTag {
    index: usize,
    dir: Direction,
    client: SocketAddr,
    server: SocketAddr,
}

fn tag(cap: &Capture, index: usize, side: usize) -> StreamTag {
    let s = &cap.streams[index];
    StreamTag { index, dir: s.direction(side), client: s.client_addr(), server: s.server_addr() }
}

#[derive(Debug, Clone, Copy)]
enum Problem {
    /// The input ends inside a frame.
    Truncated,
    /// A header declares more than `--max-message-size`.
    TooLarge,
    /// Bytes missing from a captured stream.
    Gap,
    /// VX: bytes where a magic should be.
    BadMagic,
    /// VX: a header with the reserved flags set.
    BadFlags,
    /// VX: a handshake message that is not a JSON object.
    BadHandshake,
    /// VX: the input ends inside a handshake message.
    TruncatedHandshake,
}

impl Problem {
    fn kind(self) -> &'static str {
        match self {
            Problem::Truncated | Problem::TruncatedHandshake => "truncated",
            Problem::TooLarge => "too_large",
            Problem::Gap => "gap",
            Problem::BadMagic => "bad_magic",
            Problem::BadFlags => "bad_flags",
            Problem::BadHandshake => "bad_handshake",
        }
    }
}

impl From<vx::Fault> for Problem {
    fn from(f: vx::Fault) -> Problem {
        match f {
            vx::Fault::BadMagic => Problem::BadMagic,
            vx::Fault::BadFlags => Problem::BadFlags,
            vx::Fault::TooLarge => Problem::TooLarge,
            vx::Fault::BadHandshake => Problem::BadHandshake,
            vx::Fault::TruncatedFrame => Problem::Truncated,
            vx::Fault::TruncatedHandshake => Problem::TruncatedHandshake,
        }
    }
}

/// Where a frame or message was found, in a capture (all fields absent
/// outside captures).
#[derive(Serialize)]
struct Place {
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
}

impl Place {
    fn of(tag: Option<&StreamTag>) -> Place {
        Place {
            stream: tag.map(|t| t.index),
            direction: tag.map(|t| arrow(t.dir)),
            client: tag.map(|t| t.client.to_string()),
            server: tag.map(|t| t.server.to_string()),
        }
    }
}

/// The header fields both profiles share, and the CRC check.
#[derive(Serialize)]
struct Fields<'a> {
    type_code: u16,
    type_name: &'a str,
    size: u32,
    crc_stated: String,
    crc_computed: String,
    crc_ok: bool,
}

impl Fields<'_> {
    fn new(type_code: u16, type_name: &str, size: u32, crc: u32, computed: u32) -> Fields<'_> {
        Fields {
            type_code,
            type_name,
            size,
            crc_stated: format!("{crc:08x}"),
            crc_computed: format!("{computed:08x}"),
            crc_ok: crc == computed,
        }
    }
}

/// One VX frame as a JSON line.
#[derive(Serialize)]
struct VxFrameJson<'a> {
    frame: u64,
    #[serde(flatten)]
    place: Place,
    offset: u64,
    wire: &'static str,
    flags: u8,
    #[serde(flatten)]
    fields: Fields<'a>,
    request_id: String,
    #[serde(flatten)]
    payload: json::Payload,
}

/// One VX handshake message as a JSON line.
#[derive(Serialize)]
struct HandshakeJson<'a> {
    handshake: &'static str,
    #[serde(flatten)]
    place: Place,
    offset: u64,
    wire: &'static str,
    length: usize,
    json: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hello_error: Option<String>,
}

/// One frame as a JSON line.
#[derive(Serialize)]
struct FrameJson<'a> {
    frame: u64,
    #[serde(flatten)]
    place: Place,
    offset: u64,
    #[serde(flatten)]
    fields: Fields<'a>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u64>,
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
    /// VX handshake messages seen, valid or not.
    handshakes: u64,
    /// Frames and messages that are not valid (CRC, truncated, oversize,
    /// bad JSON), and runs of junk.
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

    /// Reports every whole frame (or VX handshake message) `stream`
    /// holds. Returns false after a fatal error (reported too): the stream
    /// cannot be read further.
    fn drain(&mut self, stream: &mut Stream, tag: Option<&StreamTag>) -> io::Result<bool> {
        let hint = stream.vx_hint();
        match &mut stream.wire {
            Wire::Detect { .. } => Ok(true),
            Wire::V16(dec) => self.drain_v16(dec, tag, hint),
            Wire::Vx(reader) => {
                while let Some(event) = reader.next(false) {
                    self.vx_event(event, tag)?;
                }
                Ok(true)
            }
        }
    }

    fn drain_v16(
        &mut self,
        dec: &mut Decoder,
        tag: Option<&StreamTag>,
        hint: &str,
    ) -> io::Result<bool> {
        loop {
            match dec.next_raw() {
                Ok(Some(raw)) => self.frame(&raw, tag)?,
                Ok(None) => return Ok(true),
                Err(e) => {
                    let msg = format!(
                        "{e}; the stream cannot be resynchronised, decoding of it stops here{hint}"
                    );
                    self.problem(Problem::TooLarge, dec.stream_offset(), tag, msg, None)?;
                    return Ok(false);
                }
            }
        }
    }

    /// Reports what is left in `stream` when its input has ended.
    fn end_of_stream(&mut self, stream: &mut Stream, tag: Option<&StreamTag>) -> io::Result<()> {
        stream.settle(true);
        let hint = stream.vx_hint();
        match &mut stream.wire {
            Wire::Detect { .. } => Ok(()),
            Wire::V16(dec) => self.end_of_v16(dec, tag, hint),
            Wire::Vx(reader) => {
                while let Some(event) = reader.next(true) {
                    self.vx_event(event, tag)?;
                }
                Ok(())
            }
        }
    }

    fn end_of_v16(&mut self, dec: &Decoder, tag: Option<&StreamTag>, hint: &str) -> io::Result<()> {
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
        self.problem(Problem::Truncated, dec.stream_offset(), tag, format!("{msg}{hint}"), None)
    }

    fn vx_event(&mut self, event: vx::Event, tag: Option<&StreamTag>) -> io::Result<()> {
        match event {
            vx::Event::Frame { offset, header, payload, computed_crc } => {
                self.vx_frame(offset, &header, &payload, computed_crc, tag)
            }
            vx::Event::Handshake { offset, kind, length, text, hello_error } => {
                self.handshakes += 1;
                if self.json {
                    let record = HandshakeJson {
                        handshake: kind.key(),
                        place: Place::of(tag),
                        offset,
                        wire: "vx",
                        length,
                        json: &text,
                        hello_error,
                    };
                    return json::write_line(&mut self.out, &record);
                }
                let p = self.palette;
                self.announce(tag)?;
                write!(self.out, "{}  ", p.paint(Role::Strong, "handshake"))?;
                self.location(tag, offset)?;
                write!(
                    self.out,
                    "{}  {length} bytes  {text}",
                    p.paint(Role::Accent, kind.label())
                )?;
                if let Some(e) = hello_error {
                    write!(self.out, "  {}", p.paint(Role::Warn, format!("(invalid hello: {e})")))?;
                }
                writeln!(self.out)
            }
            vx::Event::Problem { offset, fault, message, skipped } => {
                self.problem(fault.into(), offset, tag, message, skipped)
            }
        }
    }

    fn vx_frame(
        &mut self,
        offset: u64,
        h: &VxHeader,
        payload: &[u8],
        computed: u32,
        tag: Option<&StreamTag>,
    ) -> io::Result<()> {
        self.count_frame(h.crc, computed);
        let name = vx_label(&self.types, h.type_code);
        if self.json {
            let record = VxFrameJson {
                frame: self.frames,
                place: Place::of(tag),
                offset,
                wire: "vx",
                flags: h.flags,
                fields: Fields::new(h.type_code, &name, h.size, h.crc, computed),
                request_id: format!("{:04x}", h.request_id),
                payload: json::Payload::new(payload),
            };
            return json::write_line(&mut self.out, &record);
        }
        let p = self.palette;
        self.announce(tag)?;
        write!(self.out, "{}  ", p.paint(Role::Strong, format!("frame {}", self.frames)))?;
        self.location(tag, offset)?;
        write!(self.out, "vx flags {:02x}  ", h.flags)?;
        self.type_size_crc(&name, h.type_code, h.size, h.crc, computed)?;
        writeln!(self.out, "  id {}", p.paint(Role::Accent, format!("{:04x}", h.request_id)))?;
        self.payload(payload)
    }

    /// `chat (200)  13 bytes  crc 2b8cf0b3 OK`, or MISMATCH and the CRC
    /// the payload hashes to.
    fn type_size_crc(
        &mut self,
        name: &str,
        code: u16,
        size: u32,
        crc: u32,
        computed: u32,
    ) -> io::Result<()> {
        let p = self.palette;
        write!(self.out, "{} ({code})  {size} bytes  crc {crc:08x} ", p.paint(Role::Accent, name))?;
        if computed == crc {
            write!(self.out, "{}", p.paint(Role::Good, "OK"))
        } else {
            write!(
                self.out,
                "{} (payload hashes to {computed:08x})",
                p.paint(Role::Bad, "MISMATCH")
            )
        }
    }

    /// Counts a whole frame, invalid when its CRC does not match.
    fn count_frame(&mut self, crc: u32, computed: u32) {
        self.frames += 1;
        if crc != computed {
            self.invalid += 1;
        }
    }

    /// The payload's hexdump, if it has bytes.
    fn payload(&mut self, payload: &[u8]) -> io::Result<()> {
        if !payload.is_empty() {
            write_hexdump(&mut self.out, payload, self.max_bytes, "    ", self.palette)?;
            writeln!(self.out)?;
        }
        Ok(())
    }

    fn frame(&mut self, raw: &RawFrame, tag: Option<&StreamTag>) -> io::Result<()> {
        let h = &raw.header;
        let computed = raw.computed_crc();
        self.count_frame(h.crc, computed);
        let name = self.types.label(h.type_code);
        let hello = matches!(h.type_code, HELLO | HELLO_ACK)
            .then(|| veltix::handshake::parse_hello(&raw.payload).map_err(|e| e.to_string()));
        if self.json {
            let record = FrameJson {
                frame: self.frames,
                place: Place::of(tag),
                offset: raw.offset,
                fields: Fields::new(h.type_code, &name, h.size, h.crc, computed),
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
        self.type_size_crc(&name, h.type_code, h.size, h.crc, computed)?;
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
        self.payload(&raw.payload)
    }

    fn problem(
        &mut self,
        problem: Problem,
        offset: u64,
        tag: Option<&StreamTag>,
        msg: String,
        skipped: Option<u64>,
    ) -> io::Result<()> {
        match problem {
            Problem::Truncated | Problem::TooLarge | Problem::BadFlags => {
                self.frames += 1;
                self.invalid += 1;
            }
            Problem::BadHandshake | Problem::TruncatedHandshake => {
                self.handshakes += 1;
                self.invalid += 1;
            }
            Problem::BadMagic => self.invalid += 1,
            Problem::Gap => self.errors += 1,
        }
        if self.json {
            let record = ProblemJson {
                error: msg,
                kind: problem.kind(),
                stream: tag.map(|t| t.index),
                direction: tag.map(|t| arrow(t.dir)),
                offset,
                skipped,
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
            write!(self.out, "stream {} {}  ", t.index, arrow(t.dir))?;
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
            if self.handshakes > 0 {
                let n = plural(self.handshakes, "handshake message", "handshake messages");
                line.push_str(&format!(", {n}"));
            }
            if self.errors > 0 {
                line.push_str(&format!(", {}", plural(self.errors, "capture gap", "capture gaps")));
            }
            let role = if self.all_valid() { Role::Good } else { Role::Bad };
            writeln!(self.out, "{}", p.paint(role, line))?;
        }
        self.out.flush()
    }
}

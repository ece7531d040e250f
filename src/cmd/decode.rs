//! `veltix decode`: the frame inspector.
//!
//! Reads raw frames, hex text or a pcap/pcapng capture and lists every
//! frame: where it starts, its header fields, whether its CRC holds, and a
//! dump of its payload (or one JSON object per frame with `--json`).
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
use veltix::types::{HELLO, HELLO_ACK};
use veltix::{Decoder, Header, RawFrame, TypeRegistry, HEADER_LEN};

use crate::args::{exit, GlobalArgs};
use crate::output::hexdump::write_hexdump;
use crate::output::{json, time, Palette, Role};

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
    let format = args.input.unwrap_or_else(|| match inspect::detect(&head) {
        Format::Raw => InputFormat::Bin,
        Format::Hex => InputFormat::Hex,
        Format::Capture => InputFormat::Pcap,
    });
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
            let capture = pcap::read(&data, args.port)
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
    input: impl BufRead,
    name: &str,
    max: usize,
    report: &mut Report<W>,
    detected: bool,
) -> Result<()> {
    let hint =
        if detected { " (it looked like hex text; --input bin reads it as raw bytes)" } else { "" };
    let mut dec = Decoder::new(max);
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
    report.end_of_stream(&dec, None)?;
    Ok(())
}

fn decode_capture<W: Write>(cap: &Capture, max: usize, report: &mut Report<W>) -> Result<()> {
    let mut flows = cap.flows();
    let mut decoders: Vec<[Decoder; 2]> =
        cap.streams.iter().map(|_| [Decoder::new(max), Decoder::new(max)]).collect();
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
                report.problem(Problem::Gap, gap.offset, Some(&tag), msg)?;
            }
            report.end_of_stream(&decoders[index][side], Some(&tag))?;
        }
    }
    Ok(())
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
                direction: tag.map(|t| arrow(t.dir)),
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
                direction: tag.map(|t| arrow(t.dir)),
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
            if self.errors > 0 {
                line.push_str(&format!(", {}", plural(self.errors, "capture gap", "capture gaps")));
            }
            let role = if self.all_valid() { Role::Good } else { Role::Bad };
            writeln!(self.out, "{}", p.paint(role, line))?;
        }
        self.out.flush()
    }
}

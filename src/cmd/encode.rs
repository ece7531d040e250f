//! `veltix encode`: write one frame, for scripts and crafted test input.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use veltix::frame::now_ms;
use veltix::RequestId;

use crate::args::{max_payload, parse_message_size, too_large, GlobalArgs, PayloadArgs};
use crate::output::hex;

const EXAMPLES: &str = "\
Examples:
  veltix encode --type chat --type-name 200=chat 'Hello Server!' > hello.bin
  veltix encode --type 201 --id a3f21c07 --timestamp 1764150000123 @payload.json
  printf 'hi' | veltix encode --type 200 -
  veltix encode --type ping --output hex
  veltix encode --type 401 --hex '00 01 02 03' | veltix decode

The payload is PAYLOAD as UTF-8 text, the bytes of stdin for `-`, the
bytes of FILE for `@FILE`, or --hex; with none of these it is empty.
Text that starts with '@' or is a lone '-' can be piped in with `-`.

Raw bytes are never written to a terminal by default: when stdout is a
terminal and --output is not given, the frame is printed as hex instead
(with a note on stderr). `--output bin` writes raw bytes anyway.
A payload over --max-message-size (10M unless given; up to 4G, the most
the 32-bit size field holds) is refused with exit status 2, after
reading no more of it than the limit allows plus one byte; raise the
limit to craft oversized frames on purpose.

Exit status: 0 the frame was written (also when the reader of stdout
left early, as `| head -c3` does), 1 stdout could not be written or the
payload not read, 2 usage error (unknown type, bad --id or --hex, a
payload over the limit).";

/// Options of `veltix encode`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// Message type: a code (200, 0xc8) or a known name (ping, or chat
    /// after --type-name 200=chat).
    #[arg(long = "type", value_name = "TYPE", default_value = "200")]
    pub type_code: String,
    /// Request id, 8 hex digits (default: random).
    #[arg(long, value_name = "HEX8", value_parser = parse_request_id)]
    pub id: Option<RequestId>,
    /// Timestamp in milliseconds since the Unix epoch (default: now).
    #[arg(long, value_name = "MS")]
    pub timestamp: Option<u64>,
    /// Write raw bytes (bin) or one line of hex (hex). Default: bin, but
    /// hex when stdout is a terminal.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Largest frame written, header included: bytes or 512K, 10M, 1G
    /// (1K to 4G).
    #[arg(long, value_name = "BYTES", default_value = "10M", value_parser = parse_message_size)]
    pub max_message_size: u64,
}

fn parse_request_id(s: &str) -> std::result::Result<RequestId, String> {
    RequestId::from_hex(s.trim())
        .ok_or_else(|| format!("'{s}' is not a request id: expected 8 hex digits, e.g. a3f21c07"))
}

/// `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The frame's bytes.
    Bin,
    /// The frame as one line of lowercase hex.
    Hex,
}

/// Runs `veltix encode`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let types = global.types.registry()?;
    let type_code =
        types.resolve(&args.type_code).with_context(|| format!("in --type {}", args.type_code))?;
    let request_id = args.id.unwrap_or_else(RequestId::random);
    let timestamp = args.timestamp.unwrap_or_else(now_ms);
    let max = args.max_message_size;
    let payload = args.payload.read(max_payload(max), || too_large("the payload", max))?;
    let mut frame = Vec::new();
    veltix::frame::encode_into(type_code, request_id, timestamp, &payload, &mut frame)
        .context("cannot encode the frame")?;

    let stdout = io::stdout();
    let format = match args.output {
        Some(f) => f,
        None if stdout.is_terminal() => {
            eprintln!("note: stdout is a terminal, so the frame is shown as hex; --output bin writes raw bytes");
            OutputFormat::Hex
        }
        None => OutputFormat::Bin,
    };
    let mut out = stdout.lock();
    let written = match format {
        OutputFormat::Bin => out.write_all(&frame),
        OutputFormat::Hex => writeln!(out, "{}", hex::encode(&frame)),
    };
    match written.and_then(|()| out.flush()) {
        // `veltix encode | head -c3`: the reader has what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        other => {
            other.context("cannot write to stdout")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

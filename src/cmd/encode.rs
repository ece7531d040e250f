//! `veltix encode`: write one frame, for scripts and crafted test input.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use veltix::frame::now_ms;
use veltix::RequestId;

use crate::args::{GlobalArgs, PayloadArgs};
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
No size limit is applied beyond the 32-bit size field, so oversized
frames can be crafted on purpose.";

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
    #[arg(long, value_name = "HEX8")]
    pub id: Option<String>,
    /// Timestamp in milliseconds since the Unix epoch (default: now).
    #[arg(long, value_name = "MS")]
    pub timestamp: Option<u64>,
    /// Write raw bytes (bin) or one line of hex (hex). Default: bin, but
    /// hex when stdout is a terminal.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
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
    let request_id = match &args.id {
        Some(s) => RequestId::from_hex(s.trim()).with_context(|| {
            format!("--id '{s}' is not a request id: expected 8 hex digits, e.g. a3f21c07")
        })?,
        None => RequestId::random(),
    };
    let timestamp = args.timestamp.unwrap_or_else(now_ms);
    let payload = args.payload.read()?;
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
    written.and_then(|()| out.flush()).context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

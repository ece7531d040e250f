//! `veltix encode`: write one frame (or, with `--wire vx`, one VX
//! handshake message), for scripts and crafted test input.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::ValueEnum;
use veltix::frame::now_ms;
use veltix::{vx, RequestId};

use crate::args::{
    exit, max_payload, parse_message_size, too_large, Exit, GlobalArgs, PayloadArgs, WireArg,
};
use crate::output::hex;

const EXAMPLES: &str = "\
Examples:
  veltix encode --type chat --type-name 200=chat 'Hello Server!' > hello.bin
  veltix encode --type 201 --id a3f21c07 --timestamp 1764150000123 @payload.json
  printf 'hi' | veltix encode --type 200 -
  veltix encode --type ping --output hex
  veltix encode --type 401 --hex '00 01 02 03' | veltix decode
  veltix encode --wire vx --type 200 --id 1234 hello --output hex
  (veltix encode --wire vx --handshake client; veltix encode --wire vx --id 1 hi) | nc host 8080

Two wire profiles (--wire): 1.6 (the default) writes a veltix 1.6.3
frame: 22-byte header with a timestamp and an 8-hex-digit request id.
vx writes a frame of veltix 2.0.3 to 3.3.x: 15-byte header starting with
the magic VX, flags 0, a request id of at most 4 hex digits (0000 to
ffff, i.e. 0 to 65535) and no timestamp; or, with --handshake, one of
the JSON handshake messages that come before any frame, as 3.3.0 sends
them: server ({\"v\": \"3.3.0\", \"pv\": \"1.0\", \"meta\": {}}), client
(the same), ok ({\"result\": \"ok\"}) or server-full
({\"error\": \"server_full\"}).

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
payload over the limit, an option the chosen --wire does not have).";

/// Write one Veltix frame to stdout.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// Message type: a code (200, 0xc8) or a known name (ping, or chat
    /// after --type-name 200=chat).
    #[arg(long = "type", value_name = "TYPE", default_value = "200")]
    pub type_code: String,
    /// Request id in hex: 8 digits with --wire 1.6 (a3f21c07), at most 4
    /// with --wire vx (1234, i.e. 0 to 65535). Default: random.
    #[arg(long, value_name = "HEX", value_parser = parse_request_id)]
    pub id: Option<IdArg>,
    /// Timestamp in milliseconds since the Unix epoch (default: now);
    /// --wire 1.6 only (VX frames have none).
    #[arg(long, value_name = "MS")]
    pub timestamp: Option<u64>,
    /// Wire profile: 1.6 (veltix 1.6.3) or vx (veltix 2.0.3 to 3.3.x).
    #[arg(
        long,
        value_name = "WIRE",
        default_value = "1.6",
        value_parser = PossibleValuesParser::new(["1.6", "vx"])
            .map(|s| if s == "vx" { WireArg::Vx } else { WireArg::V1_6 })
    )]
    pub wire: WireArg,
    /// With --wire vx: write this handshake message instead of a frame
    /// (server or client hello, ok, or server-full), as 3.3.0 sends it.
    #[arg(
        long,
        value_enum,
        value_name = "MESSAGE",
        conflicts_with_all = ["type_code", "id", "timestamp", "payload", "hex"]
    )]
    pub handshake: Option<HandshakeArg>,
    /// Write raw bytes (bin) or one line of hex (hex). Default: bin, but
    /// hex when stdout is a terminal.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Largest frame written, header included: bytes or 512K, 10M, 1G
    /// (1K to 4G).
    #[arg(long, value_name = "BYTES", default_value = "10M", value_parser = parse_message_size)]
    pub max_message_size: u64,
}

/// `--id` as typed: 1 to 8 hex digits, checked against the profile's id
/// width once `--wire` is known.
#[derive(Debug, Clone)]
pub struct IdArg {
    typed: String,
    digits: String,
}

fn parse_request_id(s: &str) -> std::result::Result<IdArg, String> {
    let t = s.trim();
    let digits = t.strip_prefix("0x").unwrap_or(t);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "'{s}' is not a request id: expected hex digits, 8 for --wire 1.6 (e.g. a3f21c07), at most 4 for --wire vx (e.g. 1234)"
        ));
    }
    Ok(IdArg { typed: s.to_string(), digits: digits.to_string() })
}

impl IdArg {
    /// The id of a 1.6.3 frame: exactly 8 hex digits.
    fn v16(&self) -> Result<RequestId> {
        RequestId::from_hex(&self.digits).ok_or_else(|| {
            usage(format!(
                "'{}' is not a --wire 1.6 request id: expected 8 hex digits, e.g. a3f21c07",
                self.typed
            ))
        })
    }

    /// The id of a VX frame: at most 4 hex digits (0 to 65535).
    fn vx(&self) -> Result<u16> {
        u16::from_str_radix(&self.digits, 16).map_err(|_| {
            usage(format!(
                "'{}' is not a --wire vx request id: VX ids are 16 bits, at most 4 hex digits (0000 to ffff)",
                self.typed
            ))
        })
    }
}

fn usage(message: String) -> anyhow::Error {
    Exit { code: exit::USAGE, message }.into()
}

/// `--handshake` values: the VX handshake messages, as 3.3.0 sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HandshakeArg {
    /// The server's hello: {"v": "3.3.0", "pv": "1.0", "meta": {}}.
    Server,
    /// The client's hello: {"v": "3.3.0", "pv": "1.0", "meta": {}}.
    Client,
    /// The server's acceptance: {"result": "ok"}.
    Ok,
    /// A full server's refusal, instead of its hello: {"error": "server_full"}.
    ServerFull,
}

/// The package version a hello announces (3.x never checks it).
const VX_HELLO_VERSION: &str = "3.3.0";

impl HandshakeArg {
    fn bytes(self) -> Result<Vec<u8>, vx::VxError> {
        match self {
            HandshakeArg::Server => vx::server_hello(VX_HELLO_VERSION, vx::PROTOCOL_VERSION),
            HandshakeArg::Client => {
                vx::client_hello(VX_HELLO_VERSION, vx::PROTOCOL_VERSION, &Default::default())
            }
            HandshakeArg::Ok => Ok(vx::result_ok()),
            HandshakeArg::ServerFull => vx::error_answer("server_full"),
        }
    }
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
    let frame = match (args.wire, args.handshake) {
        (WireArg::Vx, Some(message)) => {
            message.bytes().context("cannot encode the handshake message")?
        }
        (_, Some(_)) => {
            return Err(usage(
                "--handshake writes a VX handshake message: add --wire vx".to_string(),
            ))
        }
        (WireArg::Vx, None) => vx_frame(&args, global)?,
        (_, None) => v16_frame(&args, global)?,
    };

    let stdout = io::stdout();
    let format = match args.output {
        Some(f) => f,
        None if stdout.is_terminal() => {
            eprintln!("note: stdout is a terminal, so the bytes are shown as hex; --output bin writes raw bytes");
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

/// A veltix 1.6.3 frame.
fn v16_frame(args: &Args, global: &GlobalArgs) -> Result<Vec<u8>> {
    let type_code = type_code(args, global)?;
    let request_id =
        args.id.as_ref().map(IdArg::v16).transpose()?.unwrap_or_else(RequestId::random);
    let timestamp = args.timestamp.unwrap_or_else(now_ms);
    let max = args.max_message_size;
    let payload = args.payload.read(max_payload(max), || too_large("the payload", max))?;
    let mut frame = Vec::new();
    veltix::frame::encode_into(type_code, request_id, timestamp, &payload, &mut frame)
        .context("cannot encode the frame")?;
    Ok(frame)
}

/// A VX frame (flags 0).
fn vx_frame(args: &Args, global: &GlobalArgs) -> Result<Vec<u8>> {
    if args.timestamp.is_some() {
        return Err(usage(
            "--timestamp: VX frames carry no timestamp (it is a --wire 1.6 option)".into(),
        ));
    }
    let type_code = type_code(args, global)?;
    let request_id = match &args.id {
        Some(id) => id.vx()?,
        None => {
            let [a, b, ..] = RequestId::random().0;
            u16::from_be_bytes([a, b])
        }
    };
    let max = args.max_message_size;
    let room = max.saturating_sub(vx::HEADER_LEN as u64);
    let payload = args.payload.read(room, || {
        format!(
            "the payload is larger than {room} bytes, the most a VX frame of --max-message-size {max} can carry (the header takes {})",
            vx::HEADER_LEN
        )
    })?;
    vx::encode_frame(type_code, request_id, &payload).context("cannot encode the frame")
}

fn type_code(args: &Args, global: &GlobalArgs) -> Result<u16> {
    let types = global.types.registry()?;
    types.resolve(&args.type_code).with_context(|| format!("in --type {}", args.type_code))
}

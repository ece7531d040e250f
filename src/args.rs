//! Argument types, parsers and exit codes shared by the subcommands.
//!
//! This module sits below `cmd` and `cli`: it imports neither.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::log_args::LogArgs;

/// Exit codes, as documented in `--help` and the README (0 is success and
/// 2 a usage error, most of which clap reports itself).
pub mod exit {
    /// Any other error (including invalid frames found by `decode`).
    pub const ERROR: u8 = 1;
    /// Bad usage (clap reports most of it itself; also an unknown type).
    pub const USAGE: u8 = 2;
    /// Cannot connect: refused, unreachable, handshake failed, version mismatch.
    pub const CONNECT: u8 = 3;
    /// Timed out waiting for a reply.
    pub const TIMEOUT: u8 = 4;
    /// Protocol error from the peer (bad frame).
    pub const PROTOCOL: u8 = 5;
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other error (decode: at least one invalid frame)
  2  usage error (including an unknown message type)
  3  cannot connect (refused, unreachable, handshake failed, version mismatch)
  4  timed out waiting for a reply
  5  protocol error from the peer (bad frame)";

/// Options accepted by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// When to use colours: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub types: TypeArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output written to stdout.
    pub fn for_stdout(self) -> bool {
        self.resolve(std::io::stdout().is_terminal())
    }
    /// Whether to colour output written to stderr.
    pub fn for_stderr(self) -> bool {
        self.resolve(std::io::stderr().is_terminal())
    }
    fn resolve(self, is_tty: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// Naming message types: `--type-name 200=chat` (repeatable), `--types FILE`.
#[derive(Debug, Args, Default)]
pub struct TypeArgs {
    /// Name a message type code, e.g. `--type-name 200=chat` (repeatable).
    #[arg(long = "type-name", value_name = "CODE=NAME", global = true)]
    pub type_names: Vec<String>,
    /// Read type names from a JSON file: {"200": "chat", "401": "player_move"}.
    #[arg(long = "types", value_name = "FILE", global = true)]
    pub types_file: Option<PathBuf>,
}

impl TypeArgs {
    /// The registry: system types, then the file, then `--type-name`s.
    pub fn registry(&self) -> anyhow::Result<veltix::TypeRegistry> {
        let mut reg = veltix::TypeRegistry::new();
        if let Some(path) = &self.types_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read type file {}", path.display()))?;
            reg.define_json(&text).with_context(|| format!("in type file {}", path.display()))?;
        }
        for def in &self.type_names {
            reg.define_str(def).with_context(|| format!("in --type-name {def}"))?;
        }
        Ok(reg)
    }
}

/// Connection settings shared by `serve`, `connect`, `request`, `ping`
/// and `bench` (every server and client setting of the library).
#[derive(Debug, Clone, Args)]
pub struct ConnArgs {
    /// Protocol version announced in the handshake (veltix 1.6.3 peers
    /// require an exact match).
    /// 1 to 255 bytes.
    #[arg(long, value_name = "VERSION", default_value = veltix::PROTOCOL_VERSION, value_parser = parse_protocol_version)]
    pub protocol_version: String,
    /// Largest frame accepted (and sent), header included: bytes or 512K,
    /// 10M, 1G; from 1K (a handshake must fit) to 4G (the size field).
    #[arg(long, value_name = "BYTES", default_value = "10M", value_parser = parse_message_size)]
    pub max_message_size: u64,
    /// How fast a silent peer is probed and dropped: low (ping after 30 s,
    /// drop after 90 s), balanced (5 s / 15 s), high (1 s / 3 s).
    #[arg(long, value_enum, value_name = "MODE", default_value_t = ModeArg::Balanced)]
    pub performance_mode: ModeArg,
    /// The largest read from the socket: small (1 KiB), medium (8 KiB),
    /// large (64 KiB), huge (1 MiB), or a size in bytes. Reads start at
    /// 1 KiB and grow to it while they come back full.
    #[arg(long, value_name = "SIZE", default_value = "large", value_parser = parse_buffer_size)]
    pub buffer_size: usize,
    /// Time allowed for the HELLO / HELLO_ACK handshake (e.g. 500ms, 5s).
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Bytes that may wait to be sent to one peer before it is judged too
    /// slow a reader and disconnected (bytes or 512K, 16M, 1G; at least 1K).
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = parse_outbound)]
    pub max_outbound: u64,
    /// Socket core: threads (a reader thread per connection; lowest
    /// latency) or poll (a few I/O threads multiplexing every connection;
    /// for thousands of clients).
    #[arg(long, value_enum, value_name = "CORE", default_value_t = CoreArg::Threads)]
    pub core: CoreArg,
    /// Threads that run message callbacks, at most (started as callbacks
    /// come); 0 runs each callback on the thread that read the message (no
    /// hand-off, for quick callbacks).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub workers: u16,
    /// I/O threads of the poll core's server (default: half the CPUs,
    /// rounded up, at most 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub io_threads: Option<u16>,
    /// Wire profile: 1.6 (veltix 1.6.3), vx (veltix 2.0.3 to 3.3.x) or
    /// auto. A client with auto (the default) learns it from the server's
    /// first bytes; a server speaks 1.6 unless given vx.
    #[arg(long, value_enum, value_name = "WIRE", default_value_t = WireArg::Auto)]
    pub wire: WireArg,
    #[command(flatten)]
    pub tls: crate::tls_args::TlsArgs,
}

/// `--wire` values: which of the two wire profiles to speak or read.
///
/// - `1.6`: veltix 1.6.3 (22-byte header with a timestamp and a 4-byte
///   request id, HELLO / HELLO_ACK frames as the handshake);
/// - `vx`: veltix 2.0.3 to 3.3.x (15-byte header starting with the magic
///   `VX`, a 2-byte request id, JSON handshake messages before any frame;
///   docs/wire-vx.md);
/// - `auto`: tell them apart from the first bytes (a `VX` magic or a
///   length-prefixed JSON object is VX, anything else 1.6.3).
///
/// Commands that cannot detect (`encode`) offer only `1.6` and `vx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WireArg {
    /// veltix 1.6.3.
    #[value(name = "1.6")]
    V1_6,
    /// veltix 2.0.3 to 3.3.x.
    Vx,
    /// Detect (clients); 1.6 for a server.
    Auto,
}

impl From<WireArg> for veltix::WireMode {
    fn from(w: WireArg) -> Self {
        match w {
            WireArg::V1_6 => veltix::WireMode::V1_6,
            WireArg::Vx => veltix::WireMode::Vx,
            WireArg::Auto => veltix::WireMode::Auto,
        }
    }
}

/// `--core` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoreArg {
    Threads,
    Poll,
}

/// `--performance-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Low,
    Balanced,
    High,
}

impl From<ModeArg> for veltix::PerformanceMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Low => veltix::PerformanceMode::Low,
            ModeArg::Balanced => veltix::PerformanceMode::Balanced,
            ModeArg::High => veltix::PerformanceMode::High,
        }
    }
}

fn parse_buffer_size(s: &str) -> Result<usize, String> {
    use veltix::BufferSize::*;
    let preset = match s.to_ascii_lowercase().as_str() {
        "small" => Some(Small),
        "medium" => Some(Medium),
        "large" => Some(Large),
        "huge" => Some(Huge),
        _ => None,
    };
    if let Some(p) = preset {
        return Ok(p.bytes());
    }
    let n = crate::log_args::parse_size(s)
        .map_err(|_| format!("'{s}' is not small, medium, large, huge or a size in bytes"))?;
    if !(64..=64 * 1024 * 1024).contains(&n) {
        return Err(format!("buffer size {n} is out of range 64 bytes to 64 MiB"));
    }
    Ok(n as usize)
}

/// The longest `--protocol-version`: with it a HELLO still fits the
/// smallest `--max-message-size` ([`MIN_MESSAGE_SIZE`]).
pub const MAX_VERSION_LEN: usize = 255;
/// The smallest `--max-message-size`: a header and a HELLO carrying the
/// longest version fit with room to spare.
pub const MIN_MESSAGE_SIZE: u64 = 1024;
/// The largest `--max-message-size`: a header and the largest payload the
/// 32-bit size field can declare.
pub const MAX_MESSAGE_SIZE: u64 = veltix::HEADER_LEN as u64 + u32::MAX as u64;

fn parse_protocol_version(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("the protocol version cannot be empty (veltix 1.6.3 speaks 1.6.3)".into());
    }
    if s.len() > MAX_VERSION_LEN {
        return Err(format!(
            "the protocol version is {} bytes long; at most {MAX_VERSION_LEN} are allowed",
            s.len()
        ));
    }
    Ok(s.to_string())
}

/// Parses a `--max-message-size`: a size from [`MIN_MESSAGE_SIZE`] to
/// [`MAX_MESSAGE_SIZE`].
pub fn parse_message_size(s: &str) -> Result<u64, String> {
    let n = crate::log_args::parse_size(s)?;
    if n < MIN_MESSAGE_SIZE {
        return Err(format!(
            "{n} bytes is too small: a frame has a {}-byte header and the handshake must fit; use at least 1K",
            veltix::HEADER_LEN
        ));
    }
    if n > MAX_MESSAGE_SIZE {
        return Err(format!(
            "{n} bytes is more than a frame can be ({MAX_MESSAGE_SIZE} bytes: the header and a 32-bit payload size)"
        ));
    }
    Ok(n)
}

/// `--max-outbound`: a size of at least 1 KiB (below that, any peer whose
/// kernel buffer fills for a moment would be dropped).
pub fn parse_outbound(s: &str) -> Result<u64, String> {
    let n = crate::log_args::parse_size(s)?;
    if n < 1024 {
        return Err(format!("{n} bytes is too small an outbound queue; use at least 1K"));
    }
    Ok(n)
}

/// The largest payload a frame of at most `max_message_size` bytes holds.
pub fn max_payload(max_message_size: u64) -> u64 {
    max_message_size.saturating_sub(veltix::HEADER_LEN as u64)
}

/// The error for a payload over the limit, naming it. `what` says which
/// payload ("the payload", "record 3").
pub fn too_large(what: &str, max_message_size: u64) -> String {
    format!(
        "{what} is larger than {} bytes, the most a frame of --max-message-size {max_message_size} can carry (the header takes {})",
        max_payload(max_message_size),
        veltix::HEADER_LEN
    )
}

impl ConnArgs {
    /// The largest payload these settings let us send.
    pub fn max_payload(&self) -> u64 {
        max_payload(self.max_message_size)
    }

    /// The library's per-connection settings.
    pub fn conn_config(&self) -> veltix::ConnConfig {
        let mut c = veltix::ConnConfig::default();
        c.protocol_version = self.protocol_version.clone();
        c.max_message_size = usize::try_from(self.max_message_size).unwrap_or(usize::MAX);
        c.performance_mode = self.performance_mode.into();
        c.buffer_size = self.buffer_size;
        c.handshake_timeout = self.handshake_timeout;
        c.max_workers = usize::from(self.workers);
        if let Some(n) = self.io_threads {
            c.io_threads = usize::from(n);
        }
        c.max_outbound_bytes = usize::try_from(self.max_outbound).unwrap_or(usize::MAX);
        c.core = match self.core {
            CoreArg::Threads => veltix::CoreKind::Threads,
            CoreArg::Poll => veltix::CoreKind::Poll,
        };
        c.wire = self.wire.into();
        c
    }

    /// A client configuration for `addr` with these settings (a usage
    /// error for a TLS option of serve's).
    pub fn client_config(&self, addr: &str) -> anyhow::Result<veltix::ClientConfig> {
        let mut c = veltix::ClientConfig::new(addr).tls(self.tls.client()?);
        c.conn = self.conn_config();
        Ok(c)
    }
}

/// Where a message's payload comes from: text, `-` (stdin), `@FILE`, or
/// `--hex`.
#[derive(Debug, Clone, Args)]
pub struct PayloadArgs {
    /// The payload: text, `-` to read stdin, or `@FILE` to read a file.
    #[arg(value_name = "PAYLOAD", conflicts_with = "hex")]
    pub payload: Option<String>,
    /// The payload as hex instead (spaces, `0x` and `xxd` dumps allowed).
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    pub hex: Option<HexBytes>,
}

/// Bytes given as hex text on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

fn parse_hex(s: &str) -> Result<HexBytes, String> {
    crate::output::hex::decode(s)
        .map(HexBytes)
        .map_err(|e| format!("'{}' is not valid hex: {e}", shorten(s)))
}

impl PayloadArgs {
    /// The payload bytes (empty when none was given). A payload longer
    /// than `max` bytes is refused after reading at most `max + 1` bytes,
    /// with a usage error naming `limit_text`.
    pub fn read(&self, max: u64, limit_text: impl Fn() -> String) -> anyhow::Result<Vec<u8>> {
        use std::io::Read;
        let bounded = |r: &mut dyn Read, what: &str| -> anyhow::Result<Vec<u8>> {
            let mut buf = Vec::new();
            r.take(max.saturating_add(1))
                .read_to_end(&mut buf)
                .with_context(|| format!("cannot read the payload from {what}"))?;
            Ok(buf)
        };
        let bytes = if let Some(HexBytes(bytes)) = &self.hex {
            bytes.clone()
        } else {
            match self.payload.as_deref() {
                None => Vec::new(),
                Some("-") => bounded(&mut std::io::stdin().lock(), "stdin")?,
                Some(arg) => match arg.strip_prefix('@') {
                    Some(path) => {
                        let mut file = std::fs::File::open(path).with_context(|| {
                            format!("cannot read the payload file {path} (from {arg})")
                        })?;
                        bounded(&mut file, path)?
                    }
                    None => arg.as_bytes().to_vec(),
                },
            }
        };
        if bytes.len() as u64 > max {
            return Err(Exit { code: exit::USAGE, message: limit_text() }.into());
        }
        Ok(bytes)
    }
}

/// What the user typed, cut short enough to quote in an error.
pub fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Checks a `HOST:PORT` argument early, so the error names what was typed
/// (IPv6 goes in brackets: `[::1]:8080`).
pub fn parse_addr(s: &str) -> Result<String, String> {
    let no_port = || format!("'{s}' has no port; use HOST:PORT, e.g. localhost:8080 or [::1]:8080");
    let (host, port) = match s.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("'{s}' has no closing ']' after the IPv6 address"))?;
            let port = after.strip_prefix(':').ok_or_else(no_port)?;
            (inside, port)
        }
        None => {
            let (host, port) = s.rsplit_once(':').ok_or_else(no_port)?;
            if host.contains(':') {
                return Err(format!("'{s}': put an IPv6 address in brackets, e.g. [::1]:8080"));
            }
            (host, port)
        }
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("'{port}' in '{s}' is not a port number (0-65535)"));
    }
    if host.is_empty() {
        return Err(format!("'{s}' has no host; use HOST:PORT, e.g. localhost:8080"));
    }
    Ok(s.to_string())
}

/// Checks a host to listen on: a name or an address, IPv6 with or without
/// brackets (`::1`, `[::1]`); returns it without the brackets.
pub fn parse_host(s: &str) -> Result<String, String> {
    let host = match s.strip_prefix('[') {
        Some(rest) => rest
            .strip_suffix(']')
            .ok_or_else(|| format!("'{s}' has no closing ']' after the IPv6 address"))?,
        None => s,
    };
    if host.trim().is_empty() {
        return Err("the host cannot be empty; use e.g. 0.0.0.0, :: or localhost".into());
    }
    Ok(host.to_string())
}

/// The longest duration any option takes: a year. Longer ones are
/// refused when parsed, so no deadline computed from one can overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Parses a duration: humantime forms (`500ms`, `2s`, `1m`) or plain
/// seconds (`0.2`, `3`).
/// Durations over [`MAX_DURATION`] are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let too_long = || format!("'{s}' is too long a duration; the most allowed is a year (365d)");
    if let Ok(secs) = s.parse::<f64>() {
        if !(secs.is_finite() && secs >= 0.0) {
            return Err(format!("'{s}' is not a valid duration (it must be 0 or more)"));
        }
        if secs > MAX_DURATION.as_secs_f64() {
            return Err(too_long());
        }
        return Duration::try_from_secs_f64(secs).map_err(|_| too_long());
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); use e.g. 500ms, 2s, 1m or 0.2"))?;
    if d > MAX_DURATION {
        return Err(too_long());
    }
    Ok(d)
}

/// An error that carries the exit code it should end the process with.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Chooses the exit code for an error by what lies in its chain.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Exit>() {
            return e.code;
        }
        // A type name or code that is not one (--type, --type-name, a
        // /type in the REPL is reported, not exited on) is a usage error.
        if cause.downcast_ref::<veltix::types::TypeError>().is_some() {
            return exit::USAGE;
        }
        if cause.downcast_ref::<crate::tls_args::Misplaced>().is_some() {
            return exit::USAGE;
        }
        if let Some(e) = cause.downcast_ref::<veltix::Error>() {
            return match e {
                veltix::Error::Timeout { what, .. }
                    if *what != "connect" && *what != "handshake" =>
                {
                    exit::TIMEOUT
                }
                veltix::Error::Timeout { .. } => exit::CONNECT,
                veltix::Error::Protocol(p) => match p {
                    veltix::ProtocolError::VersionMismatch { .. }
                    | veltix::ProtocolError::BadHello(_) => exit::CONNECT,
                    _ => exit::PROTOCOL,
                },
                e if e.is_connect_failure() => exit::CONNECT,
                _ => exit::ERROR,
            };
        }
        if cause.downcast_ref::<veltix::ProtocolError>().is_some() {
            return exit::PROTOCOL;
        }
    }
    exit::ERROR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0.2"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("365d"), Ok(MAX_DURATION));
        for huge in ["99999999999999999999", "1e19", "1e300", "366d", "18446744073709551615s"] {
            assert!(parse_duration(huge).unwrap_err().contains("too long"), "{huge}");
        }
    }

    #[test]
    fn addresses() {
        assert!(parse_addr("localhost:8080").is_ok());
        assert!(parse_addr("[::1]:8080").is_ok());
        assert!(parse_addr("10.0.0.1:1").is_ok());
        assert!(parse_addr("localhost").unwrap_err().contains("no port"));
        assert!(parse_addr("::1:80").unwrap_err().contains("brackets"));
        assert!(parse_addr("h:99999").unwrap_err().contains("not a port"));
        assert!(parse_addr(":80").unwrap_err().contains("no host"));
        assert!(parse_addr("[::1]").unwrap_err().contains("no port"), "bracketed, no port");
        assert!(parse_addr("[::1]8080").unwrap_err().contains("no port"));
        assert!(parse_addr("[::1:80").unwrap_err().contains("closing"));
        assert!(parse_addr("[]:80").unwrap_err().contains("no host"));
    }

    #[test]
    fn hosts() {
        assert_eq!(parse_host("[::1]"), Ok("::1".to_string()));
        assert_eq!(parse_host("::1"), Ok("::1".to_string()));
        assert_eq!(parse_host("0.0.0.0"), Ok("0.0.0.0".to_string()));
        assert!(parse_host("[::1").is_err());
        assert!(parse_host("").is_err());
        assert!(parse_host("[]").is_err());
    }

    #[test]
    fn message_sizes_and_versions() {
        assert_eq!(parse_message_size("1K"), Ok(1024));
        assert_eq!(parse_message_size("10M"), Ok(10 << 20));
        for small in ["0", "10", "1023"] {
            assert!(parse_message_size(small).unwrap_err().contains("too small"), "{small}");
        }
        assert!(parse_message_size("5G").unwrap_err().contains("more than a frame"));
        assert!(parse_message_size("99999999999999999999").is_err());
        assert!(parse_protocol_version("").is_err());
        assert!(parse_protocol_version(" ").is_err());
        assert!(parse_protocol_version(&"1".repeat(256)).unwrap_err().contains("256 bytes"));
        assert!(parse_protocol_version(&"1".repeat(255)).is_ok());
        // The longest version's HELLO fits the smallest limit.
        let hello = veltix::handshake::encode_hello(&"1".repeat(MAX_VERSION_LEN));
        assert!((veltix::HEADER_LEN + hello.len()) as u64 <= MIN_MESSAGE_SIZE);
    }

    #[test]
    fn buffer_sizes() {
        assert_eq!(parse_buffer_size("small"), Ok(1024));
        assert_eq!(parse_buffer_size("HUGE"), Ok(1 << 20));
        assert_eq!(parse_buffer_size("16K"), Ok(16384));
        assert!(parse_buffer_size("1").is_err());
    }
}

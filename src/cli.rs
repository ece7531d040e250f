//! Options shared by every subcommand, exit codes and error reporting.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, ValueEnum};

use crate::cmd::Command;
use crate::log_args::LogArgs;

/// Exit codes, as documented in `--help` and the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other error (including invalid frames found by `decode`).
    pub const ERROR: u8 = 1;
    /// Bad command-line usage.
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
  2  usage error
  3  cannot connect (refused, unreachable, handshake failed, version mismatch)
  4  timed out waiting for a reply
  5  protocol error from the peer (bad frame)";

/// Veltix: inspect, serve, talk to and benchmark Veltix TCP peers.
///
/// Speaks the wire protocol of veltix 1.6.3 byte for byte.
#[derive(Debug, Parser)]
#[command(name = "veltix", version, propagate_version = true, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

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

/// Parses a duration: humantime forms (`500ms`, `2s`, `1m`) or plain
/// seconds (`0.2`, `3`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("'{s}' is not a valid duration (it must be 0 or more)"));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); use e.g. 500ms, 2s, 1m or 0.2"))
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
        if let Some(e) = cause.downcast_ref::<veltix::Error>() {
            return match e {
                veltix::Error::Timeout { what, .. } if *what != "connect" && *what != "handshake" => {
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

/// Prints an error with its context chain on stderr and picks the exit code.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    let red = ColorChoice::Auto.for_stderr();
    let prefix = if red { "\x1b[1;31merror:\x1b[0m" } else { "error:" };
    let mut msg = format!("{prefix} {err}");
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
    ExitCode::from(exit_code_for(err))
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
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

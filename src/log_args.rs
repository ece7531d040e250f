//! Logging options shared by every subcommand (`--log-level`, `-v`, `-q`,
//! `--log-file`, ...) and the installation of the logger they describe.
//!
//! The level is chosen by, in order: `--log-level` if given; else `-v`
//! (debug), `-vv` (trace), `-q` (error), `-qq` (off); else the command's
//! default ([`DEFAULT_LEVEL`], warning, so scripts stay quiet; serve-like
//! commands pass info to [`LogArgs::install_with_default`]).

use std::path::PathBuf;

use crate::logging::{Level, LogConfig, LogHandle, DEFAULT_BACKUPS, DEFAULT_MAX_FILE_SIZE};
use anyhow::Context;
use clap::{Args, ValueEnum};

/// The level used when no flag chooses one, for most commands.
pub const DEFAULT_LEVEL: Level = Level::Warning;

/// Logging flags.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Least severe log level shown (default: warning; info for commands
    /// that serve). Overrides -v and -q.
    #[arg(long, value_enum, ignore_case = true, global = true, value_name = "LEVEL")]
    pub log_level: Option<LevelArg>,
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output (-q: errors only, -qq: nothing).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
    /// Also write logs to this file (never coloured), rotating it by size.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Rotate the log file before it grows past this size: bytes, or with a
    /// binary unit (512K, 10M, 1G; K = 1024). 0 never rotates.
    #[arg(
        long,
        global = true,
        value_name = "BYTES",
        value_parser = parse_size,
        default_value = "10M",
        requires = "log_file"
    )]
    pub log_max_size: u64,
    /// Rotated log files to keep: PATH.1 (newest) to PATH.N; older ones are
    /// deleted. 0 keeps none.
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value_t = DEFAULT_BACKUPS,
        requires = "log_file"
    )]
    pub log_backups: u32,
}

impl Default for LogArgs {
    /// The values clap gives when no logging flag is used.
    fn default() -> Self {
        LogArgs {
            log_level: None,
            verbose: 0,
            quiet: 0,
            log_file: None,
            log_max_size: DEFAULT_MAX_FILE_SIZE,
            log_backups: DEFAULT_BACKUPS,
        }
    }
}

/// `--log-level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    Trace,
    Debug,
    Info,
    Success,
    #[value(alias = "warn")]
    Warning,
    Error,
    Critical,
    Off,
}

impl From<LevelArg> for Level {
    fn from(arg: LevelArg) -> Level {
        match arg {
            LevelArg::Trace => Level::Trace,
            LevelArg::Debug => Level::Debug,
            LevelArg::Info => Level::Info,
            LevelArg::Success => Level::Success,
            LevelArg::Warning => Level::Warning,
            LevelArg::Error => Level::Error,
            LevelArg::Critical => Level::Critical,
            LevelArg::Off => Level::Off,
        }
    }
}

impl LogArgs {
    /// Installs the logger described by the flags; `default_level` applies
    /// when neither `--log-level`, `-v` nor `-q` is given. The handle
    /// changes the level later.
    pub fn install_with_default(
        &self,
        color: bool,
        default_level: Level,
    ) -> anyhow::Result<LogHandle> {
        let config = LogConfig {
            level: self.level(default_level),
            color,
            file: self.log_file.clone(),
            max_file_size: self.log_max_size,
            backups: self.log_backups,
            ..LogConfig::default()
        };
        let logger = config.build().with_context(|| match &self.log_file {
            Some(path) => format!("cannot log to --log-file {}", path.display()),
            None => "cannot set up logging".to_owned(),
        })?;
        logger.install().context("cannot set up logging (--log-level, --log-file)")
    }

    /// The level the flags choose: `--log-level`, else `-v`/`-vv`/`-q`/`-qq`,
    /// else `default_level`.
    pub fn level(&self, default_level: Level) -> Level {
        if let Some(level) = self.log_level {
            return level.into();
        }
        match (self.verbose, self.quiet) {
            (0, 0) => default_level,
            (0, 1) => Level::Error,
            (0, _) => Level::Off,
            (1, _) => Level::Debug,
            _ => Level::Trace,
        }
    }
}

/// Parses a size: plain bytes (`1048576`) or a number with a binary unit
/// `K`, `M` or `G`, optionally followed by `B` or `iB`, in any case (`512K`,
/// `10M`, `10MiB`, `1gb`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad =
        || format!("'{s}' is not a size; use bytes or a number with K, M or G (e.g. 512K, 10M)");
    let lower = s.trim().to_ascii_lowercase();
    let (body, needs_unit) = match lower.strip_suffix("ib") {
        Some(body) => (body, true),
        None => (lower.strip_suffix('b').unwrap_or(&lower), false),
    };
    let (digits, unit) = match body.char_indices().last() {
        Some((i, 'k')) => (&body[..i], 1u64 << 10),
        Some((i, 'm')) => (&body[..i], 1 << 20),
        Some((i, 'g')) => (&body[..i], 1 << 30),
        _ if needs_unit => return Err(bad()),
        _ => (body, 1),
    };
    let n: u64 = digits.trim().parse().map_err(|_| bad())?;
    n.checked_mul(unit).ok_or_else(|| format!("'{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        log: LogArgs,
    }

    fn parse(args: &[&str]) -> Result<LogArgs, clap::Error> {
        let argv = std::iter::once("veltix").chain(args.iter().copied());
        Cli::try_parse_from(argv).map(|c| c.log)
    }

    fn level(args: &[&str]) -> Level {
        parse(args).unwrap().level(DEFAULT_LEVEL)
    }

    #[test]
    fn well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_clap() {
        let parsed = parse(&[]).unwrap();
        let default = LogArgs::default();
        assert_eq!(parsed.log_max_size, default.log_max_size);
        assert_eq!(parsed.log_backups, default.log_backups);
        assert_eq!(parsed.log_max_size, 10 * 1024 * 1024);
        assert_eq!(parsed.log_backups, 3);
        assert_eq!(parsed.level(DEFAULT_LEVEL), Level::Warning);
        assert_eq!(parsed.level(Level::Info), Level::Info);
    }

    #[test]
    fn log_level_names() {
        assert_eq!(level(&["--log-level", "trace"]), Level::Trace);
        assert_eq!(level(&["--log-level", "SUCCESS"]), Level::Success);
        assert_eq!(level(&["--log-level", "Warn"]), Level::Warning);
        assert_eq!(level(&["--log-level=critical"]), Level::Critical);
        assert_eq!(level(&["--log-level", "off"]), Level::Off);
        let err = parse(&["--log-level", "loud"]).unwrap_err().to_string();
        assert!(err.contains("--log-level") && err.contains("loud"), "{err}");
    }

    #[test]
    fn verbose_and_quiet() {
        assert_eq!(level(&["-v"]), Level::Debug);
        assert_eq!(level(&["-vv"]), Level::Trace);
        assert_eq!(level(&["-vvv"]), Level::Trace);
        assert_eq!(level(&["-q"]), Level::Error);
        assert_eq!(level(&["-qq"]), Level::Off);
        assert_eq!(parse(&["-v"]).unwrap().level(Level::Info), Level::Debug);
        assert!(parse(&["-v", "-q"]).is_err());
    }

    #[test]
    fn explicit_level_wins() {
        assert_eq!(level(&["-vv", "--log-level", "error"]), Level::Error);
        assert_eq!(level(&["--log-level", "debug", "-qq"]), Level::Debug);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("512kb"), Ok(512 * 1024));
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size(" 2g "), Ok(2 << 30));
        assert_eq!(parse_size("100B"), Ok(100));
        for bad in ["", "M", "10X", "-1", "1.5M", "10iB", "ten"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
        assert!(parse_size("99999999999999999999G").is_err());
        assert!(parse_size("17179869184G").unwrap_err().contains("too large"));
    }

    #[test]
    fn file_flags() {
        let args = parse(&["--log-file", "app.log", "--log-max-size", "1M", "--log-backups", "5"])
            .unwrap();
        assert_eq!(args.log_file, Some(PathBuf::from("app.log")));
        assert_eq!(args.log_max_size, 1 << 20);
        assert_eq!(args.log_backups, 5);
        let err = parse(&["--log-file", "a", "--log-max-size", "10X"]).unwrap_err().to_string();
        assert!(err.contains("--log-max-size") && err.contains("10X"), "{err}");
        // Rotation settings without a file are a mistake worth reporting.
        assert!(parse(&["--log-max-size", "1M"]).is_err());
        assert!(parse(&["--log-backups", "2"]).is_err());
    }

    #[test]
    fn bad_log_file_error_names_flag_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let path = blocker.join("app.log");
        let args = parse(&["--log-file", path.to_str().unwrap()]).unwrap();
        // Fails while opening the file, before touching the global logger.
        let err = args.install_with_default(false, DEFAULT_LEVEL).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("--log-file") && msg.contains(&path.display().to_string()), "{msg}");
    }
}

//! The seven levels of the reference's logger (and `Off`), and how a `log`
//! record's level and target map onto them.

use veltix::logging::{CRITICAL_SUFFIX, SUCCESS_SUFFIX};

use crate::output::style::Role;

/// A log level, from least to most severe, plus `Off`.
///
/// A record is shown when its level is at least the logger's level, so the
/// logger's level is a threshold. `Off` is only a threshold: no record has
/// it, and a logger at `Off` shows nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    /// An operation succeeded (between INFO and WARNING).
    Success = 3,
    Warning = 4,
    Error = 5,
    /// A failure that needs attention now.
    Critical = 6,
    /// Threshold that shows nothing.
    Off = 7,
}

impl Level {
    /// The name padded to 8 columns, as lines show it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE   ",
            Level::Debug => "DEBUG   ",
            Level::Info => "INFO    ",
            Level::Success => "SUCCESS ",
            Level::Warning => "WARNING ",
            Level::Error => "ERROR   ",
            Level::Critical => "CRITICAL",
            Level::Off => "OFF     ",
        }
    }

    /// How the level's name is painted on a terminal.
    pub(super) fn role(self) -> Role {
        match self {
            Level::Trace => Role::Dim,
            Level::Debug => Role::LogDebug,
            Level::Info => Role::LogInfo,
            Level::Success => Role::LogSuccess,
            Level::Warning => Role::LogWarning,
            Level::Error => Role::LogError,
            Level::Critical | Level::Off => Role::LogCritical,
        }
    }

    /// The level of a `log` record, recognising the SUCCESS and CRITICAL
    /// target suffixes.
    pub(super) fn of(metadata: &log::Metadata<'_>) -> Level {
        let target = metadata.target();
        match metadata.level() {
            log::Level::Trace => Level::Trace,
            log::Level::Debug => Level::Debug,
            log::Level::Info if target.ends_with(SUCCESS_SUFFIX) => Level::Success,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warning,
            log::Level::Error if target.ends_with(CRITICAL_SUFFIX) => Level::Critical,
            log::Level::Error => Level::Error,
        }
    }

    /// The `log` crate's filter that lets through every record this
    /// threshold may show (SUCCESS maps to INFO, CRITICAL to ERROR).
    pub(super) fn to_level_filter(self) -> log::LevelFilter {
        match self {
            Level::Trace => log::LevelFilter::Trace,
            Level::Debug => log::LevelFilter::Debug,
            Level::Info | Level::Success => log::LevelFilter::Info,
            Level::Warning => log::LevelFilter::Warn,
            Level::Error | Level::Critical => log::LevelFilter::Error,
            Level::Off => log::LevelFilter::Off,
        }
    }

    pub(super) fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Trace,
            1 => Level::Debug,
            2 => Level::Info,
            3 => Level::Success,
            4 => Level::Warning,
            5 => Level::Error,
            6 => Level::Critical,
            _ => Level::Off,
        }
    }
}

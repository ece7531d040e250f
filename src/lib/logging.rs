//! Logging: the library logs through the `log` facade and never prints.
//!
//! This module provides [`Logger`], a [`log::Log`] implementation that the
//! `veltix` binary installs and that Rust users may install too. It has the
//! features of the Python reference's logger:
//!
//! - seven [`Level`]s: TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL;
//! - a colour per level on stderr (a [`LogConfig::color`] option);
//! - timestamps with milliseconds and the caller's `file:line`;
//! - optional file output, rotated by size into numbered backups, never
//!   coloured;
//! - a level that can be changed while running, through a [`LogHandle`].
//!
//! Logs go to stderr, never stdout.
//!
//! # SUCCESS and CRITICAL
//!
//! The `log` crate has five levels. SUCCESS travels as an INFO record and
//! CRITICAL as an ERROR record whose target ends with [`SUCCESS_SUFFIX`] or
//! [`CRITICAL_SUFFIX`]. The [`success!`](crate::success) and
//! [`critical!`](crate::critical) macros add the suffix; [`Level::of`] reads
//! it back. Other loggers see ordinary INFO and ERROR records whose target
//! still starts with the module path, so prefix filters such as
//! `RUST_LOG=veltix::server=info` keep working.
//!
//! # Example
//!
//! ```no_run
//! use veltix::logging::{Level, LogConfig};
//!
//! let handle = LogConfig::default()
//!     .level(Level::Debug)
//!     .color(true)
//!     .file("server.log")
//!     .install()?;
//! log::debug!("listening");
//! veltix::success!("client {} connected", 7);
//! handle.set_level(Level::Warning);
//! # Ok::<(), veltix::logging::InstallError>(())
//! ```
//!
//! # Timestamps
//!
//! Times are local wall-clock time. The offset from UTC is read once, when
//! the logger is built (so a daylight-saving change during a run is not
//! followed); [`LogConfig::utc`] selects UTC instead. On platforms other than
//! Unix, times are always UTC.

use std::fmt::{self, Write as _};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Target suffix that marks an INFO record as SUCCESS (used by [`success!`](crate::success)).
pub const SUCCESS_SUFFIX: &str = "#success";
/// Target suffix that marks an ERROR record as CRITICAL (used by [`critical!`](crate::critical)).
pub const CRITICAL_SUFFIX: &str = "#critical";
/// Default size at which the log file is rotated: 10 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Default number of rotated log files kept: 3.
pub const DEFAULT_BACKUPS: u32 = 3;

/// Items the exported macros reach through `$crate`, so that users of the
/// macros need not depend on `log` themselves.
#[doc(hidden)]
pub mod __private {
    pub use log::{log, Level};

    /// `target` followed by `suffix`, for macros given an explicit target.
    pub fn suffixed(target: &str, suffix: &str) -> String {
        let mut s = String::with_capacity(target.len() + suffix.len());
        s.push_str(target);
        s.push_str(suffix);
        s
    }
}

/// Logs a SUCCESS message: an INFO record marked with [`SUCCESS_SUFFIX`].
///
/// Takes the same arguments as [`log::info!`], including `target: "..."`.
///
/// ```
/// veltix::success!("handshake with {} done", "127.0.0.1:8080");
/// veltix::success!(target: "veltix::server", "listening");
/// ```
#[macro_export]
macro_rules! success {
    (target: $target:expr, $($arg:tt)+) => {
        $crate::logging::__private::log!(
            target: &$crate::logging::__private::suffixed($target, $crate::logging::SUCCESS_SUFFIX),
            $crate::logging::__private::Level::Info,
            $($arg)+
        )
    };
    ($($arg:tt)+) => {
        // The literal must equal SUCCESS_SUFFIX (a test checks it).
        $crate::logging::__private::log!(
            target: ::core::concat!(::core::module_path!(), "#success"),
            $crate::logging::__private::Level::Info,
            $($arg)+
        )
    };
}

/// Logs a CRITICAL message: an ERROR record marked with [`CRITICAL_SUFFIX`].
///
/// Takes the same arguments as [`log::error!`], including `target: "..."`.
///
/// ```
/// veltix::critical!("cannot accept connections: {}", "too many open files");
/// ```
#[macro_export]
macro_rules! critical {
    (target: $target:expr, $($arg:tt)+) => {
        $crate::logging::__private::log!(
            target: &$crate::logging::__private::suffixed($target, $crate::logging::CRITICAL_SUFFIX),
            $crate::logging::__private::Level::Error,
            $($arg)+
        )
    };
    ($($arg:tt)+) => {
        // The literal must equal CRITICAL_SUFFIX (a test checks it).
        $crate::logging::__private::log!(
            target: ::core::concat!(::core::module_path!(), "#critical"),
            $crate::logging::__private::Level::Error,
            $($arg)+
        )
    };
}

/// A log level, from least to most severe, plus `Off`.
///
/// A record is shown when its level is at least the logger's level, so the
/// logger's level is a threshold. `Off` is only a threshold: no record has
/// it, and a logger at `Off` shows nothing.
///
/// ```
/// use veltix::logging::Level;
///
/// assert!(Level::Success > Level::Info);
/// assert_eq!("WARN".parse::<Level>(), Ok(Level::Warning));
/// assert_eq!(Level::Critical.to_string(), "CRITICAL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Very detailed tracing (every frame).
    Trace = 0,
    /// Debugging information.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// An operation succeeded (between INFO and WARNING).
    Success = 3,
    /// Something looks wrong but work goes on.
    Warning = 4,
    /// An operation failed.
    Error = 5,
    /// A failure that needs attention now.
    Critical = 6,
    /// Threshold that shows nothing.
    Off = 7,
}

impl Level {
    /// The seven record levels, least severe first (without `Off`).
    pub const ALL: [Level; 7] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Success,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// The upper-case name: `TRACE`, ..., `CRITICAL`, `OFF`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Success => "SUCCESS",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
            Level::Off => "OFF",
        }
    }

    /// The level of a `log` record, recognising the SUCCESS and CRITICAL
    /// target suffixes.
    pub fn of(metadata: &log::Metadata<'_>) -> Level {
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
    pub fn to_level_filter(self) -> log::LevelFilter {
        match self {
            Level::Trace => log::LevelFilter::Trace,
            Level::Debug => log::LevelFilter::Debug,
            Level::Info | Level::Success => log::LevelFilter::Info,
            Level::Warning => log::LevelFilter::Warn,
            Level::Error | Level::Critical => log::LevelFilter::Error,
            Level::Off => log::LevelFilter::Off,
        }
    }

    fn from_u8(v: u8) -> Level {
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

    /// SGR parameters of the level's colour.
    fn color(self) -> &'static str {
        match self {
            Level::Trace => "90",
            Level::Debug => "34",
            Level::Info => "36",
            Level::Success => "32",
            Level::Warning => "33",
            Level::Error => "31",
            Level::Critical | Level::Off => "1;97;41",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Error from parsing a [`Level`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level '{0}' (expected trace, debug, info, success, warning, error, critical or off)")]
pub struct ParseLevelError(pub String);

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Case-insensitive names; `warn` and `crit` are accepted too.
    fn from_str(s: &str) -> Result<Level, ParseLevelError> {
        let level = match s.trim().to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "success" => Level::Success,
            "warning" | "warn" => Level::Warning,
            "error" => Level::Error,
            "critical" | "crit" => Level::Critical,
            "off" => Level::Off,
            _ => return Err(ParseLevelError(s.to_owned())),
        };
        Ok(level)
    }
}

/// Error from building or installing a [`Logger`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// A global `log` logger (this one or another) is already installed.
    #[error("a logger is already installed")]
    AlreadyInstalled,
    /// The log file, or its directory, could not be created or opened.
    #[error("cannot open log file {}", path.display())]
    OpenFile {
        /// The log file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Logger configuration: every field's default is in its documentation.
///
/// Build with [`LogConfig::default`] and the consuming setters, then call
/// [`build`](LogConfig::build) or [`install`](LogConfig::install).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogConfig {
    /// Least severe level shown. Default: [`Level::Info`].
    pub level: Level,
    /// Colour stderr lines with ANSI codes. Default: `false` (the caller
    /// knows whether stderr is a terminal). Files are never coloured.
    pub color: bool,
    /// Write to stderr. Default: `true`.
    pub console: bool,
    /// Show the time with milliseconds (stderr: `HH:MM:SS.mmm`; file:
    /// `YYYY-MM-DD HH:MM:SS.mmm`). Default: `true`.
    pub timestamps: bool,
    /// Show the caller's `file:line`. Default: `true`.
    pub caller: bool,
    /// Show times in UTC rather than local time. Default: `false`.
    pub utc: bool,
    /// Also write to this file (appending; parent directories are created).
    /// Default: `None`.
    pub file: Option<PathBuf>,
    /// Rotate the file before a line would make it larger than this many
    /// bytes; `0` never rotates. Default: [`DEFAULT_MAX_FILE_SIZE`] (10 MiB).
    pub max_file_size: u64,
    /// Rotated files kept: `app.log.1` (newest) to `app.log.N`; the oldest
    /// is deleted. With `0`, the file is simply emptied when it is full.
    /// Default: [`DEFAULT_BACKUPS`] (3).
    pub backups: u32,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: Level::Info,
            color: false,
            console: true,
            timestamps: true,
            caller: true,
            utc: false,
            file: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            backups: DEFAULT_BACKUPS,
        }
    }
}

impl LogConfig {
    /// Sets [`level`](LogConfig::level).
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
    /// Sets [`color`](LogConfig::color).
    pub fn color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }
    /// Sets [`console`](LogConfig::console).
    pub fn console(mut self, console: bool) -> Self {
        self.console = console;
        self
    }
    /// Sets [`timestamps`](LogConfig::timestamps).
    pub fn timestamps(mut self, timestamps: bool) -> Self {
        self.timestamps = timestamps;
        self
    }
    /// Sets [`caller`](LogConfig::caller).
    pub fn caller(mut self, caller: bool) -> Self {
        self.caller = caller;
        self
    }
    /// Sets [`utc`](LogConfig::utc).
    pub fn utc(mut self, utc: bool) -> Self {
        self.utc = utc;
        self
    }
    /// Sets [`file`](LogConfig::file).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }
    /// Sets [`max_file_size`](LogConfig::max_file_size).
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }
    /// Sets [`backups`](LogConfig::backups).
    pub fn backups(mut self, backups: u32) -> Self {
        self.backups = backups;
        self
    }

    /// Builds the logger (opening the log file, if any) without installing
    /// it.
    pub fn build(self) -> Result<Logger, InstallError> {
        Logger::new(self)
    }

    /// Builds the logger and installs it as the global `log` logger.
    ///
    /// Fails with [`InstallError::AlreadyInstalled`] if a global logger is
    /// already set.
    pub fn install(self) -> Result<LogHandle, InstallError> {
        self.build()?.install()
    }
}

/// State shared by a logger and its handles.
#[derive(Debug)]
struct Shared {
    level: AtomicU8,
    counts: [AtomicU64; 7],
    /// Keeps the level and `log::max_level` consistent when several threads
    /// set the level at once.
    set_lock: Mutex<()>,
}

/// A handle on a logger's level and counters, kept after the logger has
/// been installed. Cheap to clone; usable from any thread.
#[derive(Debug, Clone)]
pub struct LogHandle {
    shared: Arc<Shared>,
    /// Whether the logger is the global one, whose level `log::max_level`
    /// must follow.
    global: bool,
}

impl LogHandle {
    /// The current level.
    pub fn level(&self) -> Level {
        Level::from_u8(self.shared.level.load(Ordering::Relaxed))
    }

    /// Changes the level. For the installed logger this also sets
    /// [`log::set_max_level`], so disabled records cost almost nothing.
    pub fn set_level(&self, level: Level) {
        let _guard = lock(&self.shared.set_lock);
        self.shared.level.store(level as u8, Ordering::Relaxed);
        if self.global {
            log::set_max_level(level.to_level_filter());
        }
    }

    /// How many records of this level were shown so far (0 for `Off`).
    pub fn count(&self, level: Level) -> u64 {
        self.shared.counts.get(level as usize).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

/// The logger: a [`log::Log`] writing to stderr and, optionally, a rotated
/// file. Thread-safe; never panics on I/O errors.
#[derive(Debug)]
pub struct Logger {
    shared: Arc<Shared>,
    format: Format,
    color: bool,
    console: bool,
    file: Option<Mutex<Option<RotatingFile>>>,
}

impl Logger {
    /// Builds a logger from `config`; same as [`LogConfig::build`].
    pub fn new(config: LogConfig) -> Result<Logger, InstallError> {
        let file = match &config.file {
            Some(path) => Some(Mutex::new(Some(
                RotatingFile::open(path, config.max_file_size, config.backups)
                    .map_err(|source| InstallError::OpenFile { path: path.clone(), source })?,
            ))),
            None => None,
        };
        let offset_secs = if config.utc {
            0
        } else {
            local_offset_secs(unix_secs(SystemTime::now())).unwrap_or(0)
        };
        Ok(Logger {
            shared: Arc::new(Shared {
                level: AtomicU8::new(config.level as u8),
                counts: Default::default(),
                set_lock: Mutex::new(()),
            }),
            format: Format { timestamps: config.timestamps, caller: config.caller, offset_secs },
            color: config.color,
            console: config.console,
            file,
        })
    }

    /// A handle on this logger's level. Until the logger is installed, its
    /// [`set_level`](LogHandle::set_level) leaves `log::max_level` alone.
    pub fn handle(&self) -> LogHandle {
        LogHandle { shared: Arc::clone(&self.shared), global: false }
    }

    /// Installs this logger as the global `log` logger and sets
    /// `log::max_level` from its level.
    ///
    /// Fails with [`InstallError::AlreadyInstalled`] if a global logger is
    /// already set.
    pub fn install(self) -> Result<LogHandle, InstallError> {
        let handle = LogHandle { shared: Arc::clone(&self.shared), global: true };
        log::set_boxed_logger(Box::new(self)).map_err(|_| InstallError::AlreadyInstalled)?;
        handle.set_level(handle.level());
        Ok(handle)
    }

    fn threshold(&self) -> Level {
        Level::from_u8(self.shared.level.load(Ordering::Relaxed))
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        Level::of(metadata) >= self.threshold()
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = Level::of(record.metadata());
        if level < self.threshold() {
            return;
        }
        self.shared.counts[level as usize].fetch_add(1, Ordering::Relaxed);
        let now = SystemTime::now();
        if self.console {
            let line = self.format.line(level, record, now, self.color, false);
            // Nowhere to report a failure to write to stderr.
            let _ = io::stderr().lock().write_all(line.as_bytes());
        }
        if let Some(file) = &self.file {
            let line = self.format.line(level, record, now, false, true);
            let mut slot = lock(file);
            if let Some(out) = slot.as_mut() {
                if let Err(err) = out.write_line(line.as_bytes()) {
                    let path = out.path.clone();
                    *slot = None;
                    drop(slot);
                    let _ = writeln!(
                        io::stderr(),
                        "veltix: cannot write log file {}: {err}; no longer logging to it",
                        path.display()
                    );
                }
            }
        }
    }

    fn flush(&self) {
        let _ = io::stderr().flush();
    }
}

/// Locks a mutex, ignoring poisoning: the data behind it stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How lines look.
#[derive(Debug, Clone)]
struct Format {
    timestamps: bool,
    caller: bool,
    /// Seconds to add to UTC for local time.
    offset_secs: i64,
}

impl Format {
    /// One line, ending in `\n`:
    /// `[date ]HH:MM:SS.mmm LEVEL    [file:line] message`.
    fn line(
        &self,
        level: Level,
        record: &log::Record<'_>,
        now: SystemTime,
        color: bool,
        date: bool,
    ) -> String {
        let mut s = String::with_capacity(96);
        if self.timestamps {
            dim(&mut s, color, |s| self.timestamp(s, now, date));
            s.push(' ');
        }
        if color {
            let _ = write!(s, "\x1b[{}m{:<8}\x1b[0m", level.color(), level.as_str());
        } else {
            let _ = write!(s, "{:<8}", level.as_str());
        }
        if self.caller {
            s.push(' ');
            dim(&mut s, color, |s| caller(s, record));
        }
        s.push(' ');
        let _ = write!(s, "{}", record.args());
        s.push('\n');
        s
    }

    fn timestamp(&self, s: &mut String, now: SystemTime, date: bool) {
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = i64::try_from(since.as_secs()).unwrap_or(0) + self.offset_secs;
        let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        if date {
            let (y, m, d) = civil_from_days(days);
            let _ = write!(s, "{y:04}-{m:02}-{d:02} ");
        }
        let _ = write!(
            s,
            "{:02}:{:02}:{:02}.{:03}",
            day_secs / 3600,
            day_secs / 60 % 60,
            day_secs % 60,
            since.subsec_millis()
        );
    }
}

/// Writes `f`'s output, dimmed if `color`.
fn dim(s: &mut String, color: bool, f: impl FnOnce(&mut String)) {
    if color {
        s.push_str("\x1b[2m");
    }
    f(s);
    if color {
        s.push_str("\x1b[0m");
    }
}

/// `[file:line]`, or the target (without a level suffix) when the record
/// has no file.
fn caller(s: &mut String, record: &log::Record<'_>) {
    match (record.file(), record.line()) {
        (Some(file), Some(line)) => {
            let _ = write!(s, "[{file}:{line}]");
        }
        (Some(file), None) => {
            let _ = write!(s, "[{file}]");
        }
        _ => {
            let target = record.target();
            let target = target
                .strip_suffix(SUCCESS_SUFFIX)
                .or_else(|| target.strip_suffix(CRITICAL_SUFFIX))
                .unwrap_or(target);
            let _ = write!(s, "[{target}]");
        }
    }
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Year, month (1-12) and day (1-31) of a day count since 1970-01-01, in
/// the proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a date; the inverse of [`civil_from_days`].
#[cfg_attr(not(unix), allow(dead_code))]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The local offset from UTC at `now`, in seconds.
#[cfg(unix)]
fn local_offset_secs(now: i64) -> Option<i64> {
    let t = libc::time_t::try_from(now).ok()?;
    // SAFETY: `tm` is plain data for which all-zero bytes are valid, and
    // `localtime_r` only writes into the `tm` we pass. It reads the TZ
    // environment variable, which is why this runs once, when the logger is
    // built, rather than for every line.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return None;
        }
        tm
    };
    let days = days_from_civil(
        i64::from(tm.tm_year) + 1900,
        i64::from(tm.tm_mon) + 1,
        i64::from(tm.tm_mday),
    );
    let local = days * 86_400
        + i64::from(tm.tm_hour) * 3600
        + i64::from(tm.tm_min) * 60
        + i64::from(tm.tm_sec.min(59));
    Some(local - now)
}

#[cfg(not(unix))]
fn local_offset_secs(_now: i64) -> Option<i64> {
    None
}

/// A log file rotated by size: `app.log` → `app.log.1` → … → `app.log.N`.
#[derive(Debug)]
struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max_size: u64,
    backups: u32,
}

impl RotatingFile {
    fn open(path: &Path, max_size: u64, backups: u32) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile { path: path.to_owned(), file: Some(file), size, max_size, backups })
    }

    /// Appends `line`, first rotating if it would make the file larger than
    /// `max_size` (a line longer than `max_size` gets a file of its own).
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.max_size > 0 && self.size > 0 && self.size.saturating_add(len) > self.max_size {
            self.rotate()?;
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(open_append(&self.path)?),
        };
        file.write_all(line)?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Close first: Windows cannot rename an open file.
        self.file = None;
        if self.backups == 0 {
            remove_if_exists(&self.path)?;
        } else {
            remove_if_exists(&backup_path(&self.path, self.backups))?;
            for n in (1..self.backups).rev() {
                rename_if_exists(&backup_path(&self.path, n), &backup_path(&self.path, n + 1))?;
            }
            rename_if_exists(&self.path, &backup_path(&self.path, 1))?;
        }
        self.file = Some(open_append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `app.log` → `app.log.N`.
fn backup_path(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Log;

    /// A logger that writes only to a file (nothing on stderr).
    fn file_logger(path: &Path, level: Level) -> Logger {
        LogConfig::default().level(level).console(false).utc(true).file(path).build().unwrap()
    }

    /// Logs one record at `level` through `logger`, as the macros would.
    fn emit(logger: &Logger, level: Level, msg: &str) {
        let (lvl, suffix) = match level {
            Level::Trace => (log::Level::Trace, ""),
            Level::Debug => (log::Level::Debug, ""),
            Level::Info => (log::Level::Info, ""),
            Level::Success => (log::Level::Info, SUCCESS_SUFFIX),
            Level::Warning => (log::Level::Warn, ""),
            Level::Error => (log::Level::Error, ""),
            Level::Critical | Level::Off => (log::Level::Error, CRITICAL_SUFFIX),
        };
        let target = format!("veltix::test{suffix}");
        logger.log(
            &log::Record::builder()
                .args(format_args!("{msg}"))
                .level(lvl)
                .target(&target)
                .file(Some("src/lib/server.rs"))
                .line(Some(42))
                .build(),
        );
    }

    fn record_line(level: Level, color: bool, date: bool, time: SystemTime) -> String {
        let format = Format { timestamps: true, caller: true, offset_secs: 0 };
        let n = 7;
        format.line(
            level,
            &log::Record::builder()
                .args(format_args!("client {n} connected"))
                .level(log::Level::Info)
                .target("veltix::server#success")
                .file(Some("src/lib/server.rs"))
                .line(Some(42))
                .build(),
            time,
            color,
            date,
        )
    }

    #[test]
    fn level_names_and_order() {
        for (i, level) in Level::ALL.iter().enumerate() {
            assert_eq!(*level as usize, i);
            assert_eq!(level.as_str().parse::<Level>(), Ok(*level));
            assert_eq!(level.as_str().to_lowercase().parse::<Level>(), Ok(*level));
        }
        assert!(Level::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(Level::Critical < Level::Off);
        assert_eq!("Warn".parse::<Level>(), Ok(Level::Warning));
        assert_eq!("OFF".parse::<Level>(), Ok(Level::Off));
        let err = "loud".parse::<Level>().unwrap_err();
        assert!(err.to_string().contains("'loud'"), "{err}");
        assert_eq!(format!("{:<8}|", Level::Info), "INFO    |");
    }

    #[test]
    fn success_and_critical_ride_on_info_and_error() {
        let meta =
            |lvl, target| Level::of(&log::Metadata::builder().level(lvl).target(target).build());
        assert_eq!(meta(log::Level::Info, "veltix::server"), Level::Info);
        assert_eq!(meta(log::Level::Info, "veltix::server#success"), Level::Success);
        assert_eq!(meta(log::Level::Error, "veltix::server"), Level::Error);
        assert_eq!(meta(log::Level::Error, "veltix::server#critical"), Level::Critical);
        // A suffix only counts on its own level.
        assert_eq!(meta(log::Level::Warn, "x#critical"), Level::Warning);
        assert_eq!(Level::Success.to_level_filter(), log::LevelFilter::Info);
        assert_eq!(Level::Critical.to_level_filter(), log::LevelFilter::Error);
        assert_eq!(Level::Off.to_level_filter(), log::LevelFilter::Off);
    }

    #[test]
    fn macro_literals_match_the_suffix_constants() {
        // The macros spell the suffixes as literals (concat! needs them).
        let src = include_str!("logging.rs");
        assert!(src.contains(&format!("module_path!(), \"{SUCCESS_SUFFIX}\")")));
        assert!(src.contains(&format!("module_path!(), \"{CRITICAL_SUFFIX}\")")));
    }

    #[test]
    fn filtering_includes_success_and_critical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let logger = file_logger(&path, Level::Success);
        for level in Level::ALL {
            emit(&logger, level, &format!("m-{level}"));
        }
        let text = fs::read_to_string(&path).unwrap();
        let shown: Vec<&str> = text.lines().map(|l| l.split(' ').nth(2).unwrap()).collect();
        assert_eq!(shown, ["SUCCESS", "WARNING", "ERROR", "CRITICAL"], "{text}");

        let handle = logger.handle();
        handle.set_level(Level::Critical);
        emit(&logger, Level::Error, "hidden");
        emit(&logger, Level::Critical, "shown");
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hidden"));
        assert!(text.lines().last().unwrap().ends_with("] shown"));
        assert_eq!(handle.count(Level::Critical), 2);
        assert_eq!(handle.count(Level::Error), 1);
        assert_eq!(handle.count(Level::Info), 0);
    }

    #[test]
    fn enabled_follows_runtime_level() {
        let logger = LogConfig::default().console(false).build().unwrap();
        let handle = logger.handle();
        let meta = |lvl, target| log::Metadata::builder().level(lvl).target(target).build();
        assert_eq!(handle.level(), Level::Info);
        assert!(logger.enabled(&meta(log::Level::Info, "veltix")));
        assert!(!logger.enabled(&meta(log::Level::Debug, "veltix")));
        handle.set_level(Level::Success);
        assert_eq!(handle.level(), Level::Success);
        assert!(!logger.enabled(&meta(log::Level::Info, "veltix")));
        assert!(logger.enabled(&meta(log::Level::Info, "veltix#success")));
        handle.set_level(Level::Trace);
        assert!(logger.enabled(&meta(log::Level::Trace, "veltix")));
        handle.set_level(Level::Off);
        assert!(!logger.enabled(&meta(log::Level::Error, "veltix#critical")));
    }

    #[test]
    fn line_format() {
        // 2024-02-29 13:04:05.007 UTC
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_709_211_845_007);
        assert_eq!(
            record_line(Level::Success, false, false, t),
            "13:04:05.007 SUCCESS  [src/lib/server.rs:42] client 7 connected\n"
        );
        assert_eq!(
            record_line(Level::Success, false, true, t),
            "2024-02-29 13:04:05.007 SUCCESS  [src/lib/server.rs:42] client 7 connected\n"
        );
        assert_eq!(
            record_line(Level::Success, true, false, t),
            "\x1b[2m13:04:05.007\x1b[0m \x1b[32mSUCCESS \x1b[0m \
             \x1b[2m[src/lib/server.rs:42]\x1b[0m client 7 connected\n"
        );
        let bare = Format { timestamps: false, caller: false, offset_secs: 0 };
        let rec = log::Record::builder().args(format_args!("x")).level(log::Level::Warn).build();
        assert_eq!(bare.line(Level::Warning, &rec, t, false, true), "WARNING  x\n");
    }

    #[test]
    fn caller_falls_back_to_target() {
        let rec = log::Record::builder()
            .args(format_args!("x"))
            .target("veltix::server#critical")
            .build();
        let mut s = String::new();
        caller(&mut s, &rec);
        assert_eq!(s, "[veltix::server]");
    }

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn local_offset_is_sane() {
        if let Some(off) = local_offset_secs(unix_secs(SystemTime::now())) {
            assert!(off.abs() <= 14 * 3600, "{off}");
        }
    }

    #[test]
    fn file_lines_have_no_colour_and_show_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/sub/app.log");
        let logger = LogConfig::default().color(true).console(false).file(&path).build().unwrap();
        emit(&logger, Level::Critical, "boom");
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(text.contains(" CRITICAL [src/lib/server.rs:42] boom\n"), "{text:?}");
        // `YYYY-MM-DD HH:MM:SS.mmm `
        let b = text.as_bytes();
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16], b[19], b[23]),
            (b'-', b'-', b' ', b':', b':', b'.', b' ')
        );
    }

    #[test]
    fn file_appends_to_existing_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "old\n").unwrap();
        let logger = file_logger(&path, Level::Info);
        emit(&logger, Level::Info, "new");
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("old\n") && text.ends_with("] new\n"), "{text}");
    }

    #[test]
    fn rotation_keeps_n_backups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 10, 2).unwrap();
        for line in ["a1234567\n", "b1234567\n", "c1234567\n", "d1234567\n"] {
            f.write_line(line.as_bytes()).unwrap();
        }
        let read = |p: PathBuf| fs::read_to_string(p).unwrap();
        assert_eq!(read(path.clone()), "d1234567\n");
        assert_eq!(read(backup_path(&path, 1)), "c1234567\n");
        assert_eq!(read(backup_path(&path, 2)), "b1234567\n");
        assert!(!backup_path(&path, 3).exists());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["app.log", "app.log.1", "app.log.2"]);
    }

    #[test]
    fn rotation_fills_files_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 8, 1).unwrap();
        for line in ["abc\n", "def\n", "ghi\n", "a very long line\n"] {
            f.write_line(line.as_bytes()).unwrap();
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), "a very long line\n");
        assert_eq!(fs::read_to_string(backup_path(&path, 1)).unwrap(), "ghi\n");
    }

    #[test]
    fn rotation_without_backups_empties_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 6, 0).unwrap();
        f.write_line(b"one\n").unwrap();
        f.write_line(b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn zero_max_size_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(&path, 0, 3).unwrap();
        for _ in 0..100 {
            f.write_line(b"0123456789\n").unwrap();
        }
        assert_eq!(fs::metadata(&path).unwrap().len(), 1100);
        assert!(!backup_path(&path, 1).exists());
    }

    #[test]
    fn rotation_counts_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        fs::write(&path, "12345678\n").unwrap();
        let mut f = RotatingFile::open(&path, 10, 1).unwrap();
        f.write_line(b"x\n").unwrap();
        assert_eq!(fs::read_to_string(backup_path(&path, 1)).unwrap(), "12345678\n");
    }

    #[test]
    fn unopenable_file_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "").unwrap();
        let path = blocker.join("app.log");
        let err = LogConfig::default().file(&path).build().unwrap_err();
        assert!(matches!(err, InstallError::OpenFile { .. }));
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn failed_file_write_drops_the_file_output() {
        // Every write to /dev/full fails with ENOSPC. The failure is
        // reported on stderr once (visible with --nocapture).
        let logger = file_logger(Path::new("/dev/full"), Level::Info);
        emit(&logger, Level::Info, "first");
        assert!(lock(logger.file.as_ref().unwrap()).is_none());
        emit(&logger, Level::Info, "second");
        assert_eq!(logger.handle().count(Level::Info), 2);
    }

    #[test]
    fn logger_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Logger>();
        check::<LogHandle>();
    }
}

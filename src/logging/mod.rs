//! The `veltix` binary's logger: a [`log::Log`] with the Python reference's
//! features.
//!
//! - seven [`Level`]s: TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL
//!   (SUCCESS and CRITICAL are recognised by the target suffixes of
//!   [`veltix::logging`]);
//! - a colour per level on stderr, through the crossterm palette
//!   ([`crate::output::style`]);
//! - timestamps with milliseconds, local time or UTC, and the caller's
//!   `file:line`;
//! - optional file output, rotated by size into `PATH.1` (newest) to
//!   `PATH.N`, never coloured;
//! - a level that can be changed while running, through a [`LogHandle`].
//!
//! Logs go to stderr, never stdout. The library only logs through `log`;
//! installing this logger is the binary's business (`--log-level`, `-v`,
//! `--log-file`, ... in [`crate::log_args`]).

mod format;
mod level;
mod rotate;

pub use level::Level;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::output::style::Palette;
use format::Format;
use rotate::RotatingFile;

/// Default size at which the log file is rotated: 10 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Default number of rotated log files kept: 3.
pub const DEFAULT_BACKUPS: u32 = 3;

/// Error from building or installing a [`Logger`].
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A global `log` logger (this one or another) is already installed.
    #[error("a logger is already installed")]
    AlreadyInstalled,
    /// The log file, or its directory, could not be created or opened.
    #[error("cannot open log file {}", path.display())]
    OpenFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Logger configuration; [`LogConfig::default`] gives each field's default.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Least severe level shown. Default: [`Level::Info`].
    pub level: Level,
    /// Colour stderr lines. Default: `false` (the caller knows whether
    /// stderr is a terminal). Files are never coloured.
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
    /// bytes; `0` never rotates. Default: [`DEFAULT_MAX_FILE_SIZE`].
    pub max_file_size: u64,
    /// Rotated files kept: `app.log.1` (newest) to `app.log.N`; the oldest
    /// is deleted. With `0`, the file is simply emptied when it is full.
    /// Default: [`DEFAULT_BACKUPS`].
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
    /// Builds the logger (opening the log file, if any) without installing
    /// it.
    pub fn build(self) -> Result<Logger, InstallError> {
        Logger::new(self)
    }
}

/// State shared by a logger and its handles.
#[derive(Debug)]
struct Shared {
    level: AtomicU8,
    /// Keeps the level and `log::max_level` consistent when several threads
    /// set the level at once.
    set_lock: Mutex<()>,
}

/// A handle on the installed logger's level. Cheap to clone; usable from
/// any thread.
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
}

/// The logger: a [`log::Log`] writing to stderr and, optionally, a rotated
/// file. Thread-safe; never panics on I/O errors.
#[derive(Debug)]
pub struct Logger {
    shared: Arc<Shared>,
    format: Format,
    /// Paints stderr lines (a disabled palette when not colouring).
    palette: Palette,
    console: bool,
    /// `None` inside the mutex once a write has failed.
    file: Option<Mutex<Option<RotatingFile>>>,
}

impl Logger {
    fn new(config: LogConfig) -> Result<Logger, InstallError> {
        let file = match &config.file {
            Some(path) => Some(Mutex::new(Some(
                RotatingFile::open(path, config.max_file_size, config.backups)
                    .map_err(|source| InstallError::OpenFile { path: path.clone(), source })?,
            ))),
            None => None,
        };
        Ok(Logger {
            shared: Arc::new(Shared {
                level: AtomicU8::new(config.level as u8),
                set_lock: Mutex::new(()),
            }),
            format: Format {
                timestamps: config.timestamps,
                caller: config.caller,
                utc: config.utc,
            },
            palette: Palette::new(config.color),
            console: config.console,
            file,
        })
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
        let now = SystemTime::now();
        if self.console {
            let line = self.format.line(level, record, now, self.palette, false);
            // Nowhere to report a failure to write to stderr.
            let _ = io::stderr().lock().write_all(line.as_bytes());
        }
        if let Some(file) = &self.file {
            let line = self.format.line(level, record, now, Palette::new(false), true);
            let mut slot = lock(file);
            if let Some(out) = slot.as_mut() {
                if let Err(err) = out.write_line(line.as_bytes()) {
                    let path = out.path().to_owned();
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

#[cfg(test)]
mod tests {
    use super::*;
    use log::Log;
    use std::fs;
    use std::path::Path;
    use veltix::logging::{CRITICAL_SUFFIX, SUCCESS_SUFFIX};

    /// The seven record levels, least severe first.
    const ALL: [Level; 7] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Success,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// A logger that writes only to a file (nothing on stderr), in UTC.
    fn file_logger(path: &Path, level: Level) -> Logger {
        LogConfig { level, ..file_logger_config(path) }.build().unwrap()
    }

    fn file_logger_config(path: &Path) -> LogConfig {
        LogConfig { console: false, utc: true, file: Some(path.to_owned()), ..LogConfig::default() }
    }

    /// A handle on a logger that is not the global one.
    fn local_handle(logger: &Logger) -> LogHandle {
        LogHandle { shared: Arc::clone(&logger.shared), global: false }
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

    #[test]
    fn levels_are_ordered_and_round_trip_through_u8() {
        assert!(ALL.windows(2).all(|w| w[0] < w[1]));
        assert!(Level::Critical < Level::Off);
        for (i, level) in ALL.iter().chain([&Level::Off]).enumerate() {
            assert_eq!(*level as usize, i);
            assert_eq!(Level::from_u8(i as u8), *level);
            assert_eq!(level.label().len(), 8);
            assert_eq!(level.label().trim_end(), format!("{level:?}").to_uppercase());
        }
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
    fn each_level_has_its_own_look() {
        let palette = Palette::new(true);
        let looks: Vec<String> =
            ALL.iter().map(|l| palette.paint(l.role(), "x").to_string()).collect();
        for (i, a) in looks.iter().enumerate() {
            assert!(a.contains('\x1b'), "{a:?}");
            assert!(looks[i + 1..].iter().all(|b| a != b), "{looks:?}");
        }
    }

    #[test]
    fn filtering_includes_success_and_critical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let logger = file_logger(&path, Level::Success);
        for level in ALL {
            emit(&logger, level, &format!("m-{level:?}"));
        }
        let text = fs::read_to_string(&path).unwrap();
        let shown: Vec<&str> = text.lines().map(|l| l.split(' ').nth(2).unwrap()).collect();
        assert_eq!(shown, ["SUCCESS", "WARNING", "ERROR", "CRITICAL"], "{text}");

        local_handle(&logger).set_level(Level::Critical);
        emit(&logger, Level::Error, "hidden");
        emit(&logger, Level::Critical, "shown");
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hidden"));
        assert!(text.lines().last().unwrap().ends_with("] shown"));
    }

    #[test]
    fn enabled_follows_runtime_level() {
        let logger = LogConfig { console: false, ..LogConfig::default() }.build().unwrap();
        let handle = local_handle(&logger);
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
    fn file_lines_have_no_colour_and_show_date_and_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/sub/app.log");
        let config = LogConfig {
            color: true,
            console: false,
            file: Some(path.clone()),
            ..LogConfig::default()
        };
        let logger = config.build().unwrap();
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
    fn logger_rotates_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let config = LogConfig { max_file_size: 100, backups: 2, ..file_logger_config(&path) };
        let logger = config.build().unwrap();
        for i in 0..6 {
            emit(&logger, Level::Info, &format!("line {i}"));
        }
        let read = |suffix: &str| fs::read_to_string(format!("{}{suffix}", path.display()));
        // Each line is about 60 bytes, so each file holds one.
        assert!(read("").unwrap().ends_with("] line 5\n"));
        assert!(read(".1").unwrap().ends_with("] line 4\n"));
        assert!(read(".2").unwrap().ends_with("] line 3\n"));
        assert!(read(".3").is_err());
    }

    #[test]
    fn unopenable_file_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "").unwrap();
        let path = blocker.join("app.log");
        let err = file_logger_config(&path).build().unwrap_err();
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
    }

    #[test]
    fn logger_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Logger>();
        check::<LogHandle>();
    }

    /// The only test in the binary that installs the global logger: the
    /// library's macros in, lines in the log file out.
    #[test]
    fn installed_logger_writes_all_seven_levels_and_follows_the_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("veltix.log");
        let config = LogConfig { level: Level::Trace, ..file_logger_config(&path) };
        let handle = config.build().unwrap().install().unwrap();
        assert_eq!(log::max_level(), log::LevelFilter::Trace);

        // Other tests may log at the same time: look at this test's lines.
        let mine = |text: &str| -> Vec<String> {
            text.lines().filter(|l| l.contains("src/logging/mod.rs")).map(str::to_owned).collect()
        };
        log::trace!("t");
        log::debug!("d");
        log::info!("i");
        veltix::success!("s {}", 1);
        log::warn!("w");
        log::error!("e");
        veltix::critical!("c {}", 2);
        veltix::success!(target: "custom", "st");
        let line = line!() - 1;

        let lines = mine(&fs::read_to_string(&path).unwrap());
        let levels: Vec<&str> = lines.iter().map(|l| l.split(' ').nth(2).unwrap()).collect();
        assert_eq!(
            levels,
            ["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL", "SUCCESS"],
            "{lines:?}"
        );
        assert!(lines[3].ends_with("] s 1") && lines[6].ends_with("] c 2"), "{lines:?}");
        assert!(lines[7].ends_with(&format!("[src/logging/mod.rs:{line}] st")), "{lines:?}");

        // Raising the level at run time also lowers log::max_level.
        handle.set_level(Level::Success);
        assert_eq!(handle.level(), Level::Success);
        assert_eq!(log::max_level(), log::LevelFilter::Info);
        log::info!("hidden info");
        veltix::success!("shown success");
        handle.set_level(Level::Critical);
        assert_eq!(log::max_level(), log::LevelFilter::Error);
        log::error!("hidden error");
        veltix::critical!("shown critical");
        let lines = mine(&fs::read_to_string(&path).unwrap()).join("\n");
        assert!(!lines.contains("hidden"), "{lines}");
        assert!(lines.contains("shown success") && lines.contains("shown critical"));

        // A second install is an error, not a panic.
        let again = LogConfig { console: false, ..LogConfig::default() }.build().unwrap().install();
        assert!(matches!(again, Err(InstallError::AlreadyInstalled)));
        assert_eq!(handle.level(), Level::Critical);
    }
}

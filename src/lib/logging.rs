//! SUCCESS and CRITICAL records for the `log` facade.
//!
//! The library logs through [`log`] only and never prints; which records are
//! shown, and how, is up to the logger the program installs (the `veltix`
//! binary brings its own, with colours and file rotation).
//!
//! The Python reference has seven levels, `log` has five. SUCCESS travels
//! as an INFO record and CRITICAL as an ERROR record whose target ends with
//! [`SUCCESS_SUFFIX`] or [`CRITICAL_SUFFIX`]. The [`success!`](crate::success)
//! and [`critical!`](crate::critical) macros add the suffix. Loggers that do
//! not know about it see ordinary INFO and ERROR records whose target still
//! starts with the module path, so prefix filters such as
//! `RUST_LOG=veltix::server=info` keep working.
//!
//! # Telling SUCCESS and CRITICAL apart in your own logger
//!
//! Look at the level and the end of the target:
//!
//! ```
//! use veltix::logging::{CRITICAL_SUFFIX, SUCCESS_SUFFIX};
//!
//! fn level_name(record: &log::Record<'_>) -> &'static str {
//!     let target = record.target();
//!     match record.level() {
//!         log::Level::Info if target.ends_with(SUCCESS_SUFFIX) => "SUCCESS",
//!         log::Level::Error if target.ends_with(CRITICAL_SUFFIX) => "CRITICAL",
//!         log::Level::Trace => "TRACE",
//!         log::Level::Debug => "DEBUG",
//!         log::Level::Info => "INFO",
//!         log::Level::Warn => "WARNING",
//!         log::Level::Error => "ERROR",
//!     }
//! }
//!
//! let record = log::Record::builder()
//!     .level(log::Level::Info)
//!     .target("veltix::server#success")
//!     .build();
//! assert_eq!(level_name(&record), "SUCCESS");
//! ```
//!
//! A suffix only counts on its own level: a WARN record whose target ends
//! with `#critical` is a WARNING. To show the target without the suffix,
//! strip it (`target.strip_suffix(SUCCESS_SUFFIX)`).

/// Target suffix that marks an INFO record as SUCCESS (used by [`success!`](crate::success)).
pub const SUCCESS_SUFFIX: &str = "#success";
/// Target suffix that marks an ERROR record as CRITICAL (used by [`critical!`](crate::critical)).
pub const CRITICAL_SUFFIX: &str = "#critical";

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, OnceLock};

    #[test]
    fn macro_literals_match_the_suffix_constants() {
        // The macros spell the suffixes as literals (concat! needs them).
        let src = include_str!("logging.rs");
        assert!(src.contains(&format!("module_path!(), \"{SUCCESS_SUFFIX}\")")));
        assert!(src.contains(&format!("module_path!(), \"{CRITICAL_SUFFIX}\")")));
    }

    /// Keeps every record's level, target and message.
    struct Capture(Mutex<Vec<(log::Level, String, String)>>);

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let entry = (record.level(), record.target().to_owned(), record.args().to_string());
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
        }
        fn flush(&self) {}
    }

    /// The only test in the library that installs a global logger.
    #[test]
    fn macros_send_suffixed_info_and_error_records() {
        static CAPTURE: OnceLock<Capture> = OnceLock::new();
        let capture = CAPTURE.get_or_init(|| Capture(Mutex::new(Vec::new())));
        log::set_logger(capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);

        crate::success!("client {} connected", 7);
        crate::critical!("disk {}", "full");
        crate::success!(target: "custom", "st");
        crate::critical!(target: "custom", "ct");
        log::info!("plain");

        let here = module_path!();
        // Other tests may log at the same time: keep only this test's records.
        let got: Vec<_> = (capture.0.lock().unwrap().iter())
            .filter(|(_, target, _)| target.starts_with(here) || target.starts_with("custom"))
            .cloned()
            .collect();
        let want = [
            (log::Level::Info, format!("{here}{SUCCESS_SUFFIX}"), "client 7 connected"),
            (log::Level::Error, format!("{here}{CRITICAL_SUFFIX}"), "disk full"),
            (log::Level::Info, format!("custom{SUCCESS_SUFFIX}"), "st"),
            (log::Level::Error, format!("custom{CRITICAL_SUFFIX}"), "ct"),
            (log::Level::Info, here.to_owned(), "plain"),
        ];
        let want: Vec<_> = want.into_iter().map(|(l, t, m)| (l, t, m.to_owned())).collect();
        assert_eq!(got, want);
    }
}

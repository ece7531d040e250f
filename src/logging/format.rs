//! How a log line looks:
//! `[YYYY-MM-DD ]HH:MM:SS.mmm LEVEL    [file:line] message`.

use std::fmt::{self, Write as _};
use std::time::SystemTime;

use chrono::{DateTime, Local, NaiveDateTime, Utc};
use veltix::logging::{CRITICAL_SUFFIX, SUCCESS_SUFFIX};

use super::level::Level;
use crate::output::style::{Palette, Role};

/// Time without the date (stderr).
const TIME: &str = "%H:%M:%S%.3f";
/// Date and time (the log file).
const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// What a line shows besides the level and the message.
#[derive(Debug, Clone)]
pub(super) struct Format {
    pub(super) timestamps: bool,
    pub(super) caller: bool,
    /// UTC rather than local time.
    pub(super) utc: bool,
}

impl Format {
    /// One line, ending in `\n`, painted with `palette`; `date` adds the
    /// date to the time.
    pub(super) fn line(
        &self,
        level: Level,
        record: &log::Record<'_>,
        now: SystemTime,
        palette: Palette,
        date: bool,
    ) -> String {
        let mut s = String::with_capacity(96);
        // Writing into a String cannot fail.
        if self.timestamps {
            let time = self.wall_clock(now).format(if date { DATE_TIME } else { TIME });
            let _ = write!(s, "{} ", palette.paint(Role::Faint, time));
        }
        let _ = write!(s, "{}", palette.paint(level.role(), level.label()));
        if self.caller {
            let _ = write!(s, " {}", palette.paint(Role::Faint, Caller(record)));
        }
        let _ = writeln!(s, " {}", record.args());
        s
    }

    /// `now` as local time (or UTC). chrono reads the time zone itself
    /// (`TZ`, else `/etc/localtime`) rather than through libc, so it is
    /// safe while other threads run, and it looks again for a change at
    /// most once a second: a daylight-saving change during a run is
    /// followed. Without time-zone data it gives UTC.
    fn wall_clock(&self, now: SystemTime) -> NaiveDateTime {
        let utc = DateTime::<Utc>::from(now);
        if self.utc {
            utc.naive_utc()
        } else {
            utc.with_timezone(&Local).naive_local()
        }
    }
}

/// `[file:line]`, or the target (without a level suffix) when the record
/// has no file.
struct Caller<'a, 'r>(&'a log::Record<'r>);

impl fmt::Display for Caller<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.file(), self.0.line()) {
            (Some(file), Some(line)) => write!(f, "[{file}:{line}]"),
            (Some(file), None) => write!(f, "[{file}]"),
            _ => {
                let target = self.0.target();
                let target = target
                    .strip_suffix(SUCCESS_SUFFIX)
                    .or_else(|| target.strip_suffix(CRITICAL_SUFFIX))
                    .unwrap_or(target);
                write!(f, "[{target}]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn record_line(format: &Format, palette: Palette, date: bool, time: SystemTime) -> String {
        let n = 7;
        format.line(
            Level::Success,
            &log::Record::builder()
                .args(format_args!("client {n} connected"))
                .level(log::Level::Info)
                .target("veltix::server#success")
                .file(Some("src/lib/server.rs"))
                .line(Some(42))
                .build(),
            time,
            palette,
            date,
        )
    }

    const UTC: Format = Format { timestamps: true, caller: true, utc: true };

    /// 2024-02-29 13:04:05.007 UTC
    fn leap_day() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_709_211_845_007)
    }

    #[test]
    fn plain_lines() {
        let plain = Palette::new(false);
        assert_eq!(
            record_line(&UTC, plain, false, leap_day()),
            "13:04:05.007 SUCCESS  [src/lib/server.rs:42] client 7 connected\n"
        );
        assert_eq!(
            record_line(&UTC, plain, true, leap_day()),
            "2024-02-29 13:04:05.007 SUCCESS  [src/lib/server.rs:42] client 7 connected\n"
        );
        let bare = Format { timestamps: false, caller: false, utc: true };
        let rec = log::Record::builder().args(format_args!("x")).level(log::Level::Warn).build();
        assert_eq!(bare.line(Level::Warning, &rec, leap_day(), plain, true), "WARNING  x\n");
    }

    #[test]
    fn coloured_lines_paint_time_level_and_caller_only() {
        let palette = Palette::new(true);
        let line = record_line(&UTC, palette, false, leap_day());
        let want = format!(
            "{} {} {} client 7 connected\n",
            palette.paint(Role::Faint, "13:04:05.007"),
            palette.paint(Role::LogSuccess, "SUCCESS "),
            palette.paint(Role::Faint, "[src/lib/server.rs:42]"),
        );
        assert_eq!(line, want);
        assert!(line.contains('\x1b'), "{line:?}");
    }

    #[test]
    fn times_before_1970_and_after_2100() {
        let plain = Palette::new(false);
        let old = UNIX_EPOCH - Duration::from_millis(1);
        assert!(record_line(&UTC, plain, true, old).starts_with("1969-12-31 23:59:59.999 "));
        let later = UNIX_EPOCH + Duration::from_secs(4_107_542_400); // 2100-03-01
        assert!(record_line(&UTC, plain, true, later).starts_with("2100-03-01 00:00:00.000 "));
    }

    #[test]
    fn local_time_differs_from_utc_by_at_most_a_day() {
        let local = Format { utc: false, ..UTC };
        let now = SystemTime::now();
        let diff = local.wall_clock(now) - UTC.wall_clock(now);
        assert!(diff.num_seconds().abs() <= 26 * 3600, "{diff}");
        assert_eq!(diff.num_seconds() % 60, 0, "offsets are whole minutes: {diff}");
    }

    #[test]
    fn caller_falls_back_to_target() {
        let rec = log::Record::builder()
            .args(format_args!("x"))
            .target("veltix::server#critical")
            .build();
        assert_eq!(Caller(&rec).to_string(), "[veltix::server]");
        let rec = log::Record::builder().target("t").file(Some("a.rs")).build();
        assert_eq!(Caller(&rec).to_string(), "[a.rs]");
    }
}

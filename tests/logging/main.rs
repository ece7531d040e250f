//! The installed logger, seen as a library user sees it: macros in, lines in
//! the log file out. Only this test installs the global logger.

use std::fs;

use veltix::logging::{InstallError, Level, LogConfig};

#[test]
fn installed_logger_writes_all_seven_levels_and_follows_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veltix.log");
    let handle =
        LogConfig::default().level(Level::Trace).console(false).file(&path).install().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Trace);

    log::trace!("t");
    log::debug!("d");
    log::info!("i");
    veltix::success!("s {}", 1);
    log::warn!("w");
    log::error!("e");
    veltix::critical!("c {}", 2);
    veltix::success!(target: "custom", "st");
    let line = line!() - 1;

    let text = fs::read_to_string(&path).unwrap();
    let levels: Vec<&str> = text.lines().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    assert_eq!(
        levels,
        ["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL", "SUCCESS"],
        "{text}"
    );
    assert!(text.contains("] s 1\n") && text.contains("] c 2\n"), "{text}");
    let caller = format!("[tests/logging/main.rs:{line}] st\n");
    assert!(text.ends_with(&caller), "{text}");
    assert!(!text.contains('\x1b'));

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
    let text = fs::read_to_string(&path).unwrap();
    assert!(!text.contains("hidden"), "{text}");
    assert!(text.contains("shown success") && text.contains("shown critical"));
    assert_eq!(handle.count(Level::Success), 3);
    assert_eq!(handle.count(Level::Critical), 2);

    // A second install is an error, not a panic.
    let again = LogConfig::default().console(false).install();
    assert!(matches!(again, Err(InstallError::AlreadyInstalled)));
    assert_eq!(handle.level(), Level::Critical);
}

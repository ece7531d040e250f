//! Logging flags end to end: `--log-level` with the seven level names,
//! `-v`, `--color`, `--log-file` lines and rotation into PATH.1..N.

use std::fs;
use std::path::Path;

use veltix::{Client, ClientConfig};

use crate::util::{line_reader, next_line, run, stderr, veltix, Serve};

/// A loopback address where nothing listens: port 1 (tcpmux) is privileged
/// and unused, so no other test's server can take it, unlike a port freed
/// after asking the OS for one.
const CLOSED: &str = "127.0.0.1:1";

/// The level column of a log line (`[date ]time LEVEL ...`), checking the
/// rest of the line's shape on the way.
fn level_of(line: &str, dated: bool) -> &str {
    let mut parts = line.splitn(if dated { 3 } else { 2 }, ' ');
    if dated {
        let date = parts.next().unwrap_or_default();
        assert!(date.len() == 10 && date.as_bytes()[4] == b'-', "{line:?}");
    }
    let time = parts.next().unwrap_or_default();
    assert!(time.len() == 12 && time.as_bytes()[8] == b'.', "{line:?}");
    let rest = parts.next().unwrap_or_default();
    // LEVEL padded to 8 columns, then `[file:line] message`.
    let (level, tail) = rest.split_at(8.min(rest.len()));
    assert!(tail.starts_with(" [src/") && tail.contains(".rs:"), "{line:?}");
    level.trim_end()
}

/// Connects a client and waits until serve (log mode) prints it.
fn connect_and_leave(s: &Serve, stdout: &std::sync::mpsc::Receiver<String>) {
    let c = Client::connect(ClientConfig::new(s.addr.clone())).expect("connect");
    assert!(next_line(stdout).contains("connected"));
    c.disconnect();
    assert!(next_line(stdout).contains("disconnected"));
}

#[test]
fn each_level_name_is_a_threshold() {
    // A refused connection is logged as a WARNING.
    for (level, shown) in [
        ("trace", true),
        ("debug", true),
        ("info", true),
        ("success", true),
        ("warning", true),
        ("WARN", true),
        ("error", false),
        ("critical", false),
        ("off", false),
    ] {
        let out = run(veltix(["ping", CLOSED, "-c", "1", "--log-level", level]));
        let text = stderr(&out);
        let warnings: Vec<&str> = text.lines().filter(|l| l.contains(" WARNING ")).collect();
        assert_eq!(!warnings.is_empty(), shown, "--log-level {level}: {text}");
        for line in warnings {
            assert_eq!(level_of(line, false), "WARNING", "{line}");
            assert!(line.contains("cannot connect to"), "{line}");
        }
    }
}

#[test]
fn verbose_serve_logs_trace_to_success_on_stderr_and_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/serve.log");
    let mut s = Serve::start(&[
        "-vv",
        "--color",
        "always",
        "--performance-mode",
        "high",
        "--log-file",
        path.to_str().unwrap(),
    ]);
    // A silent client gets a heartbeat PING after 1 s, logged at TRACE.
    let _c = Client::connect(ClientConfig::new(s.addr.clone())).expect("connect");
    let trace = s.wait_stderr("heartbeat PING");
    assert!(trace.contains("\x1b["), "stderr is coloured: {trace:?}");
    let status = s.interrupt();
    assert!(status.success(), "{status}");

    let text = fs::read_to_string(&path).unwrap();
    assert!(!text.contains('\x1b'), "the file is never coloured: {text:?}");
    let levels: Vec<&str> = text.lines().map(|l| level_of(l, true)).collect();
    for want in ["TRACE", "DEBUG", "INFO", "SUCCESS"] {
        assert!(levels.contains(&want), "{want} missing: {text}");
    }
    assert!(text.contains(" SUCCESS  [src/cmd/serve/mod.rs:"), "{text}");
    assert!(text.contains("] listening on "), "{text}");
}

#[test]
fn log_level_success_hides_info_and_debug() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.log");
    let mut s =
        Serve::start(&["-v", "--log-level", "success", "--log-file", path.to_str().unwrap()]);
    let stdout = line_reader(s.stdout());
    connect_and_leave(&s, &stdout);
    let status = s.interrupt();
    assert!(status.success(), "{status}");
    let text = fs::read_to_string(&path).unwrap();
    let levels: Vec<&str> = text.lines().map(|l| level_of(l, true)).collect();
    assert_eq!(levels, ["SUCCESS"], "{text}");
}

/// The log file and its backups, name → content, sorted by name.
fn log_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Serves with `-v --log-file DIR/app.log ROTATION...` and has `clients`
/// clients come and go; returns the files left in DIR.
fn rotated_serve(rotation: &[&str], clients: usize) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut args = vec!["-v", "--log-file", path.to_str().unwrap()];
    args.extend_from_slice(rotation);
    let mut s = Serve::start(&args);
    let stdout = line_reader(s.stdout());
    for _ in 0..clients {
        connect_and_leave(&s, &stdout);
    }
    let status = s.interrupt();
    assert!(status.success(), "{status}");
    log_files(dir.path())
}

#[test]
fn log_file_rotates_into_numbered_backups() {
    // Each client adds three lines of about 100 bytes.
    let files = rotated_serve(&["--log-max-size", "300", "--log-backups", "2"], 6);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["app.log", "app.log.1", "app.log.2"]);
    for (name, text) in &files {
        assert!(!text.is_empty() && text.len() <= 300, "{name}: {} bytes", text.len());
        // Whole lines only: every line parses.
        assert!(text.ends_with('\n'), "{name}: {text:?}");
        for line in text.lines() {
            let level = level_of(line, true);
            assert!(["DEBUG", "INFO", "SUCCESS"].contains(&level), "{name}: {line:?}");
        }
    }
    // The newest lines are in PATH, the older ones in PATH.1, then PATH.2.
    assert!(files[0].1.contains("] server on "), "{}", files[0].1);
}

#[test]
fn log_backups_0_keeps_one_file_and_max_size_0_never_rotates() {
    let files = rotated_serve(&["--log-max-size", "300", "--log-backups", "0"], 3);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].1.len() <= 300 && files[0].1.contains("] server on "), "{files:?}");

    let files = rotated_serve(&["--log-max-size", "0", "--log-backups", "2"], 3);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].1.len() > 600, "{files:?}");
    assert!(files[0].1.contains("] listening on "), "{files:?}");
}

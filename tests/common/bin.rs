//! Running the `veltix` binary under test, and reading a child's output
//! line by line with a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::PATIENCE;

/// `veltix ARGS...` with an empty environment (no NO_COLOR, no
/// RUST_LOG, no terminal hints), so results do not depend on the shell.
pub fn veltix<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_veltix"));
    cmd.env_clear().args(args);
    cmd
}

/// Runs `cmd` with `stdin` as its input and waits for it.
pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn veltix");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    let data = stdin.to_vec();
    // Write from a thread: a large input must not block on a full stdout.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for veltix");
    writer.join().expect("stdin writer");
    out
}

/// Runs `cmd` with no input.
pub fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null());
    cmd.output().expect("run veltix")
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit code (-1 when killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Each stdout line parsed as JSON.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Reads lines from a child's stdout or stderr on a thread, so a test can
/// wait for them with a deadline.
pub fn line_reader(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line within the deadline.
pub fn next_line(rx: &Receiver<String>) -> String {
    rx.recv_timeout(Duration::from_secs(10)).expect("a line in time")
}

/// `veltix ARGS...` with stdin piped, stdout discarded and stderr read
/// line by line as it comes; killed on drop.
pub struct Piped {
    child: Child,
    stderr: Receiver<String>,
    seen: String,
}

impl Piped {
    pub fn spawn(args: &[&str]) -> Piped {
        let mut child = veltix(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn veltix");
        let stderr = line_reader(child.stderr.take().expect("piped stderr"));
        Piped { child, stderr, seen: String::new() }
    }

    pub fn write(&mut self, data: &[u8]) {
        let stdin = self.child.stdin.as_mut().expect("stdin open");
        stdin.write_all(data).expect("write veltix's stdin");
        stdin.flush().expect("flush veltix's stdin");
    }

    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// Waits for a stderr line containing `needle`.
    pub fn wait_stderr(&mut self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(needle) {
                        return;
                    }
                }
                Err(_) => panic!("no {needle:?} on stderr; saw:\n{}", self.seen),
            }
        }
    }

    /// Waits (bounded) for the exit; returns the code and all of stderr.
    /// stdin, if still open, stays open until then.
    pub fn wait(mut self) -> (i32, String) {
        // `Child::wait` would close it first.
        let stdin = self.child.stdin.take();
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("poll veltix's exit") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("veltix did not exit; stderr so far:\n{}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        drop(stdin);
        while let Ok(line) = self.stderr.recv_timeout(PATIENCE) {
            self.seen.push_str(&line);
            self.seen.push('\n');
        }
        (status.code().unwrap_or(-1), std::mem::take(&mut self.seen))
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's resident memory in bytes (its VmRSS), while it lives.
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

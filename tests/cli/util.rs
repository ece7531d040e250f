//! Helpers of the CLI tests: `xxd` text and a `veltix serve` child, plus
//! the helpers every test crate shares (tests/common), under the names
//! the CLI modules use.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

pub use crate::common::bin::{
    code, json_lines, line_reader, next_line, run, run_with_stdin, stderr, stdout, veltix,
};
pub use crate::common::data_path;
// The CLI modules' names for the common golden-vector and hex helpers.
pub use crate::common::golden::{golden_frames as golden, golden_stream, GoldenFrame as Vector};
pub use crate::common::hex::{hex as tohex, unhex};

/// The text `xxd` prints for `data` (16 bytes a row, groups of 2).
pub fn xxd(data: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in data.chunks(16).enumerate() {
        let mut hex = String::new();
        for (i, b) in chunk.iter().enumerate() {
            if i > 0 && i % 2 == 0 {
                hex.push(' ');
            }
            hex.push_str(&format!("{b:02x}"));
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' })
            .collect();
        out.push_str(&format!("{:08x}: {hex:<39}  {ascii}\n", row * 16));
    }
    out
}

/// A `veltix serve` child on an ephemeral loopback port, killed on drop.
pub struct Serve {
    pub child: std::process::Child,
    pub addr: String,
    /// The whole "listening on" line.
    pub listening: String,
    stdout: Option<std::process::ChildStdout>,
    stderr_lines: std::sync::mpsc::Receiver<String>,
}

impl Serve {
    /// Starts `veltix serve --host 127.0.0.1 -p 0 ARGS...` and waits (with a
    /// deadline) for its "listening on" line.
    pub fn start(args: &[&str]) -> Serve {
        let mut cmd = veltix(["serve", "--host", "127.0.0.1", "-p", "0"]);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn veltix serve");
        let stderr = child.stderr.take().expect("stderr");
        let rx = line_reader(stderr);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let addr = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = rx.recv_timeout(left).expect("veltix serve said 'listening on' in time");
            if let Some(rest) = line.split("listening on ").nth(1) {
                let addr = rest.split_whitespace().next().expect("address").to_string();
                break (addr, line);
            }
        };
        let (addr, listening) = addr;
        let stdout = child.stdout.take();
        Serve { child, addr, listening, stdout, stderr_lines: rx }
    }

    /// Takes the child's stdout (to read what it prints).
    pub fn stdout(&mut self) -> std::process::ChildStdout {
        self.stdout.take().expect("stdout taken once")
    }

    /// Waits for a stderr line containing `needle`; returns it.
    pub fn wait_stderr(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .stderr_lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no stderr line with {needle:?} in time"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Every stderr line not read yet, up to the end (the child must be
    /// ending).
    pub fn rest_of_stderr(&self) -> Vec<String> {
        self.stderr_lines.iter().collect()
    }

    /// Sends SIGINT and waits for the exit status.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        self.child.wait().expect("wait for veltix serve")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd`, feeding its stdin from `feed` on a thread (which should
/// stop at the first write error), and returns its output and its peak
/// resident memory in KiB, failing if it takes longer than `limit`.
///
/// The peak is the child's VmHWM, sampled every millisecond while it
/// runs (the last sample before it exits can miss a final spike, never
/// add one). wait4's ru_maxrss cannot serve: a child spawned with vfork
/// inherits the test process's own peak, which other tests inflate.
pub fn run_measured(
    mut cmd: Command,
    feed: impl FnOnce(std::process::ChildStdin) + Send + 'static,
    limit: std::time::Duration,
) -> (Output, u64) {
    use std::io::Read;
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn veltix");
    let stdin = child.stdin.take().expect("stdin");
    std::thread::spawn(move || feed(stdin));
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + limit;
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = try_vm_hwm_kib(child.id()) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait for veltix") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("veltix ran longer than {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    let out = Output {
        status,
        stdout: out_t.join().expect("stdout reader"),
        stderr: err_t.join().expect("stderr reader"),
    };
    (out, peak)
}

/// A feeder that writes `chunk` over and over until the reader stops.
pub fn endless(chunk: Vec<u8>) -> impl FnOnce(std::process::ChildStdin) + Send + 'static {
    move |mut stdin| while stdin.write_all(&chunk).is_ok() {}
}

/// The resident memory peak of a running process, in KiB (VmHWM).
pub fn vm_hwm_kib(pid: u32) -> u64 {
    try_vm_hwm_kib(pid).expect("VmHWM of a running process")
}

/// VmHWM, if the process still has memory to measure.
fn try_vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped).
pub fn process_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        }
    }
}

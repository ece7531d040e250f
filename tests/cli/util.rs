//! Helpers of the CLI tests: `xxd` text and a `veltix serve` child, plus
//! the helpers every test crate shares (tests/common), under the names
//! the CLI modules use.

use std::process::Stdio;

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
                break rest.split_whitespace().next().expect("address").to_string();
            }
        };
        let stdout = child.stdout.take();
        Serve { child, addr, stdout, stderr_lines: rx }
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

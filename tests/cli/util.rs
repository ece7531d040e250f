//! Helpers shared by the CLI tests: running the binary with a clean
//! environment, the golden vectors, hex and `xxd` text.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

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

/// A golden frame produced by veltix 1.6.3 (tests/data/veltix-1.6.3-frames.json).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Vector {
    pub name: String,
    pub type_code: u16,
    pub type_name: String,
    pub request_id_hex: String,
    pub timestamp_ms: u64,
    pub payload_hex: String,
    pub crc32_hex: String,
    pub frame_hex: String,
}

impl Vector {
    pub fn frame(&self) -> Vec<u8> {
        unhex(&self.frame_hex)
    }
    pub fn payload(&self) -> Vec<u8> {
        unhex(&self.payload_hex)
    }
}

/// The golden vectors.
pub fn golden() -> Vec<Vector> {
    #[derive(serde::Deserialize)]
    struct File {
        vectors: Vec<Vector>,
    }
    let path = data_path("veltix-1.6.3-frames.json");
    let text = std::fs::read_to_string(&path).expect("read golden vectors");
    let file: File = serde_json::from_str(&text).expect("parse golden vectors");
    assert!(!file.vectors.is_empty());
    file.vectors
}

/// Every golden frame, back to back.
pub fn golden_stream() -> Vec<u8> {
    golden().iter().flat_map(Vector::frame).collect()
}

/// A file under tests/data/.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Bytes of a hex string (test data only: panics on bad hex).
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex: {s}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// Lowercase hex.
pub fn tohex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

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
        use std::io::BufRead;
        let mut cmd = veltix(["serve", "--host", "127.0.0.1", "-p", "0"]);
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn veltix serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
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

/// Reads lines from a child's stdout on a thread, so a test can wait for
/// them with a deadline.
pub fn line_reader(out: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line within the deadline.
pub fn next_line(rx: &std::sync::mpsc::Receiver<String>) -> String {
    rx.recv_timeout(std::time::Duration::from_secs(10)).expect("a line in time")
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

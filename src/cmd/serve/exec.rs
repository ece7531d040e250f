//! Exec mode: one command per message, bounded in time, in output and in
//! life.
//!
//! Each job runs in a process group of its own, so that whatever it starts
//! (`sh -c 'sleep 300 & echo hi'`) is killed with it: at the time-out, when
//! its output grows past what one frame may carry, when its client has
//! gone, when the server shuts down, and after it has answered.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use veltix::{Frame, Peer, TypeRegistry};

/// How much of a job's stderr is kept for the ERROR frame; the rest is
/// read and dropped.
pub const STDERR_KEEP: usize = 4096;
/// How often a running job looks at its client, the clock and the server.
const POLL: Duration = Duration::from_millis(5);

/// The process groups of the jobs running now, and whether new ones may
/// start.
#[derive(Debug, Default)]
pub struct Jobs {
    groups: Mutex<HashSet<libc::pid_t>>,
    stopping: AtomicBool,
}

impl Jobs {
    /// Lets no new job start and kills every running one (with all it
    /// started). Returns how many were running.
    pub fn stop_all(&self) -> usize {
        self.stopping.store(true, Ordering::SeqCst);
        let groups = self.lock();
        for &pgid in groups.iter() {
            kill_group(pgid);
        }
        groups.len()
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<libc::pid_t>> {
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn kill_group(pgid: libc::pid_t) {
    // SAFETY: kill(2) touches no memory; a negative pid names the process
    // group created for one job, whose leader is not reaped yet (see
    // `Group::drop`), so the id cannot have been reused.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// A running job's process group: killed, forgotten and reaped on drop.
struct Group<'a> {
    jobs: &'a Jobs,
    child: Child,
    pgid: libc::pid_t,
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        kill_group(self.pgid);
        // Forget the group before reaping its leader: once reaped, the id
        // may name someone else's group.
        self.jobs.lock().remove(&self.pgid);
        let _ = self.child.wait();
    }
}

/// How a job ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its stdout, the reply's payload.
    Reply(Vec<u8>),
    /// It failed: the text of the ERROR frame that answers it.
    Failed(String),
    /// It was not run, or was killed, and gets no answer: the client has
    /// gone or the server is shutting down.
    Cancelled(&'static str),
}

/// What exec mode runs, and its bounds.
pub struct Exec {
    pub command: Vec<String>,
    pub timeout: Duration,
    /// The largest reply payload (what a frame of `--max-message-size`
    /// holds); more output is an error.
    pub max_output: u64,
    pub types: TypeRegistry,
    pub jobs: Arc<Jobs>,
}

/// What the reader threads hand back.
enum Piece {
    Stdout(io::Result<Vec<u8>>),
    Stderr(Vec<u8>),
}

impl Exec {
    /// Runs the command for one message from `peer`.
    pub fn run(&self, peer: &Peer, frame: &Frame) -> Outcome {
        if !peer.is_open() {
            return Outcome::Cancelled("the client has gone");
        }
        if self.jobs.stopping() {
            return Outcome::Cancelled("the server is shutting down");
        }
        let Some((prog, rest)) = self.command.split_first() else {
            return Outcome::Failed("no command".into());
        };
        let mut cmd = Command::new(prog);
        cmd.args(rest)
            .env("VELTIX_TYPE", frame.type_code.to_string())
            .env("VELTIX_TYPE_NAME", self.types.label(frame.type_code))
            .env("VELTIX_REQUEST_ID", frame.request_id.to_string())
            .env("VELTIX_PEER", peer.addr().to_string())
            .env("VELTIX_CLIENT_ID", peer.id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(format!("cannot run {prog}: {e}")),
        };
        let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
            return Outcome::Failed(format!("cannot run {prog}: pid out of range"));
        };
        self.jobs.lock().insert(pgid);
        let mut group = Group { jobs: &self.jobs, child, pgid };
        // After the insert: a shutdown that began before it is seen here.
        if self.jobs.stopping() {
            return Outcome::Cancelled("the server is shutting down");
        }
        let pieces = match self.start_pipes(&mut group.child, &frame.payload) {
            Ok(rx) => rx,
            Err(e) => return Outcome::Failed(format!("cannot run {prog}: {e}")),
        };
        self.wait(prog, peer, &mut group, &pieces)
        // `group` is dropped here: whatever the job left running dies.
    }

    /// Feeds the payload to stdin and reads stdout (up to one byte over
    /// the limit) and stderr (keeping [`STDERR_KEEP`] bytes) on threads of
    /// their own, so that no pipe can block the others.
    fn start_pipes(&self, child: &mut Child, payload: &[u8]) -> io::Result<Receiver<Piece>> {
        let missing = || io::Error::other("a pipe to the command is missing");
        let mut stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let stderr = child.stderr.take().ok_or_else(missing)?;
        let payload = payload.to_vec();
        std::thread::Builder::new().name("exec-stdin".into()).spawn(move || {
            // A command that does not read its input closes the pipe: fine.
            let _ = stdin.write_all(&payload);
        })?;
        let (tx, rx) = mpsc::channel();
        let out_tx = tx.clone();
        let cap = self.max_output.saturating_add(1);
        std::thread::Builder::new().name("exec-stdout".into()).spawn(move || {
            let mut v = Vec::new();
            let r = stdout.take(cap).read_to_end(&mut v).map(|_| v);
            let _ = out_tx.send(Piece::Stdout(r));
        })?;
        std::thread::Builder::new().name("exec-stderr".into()).spawn(move || {
            let mut kept = Vec::new();
            let mut stderr = stderr;
            let _ = (&mut stderr).take(STDERR_KEEP as u64).read_to_end(&mut kept);
            let _ = io::copy(&mut stderr, &mut io::sink());
            let _ = tx.send(Piece::Stderr(kept));
        })?;
        Ok(rx)
    }

    /// Waits for the job to exit and its stdout to end, within the bounds.
    fn wait(
        &self,
        prog: &str,
        peer: &Peer,
        group: &mut Group,
        pieces: &Receiver<Piece>,
    ) -> Outcome {
        let deadline = Instant::now().checked_add(self.timeout);
        let mut output: Option<Vec<u8>> = None;
        let mut stderr: Option<Vec<u8>> = None;
        let mut status: Option<ExitStatus> = None;
        loop {
            match pieces.recv_timeout(POLL) {
                Ok(Piece::Stdout(Ok(v))) if v.len() as u64 > self.max_output => {
                    return Outcome::Failed(format!(
                        "{prog} wrote more than {} bytes, the most one reply can carry (--max-message-size); it was killed",
                        self.max_output
                    ));
                }
                Ok(Piece::Stdout(Ok(v))) => output = Some(v),
                Ok(Piece::Stdout(Err(e))) => {
                    return Outcome::Failed(format!("cannot read the output of {prog}: {e}"))
                }
                Ok(Piece::Stderr(v)) => stderr = Some(v),
                Err(RecvTimeoutError::Timeout) => {}
                // Both readers are done; only the exit is awaited.
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(POLL),
            }
            if status.is_none() {
                match group.child.try_wait() {
                    Ok(s) => status = s,
                    Err(e) => return Outcome::Failed(format!("cannot wait for {prog}: {e}")),
                }
            }
            if let (Some(_), Some(st)) = (&output, status) {
                if st.success() {
                    return Outcome::Reply(output.unwrap_or_default());
                }
                // Its stderr may still be held open by what it started.
                let err = stderr.or_else(|| last_stderr(pieces)).unwrap_or_default();
                let err = String::from_utf8_lossy(&err);
                return Outcome::Failed(format!("{prog} failed ({st}): {}", err.trim_end()));
            }
            if !peer.is_open() {
                return Outcome::Cancelled("the client has gone");
            }
            if self.jobs.stopping() {
                return Outcome::Cancelled("the server is shutting down");
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Outcome::Failed(format!(
                    "{prog} ran longer than {} and was killed (with all it started)",
                    humantime::format_duration(self.timeout)
                ));
            }
        }
    }
}

/// Stderr, if its reader finishes soon; it never does while something the
/// job started still holds the pipe.
fn last_stderr(pieces: &Receiver<Piece>) -> Option<Vec<u8>> {
    let until = Instant::now() + Duration::from_millis(50);
    loop {
        match pieces.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Piece::Stderr(v)) => return Some(v),
            Ok(Piece::Stdout(_)) => {}
            Err(_) => return None,
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary (an ERROR
/// frame must fit the limit as well).
pub fn fit(text: &str, max: u64) -> &str {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_cuts_on_a_char_boundary() {
        assert_eq!(fit("hello", 10), "hello");
        assert_eq!(fit("hello", 3), "hel");
        assert_eq!(fit("héllo", 2), "h");
        assert_eq!(fit("héllo", 0), "");
    }
}

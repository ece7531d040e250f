//! What the REPL and pipe mode share: the options, the connection with its
//! reconnection news, and the error for a first connection that failed.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use veltix::{ClientConfig, DisconnectReason, DisconnectState};

use crate::args::{self, ConnArgs};

const AFTER_LONG_HELP: &str = "\
Modes:
  When stdin is a terminal, connect starts an interactive session: a line
  you type is sent as one message of the current type (--type, or /type),
  and messages from the server are printed above the prompt as they come.
  /help lists the commands (/send, /request, /ping, /hex, /json, /file,
  /status, /reconnect, /quit, ...). History is kept in
  $XDG_STATE_HOME/veltix/history (or ~/.local/state/veltix/history); Ctrl-R
  searches it, Tab completes commands and type names.

  Otherwise connect works like netcat: each line of stdin (newline, or
  CR LF, stripped) is sent as one message of --type; -0 splits on NUL bytes
  instead and --raw sends all of stdin as one message. Messages from the
  server go to stdout as they arrive: the payload bytes and a newline, or
  with --json one JSON object per line (type_code, type_name, request_id,
  size, payload_text or payload_hex, peer, ts, timestamp_ms). At the end of
  input, connect waits until the server has read everything (one PING round
  trip), lingers for --linger to collect replies, and exits. Logs and
  connection news go to stderr only.

  Connection news (lost, reconnecting, reconnected) is printed by connect
  itself, so the library's own warnings about it are left out unless a
  logging flag (-v, --log-level, --log-file) is given.

Exit status:
  0  all input was sent (also when the server closed the connection after
     the last message), or the session was left with /quit or Ctrl-D
  1  the connection was lost before all input was sent (without --retry,
     or after the retries ran out), the server answered with an ERROR
     frame (its text goes to stderr, not stdout), a record was larger
     than --max-message-size allows (it is refused before it is read
     further, and before anything is sent), or another error
  3  cannot connect: refused, unreachable, handshake failed, version
     mismatch (after the --retry attempts, if any)

Examples:
  veltix connect localhost:8080
  echo hello | veltix connect localhost:8080 --type chat --type-name 200=chat
  veltix connect host:8080 --json < lines.txt
  find . -print0 | veltix connect host:8080 -0
  veltix connect host:8080 --raw --type 300 < image.png
  veltix connect host:8080 --retry 5 --retry-delay 2s";

/// Talk to a server: an interactive REPL, or netcat-like pipe mode.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_LONG_HELP)]
pub struct Args {
    /// The server, as HOST:PORT (IPv6 in brackets: [::1]:8080).
    #[arg(value_name = "HOST:PORT", value_parser = args::parse_addr)]
    pub addr: String,
    /// Type of the messages sent: a code (200, 0xc8) or a name given with
    /// --type-name or --types. In the REPL, the type of plain lines.
    #[arg(short = 't', long = "type", value_name = "TYPE", default_value = "200")]
    pub type_code: String,
    /// Pipe mode: records end with NUL bytes instead of newlines (as
    /// `find -print0` and `xargs -0` have it).
    #[arg(short = '0', long = "null", conflicts_with = "raw")]
    pub null: bool,
    /// Pipe mode: send all of stdin as one message.
    #[arg(long)]
    pub raw: bool,
    /// Pipe mode: write received messages as JSON lines instead of raw
    /// payloads.
    #[arg(long)]
    pub json: bool,
    /// Pipe mode: how long to wait for replies after the end of input
    /// (e.g. 500ms, 2s, 0).
    #[arg(long, value_name = "DUR", default_value = "200ms", value_parser = args::parse_duration)]
    pub linger: Duration,
    /// Reconnection attempts after the connection is lost (and after a
    /// failed first connect).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry: u32,
    /// Delay before each reconnection attempt.
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = args::parse_duration)]
    pub retry_delay: Duration,
    /// Time allowed for the TCP connect.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = args::parse_duration)]
    pub connect_timeout: Duration,
    /// How long /request and /ping wait for an answer, and how long pipe
    /// mode waits for the server to have read all input.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = args::parse_duration)]
    pub timeout: Duration,
    /// REPL: keep the line history in FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "no_history")]
    pub history: Option<PathBuf>,
    /// REPL: neither read nor write a history file.
    #[arg(long)]
    pub no_history: bool,
    #[command(flatten)]
    pub conn: ConnArgs,
}

impl Args {
    /// The library's client settings for these flags.
    pub(super) fn client_config(&self) -> anyhow::Result<ClientConfig> {
        Ok(self
            .conn
            .client_config(&self.addr)?
            .connect_timeout(self.connect_timeout)
            .retry(self.retry)
            .retry_delay(self.retry_delay))
    }
}

/// The error for a first connection that failed. Whatever the cause
/// (refused, timed out, closed during the handshake, wrong version), the
/// exit code is 3.
pub(super) fn connect_error(addr: &str, err: veltix::Error) -> anyhow::Error {
    let err = anyhow::Error::new(err).context(format!("cannot connect to {addr}"));
    if args::exit_code_for(&err) == args::exit::CONNECT {
        return err;
    }
    let mut message = format!("{err}");
    for cause in err.chain().skip(1) {
        message.push_str(&format!(": {cause}"));
    }
    anyhow::Error::new(args::Exit { code: args::exit::CONNECT, message })
}

/// The connection as the client's callbacks report it, shared with the
/// thread that sends, which may have to wait for a reconnection.
#[derive(Debug, Default)]
pub(super) struct Link {
    state: Mutex<LinkState>,
    changed: Condvar,
}

/// See [`Link`].
#[derive(Debug, Clone, Default)]
pub(super) struct LinkState {
    /// Handshakes completed so far.
    pub(super) connects: u64,
    /// Reconnection attempts are under way.
    pub(super) retrying: bool,
    /// Why the connection is gone for good, once it is.
    pub(super) gone: Option<String>,
}

impl Link {
    pub(super) fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a completed handshake; returns news for people when it
    /// ends a reconnection (or a first connect that needed retries).
    pub(super) fn up(&self, addr: &str) -> Option<String> {
        let mut s = self.lock();
        let news = match (s.retrying, s.connects) {
            (false, _) => None,
            (true, 0) => Some(format!("connected to {addr}")),
            (true, _) => Some(format!("reconnected to {addr}")),
        };
        s.connects += 1;
        s.retrying = false;
        s.gone = None;
        drop(s);
        self.changed.notify_all();
        news
    }

    /// Records a loss or a failed attempt; returns news for people. A
    /// first connect that fails for good is left to the caller, which gets
    /// the error from `connect`.
    pub(super) fn down(&self, st: &DisconnectState) -> Option<String> {
        if st.reason == DisconnectReason::Manual {
            return None;
        }
        let mut s = self.lock();
        let first = s.connects == 0;
        let news = if st.permanent {
            s.retrying = false;
            let why = loss_text(st);
            s.gone = Some(why.clone());
            match (first, st.attempt) {
                (true, _) => None,
                (false, 0) => Some(why),
                (false, n) => {
                    Some(format!("gave up reconnecting after {n} attempts: {}", st.detail))
                }
            }
        } else if st.retry_max == 0 {
            None
        } else {
            s.retrying = true;
            let next = format!("(attempt {}/{})…", st.attempt + 1, st.retry_max);
            Some(match (first, st.attempt) {
                (true, 0) => format!("cannot connect ({}), retrying {next}", st.detail),
                (false, 0) => format!("connection lost ({}), reconnecting {next}", loss_detail(st)),
                (_, n) => {
                    format!("attempt {n}/{} failed ({}), retrying {next}", st.retry_max, st.detail)
                }
            })
        };
        drop(s);
        self.changed.notify_all();
        news
    }

    pub(super) fn snapshot(&self) -> LinkState {
        self.lock().clone()
    }

    /// Waits until `done` holds or `deadline` passes; returns the state.
    /// Wakes now and then on its own, so a predicate that also looks
    /// outside the link (is the client connected?) is seen to change.
    pub(super) fn wait_until(
        &self,
        deadline: Option<Instant>,
        done: impl Fn(&LinkState) -> bool,
    ) -> LinkState {
        let mut s = self.lock();
        loop {
            if done(&s) {
                return s.clone();
            }
            let mut nap = Duration::from_millis(100);
            if let Some(d) = deadline {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return s.clone();
                }
                nap = nap.min(left);
            }
            s = self
                .changed
                .wait_timeout(s, nap)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// Why the connection ended, in a sentence.
pub(super) fn loss_text(st: &DisconnectState) -> String {
    match st.reason {
        DisconnectReason::ServerClosed => "the server closed the connection".to_string(),
        // Without retries the library only says "connection lost".
        _ if st.detail.is_empty() || st.detail == "connection lost" => {
            "connection lost".to_string()
        }
        _ => format!("connection lost: {}", st.detail),
    }
}

pub(super) fn loss_detail(st: &DisconnectState) -> &str {
    match st.reason {
        DisconnectReason::ServerClosed => "closed by the server",
        _ if st.detail.is_empty() => "no reason given",
        _ => &st.detail,
    }
}

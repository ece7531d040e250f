//! The interactive session: a prompt that shows the peer, the current type
//! and the connection state; plain lines are sent, `/` lines are commands.
//!
//! Messages from the server are printed by a thread of their own through
//! rustyline's external printer, which draws them above the prompt and
//! then redraws the line being typed. The client's callbacks only queue
//! text for that thread, so they never wait on the terminal.

use std::fmt::Display;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use rustyline::error::ReadlineError;
use rustyline::ExternalPrinter;
use veltix::frame::now_ms;
use veltix::{Client, ClientConfig, TypeRegistry};

use super::commands::{lookup, COMMANDS};
use super::editor::{self, LineEditor};
use super::link::{connect_error, Args, Link};
use super::show::{millis, render, type_label};
use crate::args::{max_payload, too_large, ColorChoice};
use crate::output::{hex, Palette, Role};

pub(super) fn run(
    args: &Args,
    registry: TypeRegistry,
    type_code: u16,
    color: ColorChoice,
) -> anyhow::Result<ExitCode> {
    let colored = color.for_stdout();
    let palette = Palette::new(colored);
    let registry = Arc::new(registry);
    let mut editor =
        editor::new(registry.clone(), colored).context("cannot set up the line editor")?;
    // No external printer when stdout is not a terminal: print plainly.
    let printer = editor
        .create_external_printer()
        .ok()
        .map(|p| Box::new(p) as Box<dyn ExternalPrinter + Send>);
    let mut repl = Repl {
        addr: args.addr.clone(),
        cfg: args.client_config()?,
        registry,
        palette,
        screen: spawn_screen(printer),
        current: type_code,
        timeout: args.timeout,
        session: None,
    };
    let history = editor::history_path(args);
    if let Some(path) = &history {
        if let Err(e) = editor::load_history(&mut editor, path) {
            repl.warn(e);
        }
    }
    let session = repl.open().map_err(|e| connect_error(&args.addr, e))?;
    repl.say(repl.connected_news(&session));
    repl.say(palette.paint(Role::Dim, "/help lists the commands; Ctrl-D or /quit leaves"));
    repl.session = Some(session);

    let result = repl.read_eval(&mut editor, history);
    // Drop the editor first: a message it was about to print gives up and
    // goes to stdout, so nothing waits on the terminal while the client's
    // threads are joined.
    drop(editor);
    if let Some(s) = repl.session.take() {
        s.client.disconnect();
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Starts the thread that prints what the callbacks report, in order:
/// above the prompt while a line is edited, else straight to stdout.
fn spawn_screen(printer: Option<Box<dyn ExternalPrinter + Send>>) -> Sender<String> {
    let (tx, rx) = mpsc::channel::<String>();
    let mut printer = printer;
    let spawned = std::thread::Builder::new().name("screen".into()).spawn(move || {
        for text in rx {
            if let Some(p) = printer.as_mut() {
                if p.print(text.clone()).is_ok() {
                    continue;
                }
                printer = None;
            }
            print_now(&text);
        }
    });
    if let Err(e) = spawned {
        // Without the thread the messages are lost; say so once.
        eprintln!(
            "warning: cannot start the output thread ({e}); incoming messages will not be shown"
        );
    }
    tx
}

/// Writes a whole message to stdout (errors ignored: there is nobody to
/// tell).
fn print_now(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// One connection and what its callbacks report.
struct Session {
    client: Client,
    link: Arc<Link>,
}

enum Flow {
    Continue,
    Quit,
}

enum State {
    Connected,
    Reconnecting,
    Disconnected,
}

struct Repl {
    addr: String,
    cfg: ClientConfig,
    registry: Arc<TypeRegistry>,
    palette: Palette,
    screen: Sender<String>,
    /// The type of plain lines.
    current: u16,
    timeout: Duration,
    session: Option<Session>,
}

impl Repl {
    fn read_eval(
        &mut self,
        editor: &mut LineEditor,
        history: Option<PathBuf>,
    ) -> anyhow::Result<()> {
        let mut history_failed = false;
        loop {
            let prompt = self.prompt();
            let line = match editor.readline(&prompt) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    self.say(self.palette.paint(Role::Dim, "(Ctrl-D or /quit leaves)"));
                    continue;
                }
                Err(ReadlineError::Eof) => return Ok(()),
                Err(e) => return Err(e).context("cannot read from the terminal"),
            };
            if !line.trim().is_empty() {
                if let Err(e) = editor::remember(editor, history.as_deref(), &line) {
                    if !history_failed {
                        self.warn(format!("{e} (history is kept for this session only)"));
                        history_failed = true;
                    }
                }
            }
            match self.execute(&line) {
                Flow::Continue => {}
                Flow::Quit => return Ok(()),
            }
        }
    }

    /// `veltix localhost:8080 [chat]> `, with ` [disconnected]` or
    /// ` [reconnecting]` before the `>` when not connected; plain and
    /// styled (same width).
    fn prompt(&self) -> (String, String) {
        let ty = format!("[{}]", type_label(&self.registry, self.current));
        let marker = match self.state() {
            State::Connected => None,
            State::Reconnecting => Some((Role::Warn, "[reconnecting]")),
            State::Disconnected => Some((Role::Bad, "[disconnected]")),
        };
        let mut raw = format!("veltix {} {ty}", self.addr);
        let p = self.palette;
        let mut styled = format!(
            "{} {} {}",
            p.paint(Role::Strong, "veltix"),
            p.paint(Role::Strong, &self.addr),
            p.paint(Role::Accent, ty)
        );
        if let Some((role, text)) = marker {
            raw.push_str(&format!(" {text}"));
            styled.push_str(&format!(" {}", p.paint(role, text)));
        }
        raw.push_str("> ");
        styled.push_str("> ");
        (raw, styled)
    }

    fn state(&self) -> State {
        match &self.session {
            Some(s) if s.client.is_connected() => State::Connected,
            Some(s) if s.link.snapshot().retrying => State::Reconnecting,
            _ => State::Disconnected,
        }
    }

    /// Connects with callbacks that queue what arrives for the screen.
    fn open(&self) -> veltix::Result<Session> {
        let link = Arc::new(Link::default());
        let (registry, palette) = (self.registry.clone(), self.palette);
        let (screen, up_screen, down_screen) =
            (self.screen.clone(), self.screen.clone(), self.screen.clone());
        let (up, down) = (link.clone(), link.clone());
        let addr = self.addr.clone();
        let client = Client::builder(self.cfg.clone())
            .on_message(move |_, frame| {
                let _ = screen.send(render(&frame, &registry, palette, now_ms(), None));
            })
            .on_connect(move |_| {
                if let Some(news) = up.up(&addr) {
                    let _ = up_screen.send(palette.paint(Role::Good, news).to_string());
                }
            })
            .on_disconnect(move |st| {
                if let Some(news) = down.down(st) {
                    let _ = down_screen.send(palette.paint(Role::Warn, news).to_string());
                }
            })
            .connect()?;
        Ok(Session { client, link })
    }

    fn connected_news(&self, session: &Session) -> String {
        let detail = match session.client.peer() {
            Some(peer) => {
                let version = peer.peer_version().unwrap_or_else(|| "?".into());
                format!(" ({}, protocol {version})", peer.addr())
            }
            None => String::new(),
        };
        self.palette.paint(Role::Good, format!("connected to {}{detail}", self.addr)).to_string()
    }

    /// Prints a result of the main thread (which is not editing a line
    /// now, so it can write straight to stdout).
    fn say(&self, text: impl Display) {
        print_now(&text.to_string());
    }

    fn warn(&self, text: impl Display) {
        self.say(format!("{} {text}", self.palette.paint(Role::Warn, "warning:")));
    }

    fn execute(&mut self, line: &str) -> Flow {
        let result = if line.trim().is_empty() {
            Ok(Flow::Continue)
        } else if let Some(rest) = line.strip_prefix("//") {
            // `//text` sends `/text`.
            self.send(self.current, format!("/{rest}").as_bytes(), false)
        } else if line.starts_with('/') {
            self.command(line)
        } else {
            self.send(self.current, line.as_bytes(), false)
        };
        result.unwrap_or_else(|e| {
            self.say(format!("{} {e:#}", self.palette.paint(Role::Bad, "error:")));
            Flow::Continue
        })
    }

    fn command(&mut self, line: &str) -> anyhow::Result<Flow> {
        let (word, rest) = split_word(line);
        let command = lookup(word).map_err(anyhow::Error::msg)?;
        let need = |what: &str| -> anyhow::Result<()> {
            if rest.is_empty() {
                bail!("{} needs {what}: {} {}", command.name, command.name, command.args);
            }
            Ok(())
        };
        match command.name {
            "/type" => self.set_type(rest),
            "/send" => {
                need("a type")?;
                let (ty, text) = split_word(rest);
                let ty = self.resolve(ty)?;
                self.send(ty, text.as_bytes(), true)
            }
            "/request" => {
                need("a type")?;
                let (ty, text) = split_word(rest);
                let ty = self.resolve(ty)?;
                self.request(ty, text.as_bytes())
            }
            "/ping" => self.ping(rest),
            "/hex" => {
                need("bytes")?;
                let bytes = hex::decode(rest).map_err(|e| anyhow!("/hex: {}", e.message))?;
                self.send(self.current, &bytes, true)
            }
            "/json" => {
                need("a JSON text")?;
                let value: serde_json::Value = serde_json::from_str(rest)
                    .map_err(|e| anyhow!("/json: not valid JSON: {e}"))?;
                self.send(self.current, value.to_string().as_bytes(), true)
            }
            "/file" => {
                need("a path")?;
                let path = expand_home(rest);
                let mut bytes = Vec::new();
                std::fs::File::open(&path)
                    .and_then(|f| {
                        f.take(self.max_payload().saturating_add(1)).read_to_end(&mut bytes)
                    })
                    .with_context(|| format!("cannot read {}", path.display()))?;
                self.send(self.current, &bytes, true)
            }
            "/types" => self.types(),
            "/status" => self.status(),
            "/reconnect" => self.reconnect(),
            "/help" => self.help(),
            "/quit" => Ok(Flow::Quit),
            other => bail!("{other} is not written yet"),
        }
    }

    fn resolve(&self, ty: &str) -> anyhow::Result<u16> {
        Ok(self.registry.resolve(ty)?)
    }

    /// The client, when connected; otherwise an error that says what to do.
    fn client(&self) -> anyhow::Result<&Client> {
        let Some(s) = &self.session else {
            bail!("not connected; /reconnect connects again");
        };
        if s.client.is_connected() {
            return Ok(&s.client);
        }
        if s.link.snapshot().retrying {
            bail!("not connected: reconnecting…");
        }
        bail!("not connected (the connection was lost); /reconnect connects again")
    }

    /// The largest payload --max-message-size lets us send.
    fn max_payload(&self) -> u64 {
        max_payload(self.cfg.conn.max_message_size as u64)
    }

    /// Refuses a payload the limit does not let us send.
    fn check_size(&self, payload: &[u8]) -> anyhow::Result<()> {
        if payload.len() as u64 > self.max_payload() {
            bail!("{}", too_large("that message", self.cfg.conn.max_message_size as u64));
        }
        Ok(())
    }

    fn send(&self, ty: u16, payload: &[u8], confirm: bool) -> anyhow::Result<Flow> {
        self.check_size(payload)?;
        let id = self.client()?.send(ty, payload)?;
        if confirm {
            let what =
                format!("sent {} bytes as {} #{id}", payload.len(), type_label(&self.registry, ty));
            self.say(self.palette.paint(Role::Dim, what));
        }
        Ok(Flow::Continue)
    }

    fn set_type(&mut self, arg: &str) -> anyhow::Result<Flow> {
        if !arg.is_empty() {
            self.current = self.resolve(arg)?;
        }
        let code = self.current;
        let name = self.registry.name(code).map_or_else(|| "no name".to_string(), str::to_string);
        self.say(format!("plain lines are sent as type {code} ({name})"));
        Ok(Flow::Continue)
    }

    fn request(&self, ty: u16, payload: &[u8]) -> anyhow::Result<Flow> {
        self.check_size(payload)?;
        let client = self.client()?;
        let start = Instant::now();
        let reply = client.send_and_wait(ty, payload, self.timeout)?;
        let note = format!("reply, rtt {} ms", millis(start.elapsed()));
        self.say(render(&reply, &self.registry, self.palette, now_ms(), Some(&note)));
        Ok(Flow::Continue)
    }

    fn ping(&self, arg: &str) -> anyhow::Result<Flow> {
        let count: u32 = match arg {
            "" => 1,
            n => n
                .parse()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| anyhow!("/ping takes a count from 1 to 10000, not '{n}'"))?,
        };
        let client = self.client()?;
        let mut rtts = Vec::new();
        for seq in 1..=count {
            match client.ping(self.timeout) {
                Ok(rtt) => {
                    self.say(format!("pong {seq}/{count}: rtt {} ms", millis(rtt)));
                    rtts.push(rtt);
                }
                Err(e) => {
                    self.say(format!(
                        "{} ping {seq}/{count}: {e}",
                        self.palette.paint(Role::Bad, "error:")
                    ));
                    if !client.is_connected() {
                        break;
                    }
                }
            }
        }
        let answered = rtts.len();
        let mut summary = format!("{count} sent, {answered} answered");
        if let (Some(min), Some(max)) = (rtts.iter().min(), rtts.iter().max()) {
            let avg = rtts.iter().sum::<Duration>() / answered as u32;
            summary.push_str(&format!(
                "; rtt min/avg/max = {}/{}/{} ms",
                millis(*min),
                millis(avg),
                millis(*max)
            ));
        }
        self.say(self.palette.paint(Role::Strong, summary));
        Ok(Flow::Continue)
    }

    fn types(&self) -> anyhow::Result<Flow> {
        let mut lines = vec![self.palette.paint(Role::Dim, " code  name").to_string()];
        let mut current_named = false;
        for (code, name) in self.registry.iter() {
            let mark = if code == self.current {
                current_named = true;
                self.palette.paint(Role::Accent, "  (current)").to_string()
            } else {
                String::new()
            };
            lines.push(format!("{code:>5}  {name}{mark}"));
        }
        if !current_named {
            lines.push(format!(
                "{:>5}  (no name){}",
                self.current,
                self.palette.paint(Role::Accent, "  (current)")
            ));
        }
        lines.push(
            self.palette
                .paint(Role::Dim, "name more with --type-name CODE=NAME or --types FILE")
                .to_string(),
        );
        self.say(lines.join("\n"));
        Ok(Flow::Continue)
    }

    fn status(&self) -> anyhow::Result<Flow> {
        let p = self.palette;
        let row = |k: &str, v: String| format!("{} {v}", p.paint(Role::Dim, format!("{k:<8}")));
        let state = match self.state() {
            State::Connected => p.paint(Role::Good, "connected"),
            State::Reconnecting => p.paint(Role::Warn, "reconnecting"),
            State::Disconnected => p.paint(Role::Bad, "disconnected"),
        };
        let mut lines = Vec::new();
        let peer = self.session.as_ref().and_then(|s| s.client.peer());
        match &peer {
            Some(peer) => lines.push(row("peer", format!("{} ({})", self.addr, peer.addr()))),
            None => lines.push(row("peer", self.addr.clone())),
        }
        lines.push(row("state", state.to_string()));
        if let Some(peer) = &peer {
            let theirs = peer.peer_version().unwrap_or_else(|| "?".into());
            lines.push(row(
                "version",
                format!("{theirs} (ours {})", self.cfg.conn.protocol_version),
            ));
            lines.push(row("uptime", uptime(peer.connected_for())));
            let s = peer.stats();
            lines.push(row("frames", format!("{} in, {} out", s.frames_in, s.frames_out)));
            lines.push(row("bytes", format!("{} in, {} out", s.bytes_in, s.bytes_out)));
        }
        let ty = self.registry.name(self.current).map_or_else(String::new, |n| format!(" ({n})"));
        lines.push(row("type", format!("{}{ty}", self.current)));
        self.say(lines.join("\n"));
        Ok(Flow::Continue)
    }

    fn reconnect(&mut self) -> anyhow::Result<Flow> {
        if let Some(s) = self.session.take() {
            s.client.disconnect();
        }
        self.say(self.palette.paint(Role::Dim, format!("connecting to {}…", self.addr)));
        let session = self.open().with_context(|| format!("cannot connect to {}", self.addr))?;
        self.say(self.connected_news(&session));
        self.session = Some(session);
        Ok(Flow::Continue)
    }

    fn help(&self) -> anyhow::Result<Flow> {
        let p = self.palette;
        let mut lines = vec![format!(
            "A plain line is sent as one message of the current type ({}); //text sends /text.",
            type_label(&self.registry, self.current)
        )];
        for c in COMMANDS {
            let usage = format!("{} {}", c.name, c.args);
            lines.push(format!("  {}  {}", p.paint(Role::Accent, format!("{usage:<20}")), c.help));
        }
        lines.push(
            "Commands may be shortened (/req, /st). Tab completes commands and type names,".into(),
        );
        lines.push(
            "Up and Ctrl-R recall earlier lines, Ctrl-C clears the line, Ctrl-D leaves.".into(),
        );
        self.say(lines.join("\n"));
        Ok(Flow::Continue)
    }
}

/// The first word and the rest (its leading spaces removed).
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim_start()),
        None => (s, ""),
    }
}

/// `~/x` is in the home directory, as a shell would have it.
fn expand_home(path: &str) -> PathBuf {
    if let (Some(rest), Some(home)) = (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(path)
}

/// `2h 3m 4s`, or `412ms` under a second.
fn uptime(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_by_name_or_unique_prefix() {
        assert_eq!(lookup("/request").unwrap().name, "/request");
        assert_eq!(lookup("/req").unwrap().name, "/request");
        assert_eq!(lookup("/type").unwrap().name, "/type");
        assert!(lookup("/ty").unwrap_err().contains("/type, /types"));
        assert!(lookup("/nope").unwrap_err().contains("unknown command"));
    }

    #[test]
    fn words() {
        assert_eq!(split_word("/send  chat hello  world"), ("/send", "chat hello  world"));
        assert_eq!(split_word("/quit"), ("/quit", ""));
        assert_eq!(uptime(Duration::from_millis(61_500)), "1m 1s");
    }
}

//! Pipe mode: stdin records out as messages, received messages to stdout.
//!
//! A thread reads stdin and hands records to the main thread over a small
//! bounded channel (so a large input is not read far ahead of the socket);
//! the client's callbacks write what arrives to stdout and put the news
//! about the connection on stderr. The main thread sends, and decides how
//! the run ends.

use std::io::{self, BufRead, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use veltix::frame::now_ms;
use veltix::{Client, Frame, Peer, TypeRegistry};

use super::show::Record;
use super::{connect_error, Args, Link};
use crate::output::json;

/// How stdin is cut into messages.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// Records end with this byte (`\n`, or NUL with `-0`).
    Delimited(u8),
    /// All of stdin is one message.
    Whole,
}

/// What the main thread waits for.
enum Event {
    /// One message to send.
    Record(Vec<u8>),
    /// The end of stdin.
    End,
    /// stdin could not be read.
    Failed(io::Error),
    /// The connection is gone for good, or stdout was closed.
    Stop,
}

pub(super) fn run(args: &Args, registry: TypeRegistry, type_code: u16) -> anyhow::Result<ExitCode> {
    let (tx, rx) = mpsc::sync_channel::<Event>(64);
    let link = Arc::new(Link::default());
    let stdout_closed = Arc::new(AtomicBool::new(false));
    let client = connect(args, registry, &link, &stdout_closed, tx.clone())
        .map_err(|e| connect_error(&args.addr, e))?;

    let framing = match (args.raw, args.null) {
        (true, _) => Framing::Whole,
        (false, true) => Framing::Delimited(0),
        (false, false) => Framing::Delimited(b'\n'),
    };
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_stdin(framing, &tx))
        .context("cannot start the thread that reads stdin")?;

    let mut sent: u64 = 0;
    loop {
        if stdout_closed.load(Ordering::Acquire) {
            client.disconnect();
            return Ok(ExitCode::SUCCESS);
        }
        if link.snapshot().gone.is_some() {
            return lost(args, &link, &rx, sent);
        }
        match rx.recv() {
            Ok(Event::Record(payload)) => {
                send(args, &client, &link, type_code, &payload).map_err(|e| {
                    anyhow::anyhow!("cannot send message {}: {e} ({sent} sent before)", sent + 1)
                })?;
                sent += 1;
            }
            Ok(Event::End) | Err(_) => break,
            Ok(Event::Failed(e)) => {
                return Err(e).with_context(|| format!("cannot read stdin ({sent} messages sent)"));
            }
            Ok(Event::Stop) => {}
        }
    }
    finish(args, &client, &link);
    Ok(ExitCode::SUCCESS)
}

/// Connects with callbacks that print what arrives and what happens.
fn connect(
    args: &Args,
    registry: TypeRegistry,
    link: &Arc<Link>,
    stdout_closed: &Arc<AtomicBool>,
    tx: SyncSender<Event>,
) -> veltix::Result<Client> {
    let as_json = args.json;
    let closed = stdout_closed.clone();
    let stop = tx.clone();
    let on_message = move |peer: &Peer, frame: Frame| {
        if closed.load(Ordering::Acquire) {
            return;
        }
        let mut out = io::stdout().lock();
        let written = if as_json {
            json::write_line(&mut out, &Record::new(&frame, &registry, peer.addr(), now_ms()))
        } else {
            out.write_all(&frame.payload).and_then(|()| out.write_all(b"\n"))
        };
        if written.and_then(|()| out.flush()).is_err() {
            // Nobody reads stdout any more (`| head -1`): stop quietly.
            closed.store(true, Ordering::Release);
            let _ = stop.try_send(Event::Stop);
        }
    };
    let (up, down) = (link.clone(), link.clone());
    let addr = args.addr.clone();
    Client::builder(args.client_config())
        .on_message(on_message)
        .on_connect(move |_| {
            if let Some(news) = up.up(&addr) {
                eprintln!("{news}");
            }
        })
        .on_disconnect(move |st| {
            if let Some(news) = down.down(st) {
                eprintln!("{news}");
            }
            if st.permanent {
                // Wake the main thread if it waits for stdin; if the
                // channel is full it is busy and sees the link itself.
                let _ = tx.try_send(Event::Stop);
            }
        })
        .connect()
}

/// Reads stdin and sends its records, then `End` (or `Failed`).
fn read_stdin(framing: Framing, tx: &SyncSender<Event>) {
    let mut input = io::stdin().lock();
    let last = match framing {
        Framing::Whole => {
            let mut all = Vec::new();
            match input.read_to_end(&mut all) {
                Ok(_) => {
                    if tx.send(Event::Record(all)).is_err() {
                        return;
                    }
                    Event::End
                }
                Err(e) => Event::Failed(e),
            }
        }
        Framing::Delimited(end) => loop {
            let mut record = Vec::new();
            match input.read_until(end, &mut record) {
                Ok(0) => break Event::End,
                Ok(_) => {
                    if record.last() == Some(&end) {
                        record.pop();
                        if end == b'\n' && record.last() == Some(&b'\r') {
                            record.pop();
                        }
                    }
                    if tx.send(Event::Record(record)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Event::Failed(e),
            }
        },
    };
    let _ = tx.send(last);
}

/// Sends one record. While the client reconnects, waits for it (or for
/// it to give up) and sends again.
fn send(
    args: &Args,
    client: &Client,
    link: &Link,
    type_code: u16,
    payload: &[u8],
) -> veltix::Result<()> {
    loop {
        let err = match client.send(type_code, payload) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if args.retry == 0 || !matches!(err, veltix::Error::Closed(_) | veltix::Error::Io(_)) {
            return Err(err);
        }
        let state = link.wait_until(None, |s| s.gone.is_some() || client.is_connected());
        if state.gone.is_some() {
            return Err(err);
        }
    }
}

/// The connection is gone for good before the end of input. The run
/// still succeeds if nothing was left to send: the end of stdin comes
/// within --linger and no record before it.
fn lost(args: &Args, link: &Link, rx: &Receiver<Event>, sent: u64) -> anyhow::Result<ExitCode> {
    let why = link.snapshot().gone.unwrap_or_else(|| "connection lost".into());
    let deadline = Instant::now() + args.linger;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::End) | Err(RecvTimeoutError::Disconnected) => return Ok(ExitCode::SUCCESS),
            Ok(Event::Stop) => continue,
            Ok(Event::Record(_) | Event::Failed(_)) | Err(RecvTimeoutError::Timeout) => {
                anyhow::bail!("{why} before all input was sent ({sent} messages sent)")
            }
        }
    }
}

/// After the last record: make sure the server has read everything (a
/// PING is answered in order, after all that came before it), give its
/// replies --linger to arrive, and close.
fn finish(args: &Args, client: &Client, link: &Link) {
    if client.is_connected() {
        // A closed connection has its own news; only silence is worth a word.
        if let Err(e @ veltix::Error::Timeout { .. }) = client.ping(args.timeout) {
            eprintln!("warning: the server did not answer a ping ({e}); replies may be missing");
        }
    }
    let deadline = Instant::now() + args.linger;
    link.wait_until(Some(deadline), |s| s.gone.is_some());
    client.disconnect();
}

//! Pipe mode: stdin records out as messages, received messages to stdout.
//!
//! A thread reads stdin and hands records to the main thread over a small
//! bounded channel (so a large input is not read far ahead of the socket);
//! the client's callbacks write what arrives to stdout and put the news
//! about the connection on stderr. The main thread sends, and decides how
//! the run ends.

use std::io::{self, BufRead, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use veltix::frame::now_ms;
use veltix::{types, Client, Frame, Peer, Pipeline, TypeRegistry};

use super::link::{connect_error, Args, Link};
use super::show::Record;
use crate::args::{max_payload, too_large};
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
    /// The next record is larger than a message may be.
    TooLarge,
    /// The connection is gone for good, or stdout was closed.
    Stop,
}

pub(super) fn run(args: &Args, registry: TypeRegistry, type_code: u16) -> anyhow::Result<ExitCode> {
    let refused = Arc::new(AtomicU64::new(0));
    let code = send_all(args, registry, type_code, &refused)?;
    // A message the server answered with an ERROR was not taken.
    match refused.load(Ordering::Acquire) {
        0 => Ok(code),
        n => anyhow::bail!(
            "the server answered with {n} ERROR frame{} (shown above)",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn send_all(
    args: &Args,
    registry: TypeRegistry,
    type_code: u16,
    refused: &Arc<AtomicU64>,
) -> anyhow::Result<ExitCode> {
    let (tx, rx) = mpsc::sync_channel::<Event>(64);
    let link = Arc::new(Link::default());
    let stdout_closed = Arc::new(AtomicBool::new(false));
    let cfg = args.client_config()?;
    let client = connect(args, cfg, registry, &link, &stdout_closed, refused, tx.clone())
        .map_err(|e| connect_error(&args.addr, e))?;
    let max = max_payload(args.conn.max_message_size);

    let framing = match (args.raw, args.null) {
        (true, _) => Framing::Whole,
        (false, true) => Framing::Delimited(0),
        (false, false) => Framing::Delimited(b'\n'),
    };
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_stdin(framing, max, &tx))
        .context("cannot start the thread that reads stdin")?;

    let mut sent: u64 = 0;
    // Records that are already waiting go out together (one write for
    // many); when none waits, what was queued is written at once.
    let mut batch: Option<Pipeline> = None;
    loop {
        if stdout_closed.load(Ordering::Acquire) {
            client.disconnect();
            return Ok(ExitCode::SUCCESS);
        }
        if link.snapshot().gone.is_some() {
            return lost(args, &link, &rx, sent);
        }
        let event = match rx.try_recv() {
            Ok(event) => Ok(event),
            Err(_) => {
                if let Some(mut b) = batch.take() {
                    // A failure shows at the next send, which retries.
                    let _ = b.flush();
                }
                rx.recv()
            }
        };
        match event {
            Ok(Event::Record(payload)) => {
                send(args, &client, &link, &mut batch, type_code, &payload).map_err(|e| {
                    anyhow::anyhow!("cannot send message {}: {e} ({sent} sent before)", sent + 1)
                })?;
                sent += 1;
            }
            Ok(Event::End) | Err(_) => break,
            Ok(Event::Failed(e)) => {
                return Err(e).with_context(|| format!("cannot read stdin ({sent} messages sent)"));
            }
            Ok(Event::TooLarge) => {
                let what = format!("message {}", sent + 1);
                anyhow::bail!(
                    "{} ({sent} sent before; nothing more was read)",
                    too_large(&what, args.conn.max_message_size)
                );
            }
            Ok(Event::Stop) => {}
        }
    }
    // Written now (dropping it flushes), ahead of finish's PING.
    drop(batch);
    finish(args, &client, &link);
    Ok(ExitCode::SUCCESS)
}

/// Connects with callbacks that print what arrives and what happens.
#[allow(clippy::too_many_arguments)] // the callbacks' shared state, each its own
fn connect(
    args: &Args,
    cfg: veltix::ClientConfig,
    registry: TypeRegistry,
    link: &Arc<Link>,
    stdout_closed: &Arc<AtomicBool>,
    refused: &Arc<AtomicU64>,
    tx: SyncSender<Event>,
) -> veltix::Result<Client> {
    let as_json = args.json;
    let closed = stdout_closed.clone();
    let refused = refused.clone();
    let stop = tx.clone();
    let on_message = move |peer: &Peer, frame: Frame| {
        if frame.type_code == types::ERROR {
            // Not reply data: the server refused something.
            refused.fetch_add(1, Ordering::AcqRel);
            eprintln!("error from the server: {}", String::from_utf8_lossy(&frame.payload));
            if !as_json {
                return;
            }
        }
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
    Client::builder(cfg)
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

/// Reads stdin and sends its records, then `End` (or `Failed`, or
/// `TooLarge` for a record over `max` bytes, of which no more than
/// `max + 1` bytes, and a CR, are read).
fn read_stdin(framing: Framing, max: u64, tx: &SyncSender<Event>) {
    let mut input = io::stdin().lock();
    let last = match framing {
        Framing::Whole => {
            let mut all = Vec::new();
            match (&mut input).take(max.saturating_add(1)).read_to_end(&mut all) {
                Ok(_) if all.len() as u64 > max => Event::TooLarge,
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
            match read_record(&mut input, end, max, &mut record) {
                Ok(Got::End) => break Event::End,
                Ok(Got::TooLarge) => break Event::TooLarge,
                Ok(Got::Whole) => {
                    if tx.send(Event::Record(record)).is_err() {
                        return;
                    }
                }
                Err(e) => break Event::Failed(e),
            }
        },
    };
    let _ = tx.send(last);
}

/// What [`read_record`] found.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    /// A record (the last one may lack its delimiter).
    Whole,
    /// The end of the input, with no record before it.
    End,
    /// A record over the limit.
    TooLarge,
}

/// Reads one record ending with `end` into `record`, without the
/// delimiter (nor a CR before a newline). A record over `max` bytes is
/// `TooLarge` once `max + 1` bytes of it (and a possible CR) are read.
fn read_record(
    input: &mut impl BufRead,
    end: u8,
    max: u64,
    record: &mut Vec<u8>,
) -> io::Result<Got> {
    let cr_room = u64::from(end == b'\n');
    let cap = max.saturating_add(1).saturating_add(cr_room);
    let found = loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if record.is_empty() {
                return Ok(Got::End);
            }
            break false;
        }
        let (len, found) = match buf.iter().position(|&b| b == end) {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        let room = usize::try_from(cap - record.len() as u64).unwrap_or(usize::MAX);
        let take = len.min(room);
        record.extend_from_slice(&buf[..take]);
        let whole = found && take == len;
        input.consume(if whole { take + 1 } else { take });
        if whole {
            break true;
        }
        if record.len() as u64 >= cap {
            break false;
        }
    };
    if found && end == b'\n' && record.last() == Some(&b'\r') {
        record.pop();
    }
    if record.len() as u64 > max {
        return Ok(Got::TooLarge);
    }
    Ok(Got::Whole)
}

/// Queues one record on the pipeline (started on the current connection
/// if there is none). While the client reconnects, waits for it (or for it
/// to give up) and sends again.
fn send(
    args: &Args,
    client: &Client,
    link: &Link,
    batch: &mut Option<Pipeline>,
    type_code: u16,
    payload: &[u8],
) -> veltix::Result<()> {
    loop {
        let sent = match batch {
            Some(b) => b.send(type_code, payload),
            None => client.pipeline().and_then(|mut b| {
                let id = b.send(type_code, payload)?;
                *batch = Some(b);
                Ok(id)
            }),
        };
        let err = match sent {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        // The pipeline belongs to a connection that failed.
        *batch = None;
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
            Ok(Event::Record(_) | Event::Failed(_) | Event::TooLarge)
            | Err(RecvTimeoutError::Timeout) => {
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

#[cfg(test)]
mod tests {
    use super::{read_record, Got};

    fn records(input: &[u8], end: u8, max: u64) -> Vec<Result<Vec<u8>, Got>> {
        let mut input = std::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            let mut r = Vec::new();
            match read_record(&mut input, end, max, &mut r).unwrap() {
                Got::Whole => out.push(Ok(r)),
                Got::End => return out,
                Got::TooLarge => {
                    out.push(Err(Got::TooLarge));
                    return out;
                }
            }
        }
    }

    #[test]
    fn records_are_cut_at_the_delimiter_and_bounded() {
        let ok = |s: &[u8]| Ok(s.to_vec());
        assert_eq!(records(b"ab\r\ncd\nef", b'\n', 5), [ok(b"ab"), ok(b"cd"), ok(b"ef")]);
        assert_eq!(records(b"12345\r\n", b'\n', 5), [ok(b"12345")]);
        assert_eq!(records(b"12345\n123456\n", b'\n', 5), [ok(b"12345"), Err(Got::TooLarge)]);
        assert_eq!(records(b"123456\r\n", b'\n', 5), [Err(Got::TooLarge)]);
        assert_eq!(records(b"a\0\0bcdefgh", 0, 3), [ok(b"a"), ok(b""), Err(Got::TooLarge)]);
        // Reads no more than max + 2 bytes of an endless record.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'a'));
        let mut r = Vec::new();
        assert_eq!(read_record(&mut endless, b'\n', 1000, &mut r).unwrap(), Got::TooLarge);
        assert!(r.len() <= 1002, "{}", r.len());
    }
}

//! The `threads` socket core: one reader thread per connection.
//!
//! The reader owns the decoder and the protocol state; it answers PINGs and
//! wakes `send_and_wait` callers itself, and hands application frames to the
//! callback pool. Writes happen on the sender's thread (see `conn`), with a
//! writer thread started only for a connection whose kernel buffer fills.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{EndKind, EndReason, Flow, Proto, Session};
use crate::conn::Conn;
use crate::decoder::Decoder;
use crate::frame::Header;

/// Starts the reader thread of `conn`.
pub(crate) fn spawn_reader(
    conn: Arc<Conn>,
    decoder: Decoder,
    proto: Proto,
    session: Arc<dyn Session>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("veltix-r{}", conn.id))
        .spawn(move || run(&conn, decoder, proto, &*session))
}

pub(crate) fn run(conn: &Arc<Conn>, mut decoder: Decoder, mut proto: Proto, session: &dyn Session) {
    let mut tick = proto.tick_interval(conn);
    let _ = conn.stream.set_read_timeout(Some(tick));
    let end = 'conn: loop {
        // Frames already buffered first (the client's handshake may have
        // read past the HELLO).
        loop {
            match decoder.next_raw() {
                Ok(Some(raw)) => {
                    if let Flow::Close(end) = proto.on_raw(conn, raw, session) {
                        break 'conn fault(conn, end);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    log::warn!("{}: {e}; closing the connection", conn.peer);
                    let id = Header::peek(decoder.buffered()).map(|h| h.request_id);
                    if let Flow::Close(end) = proto.on_fatal(conn, &e, id) {
                        break 'conn fault(conn, end);
                    }
                }
            }
        }
        if conn.is_closed() {
            break local_end(conn);
        }
        match decoder.read_from(&mut &conn.stream, conn.cfg.buffer_size) {
            Ok(0) => {
                if conn.is_closed() {
                    break local_end(conn);
                }
                break EndReason::new(EndKind::PeerClosed, "the peer closed the connection");
            }
            Ok(n) => {
                conn.counters.reads.fetch_add(1, Ordering::Relaxed);
                conn.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                if conn.is_closed() {
                    break local_end(conn);
                }
                break EndReason::new(EndKind::Error, format!("read failed: {e}"));
            }
        }
        if let Flow::Close(end) = proto.on_tick(conn) {
            break fault(conn, end);
        }
        let next = proto.tick_interval(conn);
        if next != tick {
            tick = next;
            let _ = conn.stream.set_read_timeout(Some(tick));
        }
    };
    finish(conn, end, session);
}

/// A protocol fault: log it, flush the ERROR frame we queued, close.
fn fault(conn: &Arc<Conn>, end: EndReason) -> EndReason {
    log::warn!("closing the connection with {}: {}", conn.peer, end.message);
    conn.close_gracefully(end.clone(), Duration::from_millis(500));
    conn.end_reason().unwrap_or(end)
}

fn local_end(conn: &Conn) -> EndReason {
    conn.end_reason().unwrap_or_else(|| EndReason::new(EndKind::Local, "closed locally"))
}

/// Runs the disconnect path exactly once, on the reader thread.
fn finish(conn: &Arc<Conn>, end: EndReason, session: &dyn Session) {
    conn.close_with(end.clone());
    let end = conn.end_reason().unwrap_or(end);
    conn.pending.fail_all(&end);
    session.ended(conn, end);
}

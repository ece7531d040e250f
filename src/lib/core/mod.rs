//! Socket cores: they move bytes between sockets and the protocol session,
//! and nothing else.
//!
//! A core reads a socket into its connection's [`Session`], lets the
//! session handle what came ([`process`]) and carries out what the session
//! asks: its bytes go to the connection's outbound queue, its events to the
//! connection's owner (a server or a client, through [`Owner`]). The
//! `threads` core runs one reader thread per connection; the `poll` core a
//! few I/O threads multiplexing every connection. Both drive the same
//! session the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::frame::Frame;
use crate::codec::Class;
use crate::conn::Conn;
use crate::error::{EndKind, EndReason};
use crate::session::{Event, Flow, Session};

pub(crate) mod poll;
pub(crate) mod read_side;
pub(crate) mod threads;

/// What the owner of a connection (a server or a client) does with the
/// session's events.
pub(crate) trait Owner: Send + Sync + 'static {
    /// The handshake completed.
    fn established(&self, conn: &Arc<Conn>);
    /// Application frames arrived (not replies someone waits for), in
    /// order: everything one read brought, handed on at once.
    fn deliver(&self, conn: &Arc<Conn>, frames: Vec<Frame>);
    /// The connection is over; pending requests have been failed already.
    fn ended(&self, conn: &Arc<Conn>, reason: EndReason);
}

/// Hands the session's output on: bytes to the outbound queue, events to
/// the owner, counts to the connection's counters.
pub(crate) fn apply(conn: &Arc<Conn>, session: &mut Session, owner: &dyn Owner) {
    conn.count_in(&session.take_counts());
    let (bytes, frames) = session.transmit();
    if !bytes.is_empty() {
        // A failed send closes the connection itself; the reader sees it.
        // What a session says is all system frames (or handshake messages).
        let _ = conn.send_bytes(&[bytes], frames, Class::System);
        session.transmitted();
    }
    // Sized once: growing it frame by frame would reallocate a read's
    // worth of frames several times on the reading thread.
    let mut batch = Vec::with_capacity(session.events_pending());
    while let Some(event) = session.poll_event() {
        match event {
            Event::Established(version) => {
                conn.set_established(version);
                owner.established(conn);
            }
            Event::Message(frame) => batch.push(frame),
        }
    }
    if !batch.is_empty() {
        owner.deliver(conn, batch);
    }
}

/// Runs every whole frame the session's decoder holds through it and
/// carries out the result; returns why the connection must close, if it
/// must.
pub(crate) fn process(
    conn: &Arc<Conn>,
    session: &mut Session,
    owner: &dyn Owner,
) -> Option<EndReason> {
    let flow = session.process(Instant::now());
    apply(conn, session, owner);
    match flow {
        Flow::Continue => None,
        Flow::Close(end) => Some(end),
    }
}

/// The session's time-based duties, carried out.
pub(crate) fn tick(conn: &Arc<Conn>, session: &mut Session, owner: &dyn Owner) -> Flow {
    let flow = session.on_tick(Instant::now());
    apply(conn, session, owner);
    flow
}

/// A protocol fault: log it, flush the ERROR frame we queued, close.
pub(crate) fn fault(conn: &Arc<Conn>, end: EndReason) -> EndReason {
    log::warn!("closing the connection with {}: {}", conn.peer, end.message);
    conn.close_gracefully(end.clone(), Duration::from_millis(500));
    conn.end_reason().unwrap_or(end)
}

/// The end of a connection we closed ourselves.
pub(crate) fn local_end(conn: &Conn) -> EndReason {
    conn.end_reason().unwrap_or_else(|| EndReason::new(EndKind::Local, "closed locally"))
}

/// End of stream from the peer (or our own shutdown, seen as one).
pub(crate) fn peer_closed(conn: &Conn, session: &Session) -> EndReason {
    if conn.is_closed() {
        return local_end(conn);
    }
    session.end_of_stream()
}

/// A read error (or our own shutdown, seen as one).
pub(crate) fn read_failed(conn: &Conn, e: &std::io::Error) -> EndReason {
    if conn.is_closed() {
        return local_end(conn);
    }
    #[cfg(feature = "tls")]
    if let Some(why) = crate::tls::describe(e) {
        return EndReason::new(EndKind::Error, why);
    }
    EndReason::new(EndKind::Error, format!("read failed: {e}"))
}

/// Runs the disconnect path exactly once, from whoever read the socket.
pub(crate) fn finish(conn: &Arc<Conn>, end: EndReason, owner: &dyn Owner) {
    conn.close_with(end.clone());
    let end = conn.end_reason().unwrap_or(end);
    conn.pending.fail_all(&end);
    owner.ended(conn, end);
}

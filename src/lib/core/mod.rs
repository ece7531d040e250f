//! Socket cores: what moves bytes between sockets and the protocol.
//!
//! The protocol logic of a connection (handshake, PING/PONG, heartbeat,
//! correlation, hand-off to callbacks) lives here in [`Proto`] and does not
//! care which core feeds it frames. The `threads` core runs one reader
//! thread per connection; a poll-loop core plugs in beside it by feeding the
//! same [`Proto`] from its event loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::conn::{Conn, Role};
use crate::correlation::Completion;
use crate::decoder::{Decoder, FrameRef};
use crate::error::ProtocolError;
use crate::frame::{Frame, Header, RequestId};
use crate::handshake;
use crate::types;

pub(crate) mod poll;
pub(crate) mod read_side;
pub(crate) mod threads;

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// The peer closed the connection.
    PeerClosed,
    /// A network or protocol error ended it.
    Error,
    /// We closed it (a `close`, `disconnect` or shutdown call).
    Local,
}

/// How and why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndReason {
    /// Who or what ended it.
    pub kind: EndKind,
    /// A sentence for people.
    pub message: String,
    /// The protocol fault that ended it, if one did (requests that were
    /// waiting fail with it, rather than with a bare "closed").
    pub fault: Option<ProtocolError>,
}

impl EndReason {
    /// An end without a protocol fault.
    pub fn new(kind: EndKind, message: impl Into<String>) -> EndReason {
        EndReason { kind, message: message.into(), fault: None }
    }

    /// An end caused by a protocol fault.
    pub fn fault(fault: ProtocolError, message: impl Into<String>) -> EndReason {
        EndReason { kind: EndKind::Error, message: message.into(), fault: Some(fault) }
    }
}

/// What the owner of a connection (a server or a client) does with events.
pub(crate) trait Session: Send + Sync + 'static {
    /// The handshake completed.
    fn established(&self, conn: &Arc<Conn>);
    /// An application frame arrived (not a reply someone waits for).
    fn deliver(&self, conn: &Arc<Conn>, frame: Frame);
    /// The connection is over; pending requests have been failed already.
    fn ended(&self, conn: &Arc<Conn>, reason: EndReason);
}

/// Whether to go on reading.
pub(crate) enum Flow {
    Continue,
    /// Close with this reason (after flushing an ERROR frame if one was sent).
    Close(EndReason),
}

/// The per-connection protocol state, owned by whoever reads the socket.
pub(crate) struct Proto {
    /// The id of the HELLO we sent (server side) until the ACK comes.
    pub hello_id: Option<RequestId>,
    /// When the handshake must be done by (server side).
    pub handshake_deadline: Option<Instant>,
    /// The id of our heartbeat PING while it is unanswered.
    pub heartbeat: Option<RequestId>,
    /// When we last received anything.
    pub last_rx: Instant,
}

impl Proto {
    /// Server side: sends HELLO and starts waiting for the ACK.
    pub(crate) fn start_server(conn: &Arc<Conn>) -> Result<Proto, crate::Error> {
        let id = conn.pending.fresh_id();
        let hello = handshake::encode_hello(&conn.cfg.protocol_version);
        conn.send_parts(types::HELLO, id, &hello)?;
        Ok(Proto {
            hello_id: Some(id),
            handshake_deadline: Some(Instant::now() + conn.cfg.handshake_timeout),
            heartbeat: None,
            last_rx: Instant::now(),
        })
    }

    /// Client side: the handshake was done before the core took over.
    pub(crate) fn established() -> Proto {
        Proto { hello_id: None, handshake_deadline: None, heartbeat: None, last_rx: Instant::now() }
    }

    /// How long the core may sleep before calling [`Proto::on_tick`].
    pub(crate) fn tick_interval(&self, conn: &Conn) -> Duration {
        if self.handshake_deadline.is_some() {
            return conn.cfg.handshake_timeout.min(Duration::from_millis(250));
        }
        (conn.cfg.performance_mode.heartbeat_idle() / 2).max(Duration::from_millis(50))
    }

    /// Time-based duties: handshake deadline, heartbeat, dead peer.
    pub(crate) fn on_tick(&mut self, conn: &Arc<Conn>) -> Flow {
        let now = Instant::now();
        if let Some(deadline) = self.handshake_deadline {
            if now >= deadline {
                let msg =
                    format!("handshake not completed within {:?}", conn.cfg.handshake_timeout);
                let _ = conn.send_parts(types::ERROR, RequestId::default(), msg.as_bytes());
                return Flow::Close(EndReason::new(EndKind::Error, msg));
            }
            return Flow::Continue;
        }
        let silent = now.duration_since(self.last_rx);
        let mode = conn.cfg.performance_mode;
        if silent >= mode.dead_after() {
            return Flow::Close(EndReason::new(
                EndKind::Error,
                format!("no data from the peer for {silent:.1?}: presumed dead"),
            ));
        }
        if silent >= mode.heartbeat_idle() && self.heartbeat.is_none() {
            let id = conn.pending.fresh_id();
            if conn.send_parts(types::PING, id, &[]).is_ok() {
                log::trace!("heartbeat PING to {} after {silent:.1?} of silence", conn.peer);
                self.heartbeat = Some(id);
            }
        }
        Flow::Continue
    }

    /// Handles one received frame (CRC not yet checked).
    pub(crate) fn on_raw(
        &mut self,
        conn: &Arc<Conn>,
        raw: FrameRef<'_>,
        session: &dyn Session,
    ) -> Flow {
        self.last_rx = Instant::now();
        let id = raw.header.request_id;
        if let Err(e) = raw.verify() {
            // Keep the stream (the frame was skipped whole) but tell the
            // sender, so a request waiting on it fails fast.
            log::warn!("dropped a frame from {}: {e}", conn.peer);
            if !conn.pending.fail(id, e.clone()) {
                // Not a reply we wait for: tell the sender, so a request
                // of theirs waiting on it fails fast.
                let _ = conn.send_parts(types::ERROR, id, e.to_string().as_bytes());
            }
            return Flow::Continue;
        }
        conn.counters.frames_in.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The commonest system frame is answered without copying it.
        if raw.header.type_code == types::PING && conn.is_established() {
            let _ = conn.send_parts(types::PONG, id, &[]);
            return Flow::Continue;
        }
        let frame = raw.to_frame();
        if !conn.is_established() {
            return self.on_handshake_frame(conn, frame, session);
        }
        match frame.type_code {
            types::PONG if self.heartbeat == Some(frame.request_id) => {
                self.heartbeat = None;
                return Flow::Continue;
            }
            types::HELLO if conn.role == Role::Client => {
                log::debug!("ignored a second HELLO from {}", conn.peer);
                return Flow::Continue;
            }
            _ => {}
        }
        self.heartbeat = None;
        match conn.pending.complete(frame) {
            Completion::Delivered => {}
            Completion::Late => {
                log::debug!(
                    "dropped a late reply (id {id}) from {}: its request timed out",
                    conn.peer
                )
            }
            Completion::NotPending(frame) if frame.type_code == types::PONG => {
                log::debug!("dropped an unsolicited PONG (id {id}) from {}", conn.peer)
            }
            Completion::NotPending(frame) => session.deliver(conn, frame),
        }
        Flow::Continue
    }

    fn on_handshake_frame(
        &mut self,
        conn: &Arc<Conn>,
        frame: Frame,
        session: &dyn Session,
    ) -> Flow {
        let ours = &conn.cfg.protocol_version;
        let outcome = if frame.type_code != types::HELLO_ACK {
            Err(ProtocolError::UnexpectedFrame {
                expected: "HELLO_ACK",
                got: format!(
                    "type {} ({})",
                    frame.type_code,
                    crate::TypeRegistry::new().label(frame.type_code)
                ),
            })
        } else if Some(frame.request_id) != self.hello_id {
            Err(ProtocolError::BadHello(format!(
                "HELLO_ACK carries request id {}, our HELLO had {}",
                frame.request_id,
                self.hello_id.unwrap_or_default()
            )))
        } else {
            handshake::parse_hello(&frame.payload)
                .and_then(|v| handshake::check_version(ours, &v).map(|()| v))
        };
        match outcome {
            Ok(version) => {
                self.hello_id = None;
                self.handshake_deadline = None;
                conn.set_established(version);
                session.established(conn);
                Flow::Continue
            }
            Err(e) => {
                let msg = format!("handshake failed: {e}");
                let _ = conn.send_parts(types::ERROR, frame.request_id, msg.as_bytes());
                Flow::Close(EndReason::fault(e, msg))
            }
        }
    }

    /// A fatal decoding error: tell the peer (with the request id of the
    /// offending frame, when its header is known, so a request waiting on
    /// the other side fails at once), then close.
    pub(crate) fn on_fatal(
        &mut self,
        conn: &Arc<Conn>,
        e: &ProtocolError,
        id: Option<RequestId>,
    ) -> Flow {
        let msg = e.to_string();
        let _ = conn.send_parts(types::ERROR, id.unwrap_or_default(), msg.as_bytes());
        Flow::Close(EndReason::fault(e.clone(), msg))
    }
}

/// Runs every whole frame the decoder holds through the protocol; returns
/// why the connection must close, if it must.
pub(crate) fn process(
    conn: &Arc<Conn>,
    decoder: &mut Decoder,
    proto: &mut Proto,
    session: &dyn Session,
) -> Option<EndReason> {
    loop {
        match decoder.next_ref() {
            Ok(Some(raw)) => {
                if let Flow::Close(end) = proto.on_raw(conn, raw, session) {
                    return Some(end);
                }
            }
            Ok(None) => return None,
            Err(e) => {
                log::warn!("{}: {e}; closing the connection", conn.peer);
                let id = Header::peek(decoder.buffered()).map(|h| h.request_id);
                if let Flow::Close(end) = proto.on_fatal(conn, &e, id) {
                    return Some(end);
                }
            }
        }
    }
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
pub(crate) fn peer_closed(conn: &Conn, decoder: &Decoder) -> EndReason {
    if conn.is_closed() {
        return local_end(conn);
    }
    let left = decoder.buffered();
    if !left.is_empty() {
        // A frame was cut off: say so, it was lost.
        let need = Header::peek(left).map_or(crate::frame::HEADER_LEN as u64, |h| h.frame_len());
        let msg = format!(
            "the peer closed the connection mid-frame: a truncated frame was lost ({} of {need} bytes received)",
            left.len()
        );
        log::warn!("{}: {msg}", conn.peer);
        let fault = ProtocolError::Truncated { needed: need, available: left.len() as u64 };
        return EndReason::fault(fault, msg);
    }
    EndReason::new(EndKind::PeerClosed, "the peer closed the connection")
}

/// A read error (or our own shutdown, seen as one).
pub(crate) fn read_failed(conn: &Conn, e: &std::io::Error) -> EndReason {
    if conn.is_closed() {
        return local_end(conn);
    }
    EndReason::new(EndKind::Error, format!("read failed: {e}"))
}

/// Runs the disconnect path exactly once, from whoever read the socket.
pub(crate) fn finish(conn: &Arc<Conn>, end: EndReason, session: &dyn Session) {
    conn.close_with(end.clone());
    let end = conn.end_reason().unwrap_or(end);
    conn.pending.fail_all(&end);
    session.ended(conn, end);
}

//! The protocol session of one connection, without I/O: bytes and time in,
//! actions out.
//!
//! A [`Session`] owns the connection's [`Decoder`] and its protocol state
//! (handshake phase, heartbeat, last arrival). Whoever reads the socket
//! puts bytes into the decoder ([`Session::decoder_mut`] for a read straight
//! into its buffer, or [`Session::receive`]) and calls
//! [`Session::process`] with the current time; [`Session::on_tick`] does
//! the time-based duties. The session never touches a socket or a thread.
//! What it decides comes out as:
//!
//! - bytes to send ([`Session::transmit`]): a HELLO, a HELLO_ACK, a PONG
//!   answering a PING, a heartbeat PING, an ERROR telling the peer why;
//! - events ([`Session::poll_event`]): the handshake completed, or an
//!   application message arrived that no request waits for;
//! - a [`Flow::Close`] with the reason, when the connection must end.
//!
//! Replies to our own requests are handed to their waiters here, through
//! the connection's [`Pending`] table ([`requests`]), which is where a
//! request is completed. A PING is answered here (where a PONG is sent).
//! The CRC is checked by the codec ([`Header::verify`]).
//!
//! [`Header::verify`]: crate::codec::frame::Header::verify

pub(crate) mod requests;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::decoder::{Decoder, FrameRef};
use crate::codec::frame::{encode_into, now_ms, Frame, Header, RequestId, HEADER_LEN};
use crate::config::ConnConfig;
use crate::error::{EndKind, EndReason, ProtocolError};
use crate::handshake;
use crate::types::{self, TypeRegistry};
use requests::{Completion, Pending};

/// Which end of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// We accepted the connection: we send HELLO and wait for HELLO_ACK.
    Server,
    /// We connected: we wait for HELLO and answer HELLO_ACK.
    Client,
}

/// Whether the connection goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on reading.
    Continue,
    /// Close with this reason, after sending what [`Session::transmit`]
    /// holds (an ERROR frame saying why, when there is one).
    Close(EndReason),
}

/// What the session tells its owner, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// The handshake completed; the peer announced this version.
    Established(String),
    /// An application message that no request of ours waits for.
    Message(Frame),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Server: our HELLO carried `hello_id`; the ACK is due by `deadline`.
    AwaitAck { hello_id: RequestId, deadline: Instant },
    /// Client: the server's HELLO is due by `deadline`.
    AwaitHello { deadline: Instant },
    /// The handshake is done.
    Established,
}

/// The protocol state apart from the decoder (so that a frame borrowed
/// from the decoder can be handled without copying it first).
struct Machine {
    role: Role,
    peer: SocketAddr,
    cfg: Arc<ConnConfig>,
    requests: Arc<Pending>,
    phase: Phase,
    /// The id of our heartbeat PING while it is unanswered.
    heartbeat: Option<RequestId>,
    /// When we last received anything.
    last_rx: Instant,
    /// Encoded frames to send, and how many.
    transmit: Vec<u8>,
    transmit_frames: u64,
    /// Valid frames received since the owner last asked.
    frames_in: u64,
    events: VecDeque<Event>,
}

/// The protocol session of one connection (see the module documentation).
pub(crate) struct Session {
    decoder: Decoder,
    m: Machine,
}

impl Session {
    /// The server side: queues our HELLO and starts the handshake clock.
    pub(crate) fn server(
        peer: SocketAddr,
        cfg: Arc<ConnConfig>,
        requests: Arc<Pending>,
        now: Instant,
    ) -> Session {
        let hello_id = requests.fresh_id();
        let deadline = now + cfg.handshake_timeout;
        let mut s = Session::new(Role::Server, peer, cfg, requests, now);
        s.m.phase = Phase::AwaitAck { hello_id, deadline };
        let hello = handshake::encode_hello(&s.m.cfg.protocol_version);
        s.m.send(types::HELLO, hello_id, &hello);
        s
    }

    /// The client side: waits for the server's HELLO.
    pub(crate) fn client(
        peer: SocketAddr,
        cfg: Arc<ConnConfig>,
        requests: Arc<Pending>,
        now: Instant,
    ) -> Session {
        let deadline = now + cfg.handshake_timeout;
        let mut s = Session::new(Role::Client, peer, cfg, requests, now);
        s.m.phase = Phase::AwaitHello { deadline };
        s
    }

    fn new(
        role: Role,
        peer: SocketAddr,
        cfg: Arc<ConnConfig>,
        requests: Arc<Pending>,
        now: Instant,
    ) -> Session {
        Session {
            decoder: Decoder::new(cfg.max_message_size),
            m: Machine {
                role,
                peer,
                cfg,
                requests,
                phase: Phase::Established,
                heartbeat: None,
                last_rx: now,
                transmit: Vec::new(),
                transmit_frames: 0,
                frames_in: 0,
                events: VecDeque::new(),
            },
        }
    }

    /// The decoder, for a read straight into its buffer.
    pub(crate) fn decoder_mut(&mut self) -> &mut Decoder {
        &mut self.decoder
    }

    /// Whether the handshake is done.
    pub(crate) fn is_established(&self) -> bool {
        self.m.phase == Phase::Established
    }

    /// Puts received bytes in and handles every whole frame.
    pub(crate) fn receive(&mut self, bytes: &[u8], now: Instant) -> Flow {
        self.decoder.push(bytes);
        self.process(now)
    }

    /// Handles every whole frame the decoder holds.
    pub(crate) fn process(&mut self, now: Instant) -> Flow {
        loop {
            match self.decoder.next_ref() {
                Ok(Some(raw)) => {
                    if let Flow::Close(end) = self.m.on_frame(raw, now) {
                        return Flow::Close(end);
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(e) => {
                    let id = Header::peek(self.decoder.buffered()).map(|h| h.request_id);
                    return self.m.on_fatal(&e, id);
                }
            }
        }
    }

    /// Time-based duties: the handshake deadline, the heartbeat PING and
    /// dead-peer detection.
    pub(crate) fn on_tick(&mut self, now: Instant) -> Flow {
        self.m.on_tick(now)
    }

    /// How long the owner may wait before calling [`on_tick`](Session::on_tick).
    pub(crate) fn tick_interval(&self) -> Duration {
        let cfg = &self.m.cfg;
        if self.m.phase != Phase::Established {
            return cfg.handshake_timeout.min(Duration::from_millis(250));
        }
        (cfg.performance_mode.heartbeat_idle() / 2).max(Duration::from_millis(50))
    }

    /// The peer ended the stream: why, in words (a frame cut off by the
    /// close was lost, and is a fault).
    pub(crate) fn end_of_stream(&self) -> EndReason {
        let left = self.decoder.buffered();
        if left.is_empty() {
            return EndReason::new(EndKind::PeerClosed, "the peer closed the connection");
        }
        let need = Header::peek(left).map_or(HEADER_LEN as u64, |h| h.frame_len());
        let msg = format!(
            "the peer closed the connection mid-frame: a truncated frame was lost ({} of {need} bytes received)",
            left.len()
        );
        log::warn!("{}: {msg}", self.m.peer);
        let fault = ProtocolError::Truncated { needed: need, available: left.len() as u64 };
        EndReason::fault(fault, msg)
    }

    /// The encoded frames the session wants sent, and how many there are;
    /// call [`transmitted`](Session::transmitted) once they are handed on.
    pub(crate) fn transmit(&self) -> (&[u8], u64) {
        (&self.m.transmit, self.m.transmit_frames)
    }

    /// The bytes of [`transmit`](Session::transmit) were handed on.
    pub(crate) fn transmitted(&mut self) {
        self.m.transmit.clear();
        self.m.transmit_frames = 0;
        // A large ERROR text must not stay allocated for the connection's life.
        if self.m.transmit.capacity() > 4096 {
            self.m.transmit = Vec::new();
        }
    }

    /// The next event, in order.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.m.events.pop_front()
    }

    /// Valid frames received since the last call.
    pub(crate) fn take_frames_in(&mut self) -> u64 {
        std::mem::take(&mut self.m.frames_in)
    }
}

impl Machine {
    /// Queues one frame to send.
    fn send(&mut self, type_code: u16, id: RequestId, payload: &[u8]) {
        // Only a payload over 4 GiB fails to encode; ours are short texts.
        if encode_into(type_code, id, now_ms(), payload, &mut self.transmit).is_ok() {
            self.transmit_frames += 1;
        }
    }

    /// Handles one received frame (CRC not yet checked).
    fn on_frame(&mut self, raw: FrameRef<'_>, now: Instant) -> Flow {
        self.last_rx = now;
        let id = raw.header.request_id;
        if let Err(e) = raw.verify() {
            if let Phase::AwaitHello { .. } = self.phase {
                // Where the HELLO should be: the handshake failed.
                return Flow::Close(EndReason::fault(e.clone(), format!("handshake failed: {e}")));
            }
            // The bad frame was skipped whole, so the stream goes on. A
            // request of ours waiting on it fails now; otherwise the
            // sender is told, so a request of theirs fails fast.
            log::warn!("dropped a frame from {}: {e}", self.peer);
            if !self.requests.fail(id, e.clone()) {
                self.send(types::ERROR, id, e.to_string().as_bytes());
            }
            return Flow::Continue;
        }
        self.frames_in += 1;
        // The commonest system frame is answered without copying it.
        if raw.header.type_code == types::PING && self.phase == Phase::Established {
            self.send(types::PONG, id, &[]);
            return Flow::Continue;
        }
        let frame = raw.to_frame();
        match self.phase {
            Phase::AwaitAck { hello_id, .. } => return self.on_ack(frame, hello_id),
            Phase::AwaitHello { .. } => return self.on_hello(frame),
            Phase::Established => {}
        }
        match frame.type_code {
            types::PONG if self.heartbeat == Some(frame.request_id) => {
                self.heartbeat = None;
                return Flow::Continue;
            }
            types::HELLO if self.role == Role::Client => {
                log::debug!("ignored a second HELLO from {}", self.peer);
                return Flow::Continue;
            }
            _ => {}
        }
        self.heartbeat = None;
        match self.requests.complete(frame) {
            Completion::Delivered => {}
            Completion::Late => {
                log::debug!(
                    "dropped a late reply (id {id}) from {}: its request timed out",
                    self.peer
                )
            }
            Completion::NotPending(frame) if frame.type_code == types::PONG => {
                log::debug!("dropped an unsolicited PONG (id {id}) from {}", self.peer)
            }
            Completion::NotPending(frame) => self.events.push_back(Event::Message(frame)),
        }
        Flow::Continue
    }

    /// Server side: the frame that must be our HELLO's ACK.
    fn on_ack(&mut self, frame: Frame, hello_id: RequestId) -> Flow {
        let ours = &self.cfg.protocol_version;
        let outcome = if frame.type_code != types::HELLO_ACK {
            Err(ProtocolError::UnexpectedFrame {
                expected: "HELLO_ACK",
                got: format!(
                    "type {} ({})",
                    frame.type_code,
                    TypeRegistry::new().label(frame.type_code)
                ),
            })
        } else if frame.request_id != hello_id {
            Err(ProtocolError::BadHello(format!(
                "HELLO_ACK carries request id {}, our HELLO had {hello_id}",
                frame.request_id,
            )))
        } else {
            handshake::parse_hello(&frame.payload)
                .and_then(|v| handshake::check_version(ours, &v).map(|()| v))
        };
        match outcome {
            Ok(version) => {
                self.phase = Phase::Established;
                self.events.push_back(Event::Established(version));
                Flow::Continue
            }
            Err(e) => {
                let msg = format!("handshake failed: {e}");
                self.send(types::ERROR, frame.request_id, msg.as_bytes());
                Flow::Close(EndReason::fault(e, msg))
            }
        }
    }

    /// Client side: the frame that must be the server's HELLO. An ERROR
    /// instead is a refusal (a full server says why), reported as a
    /// [`ProtocolError::PeerError`].
    fn on_hello(&mut self, frame: Frame) -> Flow {
        match frame.type_code {
            types::HELLO => {}
            types::ERROR => {
                let why = String::from_utf8_lossy(&frame.payload).into_owned();
                let msg = format!("the server refused the connection: {why}");
                return Flow::Close(EndReason::fault(ProtocolError::PeerError(why), msg));
            }
            other => {
                let e = ProtocolError::UnexpectedFrame {
                    expected: "HELLO",
                    got: TypeRegistry::new().label(other),
                };
                return Flow::Close(EndReason::fault(e.clone(), format!("handshake failed: {e}")));
            }
        }
        let checked = handshake::parse_hello(&frame.payload)
            .and_then(|v| handshake::check_version(&self.cfg.protocol_version, &v).map(|()| v));
        match checked {
            Ok(version) => {
                let ack = handshake::encode_hello(&self.cfg.protocol_version);
                self.send(types::HELLO_ACK, frame.request_id, &ack);
                self.phase = Phase::Established;
                self.events.push_back(Event::Established(version));
                Flow::Continue
            }
            Err(e) => {
                // Tell the server why (the reference logs it), then close.
                if matches!(e, ProtocolError::VersionMismatch { .. }) {
                    self.send(types::ERROR, frame.request_id, e.to_string().as_bytes());
                }
                Flow::Close(EndReason::fault(e.clone(), format!("handshake failed: {e}")))
            }
        }
    }

    fn on_tick(&mut self, now: Instant) -> Flow {
        match self.phase {
            Phase::AwaitAck { deadline, .. } | Phase::AwaitHello { deadline } => {
                if now < deadline {
                    return Flow::Continue;
                }
                let msg =
                    format!("handshake not completed within {:?}", self.cfg.handshake_timeout);
                if self.role == Role::Server {
                    self.send(types::ERROR, RequestId::default(), msg.as_bytes());
                }
                return Flow::Close(EndReason::new(EndKind::Error, msg));
            }
            Phase::Established => {}
        }
        let silent = now.saturating_duration_since(self.last_rx);
        let mode = self.cfg.performance_mode;
        if silent >= mode.dead_after() {
            return Flow::Close(EndReason::new(
                EndKind::Error,
                format!("no data from the peer for {silent:.1?}: presumed dead"),
            ));
        }
        if silent >= mode.heartbeat_idle() && self.heartbeat.is_none() {
            let id = self.requests.fresh_id();
            self.send(types::PING, id, &[]);
            log::trace!("heartbeat PING to {} after {silent:.1?} of silence", self.peer);
            self.heartbeat = Some(id);
        }
        Flow::Continue
    }

    /// A fatal decoding error: tell the peer (with the request id of the
    /// offending frame, when its header is known, so a request waiting on
    /// the other side fails at once), then close.
    fn on_fatal(&mut self, e: &ProtocolError, id: Option<RequestId>) -> Flow {
        log::warn!("{}: {e}; closing the connection", self.peer);
        let msg = e.to_string();
        self.send(types::ERROR, id.unwrap_or_default(), msg.as_bytes());
        Flow::Close(EndReason::fault(e.clone(), msg))
    }
}

/// The bytes that turn away a client over `max_connections`: one ERROR
/// frame saying why, sent before the handshake.
pub(crate) fn refusal(reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = encode_into(types::ERROR, RequestId::random(), now_ms(), reason.as_bytes(), &mut out);
    out
}

#[cfg(test)]
mod tests;

const PROTOCOL_VERSION_FOR_FUZZ: &str = handshake::PROTOCOL_VERSION;

/// Drives a session through arbitrary input and checks its invariants; the
/// `session` fuzz target calls it (not a stable API).
///
/// With `handshake`, the handshake is completed first (the peer's side of
/// it is played here: an ACK carrying our HELLO's random id, or a HELLO),
/// so that the steps reach an established session. Each step puts `bytes`
/// in, handles them, then advances the clock by `advance_ms` and runs the
/// time-based duties. Panics when an invariant
/// breaks: what the session sends is always whole frames with good CRCs,
/// no message is delivered before the handshake, the handshake completes
/// at most once, and nothing happens after a close.
#[doc(hidden)]
pub fn fuzz_session(
    server: bool,
    handshake: bool,
    max_message_size: usize,
    steps: &[(&[u8], u16)],
) {
    let cfg = Arc::new(ConnConfig {
        max_message_size: max_message_size.max(HEADER_LEN),
        ..ConnConfig::default()
    });
    let peer = SocketAddr::from(([127, 0, 0, 1], 9));
    let pending = Arc::new(Pending::new());
    let mut now = Instant::now();
    let mut s = if server {
        Session::server(peer, cfg, pending, now)
    } else {
        Session::client(peer, cfg, pending, now)
    };
    let mut established = false;
    let check = |s: &mut Session, established: &mut bool| {
        let (bytes, frames) = s.transmit();
        let mut d = Decoder::new(usize::MAX);
        d.push(bytes);
        let mut n = 0;
        while let Some(f) = d.next_frame().expect("the session sent a bad frame") {
            assert!(f.payload.len() < 1 << 20, "an outsized system frame");
            n += 1;
        }
        assert!(d.buffered().is_empty(), "the session sent a partial frame");
        assert_eq!(n, frames, "the frame count is wrong");
        s.transmitted();
        while let Some(e) = s.poll_event() {
            match e {
                Event::Established(_) => {
                    assert!(!*established, "established twice");
                    *established = true;
                }
                Event::Message(_) => assert!(*established, "a message before the handshake"),
            }
        }
        assert_eq!(*established, s.is_established());
    };
    if handshake {
        let id = Header::peek(s.transmit().0).map_or(RequestId::default(), |h| h.request_id);
        let (code, id) = if server { (types::HELLO_ACK, id) } else { (types::HELLO, id) };
        let mut greeting = Vec::new();
        let version = handshake::encode_hello(PROTOCOL_VERSION_FOR_FUZZ);
        let _ = encode_into(code, id, 0, &version, &mut greeting);
        assert_eq!(s.receive(&greeting, now), Flow::Continue);
    }
    check(&mut s, &mut established);
    assert_eq!(established, handshake);
    for (bytes, advance_ms) in steps {
        let flow = s.receive(bytes, now);
        check(&mut s, &mut established);
        if let Flow::Close(_) = flow {
            return;
        }
        now += Duration::from_millis(u64::from(*advance_ms));
        let flow = s.on_tick(now);
        check(&mut s, &mut established);
        assert!(!s.tick_interval().is_zero());
        if let Flow::Close(_) = flow {
            return;
        }
    }
    let _ = s.end_of_stream();
}

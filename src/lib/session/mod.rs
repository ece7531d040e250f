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
use crate::codec::vx::{self, Expect, HandshakeMsg, HandshakeRead, VxError};
use crate::codec::{encode_frame_into, Wire};
use crate::config::{ConnConfig, WireMode};
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

/// What a session received since its owner last asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Valid frames, by [`Class`](crate::codec::Class) index.
    pub frames_in: [u64; 3],
    /// Frames dropped for a bad CRC.
    pub bad_crc: u64,
    /// Frames refused for their size (the connection ends).
    pub oversize: u64,
}

/// What the session tells its owner, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// The handshake completed; the peer announced this version.
    Established(String),
    /// An application message that no request of ours waits for.
    Message(Frame),
}

/// What a VX peer announces as its package version (`v`; 3.3.0 only logs it).
pub(crate) const VX_PACKAGE_VERSION: &str = concat!("veltix-rs ", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Server: our HELLO carried `hello_id`; the ACK is due by `deadline`.
    AwaitAck { hello_id: RequestId, deadline: Instant },
    /// Client: the server's HELLO is due by `deadline`.
    AwaitHello { deadline: Instant },
    /// Client with `WireMode::Auto`: the server's first bytes tell its
    /// profile.
    Detect { deadline: Instant },
    /// VX server: the client's hello is due.
    VxAwaitClientHello { deadline: Instant },
    /// VX client: the server's hello (or its refusal) is due.
    VxAwaitServerHello { deadline: Instant },
    /// VX client: our hello was sent; the server's `{"result": "ok"}` is due.
    VxAwaitAck { deadline: Instant, server_version: String },
    /// The handshake is done.
    Established,
}

impl Phase {
    /// Whether the bytes due now are not frames (detection, VX handshake).
    fn is_raw(&self) -> bool {
        matches!(
            self,
            Phase::Detect { .. }
                | Phase::VxAwaitClientHello { .. }
                | Phase::VxAwaitServerHello { .. }
                | Phase::VxAwaitAck { .. }
        )
    }

    fn deadline(&self) -> Option<Instant> {
        match self {
            Phase::AwaitAck { deadline, .. }
            | Phase::AwaitHello { deadline }
            | Phase::Detect { deadline }
            | Phase::VxAwaitClientHello { deadline }
            | Phase::VxAwaitServerHello { deadline }
            | Phase::VxAwaitAck { deadline, .. } => Some(*deadline),
            Phase::Established => None,
        }
    }
}

/// What handling the raw bytes of a handshake did.
enum Raw {
    NeedMore,
    Progress,
    Close(EndReason),
}

/// The protocol state apart from the decoder (so that a frame borrowed
/// from the decoder can be handled without copying it first).
struct Machine {
    role: Role,
    wire: Wire,
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
    /// What was received since the owner last asked.
    counts: Counts,
    events: VecDeque<Event>,
}

/// How long without a frame before a connection gives its read buffer back.
pub(crate) const QUIET: Duration = Duration::from_millis(100);

/// The protocol session of one connection (see the module documentation).
pub(crate) struct Session {
    decoder: Decoder,
    m: Machine,
}

impl Session {
    /// The server side: queues our greeting (a HELLO frame, or the VX
    /// server hello) and starts the handshake clock.
    pub(crate) fn server(
        peer: SocketAddr,
        cfg: Arc<ConnConfig>,
        requests: Arc<Pending>,
        now: Instant,
    ) -> Session {
        let deadline = now + cfg.handshake_timeout;
        let wire = cfg.wire.for_server();
        let mut s = Session::new(Role::Server, wire, peer, cfg, requests, now);
        match wire {
            Wire::V1_6 => {
                let hello_id = s.m.requests.fresh_id();
                s.m.phase = Phase::AwaitAck { hello_id, deadline };
                let hello = handshake::encode_hello(&s.m.cfg.protocol_version);
                s.m.send(types::HELLO, hello_id, &hello);
            }
            Wire::Vx => {
                s.m.phase = Phase::VxAwaitClientHello { deadline };
                if let Ok(hello) = vx::server_hello(VX_PACKAGE_VERSION, vx::PROTOCOL_VERSION) {
                    s.m.transmit.extend_from_slice(&hello);
                }
            }
        }
        s
    }

    /// The client side: waits for the server's greeting (detecting its
    /// profile first with [`WireMode::Auto`]).
    pub(crate) fn client(
        peer: SocketAddr,
        cfg: Arc<ConnConfig>,
        requests: Arc<Pending>,
        now: Instant,
    ) -> Session {
        let deadline = now + cfg.handshake_timeout;
        let mode = cfg.wire;
        let wire = if mode == WireMode::Vx { Wire::Vx } else { Wire::V1_6 };
        let mut s = Session::new(Role::Client, wire, peer, cfg, requests, now);
        s.m.phase = match mode {
            WireMode::V1_6 => Phase::AwaitHello { deadline },
            WireMode::Vx => Phase::VxAwaitServerHello { deadline },
            WireMode::Auto => Phase::Detect { deadline },
        };
        s
    }

    fn new(
        role: Role,
        wire: Wire,
        peer: SocketAddr,
        cfg: Arc<ConnConfig>,
        requests: Arc<Pending>,
        now: Instant,
    ) -> Session {
        let mut m = Machine {
            role,
            wire,
            peer,
            cfg,
            requests,
            phase: Phase::Established,
            heartbeat: None,
            last_rx: now,
            transmit: Vec::new(),
            transmit_frames: 0,
            counts: Counts::default(),
            events: VecDeque::new(),
        };
        m.use_wire(wire);
        Session { decoder: Decoder::with_wire(m.cfg.max_message_size, wire), m }
    }

    /// The wire profile (for a detecting client: once detected).
    pub(crate) fn wire(&self) -> Wire {
        self.m.wire
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
            if self.m.phase.is_raw() {
                match self.m.on_raw(&mut self.decoder, now) {
                    Raw::NeedMore => return Flow::Continue,
                    Raw::Progress => continue,
                    Raw::Close(end) => return Flow::Close(end),
                }
            }
            match self.decoder.next_ref() {
                Ok(Some(raw)) => {
                    if let Flow::Close(end) = self.m.on_frame(raw, now) {
                        return Flow::Close(end);
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(e) => {
                    if let Some(end) = self.m.wrong_wire(self.decoder.buffered()) {
                        return Flow::Close(end);
                    }
                    let id = Header::peek(self.decoder.buffered()).map(|h| h.request_id);
                    return self.m.on_fatal(&e, id);
                }
            }
        }
    }

    /// Time-based duties: the handshake deadline, the heartbeat PING,
    /// dead-peer detection, and giving the read buffer back once no frame
    /// has come for [`QUIET`] (idle connections hold none; the next read
    /// takes a small one).
    pub(crate) fn on_tick(&mut self, now: Instant) -> Flow {
        if now.saturating_duration_since(self.m.last_rx) >= QUIET {
            self.decoder.release();
            self.m.release();
        }
        self.m.on_tick(now)
    }

    /// Bytes of buffers the session holds (read buffer, outgoing bytes,
    /// events): none on a quiet connection.
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.decoder.capacity()
            + self.m.transmit.capacity()
            + self.m.events.capacity() * std::mem::size_of::<Event>()
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
        let need = self.decoder.pending_frame_len();
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

    /// Events waiting (an upper bound for the messages among them).
    pub(crate) fn events_pending(&self) -> usize {
        self.m.events.len()
    }

    /// Valid frames received since the last call.
    pub(crate) fn take_frames_in(&mut self) -> u64 {
        self.take_counts().frames_in.iter().sum()
    }

    /// What was received (and dropped) since the last call.
    pub(crate) fn take_counts(&mut self) -> Counts {
        std::mem::take(&mut self.m.counts)
    }
}

impl Machine {
    /// Gives back the (empty) buffers of outgoing bytes and events, which
    /// keep the capacity of the handshake's messages otherwise: about 300
    /// bytes on every idle connection.
    fn release(&mut self) {
        if self.transmit.is_empty() && self.transmit.capacity() > 0 {
            self.transmit = Vec::new();
        }
        if self.events.is_empty() && self.events.capacity() > 0 {
            self.events = VecDeque::new();
        }
    }

    /// Speaks `wire` from now on: its request id space and error type.
    fn use_wire(&mut self, wire: Wire) {
        self.wire = wire;
        match (wire, self.role) {
            (Wire::V1_6, _) => {
                self.requests.set_space(0, 0);
                self.requests.set_error_type(Some(types::ERROR));
            }
            (Wire::Vx, role) => {
                let ids = if role == Role::Client {
                    u32::from(vx::CLIENT_REQUEST_IDS.start)
                } else {
                    u32::from(*vx::SERVER_REQUEST_IDS.start())
                };
                self.requests.set_space(ids, 32768);
                self.requests.set_error_type(None);
            }
        }
    }

    /// Queues one frame to send.
    fn send(&mut self, type_code: u16, id: RequestId, payload: &[u8]) {
        // Only a payload over 4 GiB (or a VX id over 16 bits, which ours
        // never are) fails to encode; ours are short texts.
        if encode_frame_into(self.wire, type_code, id, payload, &mut self.transmit).is_ok() {
            self.transmit_frames += 1;
        }
    }

    /// A client told to speak one profile that meets a server speaking the
    /// other: what its first bytes show, as a fault that says so.
    fn wrong_wire(&self, buf: &[u8]) -> Option<EndReason> {
        if self.role != Role::Client {
            return None;
        }
        let seen = match (&self.phase, buf.get(2)) {
            (Phase::AwaitHello { .. }, Some(b'{')) => Wire::Vx,
            (Phase::VxAwaitServerHello { .. }, Some(&b)) if b != b'{' => Wire::V1_6,
            _ => return None,
        };
        let e = ProtocolError::WrongWire { expected: self.wire.name(), seen: seen.name() };
        Some(EndReason::fault(e.clone(), format!("handshake failed: {e}")))
    }

    /// Whether this profile has an ERROR frame to tell the peer why.
    fn has_error_frame(&self) -> bool {
        self.wire == Wire::V1_6
    }

    /// The bytes before the first frame: the profile's first bytes, or a
    /// VX handshake message.
    fn on_raw(&mut self, decoder: &mut Decoder, now: Instant) -> Raw {
        let Some(deadline) = self.phase.deadline() else { return Raw::Progress };
        let buf = decoder.buffered();
        let (expect, why) = match &self.phase {
            Phase::Detect { .. } => {
                // A 1.6.3 HELLO starts with its type and size: byte 2 is the
                // top of a size under 16 MiB, never `{`; a VX handshake
                // message is a length and a JSON object.
                let Some(&third) = buf.get(2) else { return Raw::NeedMore };
                let wire = if third == b'{' { Wire::Vx } else { Wire::V1_6 };
                log::debug!("{} speaks the {wire} wire profile", self.peer);
                self.use_wire(wire);
                decoder.set_wire(wire);
                self.phase = match wire {
                    Wire::V1_6 => Phase::AwaitHello { deadline },
                    Wire::Vx => Phase::VxAwaitServerHello { deadline },
                };
                return Raw::Progress;
            }
            Phase::VxAwaitClientHello { .. } => (Expect::ClientHello, "the client's hello"),
            Phase::VxAwaitServerHello { .. } => (Expect::ServerHello, "the server's hello"),
            Phase::VxAwaitAck { .. } => (Expect::Ack, "the handshake acknowledgement"),
            _ => return Raw::Progress,
        };
        let (msg, len) = match vx::read_handshake(buf, expect, vx::PROTOCOL_VERSION) {
            Ok(HandshakeRead::NeedMore(_)) => return Raw::NeedMore,
            Ok(HandshakeRead::Message { msg, len }) => (msg, len),
            Err(VxError::Rejected(reason)) => {
                let msg = format!("the server refused the connection: {reason}");
                return Raw::Close(EndReason::fault(ProtocolError::PeerError(reason), msg));
            }
            Err(e) => {
                if let Some(end) = self.wrong_wire(buf) {
                    return Raw::Close(end);
                }
                let msg = format!("handshake failed: {why}: {e}");
                log::debug!("{}: {msg}", self.peer);
                return Raw::Close(EndReason::fault(ProtocolError::Vx(e), msg));
            }
        };
        decoder.consume(len);
        self.last_rx = now;
        let phase = std::mem::replace(&mut self.phase, Phase::Established);
        match (phase, msg) {
            (Phase::VxAwaitClientHello { .. }, HandshakeMsg::Hello(hello)) => {
                self.transmit.extend_from_slice(&vx::result_ok());
                self.events.push_back(Event::Established(hello.version.unwrap_or_default()));
            }
            (Phase::VxAwaitServerHello { deadline }, HandshakeMsg::Hello(hello)) => {
                let ours = vx::client_hello(
                    VX_PACKAGE_VERSION,
                    vx::PROTOCOL_VERSION,
                    &serde_json::Map::new(),
                );
                if let Ok(bytes) = ours {
                    self.transmit.extend_from_slice(&bytes);
                }
                self.phase = Phase::VxAwaitAck {
                    deadline,
                    server_version: hello.version.unwrap_or_default(),
                };
            }
            (Phase::VxAwaitAck { server_version, .. }, HandshakeMsg::Ok) => {
                self.events.push_back(Event::Established(server_version));
            }
            (phase, msg) => {
                // read_handshake answers what was expected; this is a bug.
                let e = format!("unexpected handshake message {msg:?} in {phase:?}");
                return Raw::Close(EndReason::new(EndKind::Error, e));
            }
        }
        Raw::Progress
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
            self.counts.bad_crc += 1;
            if !self.requests.fail(id, e.clone()) && self.has_error_frame() {
                self.send(types::ERROR, id, e.to_string().as_bytes());
            }
            return Flow::Continue;
        }
        self.counts.frames_in[self.wire.class(raw.header.type_code).index()] += 1;
        // The commonest system frame is answered without copying it.
        if raw.header.type_code == types::PING && self.phase == Phase::Established {
            self.send(types::PONG, id, &[]);
            return Flow::Continue;
        }
        let frame = raw.to_frame();
        match self.phase {
            Phase::AwaitAck { hello_id, .. } => return self.on_ack(frame, hello_id),
            Phase::AwaitHello { .. } => return self.on_hello(frame),
            _ => {}
        }
        match frame.type_code {
            types::PONG if self.heartbeat == Some(frame.request_id) => {
                self.heartbeat = None;
                return Flow::Continue;
            }
            types::HELLO if self.role == Role::Client && self.wire == Wire::V1_6 => {
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
        if let Some(deadline) = self.phase.deadline() {
            if now < deadline {
                return Flow::Continue;
            }
            let msg = format!("handshake not completed within {:?}", self.cfg.handshake_timeout);
            if self.role == Role::Server && self.has_error_frame() {
                self.send(types::ERROR, RequestId::default(), msg.as_bytes());
            }
            return Flow::Close(EndReason::new(EndKind::Error, msg));
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
        if matches!(
            e,
            ProtocolError::FrameTooLarge { .. } | ProtocolError::Vx(VxError::FrameTooLarge { .. })
        ) {
            self.counts.oversize += 1;
        }
        let msg = e.to_string();
        if self.has_error_frame() {
            self.send(types::ERROR, id.unwrap_or_default(), msg.as_bytes());
        }
        Flow::Close(EndReason::fault(e.clone(), msg))
    }
}

/// The bytes that turn away a client over `max_connections`, sent before
/// the handshake: in 1.6.3 one ERROR frame saying why; in VX the
/// `{"error": "server_full"}` answer 3.x clients know.
pub(crate) fn refusal(wire: Wire, reason: &str) -> Vec<u8> {
    match wire {
        Wire::V1_6 => {
            let mut out = Vec::new();
            let id = RequestId::random();
            let _ = encode_into(types::ERROR, id, now_ms(), reason.as_bytes(), &mut out);
            out
        }
        Wire::Vx => vx::error_answer("server_full").unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;

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
    wire: WireMode,
    handshake: bool,
    max_message_size: usize,
    steps: &[(&[u8], u16)],
) {
    let cfg = Arc::new(ConnConfig {
        max_message_size: max_message_size.max(HEADER_LEN),
        wire,
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
        let (mut bytes, frames) = s.transmit();
        // VX handshake messages come before any frame and are not frames.
        while s.wire() == Wire::Vx && bytes.get(2) == Some(&b'{') {
            let len = 2 + usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
            assert!(len <= bytes.len(), "a partial handshake message");
            bytes = &bytes[len..];
        }
        let mut d = Decoder::with_wire(usize::MAX, s.wire());
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
        let greeting = match (server, s.wire(), wire) {
            (true, Wire::Vx, _) => {
                vx::client_hello("3.3.0", vx::PROTOCOL_VERSION, &serde_json::Map::new())
                    .unwrap_or_default()
            }
            (false, _, WireMode::Vx | WireMode::Auto) => {
                let mut g = vx::server_hello("3.3.0", vx::PROTOCOL_VERSION).unwrap_or_default();
                g.extend_from_slice(&vx::result_ok());
                g
            }
            _ => {
                let id =
                    Header::peek(s.transmit().0).map_or(RequestId::default(), |h| h.request_id);
                let code = if server { types::HELLO_ACK } else { types::HELLO };
                let mut g = Vec::new();
                let version = handshake::encode_hello(handshake::PROTOCOL_VERSION);
                let _ = encode_into(code, id, 0, &version, &mut g);
                g
            }
        };
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

//! The public handles to connections: [`Peer`] (one connection) and
//! [`ServerHandle`] (the server a connection belongs to, seen through the
//! `Hub` trait that the server implements, so this layer knows nothing
//! of the server's internals).

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{Conn, Hub, Pipeline, ServerStats};
use crate::codec::frame::{Frame, RequestId};
use crate::codec::{encode_frame_into, Wire};
use crate::dispatch::in_inline_callback;
#[cfg(doc)]
use crate::error::ProtocolError;
use crate::error::{EndKind, EndReason, Error, Result};
use crate::types;

use super::ConnStats;

/// A weak handle to a running server, for callbacks that need to reach
/// other clients (for example to relay a message). It does not keep the
/// server alive: once the server is shut down, its calls fail or return
/// nothing.
#[derive(Clone)]
pub struct ServerHandle {
    inner: Weak<dyn Hub>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle").field("alive", &(self.inner.strong_count() > 0)).finish()
    }
}

impl ServerHandle {
    pub(crate) fn new(inner: Weak<dyn Hub>) -> ServerHandle {
        ServerHandle { inner }
    }

    fn get(&self) -> Result<Arc<dyn Hub>> {
        self.inner.upgrade().ok_or_else(|| Error::Closed(Some("the server has stopped".into())))
    }

    /// The connected clients, by id (empty once the server stopped).
    pub fn clients(&self) -> Vec<Peer> {
        let conns = self.get().map(|i| i.clients()).unwrap_or_default();
        conns.into_iter().map(|conn| Peer { conn }).collect()
    }

    /// The client with this id, if connected.
    pub fn client(&self, id: u64) -> Option<Peer> {
        self.get().ok().and_then(|i| i.client(id)).map(|conn| Peer { conn })
    }

    /// Sends one message to every connected client except `except`,
    /// encoded once; returns how many it was queued for.
    pub fn broadcast(&self, type_code: u16, payload: &[u8], except: Option<u64>) -> Result<usize> {
        self.get()?.broadcast(type_code, payload, except)
    }

    /// Totals since start.
    pub fn stats(&self) -> Result<ServerStats> {
        Ok(self.get()?.stats())
    }
}

/// A handle to one connection: the server's view of a client, or the
/// client's view of its server. Cheap to clone; safe to use from any
/// thread and from callbacks.
#[derive(Clone)]
pub struct Peer {
    pub(crate) conn: Arc<Conn>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("id", &self.conn.id).field("addr", &self.conn.peer).finish()
    }
}

impl Peer {
    /// The connection's id, unique within its server (1, 2, ...).
    pub fn id(&self) -> u64 {
        self.conn.id
    }

    /// The remote address.
    pub fn addr(&self) -> SocketAddr {
        self.conn.peer
    }

    /// The wire profile the connection speaks (for a client that detected
    /// it: what the server spoke).
    pub fn wire(&self) -> Wire {
        self.conn.wire
    }

    /// The protocol version the peer announced in the handshake (in VX,
    /// its package version `v`).
    pub fn peer_version(&self) -> Option<String> {
        self.conn.peer_version()
    }

    /// What the connection's TLS negotiated (version, cipher suite, the
    /// peer's certificate); `None` on plain TCP or before the TLS
    /// handshake is done.
    #[cfg(feature = "tls")]
    pub fn tls_info(&self) -> Option<crate::tls::TlsInfo> {
        self.conn.tls_info()
    }

    /// The server this client is connected to, for server-side callbacks
    /// that reach other clients (`None` on the client side).
    pub fn server(&self) -> Option<ServerHandle> {
        self.conn.hub().map(|inner| ServerHandle { inner })
    }

    /// How long ago the TCP connection was made.
    pub fn connected_for(&self) -> Duration {
        self.conn.connected_at.elapsed()
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.conn.is_closed()
    }

    /// Why the connection was closed, once it is.
    pub fn close_reason(&self) -> Option<String> {
        self.conn.close_reason()
    }

    /// Traffic counters.
    pub fn stats(&self) -> ConnStats {
        self.conn.stats()
    }

    /// Sends a message with a fresh request id; returns the id used. Every
    /// send refuses a message over `max_message_size` (header included)
    /// with [`Error::MessageTooLarge`], before anything is written.
    pub fn send(&self, type_code: u16, payload: &[u8]) -> Result<RequestId> {
        self.conn.check_size(payload.len())?;
        let id = self.conn.pending.fresh_id();
        self.conn.send_parts(type_code, id, payload)?;
        Ok(id)
    }

    /// Sends a message with the given request id.
    pub fn send_with_id(&self, type_code: u16, id: RequestId, payload: &[u8]) -> Result<()> {
        self.conn.check_size(payload.len())?;
        self.conn.send_parts(type_code, id, payload)
    }

    /// A [`Pipeline`] on this connection: many sends, few writes.
    pub fn pipeline(&self) -> Pipeline {
        Pipeline::new(self.conn.clone())
    }

    /// Sends a whole frame as it is (its timestamp is kept).
    pub fn send_frame(&self, frame: &Frame) -> Result<()> {
        self.conn.check_size(frame.payload.len())?;
        let bytes = match self.conn.wire {
            // The frame's own timestamp is kept.
            Wire::V1_6 => frame.encode()?,
            Wire::Vx => {
                let mut out = Vec::new();
                encode_frame_into(
                    Wire::Vx,
                    frame.type_code,
                    frame.request_id,
                    &frame.payload,
                    &mut out,
                )?;
                out
            }
        };
        self.conn.send_bytes(&[&bytes], 1, self.conn.wire.class(frame.type_code))
    }

    /// Answers `request` with the same type and request id.
    pub fn reply(&self, request: &Frame, payload: &[u8]) -> Result<()> {
        self.conn.check_size(payload.len())?;
        self.conn.send_parts(request.type_code, request.request_id, payload)
    }

    /// Sends a message and blocks until the frame with the same request id
    /// comes back, or `timeout` passes ([`Error::Timeout`]). An ERROR frame
    /// in reply is returned as [`ProtocolError::PeerError`].
    pub fn send_and_wait(
        &self,
        type_code: u16,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Frame> {
        if in_inline_callback() {
            return Err(Error::InlineCallback);
        }
        self.conn.check_size(payload.len())?;
        let deadline = Instant::now() + timeout;
        let Some((id, slot)) = self.conn.pending.register() else {
            return Err(Error::IdsExhausted);
        };
        // A client reads the reply on this thread (no hand-off); it says so
        // before sending, so the core leaves the reply to it.
        let side = self.conn.read_side();
        let seen = side.map_or(0, |s| s.enter());
        if let Err(e) = self.conn.send_parts(type_code, id, payload) {
            if let Some(side) = side {
                side.leave(&self.conn, seen);
            }
            self.conn.pending.cancel(id);
            return Err(e);
        }
        if let Some(side) = side {
            side.read_until(&self.conn, deadline, &|| slot.is_filled(), seen);
        }
        self.conn.pending.wait_until(id, &slot, deadline, timeout)
    }

    /// Sends a PING and returns the round-trip time, measured with a
    /// monotonic clock.
    pub fn ping(&self, timeout: Duration) -> Result<Duration> {
        let start = Instant::now();
        self.send_and_wait(types::PING, &[], timeout)?;
        Ok(start.elapsed())
    }

    /// Closes the connection (what is queued is flushed first, up to 1 s).
    pub fn close(&self) {
        self.conn.close_gracefully(
            EndReason::new(EndKind::Local, "closed locally"),
            Duration::from_secs(1),
        );
    }

    /// Adds a tag with an optional value; false if it already exists.
    pub fn add_tag(&self, name: &str, value: Option<serde_json::Value>) -> bool {
        let mut tags = self.conn.tags();
        if tags.contains_key(name) {
            return false;
        }
        tags.insert(name.to_string(), value.unwrap_or(serde_json::Value::Null));
        true
    }

    /// Whether the tag exists.
    pub fn has_tag(&self, name: &str) -> bool {
        self.conn.tags().contains_key(name)
    }

    /// Whether every tag exists.
    pub fn has_all_tags(&self, names: &[&str]) -> bool {
        let tags = self.conn.tags();
        names.iter().all(|n| tags.contains_key(*n))
    }

    /// Whether at least one of the tags exists.
    pub fn has_any_tags(&self, names: &[&str]) -> bool {
        let tags = self.conn.tags();
        names.iter().any(|n| tags.contains_key(*n))
    }

    /// A tag's value (`Some(Null)` for a tag without value).
    pub fn get_tag(&self, name: &str) -> Option<serde_json::Value> {
        self.conn.tags().get(name).cloned()
    }

    /// Removes a tag; false if it did not exist.
    pub fn remove_tag(&self, name: &str) -> bool {
        self.conn.tags().remove(name).is_some()
    }

    /// Removes every tag.
    pub fn clear_tags(&self) {
        self.conn.tags().clear();
    }

    /// Every tag name, sorted.
    pub fn tag_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.conn.tags().keys().cloned().collect();
        v.sort();
        v
    }
}

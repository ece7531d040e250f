//! The library's error types.
//!
//! [`Error`] is what every fallible library call returns. Wire-level faults
//! are grouped in [`ProtocolError`], which derives `Eq` so tests can match on
//! it, and which says whether the stream can go on after it
//! ([`ProtocolError::is_fatal`]). [`EndReason`] says how a connection ended.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

pub use crate::fingerprint::{BadFingerprint, Fingerprint};

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A fault in the bytes a peer sent (or that we were asked to send).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The header declares a frame larger than `max_message_size`. The
    /// stream cannot be resynchronised after this (there is no frame marker),
    /// so the connection must be closed.
    #[error(
        "frame of {size} bytes (22-byte header + {payload} payload) exceeds the limit of {max_size} bytes"
    )]
    FrameTooLarge {
        /// Total frame size declared by the header, header included.
        size: u64,
        /// Payload size declared by the header.
        payload: u32,
        /// The configured limit (`max_message_size`).
        max_size: u64,
    },
    /// The payload's CRC32 does not match the one in the header. The frame
    /// was consumed whole, so the stream is still in sync.
    #[error("CRC mismatch: header states {stated:08x}, payload hashes to {computed:08x}")]
    CrcMismatch {
        /// CRC32 carried in the header.
        stated: u32,
        /// CRC32 computed over the received payload.
        computed: u32,
    },
    /// Fewer bytes than a whole frame were given to a one-shot parser.
    #[error("truncated frame: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes a whole frame needs.
        needed: u64,
        /// Bytes that were there.
        available: u64,
    },
    /// A payload too large for the 32-bit size field.
    #[error("payload of {0} bytes does not fit the 32-bit size field")]
    PayloadTooLarge(u64),
    /// A HELLO or HELLO_ACK payload that is not `u16 length + UTF-8 version`.
    #[error("malformed handshake payload: {0}")]
    BadHello(String),
    /// The peer announced a protocol version we do not speak.
    #[error("protocol version mismatch: we speak {ours}, the peer announced {theirs}")]
    VersionMismatch {
        /// Our announced version.
        ours: String,
        /// The version the peer announced.
        theirs: String,
    },
    /// A frame arrived that is not allowed at this point (for example an
    /// application frame before the handshake completed).
    #[error("unexpected {got} frame while waiting for {expected}")]
    UnexpectedFrame {
        /// What the protocol allowed here.
        expected: &'static str,
        /// Name (or code) of the frame that came instead.
        got: String,
    },
    /// The peer sent an ERROR frame; its payload is the reason.
    #[error("peer reported an error: {0}")]
    PeerError(String),
    /// A fault of the VX profile: a bad magic, reserved flags, an oversize
    /// header, or a handshake message that is not what it must be.
    #[error("{0}")]
    Vx(#[from] crate::codec::vx::VxError),
    /// The peer speaks the other wire profile than the one we were told to
    /// speak (detected from its first bytes).
    #[error("the peer speaks the {seen} wire profile, not {expected} (let the client detect it: wire auto)")]
    WrongWire {
        /// The profile we were told to speak (`1.6` or `vx`, as
        /// [`Wire::name`](crate::Wire::name) says).
        expected: &'static str,
        /// The profile its first bytes show.
        seen: &'static str,
    },
    /// A request id too large for the profile (VX ids are 16 bits).
    #[error("request id {0} does not fit the 16-bit request id of the VX profile")]
    RequestIdTooLarge(u32),
}

impl ProtocolError {
    /// Whether the byte stream is unusable after this error (the connection
    /// must be closed). A CRC mismatch is not fatal: the bad frame was
    /// skipped whole.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ProtocolError::CrcMismatch { .. })
    }
}

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on the socket.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that break the protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// Nobody listens at the address (connection refused).
    #[error("connection refused by {0}")]
    ConnectionRefused(SocketAddr),
    /// The address could not be resolved or reached.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address as given.
        addr: String,
        /// What went wrong.
        source: io::Error,
    },
    /// A host name resolved to no address.
    #[error("{0} resolves to no address")]
    NoAddress(String),
    /// An operation did not finish within its deadline.
    #[error("{what} timed out after {}", humanize(*.after))]
    Timeout {
        /// What was waited for ("handshake", "reply", "connect", ...).
        what: &'static str,
        /// How long was waited.
        after: Duration,
    },
    /// The connection is closed (by the peer, by us, or by a fault).
    #[error("connection closed{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
    /// The per-connection outbound queue is full: the peer does not read
    /// fast enough.
    #[error("outbound queue full ({queued} bytes queued, limit {limit})")]
    QueueFull {
        /// Bytes waiting to be written.
        queued: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The handshake failed: the peer sent no valid HELLO, or a version we
    /// do not speak.
    #[error("handshake failed: {0}")]
    Handshake(Box<ProtocolError>),
    /// The server refused the connection (for example: too many clients).
    #[error("server refused the connection: {0}")]
    Refused(String),
    /// No client with this id is connected.
    #[error("no client with id {0}")]
    NoSuchClient(u64),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A message we were asked to send is larger than `max_message_size`
    /// (header included): it was not sent, since a peer with the same
    /// limit would close the connection on it.
    #[error("message of {size} bytes (header included) exceeds max_message_size ({limit} bytes); not sent")]
    MessageTooLarge {
        /// The frame's size, header included.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The server could not listen on its address (in use, not ours, no
    /// permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address as given.
        addr: String,
        /// What went wrong.
        source: io::Error,
    },
    /// Every request id of the profile is taken by a request still
    /// waiting (VX: 32,768 per side).
    #[error("no free request id: every id is taken by a request still waiting")]
    IdsExhausted,
    /// `send_and_wait` or `ping` was called from a callback that runs on
    /// the reading thread (`max_workers` 0), which is the thread that would
    /// have to read the reply.
    #[error("cannot wait for a reply inside a callback run by the reading thread (max_workers 0)")]
    InlineCallback,
    /// The handshake timed out and the server sent not one byte: it is
    /// down, or it is a TLS port waiting for the client to speak first.
    #[error("handshake timed out after {}: the server sent nothing (if it is a TLS port, use --tls)", humanize(*.after))]
    SilentServer {
        /// How long was waited.
        after: Duration,
    },
    /// TLS: a certificate that is not trusted, a wrong pin, a peer that
    /// does not speak TLS (or does), a TLS setting that cannot work.
    #[error("{0}")]
    Tls(Box<TlsError>),
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Error {
        Error::Tls(Box::new(e))
    }
}

/// What went wrong with TLS, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate does not verify against the trusted roots
    /// (self-signed, unknown CA, expired, another name). Its fingerprint
    /// is given so that the user can pin it, never trusted silently.
    #[error("the server's certificate is not trusted: {reason}. Its SHA-256 fingerprint is {fingerprint}; if this is your server, trust exactly this certificate with --pin {fingerprint}")]
    Untrusted {
        /// Why the verification failed.
        reason: String,
        /// The certificate the server presented.
        fingerprint: Fingerprint,
    },
    /// The server presented another certificate than the pinned one.
    #[error("the server's certificate is not the pinned one: expected {expected}, got {got} (a new certificate, or someone in the middle)")]
    PinMismatch {
        /// The pin.
        expected: Fingerprint,
        /// The certificate the server presented.
        got: Fingerprint,
    },
    /// A TLS client reached a server that speaks plain veltix.
    #[error("the server speaks plain veltix (the {wire} wire), not TLS: drop --tls")]
    PlainServer {
        /// The wire profile its first bytes show (`1.6` or `vx`).
        wire: &'static str,
    },
    /// A TLS client got something else than TLS back.
    #[error("the server's answer is not TLS (first bytes {first}): is this a TLS port?")]
    NotTls {
        /// Its first bytes, in hex.
        first: String,
    },
    /// The server closed the connection during the TLS handshake.
    #[error("the server closed the connection during the TLS handshake (not a TLS port, or it refused us)")]
    Closed,
    /// A plain client reached a TLS server.
    #[error("the server answered with TLS: it is a TLS port; use --tls")]
    TlsServer,
    /// The server ended the handshake with an alert.
    #[error("the server refused the TLS handshake: {0}")]
    Refused(String),
    /// Any other handshake failure.
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// A certificate, key or CA file that cannot be read or used.
    #[error("{origin}: {reason}")]
    Pem {
        /// The file (or what the bytes are).
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A private key that is not the certificate's.
    #[error("the private key ({key}) does not match the certificate ({cert})")]
    KeyMismatch {
        /// Where the certificate came from.
        cert: String,
        /// Where the key came from.
        key: String,
    },
    /// A setting that cannot work (no roots, a bad server name, ...).
    #[error("TLS configuration: {0}")]
    Config(String),
}

impl TlsError {
    /// Whether this is a fault of our own settings rather than of the
    /// connection.
    pub fn is_config(&self) -> bool {
        matches!(self, TlsError::Pem { .. } | TlsError::KeyMismatch { .. } | TlsError::Config(_))
    }
}

impl Error {
    /// True for errors that mean the connection could not be established
    /// (refused, unreachable, handshake failure, version mismatch, a server
    /// that said nothing, a TLS handshake that failed; a handshake that
    /// timed out after some bytes is [`Error::Timeout`] with `what:
    /// "handshake"`).
    pub fn is_connect_failure(&self) -> bool {
        matches!(
            self,
            Error::ConnectionRefused(_)
                | Error::Connect { .. }
                | Error::NoAddress(_)
                | Error::Refused(_)
                | Error::Handshake(_)
                | Error::SilentServer { .. }
        ) || matches!(self, Error::Tls(t) if !t.is_config())
    }
}

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

fn humanize(d: Duration) -> String {
    if d.as_secs() >= 1 && d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stay_small() {
        // Results travel through every hot call; keep them a few words wide.
        assert!(std::mem::size_of::<Error>() <= 48, "{}", std::mem::size_of::<Error>());
    }

    #[test]
    fn crc_mismatch_is_not_fatal_but_oversize_is() {
        assert!(!ProtocolError::CrcMismatch { stated: 1, computed: 2 }.is_fatal());
        let e = ProtocolError::FrameTooLarge { size: 1 << 32, payload: u32::MAX, max_size: 10 };
        assert!(e.is_fatal());
        assert!(e.to_string().contains("exceeds the limit of 10 bytes"));
    }
}

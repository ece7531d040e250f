//! # veltix
//!
//! A synchronous Rust implementation of the Veltix TCP messaging protocol,
//! wire-compatible with both generations of the Python reference:
//! `veltix==1.6.3` and the "VX" wire of veltix 2.0.3 to 3.3.x.
//!
//! The crate is built in layers; each module imports only the layers
//! below it (a check in CI keeps it so):
//!
//! | layer | module | what lives there |
//! |---|---|---|
//! | 0 | [`error`], [`types`], `sync`, `fingerprint` | the [`Error`], [`ProtocolError`], [`TlsError`] and [`EndReason`] types; system type codes and the [`TypeRegistry`]; locking helpers; a certificate's [`Fingerprint`] |
//! | 1 | [`codec`] ([`frame`], [`decoder`], [`vx`]) | both wire profiles ([`Wire`]): the 1.6.3 header and the VX header and handshake messages, [`Frame`], the one header builder and the one CRC check; incremental decoding |
//! | 2 | [`handshake`] | HELLO / HELLO_ACK payloads and the version rule |
//! | 3 | [`config`], `dispatch` | settings and presets; the callback pool |
//! | 4 | `session` | the protocol session, without I/O: either profile's handshake (and detecting the profile), PING → PONG, heartbeat, dead peers, request completion (`session::requests`) |
//! | 4½ | `tls` (feature `tls`) | rustls configurations and certificate verifiers (pin, the fingerprint of a refused certificate), the client's TLS handshake, one connection's TLS state (sealing what it sends, opening what it reads) |
//! | 5 | `net`, `conn` | socket system calls; one connection's state, its bounded outbound queue, and the [`Peer`] and [`ServerHandle`] handles |
//! | 6 | `core` | the socket cores (`threads`, `poll`): they move bytes and drive the session |
//! | 7 | [`server`], [`client`] | [`Server`] and [`Client`] with their callbacks, routes, tags, broadcast, reconnection |
//!
//! Beside them: [`inspect`] (hex text and pcap captures to bytes, for
//! inspectors), [`limits`] (process limits) and [`logging`] (the
//! SUCCESS/CRITICAL conventions on top of the `log` facade). See
//! `docs/ARCHITECTURE.md` for the path of one message.
//!
//! ```
//! use veltix::{Frame, RequestId, Decoder};
//!
//! let frame = Frame::new(200, RequestId::from(1), b"Hello".to_vec());
//! let bytes = frame.encode()?;
//! let mut decoder = Decoder::default();
//! decoder.push(&bytes[..5]);
//! assert!(decoder.next_frame()?.is_none());
//! decoder.push(&bytes[5..]);
//! assert_eq!(decoder.next_frame()?, Some(frame));
//! # Ok::<(), veltix::ProtocolError>(())
//! ```
#![deny(missing_docs)]

pub mod client;
pub mod codec;
pub mod config;
mod conn;
mod core;
mod dispatch;
pub mod error;
mod fingerprint;
mod handlers;
pub mod handshake;
pub mod inspect;
pub mod limits;
pub mod logging;
mod net;
pub mod server;
mod session;
mod sync;
#[cfg(feature = "tls")]
mod tls;
pub mod types;

pub use codec::{decoder, frame, vx, Class, Wire};

pub use client::{Client, ClientBuilder, DisconnectReason, DisconnectState};
pub use config::{
    BufferSize, ClientConfig, ConnConfig, CoreKind, PerformanceMode, ServerConfig, WireMode,
};
#[cfg(feature = "tls")]
pub use config::{ClientTls, Pem, ServerTls, Trust};
pub use conn::{ConnStats, Peer, Pipeline};
pub use decoder::{Decoder, FrameReader, FrameRef, RawFrame};
pub use error::{EndKind, EndReason, Error, Fingerprint, ProtocolError, Result, TlsError};
pub use frame::{Frame, Header, RequestId, DEFAULT_MAX_MESSAGE_SIZE, HEADER_LEN};
pub use handlers::{ConnectFn, MessageFn};
pub use handshake::PROTOCOL_VERSION;
pub use server::{
    Broadcast, HandshakeFailures, Server, ServerBuilder, ServerHandle, ServerMetrics, ServerStats,
};
#[cfg(feature = "tls")]
pub use tls::TlsInfo;
pub use types::TypeRegistry;

#[doc(hidden)]
pub use session::fuzz_session;

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

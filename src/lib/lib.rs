//! # veltix
//!
//! A synchronous Rust implementation of the Veltix TCP messaging protocol,
//! wire-compatible with the Python reference `veltix==1.6.3`.
//!
//! The crate is organised like the protocol:
//!
//! | module | what lives there |
//! |---|---|
//! | [`frame`] | the 22-byte header, [`Frame`], CRC32, encoding |
//! | [`decoder`] | incremental decoding of a byte stream into frames |
//! | [`types`] | system type codes and the code ↔ name [`TypeRegistry`] |
//! | [`handshake`] | HELLO / HELLO_ACK payloads and the version rule |
//! | [`error`] | the [`Error`] and [`ProtocolError`] enums |
//! | [`config`] | server and client settings, performance and buffer presets |
//! | [`server`] | [`Server`]: accept, handshake, routes, broadcast, tags |
//! | [`client`] | [`Client`]: connect, send_and_wait, ping, auto-reconnect |
//! | [`logging`] | a logger for the `log` facade with the reference's levels |
//! | [`inspect`] | inspector inputs: hex text and pcap/pcapng captures to bytes |
//!
//! Internally, `conn` holds one connection's state and its bounded
//! outbound queue, `correlation` the pending request ids, `dispatch` the
//! callback pool with per-connection ordering, and `core` the socket cores
//! that move bytes (`threads`: a reader thread per connection).
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
pub mod config;
mod conn;
mod core;
mod correlation;
pub mod decoder;
mod dispatch;
pub mod error;
pub mod frame;
mod handlers;
pub mod handshake;
pub mod inspect;
pub mod limits;
pub mod logging;
pub mod server;
pub mod types;
#[doc(hidden)]
pub mod vx;

pub use client::{Client, ClientBuilder, DisconnectReason, DisconnectState};
pub use config::{BufferSize, ClientConfig, ConnConfig, CoreKind, PerformanceMode, ServerConfig};
pub use conn::{ConnStats, Peer};
pub use core::{EndKind, EndReason};
pub use decoder::{Decoder, FrameReader, FrameRef, RawFrame};
pub use error::{Error, ProtocolError, Result};
pub use frame::{Frame, Header, RequestId, DEFAULT_MAX_MESSAGE_SIZE, HEADER_LEN};
pub use handlers::{ConnectFn, MessageFn};
pub use handshake::PROTOCOL_VERSION;
pub use server::{Server, ServerBuilder, ServerHandle, ServerStats};
pub use types::TypeRegistry;

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

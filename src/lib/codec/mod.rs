//! The codec: bytes to frames and back, with nothing of connections.
//!
//! | module | what lives there |
//! |---|---|
//! | [`frame`] | the 22-byte header, [`Frame`](frame::Frame), the one header builder ([`Header::for_payload`](frame::Header::for_payload)) and the one CRC check ([`Header::verify`](frame::Header::verify)) |
//! | [`decoder`] | incremental decoding of a byte stream into frames |
//!
//! This layer imports only errors and [`crate::sync`].

pub mod decoder;
pub mod frame;

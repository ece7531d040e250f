//! Output helpers shared by the subcommands: colours, hexdumps, hex text,
//! JSON lines and UTC time stamps.
//!
//! Each helper takes what it needs as arguments (a writer, a [`Palette`],
//! a byte limit) and keeps no global state, so `decode`, `serve`,
//! `connect` and `request` can share them.

pub mod hex;
pub mod hexdump;
pub mod json;
pub mod message;
pub mod style;
pub mod time;

pub use style::{Palette, Role};

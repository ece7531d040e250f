//! Helpers shared by every integration-test crate. Each crate's `main.rs`
//! pulls the whole tree in the same way:
//!
//! ```ignore
//! #[path = "../common/mod.rs"]
//! mod common;
//! ```
//!
//! - [`golden`]: the reference's golden frames (the one loader);
//! - [`hex`]: hex text of test data (the one encoder and decoder);
//! - [`python`]: the references, Python veltix 1.6.3 and 3.3.0, each in a
//!   venv the tests provision themselves; [`python_vx`]: the 3.3.0 one's
//!   shortcuts; [`ref_peer`]: their scripts as a server or client driven
//!   by JSON commands;
//! - [`tls`]: test certificates (a CA, server and client certificates,
//!   a self-signed one) made with rcgen;
//! - [`bin`]: running the `veltix` binary and reading a child's output;
//! - [`wait_until`], [`data_path`], [`random_bytes`].
#![allow(dead_code)] // each test crate uses a different part of this tree

pub mod bin;
pub mod golden;
pub mod hex;
pub mod python;
pub mod python_vx;
pub mod ref_peer;
pub mod tls;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A file under `tests/data/`.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// How long a helper waits for something that should happen at once;
/// only a bound for failing, never a measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Waits until `cond` holds, polling every 5 ms; fails the test when it
/// does not within [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Bytes that look random (xorshift), reproducible from the seed.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

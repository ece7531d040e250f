//! Interoperability with the real veltix 3.3.0 on the VX wire, over TCP on
//! loopback, both ways:
//!
//! - [`rust_server`]: a Rust [`veltix::Server`] speaking VX with 3.3.0
//!   clients (`tests/py/vx_client.py`);
//! - [`rust_client`]: Rust [`veltix::Client`]s (profile detected, or VX
//!   chosen) with a 3.3.0 server (`tests/py/vx_server.py`);
//! - [`cli`]: the `veltix` binary against a 3.3.0 server, and 3.3.0
//!   clients against `veltix serve --wire vx` in every mode.
//!
//! The library tests run once per socket core (`threads::NAME` and
//! `poll::NAME`). The scripts drive 3.3.0's own `Client`, `Server`,
//! `send_and_wait`, `ping_*`, routes and broadcast with one JSON command
//! per line; their venv (`target/veltix-py-venv-3.3.0`) is provisioned by
//! the tests (`tests/common/python.rs`). 3.3.0 drops frames of type codes
//! it did not register, so the scripts get `--register` (or a route) for
//! every application type they receive.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod rust_client;
mod rust_server;

use std::sync::mpsc::Receiver;
use std::time::Duration;

use serde_json::Value;

pub use common::random_bytes;

/// Timeout of every request, ping and wait.
pub const T: Duration = Duration::from_secs(5);

/// Payload sizes that must survive the trip intact, CRC checked by both.
pub const SIZES: [usize; 5] = [0, 1, 1000, 64 * 1024, 1024 * 1024];

/// Type codes the tests use (3.3.0 user types start at 200).
pub const ECHO: u16 = 200;
pub const ASK: u16 = 201;
pub const NEWS: u16 = 202;
pub const ROUTED: u16 = 300;

/// The next item from a callback's channel, within [`T`].
pub fn next<X>(rx: &Receiver<X>, what: &str) -> X {
    rx.recv_timeout(T).unwrap_or_else(|e| panic!("{what}: nothing within {T:?} ({e})"))
}

/// An integer field of a script's result (3.3.0 request ids are numbers).
pub fn num(v: &Value, name: &str) -> u64 {
    v[name].as_u64().unwrap_or_else(|| panic!("no integer {name:?} in {v}"))
}

/// A latency a script measured: present and under [`T`].
pub fn assert_latency(r: &Value) {
    let ms = r["latency_ms"].as_f64().unwrap_or_else(|| panic!("latency: {r}"));
    assert!((0.0..5_000.0).contains(&ms), "{r}");
}

/// Makes a test of each listed case of `$module` in `$module::threads`
/// and `$module::poll`, run on that socket core.
#[macro_export]
macro_rules! on_both_cores {
    ($($case:ident),* $(,)?) => {
        mod threads {
            $(#[test] fn $case() { super::$case(veltix::CoreKind::Threads) })*
        }
        mod poll {
            $(#[test] fn $case() { super::$case(veltix::CoreKind::Poll) })*
        }
    };
}

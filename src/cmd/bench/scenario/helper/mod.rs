//! The helper process: clients that live outside the bench process, so
//! that the bench process's RSS is the server's alone.
//!
//! The parent re-executes its own binary as `veltix bench-helper --addr
//! HOST:PORT --clients N [connection flags]` and talks to it in lines:
//!
//! | parent → helper (stdin) | helper → parent (stdout) |
//! |---|---|
//! | (start) | `ready N` once N clients completed their handshake |
//! | `open K` | `ready TOTAL` after K more clients |
//! | `fps RATE_HZ DURATION_MS` | `result {json}`: an FPS simulation over all clients |
//! | `raw-open N [SOURCES]` | `ready TOTAL` after N more raw idle connections (see `idle`), from the `--conn-sources` range SOURCES round robin if given |
//! | `raw-ping K TIMEOUT_MS` | `pings {json}`: K of the raw connections pinged |
//! | `close` | `closed` after every client disconnected; then it exits |
//!
//! Any failure is one `error MESSAGE` line, then exit status 1. End of
//! stdin (the parent died) disconnects the clients and exits.
//!
//! `handle` is the parent's side, `process` the helper's; `game` is the
//! FPS tick loop the helper runs, `idle` its raw idle connections and
//! `sources` the addresses they may connect from.

mod game;
mod handle;
mod idle;
mod process;
mod sources;

pub use game::Sim;
pub use handle::{connect_timeout, Helper};
pub use idle::Pings;
pub use process::{serve, HelperArgs};
pub use sources::Sources;

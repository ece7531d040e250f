//! The scenarios, one file each, and what they share: `endpoint` is what
//! they talk to (the in-process server or `--target`), `raw` the raw-TCP
//! baseline and `bulk` the bulk-TCP one (`release` starts concurrent
//! senders together), `helper` the client process of the memory, FPS and
//! connections scenarios, `progress` the bars on stderr.
//!
//! A scenario returns its figures as a `model` run; it never prints them.

mod bulk;
pub mod burst;
pub mod connections;
pub mod endpoint;
pub mod fps;
pub mod helper;
pub mod latency;
pub mod load;
pub mod memory;
mod placement;
mod progress;
mod raw;
mod release;
pub mod stress;

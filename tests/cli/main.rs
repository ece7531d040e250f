//! End-to-end tests of the `veltix` binary, one module per subcommand.

#[path = "../common/mod.rs"]
mod common;

mod bench;
mod completions;
mod connect;
mod decode;
mod encode;
mod interop;
mod limits;
mod load;
mod logging;
mod metrics;
mod ping;
mod request;
mod serve;
mod shutdown;
mod tls;
mod util;

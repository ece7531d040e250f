//! End-to-end tests of the `veltix` binary, one module per subcommand.
mod decode;
mod encode;
mod util;

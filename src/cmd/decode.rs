//! `veltix decode`: the frame inspector.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix decode`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `veltix decode`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("decode: not written yet")
}

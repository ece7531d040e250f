//! `veltix encode`: write one frame.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix encode`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `veltix encode`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("encode: not written yet")
}

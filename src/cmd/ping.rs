//! `veltix ping`.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix ping`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `veltix ping`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("ping: not written yet")
}

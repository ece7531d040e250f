//! `veltix serve`.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `veltix serve`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("serve: not written yet")
}

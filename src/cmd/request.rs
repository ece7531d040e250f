//! `veltix request`.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix request`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `veltix request`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("request: not written yet")
}

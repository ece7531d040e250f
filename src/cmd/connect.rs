//! `veltix connect`.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix connect`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `veltix connect`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("connect: not written yet")
}

//! `veltix bench`.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Options of `veltix bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Options of the hidden client-side helper process.
#[derive(Debug, clap::Args)]
pub struct HelperArgs {}

/// Runs `veltix bench`.
pub fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("bench: not written yet")
}

/// Runs the helper process.
pub fn run_helper(_args: HelperArgs, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("bench helper: not written yet")
}

//! `veltix man`: the man page in roff (clap_mangen).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

/// Write the man page (roff) to stdout.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  veltix man | man -l -
  veltix man > /usr/local/share/man/man1/veltix.1")]
pub struct Args {}

/// Runs `veltix man`; `cli` is the whole command line to describe.
pub fn run(_args: Args, cli: clap::Command) -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cli).render(&mut out).context("cannot render the man page")?;
    std::io::stdout().lock().write_all(&out).context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

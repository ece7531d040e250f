//! `veltix completions SHELL`: shell completion scripts (clap_complete).

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Options of `veltix completions`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  veltix completions bash > /etc/bash_completion.d/veltix
  veltix completions zsh > \"${fpath[1]}/_veltix\"
  veltix completions fish > ~/.config/fish/completions/veltix.fish

The same scripts are in the completions/ folder of the source tree.")]
pub struct Args {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// Writes the script for `shell` into `out`.
pub fn generate(shell: Shell, out: &mut dyn std::io::Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "veltix", out);
}

/// Runs `veltix completions`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    generate(args.shell, &mut std::io::stdout().lock());
    Ok(ExitCode::SUCCESS)
}

//! `veltix completions SHELL`: shell completion scripts (clap_complete).

use std::process::ExitCode;

use clap_complete::Shell;

/// Write a shell completion script to stdout.
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

/// Writes the script for `shell` and the whole command line `cli` into `out`.
pub fn generate(shell: Shell, cli: &mut clap::Command, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, cli, "veltix", out);
}

/// Runs `veltix completions`; `cli` is the whole command line to describe.
pub fn run(args: Args, mut cli: clap::Command) -> anyhow::Result<ExitCode> {
    generate(args.shell, &mut cli, &mut std::io::stdout().lock());
    Ok(ExitCode::SUCCESS)
}

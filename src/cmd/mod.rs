//! One module per subcommand, each with its clap `Args` and its `run`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::Cli;

pub mod decode;
pub mod encode;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect Veltix frames in a file, hex text or a pcap capture.
    Decode(decode::Args),
    /// Write one Veltix frame to stdout.
    Encode(encode::Args),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    cli.global.log.install(cli.global.color.for_stderr())?;
    match cli.command {
        Command::Decode(args) => decode::run(args, &cli.global),
        Command::Encode(args) => encode::run(args, &cli.global),
    }
}

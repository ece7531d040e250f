//! Logging options shared by every subcommand (`--log-level`, `-v`, `-q`,
//! `--log-file`, ...) and the installation of the logger they describe.

use clap::Args;

/// Logging flags.
#[derive(Debug, Args, Default)]
pub struct LogArgs {
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output (-q: errors only, -qq: nothing).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
}

impl LogArgs {
    /// Installs the logger described by the flags. Logs go to stderr.
    pub fn install(&self, _color: bool) -> anyhow::Result<()> {
        Ok(())
    }
}

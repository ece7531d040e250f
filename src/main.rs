//! The `veltix` command-line tool.

mod args;
mod cli;
mod cmd;
mod log_args;
mod logging;
mod output;
mod tls_args;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    veltix::limits::raise_open_file_limit();
    veltix::limits::release_large_buffers();
    let cli = cli::Cli::parse();
    let color = cli.global.color.for_stderr();
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => cli::report_error(&err, color),
    }
}

//! The `veltix` command-line tool.

mod alloc;
mod args;
mod cli;
mod cmd;
mod log_args;
mod logging;
mod math;
mod output;
mod tls_args;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc for small blocks, glibc for large ones (see `alloc`).
#[global_allocator]
static GLOBAL: alloc::Hybrid = alloc::Hybrid;

fn main() -> ExitCode {
    veltix::limits::raise_open_file_limit();
    // glibc maps the large blocks it serves (see `alloc`) on their own.
    veltix::limits::release_large_buffers();
    let cli = cli::Cli::parse();
    let color = cli.global.color.for_stderr();
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => cli::report_error(&err, color),
    }
}

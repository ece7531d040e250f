//! The `veltix` command-line tool.

mod cli;
mod cmd;
mod log_args;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    raise_open_file_limit();
    let cli = cli::Cli::parse();
    let color = cli.global.color.for_stderr();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => cli::report_error(&err, color),
    }
}

/// Raises the soft limit on open files to the hard limit, so a server (or
/// `bench`) can hold thousands of connections without tuning the shell.
fn raise_open_file_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

//! `veltix connect`: talk to a server, interactively or as a pipe.
//!
//! The mode follows stdin: a terminal gets the REPL ([`repl`], on a
//! rustyline editor), anything else is sent record by record like netcat
//! ([`pipe`]). Both build the same client from [`Args`] and report the
//! connection's ups and downs through a `Link`.

mod commands;
mod editor;
mod link;
mod pipe;
mod repl;
mod show;

pub use link::Args;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use crate::args::GlobalArgs;

/// Runs `veltix connect`.
pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    quiet_connection_warnings(global);
    let registry = global.types.registry()?;
    let type_code = registry
        .resolve(&args.type_code)
        .with_context(|| format!("in --type {}", args.type_code))?;
    if std::io::stdin().is_terminal() {
        repl::run(&args, registry, type_code, global.color)
    } else {
        pipe::run(&args, registry, type_code)
    }
}

/// connect prints its own news about the connection (lost, reconnecting,
/// reconnected); the library's warnings about the same events would say
/// everything twice, and in the REPL would write over the line being
/// typed. So unless the user asked for logs, only errors are logged.
fn quiet_connection_warnings(global: &GlobalArgs) {
    let log = &global.log;
    if log.log_level.is_none() && log.verbose == 0 && log.quiet == 0 && log.log_file.is_none() {
        log::set_max_level(log::LevelFilter::Error);
    }
}

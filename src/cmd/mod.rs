//! One module per subcommand, each with its clap `Args` and its `run`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::Cli;

pub mod bench;
pub mod completions;
pub mod connect;
pub mod decode;
pub mod encode;
pub mod man;
pub mod ping;
pub mod request;
pub mod serve;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a server: log, echo, broadcast, count or exec each message.
    Serve(serve::Args),
    /// Talk to a server: an interactive REPL, or netcat-like pipe mode.
    Connect(connect::Args),
    /// Send one request and print the correlated reply.
    Request(request::Args),
    /// Measure round trips to a server, like ping(8).
    Ping(ping::Args),
    /// Benchmark: memory, latency, fps, burst and stress, with a raw-TCP baseline.
    Bench(bench::Args),
    /// Inspect Veltix frames in a file, hex text or a pcap capture.
    Decode(decode::Args),
    /// Write one Veltix frame to stdout.
    Encode(encode::Args),
    /// Write a shell completion script to stdout.
    Completions(completions::Args),
    /// Write the man page (roff) to stdout.
    Man(man::Args),
    /// Internal: the client side of `bench`, run in a separate process.
    #[command(hide = true)]
    BenchHelper(bench::HelperArgs),
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    use crate::logging::Level;
    let default_level = match cli.command {
        Command::Serve(_) => Level::Info,
        _ => crate::log_args::DEFAULT_LEVEL,
    };
    cli.global.log.install_with_default(cli.global.color.for_stderr(), default_level)?;
    match cli.command {
        Command::Serve(args) => serve::run(args, &cli.global),
        Command::Connect(args) => connect::run(args, &cli.global),
        Command::Request(args) => request::run(args, &cli.global),
        Command::Ping(args) => ping::run(args, &cli.global),
        Command::Bench(args) => bench::run(args, &cli.global),
        Command::BenchHelper(args) => bench::run_helper(args, &cli.global),
        Command::Decode(args) => decode::run(args, &cli.global),
        Command::Encode(args) => encode::run(args, &cli.global),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}

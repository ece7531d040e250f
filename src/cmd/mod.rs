//! One module per subcommand, each with its clap `Args` and its `run`.

use clap::Subcommand;

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

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

/// The subcommands. Each one's arguments are defined only when it runs
/// (`defer`): `serve` does not build `bench`'s 200 options, and their code
/// stays out of an idle server's memory.
///
/// A deferred subcommand takes its about line from its `Args` struct's doc
/// comment, applied last (after the flattened groups' own), while the
/// listing of subcommands takes the variant's: the two say the same, and a
/// test holds them to it.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn a_subcommand_says_the_same_about_itself_as_the_listing() {
        // Unbuilt, each subcommand has the variant's about (the listing in
        // `veltix --help`); built (`veltix serve --help`, the man pages),
        // its `Args` struct's.
        let listing = crate::cli::Cli::command();
        let mut built = crate::cli::Cli::command();
        built.build();
        for sub in listing.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name();
            let own =
                built.find_subcommand(name).and_then(|s| s.get_about()).map(|a| a.to_string());
            let listed = sub.get_about().map(|a| a.to_string());
            assert!(listed.is_some(), "{name} has no about line");
            assert_eq!(own, listed, "{name}");
        }
    }
}

//! The top of the command line: the `Cli` struct, the dispatch to the
//! subcommands and error reporting. Shared argument types live below, in
//! [`crate::args`]; the subcommands in [`crate::cmd`].

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::args::GlobalArgs;
use crate::args::{exit_code_for, EXIT_CODES_HELP};
use crate::cmd::{self, Command};
use crate::output::{Palette, Role};

/// Veltix: inspect, serve, talk to and benchmark Veltix TCP peers.
///
/// Speaks both wire generations of the Python reference byte for byte:
/// veltix 1.6.3 and the VX wire of veltix 2.0.3 to 3.3.x (--wire; clients
/// detect which one a server speaks).
#[derive(Debug, Parser)]
#[command(name = "veltix", version, propagate_version = true, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
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
        Command::Serve(args) => cmd::serve::run(args, &cli.global),
        Command::Connect(args) => cmd::connect::run(args, &cli.global),
        Command::Request(args) => cmd::request::run(args, &cli.global),
        Command::Ping(args) => cmd::ping::run(args, &cli.global),
        Command::Bench(args) => cmd::bench::run(args, &cli.global),
        Command::BenchHelper(args) => cmd::bench::run_helper(args, &cli.global),
        Command::Decode(args) => cmd::decode::run(args, &cli.global),
        Command::Encode(args) => cmd::encode::run(args, &cli.global),
        Command::Completions(args) => cmd::completions::run(args, Cli::command()),
        Command::Man(args) => cmd::man::run(args, Cli::command()),
    }
}

/// Prints an error with its context chain on stderr and picks the exit code.
pub fn report_error(err: &anyhow::Error, red: bool) -> ExitCode {
    let mut msg = format!("{} {err}", Palette::new(red).paint(Role::Bad, "error:"));
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
    ExitCode::from(exit_code_for(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every subcommand's options that take a value: (subcommand, --flag).
    fn valued_flags() -> Vec<(String, String)> {
        let cli = Cli::command();
        let mut out = Vec::new();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments().chain(cli.get_arguments()) {
                if let (Some(long), true) = (arg.get_long(), arg.get_action().takes_values()) {
                    out.push((sub.get_name().to_string(), format!("--{long}")));
                }
            }
        }
        out
    }

    /// Parses `veltix SUB FLAG VALUE`; a panic fails the test, any clap
    /// result (Ok or a usage error) is fine.
    fn parses_without_panic(sub: &str, flag: &str, value: &str) {
        let argv = ["veltix", sub, flag, value];
        let r = std::panic::catch_unwind(|| Cli::try_parse_from(argv).map(|_| ()));
        assert!(r.is_ok(), "{argv:?} panicked");
    }

    const NASTY: &[&str] = &[
        "99999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "1e19",
        "1e308",
        "-1",
        "-0",
        "inf",
        "NaN",
        "0",
        "",
        "99999999999999999999s",
        "18446744073709551615ms",
        "9999999999999999999G",
        "17179869184G",
        "4G",
        "1e19s",
        "0.0000000001",
    ];

    #[test]
    fn no_value_of_any_option_panics() {
        let flags = valued_flags();
        assert!(flags.len() > 50, "{flags:?}");
        for (sub, flag) in &flags {
            for value in NASTY {
                parses_without_panic(sub, flag, value);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn no_generated_value_panics(
            pick in 0usize..10_000,
            value in "-?[0-9]{0,25}(\\.[0-9]{0,12})?(e[0-9]{1,3})?( ?(ns|us|ms|s|m|h|d|w|y|K|M|G|KiB|MiB|GiB|b))?",
        ) {
            let flags = valued_flags();
            let (sub, flag) = &flags[pick % flags.len()];
            parses_without_panic(sub, flag, &value);
        }
    }

    /// Values clap accepts for durations stay within what deadlines take.
    #[test]
    fn accepted_durations_are_at_most_a_year() {
        for v in ["365d", "1y", "31536000", "8760h"] {
            let r = Cli::try_parse_from(["veltix", "ping", "h:1", "-W", v]);
            match r {
                Ok(cli) => match cli.command {
                    Command::Ping(a) => assert!(a.timeout <= crate::args::MAX_DURATION, "{v}"),
                    _ => unreachable!(),
                },
                Err(e) => assert_eq!(e.exit_code(), 2, "{v}: {e}"),
            }
        }
    }
}

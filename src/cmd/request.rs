//! `veltix request`: send a message and print the correlated reply.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use veltix::Client;

use crate::args::{parse_addr, parse_duration, too_large, ConnArgs, GlobalArgs, PayloadArgs};
use crate::output::json::write_line;
use crate::output::message::{is_printable, write_message_text, MessageRecord};
use crate::output::Palette;

/// Send one request and print the correlated reply.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
The reply's payload goes to stdout: raw bytes when stdout is a pipe or a
file, readable text (or a hexdump for binary) on a terminal. With --json,
one NDJSON record per reply carries the metadata and the rtt.

Examples:
  veltix request localhost:8080 'hello'
  veltix request localhost:8080 --type chat --type-name 200=chat 'hi there'
  veltix request localhost:8080 @query.json --timeout 2s > reply.bin
  echo -n ping | veltix request [::1]:8080 -
  veltix request localhost:8080 --hex 'de ad be ef' --json
  veltix request localhost:8080 'x' --count 100 --json | jq .rtt_us

A payload larger than --max-message-size allows is refused before
connecting (exit 2), after reading at most one byte more than the limit.

Exit codes: 0 reply received, 2 usage error (also a payload over the
limit), 3 cannot connect, 4 no reply within --timeout, 5 the peer
answered with an ERROR frame or broke the protocol.")]
pub struct Args {
    /// The server, as HOST:PORT ([::1]:8080 for IPv6).
    #[arg(value_name = "HOST:PORT", value_parser = parse_addr)]
    pub addr: String,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// Message type: a code (200, 0xc8) or a known name.
    #[arg(short, long = "type", default_value = "200", value_name = "TYPE")]
    pub type_: String,
    /// How long to wait for each reply.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,
    /// Send the request this many times over one connection, one after the other.
    #[arg(short = 'n', long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// Print one NDJSON record per reply (metadata, payload, rtt_us).
    #[arg(long)]
    pub json: bool,
    /// On a terminal, dump at most this many bytes of a binary reply (0: all).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_bytes: usize,
    /// Time allowed for the TCP connect.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DUR")]
    pub connect_timeout: Duration,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// Runs `veltix request`.
pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let types = global.types.registry()?;
    let type_code =
        types.resolve(&args.type_).with_context(|| format!("in --type {}", args.type_))?;
    let max = args.conn.max_message_size;
    let payload = args.payload.read(args.conn.max_payload(), || too_large("the payload", max))?;
    let cfg = args.conn.client_config(&args.addr)?.connect_timeout(args.connect_timeout);
    let client =
        Client::connect(cfg).with_context(|| format!("cannot connect to {}", args.addr))?;
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let palette = Palette::new(global.color.for_stdout());
    let mut out = stdout.lock();
    for i in 0..args.count {
        let start = Instant::now();
        let reply = client
            .send_and_wait(type_code, &payload, args.timeout)
            .with_context(|| format!("request {} of {} to {}", i + 1, args.count, args.addr))?;
        let rtt = start.elapsed();
        let written = if args.json {
            let mut rec = MessageRecord::new(&reply, &types, client.peer().map(|p| p.addr()), None);
            rec.rtt_us = Some(rtt.as_micros() as u64);
            write_line(&mut out, &rec)
        } else if tty {
            if is_printable(&reply.payload) && args.count == 1 {
                // Just the text, as a person would want it.
                out.write_all(&reply.payload).and_then(|()| {
                    if reply.payload.ends_with(b"\n") {
                        Ok(())
                    } else {
                        out.write_all(b"\n")
                    }
                })
            } else {
                write_message_text(
                    &mut out,
                    &reply,
                    &types,
                    None,
                    Some(rtt),
                    args.max_bytes,
                    palette,
                )
            }
        } else {
            out.write_all(&reply.payload)
        };
        if let Err(e) = written.and_then(|()| out.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                break;
            }
            return Err(e).context("cannot write to stdout");
        }
        if !args.json {
            log::info!("reply {} B in {:.3} ms", reply.payload.len(), rtt.as_secs_f64() * 1e3);
        }
    }
    client.disconnect();
    Ok(ExitCode::SUCCESS)
}

//! The helper process itself (`veltix bench-helper`): Veltix clients, an
//! FPS tick loop over them, and raw idle connections, driven by the
//! commands the parent writes on stdin (see `helper`).

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use veltix::Client;

use super::game;
use super::idle::Pool;
use super::sources::Sources;
use crate::args::{parse_addr, parse_duration, ConnArgs};
use crate::cmd::bench::scenario::endpoint::Arrivals;

/// Options of the hidden client-side helper process (see `helper`).
#[derive(Debug, clap::Args)]
pub struct HelperArgs {
    /// Server to connect the clients to.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_addr)]
    pub addr: String,
    /// Clients to open at start.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub clients: u32,
    /// Count the messages the server sends back (for --target).
    #[arg(long)]
    pub count_echoes: bool,
    /// Stop waiting for echoes after this long without one.
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// The helper's side: runs until `close` or the end of stdin.
pub fn serve(args: HelperArgs) -> anyhow::Result<ExitCode> {
    match serve_inner(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            println!("error {}", format!("{e:#}").replace('\n', " "));
            Ok(ExitCode::from(crate::args::exit::ERROR))
        }
    }
}

fn serve_inner(args: &HelperArgs) -> anyhow::Result<()> {
    let echoes = Arrivals::new(0);
    let mut clients: Vec<Client> = Vec::new();
    let open = |clients: &mut Vec<Client>, n: u32| -> anyhow::Result<()> {
        for _ in 0..n {
            let mut b = Client::builder(args.conn.client_config(&args.addr)?);
            if args.count_echoes {
                let e = echoes.clone();
                b = b.on_message(move |_, f| e.record(f.type_code));
            }
            clients.push(b.connect().with_context(|| format!("cannot connect to {}", args.addr))?);
        }
        Ok(())
    };
    open(&mut clients, args.clients)?;
    let mut pool: Option<Pool> = None;
    say(&format!("ready {}", clients.len()));
    for line in std::io::stdin().lock().lines() {
        let line = line.context("cannot read commands")?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["open", k] => {
                open(&mut clients, k.parse().with_context(|| format!("bad count in '{line}'"))?)?;
                say(&format!("ready {}", clients.len()));
            }
            ["fps", rate, ms] => {
                let rate: u32 = rate.parse().with_context(|| format!("bad rate in '{line}'"))?;
                let ms: u64 = ms.parse().with_context(|| format!("bad duration in '{line}'"))?;
                let (before, shoots_before) = (echoes.count(), echoes.shoots());
                let mut sim = game::simulate(&clients, rate, Duration::from_millis(ms));
                if args.count_echoes {
                    let target = before + sim.sent_move + sim.sent_shoot;
                    echoes.wait_for(target, args.drain_timeout, &ProgressBar::hidden());
                    sim.echoes = Some(echoes.count() - before);
                    sim.echo_shoots = Some(echoes.shoots() - shoots_before);
                }
                say(&format!("result {}", serde_json::to_string(&sim)?));
            }
            ["raw-open", n, sources @ ..] if sources.len() <= 1 => {
                let n: u32 = n.parse().with_context(|| format!("bad count in '{line}'"))?;
                let sources = match sources.first() {
                    Some(s) => Some(s.parse::<Sources>().map_err(anyhow::Error::msg)?),
                    None => None,
                };
                let p = match &mut pool {
                    Some(p) => p,
                    None => pool.insert(Pool::new()?),
                };
                say(&format!("ready {}", p.open(&args.addr, n, &args.conn, sources.as_ref())?));
            }
            ["raw-ping", k, ms] => {
                let k: u32 = k.parse().with_context(|| format!("bad count in '{line}'"))?;
                let ms: u64 = ms.parse().with_context(|| format!("bad timeout in '{line}'"))?;
                let p = pool.as_ref().context("raw-ping before raw-open")?;
                let pings = p.ping(k, Duration::from_millis(ms))?;
                say(&format!("pings {}", serde_json::to_string(&pings)?));
            }
            ["close"] => break,
            [] => {}
            _ => bail!("unknown command '{line}'"),
        }
    }
    for c in &clients {
        c.disconnect();
    }
    drop(pool);
    say("closed");
    Ok(())
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

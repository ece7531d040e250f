//! `veltix ping`: round trips to a server, in the manner of ping(8).

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use veltix::{Client, Error};

use crate::args::{exit, parse_addr, parse_duration, ConnArgs, GlobalArgs};
use crate::output::json::write_line;

/// Measure round trips to a server, like ping(8).
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Each PING is a Veltix PING frame answered by the peer's PONG; the round
trip is timed with a monotonic clock and shown in ms to 3 decimals.
Ctrl-C stops and prints the summary. -q (the global quiet flag) prints
only the summary.

Examples:
  veltix ping localhost:8080
  veltix ping localhost:8080 -c 5
  veltix ping localhost:8080 -c 1000 -i 0.001 -q
  veltix ping [::1]:8080 -c 3 --json

Exit codes: 0 at least one pong came back, 3 cannot connect, 4 no pong
came back at all.")]
pub struct Args {
    /// The server, as HOST:PORT ([::1]:8080 for IPv6).
    #[arg(value_name = "HOST:PORT", value_parser = parse_addr)]
    pub addr: String,
    /// Stop after this many pings (default: until Ctrl-C).
    #[arg(short = 'c', long, value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Time between pings (sub-millisecond allowed: 0.0005, 500us).
    #[arg(short = 'i', long, default_value = "1s", value_parser = parse_duration, value_name = "INTERVAL")]
    pub interval: Duration,
    /// How long to wait for each pong.
    #[arg(short = 'W', long, default_value = "5s", value_parser = parse_duration, value_name = "TIMEOUT")]
    pub timeout: Duration,
    /// NDJSON: one record per pong or timeout, then a summary record.
    #[arg(long)]
    pub json: bool,
    /// Time allowed for the TCP connect.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DUR")]
    pub connect_timeout: Duration,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// Round-trip statistics, in microseconds.
#[derive(Debug, Default)]
struct Stats {
    sent: u64,
    rtts_us: Vec<f64>,
    started: Option<Instant>,
}

#[derive(Serialize)]
struct Summary<'a> {
    event: &'static str,
    peer: &'a str,
    sent: u64,
    received: u64,
    loss_pct: f64,
    time_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avg_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mdev_us: Option<f64>,
}

impl Stats {
    fn summary<'a>(&self, peer: &'a str) -> Summary<'a> {
        let n = self.rtts_us.len() as f64;
        let received = self.rtts_us.len() as u64;
        let (min, avg, max, mdev) = if received == 0 {
            (None, None, None, None)
        } else {
            let avg = self.rtts_us.iter().sum::<f64>() / n;
            let sq = self.rtts_us.iter().map(|r| r * r).sum::<f64>() / n;
            let min = self.rtts_us.iter().copied().fold(f64::INFINITY, f64::min);
            let max = self.rtts_us.iter().copied().fold(0.0, f64::max);
            // ping(8)'s mdev: sqrt(E[x²] − E[x]²).
            (Some(min), Some(avg), Some(max), Some((sq - avg * avg).max(0.0).sqrt()))
        };
        let loss = if self.sent == 0 {
            0.0
        } else {
            100.0 * (self.sent - received) as f64 / self.sent as f64
        };
        Summary {
            event: "summary",
            peer,
            sent: self.sent,
            received,
            loss_pct: (loss * 10.0).round() / 10.0,
            time_ms: self.started.map_or(0, |s| s.elapsed().as_millis() as u64),
            min_us: min,
            avg_us: avg,
            max_us: max,
            mdev_us: mdev,
        }
    }

    fn exit_code(&self) -> u8 {
        if self.rtts_us.is_empty() {
            exit::TIMEOUT
        } else {
            0
        }
    }
}

fn print_summary(stats: &Stats, peer: &str, json: bool) {
    let s = stats.summary(peer);
    let mut out = std::io::stdout().lock();
    let _ = if json {
        write_line(&mut out, &s)
    } else {
        let mut text = format!(
            "\n--- {peer} veltix ping statistics ---\n{} sent, {} received, {}% loss, time {}ms\n",
            s.sent, s.received, s.loss_pct, s.time_ms
        );
        if let (Some(min), Some(avg), Some(max), Some(mdev)) =
            (s.min_us, s.avg_us, s.max_us, s.mdev_us)
        {
            text.push_str(&format!(
                "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms\n",
                min / 1e3,
                avg / 1e3,
                max / 1e3,
                mdev / 1e3
            ));
        }
        out.write_all(text.as_bytes())
    };
    let _ = out.flush();
}

#[derive(Serialize)]
struct PingEvent<'a> {
    event: &'static str,
    peer: &'a str,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt_us: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs `veltix ping`.
pub fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let quiet = global.log.quiet > 0;
    let cfg = args.conn.client_config(&args.addr)?.connect_timeout(args.connect_timeout);
    let client =
        Client::connect(cfg).with_context(|| format!("cannot connect to {}", args.addr))?;
    let peer = args.addr.clone();
    let version = client.peer().and_then(|p| p.peer_version()).unwrap_or_default();
    let wire = client.peer().map(|p| p.wire()).unwrap_or_default();
    let stats = Arc::new(Mutex::new(Stats { started: Some(Instant::now()), ..Stats::default() }));
    {
        let (stats, peer, json) = (stats.clone(), peer.clone(), args.json);
        ctrlc::set_handler(move || {
            let s = stats.lock().unwrap_or_else(|e| e.into_inner());
            print_summary(&s, &peer, json);
            std::process::exit(i32::from(s.exit_code()));
        })
        .context("cannot install the Ctrl-C handler")?;
    }
    if !args.json && !quiet {
        println!("PING {peer} (veltix {version}, wire {wire})");
        if global.log.verbose > 0 {
            if let Some(tls) = client.tls_info() {
                let cert = tls.peer_certificate.map(|f| format!(", server certificate {f}"));
                println!("{} {}{}", tls.version, tls.cipher_suite, cert.unwrap_or_default());
            }
        }
    }
    let start = Instant::now();
    let mut seq = 0u64;
    loop {
        if args.count.is_some_and(|c| seq >= c) {
            break;
        }
        seq += 1;
        lock(&stats).sent += 1;
        let result = client.ping(args.timeout);
        let event = match &result {
            Ok(rtt) => {
                let us = rtt.as_secs_f64() * 1e6;
                lock(&stats).rtts_us.push(us);
                PingEvent { event: "pong", peer: &peer, seq, rtt_us: Some(us), error: None }
            }
            Err(e) => PingEvent {
                event: "timeout",
                peer: &peer,
                seq,
                rtt_us: None,
                error: Some(e.to_string()),
            },
        };
        {
            let mut out = std::io::stdout().lock();
            let _ = if args.json {
                write_line(&mut out, &event)
            } else if quiet {
                Ok(())
            } else if let Some(us) = event.rtt_us {
                writeln!(out, "pong from {peer}: seq={seq} time={:.3} ms", us / 1e3)
            } else {
                writeln!(out, "no pong from {peer}: seq={seq}: {}", event.error.unwrap_or_default())
            };
            let _ = out.flush();
        }
        if let Err(e) = &result {
            if !matches!(e, Error::Timeout { .. } | Error::Protocol(_)) || !client.is_connected() {
                // The connection is gone: nothing more to measure.
                log::error!("{e}");
                break;
            }
        }
        if args.count.is_some_and(|c| seq >= c) {
            break;
        }
        let next = start + args.interval.mul_f64(seq as f64);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let s = lock(&stats);
    print_summary(&s, &peer, args.json);
    let code = s.exit_code();
    drop(s);
    client.disconnect();
    Ok(ExitCode::from(code))
}

fn lock(s: &Mutex<Stats>) -> std::sync::MutexGuard<'_, Stats> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

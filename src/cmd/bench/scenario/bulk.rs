//! The bulk-TCP baseline of burst and stress: the run's frames (same wire,
//! type and payload as the raw baseline's), encoded once and written
//! [`WRITE_SIZE`] bytes per write, cut anywhere between frames, over
//! loopback TCP to the raw server (`raw`), which reads as much per read,
//! splits the stream on the headers' size fields and counts the whole
//! frames of each read. No system call or wake-up per message on either
//! side: what one connection carries on this machine, the headroom the
//! per-message baselines hide.

use std::io::Write;
use std::net::TcpStream;

use anyhow::Context;

use super::endpoint::{Arrivals, Ctx};
use super::progress;
use super::raw::{RawClient, RawServer, Reads};
use super::release::fire;
use crate::cmd::bench::model::BulkFigures;

/// Bytes per write: 256 KiB, as much as the counting side reads at once.
pub const WRITE_SIZE: usize = Reads::BULK.chunk();

/// Copies of one frame, ready to be written [`WRITE_SIZE`] bytes at a time.
struct Frames {
    /// The frame repeated over more than WRITE_SIZE + one frame, so that a
    /// write may start anywhere in a frame.
    pattern: Vec<u8>,
    frame_len: usize,
}

impl Frames {
    fn new(frame: &[u8]) -> Frames {
        let copies = WRITE_SIZE / frame.len().max(1) + 2;
        Frames { pattern: frame.repeat(copies), frame_len: frame.len().max(1) }
    }

    /// Writes `count` frames, WRITE_SIZE bytes per write (the last one
    /// shorter); returns how many went out whole before any failure.
    fn write(&self, mut to: &TcpStream, count: u64) -> u64 {
        let frame = self.frame_len as u64;
        let total = count * frame;
        let mut off = 0u64;
        while off < total {
            let start = (off % frame) as usize;
            let len = (total - off).min(WRITE_SIZE as u64) as usize;
            if to.write_all(&self.pattern[start..start + len]).is_err() {
                break;
            }
            off += len as u64;
        }
        off / frame
    }
}

/// Transfers per bulk baseline. One transfer of a million small frames
/// lasts 20-90 ms here, and single transfers measured 19 to 57 million
/// frames/s within the hour: the median of several is the wire's rate.
pub const REPEATS: u32 = 5;

/// The bulk baseline: [`REPEATS`] transfers, reported by the one with the
/// median rate (all rates listed).
pub fn run(
    ctx: &Ctx,
    label: &str,
    frame: &[u8],
    clients: u32,
    per_client: u64,
) -> anyhow::Result<BulkFigures> {
    let runs = (0..REPEATS)
        .map(|_| transfer(ctx, label, frame, clients, per_client))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(median(runs))
}

/// The transfer with the median rate (the upper one of an even count),
/// with the number of transfers and all their rates.
fn median(mut runs: Vec<BulkFigures>) -> BulkFigures {
    let rates: Vec<f64> = runs.iter().map(|r| r.recv_msgs_per_s).collect();
    runs.sort_by(|a, b| a.recv_msgs_per_s.total_cmp(&b.recv_msgs_per_s));
    let mut m =
        if runs.is_empty() { BulkFigures::default() } else { runs.swap_remove(runs.len() / 2) };
    m.repeats = rates.len() as u32;
    m.rates_msgs_per_s = rates;
    m
}

/// One bulk transfer: `clients` connections, each written by its own
/// thread (released together), each sending `per_client` copies of
/// `frame`. Counted by the sink, or with `--target` from a local echo
/// server's echoes, as the raw baseline is.
fn transfer(
    ctx: &Ctx,
    label: &str,
    frame: &[u8],
    clients: u32,
    per_client: u64,
) -> anyhow::Result<BulkFigures> {
    let arrivals = Arrivals::new(0);
    let (server, echoes) = RawServer::for_run(ctx, &arrivals, Reads::BULK)?;
    let conns = (0..clients)
        .map(|_| RawClient::connect(server.addr(), ctx.wire, echoes.clone(), Reads::BULK))
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot connect to the bulk-TCP server")?;
    let expected = u64::from(clients) * per_client;
    let bar = progress::bar(expected, &format!("{label} (bulk)"));
    bar.set_message("sending");
    let frames = Frames::new(frame);
    let (per, _, t0) = fire(&arrivals, conns.len(), |i| {
        let sent = frames.write(&conns[i].stream, per_client);
        (sent, per_client - sent)
    });
    bar.set_message("receiving");
    arrivals.wait_for(expected, ctx.drain_timeout, &bar);
    bar.finish_and_clear();
    let delivered = arrivals.count();
    let recv_s = arrivals.last_ns().map_or(0.0, |l| l.saturating_sub(t0) as f64 / 1e9);
    let per_s = |n: f64| if recv_s > 0.0 { n / recv_s } else { 0.0 };
    Ok(BulkFigures {
        write_size_bytes: WRITE_SIZE as u64,
        sent: per.iter().map(|p| p.sent).sum(),
        delivered,
        lost: expected.saturating_sub(delivered),
        recv_duration_s: recv_s,
        recv_msgs_per_s: per_s(delivered as f64),
        recv_bytes_per_s: per_s((delivered * frame.len() as u64) as f64),
        repeats: 1,
        rates_msgs_per_s: Vec::new(),
    })
}

/// veltix's rate / the bulk rate; None when the bulk run received nothing.
pub fn efficiency(veltix_msgs_per_s: f64, bulk: Option<&BulkFigures>) -> Option<f64> {
    bulk.and_then(|b| (b.recv_msgs_per_s > 0.0).then(|| veltix_msgs_per_s / b.recv_msgs_per_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_is_the_median_transfer_with_every_rate_listed() {
        let run = |rate: f64, lost: u64| BulkFigures {
            recv_msgs_per_s: rate,
            lost,
            repeats: 1,
            ..Default::default()
        };
        let m = median(vec![run(57e6, 1), run(19e6, 2), run(24e6, 3), run(21e6, 4), run(28e6, 5)]);
        assert_eq!(m.recv_msgs_per_s, 24e6);
        assert_eq!(m.lost, 3, "the median transfer's own figures");
        assert_eq!(m.repeats, 5);
        assert_eq!(m.rates_msgs_per_s, vec![57e6, 19e6, 24e6, 21e6, 28e6]);
    }

    #[test]
    fn the_stream_is_the_frames_in_order_wherever_the_writes_cut_them() {
        let frame: Vec<u8> = (0..86u8).collect();
        let f = Frames::new(&frame);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let to = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut from, _) = listener.accept().unwrap();
        let count = 10_000u64;
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            std::io::Read::read_to_end(&mut from, &mut all).unwrap();
            all
        });
        assert_eq!(f.write(&to, count), count);
        drop(to);
        let all = reader.join().unwrap();
        assert_eq!(all.len(), 860_000);
        assert!(all.chunks(86).all(|c| c == &frame[..]), "the frames in order, whole");
    }
}

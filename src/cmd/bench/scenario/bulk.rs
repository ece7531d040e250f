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

/// One bulk run: `clients` connections, each written by its own thread
/// (released together), each sending `per_client` copies of `frame`.
/// Counted by the sink, or with `--target` from a local echo server's
/// echoes, as the raw baseline is.
pub fn run(
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

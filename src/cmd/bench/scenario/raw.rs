//! The raw-TCP baseline: the same frames as the measured wire (a 22-byte
//! 1.6.3 header or a 15-byte VX header, and the payload) over plain
//! sockets, with no handshake, no CRC check, no callbacks: a thread per
//! connection that splits the stream on the header's size field and counts
//! (sink) or sends the frames back (echo). What veltix adds on top of this
//! is the protocol's cost.
//!
//! The same servers and clients carry the bulk baseline (`bulk`): there
//! the writer sends many frames per write and the reading side reads
//! [`Reads::BULK`], counting the frames of each read at once.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use veltix::codec::encode_frame_into;
use veltix::{RequestId, Wire};

use anyhow::Context;

use super::endpoint::{Arrivals, Ctx};

/// What the raw server does with each frame.
#[derive(Clone)]
pub enum Mode {
    /// Count it (as the in-process veltix server does).
    Sink(Arc<Arrivals>),
    /// Send it back (as an echo `--target` does).
    Echo,
}

/// How a reading side reads and counts the frames.
#[derive(Debug, Clone, Copy)]
pub struct Reads {
    /// Bytes asked of the socket per read (more when a frame is larger).
    chunk: usize,
    /// Count the whole frames of a read at once (one clock reading),
    /// rather than each frame as it is split off.
    per_read: bool,
}

impl Reads {
    /// The per-message baseline: 64 KiB reads, every frame stamped.
    pub const EACH: Reads = Reads { chunk: 64 * 1024, per_read: false };
    /// The bulk baseline: 256 KiB reads, as large as its writes
    /// (`bulk::WRITE_SIZE`), each read's frames counted together.
    pub const BULK: Reads = Reads { chunk: 256 * 1024, per_read: true };

    /// Bytes asked of the socket per read.
    pub const fn chunk(self) -> usize {
        self.chunk
    }
}

type Conns = Arc<Mutex<Vec<(TcpStream, JoinHandle<()>)>>>;

/// A raw-TCP server on an ephemeral loopback port; stops when dropped.
pub struct RawServer {
    addr: SocketAddr,
    closing: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    conns: Conns,
}

impl RawServer {
    /// Binds 127.0.0.1:0 and starts accepting frames of `wire`, read as
    /// `reads` says.
    pub fn start(wire: Wire, mode: Mode, reads: Reads) -> io::Result<RawServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let closing = Arc::new(AtomicBool::new(false));
        let conns: Conns = Arc::default();
        let (c, cs) = (closing.clone(), conns.clone());
        let accept = std::thread::Builder::new()
            .name("raw-accept".into())
            .spawn(move || accept_loop(&listener, &c, &cs, wire, &mode, reads))?;
        Ok(RawServer { addr, closing, accept: Some(accept), conns })
    }

    /// The server of a baseline run: a sink counting into `arrivals`, or,
    /// with `--target` (where veltix's delivery is counted from echoes), an
    /// echo server whose echoes the clients count into the recorder this
    /// returns.
    pub fn for_run(
        ctx: &Ctx,
        arrivals: &Arc<Arrivals>,
        reads: Reads,
    ) -> anyhow::Result<(RawServer, Option<Arc<Arrivals>>)> {
        let (mode, echoes) = if ctx.echo() {
            (Mode::Echo, Some(arrivals.clone()))
        } else {
            (Mode::Sink(arrivals.clone()), None)
        };
        let server = RawServer::start(ctx.wire, mode, reads)
            .context("cannot start the raw-TCP server of the baseline")?;
        Ok((server, echoes))
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Release);
        // Wake the blocking accept() with a connection of our own.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        let conns: Vec<_> =
            self.conns.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        for (s, h) in conns {
            let _ = s.shutdown(Shutdown::Both);
            let _ = h.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    closing: &AtomicBool,
    conns: &Conns,
    wire: Wire,
    mode: &Mode,
    reads: Reads,
) {
    loop {
        let accepted = listener.accept();
        if closing.load(Ordering::Acquire) {
            return;
        }
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let Ok(handle) = stream.try_clone() else { continue };
        let mode = mode.clone();
        let spawned = std::thread::Builder::new().name("raw-conn".into()).spawn(move || {
            let _ = match &mode {
                Mode::Sink(a) => pump(&stream, wire, reads, Some(a), false),
                Mode::Echo => pump(&stream, wire, reads, None, true),
            };
        });
        if let Ok(h) = spawned {
            conns.lock().unwrap_or_else(|e| e.into_inner()).push((handle, h));
        }
    }
}

/// Reads frames of `wire` from `stream` until it ends: counts them into
/// `arrivals` (if any) and, with `echo`, sends the whole frames of each
/// read back in one write.
fn pump(
    mut stream: &TcpStream,
    wire: Wire,
    reads: Reads,
    arrivals: Option<&Arrivals>,
    echo: bool,
) -> io::Result<()> {
    let mut buf = vec![0u8; reads.chunk];
    // Bytes of buf holding a frame not yet whole.
    let mut have = 0;
    loop {
        if have == buf.len() {
            // One frame larger than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
        let n = stream.read(&mut buf[have..])?;
        if n == 0 {
            return Ok(());
        }
        have += n;
        let mut frames = 0u64;
        let whole = split_frames(wire, &buf[..have], |type_code| {
            frames += 1;
            match arrivals {
                Some(a) if !reads.per_read => a.record(type_code),
                _ => {}
            }
        });
        if let Some(a) = arrivals.filter(|_| reads.per_read) {
            a.record_batch(frames);
        }
        if echo && whole > 0 {
            stream.write_all(&buf[..whole])?;
        }
        buf.copy_within(whole..have, 0);
        have -= whole;
    }
}

/// Calls `each` with the type of every whole frame of `wire` at the start
/// of `buf`; returns the bytes they span.
fn split_frames(wire: Wire, buf: &[u8], mut each: impl FnMut(u16)) -> usize {
    let header = wire.header_len();
    // Where the type code and the payload size sit in the header.
    let (type_at, size_at) = match wire {
        Wire::V1_6 => (0, 2),
        Wire::Vx => (3, 5),
    };
    let mut off = 0;
    while buf.len() - off >= header {
        let h = &buf[off..];
        let size = u32::from_be_bytes([h[size_at], h[size_at + 1], h[size_at + 2], h[size_at + 3]]);
        let len = header + size as usize;
        if h.len() < len {
            break;
        }
        each(u16::from_be_bytes([h[type_at], h[type_at + 1]]));
        off += len;
    }
    off
}

/// A valid frame of `wire` with `payload_len` bytes of `fill` (request id
/// 1), encoded once and sent as it is.
pub fn frame(
    wire: Wire,
    type_code: u16,
    payload_len: usize,
    fill: u8,
) -> Result<Vec<u8>, veltix::ProtocolError> {
    let mut out = Vec::new();
    encode_frame_into(wire, type_code, RequestId::from(1), &vec![fill; payload_len], &mut out)?;
    Ok(out)
}

/// A raw client; with an arrival recorder, a reader thread counts the
/// frames the server echoes.
pub struct RawClient {
    pub stream: TcpStream,
    reader: Option<JoinHandle<()>>,
}

impl RawClient {
    /// Connects with Nagle off (as veltix connections are); echoes are
    /// frames of `wire`, read as `reads` says.
    pub fn connect(
        addr: SocketAddr,
        wire: Wire,
        echoes: Option<Arc<Arrivals>>,
        reads: Reads,
    ) -> io::Result<RawClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let reader = match echoes {
            Some(a) => {
                let s = stream.try_clone()?;
                Some(std::thread::Builder::new().name("raw-echoes".into()).spawn(move || {
                    let _ = pump(&s, wire, reads, Some(&a), false);
                })?)
            }
            None => None,
        };
        Ok(RawClient { stream, reader })
    }

    /// Writes one frame.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        (&self.stream).write_all(frame)
    }
}

impl Drop for RawClient {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use indicatif::ProgressBar;
    use veltix::{vx, Decoder};

    const WIRES: [Wire; 2] = [Wire::V1_6, Wire::Vx];

    #[test]
    fn frames_have_the_header_of_their_wire_and_decode() {
        for (wire, header) in [(Wire::V1_6, 22), (Wire::Vx, 15)] {
            let f = frame(wire, 401, 32, 7).unwrap();
            assert_eq!(f.len(), header + 32, "{wire}");
            assert_eq!(&f[header..], &[7u8; 32][..], "{wire}");
            let mut d = Decoder::with_wire(1024, wire);
            d.push(&f);
            let got = d.next_frame().unwrap().expect("one whole frame");
            assert_eq!((got.type_code, got.payload.len()), (401, 32), "{wire}");
        }
        let f = frame(Wire::Vx, 401, 32, 7).unwrap();
        assert_eq!(&f[..2], b"VX");
        assert_eq!(f, vx::encode_frame(401, 1, &[7; 32]).unwrap());
    }

    #[test]
    fn splits_whole_frames_only() {
        for wire in WIRES {
            let h = wire.header_len();
            let mut buf = frame(wire, 401, 32, 0).unwrap();
            buf.extend(frame(wire, 402, 16, 0).unwrap());
            let partial = frame(wire, 401, 8, 0).unwrap();
            buf.extend(&partial[..10]);
            let mut types = Vec::new();
            let n = split_frames(wire, &buf, |t| types.push(t));
            assert_eq!(types, [401, 402], "{wire}");
            assert_eq!(n, h + 32 + h + 16, "{wire}");
        }
    }

    #[test]
    fn sink_and_echo_count_frames() {
        for wire in WIRES {
            let a = Arrivals::new(10);
            let sink = RawServer::start(wire, Mode::Sink(a.clone()), Reads::EACH).unwrap();
            let c = RawClient::connect(sink.addr(), wire, None, Reads::EACH).unwrap();
            let f = frame(wire, 401, 5, 1).unwrap();
            for _ in 0..3 {
                c.send(&f).unwrap();
            }
            assert!(a.wait_for(3, Duration::from_secs(5), &ProgressBar::hidden()), "{wire}");

            let echoes = Arrivals::new(10);
            let echo = RawServer::start(wire, Mode::Echo, Reads::EACH).unwrap();
            let c =
                RawClient::connect(echo.addr(), wire, Some(echoes.clone()), Reads::EACH).unwrap();
            c.send(&f).unwrap();
            c.send(&f).unwrap();
            assert!(echoes.wait_for(2, Duration::from_secs(5), &ProgressBar::hidden()), "{wire}");
        }
    }

    #[test]
    fn bulk_reads_count_frames_split_across_writes_and_larger_than_a_read() {
        let hidden = ProgressBar::hidden;
        for wire in WIRES {
            // Frames larger than a bulk read (the buffer grows), sent in
            // pieces that cut them anywhere.
            let big = frame(wire, 401, Reads::BULK.chunk() + 1000, 3).unwrap();
            let small = frame(wire, 401, 10, 4).unwrap();
            let stream: Vec<u8> = [&big[..], &small, &big, &small, &small].concat();
            let a = Arrivals::new(0);
            let sink = RawServer::start(wire, Mode::Sink(a.clone()), Reads::BULK).unwrap();
            let c = RawClient::connect(sink.addr(), wire, None, Reads::BULK).unwrap();
            for piece in stream.chunks(70_001) {
                c.send(piece).unwrap();
            }
            assert!(a.wait_for(5, Duration::from_secs(5), &hidden()), "{wire}: {}", a.count());

            // Echoed back whole and counted again on the client's side.
            let echoes = Arrivals::new(0);
            let echo = RawServer::start(wire, Mode::Echo, Reads::BULK).unwrap();
            let c =
                RawClient::connect(echo.addr(), wire, Some(echoes.clone()), Reads::BULK).unwrap();
            c.send(&stream).unwrap();
            assert!(echoes.wait_for(5, Duration::from_secs(5), &hidden()), "{wire}");
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!((a.count(), echoes.count()), (5, 5), "{wire}: no frame counted twice");
        }
    }
}

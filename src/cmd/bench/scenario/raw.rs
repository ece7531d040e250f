//! The raw-TCP baseline: the same frames as the measured wire (a 22-byte
//! 1.6.3 header or a 15-byte VX header, and the payload) over plain
//! sockets, with no handshake, no CRC check, no callbacks: a thread per
//! connection that splits the stream on the header's size field and counts
//! (sink) or sends the frames back (echo). What veltix adds on top of this
//! is the protocol's cost.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use veltix::codec::encode_frame_into;
use veltix::{RequestId, Wire};

use super::endpoint::Arrivals;

/// What the raw server does with each frame.
#[derive(Clone)]
pub enum Mode {
    /// Count it (as the in-process veltix server does).
    Sink(Arc<Arrivals>),
    /// Send it back (as an echo `--target` does).
    Echo,
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
    /// Binds 127.0.0.1:0 and starts accepting frames of `wire`.
    pub fn start(wire: Wire, mode: Mode) -> io::Result<RawServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let closing = Arc::new(AtomicBool::new(false));
        let conns: Conns = Arc::default();
        let (c, cs) = (closing.clone(), conns.clone());
        let accept = std::thread::Builder::new()
            .name("raw-accept".into())
            .spawn(move || accept_loop(&listener, &c, &cs, wire, &mode))?;
        Ok(RawServer { addr, closing, accept: Some(accept), conns })
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
            let _ = serve(stream, wire, &mode);
        });
        if let Ok(h) = spawned {
            conns.lock().unwrap_or_else(|e| e.into_inner()).push((handle, h));
        }
    }
}

fn serve(mut stream: TcpStream, wire: Wire, mode: &Mode) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..n]);
        let whole = split_frames(wire, &pending, |type_code| {
            if let Mode::Sink(a) = mode {
                a.record(type_code);
            }
        });
        if whole > 0 {
            if let Mode::Echo = mode {
                stream.write_all(&pending[..whole])?;
            }
            pending.drain(..whole);
        }
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
    /// frames of `wire`.
    pub fn connect(
        addr: SocketAddr,
        wire: Wire,
        echoes: Option<Arc<Arrivals>>,
    ) -> io::Result<RawClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let reader = match echoes {
            Some(a) => {
                let mut s = stream.try_clone()?;
                Some(std::thread::Builder::new().name("raw-echoes".into()).spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut pending = Vec::new();
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        let whole = split_frames(wire, &pending, |t| a.record(t));
                        pending.drain(..whole);
                    }
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
            let sink = RawServer::start(wire, Mode::Sink(a.clone())).unwrap();
            let c = RawClient::connect(sink.addr(), wire, None).unwrap();
            let f = frame(wire, 401, 5, 1).unwrap();
            for _ in 0..3 {
                c.send(&f).unwrap();
            }
            assert!(a.wait_for(3, Duration::from_secs(5), &ProgressBar::hidden()), "{wire}");

            let echoes = Arrivals::new(10);
            let echo = RawServer::start(wire, Mode::Echo).unwrap();
            let c = RawClient::connect(echo.addr(), wire, Some(echoes.clone())).unwrap();
            c.send(&f).unwrap();
            c.send(&f).unwrap();
            assert!(echoes.wait_for(2, Duration::from_secs(5), &ProgressBar::hidden()), "{wire}");
        }
    }
}

//! The raw-TCP baseline: the same frames (22-byte header + payload) over
//! plain sockets, with no handshake, no CRC check, no callbacks: a thread
//! per connection that splits the stream on the header's size field and
//! counts (sink) or sends the frames back (echo). What veltix adds on top
//! of this is the protocol's cost.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use veltix::{Frame, RequestId, HEADER_LEN};

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
    /// Binds 127.0.0.1:0 and starts accepting.
    pub fn start(mode: Mode) -> io::Result<RawServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let closing = Arc::new(AtomicBool::new(false));
        let conns: Conns = Arc::default();
        let (c, cs) = (closing.clone(), conns.clone());
        let accept = std::thread::Builder::new()
            .name("raw-accept".into())
            .spawn(move || accept_loop(&listener, &c, &cs, &mode))?;
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

fn accept_loop(listener: &TcpListener, closing: &AtomicBool, conns: &Conns, mode: &Mode) {
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
            let _ = serve(stream, &mode);
        });
        if let Ok(h) = spawned {
            conns.lock().unwrap_or_else(|e| e.into_inner()).push((handle, h));
        }
    }
}

fn serve(mut stream: TcpStream, mode: &Mode) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&buf[..n]);
        let whole = split_frames(&pending, |type_code| {
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

/// Calls `each` with the type of every whole frame at the start of `buf`;
/// returns the bytes they span.
fn split_frames(buf: &[u8], mut each: impl FnMut(u16)) -> usize {
    let mut off = 0;
    while buf.len() - off >= HEADER_LEN {
        let h = &buf[off..];
        let size = u32::from_be_bytes([h[2], h[3], h[4], h[5]]) as usize;
        if h.len() < HEADER_LEN + size {
            break;
        }
        each(u16::from_be_bytes([h[0], h[1]]));
        off += HEADER_LEN + size;
    }
    off
}

/// A valid Veltix frame of `payload_len` bytes of `fill`, encoded once and
/// sent as it is.
pub fn frame(type_code: u16, payload_len: usize, fill: u8) -> Vec<u8> {
    Frame::new(type_code, RequestId::from(1), vec![fill; payload_len])
        .encode()
        .expect("a small frame encodes")
}

/// A raw client; with an arrival recorder, a reader thread counts the
/// frames the server echoes.
pub struct RawClient {
    pub stream: TcpStream,
    reader: Option<JoinHandle<()>>,
}

impl RawClient {
    /// Connects with Nagle off (as veltix connections are).
    pub fn connect(addr: SocketAddr, echoes: Option<Arc<Arrivals>>) -> io::Result<RawClient> {
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
                        let whole = split_frames(&pending, |t| a.record(t));
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

    #[test]
    fn splits_whole_frames_only() {
        let mut buf = frame(401, 32, 0);
        buf.extend(frame(402, 16, 0));
        let partial = frame(401, 8, 0);
        buf.extend(&partial[..10]);
        let mut types = Vec::new();
        let n = split_frames(&buf, |t| types.push(t));
        assert_eq!(types, [401, 402]);
        assert_eq!(n, 22 + 32 + 22 + 16);
    }

    #[test]
    fn sink_and_echo_count_frames() {
        let a = Arrivals::new(10);
        let sink = RawServer::start(Mode::Sink(a.clone())).unwrap();
        let c = RawClient::connect(sink.addr(), None).unwrap();
        let f = frame(401, 5, 1);
        for _ in 0..3 {
            c.send(&f).unwrap();
        }
        assert!(a.wait_for(
            3,
            std::time::Duration::from_secs(5),
            &indicatif::ProgressBar::hidden()
        ));

        let echoes = Arrivals::new(10);
        let echo = RawServer::start(Mode::Echo).unwrap();
        let c = RawClient::connect(echo.addr(), Some(echoes.clone())).unwrap();
        c.send(&f).unwrap();
        c.send(&f).unwrap();
        assert!(echoes.wait_for(
            2,
            std::time::Duration::from_secs(5),
            &indicatif::ProgressBar::hidden()
        ));
    }
}

//! The client side of the connections scenario, in the helper process:
//! idle connections on raw sockets, each handshaken by hand, so that a
//! connection costs the helper one socket and not a library client with
//! its reader thread and callback pool. In 1.6.3 the server's HELLO comes
//! in and a HELLO_ACK with the same request id goes out; in VX the
//! server's JSON hello comes in, our hello goes out and `{"result": "ok"}`
//! comes in. PING (type 0) and PONG (type 1) are the same in both.
//!
//! One keeper thread watches every socket (mio, edge-triggered epoll) and
//! answers the server's heartbeat PINGs, so the connections stay idle but
//! alive however long the run takes and whatever `--performance-mode`
//! says. It also sends the sample pings, so each socket has one reader.

use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use serde::{Deserialize, Serialize};
use veltix::codec::encode_frame_into;
use veltix::vx::{self, Expect, HandshakeMsg, HandshakeRead};
use veltix::{handshake, types, Decoder, Frame, RequestId, Wire};

use super::sources::{connect_from, Sources};
use crate::args::{ConnArgs, WireArg};
use crate::cmd::bench::machine::ensure_open_files;

/// Threads that open connections in parallel. A few hide the server's
/// accept-and-greet latency; many would overflow its accept backlog and
/// wait a second for each SYN retransmission.
pub const OPENERS: usize = 4;

/// Bytes asked of a socket per read: a few small frames, so that ten
/// thousand decoders stay small.
const CHUNK: usize = 256;

const WAKE: Token = Token(usize::MAX);

/// The answer to `raw-ping`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Pings {
    /// Round trips of the answered pings, in nanoseconds, in the order sent.
    pub rtts_ns: Vec<u64>,
    /// Pings not answered in time (or on a connection that failed).
    pub lost: u64,
    /// Connections that have ended so far (closed by the server, or failed).
    pub closed: u64,
}

/// One idle connection: its socket and what was read from it.
struct Idle {
    stream: TcpStream,
    decoder: Decoder,
}

enum Msg {
    Add(Idle),
    Ping { count: u32, timeout: Duration, reply: Sender<Pings> },
}

/// The raw idle connections of the helper and the keeper thread that
/// holds them. Dropping it closes every connection.
pub struct Pool {
    tx: Option<Sender<Msg>>,
    waker: Arc<Waker>,
    keeper: Option<JoinHandle<()>>,
    opened: usize,
}

impl Pool {
    /// An empty pool with its keeper thread.
    pub fn new() -> anyhow::Result<Pool> {
        let poll = Poll::new().context("cannot create an epoll instance")?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).context("cannot create a waker")?);
        let (tx, rx) = mpsc::channel();
        let keeper = std::thread::Builder::new()
            .name("idle-keeper".into())
            .spawn(move || keep(poll, &rx))
            .context("cannot start the keeper thread")?;
        Ok(Pool { tx: Some(tx), waker, keeper: Some(keeper), opened: 0 })
    }

    /// Opens `n` more connections to `addr`, [`OPENERS`] at a time, from
    /// the `sources` addresses round robin (else from the address the OS
    /// picks); returns how many the pool opened in all. Fails on the first
    /// that fails.
    pub fn open(
        &mut self,
        addr: &str,
        n: u32,
        conn: &ConnArgs,
        sources: Option<&Sources>,
    ) -> anyhow::Result<usize> {
        ensure_open_files("the bench helper process (which holds the clients)", n)?;
        let tx = self.tx.clone().context("the pool is closed")?;
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        let (n, before) = (n as usize, self.opened);
        std::thread::scope(|s| {
            for t in 0..OPENERS.min(n) {
                let tx = tx.clone();
                let (next, stop, failed, waker) = (&next, &stop, &failed, &*self.waker);
                let spawned = std::thread::Builder::new()
                    .name(format!("idle-open{t}"))
                    .spawn_scoped(s, move || {
                        while !stop.load(Ordering::Relaxed) {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= n {
                                break;
                            }
                            let from = sources.map(|s| s.nth(before + i));
                            match connect(addr, from, conn) {
                                Ok(c) => {
                                    let _ = tx.send(Msg::Add(c));
                                    let _ = waker.wake();
                                }
                                Err(e) => {
                                    stop.store(true, Ordering::Relaxed);
                                    let which =
                                        format!("connection {} of {}", before + i + 1, before + n);
                                    let mut f = failed.lock().unwrap_or_else(|e| e.into_inner());
                                    f.get_or_insert(e.context(which));
                                }
                            }
                        }
                    });
                if let Err(e) = spawned {
                    stop.store(true, Ordering::Relaxed);
                    let mut f = failed.lock().unwrap_or_else(|e| e.into_inner());
                    f.get_or_insert(anyhow::Error::new(e).context("cannot start an opener thread"));
                }
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        self.opened += n;
        Ok(self.opened)
    }

    /// Pings `count` of the connections, spread evenly over them, one at
    /// a time, each allowed `timeout`.
    pub fn ping(&self, count: u32, timeout: Duration) -> anyhow::Result<Pings> {
        let (reply, answer) = mpsc::channel();
        let tx = self.tx.as_ref().context("the pool is closed")?;
        tx.send(Msg::Ping { count, timeout, reply }).context("the keeper thread has ended")?;
        self.waker.wake().context("cannot wake the keeper thread")?;
        answer.recv().context("the keeper thread ended before answering")
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The keeper sees the channel close and drops (closes) the sockets.
        drop(self.tx.take());
        let _ = self.waker.wake();
        if let Some(k) = self.keeper.take() {
            let _ = k.join();
        }
    }
}

/// The version our VX hello announces (as the library's clients do).
const VX_VERSION: &str = concat!("veltix-rs ", env!("CARGO_PKG_VERSION"));

/// Connects to `addr` (from the address `from`, if given) and does the
/// client side of the handshake of the wire `conn` names (`auto` is
/// refused: the bench settles the wire).
fn connect(addr: &str, from: Option<Ipv4Addr>, conn: &ConnArgs) -> anyhow::Result<Idle> {
    let wire = match conn.wire {
        WireArg::V1_6 => Wire::V1_6,
        WireArg::Vx => Wire::Vx,
        WireArg::Auto => bail!("raw idle connections need --wire 1.6 or vx, not auto"),
    };
    let stream = match from {
        None => TcpStream::connect(addr),
        Some(from) => addr
            .to_socket_addrs()
            .and_then(|mut a| a.next().ok_or_else(|| io::ErrorKind::NotFound.into()))
            .and_then(|to| connect_from(from, to)),
    }
    .with_context(|| format!("cannot connect to {addr}"))?;
    let _ = stream.set_nodelay(true);
    let max = usize::try_from(conn.max_message_size).unwrap_or(usize::MAX);
    let mut decoder = Decoder::with_wire(max, wire);
    let mut reader =
        Reader { stream: &stream, addr, deadline: Instant::now() + conn.handshake_timeout };
    match wire {
        Wire::V1_6 => handshake_1_6(&mut reader, &mut decoder, conn)?,
        Wire::Vx => handshake_vx(&mut reader, &mut decoder)?,
    }
    stream.set_nonblocking(true)?;
    Ok(Idle { stream, decoder })
}

/// Reads a handshake into a decoder's buffer, within one deadline.
struct Reader<'a> {
    stream: &'a TcpStream,
    addr: &'a str,
    deadline: Instant,
}

impl Reader<'_> {
    /// Reads more bytes into `decoder`; fails past the deadline or at the
    /// end of the stream. `what` names what is awaited.
    fn more(&mut self, decoder: &mut Decoder, what: &str) -> anyhow::Result<()> {
        let addr = self.addr;
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            bail!("no {what} from {addr} in time");
        }
        self.stream.set_read_timeout(Some(left))?;
        match decoder.read_from(&mut &*self.stream, CHUNK) {
            Ok(0) => bail!("{addr} closed the connection before its {what}"),
            Ok(_) => Ok(()),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                bail!("no {what} from {addr} in time")
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot read the {what} of {addr}")),
        }
    }

    fn send(&self, bytes: &[u8], what: &str) -> anyhow::Result<()> {
        let mut s = self.stream;
        s.write_all(bytes).with_context(|| format!("cannot send {what} to {}", self.addr))
    }
}

/// 1.6.3: the server's HELLO in, HELLO_ACK with the same request id out.
fn handshake_1_6(r: &mut Reader, decoder: &mut Decoder, conn: &ConnArgs) -> anyhow::Result<()> {
    let hello = loop {
        if let Some(f) = decoder.next_frame().context("bad frame instead of HELLO")? {
            break f;
        }
        r.more(decoder, "HELLO")?;
    };
    let addr = r.addr;
    match hello.type_code {
        types::HELLO => {}
        types::ERROR => {
            bail!("{addr} refused the connection: {}", String::from_utf8_lossy(&hello.payload))
        }
        other => bail!("{addr} sent a frame of type {other} instead of HELLO"),
    }
    let ack = Frame::new(
        types::HELLO_ACK,
        hello.request_id,
        handshake::encode_hello(&conn.protocol_version),
    );
    r.send(&ack.encode()?, "HELLO_ACK")
}

/// VX: the server's JSON hello in, ours out, `{"result": "ok"}` in. The
/// decoder keeps any frame bytes that follow the ack.
fn handshake_vx(r: &mut Reader, decoder: &mut Decoder) -> anyhow::Result<()> {
    read_vx(r, decoder, Expect::ServerHello, "hello")?;
    let ours = vx::client_hello(VX_VERSION, vx::PROTOCOL_VERSION, &serde_json::Map::new())?;
    r.send(&ours, "the VX hello")?;
    match read_vx(r, decoder, Expect::Ack, "handshake answer")? {
        HandshakeMsg::Ok => Ok(()),
        HandshakeMsg::Hello(_) => {
            bail!("{} sent a hello instead of {{\"result\": \"ok\"}}", r.addr)
        }
    }
}

/// Reads one VX handshake message (u16 length + JSON) from the decoder's
/// buffer, reading more as needed, and consumes it.
fn read_vx(
    r: &mut Reader,
    decoder: &mut Decoder,
    expect: Expect,
    what: &str,
) -> anyhow::Result<HandshakeMsg> {
    loop {
        match vx::read_handshake(decoder.buffered(), expect, vx::PROTOCOL_VERSION)
            .with_context(|| format!("bad VX {what} from {}", r.addr))?
        {
            HandshakeRead::Message { msg, len } => {
                decoder.consume(len);
                return Ok(msg);
            }
            HandshakeRead::NeedMore(_) => r.more(decoder, what)?,
        }
    }
}

/// A PING or PONG of the connection's wire, with an empty payload.
fn control(wire: Wire, type_code: u16, id: RequestId) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.header_len());
    // An empty payload and an id the peer sent (or one of ours, under
    // 32768) always encode.
    let _ = encode_frame_into(wire, type_code, id, &[], &mut out);
    out
}

fn pong(wire: Wire, id: RequestId) -> Vec<u8> {
    control(wire, types::PONG, id)
}

impl Idle {
    /// Reads what the socket has (until it would block: the epoll
    /// instance is edge-triggered) and answers PINGs. False once the
    /// connection is over.
    fn serve(&mut self) -> bool {
        loop {
            match self.decoder.read_from(&mut &self.stream, CHUNK) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return self.answer(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
            if !self.answer() {
                return false;
            }
        }
    }

    /// Answers the PINGs among the frames read; ignores the rest.
    fn answer(&mut self) -> bool {
        loop {
            match self.decoder.next_frame() {
                Ok(Some(f)) if f.type_code == types::PING => {
                    // 22 or 15 bytes into an idle socket's empty send buffer.
                    let _ = (&self.stream).write_all(&pong(self.decoder.wire(), f.request_id));
                }
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    /// One PING and its PONG, timed with the monotonic clock; `None` when
    /// no answer came within `timeout`. The socket blocks meanwhile.
    fn ping(&mut self, id: RequestId, timeout: Duration) -> io::Result<Option<u64>> {
        let ping = control(self.decoder.wire(), types::PING, id);
        self.stream.set_nonblocking(false)?;
        let rtt = self.round_trip(&ping, id, timeout);
        self.stream.set_nonblocking(true)?;
        rtt
    }

    fn round_trip(
        &mut self,
        ping: &[u8],
        id: RequestId,
        timeout: Duration,
    ) -> io::Result<Option<u64>> {
        let t0 = Instant::now();
        let deadline = t0 + timeout;
        (&self.stream).write_all(ping)?;
        loop {
            while let Some(f) = self.decoder.next_frame().map_err(io::Error::other)? {
                if f.type_code == types::PONG && f.request_id == id {
                    let rtt = t0.elapsed().as_nanos() as u64;
                    // Frames read with the PONG get no new epoll edge.
                    self.answer();
                    return Ok(Some(rtt));
                }
                if f.type_code == types::PING {
                    let _ = (&self.stream).write_all(&pong(self.decoder.wire(), f.request_id));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.decoder.read_from(&mut &self.stream, CHUNK) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {}
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The keeper thread: serves readable sockets, takes new connections and
/// ping requests; returns (closing every socket) when the pool is dropped.
fn keep(mut poll: Poll, rx: &Receiver<Msg>) {
    let mut conns: Vec<Option<Idle>> = Vec::new();
    let mut next_id = 0u32;
    let mut events = Events::with_capacity(1024);
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("bench helper: epoll failed: {e}");
                return;
            }
        }
        for ev in events.iter() {
            let Some(slot) = conns.get_mut(ev.token().0) else { continue };
            if slot.as_mut().is_some_and(|c| !c.serve()) {
                *slot = None;
            }
        }
        loop {
            match rx.try_recv() {
                Ok(Msg::Add(c)) => {
                    let fd = c.stream.as_raw_fd();
                    let token = Token(conns.len());
                    // A socket with bytes already waiting is reported at once.
                    let r = poll.registry().register(&mut SourceFd(&fd), token, Interest::READABLE);
                    conns.push(r.is_ok().then_some(c));
                }
                Ok(Msg::Ping { count, timeout, reply }) => {
                    let mut p = sample(&mut conns, count, timeout, &mut next_id);
                    // Every empty slot is a connection that ended.
                    p.closed = conns.iter().filter(|c| c.is_none()).count() as u64;
                    let _ = reply.send(p);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
    }
}

/// Pings `count` live connections spread evenly over them, one at a time.
fn sample(conns: &mut [Option<Idle>], count: u32, timeout: Duration, next_id: &mut u32) -> Pings {
    let live: Vec<usize> = (0..conns.len()).filter(|&i| conns[i].is_some()).collect();
    let k = (count as usize).min(live.len());
    let mut p = Pings { lost: (count as usize - k) as u64, ..Default::default() };
    for j in 0..k {
        let i = live[j * live.len() / k];
        // 1 to 32767: a VX client's half of the 16-bit ids (and as good
        // as any in 1.6.3).
        *next_id = *next_id % (vx::CLIENT_REQUEST_IDS.end as u32 - 1) + 1;
        let Some(c) = conns[i].as_mut() else { continue };
        match c.ping(RequestId::from(*next_id), timeout) {
            Ok(Some(ns)) => p.rtts_ns.push(ns),
            Ok(None) => p.lost += 1,
            Err(_) => {
                p.lost += 1;
                conns[i] = None;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use veltix::{PerformanceMode, Server, ServerConfig};

    fn conn_args(wire: &str) -> ConnArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct A {
            #[command(flatten)]
            conn: ConnArgs,
        }
        A::parse_from(["t", "--wire", wire]).conn
    }

    fn wait(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn raw_connections_handshake_answer_heartbeats_and_pings_and_close() {
        for (wire, name) in [(veltix::WireMode::V1_6, "1.6"), (veltix::WireMode::Vx, "vx")] {
            let mut cfg = ServerConfig::default().host("127.0.0.1").port(0);
            // A heartbeat PING after 1 s of silence, closed after 3 s.
            cfg.conn.performance_mode = PerformanceMode::High;
            cfg.conn.wire = wire;
            let server = Server::builder(cfg).start().unwrap();
            let addr = server.local_addr().to_string();
            let mut pool = Pool::new().unwrap();
            assert_eq!(pool.open(&addr, 6, &conn_args(name), None).unwrap(), 6, "{name}");
            wait("six clients", || server.client_count() == 6);

            let p = pool.ping(3, Duration::from_secs(5)).unwrap();
            assert_eq!((p.rtts_ns.len(), p.lost, p.closed), (3, 0, 0), "{name}: {p:?}");
            // Three PINGs (and in 1.6.3 six HELLO_ACKs, which are frames),
            // then a PONG per heartbeat.
            let acks = if name == "1.6" { 6 } else { 0 };
            wait("heartbeats answered", || server.stats().frames_in >= acks + 3 + 6);
            assert_eq!(server.client_count(), 6, "{name}");

            drop(pool);
            wait("every client gone", || server.client_count() == 0);
        }
    }

    #[test]
    fn raw_connections_spread_over_the_source_addresses() {
        let server =
            Server::builder(ServerConfig::default().host("127.0.0.1").port(0)).start().unwrap();
        let addr = server.local_addr().to_string();
        let sources: Sources = "127.0.0.1-127.0.0.4".parse().unwrap();
        let mut pool = Pool::new().unwrap();
        // Two calls: the round robin continues where the first one stopped.
        pool.open(&addr, 30, &conn_args("1.6"), Some(&sources)).unwrap();
        assert_eq!(pool.open(&addr, 20, &conn_args("1.6"), Some(&sources)).unwrap(), 50);
        wait("fifty clients", || server.client_count() == 50);
        let mut by_ip = std::collections::BTreeMap::new();
        for c in server.clients() {
            *by_ip.entry(c.addr().ip().to_string()).or_insert(0) += 1;
        }
        let want: Vec<(String, i32)> =
            [("127.0.0.1", 13), ("127.0.0.2", 13), ("127.0.0.3", 12), ("127.0.0.4", 12)]
                .iter()
                .map(|&(ip, n)| (ip.to_string(), n))
                .collect();
        assert_eq!(by_ip.into_iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn raw_connections_need_a_settled_wire() {
        let server =
            Server::builder(ServerConfig::default().host("127.0.0.1").port(0)).start().unwrap();
        let mut pool = Pool::new().unwrap();
        let addr = server.local_addr().to_string();
        let err = pool.open(&addr, 1, &conn_args("auto"), None).unwrap_err();
        assert!(format!("{err:#}").contains("not auto"), "{err:#}");
    }

    #[test]
    fn a_vx_server_refusing_our_hello_is_an_error() {
        // A server of the VX profile that answers our hello with an error.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let t = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&vx::server_hello("3.3.0", vx::PROTOCOL_VERSION).unwrap()).unwrap();
            let mut hello = [0u8; 2];
            std::io::Read::read_exact(&mut s, &mut hello).unwrap();
            s.write_all(&vx::error_answer("server_full").unwrap()).unwrap();
        });
        let err = connect(&addr, None, &conn_args("vx")).err().expect("refused");
        assert!(format!("{err:#}").contains("server_full"), "{err:#}");
        t.join().unwrap();
    }
}

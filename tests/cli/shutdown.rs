//! `veltix serve` shutting down: SIGINT and SIGTERM stop accepting, flush
//! what is queued for each client, close the connections cleanly and exit
//! 0 with the summary line; a second SIGINT exits at once with 130.

use std::io::{self, Write};
use std::net::TcpStream;
use std::process::ExitStatus;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use veltix::{handshake, types, Client, ClientConfig, Decoder, DisconnectReason, Frame};

use crate::util::Serve;

/// A bound for failing, never a measure of speed.
const PATIENCE: Duration = Duration::from_secs(10);
/// What the server is asked to broadcast: 64 lines of 256 KiB, 16 MiB in
/// all, far more than the kernel buffers of one loopback connection take
/// (a few MiB), so most of it waits in the server's own queue.
const LINES: usize = 64;
const LINE_LEN: usize = 256 * 1024;

fn line(i: usize) -> Vec<u8> {
    vec![b'a' + (i % 26) as u8; LINE_LEN]
}

/// A client that completes the handshake and then does not read, so what
/// the server sends it piles up.
struct Reader {
    stream: TcpStream,
    decoder: Decoder,
}

impl Reader {
    fn connect(addr: &str) -> Reader {
        let stream = TcpStream::connect(addr).unwrap();
        let mut r = Reader { stream, decoder: Decoder::new(1 << 20) };
        let hello = r.frame().expect("HELLO");
        assert_eq!(hello.type_code, types::HELLO);
        let ack = Frame::new(types::HELLO_ACK, hello.request_id, handshake::encode_hello("1.6.3"));
        r.stream.write_all(&ack.encode().unwrap()).unwrap();
        // A PING round trip: the server has taken the ACK.
        let ping = Frame::new(types::PING, 7.into(), vec![]);
        r.stream.write_all(&ping.encode().unwrap()).unwrap();
        assert_eq!(r.frame().expect("PONG").type_code, types::PONG);
        r
    }

    /// The next frame; `None` at a clean end of stream.
    fn frame(&mut self) -> Option<Frame> {
        self.stream.set_read_timeout(Some(PATIENCE)).unwrap();
        loop {
            if let Some(f) = self.decoder.next_frame().expect("valid frames") {
                return Some(f);
            }
            match self.decoder.read_from(&mut &self.stream, 256 * 1024) {
                Ok(0) => {
                    assert!(self.decoder.buffered().is_empty(), "the stream ended inside a frame");
                    return None;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => panic!("reading from the server: {e}"),
            }
        }
    }
}

/// A server (in sink mode: it sends only what is typed on its stdin) with
/// a reader that does not read yet and a well-behaved client; 16 MiB
/// typed on stdin are broadcast to both.
fn loaded_server() -> (Serve, Reader, Client, mpsc::Receiver<DisconnectReason>) {
    let mut s = Serve::start(&["--mode", "sink", "--max-outbound", "64M"]);
    let reader = Reader::connect(&s.addr);
    let (tx, gone) = mpsc::channel();
    let client = Client::builder(ClientConfig::new(s.addr.clone()))
        .on_disconnect(move |st| {
            let _ = tx.send(st.reason);
        })
        .connect()
        .unwrap();
    client.ping(PATIENCE).unwrap();
    let mut stdin = s.child.stdin.take().unwrap();
    std::thread::spawn(move || {
        for i in 0..LINES {
            let mut l = line(i);
            l.push(b'\n');
            if stdin.write_all(&l).is_err() {
                return;
            }
        }
        // Keep stdin open: its end is no reason for serve to stop.
        std::thread::sleep(PATIENCE * 3);
    });
    // serve logs each broadcast once it is queued for every client.
    for _ in 0..LINES {
        s.wait_stderr("sent to 2 clients");
    }
    (s, reader, client, gone)
}

fn signal(s: &Serve, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(s.child.id() as i32, sig);
    }
}

/// The exit status, waiting at most `PATIENCE`.
fn exit_status(s: &mut Serve) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "veltix serve did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a new connection is still greeted with a HELLO.
fn still_accepting(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else { return false };
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut first = [0u8; 22];
    matches!(io::Read::read(&mut s, &mut first), Ok(n) if n > 0)
}

fn flushes_and_exits_cleanly_on(sig: i32) {
    let (mut s, mut reader, client, gone) = loaded_server();
    signal(&s, sig);
    s.wait_stderr("shutting down");
    // Stops accepting while it still flushes (the reader has not read).
    let deadline = Instant::now() + PATIENCE;
    while still_accepting(&s.addr) {
        assert!(Instant::now() < deadline, "serve kept accepting after the signal");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(s.child.try_wait().unwrap().is_none(), "serve exited before the reader read");
    // Everything queued arrives, in order, then a clean end of stream.
    for i in 0..LINES {
        let f = reader.frame().unwrap_or_else(|| panic!("the stream ended after {i} lines"));
        assert_eq!(f.type_code, 200);
        assert!(f.payload == line(i), "line {i} differs ({} bytes)", f.payload.len());
    }
    assert!(reader.frame().is_none(), "more than was typed, or no clean close");
    let status = exit_status(&mut s);
    assert_eq!(status.code(), Some(0), "{status:?}");
    let summary = s.wait_stderr("served ");
    assert!(summary.contains("served 2 clients"), "{summary}");
    // The well-behaved client saw the server close, not an error.
    assert_eq!(gone.recv_timeout(PATIENCE).unwrap(), DisconnectReason::ServerClosed);
    drop(client);
}

#[test]
fn sigint_flushes_queued_frames_and_exits_0_with_a_summary() {
    flushes_and_exits_cleanly_on(libc::SIGINT);
}

#[test]
fn sigterm_flushes_queued_frames_and_exits_0_with_a_summary() {
    flushes_and_exits_cleanly_on(libc::SIGTERM);
}

#[test]
fn a_second_sigint_exits_at_once_with_130() {
    let (mut s, _reader, _client, _gone) = loaded_server();
    signal(&s, libc::SIGINT);
    s.wait_stderr("shutting down");
    // The reader does not read, so the first shutdown is still flushing.
    signal(&s, libc::SIGINT);
    let status = exit_status(&mut s);
    assert_eq!(status.code(), Some(130), "{status:?}");
    s.wait_stderr("interrupted again");
}

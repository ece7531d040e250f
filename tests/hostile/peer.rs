//! A raw TCP peer that can break every rule: it writes whatever bytes a
//! case wants and reads the server's frames with a deadline.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use veltix::{handshake, types, Decoder, Frame, RequestId};

use crate::target::PATIENCE;

/// How a read of the server's side ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The server closed the connection cleanly (FIN).
    Closed,
    /// The connection was reset.
    Reset,
    /// Nothing more came before the deadline; the connection is open.
    Open,
}

pub struct Raw {
    pub stream: TcpStream,
    /// Our address as the server sees it, `127.0.0.1:PORT`.
    pub local: String,
    decoder: Decoder,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect to the server");
        let local = stream.local_addr().expect("local address").to_string();
        Raw { stream, local, decoder: Decoder::new(64 << 20) }
    }

    /// Connects with a receive buffer of `rcvbuf` bytes, set before the
    /// connection exists so the window we advertise stays that small: a
    /// server writing to us fills its own queue soon when we stop reading.
    pub fn connect_small(addr: SocketAddr, rcvbuf: i32) -> Raw {
        use std::os::fd::FromRawFd;
        let std::net::SocketAddr::V4(v4) = addr else { panic!("IPv4 only: {addr}") };
        // SAFETY: plain socket calls on a descriptor we own; the sockaddr
        // is fully initialised and its size is given.
        let stream = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
            let stream = TcpStream::from_raw_fd(fd);
            setsockopt_int(&stream, libc::SOL_SOCKET, libc::SO_RCVBUF, rcvbuf);
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from(*v4.ip()).to_be() },
                sin_zero: [0; 8],
            };
            let r = libc::connect(
                fd,
                (&sa as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            );
            assert_eq!(r, 0, "connect: {}", io::Error::last_os_error());
            stream
        };
        let local = stream.local_addr().expect("local address").to_string();
        Raw { stream, local, decoder: Decoder::new(64 << 20) }
    }

    /// Reads the following frames in the VX profile (after a VX handshake
    /// made on `stream` by hand).
    pub fn reading_vx(mut self) -> Raw {
        self.decoder.set_wire(veltix::Wire::Vx);
        self
    }

    /// Connects and reads the server's HELLO.
    pub fn greeted(addr: SocketAddr) -> (Raw, Frame) {
        let mut r = Raw::connect(addr);
        let hello = r.frame(PATIENCE).expect("the server's HELLO");
        assert_eq!(hello.type_code, types::HELLO, "first frame: {hello:?}");
        (r, hello)
    }

    /// Connects and completes the handshake, then proves it with a PING
    /// round trip (so the server counts us as established).
    pub fn established(addr: SocketAddr) -> Raw {
        Raw::establish(Raw::connect(addr))
    }

    /// Completes the handshake on a fresh connection (see [`Raw::established`]).
    pub fn establish(mut r: Raw) -> Raw {
        let hello = r.frame(PATIENCE).expect("the server's HELLO");
        assert_eq!(hello.type_code, types::HELLO, "first frame: {hello:?}");
        r.ack(&hello, "1.6.3");
        r.send_frame(types::PING, 0x5050_5050, b"");
        let pong = r.frame_of(types::PONG, PATIENCE).expect("a PONG after the handshake");
        assert_eq!(pong.request_id, RequestId::from(0x5050_5050));
        r
    }

    pub fn ack(&mut self, hello: &Frame, version: &str) {
        let ack = Frame::new(types::HELLO_ACK, hello.request_id, handshake::encode_hello(version));
        self.send(&ack.encode().unwrap());
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to the server");
    }

    pub fn send_frame(&mut self, type_code: u16, id: u32, payload: &[u8]) {
        self.send(&frame(type_code, id, payload));
    }

    /// Sends without failing when the server has closed already.
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next frame, if one comes within `patience`.
    pub fn frame(&mut self, patience: Duration) -> Option<Frame> {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(f) = self.decoder.next_frame().expect("the server sends valid frames") {
                return Some(f);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.decoder.read_from(&mut &self.stream, 64 * 1024) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }

    /// The next frame of `type_code`, skipping others (heartbeat PINGs).
    pub fn frame_of(&mut self, type_code: u16, patience: Duration) -> Option<Frame> {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let f = self.frame(left)?;
            if f.type_code == type_code {
                return Some(f);
            }
        }
    }

    /// The next frame of one of `codes`, skipping others.
    pub fn frame_of_any(&mut self, codes: &[u16]) -> Option<Frame> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let f = self.frame(left)?;
            if codes.contains(&f.type_code) {
                return Some(f);
            }
        }
    }

    /// Reads until the server ends the connection (or `patience` passes);
    /// returns the frames that came and how it ended.
    pub fn until_end(&mut self, patience: Duration) -> (Vec<Frame>, End) {
        let deadline = Instant::now() + patience;
        let mut frames = Vec::new();
        loop {
            while let Some(f) = self.decoder.next_frame().expect("valid frames") {
                frames.push(f);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (frames, End::Open);
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.decoder.read_from(&mut &self.stream, 64 * 1024) {
                Ok(0) => return (frames, End::Closed),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return (frames, End::Reset)
                }
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => panic!("reading from the server: {e}"),
            }
        }
    }

    /// Expects the server to answer with an ERROR frame whose text has
    /// `needle`, then to close the connection; returns the ERROR's text.
    pub fn expect_error_and_close(&mut self, needle: &str) -> String {
        let (frames, end) = self.until_end(PATIENCE);
        let err = frames
            .iter()
            .find(|f| f.type_code == types::ERROR)
            .unwrap_or_else(|| panic!("no ERROR frame; got {frames:?} then {end:?}"));
        let text = String::from_utf8_lossy(&err.payload).into_owned();
        assert!(text.contains(needle), "ERROR frame {text:?} lacks {needle:?}");
        assert_ne!(end, End::Open, "the server kept the connection open after: {text}");
        text
    }

    /// Closes with a reset (RST) instead of a FIN, as the kernel does for
    /// a process that dies with unread data.
    pub fn reset(self) {
        let l = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: a valid fd and a pointer to a linger struct of the size given.
        unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&l as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        drop(self.stream);
    }
}

fn setsockopt_int(s: &TcpStream, level: i32, name: i32, v: i32) {
    // SAFETY: a valid fd and a pointer to an int of the size given.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt: {}", io::Error::last_os_error());
}

/// One encoded frame.
pub fn frame(type_code: u16, id: u32, payload: &[u8]) -> Vec<u8> {
    Frame::new(type_code, RequestId::from(id), payload.to_vec()).encode().unwrap()
}

/// A header alone, declaring `size` payload bytes.
pub fn header(type_code: u16, id: u32, size: u32) -> Vec<u8> {
    let mut h = frame(type_code, id, b"");
    h[2..6].copy_from_slice(&size.to_be_bytes());
    h
}

/// Deterministic pseudo-random bytes (xorshift64*), so a failing case
/// can be replayed.
pub fn garbage(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

//! The system calls the socket cores make beyond std's: `sendmsg` of
//! several parts without blocking, `recvmsg` that says what is left to read
//! (`TCP_INQ`), and edge-triggered exclusive epoll registrations. Nothing
//! of the protocol; imports nothing from the crate.

use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// One non-blocking `sendmsg` of all parts (at most
/// [`MAX_IOV`](crate::net::MAX_IOV)); returns the bytes the kernel took,
/// which is less than offered when its buffer is full.
#[cfg(unix)]
pub(crate) fn try_send(stream: &TcpStream, parts: &[&[u8]]) -> io::Result<usize> {
    if parts.len() <= 4 {
        send_iov::<4>(stream, parts)
    } else {
        send_iov::<MAX_IOV>(stream, parts)
    }
}

/// The most parts one [`try_send`] takes.
pub(crate) const MAX_IOV: usize = 64;

#[cfg(unix)]
fn send_iov<const N: usize>(stream: &TcpStream, parts: &[&[u8]]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    debug_assert!(parts.len() <= N);
    let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; N];
    let n = parts.len().min(N);
    for (v, p) in iov.iter_mut().zip(parts) {
        v.iov_base = p.as_ptr() as *mut libc::c_void;
        v.iov_len = p.len();
    }
    loop {
        // SAFETY: an all-zero msghdr is valid; the iovecs point into
        // `parts`, which outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = n as _;
        // SAFETY: the fd is a socket owned by `stream`; `msg` is valid.
        let r = unsafe {
            libc::sendmsg(stream.as_raw_fd(), &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
        };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A new epoll instance.
pub(crate) fn new_epoll() -> io::Result<OwnedFd> {
    // SAFETY: a plain syscall; the returned fd is checked and owned.
    unsafe {
        let fd = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Adds `fd` to the epoll instance `epoll`, edge-triggered and exclusive,
/// for `events`, reported with `token`.
pub(crate) fn add_exclusive(epoll: RawFd, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
    let events = events | (libc::EPOLLET | libc::EPOLLEXCLUSIVE) as u32;
    let mut ev = libc::epoll_event { events, u64: token };
    // SAFETY: both fds are valid; `ev` outlives the call.
    let r = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut ev) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout` for an event in `epoll`; whether one came.
pub(crate) fn wait_readable(epoll: RawFd, timeout: Duration) -> bool {
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // Round sub-millisecond waits up, or they would spin.
    let ms = if ms == 0 && !timeout.is_zero() { 1 } else { ms };
    // SAFETY: a valid epoll fd and a buffer for one event.
    let n = unsafe { libc::epoll_wait(epoll, &mut ev, 1, ms) };
    n > 0
}

/// Reads a socket without blocking (`MSG_DONTWAIT`, whatever the socket's
/// mode: the threads core keeps its sockets blocking for the writer
/// thread's sake), and keeps what the kernel says is left to read.
pub(crate) struct SockReader<'a> {
    stream: &'a TcpStream,
    /// Bytes left in the socket after the last read, from `TCP_INQ` (none:
    /// the kernel did not say).
    left: Option<u32>,
}

impl<'a> SockReader<'a> {
    pub(crate) fn new(stream: &'a TcpStream) -> SockReader<'a> {
        SockReader { stream, left: None }
    }

    /// Whether the last read left the socket empty, with no end of stream
    /// pending: new bytes will bring a new edge, so an edge-triggered
    /// reader may stop without the read that would say `WouldBlock`. (A
    /// read that was merely short proves nothing: a FIN that came with the
    /// bytes is consumed by it, and would be seen by no later edge.)
    pub(crate) fn drained(&self) -> bool {
        self.left == Some(0)
    }
}

impl Read for SockReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // Room for one `int` control message, aligned for `cmsghdr`.
        let mut control = [0u64; 4];
        // SAFETY: an all-zero msghdr is a valid empty one.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: the fd is a valid socket; `msg` points at live buffers of
        // the sizes it gives.
        let n = unsafe { libc::recvmsg(self.stream.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            self.left = None;
            return Err(io::Error::last_os_error());
        }
        self.left = None;
        // SAFETY: the CMSG macros walk the control buffer the kernel filled,
        // within `msg_controllen`; the data is read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_TCP && (*c).cmsg_type == libc::TCP_CM_INQ {
                    let v = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                    self.left = Some(v.max(0) as u32);
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok(n as usize)
    }
}

/// Asks the kernel to say, with each read, how many bytes are left
/// (`TCP_INQ`, Linux 4.18 and later; without it readers just read until
/// `WouldBlock`).
pub(crate) fn report_bytes_left(stream: &TcpStream) {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a pointer to an int of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_TCP,
            libc::TCP_INQ,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{Shutdown, TcpListener};

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        report_bytes_left(&b);
        (a, b)
    }

    /// Waits until `s` has something to read (data or end of stream).
    fn settle(s: &TcpStream) {
        let mut pfd = libc::pollfd { fd: s.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 5000) };
        // Let a FIN sent right after the bytes arrive too.
        std::thread::sleep(Duration::from_millis(50));
    }

    #[test]
    fn a_read_that_empties_the_socket_says_so() {
        let (mut a, b) = pair();
        a.write_all(b"hello").unwrap();
        settle(&b);
        let mut r = SockReader::new(&b);
        let mut buf = [0u8; 64];
        assert_eq!(r.read(&mut buf).unwrap(), 5);
        assert!(r.drained());
        assert_eq!(r.read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn bytes_left_behind_are_not_drained() {
        let (mut a, b) = pair();
        a.write_all(&[7u8; 100]).unwrap();
        settle(&b);
        let mut r = SockReader::new(&b);
        let mut buf = [0u8; 10];
        assert_eq!(r.read(&mut buf).unwrap(), 10);
        assert!(!r.drained());
    }

    #[test]
    fn an_end_of_stream_behind_the_bytes_is_not_drained() {
        // The FIN comes with the bytes: the read that returns them consumes
        // it, and no later edge would report it. The reader must read again.
        let (mut a, b) = pair();
        a.write_all(b"bye").unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        settle(&b);
        let mut r = SockReader::new(&b);
        let mut buf = [0u8; 64];
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        assert!(!r.drained(), "a pending end of stream must not count as drained");
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }
}

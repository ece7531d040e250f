//! The `threads` socket core: one reader thread per connection.
//!
//! On a server connection the reader thread reads alone, blocking in
//! `read`. On a client connection the decoder and protocol state sit in a
//! [`ReadSide`] behind a mutex, so a thread blocked in `send_and_wait` can
//! take the socket over and read its reply itself,
//! saving the hand-off from the reader thread (a wake-up, several
//! microseconds on a loopback round trip of about twenty).
//!
//! Both wait for the socket in one shared epoll instance. Linux wakes the
//! most recent waiter of an epoll instance first and only one of them, so
//! the requester, not the reader thread, is woken by its reply; and a
//! requester holds the read lock while it waits, so a reader thread woken
//! anyway cannot consume the reply under its nose.
//!
//! Writes happen on the sender's thread (see `conn`), with a writer thread
//! started only for a connection whose kernel buffer fills.

use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{
    fault, finish, local_end, peer_closed, process, read_failed, EndReason, Flow, Proto, Session,
};
use crate::conn::{Conn, Role};
use crate::correlation::lock;
use crate::decoder::Decoder;

/// Starts the reader thread of `conn`.
pub(crate) fn spawn_reader(
    conn: Arc<Conn>,
    decoder: Decoder,
    proto: Proto,
    session: Arc<dyn Session>,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("veltix-r{}", conn.id))
        .spawn(move || run(&conn, decoder, proto, session))
}

struct ReadState {
    decoder: Decoder,
    proto: Proto,
    /// Set by whoever saw the connection end; the reader thread finishes it.
    end: Option<EndReason>,
}

/// The reading half of a threads-core connection, shared by its reader
/// thread and by threads waiting for a reply.
pub(crate) struct ReadSide {
    epoll: OwnedFd,
    /// An eventfd in the same epoll instance: the reader thread writes it
    /// when it took a readiness edge while a requester holds the socket, so
    /// the requester wakes and reads.
    kick: OwnedFd,
    state: Mutex<ReadState>,
    session: Weak<dyn Session>,
}

impl ReadSide {
    fn new(
        conn: &Conn,
        decoder: Decoder,
        proto: Proto,
        session: &Arc<dyn Session>,
    ) -> io::Result<ReadSide> {
        // SAFETY: plain syscalls; the returned fd is checked and owned.
        let epoll = unsafe {
            let fd = libc::epoll_create1(libc::EPOLL_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        // Edge-triggered: one arrival wakes one waiter (the most recent),
        // and the ready state is not handed on to the others, as a
        // level-triggered instance would.
        let mut ev = libc::epoll_event { events: (libc::EPOLLIN | libc::EPOLLET) as u32, u64: 0 };
        // SAFETY: both fds are valid; `ev` outlives the call.
        let r = unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                conn.stream.as_raw_fd(),
                &mut ev,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: plain syscalls; the returned fd is checked and owned.
        let kick = unsafe {
            let fd = libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        let mut ev = libc::epoll_event { events: (libc::EPOLLIN | libc::EPOLLET) as u32, u64: 1 };
        // SAFETY: both fds are valid; `ev` outlives the call.
        let r = unsafe {
            libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, kick.as_raw_fd(), &mut ev)
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ReadSide {
            epoll,
            kick,
            state: Mutex::new(ReadState { decoder, proto, end: None }),
            session: Arc::downgrade(session),
        })
    }

    /// Waits up to `timeout` for the socket to be readable.
    fn wait_readable(&self, timeout: Duration) -> bool {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // Round sub-millisecond waits up, or they would spin.
        let ms = if ms == 0 && !timeout.is_zero() { 1 } else { ms };
        // SAFETY: a valid epoll fd and a buffer for one event.
        let n = unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), &mut ev, 1, ms) };
        if n > 0 && ev.u64 == 1 {
            let mut count = 0u64;
            // SAFETY: reads 8 bytes into `count` from our eventfd.
            unsafe { libc::read(self.kick.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
        }
        n > 0
    }

    /// Wakes the requester that holds the socket (see `kick`).
    fn kick(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from `one` to our eventfd.
        unsafe { libc::write(self.kick.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Reads what the socket has (without blocking, until it would block:
    /// the epoll instance is edge-triggered) and runs the frames through
    /// the protocol. Returns the end of the connection, if seen.
    fn pump(&self, conn: &Arc<Conn>, st: &mut ReadState) -> Option<EndReason> {
        if let Some(end) = st.end.clone() {
            return Some(end);
        }
        let session = self.session.upgrade()?;
        loop {
            if let Some(end) = process(conn, &mut st.decoder, &mut st.proto, &*session) {
                return Some(self.record(conn, st, fault(conn, end)));
            }
            if conn.is_closed() {
                return Some(self.record(conn, st, local_end(conn)));
            }
            match st.decoder.read_from(&mut NonBlocking(&conn.stream), conn.cfg.buffer_size) {
                Ok(0) => {
                    let end = peer_closed(conn, &st.decoder);
                    return Some(self.record(conn, st, end));
                }
                Ok(n) => {
                    conn.count_read(n);
                    if st.decoder.last_read_short() {
                        // The socket is empty for now; new bytes bring a new
                        // edge. Handle what came and skip the EAGAIN read.
                        if let Some(end) = process(conn, &mut st.decoder, &mut st.proto, &*session)
                        {
                            return Some(self.record(conn, st, fault(conn, end)));
                        }
                        return None;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(self.record(conn, st, read_failed(conn, &e))),
            }
        }
    }

    /// Remembers the end and makes sure the reader thread sees it.
    fn record(&self, conn: &Conn, st: &mut ReadState, end: EndReason) -> EndReason {
        st.end = Some(end.clone());
        // Wakes the reader thread (a shut-down socket reads as ready).
        conn.close_with(end.clone());
        end
    }

    /// Reads the socket on the calling thread until `done()` holds or the
    /// deadline passes (the requester's side of the hand-off saving).
    pub(crate) fn read_until(&self, conn: &Arc<Conn>, deadline: Instant, done: &dyn Fn() -> bool) {
        let mut st = lock(&self.state);
        let tick = st.proto.tick_interval(conn);
        // Whoever takes a readiness edge reads the socket (or, the reader
        // thread, kicks the holder to): bytes in the socket always come
        // with a pending edge or a reader, so we can sleep first.
        while !done() {
            let now = Instant::now();
            if now >= deadline || st.end.is_some() {
                return;
            }
            if self.wait_readable((deadline - now).min(tick)) && self.pump(conn, &mut st).is_some()
            {
                return;
            }
            if let Flow::Close(end) = st.proto.on_tick(conn) {
                let end = fault(conn, end);
                self.record(conn, &mut st, end);
                return;
            }
        }
    }
}

/// Reads from a blocking socket without blocking (`MSG_DONTWAIT`); the
/// socket stays blocking for the writer thread's sake.
struct NonBlocking<'a>(&'a TcpStream);

impl Read for NonBlocking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: the fd is a valid socket; `buf` is valid for its length.
        let n = unsafe {
            libc::recv(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT)
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

/// The reader thread of one connection.
pub(crate) fn run(conn: &Arc<Conn>, decoder: Decoder, proto: Proto, session: Arc<dyn Session>) {
    match conn.role {
        // A client mostly waits for replies: let requesters read them.
        Role::Client => run_shared(conn, decoder, proto, session),
        // A server mostly answers: the reader thread reads alone, with one
        // blocking read per arrival and no extra system call.
        Role::Server => run_alone(conn, decoder, proto, &*session),
    }
}

fn run_alone(conn: &Arc<Conn>, mut decoder: Decoder, mut proto: Proto, session: &dyn Session) {
    let mut tick = proto.tick_interval(conn);
    let _ = conn.stream.set_read_timeout(Some(tick));
    let end = loop {
        if let Some(end) = process(conn, &mut decoder, &mut proto, session) {
            break fault(conn, end);
        }
        if conn.is_closed() {
            break local_end(conn);
        }
        match decoder.read_from(&mut &conn.stream, conn.cfg.buffer_size) {
            Ok(0) => break peer_closed(conn, &decoder),
            Ok(n) => conn.count_read(n),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break read_failed(conn, &e),
        }
        if let Flow::Close(end) = proto.on_tick(conn) {
            break fault(conn, end);
        }
        let next = proto.tick_interval(conn);
        if next != tick {
            tick = next;
            let _ = conn.stream.set_read_timeout(Some(tick));
        }
    };
    finish(conn, end, session);
}

fn run_shared(conn: &Arc<Conn>, decoder: Decoder, proto: Proto, session: Arc<dyn Session>) {
    let side = match ReadSide::new(conn, decoder, proto, &session) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let end =
                EndReason::new(super::EndKind::Error, format!("cannot watch the socket: {e}"));
            finish(conn, end, &*session);
            return;
        }
    };
    conn.set_read_side(side.clone());
    let end = loop {
        let tick = lock(&side.state).proto.tick_interval(conn);
        let ready = side.wait_readable(tick);
        let mut st = match side.state.try_lock() {
            Ok(st) => st,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                // A requester holds the socket, asleep in epoll: the edge we
                // took may be its reply. Wake it to read.
                if ready {
                    side.kick();
                }
                lock(&side.state)
            }
        };
        if let Some(end) = st.end.clone() {
            break end;
        }
        if ready {
            if let Some(end) = side.pump(conn, &mut st) {
                break end;
            }
        } else if conn.is_closed() {
            break local_end(conn);
        }
        if let Flow::Close(end) = st.proto.on_tick(conn) {
            break fault(conn, end);
        }
    };
    conn.clear_read_side();
    finish(conn, end, &*session);
}

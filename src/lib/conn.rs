//! One connection's shared state and the [`Peer`] handle to it.
//!
//! Writing: a sender first tries to hand its bytes straight to the kernel
//! without blocking (header and payload in one `sendmsg`, no copy). Only
//! what the kernel does not take is queued, and the socket core drains the
//! queue; while it drains, later frames join the queue and go out coalesced
//! in large writes. The queue is bounded by `max_outbound_bytes`: a peer
//! that stops reading is disconnected instead of growing our memory.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::ConnConfig;
use crate::core::{EndKind, EndReason};
use crate::correlation::{lock, Pending};
use crate::dispatch::Mailbox;
use crate::error::{Error, Result};
use crate::frame::{crc32, now_ms, Frame, Header, RequestId};
use crate::types;

/// Traffic counters of one connection.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub reads: AtomicU64,
}

/// A snapshot of a connection's traffic counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// `read` system calls made (shows the effect of the buffer size).
    pub reads: u64,
}

#[derive(Default)]
struct Out {
    /// Bytes the kernel has not taken yet, in order, from `head` on.
    buf: Vec<u8>,
    head: usize,
    /// The core is draining `buf`; new bytes must queue behind it.
    draining: bool,
    /// The threads core's writer thread exists.
    writer: bool,
    closed: bool,
    /// Threads asleep on `out_cv`: a notify is a system call even when
    /// nobody waits, so the hot paths make it only when somebody does.
    waiters: usize,
}

/// Which end of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Server,
    Client,
}

/// Shared state of one connection.
pub(crate) struct Conn {
    pub id: u64,
    pub peer: SocketAddr,
    pub role: Role,
    pub stream: TcpStream,
    pub cfg: Arc<ConnConfig>,
    pub pending: Pending,
    pub mailbox: Arc<Mailbox>,
    pub counters: Counters,
    pub connected_at: Instant,
    out: Mutex<Out>,
    out_cv: Condvar,
    /// `out.draining`, readable without the lock (set and cleared under it),
    /// so a writable event with nothing queued costs no lock.
    queued: AtomicBool,
    established: AtomicBool,
    closed: AtomicBool,
    close_reason: Mutex<Option<EndReason>>,
    peer_version: Mutex<Option<String>>,
    tags: Mutex<HashMap<String, serde_json::Value>>,
    /// The reading half of a client connection, which a requester drives
    /// to read its own reply.
    read_side: std::sync::OnceLock<Arc<crate::core::read_side::ReadSide>>,
    /// The poll core's slot for this connection (usize::MAX: none).
    pub(crate) poll_token: std::sync::atomic::AtomicUsize,
    /// Who drains the outbound queue when the kernel's buffer is full.
    poll_drain: std::sync::OnceLock<Arc<dyn Fn() + Send + Sync>>,
    /// The server this connection belongs to (server side only).
    server: std::sync::OnceLock<std::sync::Weak<crate::server::Inner>>,
}

impl Conn {
    /// Set once, when the core starts reading a client connection (it
    /// outlives the reading: a requester after the end finds it ended).
    pub(crate) fn set_read_side(&self, side: Arc<crate::core::read_side::ReadSide>) {
        let _ = self.read_side.set(side);
    }

    /// Has the poll loop that owns the socket drain the queue (by calling
    /// `wake`), instead of a writer thread started on first need.
    pub(crate) fn set_poll_drain(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        let _ = self.poll_drain.set(wake);
    }

    pub(crate) fn set_server(&self, s: std::sync::Weak<crate::server::Inner>) {
        let _ = self.server.set(s);
    }

    pub(crate) fn new(
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        role: Role,
        cfg: Arc<ConnConfig>,
        mailbox: Arc<Mailbox>,
    ) -> Arc<Conn> {
        let _ = stream.set_nodelay(true);
        crate::core::read_side::report_bytes_left(&stream);
        Arc::new(Conn {
            id,
            peer,
            role,
            stream,
            cfg,
            pending: Pending::new(),
            mailbox,
            counters: Counters::default(),
            connected_at: Instant::now(),
            out: Mutex::new(Out::default()),
            out_cv: Condvar::new(),
            queued: AtomicBool::new(false),
            established: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            close_reason: Mutex::new(None),
            peer_version: Mutex::new(None),
            tags: Mutex::new(HashMap::new()),
            server: std::sync::OnceLock::new(),
            poll_drain: std::sync::OnceLock::new(),
            poll_token: std::sync::atomic::AtomicUsize::new(usize::MAX),
            read_side: std::sync::OnceLock::new(),
        })
    }

    pub(crate) fn is_established(&self) -> bool {
        self.established.load(Ordering::Acquire)
    }

    pub(crate) fn set_established(&self, peer_version: String) {
        *lock(&self.peer_version) = Some(peer_version);
        self.established.store(true, Ordering::Release);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn close_reason(&self) -> Option<String> {
        lock(&self.close_reason).as_ref().map(|r| r.message.clone())
    }

    /// The first recorded reason the connection ended.
    pub(crate) fn end_reason(&self) -> Option<EndReason> {
        lock(&self.close_reason).clone()
    }

    /// Sends one frame built from its parts.
    pub(crate) fn send_parts(
        self: &Arc<Self>,
        type_code: u16,
        id: RequestId,
        payload: &[u8],
    ) -> Result<()> {
        let header = Header {
            type_code,
            size: u32::try_from(payload.len())
                .map_err(|_| crate::ProtocolError::PayloadTooLarge(payload.len() as u64))?,
            crc: crc32(payload),
            timestamp_ms: now_ms(),
            request_id: id,
        }
        .to_bytes();
        self.send_bytes(&[&header, payload], 1)
    }

    /// Sends already-encoded bytes holding `frames` whole frames.
    pub(crate) fn send_bytes(self: &Arc<Self>, parts: &[&[u8]], frames: u64) -> Result<()> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut out = lock(&self.out);
        loop {
            if out.closed {
                return Err(Error::Closed(self.close_reason()));
            }
            let over =
                out.draining && out.buf.len() - out.head + total > self.cfg.max_outbound_bytes;
            // A client waits for room (back-pressure to its application,
            // like a blocking socket); a server never waits for one slow
            // peer, and an I/O thread never waits at all.
            if !over || self.role == Role::Server || crate::dispatch::never_wait() {
                break;
            }
            out = self.wait_out(out);
        }
        if !out.draining {
            // Fast path: straight to the kernel, no copy, no hand-off.
            let sent = match try_send(&self.stream, parts) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) => {
                    drop(out);
                    self.close_err(&format!("write failed: {e}"));
                    return Err(Error::Io(e));
                }
            };
            self.counters.bytes_out.fetch_add(sent as u64, Ordering::Relaxed);
            if sent == total {
                self.counters.frames_out.fetch_add(frames, Ordering::Relaxed);
                return Ok(());
            }
            append_from(&mut out.buf, parts, sent);
            out.draining = true;
            self.queued.store(true, Ordering::Release);
            self.counters.frames_out.fetch_add(frames, Ordering::Relaxed);
            match self.poll_drain.get() {
                Some(wake) => {
                    drop(out);
                    wake();
                }
                None => {
                    let spawn = !out.writer;
                    out.writer = true;
                    self.notify_out(out);
                    if spawn {
                        self.spawn_writer();
                    }
                }
            }
            return Ok(());
        }
        if self.role == Role::Server
            && out.buf.len() - out.head + total > self.cfg.max_outbound_bytes
        {
            let queued = out.buf.len() - out.head;
            drop(out);
            let limit = self.cfg.max_outbound_bytes;
            log::warn!(
                "peer {} does not read fast enough: {queued} bytes queued, limit {limit}; disconnecting",
                self.peer
            );
            self.close_err(&format!(
                "outbound queue over its limit of {limit} bytes (slow reader)"
            ));
            return Err(Error::QueueFull { queued, limit });
        }
        append_from(&mut out.buf, parts, 0);
        self.counters.frames_out.fetch_add(frames, Ordering::Relaxed);
        self.notify_out(out);
        Ok(())
    }

    /// Starts the thread that drains the outbound queue with blocking writes.
    fn spawn_writer(self: &Arc<Self>) {
        let stream = match self.stream.try_clone() {
            Ok(s) => s,
            Err(e) => {
                self.close_err(&format!("cannot clone socket for writing: {e}"));
                return;
            }
        };
        // The writer ends when the connection closes.
        let conn = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("veltix-w{}", self.id))
            .spawn(move || writer_loop(&conn, stream));
        if let Err(e) = spawned {
            self.close_err(&format!("cannot start writer thread: {e}"));
        }
    }

    /// Writes what is queued without blocking (the poll core, on a
    /// writable event). Returns true when the queue is empty.
    pub(crate) fn drain_nonblocking(&self) -> bool {
        if !self.queued.load(Ordering::Acquire) {
            // Nothing queued (a writable edge that came with a readable
            // one); a sender that queues later asks for a drain itself.
            return true;
        }
        let mut out = lock(&self.out);
        while out.head < out.buf.len() {
            match try_send(&self.stream, &[&out.buf[out.head..]]) {
                Ok(n) => {
                    out.head += n;
                    self.counters.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Progress frees room for senders waiting on it.
                    self.notify_out(out);
                    return false;
                }
                Err(e) => {
                    drop(out);
                    self.close_err(&format!("write failed: {e}"));
                    return true;
                }
            }
        }
        out.buf.clear();
        out.head = 0;
        if out.buf.capacity() > 1 << 20 {
            out.buf = Vec::new();
        }
        out.draining = false;
        self.queued.store(false, Ordering::Release);
        self.notify_out(out);
        true
    }

    /// Sleeps on `out_cv`, counted in `waiters`.
    fn wait_out<'a>(&self, mut out: MutexGuard<'a, Out>) -> MutexGuard<'a, Out> {
        out.waiters += 1;
        let mut out = self.out_cv.wait(out).unwrap_or_else(|e| e.into_inner());
        out.waiters -= 1;
        out
    }

    /// Releases `out` and wakes whoever sleeps on `out_cv`, if anybody does.
    fn notify_out(&self, out: MutexGuard<'_, Out>) {
        let wake = out.waiters > 0;
        drop(out);
        if wake {
            self.out_cv.notify_all();
        }
    }

    /// Waits (up to `timeout`) until everything queued has been written.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut out = lock(&self.out);
        while out.draining && !out.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            out.waiters += 1;
            out = self
                .out_cv
                .wait_timeout(out, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
            out.waiters -= 1;
        }
        !out.draining
    }

    /// Closes the connection at once on our own initiative (queued bytes
    /// are dropped). The core's reader sees the shutdown and runs the
    /// disconnect path. Idempotent: the first reason is kept.
    pub(crate) fn close(&self, reason: &str) {
        self.close_as(EndKind::Local, reason);
    }

    /// Closes the connection because of a fault.
    pub(crate) fn close_err(&self, reason: &str) {
        self.close_as(EndKind::Error, reason);
    }

    pub(crate) fn close_as(&self, kind: EndKind, reason: &str) {
        self.close_with(EndReason::new(kind, reason));
    }

    /// Closes with a full reason (kept only if it is the first).
    pub(crate) fn close_with(&self, reason: EndReason) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        *lock(&self.close_reason) = Some(reason);
        {
            let mut out = lock(&self.out);
            out.closed = true;
            out.buf = Vec::new();
            out.head = 0;
        }
        self.out_cv.notify_all();
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Flushes what is queued (bounded by `timeout`), then closes.
    pub(crate) fn close_gracefully(&self, reason: EndReason, timeout: Duration) {
        self.flush(timeout);
        self.close_with(reason);
    }

    pub(crate) fn tags(&self) -> std::sync::MutexGuard<'_, HashMap<String, serde_json::Value>> {
        lock(&self.tags)
    }

    /// Counts one successful read of `n` bytes.
    pub(crate) fn count_read(&self, n: usize) {
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> ConnStats {
        let c = &self.counters;
        ConnStats {
            frames_in: c.frames_in.load(Ordering::Relaxed),
            frames_out: c.frames_out.load(Ordering::Relaxed),
            bytes_in: c.bytes_in.load(Ordering::Relaxed),
            bytes_out: c.bytes_out.load(Ordering::Relaxed),
            reads: c.reads.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn peer_version(&self) -> Option<String> {
        lock(&self.peer_version).clone()
    }
}

fn writer_loop(conn: &Conn, mut stream: TcpStream) {
    use std::io::Write;
    loop {
        let chunk = {
            let mut out = lock(&conn.out);
            loop {
                if out.head < out.buf.len() {
                    let head = std::mem::take(&mut out.head);
                    let mut chunk = std::mem::take(&mut out.buf);
                    chunk.drain(..head);
                    break chunk;
                }
                out.draining = false;
                conn.queued.store(false, Ordering::Release);
                if out.waiters > 0 {
                    conn.out_cv.notify_all();
                }
                if out.closed {
                    return;
                }
                out = conn.wait_out(out);
            }
        };
        if let Err(e) = stream.write_all(&chunk) {
            conn.close_err(&format!("write failed: {e}"));
            return;
        }
        conn.counters.bytes_out.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        // Senders waiting for room may go on.
        conn.out_cv.notify_all();
        // Keep the allocation for the next batch if nothing queued meanwhile.
        let mut out = lock(&conn.out);
        if out.buf.is_empty() && chunk.capacity() <= 1 << 20 {
            let mut chunk = chunk;
            chunk.clear();
            out.buf = chunk;
        }
    }
}

fn append_from(buf: &mut Vec<u8>, parts: &[&[u8]], mut skip: usize) {
    for p in parts {
        if skip >= p.len() {
            skip -= p.len();
            continue;
        }
        buf.extend_from_slice(&p[skip..]);
        skip = 0;
    }
}

/// One non-blocking `sendmsg` of all parts (at most 4); returns the bytes
/// the kernel took, which is less than offered when its buffer is full.
#[cfg(unix)]
fn try_send(stream: &TcpStream, parts: &[&[u8]]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    debug_assert!(parts.len() <= 4);
    let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; 4];
    let n = parts.len().min(4);
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

/// A handle to one connection: the server's view of a client, or the
/// client's view of its server. Cheap to clone; safe to use from any
/// thread and from callbacks.
#[derive(Clone)]
pub struct Peer {
    pub(crate) conn: Arc<Conn>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("id", &self.conn.id).field("addr", &self.conn.peer).finish()
    }
}

impl Peer {
    /// The connection's id, unique within its server (1, 2, ...).
    pub fn id(&self) -> u64 {
        self.conn.id
    }

    /// The remote address.
    pub fn addr(&self) -> SocketAddr {
        self.conn.peer
    }

    /// The protocol version the peer announced in the handshake.
    pub fn peer_version(&self) -> Option<String> {
        self.conn.peer_version()
    }

    /// The server this client is connected to, for server-side callbacks
    /// that reach other clients (`None` on the client side).
    pub fn server(&self) -> Option<crate::server::ServerHandle> {
        self.conn.server.get().map(|w| crate::server::ServerHandle::from_weak(w.clone()))
    }

    /// How long ago the TCP connection was made.
    pub fn connected_for(&self) -> Duration {
        self.conn.connected_at.elapsed()
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        !self.conn.is_closed()
    }

    /// Why the connection was closed, once it is.
    pub fn close_reason(&self) -> Option<String> {
        self.conn.close_reason()
    }

    /// Traffic counters.
    pub fn stats(&self) -> ConnStats {
        self.conn.stats()
    }

    /// Sends a message with a fresh request id; returns the id used.
    pub fn send(&self, type_code: u16, payload: &[u8]) -> Result<RequestId> {
        let id = self.conn.pending.fresh_id();
        self.conn.send_parts(type_code, id, payload)?;
        Ok(id)
    }

    /// Sends a message with the given request id.
    pub fn send_with_id(&self, type_code: u16, id: RequestId, payload: &[u8]) -> Result<()> {
        self.conn.send_parts(type_code, id, payload)
    }

    /// Sends a whole frame as it is (its timestamp is kept).
    pub fn send_frame(&self, frame: &Frame) -> Result<()> {
        let bytes = frame.encode()?;
        self.conn.send_bytes(&[&bytes], 1)
    }

    /// Answers `request` with the same type and request id.
    pub fn reply(&self, request: &Frame, payload: &[u8]) -> Result<()> {
        self.conn.send_parts(request.type_code, request.request_id, payload)
    }

    /// Sends a message and blocks until the frame with the same request id
    /// comes back, or `timeout` passes ([`Error::Timeout`]). An ERROR frame
    /// in reply is returned as [`crate::ProtocolError::PeerError`].
    pub fn send_and_wait(
        &self,
        type_code: u16,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Frame> {
        if crate::dispatch::in_inline_callback() {
            return Err(Error::InlineCallback);
        }
        let deadline = Instant::now() + timeout;
        let (id, slot) = self.conn.pending.register();
        // A client reads the reply on this thread (no hand-off); it says so
        // before sending, so the core leaves the reply to it.
        let side = self.conn.read_side.get();
        let seen = side.map_or(0, |s| s.enter());
        if let Err(e) = self.conn.send_parts(type_code, id, payload) {
            if let Some(side) = side {
                side.leave(&self.conn, seen);
            }
            self.conn.pending.cancel(id);
            return Err(e);
        }
        if let Some(side) = side {
            side.read_until(&self.conn, deadline, &|| slot.is_filled(), seen);
        }
        self.conn.pending.wait_until(id, &slot, deadline, timeout)
    }

    /// Sends a PING and returns the round-trip time, measured with a
    /// monotonic clock.
    pub fn ping(&self, timeout: Duration) -> Result<Duration> {
        let start = Instant::now();
        self.send_and_wait(types::PING, &[], timeout)?;
        Ok(start.elapsed())
    }

    /// Closes the connection (what is queued is flushed first, up to 1 s).
    pub fn close(&self) {
        self.conn.close_gracefully(
            EndReason::new(EndKind::Local, "closed locally"),
            Duration::from_secs(1),
        );
    }

    /// Adds a tag with an optional value; false if it already exists.
    pub fn add_tag(&self, name: &str, value: Option<serde_json::Value>) -> bool {
        let mut tags = self.conn.tags();
        if tags.contains_key(name) {
            return false;
        }
        tags.insert(name.to_string(), value.unwrap_or(serde_json::Value::Null));
        true
    }

    /// Whether the tag exists.
    pub fn has_tag(&self, name: &str) -> bool {
        self.conn.tags().contains_key(name)
    }

    /// Whether every tag exists.
    pub fn has_all_tags(&self, names: &[&str]) -> bool {
        let tags = self.conn.tags();
        names.iter().all(|n| tags.contains_key(*n))
    }

    /// Whether at least one of the tags exists.
    pub fn has_any_tags(&self, names: &[&str]) -> bool {
        let tags = self.conn.tags();
        names.iter().any(|n| tags.contains_key(*n))
    }

    /// A tag's value (`Some(Null)` for a tag without value).
    pub fn get_tag(&self, name: &str) -> Option<serde_json::Value> {
        self.conn.tags().get(name).cloned()
    }

    /// Removes a tag; false if it did not exist.
    pub fn remove_tag(&self, name: &str) -> bool {
        self.conn.tags().remove(name).is_some()
    }

    /// Removes every tag.
    pub fn clear_tags(&self) {
        self.conn.tags().clear();
    }

    /// Every tag name, sorted.
    pub fn tag_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.conn.tags().keys().cloned().collect();
        v.sort();
        v
    }
}

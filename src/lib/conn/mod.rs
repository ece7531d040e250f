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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::codec::frame::RequestId;
use crate::codec::{encode_header, Class, Wire};
use crate::config::ConnConfig;
use crate::dispatch::Mailbox;
use crate::error::{EndKind, EndReason, Error, Result};
use crate::net::try_send;
use crate::session::requests::Pending;
use crate::session::Counts;
pub(crate) use crate::session::Role;
use crate::sync::lock;

mod peer;

pub use peer::{Peer, ServerHandle};

/// Totals since the server started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Clients that completed the handshake.
    pub clients_served: u64,
    /// Clients connected now.
    pub clients_now: usize,
    /// Frames received from all clients, past and present.
    pub frames_in: u64,
    /// Frames sent to all clients, past and present.
    pub frames_out: u64,
    /// Connections refused because of `max_connections`.
    pub refused: u64,
}

/// What a server offers to the handles of its connections (implemented by
/// the server; this layer knows nothing else of it).
pub(crate) trait Hub: Send + Sync {
    /// The established clients, by id.
    fn clients(&self) -> Vec<Arc<Conn>>;
    /// One established client.
    fn client(&self, id: u64) -> Option<Arc<Conn>>;
    /// One message to every established client but `except`.
    fn broadcast(&self, type_code: u16, payload: &[u8], except: Option<u64>) -> Result<usize>;
    /// Totals since start.
    fn stats(&self) -> ServerStats;
}

/// The reading half of a client connection, which a thread waiting in
/// `send_and_wait` drives to read its own reply. The socket cores
/// implement it (see `core::read_side`); this layer only calls it.
pub(crate) trait ReplyReader: Send + Sync {
    /// A requester is about to send; returns the count of arrivals left
    /// to requesters so far, for `leave`.
    fn enter(&self) -> u64;
    /// Reads on the calling thread until `done()` holds or `deadline`
    /// passes, then leaves.
    fn read_until(&self, conn: &Arc<Conn>, deadline: Instant, done: &dyn Fn() -> bool, seen: u64);
    /// A requester that did not read (its send failed) is done.
    fn leave(&self, conn: &Arc<Conn>, seen: u64);
}

/// Traffic counters of one connection.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Frames received and sent, by class (system, application, plugin).
    pub frames_in_class: [AtomicU64; 3],
    pub frames_out_class: [AtomicU64; 3],
    /// Messages dropped: the connection ended as a slow reader (what was
    /// queued), frames refused for their size, frames with a bad CRC.
    pub dropped_slow: AtomicU64,
    pub dropped_oversize: AtomicU64,
    pub dropped_crc: AtomicU64,
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

/// Shared state of one connection.
pub(crate) struct Conn {
    pub id: u64,
    pub peer: SocketAddr,
    pub role: Role,
    /// The wire profile the connection speaks.
    pub wire: Wire,
    pub stream: TcpStream,
    pub cfg: Arc<ConnConfig>,
    pub pending: Arc<Pending>,
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
    read_side: OnceLock<Arc<dyn ReplyReader>>,
    /// The poll core's slot for this connection (usize::MAX: none).
    pub(crate) poll_token: std::sync::atomic::AtomicUsize,
    /// Who drains the outbound queue when the kernel's buffer is full.
    poll_drain: OnceLock<Arc<dyn Fn() + Send + Sync>>,
    /// The server this connection belongs to (server side only).
    hub: OnceLock<Weak<dyn Hub>>,
    /// TLS: set before the first byte is sent or read (see `crate::tls`).
    #[cfg(feature = "tls")]
    tls: OnceLock<crate::tls::TlsState>,
}

impl Conn {
    /// Set once, when the core starts reading a client connection (it
    /// outlives the reading: a requester after the end finds it ended).
    pub(crate) fn set_read_side(&self, side: Arc<dyn ReplyReader>) {
        let _ = self.read_side.set(side);
    }

    /// The reading half a requester drives, on a client connection.
    pub(crate) fn read_side(&self) -> Option<&Arc<dyn ReplyReader>> {
        self.read_side.get()
    }

    /// Has the poll loop that owns the socket drain the queue (by calling
    /// `wake`), instead of a writer thread started on first need.
    pub(crate) fn set_poll_drain(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        let _ = self.poll_drain.set(wake);
    }

    /// Sets the server this connection belongs to.
    pub(crate) fn set_hub(&self, s: Weak<dyn Hub>) {
        let _ = self.hub.set(s);
    }

    /// The server this connection belongs to (server side only).
    pub(crate) fn hub(&self) -> Option<Weak<dyn Hub>> {
        self.hub.get().cloned()
    }

    // Each argument is a distinct part of a connection, set once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: u64,
        stream: TcpStream,
        peer: SocketAddr,
        role: Role,
        wire: Wire,
        cfg: Arc<ConnConfig>,
        pending: Arc<Pending>,
        mailbox: Arc<Mailbox>,
    ) -> Arc<Conn> {
        let _ = stream.set_nodelay(true);
        crate::net::report_bytes_left(&stream);
        Arc::new(Conn {
            id,
            peer,
            role,
            wire,
            stream,
            cfg,
            pending,
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
            hub: OnceLock::new(),
            poll_drain: OnceLock::new(),
            poll_token: std::sync::atomic::AtomicUsize::new(usize::MAX),
            read_side: OnceLock::new(),
            #[cfg(feature = "tls")]
            tls: OnceLock::new(),
        })
    }

    /// Makes this a TLS connection: call before anything is sent or read.
    #[cfg(feature = "tls")]
    pub(crate) fn set_tls(&self, tls: crate::tls::TlsState) {
        let _ = self.tls.set(tls);
    }

    /// What the TLS connection negotiated (`None`: plain TCP, or a
    /// handshake still under way).
    #[cfg(feature = "tls")]
    pub(crate) fn tls_info(&self) -> Option<crate::tls::TlsInfo> {
        self.tls.get().and_then(|t| t.info())
    }

    /// A TLS connection's ciphertext for `parts` (with whatever TLS bytes
    /// were due before them); `None` on a plain connection. Called under
    /// the `out` lock, so ciphertext is queued in the order it was made
    /// (lock order: `out`, then the TLS state).
    fn seal(&self, parts: &[&[u8]]) -> io::Result<Option<Vec<u8>>> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return tls.seal(parts).map(Some);
        }
        let _ = parts;
        Ok(None)
    }

    /// One read of the socket into `decoder`, through TLS on a TLS
    /// connection (whose handshake flights, alerts and tickets then go out
    /// through the outbound queue). Returns the bytes read from the socket
    /// (0: end of stream).
    pub(crate) fn read_into<R: io::Read + ?Sized>(
        self: &Arc<Self>,
        decoder: &mut crate::codec::decoder::Decoder,
        r: &mut R,
    ) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            let read = tls.open(r, decoder, self.cfg.buffer_size);
            if tls.wants_write() {
                // No plaintext: only what rustls has to say.
                let _ = self.send_bytes(&[], 0, Class::System);
            }
            return read;
        }
        decoder.read_from(r, self.cfg.buffer_size)
    }

    /// Whether a reader may stop after a read that left the socket empty
    /// (`socket_drained`): on TLS, not while a close_notify is still to be
    /// reported as the end of stream.
    pub(crate) fn drained(&self, socket_drained: bool) -> bool {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            return socket_drained && !tls.holds_more();
        }
        socket_drained
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

    /// Refuses a frame of `payload_len` bytes of payload over our own
    /// `max_message_size`.
    pub(crate) fn check_size(&self, payload_len: usize) -> Result<()> {
        let size = self.wire.header_len() as u64 + payload_len as u64;
        let limit = self.cfg.max_message_size as u64;
        if size > limit {
            return Err(Error::MessageTooLarge { size, limit });
        }
        Ok(())
    }

    /// Sends one frame built from its parts.
    pub(crate) fn send_parts(
        self: &Arc<Self>,
        type_code: u16,
        id: RequestId,
        payload: &[u8],
    ) -> Result<()> {
        let header = encode_header(self.wire, type_code, id, payload)?;
        self.send_bytes(&[header.as_slice(), payload], 1, self.wire.class(type_code))
    }

    /// Sends already-encoded bytes holding `frames` whole frames of `class`.
    pub(crate) fn send_bytes(
        self: &Arc<Self>,
        parts: &[&[u8]],
        frames: u64,
        class: Class,
    ) -> Result<()> {
        let mut total: usize = parts.iter().map(|p| p.len()).sum();
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
        // TLS: the ciphertext takes the place of the parts.
        let sealed = match self.seal(parts) {
            Ok(s) => s,
            Err(e) => {
                drop(out);
                self.close_err(&format!("TLS: {e}"));
                return Err(Error::Io(e));
            }
        };
        let one: [&[u8]; 1];
        let parts = match &sealed {
            Some(c) => {
                total = c.len();
                one = [c.as_slice()];
                &one[..]
            }
            None => parts,
        };
        if total == 0 {
            // Plaintext rustls keeps until its handshake is done.
            self.count_out(frames, class);
            return Ok(());
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
                self.count_out(frames, class);
                return Ok(());
            }
            append_from(&mut out.buf, parts, sent);
            out.draining = true;
            self.queued.store(true, Ordering::Release);
            self.count_out(frames, class);
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
            self.counters.dropped_slow.fetch_add(frames, Ordering::Relaxed);
            self.close_err(&format!(
                "outbound queue over its limit of {limit} bytes (slow reader)"
            ));
            return Err(Error::QueueFull { queued, limit });
        }
        append_from(&mut out.buf, parts, 0);
        self.count_out(frames, class);
        self.notify_out(out);
        Ok(())
    }

    fn count_out(&self, frames: u64, class: Class) {
        self.counters.frames_out_class[class.index()].fetch_add(frames, Ordering::Relaxed);
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
            self.say_close_notify(&out);
            out.closed = true;
            out.buf = Vec::new();
            out.head = 0;
        }
        self.out_cv.notify_all();
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// TLS: tells the peer we close (best effort, without blocking, and
    /// only behind nothing queued). A plain client on a TLS port reads
    /// this alert and can say what the port speaks.
    fn say_close_notify(&self, out: &Out) {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            if !out.draining && !out.closed {
                let _ = try_send(&self.stream, &[&tls.close_notify()]);
            }
        }
        let _ = out;
    }

    /// Flushes what is queued (bounded by `timeout`), then closes.
    pub(crate) fn close_gracefully(&self, reason: EndReason, timeout: Duration) {
        self.flush(timeout);
        self.close_with(reason);
    }

    pub(crate) fn tags(&self) -> std::sync::MutexGuard<'_, HashMap<String, serde_json::Value>> {
        lock(&self.tags)
    }

    /// Counts what the session received.
    pub(crate) fn count_in(&self, c: &Counts) {
        let k = &self.counters;
        for (slot, n) in k.frames_in_class.iter().zip(c.frames_in) {
            if n > 0 {
                slot.fetch_add(n, Ordering::Relaxed);
            }
        }
        if c.bad_crc > 0 {
            k.dropped_crc.fetch_add(c.bad_crc, Ordering::Relaxed);
        }
        if c.oversize > 0 {
            k.dropped_oversize.fetch_add(c.oversize, Ordering::Relaxed);
        }
    }

    /// The bytes waiting in the outbound queue.
    pub(crate) fn outbound_len(&self) -> usize {
        let out = lock(&self.out);
        out.buf.len() - out.head
    }

    /// Counts one successful read of `n` bytes.
    pub(crate) fn count_read(&self, n: usize) {
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> ConnStats {
        let c = &self.counters;
        ConnStats {
            // The totals are the sums of the per-class counters.
            frames_in: c.frames_in_class.iter().map(|a| a.load(Ordering::Relaxed)).sum(),
            frames_out: c.frames_out_class.iter().map(|a| a.load(Ordering::Relaxed)).sum(),
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

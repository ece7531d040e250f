//! One connection's shared state and the [`Peer`] handle to it.
//!
//! Writing ("smart batching"): a sender that finds the connection idle
//! hands its bytes straight to the kernel without blocking (header and
//! payload in one `sendmsg`, no copy), outside the queue's lock. Senders
//! that come while that write (or the core's drain) is under way only
//! append to the queue, and the writer takes everything queued in its next
//! write: under concurrent sends, one system call carries many frames, and
//! a lone frame on an idle connection still goes out at once. What the
//! kernel does not take is drained by the socket core (the poll loop, or a
//! writer thread started on first need), and later frames join the queue
//! meanwhile. A [`Pipeline`] only appends, and writes once about 128 KiB
//! have gathered or when flushed. The queue is bounded by
//! `max_outbound_bytes`: a peer that stops reading is disconnected (server)
//! or makes its sender wait (client) instead of growing our memory.

use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::codec::frame::{coarse_now_ms, RequestId};
use crate::codec::{encode_header, encode_header_at, Class, Wire};
use crate::config::ConnConfig;
use crate::dispatch::Mailbox;
use crate::error::{EndKind, EndReason, Error, Result};
use crate::net::try_send;
use crate::session::requests::Pending;
use crate::session::Counts;
pub(crate) use crate::session::Role;
use crate::sync::lock;

mod peer;
mod pipeline;
mod queue;

use queue::{Pool, Queue};

pub use peer::{Peer, ServerHandle};
pub use pipeline::Pipeline;

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
    pub writes: AtomicU64,
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
    /// Writes to the socket that took bytes (shows how sends were
    /// batched: fewer writes than frames sent).
    pub writes: u64,
}

/// Pipelined bytes queued before they are written in one go.
pub(crate) const CORK_BYTES: usize = 128 * 1024;

/// Writes one sender makes for others before the core takes over.
const WRITE_ROUNDS: usize = 8;

#[derive(Default)]
struct Out {
    /// Bytes the kernel has not taken yet, in order.
    q: Queue,
    /// Written chunks, for the bytes appended next (also while a writer
    /// has taken the queue out of the lock).
    pool: Pool,
    /// Bytes a writer took out of the lock and has not put back: still
    /// queued as far as `max_outbound_bytes` goes.
    inflight: usize,
    /// A sender is writing, outside the lock; others append behind it.
    writing: bool,
    /// The core is draining `buf`; new bytes must queue behind it.
    draining: bool,
    /// The threads core's writer thread exists.
    writer: bool,
    closed: bool,
    /// Threads asleep on `out_cv`: a notify is a system call even when
    /// nobody waits, so the hot paths make it only when somebody does.
    waiters: usize,
}

impl Out {
    /// Bytes queued and not yet taken by the kernel, the writer's batch
    /// included.
    fn queued(&self) -> usize {
        self.q.len() + self.inflight
    }

    /// Appends `parts`, less their first `skip` bytes.
    fn append(&mut self, parts: &[&[u8]], skip: usize) {
        self.q.push(parts, skip, &mut self.pool);
    }

    /// The queue is empty and nobody writes: keep one chunk for the next
    /// batch, not the pool of a busy connection.
    fn settle(&mut self) {
        self.q.clear(&mut self.pool);
        self.pool.trim(1);
    }

    /// Takes what is queued for a write made outside the lock; its bytes
    /// stay counted against `max_outbound_bytes` until
    /// [`return_batch`](Out::return_batch).
    fn take_batch(&mut self) -> Queue {
        let batch = self.q.take();
        self.inflight = batch.len();
        batch
    }

    /// The writer is back: what it did not write goes in front of what was
    /// queued meanwhile.
    fn return_batch(&mut self, batch: Queue) {
        self.inflight = 0;
        self.q.put_back(batch);
    }

    /// A write is under way (a sender's or the core's).
    fn busy(&self) -> bool {
        self.writing || self.draining
    }
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
    /// Boxed: a plain connection pays one pointer, not a rustls
    /// connection's kilobyte.
    #[cfg(feature = "tls")]
    tls: OnceLock<Box<crate::tls::TlsState>>,
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
        let _ = self.tls.set(Box::new(tls));
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
        self.enqueue(parts, frames, class, false)
    }

    /// Queues one frame built from its parts without writing it yet (a
    /// pipeline): it goes out with what follows, in one write once
    /// [`CORK_BYTES`] are queued or at [`flush_queued`](Conn::flush_queued).
    pub(crate) fn queue_parts(
        self: &Arc<Self>,
        type_code: u16,
        id: RequestId,
        payload: &[u8],
    ) -> Result<()> {
        // Stamped from the coarse clock: the precise one would cost more
        // than the rest of queueing a small frame.
        let header = encode_header_at(self.wire, type_code, id, coarse_now_ms(), payload)?;
        let class = self.wire.class(type_code);
        self.enqueue(&[header.as_slice(), payload], 1, class, true)
    }

    /// Writes what pipelined sends left queued, unless a write is already
    /// under way (it takes them).
    pub(crate) fn flush_queued(self: &Arc<Self>) -> Result<()> {
        let mut out = lock(&self.out);
        if out.closed {
            return Err(Error::Closed(self.close_reason()));
        }
        if out.busy() || out.queued() == 0 {
            return Ok(());
        }
        out.writing = true;
        self.write_queued(out)
    }

    /// The send path. Whoever finds the connection idle writes, outside
    /// the lock; senders that come while a write is under way (a sender's
    /// or the core's) only append to the queue, and the writer takes all of
    /// it in its next write ("smart batching"). A lone frame on an idle
    /// connection goes straight to the kernel, without a copy.
    fn enqueue(
        self: &Arc<Self>,
        parts: &[&[u8]],
        frames: u64,
        class: Class,
        cork: bool,
    ) -> Result<()> {
        let mut total: usize = parts.iter().map(|p| p.len()).sum();
        let mut out = lock(&self.out);
        loop {
            if out.closed {
                return Err(Error::Closed(self.close_reason()));
            }
            let over = out.queued() > 0 && out.queued() + total > self.cfg.max_outbound_bytes;
            // A client waits for room (back-pressure to its application,
            // like a blocking socket); a server never waits for one slow
            // peer, and an I/O thread never waits at all.
            if !over || self.role == Role::Server || crate::dispatch::never_wait() {
                break;
            }
            if !out.busy() {
                // Pipelined bytes nobody writes yet: write them ourselves.
                out.writing = true;
                self.write_queued(out)?;
                out = lock(&self.out);
                continue;
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
        if !out.busy() && out.queued() == 0 && !cork {
            // Fast path: straight to the kernel, no copy, no hand-off.
            out.writing = true;
            drop(out);
            let (sent, mut out) = self.write_unlocked(parts)?;
            self.count_out(frames, class);
            if sent < total && !out.closed {
                // What the kernel did not take goes before what others
                // queued meanwhile.
                let mut rest = Queue::default();
                rest.push(parts, sent, &mut out.pool);
                out.q.put_back(rest);
            }
            return self.write_queued(out);
        }
        if self.role == Role::Server && out.queued() + total > self.cfg.max_outbound_bytes {
            let queued = out.queued();
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
        out.append(parts, 0);
        self.count_out(frames, class);
        if out.busy() {
            // The write under way takes these bytes too.
            if out.draining {
                self.notify_out(out);
            }
            return Ok(());
        }
        if cork && out.queued() < self.cork_bytes() {
            return Ok(());
        }
        out.writing = true;
        self.write_queued(out)
    }

    /// How many pipelined bytes wait for more before they are written.
    fn cork_bytes(&self) -> usize {
        CORK_BYTES.min(self.cfg.max_outbound_bytes / 2).max(1)
    }

    /// As the one writer (`out.writing` set by the caller), writes what is
    /// queued, outside the lock, until the queue is empty or the kernel's
    /// buffer is full; then hands the rest to the core's drain.
    fn write_queued<'a>(self: &'a Arc<Self>, mut out: MutexGuard<'a, Out>) -> Result<()> {
        for _ in 0..WRITE_ROUNDS {
            if out.closed || out.q.is_empty() {
                out.writing = false;
                out.settle();
                self.notify_out(out);
                return Ok(());
            }
            let mut batch = out.take_batch();
            drop(out);
            let (slices, k, offered) = batch.slices();
            let (n, relocked) = self.write_unlocked(&slices[..k])?;
            out = relocked;
            batch.advance(n, &mut out.pool);
            out.return_batch(batch);
            if n < offered {
                // The kernel's buffer is full: the rest, then what others
                // queued meanwhile, go to the core's drain.
                return self.hand_off(out);
            }
            // Progress frees room for senders waiting on it.
            if out.waiters > 0 {
                self.out_cv.notify_all();
            }
        }
        // Senders keep this one writing: let the core carry on.
        self.hand_off(out)
    }

    /// The writer's system call, made without the lock (`out.writing` is
    /// set); returns the bytes the kernel took and the lock again. A failed
    /// write closes the connection.
    fn write_unlocked(&self, parts: &[&[u8]]) -> Result<(usize, MutexGuard<'_, Out>)> {
        let sent = try_send(&self.stream, parts);
        let mut out = lock(&self.out);
        match sent {
            Ok(n) => {
                self.count_write(n);
                Ok((n, out))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok((0, out)),
            Err(e) => {
                out.writing = false;
                drop(out);
                self.write_failed(&e);
                Err(Error::Io(e))
            }
        }
    }

    /// Gives the queue to the core: the poll loop's drain, or the threads
    /// core's writer thread (started on first need).
    fn hand_off(self: &Arc<Self>, mut out: MutexGuard<'_, Out>) -> Result<()> {
        out.writing = false;
        out.draining = true;
        self.queued.store(true, Ordering::Release);
        match self.poll_drain.get() {
            Some(wake) => {
                // Whoever waits for the write under way to end (see
                // `flush_nonblocking`) may go on.
                self.notify_out(out);
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
        Ok(())
    }

    /// One write that took `n` bytes (none counted for a write that took
    /// nothing).
    fn count_write(&self, n: usize) {
        if n > 0 {
            self.counters.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
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
        if !out.draining {
            // Not ours to write: a sender is writing, or nothing is handed
            // to the core.
            return true;
        }
        // Only this connection's I/O thread drains it, so the queue can be
        // written outside the lock: senders append behind it meanwhile
        // instead of waiting for the system call.
        while !out.q.is_empty() {
            let mut batch = out.take_batch();
            drop(out);
            let (slices, k, _) = batch.slices();
            let sent = try_send(&self.stream, &slices[..k]);
            out = lock(&self.out);
            if out.closed {
                return true;
            }
            batch.advance(sent.as_ref().map_or(0, |n| *n), &mut out.pool);
            out.return_batch(batch);
            match sent {
                Ok(n) => {
                    self.count_write(n);
                    if out.waiters > 0 {
                        // Progress frees room for senders waiting on it.
                        self.out_cv.notify_all();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.notify_out(out);
                    return false;
                }
                Err(e) => {
                    drop(out);
                    self.write_failed(&e);
                    return true;
                }
            }
        }
        out.settle();
        out.draining = false;
        self.queued.store(false, Ordering::Release);
        self.notify_out(out);
        true
    }

    /// Writes what is queued without waiting for the kernel (an I/O
    /// thread about to close a connection): waits only for a sender's
    /// write under way, which never blocks, so that bytes it queued behind
    /// itself (an ERROR frame) are not dropped by the close.
    pub(crate) fn flush_nonblocking(self: &Arc<Self>) {
        let mut out = lock(&self.out);
        while out.writing && !out.closed {
            out = self.wait_out(out);
        }
        if out.draining {
            drop(out);
            self.drain_nonblocking();
        } else if out.queued() > 0 && !out.closed {
            out.writing = true;
            let _ = self.write_queued(out);
        }
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
    pub(crate) fn flush(self: &Arc<Self>, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        // Pipelined bytes nobody writes yet go first.
        let _ = self.flush_queued();
        let mut out = lock(&self.out);
        while out.busy() && !out.closed {
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
        !out.busy() && out.queued() == 0
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

    /// A write failed. When the peer is gone (it closed or reset the
    /// connection: EPIPE, ECONNRESET), what it sent before is still in the
    /// socket, an ERROR frame that says why or the last replies: only the
    /// sending side closes now (queued bytes dropped, further sends
    /// refused) and the reader reads to the end of the stream, which comes
    /// at once, and ends the connection there. Any other failure closes
    /// the connection at once.
    pub(crate) fn write_failed(&self, e: &io::Error) {
        use io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
        if !matches!(e.kind(), BrokenPipe | ConnectionReset | ConnectionAborted) {
            self.close_err(&format!("write failed: {e}"));
            return;
        }
        log::debug!("{}: write failed ({e}); reading what the peer sent before", self.peer);
        self.close_out(|_| {}, Shutdown::Write);
    }

    /// Closes the sending side: what is queued is dropped, senders waiting
    /// for room are woken (and refused), the socket is shut down `how`.
    /// `last` sees the queue before it goes.
    fn close_out(&self, last: impl FnOnce(&Out), how: Shutdown) {
        {
            let mut out = lock(&self.out);
            last(&out);
            out.closed = true;
            out.q = Queue::default();
            out.pool = Pool::default();
            out.inflight = 0;
        }
        self.out_cv.notify_all();
        let _ = self.stream.shutdown(how);
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
        self.close_out(|out| self.say_close_notify(out), Shutdown::Both);
    }

    /// TLS: tells the peer we close (best effort, without blocking, and
    /// only behind nothing queued). A plain client on a TLS port reads
    /// this alert and can say what the port speaks.
    fn say_close_notify(&self, out: &Out) {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.tls.get() {
            if !out.busy() && out.queued() == 0 && !out.closed {
                let _ = try_send(&self.stream, &[&tls.close_notify()]);
            }
        }
        let _ = out;
    }

    /// Flushes what is queued (bounded by `timeout`), then closes.
    pub(crate) fn close_gracefully(self: &Arc<Self>, reason: EndReason, timeout: Duration) {
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
        lock(&self.out).queued()
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
            writes: c.writes.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn peer_version(&self) -> Option<String> {
        lock(&self.peer_version).clone()
    }
}

fn writer_loop(conn: &Conn, mut stream: TcpStream) {
    use std::io::Write;
    loop {
        let mut batch = {
            let mut out = lock(&conn.out);
            loop {
                if out.closed {
                    return;
                }
                // The queue is this thread's only while it is handed the
                // draining: otherwise a sender may be writing (outside the
                // lock), or pipelined bytes wait for theirs, and a second
                // writer would reorder the stream.
                if out.draining {
                    if !out.q.is_empty() {
                        break out.take_batch();
                    }
                    out.draining = false;
                    // Idle again: the pool of a busy connection is not
                    // needed until the next batch.
                    out.settle();
                    conn.queued.store(false, Ordering::Release);
                    if out.waiters > 0 {
                        conn.out_cv.notify_all();
                    }
                }
                out = conn.wait_out(out);
            }
        };
        let mut written = Pool::default();
        while !batch.is_empty() {
            let (slices, k, _) = batch.slices();
            let io: [IoSlice<'_>; queue::MAX_SLICES] =
                std::array::from_fn(|i| IoSlice::new(slices[i]));
            match stream.write_vectored(&io[..k]) {
                Ok(0) => {
                    conn.close_err("write failed: the socket took no bytes");
                    return;
                }
                Ok(n) => {
                    conn.count_write(n);
                    batch.advance(n, &mut written);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    conn.write_failed(&e);
                    return;
                }
            }
        }
        {
            let mut out = lock(&conn.out);
            out.return_batch(batch);
            out.pool.absorb(written);
        }
        // Senders waiting for room may go on.
        conn.out_cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// The peer said something and reset the connection. Our write fails,
    /// but the connection is not closed under the reader's feet: it still
    /// has to read what the peer said (an ERROR frame saying why, say).
    #[test]
    fn a_write_to_a_peer_that_is_gone_leaves_what_it_sent_to_the_reader() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = l.local_addr().unwrap();
        let ours = TcpStream::connect(peer).unwrap();
        let (mut theirs, _) = l.accept().unwrap();
        theirs.write_all(b"last words").unwrap();
        // Dropped with a zero linger: a reset, not a FIN.
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: a valid socket and a `linger` that outlives the call.
        let set = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&theirs),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(set, 0);
        drop(theirs);
        let reader = ours.try_clone().unwrap();
        let conn = Conn::new(
            1,
            ours,
            peer,
            Role::Client,
            Wire::V1_6,
            Arc::new(ConnConfig::default()),
            Arc::new(Pending::new()),
            Mailbox::new(16, 1 << 20),
        );
        // The reset may take a moment to arrive; the first write after it fails.
        let failed = (0..200).find_map(|_| {
            let sent = conn.send_bytes(&[b"x"], 1, Class::System);
            if sent.is_ok() {
                std::thread::sleep(Duration::from_millis(5));
            }
            sent.err()
        });
        assert!(matches!(failed, Some(Error::Io(_))), "{failed:?}");
        assert!(!conn.is_closed(), "closed before the reader read the peer's last words");
        assert!(matches!(conn.send_bytes(&[b"y"], 1, Class::System), Err(Error::Closed(_))));
        let mut got = [0u8; 10];
        (&reader).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"last words");
    }

    #[test]
    fn a_batch_out_of_the_lock_still_counts_as_queued() {
        let mut out = Out::default();
        out.append(&[&[1u8; 1000]], 0);
        let mut batch = out.take_batch();
        out.append(&[&[2u8; 10]], 0);
        // Taken for a write: its bytes still count against the limit.
        assert_eq!(out.queued(), 1010);
        batch.advance(400, &mut out.pool);
        out.return_batch(batch);
        // Back: the unwritten 600 bytes go before the 10 queued meanwhile.
        assert_eq!(out.queued(), 610);
        let (slices, k, _) = out.q.slices();
        let all: Vec<u8> = slices[..k].concat();
        assert_eq!(&all[..600], &[1u8; 600][..]);
        assert_eq!(&all[600..], &[2u8; 10][..]);
    }
}

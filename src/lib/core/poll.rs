//! The `poll` socket core: a few I/O threads multiplex every connection
//! through mio (epoll), with no async runtime.
//!
//! Each I/O thread reads its connections and drives the same protocol
//! session as the threads core. A client connection's reading half is a [`ReadSide`]
//! that a thread waiting in `send_and_wait` drives itself, so its reply
//! wakes it directly rather than through the I/O thread (see `read_side`).
//! Senders still write straight to the kernel; when a socket's buffer is
//! full, the connection asks its I/O thread to drain the queue on writable
//! events. A connection whose callback mailbox is full stops being read
//! (TCP pushes back on the peer) until its callbacks catch up.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Poll, Token, Waker};

use super::read_side::{ReadSide, ReadState};
use super::{finish, peer_closed, process, read_failed, tick as session_tick, Owner};
use crate::conn::{Conn, Role};
use crate::error::{EndKind, EndReason};
use crate::net::{add_exclusive, SockReader};
use crate::session::{Flow, Session};
use crate::sync::lock;

const WAKER: Token = Token(usize::MAX);
/// How often deadlines (handshake, heartbeat) and paused readers are checked.
const TICK: Duration = Duration::from_millis(100);

enum Cmd {
    Add(Box<Entry>),
    Drain(Weak<Conn>),
    /// The connection's callbacks caught up: read it again.
    Resume(Weak<Conn>),
}

struct Entry {
    conn: Arc<Conn>,
    side: Arc<ReadSide>,
    owner: Arc<dyn Owner>,
    done: Option<Sender<()>>,
    paused: bool,
}

struct IoShared {
    waker: Waker,
    inbox: Mutex<Vec<Cmd>>,
    stop: AtomicBool,
}

impl IoShared {
    fn send(&self, cmd: Cmd) {
        lock(&self.inbox).push(cmd);
        if let Err(e) = self.waker.wake() {
            log::error!("cannot wake an I/O thread: {e}");
        }
    }
}

/// A set of I/O threads.
pub(crate) struct PollCore {
    io: Vec<Arc<IoShared>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    next: AtomicUsize,
}

impl PollCore {
    /// Starts `threads` I/O threads.
    pub(crate) fn new(threads: usize, name: &str) -> io::Result<Arc<PollCore>> {
        let mut io = Vec::new();
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let poll = Poll::new()?;
            let waker = Waker::new(poll.registry(), WAKER)?;
            let shared = Arc::new(IoShared {
                waker,
                inbox: Mutex::new(Vec::new()),
                stop: AtomicBool::new(false),
            });
            let s = shared.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("{name}-io{i}"))
                    .spawn(move || io_loop(poll, &s))?,
            );
            io.push(shared);
        }
        Ok(Arc::new(PollCore { io, threads: Mutex::new(handles), next: AtomicUsize::new(0) }))
    }

    /// The I/O threads shared by every client that uses the poll core.
    pub(crate) fn for_clients() -> io::Result<Arc<PollCore>> {
        static CORE: OnceLock<Arc<PollCore>> = OnceLock::new();
        if let Some(c) = CORE.get() {
            return Ok(c.clone());
        }
        let core = PollCore::new(crate::config::default_io_threads(), "veltix-client")?;
        Ok(CORE.get_or_init(|| core).clone())
    }

    /// Hands a connection to one of the I/O threads. `done` is signalled
    /// after the connection has ended and its disconnect path has run.
    pub(crate) fn add(
        &self,
        conn: Arc<Conn>,
        session: Session,
        owner: Arc<dyn Owner>,
        done: Option<Sender<()>>,
    ) -> io::Result<()> {
        conn.stream.set_nonblocking(true)?;
        // Before the I/O thread registers the socket: requesters first.
        let side = Arc::new(ReadSide::new(&conn, session, &owner, conn.role == Role::Client)?);
        if conn.role == Role::Client {
            conn.set_read_side(side.clone());
        }
        let io = self.io[self.next.fetch_add(1, Ordering::Relaxed) % self.io.len()].clone();
        let weak = Arc::downgrade(&conn);
        let waker = io.clone();
        conn.set_poll_drain(Arc::new(move || waker.send(Cmd::Drain(weak.clone()))));
        let (weak, waker) = (Arc::downgrade(&conn), io.clone());
        conn.mailbox.set_on_space(Box::new(move || waker.send(Cmd::Resume(weak.clone()))));
        let (weak, waker) = (Arc::downgrade(&conn), io.clone());
        side.set_poke(Box::new(move || waker.send(Cmd::Resume(weak.clone()))));
        io.send(Cmd::Add(Box::new(Entry { conn, side, owner, done, paused: false })));
        Ok(())
    }

    /// Stops the I/O threads (their connections must be closed already).
    pub(crate) fn shutdown(&self) {
        for io in &self.io {
            io.stop.store(true, Ordering::Release);
            let _ = io.waker.wake();
        }
        let me = std::thread::current().id();
        for h in lock(&self.threads).drain(..) {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
    }
}

/// A slab of entries indexed by token.
#[derive(Default)]
struct Slab {
    entries: Vec<Option<Entry>>,
    free: Vec<usize>,
}

impl Slab {
    fn insert(&mut self, e: Entry) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(e);
                i
            }
            None => {
                self.entries.push(Some(e));
                self.entries.len() - 1
            }
        }
    }
    fn remove(&mut self, i: usize) -> Option<Entry> {
        let e = self.entries.get_mut(i)?.take();
        if e.is_some() {
            self.free.push(i);
        }
        e
    }
    /// The slot of `conn`, from the token it was given (checked: a slot is
    /// reused once its connection is gone).
    fn find(&self, conn: &Arc<Conn>) -> Option<usize> {
        let i = conn.poll_token.load(Ordering::Acquire);
        let e = self.entries.get(i)?.as_ref()?;
        Arc::ptr_eq(&e.conn, conn).then_some(i)
    }
}

fn io_loop(mut poll: Poll, shared: &IoShared) {
    crate::dispatch::set_never_wait();
    crate::dispatch::defer_wakes();
    let mut events = Events::with_capacity(1024);
    let mut slab = Slab::default();
    let mut next_tick = Instant::now() + TICK;
    loop {
        let timeout = next_tick.saturating_duration_since(Instant::now());
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                log::error!("poll failed: {e}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for ev in events.iter() {
            if ev.token() == WAKER {
                continue;
            }
            let i = ev.token().0;
            if ev.is_writable() {
                on_writable(&mut slab, i);
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                on_readable(&poll, &mut slab, i);
            }
        }
        let cmds = std::mem::take(&mut *lock(&shared.inbox));
        for cmd in cmds {
            match cmd {
                Cmd::Add(e) => add(&poll, &mut slab, *e),
                Cmd::Drain(weak) => {
                    if let Some(i) = weak.upgrade().and_then(|c| slab.find(&c)) {
                        on_writable(&mut slab, i);
                    }
                }
                Cmd::Resume(weak) => {
                    if let Some(i) = weak.upgrade().and_then(|c| slab.find(&c)) {
                        on_readable(&poll, &mut slab, i);
                    }
                }
            }
        }
        if Instant::now() >= next_tick {
            next_tick = Instant::now() + TICK;
            tick(&poll, &mut slab);
        }
        // One wake of the callback workers for all this round brought.
        crate::dispatch::flush_wakes();
        if shared.stop.load(Ordering::Acquire) {
            // Whatever is left is closed and ended now.
            for i in 0..slab.entries.len() {
                if slab.entries[i].is_some() {
                    let end = EndReason::new(EndKind::Local, "server shutting down");
                    end_entry(&poll, &mut slab, i, end);
                }
            }
            crate::dispatch::flush_wakes();
            return;
        }
    }
}

fn add(poll: &Poll, slab: &mut Slab, e: Entry) {
    let fd = e.conn.stream.as_raw_fd();
    let i = slab.insert(e);
    let entry = slab.entries[i].as_ref().expect("just inserted");
    entry.conn.poll_token.store(i, Ordering::Release);
    // Registered by hand: mio has no EPOLLEXCLUSIVE, which lets a requester
    // waiting for its reply take the arrival alone. Edge-triggered, so the
    // writable interest costs an event only after a full kernel buffer;
    // `deregister` removes it as usual.
    let events = (libc::EPOLLIN | libc::EPOLLOUT) as u32;
    if let Err(err) = add_exclusive(poll.as_raw_fd(), fd, events, i as u64) {
        let end = EndReason::new(EndKind::Error, format!("cannot watch the socket: {err}"));
        end_entry(poll, slab, i, end);
        return;
    }
    // Bytes may have arrived before registration (edge-triggered: no event
    // would report them), and the decoder may hold some already.
    on_readable(poll, slab, i);
}

/// Writes what is queued, if anything is (a writable event, or a sender
/// that found the kernel's buffer full).
fn on_writable(slab: &mut Slab, i: usize) {
    if let Some(e) = slab.entries.get(i).and_then(Option::as_ref) {
        e.conn.drain_nonblocking();
    }
}

fn on_readable(poll: &Poll, slab: &mut Slab, i: usize) {
    let Some(e) = slab.entries.get_mut(i).and_then(Option::as_mut) else { return };
    let side = e.side.clone();
    // An active requester reads this arrival itself.
    let Some(mut st) = side.take_or_leave(false) else { return };
    let end = read_all(e, &mut st);
    drop(st);
    if let Some(end) = end {
        end_entry(poll, slab, i, end);
    }
}

/// Reads until the socket would block (edge-triggered), handling frames
/// as they complete; stops early when the callbacks fall behind.
fn read_all(e: &mut Entry, st: &mut ReadState) -> Option<EndReason> {
    if let Some(end) = st.end.clone() {
        return Some(end);
    }
    let conn = e.conn.clone();
    // The kernel said a read emptied the socket: new bytes bring a new
    // edge, so the read that would say EAGAIN is skipped.
    let mut drained = false;
    let mut read_before = false;
    loop {
        if let Some(end) = process(&conn, &mut st.session, &*e.owner) {
            return Some(fault(&conn, end));
        }
        if conn.mailbox.is_full() {
            // Resumed by a Resume command when the callbacks catch up (and
            // by the tick, should that be missed).
            e.paused = true;
            conn.mailbox.want_space();
            if !conn.mailbox.is_full() {
                continue;
            }
            return None;
        }
        e.paused = false;
        if drained {
            return None;
        }
        if read_before {
            // Reading on: the batch just handed over must not wait for the
            // end of the round (a stream that keeps the socket busy would
            // hold the workers asleep until the mailbox filled: the first
            // message of a burst reached its callback 55 ms late). Before
            // a connection's first read, the wakes of the connections
            // before it in the round stay deferred and shared.
            crate::dispatch::flush_wakes();
        }
        read_before = true;
        let mut reader = SockReader::new(&conn.stream);
        match conn.read_into(st.session.decoder_mut(), &mut reader) {
            Ok(0) => return Some(peer_closed(&conn, &st.session)),
            Ok(n) => {
                conn.count_read(n);
                drained = conn.drained(reader.drained());
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Some(read_failed(&conn, &err)),
        }
    }
}

/// A protocol fault on an I/O thread: push out the ERROR frame if the
/// kernel takes it now (never wait here: this thread is the drainer), then
/// close.
fn fault(conn: &Arc<Conn>, end: EndReason) -> EndReason {
    log::warn!("closing the connection with {}: {}", conn.peer, end.message);
    conn.flush_nonblocking();
    conn.close_with(end.clone());
    conn.end_reason().unwrap_or(end)
}

fn tick(poll: &Poll, slab: &mut Slab) {
    for i in 0..slab.entries.len() {
        let Some(e) = slab.entries[i].as_mut() else { continue };
        // A requester holding the state runs its ticks itself.
        let flow = match e.side.try_lock() {
            Some(mut st) => session_tick(&e.conn, &mut st.session, &*e.owner),
            None => Flow::Continue,
        };
        if let Flow::Close(end) = flow {
            let end = fault(&e.conn, end);
            end_entry(poll, slab, i, end);
            continue;
        }
        if e.paused || e.conn.is_closed() {
            on_readable(poll, slab, i);
        }
    }
}

fn end_entry(poll: &Poll, slab: &mut Slab, i: usize, end: EndReason) {
    let Some(e) = slab.remove(i) else { return };
    let fd = e.conn.stream.as_raw_fd();
    let _ = poll.registry().deregister(&mut SourceFd(&fd));
    finish(&e.conn, end, &*e.owner);
    if let Some(done) = e.done {
        let _ = done.send(());
    }
}

//! The reading half of a connection, shared between the core that reads it
//! (a reader thread, or an I/O thread of the poll core) and the threads
//! waiting in `send_and_wait`, which read their replies themselves: a
//! reply then wakes its requester directly, with no hand-off through
//! another thread (a wake-up, several microseconds of a loopback round trip
//! of about fifteen).
//!
//! The requesters wait in an epoll instance of their own, registered with
//! `EPOLLEXCLUSIVE` before the core's own registration (also exclusive).
//! The socket's wait queue wakes exclusive waiters in the order they were
//! added and stops at the first instance with a waiter: a requester waiting
//! for its reply is woken, the core is not. When no requester waits, the
//! arrival falls through to the core. Both instances keep the socket on
//! their ready lists, so a requester that was busy reading when bytes came
//! still sees them.
//!
//! The requesters' wait is not always in place when the reply comes: the
//! sender may still be on its way to `epoll_wait`, or preempted by the very
//! thread it woke (a server in the same process). The arrival then falls
//! through to the core, which must not take it: the requester would wait
//! for the core's wake-up (on a virtual machine, a halted CPU woken by an
//! interrupt: tens of microseconds) to read what it could read at once. So
//! a requester announces itself before it sends, and while any is active
//! the core leaves arrivals to it (they are on the requesters' ready list
//! too). The core counts the arrivals it left; a requester that leaves
//! reads again if the count moved since its last read emptied the socket,
//! and the core reads itself if it sees nobody active after counting
//! (SeqCst fences between the two sides, so one of them always does).
//!
//! The protocol session sits behind a mutex, held by whoever reads.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, TryLockError, Weak};
use std::time::{Duration, Instant};

use super::{fault, local_end, peer_closed, process, read_failed, tick, Owner};
use crate::conn::{Conn, ReplyReader};
use crate::error::EndReason;
use crate::net::{add_exclusive, new_epoll, wait_readable, SockReader};
use crate::session::{Flow, Session};
use crate::sync::lock;

/// How long a core thread keeps out of the way of requesters after the
/// last request (see [`ReadSide::park_while_busy`]).
pub(crate) const LEASE: Duration = Duration::from_millis(1);

/// The longest sleep of a core thread while one request stays out.
const LONG_PARK: Duration = Duration::from_millis(64);

/// What reading a connection needs.
pub(crate) struct ReadState {
    pub(crate) session: Session,
    /// Set by whoever saw the connection end; the core finishes it.
    pub(crate) end: Option<EndReason>,
}

/// The reading half of a connection (see the module's documentation).
pub(crate) struct ReadSide {
    /// Where a requester holding the state waits (woken first); none on a
    /// connection whose requesters wait for the core to read (a server's).
    req_epoll: Option<OwnedFd>,
    state: Mutex<ReadState>,
    /// Requesters between sending and leaving `read_until`.
    active: AtomicUsize,
    /// Requests made so far (for `park_while_busy`).
    requests: AtomicU64,
    /// Counts arrivals the core left to the requesters.
    missed: AtomicU64,
    /// The core thread that parks in `park_while_busy`, and whether it
    /// sleeps longer than a lease (then a leaving requester wakes it).
    parked: OnceLock<std::thread::Thread>,
    parked_long: AtomicBool,
    /// See [`set_poke`](ReadSide::set_poke).
    poke: OnceLock<Box<dyn Fn() + Send + Sync>>,
    owner: Weak<dyn Owner>,
}

impl ReadSide {
    /// With `requesters`, creates the requesters' epoll instance: call
    /// before the core registers the socket, so that they are woken first.
    pub(crate) fn new(
        conn: &Conn,
        session: Session,
        owner: &Arc<dyn Owner>,
        requesters: bool,
    ) -> io::Result<ReadSide> {
        let req_epoll = if requesters {
            let ep = new_epoll()?;
            add_exclusive(ep.as_raw_fd(), conn.stream.as_raw_fd(), libc::EPOLLIN as u32, 0)?;
            Some(ep)
        } else {
            None
        };
        Ok(ReadSide {
            req_epoll,
            state: Mutex::new(ReadState { session, end: None }),
            active: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            parked: OnceLock::new(),
            parked_long: AtomicBool::new(false),
            poke: OnceLock::new(),
            owner: Arc::downgrade(owner),
        })
    }

    /// The state, waiting for a requester that holds it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ReadState> {
        lock(&self.state)
    }

    /// The state if nobody holds it.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, ReadState>> {
        match self.state.try_lock() {
            Ok(st) => Some(st),
            Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// The state for the core to read an arrival with, unless requesters
    /// are active or (`wait` false: the poll core) another thread holds it:
    /// then the arrival is left to the requesters.
    pub(crate) fn take_or_leave(&self, wait: bool) -> Option<MutexGuard<'_, ReadState>> {
        let take = || if wait { Some(self.lock()) } else { self.try_lock() };
        if self.active.load(Ordering::SeqCst) == 0 {
            if let Some(st) = take() {
                return Some(st);
            }
        }
        self.missed.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `leave`: either the requester sees the
        // count move after it left, or this sees it gone.
        fence(Ordering::SeqCst);
        if self.active.load(Ordering::SeqCst) != 0 {
            return None;
        }
        take()
    }

    /// A requester is about to send: arrivals are its to read until it
    /// leaves ([`read_until`](ReadSide::read_until) or
    /// [`leave`](ReadSide::leave)). Returns the count of arrivals left to
    /// requesters so far, for `leave`.
    pub(crate) fn enter(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.active.fetch_add(1, Ordering::SeqCst);
        self.missed.load(Ordering::SeqCst)
    }

    /// For a core thread that found requesters active: sleeps, out of its
    /// epoll wait, until no request has been made for [`LEASE`]. An arrival
    /// then wakes nobody when the requester is not waiting yet (it sits on
    /// both ready lists; the requester reads it, or the core once back), so
    /// a run of requests costs the core no wake-up per reply. A message
    /// pushed just after the last request waits at most a lease. While one
    /// request stays out long, the sleeps grow (up to [`LONG_PARK`]) and the
    /// requester that leaves wakes the thread.
    pub(crate) fn park_while_busy(&self) {
        let _ = self.parked.set(std::thread::current());
        let mut seen = self.requests.load(Ordering::Relaxed);
        let mut nap = LEASE;
        loop {
            self.parked_long.store(nap > LEASE, Ordering::SeqCst);
            // A requester that left after this check unparks us (below).
            if self.active.load(Ordering::SeqCst) != 0 || nap == LEASE {
                std::thread::park_timeout(nap);
            }
            self.parked_long.store(false, Ordering::Relaxed);
            let now = self.requests.load(Ordering::Relaxed);
            let idle = self.active.load(Ordering::SeqCst) == 0;
            if now == seen && idle {
                return;
            }
            // New requests: keep to the lease; the same one still out: back off.
            nap = if now == seen { (nap * 2).min(LONG_PARK) } else { LEASE };
            seen = now;
        }
    }

    /// A requester is done; reads what the core left to it after `seen`
    /// (the count of left arrivals when its last read emptied the socket:
    /// those were read).
    pub(crate) fn leave(&self, conn: &Arc<Conn>, mut seen: u64) {
        if self.active.fetch_sub(1, Ordering::SeqCst) == 1
            && self.parked_long.load(Ordering::SeqCst)
        {
            if let Some(t) = self.parked.get() {
                t.unpark();
            }
        }
        loop {
            fence(Ordering::SeqCst);
            let now = self.missed.load(Ordering::SeqCst);
            if now == seen || self.pump(conn, &mut self.lock()).is_some() {
                break;
            }
            seen = now;
        }
        // Closed (we may have read its end, an event the core left to us):
        // the core finishes the connection now, not at its next tick.
        if conn.is_closed() {
            if let Some(poke) = self.poke.get() {
                poke();
            }
        }
    }

    /// Remembers the end and makes sure the core sees it.
    fn record(&self, conn: &Conn, st: &mut ReadState, end: EndReason) -> EndReason {
        st.end = Some(end.clone());
        // Wakes the core (a shut-down socket reads as ready); a core that
        // finds requesters active is poked again when they leave.
        conn.close_with(end.clone());
        end
    }

    /// Sets what tells a core that does not wait for the state (the poll
    /// core) to look at the connection again.
    pub(crate) fn set_poke(&self, f: Box<dyn Fn() + Send + Sync>) {
        let _ = self.poke.set(f);
    }

    /// Reads what the socket has, without blocking, until it would block
    /// (the epoll registrations are edge-triggered), running the frames
    /// through the protocol. Returns the end of the connection, if seen.
    pub(crate) fn pump(&self, conn: &Arc<Conn>, st: &mut ReadState) -> Option<EndReason> {
        if let Some(end) = st.end.clone() {
            return Some(end);
        }
        let owner = self.owner.upgrade()?;
        loop {
            if let Some(end) = process(conn, &mut st.session, &*owner) {
                return Some(self.record(conn, st, fault(conn, end)));
            }
            if conn.is_closed() {
                return Some(self.record(conn, st, local_end(conn)));
            }
            let mut reader = SockReader::new(&conn.stream);
            match conn.read_into(st.session.decoder_mut(), &mut reader) {
                Ok(0) => {
                    let end = peer_closed(conn, &st.session);
                    return Some(self.record(conn, st, end));
                }
                Ok(n) => {
                    conn.count_read(n);
                    if conn.drained(reader.drained()) {
                        // The socket is empty for now; new bytes bring a new
                        // edge. Handle what came and skip the EAGAIN read.
                        if let Some(end) = process(conn, &mut st.session, &*owner) {
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

    /// Reads the socket on the calling thread until `done()` holds or the
    /// deadline passes (a requester waiting for its reply), then leaves.
    /// Call after [`enter`](ReadSide::enter).
    pub(crate) fn read_until(
        &self,
        conn: &Arc<Conn>,
        deadline: Instant,
        done: &dyn Fn() -> bool,
        mut seen: u64,
    ) {
        if let Some(req_epoll) = &self.req_epoll {
            let mut st = self.lock();
            let interval = st.session.tick_interval();
            // Bytes in the socket always come with an edge pending in
            // `req_epoll`, or were read by whoever held the state before,
            // so we can sleep first.
            while !done() {
                let now = Instant::now();
                if now >= deadline || st.end.is_some() {
                    break;
                }
                if wait_readable(req_epoll.as_raw_fd(), (deadline - now).min(interval)) {
                    let before = self.missed.load(Ordering::SeqCst);
                    if self.pump(conn, &mut st).is_some() {
                        break;
                    }
                    // What was left to us before that read, it read.
                    seen = before;
                }
                let Some(owner) = self.owner.upgrade() else { break };
                if let Flow::Close(end) = tick(conn, &mut st.session, &*owner) {
                    let end = fault(conn, end);
                    self.record(conn, &mut st, end);
                    break;
                }
            }
        }
        self.leave(conn, seen);
    }
}

impl ReplyReader for ReadSide {
    fn enter(&self) -> u64 {
        ReadSide::enter(self)
    }

    fn read_until(&self, conn: &Arc<Conn>, deadline: Instant, done: &dyn Fn() -> bool, seen: u64) {
        ReadSide::read_until(self, conn, deadline, done, seen)
    }

    fn leave(&self, conn: &Arc<Conn>, seen: u64) {
        ReadSide::leave(self, conn, seen)
    }
}

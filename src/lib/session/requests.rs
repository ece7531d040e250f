//! Request/response correlation: pending request ids and their waiters.
//! This is where a request is completed ([`Pending::complete`]).
//!
//! Ids come from a per-connection counter that starts at a random point and
//! skips any id still pending, so two requests in flight never share an id
//! (veltix 1.6.3 draws random ids, which can collide).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::codec::frame::{Frame, RequestId};
use crate::error::{EndReason, Error, ProtocolError, Result};
use crate::sync::{lock, random_u32};
use crate::types;

/// Hashes request ids, which are ours (a counter), not a peer's choice:
/// a multiply is enough, SipHash's flooding resistance is not needed.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
}

type IdMap = HashMap<RequestId, Arc<Slot>, BuildHasherDefault<IdHasher>>;

/// Where a reply is delivered.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    value: Mutex<Option<Result<Frame>>>,
    filled: std::sync::atomic::AtomicBool,
    /// Whether a waiter sleeps on `ready` (changed under `value`'s lock),
    /// so that a reply read by its own requester costs no wake-up call.
    sleeping: std::sync::atomic::AtomicBool,
    ready: Condvar,
}

impl Slot {
    fn fill(&self, v: Result<Frame>) {
        let mut value = lock(&self.value);
        *value = Some(v);
        self.filled.store(true, Ordering::Release);
        if self.sleeping.load(Ordering::Relaxed) {
            drop(value);
            self.ready.notify_all();
        }
    }

    /// Whether the reply (or an error) is there.
    pub(crate) fn is_filled(&self) -> bool {
        self.filled.load(Ordering::Acquire)
    }
}

/// The pending requests of one connection.
#[derive(Debug)]
pub(crate) struct Pending {
    map: Mutex<IdMap>,
    /// How many requests are pending (the map's length, kept beside it so
    /// the per-message paths skip the lock when none is).
    waiting: AtomicUsize,
    /// How many ids `expired` holds, likewise.
    expired_len: AtomicUsize,
    /// Ids whose wait timed out recently, so a late reply is recognised
    /// (and dropped) rather than taken for a new message.
    expired: Mutex<VecDeque<RequestId>>,
    next: AtomicU32,
    /// Ids are drawn from `space_start..space_start + space_len` (the VX
    /// profile splits 16-bit ids between the two sides); 0: any u32.
    space_start: AtomicU32,
    space_len: AtomicU32,
    /// The type of a reply that fails its request (ERROR in 1.6.3;
    /// `u32::MAX`: none, as in VX).
    error_type: AtomicU32,
}

/// What became of a received frame offered to [`Pending::complete`].
#[derive(Debug)]
pub(crate) enum Completion {
    /// A waiter took it.
    Delivered,
    /// It answers a request that already timed out; dropped.
    Late,
    /// No request waits for its id: it is an ordinary message.
    NotPending(Frame),
}

/// How many timed-out ids are remembered for late-reply detection.
const EXPIRED_MEMORY: usize = 256;

impl Pending {
    pub(crate) fn new() -> Pending {
        Pending {
            map: Mutex::new(IdMap::default()),
            waiting: AtomicUsize::new(0),
            expired_len: AtomicUsize::new(0),
            expired: Mutex::new(VecDeque::new()),
            next: AtomicU32::new(random_u32()),
            space_start: AtomicU32::new(0),
            space_len: AtomicU32::new(0),
            error_type: AtomicU32::new(u32::from(types::ERROR)),
        }
    }

    /// Draws ids from `start..start + len` from now on (`len` 0: any u32).
    pub(crate) fn set_space(&self, start: u32, len: u32) {
        self.space_start.store(start, Ordering::Relaxed);
        self.space_len.store(len, Ordering::Relaxed);
    }

    /// Which reply type fails its request (`None`: none does).
    pub(crate) fn set_error_type(&self, code: Option<u16>) {
        self.error_type.store(code.map_or(u32::MAX, u32::from), Ordering::Relaxed);
    }

    /// The next id of our space (pending or not).
    fn draw(&self) -> RequestId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        match self.space_len.load(Ordering::Relaxed) {
            0 => RequestId::from(n),
            len => RequestId::from(self.space_start.load(Ordering::Relaxed) + n % len),
        }
    }

    /// Allocates an id no pending request uses and registers a waiter for
    /// it; `None` when every id of our space is pending.
    pub(crate) fn register(&self) -> Option<(RequestId, Arc<Slot>)> {
        let slot = Arc::new(Slot::default());
        let mut map = lock(&self.map);
        let len = self.space_len.load(Ordering::Relaxed);
        if len != 0 && map.len() >= len as usize {
            return None;
        }
        loop {
            let id = self.draw();
            if let std::collections::hash_map::Entry::Vacant(e) = map.entry(id) {
                e.insert(slot.clone());
                self.waiting.store(map.len(), Ordering::Release);
                return Some((id, slot));
            }
        }
    }

    /// A fresh id for a message that expects no reply (skips pending ids).
    pub(crate) fn fresh_id(&self) -> RequestId {
        if self.waiting.load(Ordering::Acquire) == 0 {
            // Nothing pending: any id is free (a request registered
            // meanwhile draws another value of the same counter).
            return self.draw();
        }
        let map = lock(&self.map);
        let len = self.space_len.load(Ordering::Relaxed);
        for _ in 0..map.len() + 1 {
            let id = self.draw();
            if !map.contains_key(&id) {
                return id;
            }
        }
        // Every id of a small space is pending: a message that expects no
        // reply may share one (it is not taken for a reply unless it
        // answers, which it does not).
        debug_assert!(len != 0);
        self.draw()
    }

    /// Hands `frame` to its waiter, if one waits for its id.
    pub(crate) fn complete(&self, frame: Frame) -> Completion {
        let slot = if self.waiting.load(Ordering::Acquire) == 0 {
            None
        } else {
            self.remove(frame.request_id)
        };
        match slot {
            Some(slot) => {
                let error = self.error_type.load(Ordering::Relaxed);
                let v = if u32::from(frame.type_code) == error {
                    Err(Error::Protocol(ProtocolError::PeerError(
                        String::from_utf8_lossy(&frame.payload).into_owned(),
                    )))
                } else {
                    Ok(frame)
                };
                slot.fill(v);
                Completion::Delivered
            }
            None if self.expired_len.load(Ordering::Acquire) == 0 => Completion::NotPending(frame),
            None => {
                let mut expired = lock(&self.expired);
                match expired.iter().position(|id| *id == frame.request_id) {
                    Some(i) => {
                        expired.remove(i);
                        self.expired_len.store(expired.len(), Ordering::Release);
                        Completion::Late
                    }
                    None => Completion::NotPending(frame),
                }
            }
        }
    }

    /// Whether a request with this id is waiting.
    #[cfg(test)]
    pub(crate) fn is_pending(&self, id: RequestId) -> bool {
        lock(&self.map).contains_key(&id)
    }

    /// Fails the request waiting for `id` with `e`; false if none waits.
    pub(crate) fn fail(&self, id: RequestId, e: ProtocolError) -> bool {
        match self.remove(id) {
            Some(slot) => {
                slot.fill(Err(Error::Protocol(e)));
                true
            }
            None => false,
        }
    }

    /// Forgets a request (after a timeout or a failed send).
    pub(crate) fn cancel(&self, id: RequestId) {
        self.remove(id);
    }

    fn remove(&self, id: RequestId) -> Option<Arc<Slot>> {
        let mut map = lock(&self.map);
        let slot = map.remove(&id);
        self.waiting.store(map.len(), Ordering::Release);
        slot
    }

    /// Fails every waiter (the connection is gone).
    pub(crate) fn fail_all(&self, end: &EndReason) {
        let slots: Vec<_> = {
            let mut map = lock(&self.map);
            self.waiting.store(0, Ordering::Release);
            map.drain().map(|(_, s)| s).collect()
        };
        for s in slots {
            s.fill(Err(match &end.fault {
                Some(e) => Error::Protocol(e.clone()),
                None => Error::Closed(Some(end.message.clone())),
            }));
        }
    }

    /// Blocks until the reply for `id` arrives or `timeout` passes.
    #[cfg(test)]
    pub(crate) fn wait(&self, id: RequestId, slot: &Slot, timeout: Duration) -> Result<Frame> {
        self.wait_until(id, slot, Instant::now() + timeout, timeout)
    }

    /// Blocks until the reply for `id` arrives or `deadline` passes;
    /// `timeout` is what the caller asked for (for the error).
    pub(crate) fn wait_until(
        &self,
        id: RequestId,
        slot: &Slot,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Frame> {
        let mut v = lock(&slot.value);
        loop {
            if let Some(r) = v.take() {
                return r;
            }
            let now = Instant::now();
            if now >= deadline {
                drop(v);
                self.cancel(id);
                let mut expired = lock(&self.expired);
                if expired.len() == EXPIRED_MEMORY {
                    expired.pop_front();
                }
                expired.push_back(id);
                self.expired_len.store(expired.len(), Ordering::Release);
                drop(expired);
                // The reply may have raced the timeout; prefer it.
                if let Some(r) = lock(&slot.value).take() {
                    return r;
                }
                log::debug!(
                    "request {id} timed out after {timeout:?}; a late reply will be dropped"
                );
                return Err(Error::Timeout { what: "reply", after: timeout });
            }
            slot.sleeping.store(true, Ordering::Relaxed);
            v = slot
                .ready
                .wait_timeout(v, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_while_pending() {
        let p = Pending::new();
        p.next.store(u32::MAX - 1, Ordering::Relaxed);
        let (a, _) = p.register().unwrap();
        let (b, _) = p.register().unwrap();
        // Wrap around onto `a` and `b` while they are pending.
        p.next.store(a.as_u32(), Ordering::Relaxed);
        let (c, _) = p.register().unwrap();
        assert!(c != a && c != b);
        assert_eq!(c, RequestId::from(0));
    }

    #[test]
    fn reply_goes_to_its_waiter_and_late_replies_are_returned() {
        let p = Pending::new();
        let (id, slot) = p.register().unwrap();
        assert!(matches!(p.complete(Frame::new(200, id, b"x".to_vec())), Completion::Delivered));
        assert_eq!(p.wait(id, &slot, Duration::from_secs(1)).unwrap().payload, b"x");
        // No longer pending: a second frame with that id is a new message.
        assert!(matches!(
            p.complete(Frame::new(200, id, b"y".to_vec())),
            Completion::NotPending(_)
        ));
    }

    #[test]
    fn timeout_cancels() {
        let p = Pending::new();
        let (id, slot) = p.register().unwrap();
        assert!(matches!(
            p.wait(id, &slot, Duration::from_millis(10)),
            Err(Error::Timeout { what: "reply", .. })
        ));
        assert!(!p.is_pending(id));
        // The late reply is recognised once and dropped.
        assert!(matches!(p.complete(Frame::new(200, id, vec![])), Completion::Late));
        assert!(matches!(p.complete(Frame::new(200, id, vec![])), Completion::NotPending(_)));
    }

    #[test]
    fn error_frame_fails_the_waiter_and_close_fails_all() {
        let p = Pending::new();
        let (id, slot) = p.register().unwrap();
        p.complete(Frame::new(types::ERROR, id, b"bad".to_vec()));
        assert!(matches!(p.wait(id, &slot, Duration::from_secs(1)), Err(Error::Protocol(_))));
        let (id, slot) = p.register().unwrap();
        p.fail_all(&EndReason::new(crate::error::EndKind::PeerClosed, "gone"));
        assert!(matches!(p.wait(id, &slot, Duration::from_secs(1)), Err(Error::Closed(_))));
    }

    #[test]
    fn a_split_id_space_is_kept_and_runs_out_cleanly() {
        let p = Pending::new();
        p.set_space(32768, 4);
        let mut ids: Vec<u32> = (0..4).map(|_| p.register().unwrap().0.as_u32()).collect();
        ids.sort();
        assert_eq!(ids, [32768, 32769, 32770, 32771]);
        assert!(p.register().is_none(), "every id of the space is pending");
        assert!((32768..32772).contains(&p.fresh_id().as_u32()));
        // No error type: an ERROR-coded reply is a reply like any other.
        let p = Pending::new();
        p.set_error_type(None);
        let (id, slot) = p.register().unwrap();
        p.complete(Frame::new(types::ERROR, id, b"x".to_vec()));
        assert_eq!(p.wait(id, &slot, Duration::from_secs(1)).unwrap().payload, b"x");
    }
}

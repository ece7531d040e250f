//! The callback pool: worker threads that run callbacks, started as
//! callbacks come (none while nothing arrives, up to `max_workers`; they
//! stay until the pool stops). With no workers (`max_workers` 0) the thread that read a message runs
//! its callback at once: no hand-off, at the price of that thread waiting
//! for the callback (see [`crate::ConnConfig::max_workers`]).
//!
//! Each connection has a [`Mailbox`]; its jobs run one at a time and in
//! order, while different connections' mailboxes run in parallel. A mailbox
//! is bounded in jobs and in bytes (the payloads its jobs hold): one that is
//! full makes its reader wait, which stops reading the socket and so pushes
//! back on the peer through TCP instead of growing memory.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use crate::sync::lock;

/// A unit of callback work.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

thread_local! {
    /// Set on threads that must never block in `submit` (poll-loop I/O
    /// threads): they overshoot a full mailbox and pause reading instead.
    static NEVER_WAIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

thread_local! {
    /// On a worker thread: its pool (the address of its `PoolShared`).
    static WORKER_OF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

thread_local! {
    /// Set while a callback runs on the thread that read its message.
    static INLINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is running a callback inline (max_workers
/// 0): it must not wait for a reply, which only it could read.
pub(crate) fn in_inline_callback() -> bool {
    INLINE.with(|c| c.get())
}

/// Pools with mailboxes made ready, and how many, whose workers are not
/// woken yet.
type Deferred = Vec<(Arc<PoolShared>, usize)>;

thread_local! {
    /// On a poll-loop I/O thread: what waits for [`flush_wakes`].
    static DEFERRED: std::cell::RefCell<Option<Deferred>> = const { std::cell::RefCell::new(None) };
}

/// From now on the calling thread (a poll-loop I/O thread) wakes callback
/// workers once per batch of events, at [`flush_wakes`], instead of once
/// per message: with many connections each bringing one message, one wake
/// serves them all.
pub(crate) fn defer_wakes() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
}

/// Wakes the workers for what the calling thread made ready since the last
/// call (see [`defer_wakes`]).
pub(crate) fn flush_wakes() {
    let pending = DEFERRED.with(|d| d.borrow_mut().as_mut().map(std::mem::take));
    for (shared, n) in pending.into_iter().flatten() {
        let (idle, queued) = {
            let ready = lock(&shared.ready);
            (ready.idle, ready.queue.len())
        };
        // What the running workers have taken already needs no wake.
        let n = n.min(queued);
        if n == 0 || idle == 0 {
            continue;
        }
        if n >= idle {
            shared.wake.notify_all();
        } else {
            for _ in 0..n {
                shared.wake.notify_one();
            }
        }
    }
}

/// Whether the calling thread must never block (a poll-loop I/O thread).
pub(crate) fn never_wait() -> bool {
    NEVER_WAIT.with(|c| c.get())
}

/// Marks the calling thread as one that must never wait in `submit`.
pub(crate) fn set_never_wait() {
    NEVER_WAIT.with(|c| c.set(true));
}

/// Jobs a worker runs from one mailbox before letting others go first.
const FAIR_BATCH: usize = 64;

#[derive(Default)]
struct MailboxState {
    /// Each job with the bytes it holds.
    jobs: VecDeque<(Job, usize)>,
    /// The bytes the queued jobs hold.
    bytes: usize,
    scheduled: bool,
    closed: bool,
    /// Submitters stop waiting for space (shutdown in progress).
    no_wait: bool,
    /// Submitters asleep on `space` (a notify costs a system call even
    /// when nobody waits, so it is made only when somebody does).
    space_waiters: usize,
}

/// The ordered job queue of one connection.
pub(crate) struct Mailbox {
    state: Mutex<MailboxState>,
    space: Condvar,
    limit: usize,
    byte_limit: usize,
    /// A reader that stopped reading because the mailbox was full wants to
    /// hear when it is half empty again (the poll core).
    want_space: std::sync::atomic::AtomicBool,
    on_space: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Mailbox {
    /// A mailbox that holds at most `limit` jobs and, beyond its first
    /// job, at most `byte_limit` bytes.
    pub(crate) fn new(limit: usize, byte_limit: usize) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            state: Mutex::new(MailboxState::default()),
            space: Condvar::new(),
            limit: limit.max(1),
            byte_limit: byte_limit.max(1),
            want_space: std::sync::atomic::AtomicBool::new(false),
            on_space: std::sync::OnceLock::new(),
        })
    }

    /// The bytes the waiting jobs hold.
    pub(crate) fn queued_bytes(&self) -> usize {
        lock(&self.state).bytes
    }

    fn full(&self, st: &MailboxState) -> bool {
        st.jobs.len() >= self.limit || st.bytes >= self.byte_limit
    }

    /// Sets what to call when a reader waiting for space may read again.
    pub(crate) fn set_on_space(&self, f: Box<dyn Fn() + Send + Sync>) {
        let _ = self.on_space.set(f);
    }

    /// Asks for `on_space` to be called once the mailbox is half empty.
    pub(crate) fn want_space(&self) {
        self.want_space.store(true, Ordering::Release);
    }

    /// Called by a worker after taking a job, with what is left.
    fn taken(&self, left: usize, left_bytes: usize) {
        let room = left <= self.limit / 2 && left_bytes <= self.byte_limit / 2;
        if room && self.want_space.swap(false, Ordering::AcqRel) {
            if let Some(f) = self.on_space.get() {
                f();
            }
        }
    }

    /// Whether the mailbox holds as many jobs or bytes as it may.
    pub(crate) fn is_full(&self) -> bool {
        self.full(&lock(&self.state))
    }
}

struct Ready {
    queue: VecDeque<Arc<Mailbox>>,
    /// Workers asleep on `wake`: with none, there is nobody to notify
    /// (a notify is a system call even when nobody waits).
    idle: usize,
    /// The workers started (drained by shutdown, which joins them). Under
    /// this lock, so that a shutdown, which takes it after setting `stop`,
    /// finds every worker started before it.
    workers: Vec<JoinHandle<()>>,
    /// After a worker failed to start: not before this instant again
    /// (a lasting thread limit must not cost a failing system call per
    /// message).
    retry_at: Option<std::time::Instant>,
}

struct PoolShared {
    ready: Mutex<Ready>,
    wake: Condvar,
    stop: AtomicBool,
    /// At most this many workers.
    max: usize,
    /// Thread names: `{name}-cb{i}`.
    name: String,
    /// A mailbox may be queued with no worker to take it: a worker failed
    /// to start. Submitters then try again (see [`PoolShared::need_worker`]).
    short: AtomicBool,
    /// Tests: this many starts fail.
    #[cfg(test)]
    fail_starts: std::sync::atomic::AtomicUsize,
}

impl PoolShared {
    /// Queues a mailbox whose jobs are to run, waking a worker if one sleeps
    /// (or leaving that to [`flush_wakes`] on a thread that defers wakes).
    /// `by_worker`: a worker puts back the mailbox it ran (its fair share
    /// done), and goes on to take from the queue itself.
    fn schedule(self: &Arc<Self>, mb: Arc<Mailbox>, by_worker: bool) {
        let mut ready = lock(&self.ready);
        ready.queue.push_back(mb);
        let wake = ready.idle > 0;
        self.start_if_short(&mut ready, usize::from(by_worker));
        drop(ready);
        if !wake {
            return;
        }
        // On a thread that defers (a poll I/O thread), every wake waits for
        // the end of its round of events: the connections that round made
        // ready share one wake, not one each (a futex call and, on another
        // CPU, an interrupt per message). The round ends within the
        // handling of the events epoll returned together, so no job waits
        // longer than that.
        let deferred = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
            Some(pending) => {
                match pending.iter_mut().find(|(p, _)| Arc::ptr_eq(p, self)) {
                    Some((_, n)) => *n += 1,
                    None => pending.push((self.clone(), 1)),
                }
                true
            }
            None => false,
        });
        if !deferred {
            self.wake.notify_one();
        }
    }

    /// Starts one more worker if more mailboxes wait than the sleeping
    /// workers (and `spare` others about to look) will take, while there is
    /// room. A new worker takes from the queue before it first sleeps, so
    /// it needs no wake.
    fn start_if_short(self: &Arc<Self>, ready: &mut Ready, spare: usize) {
        if ready.queue.len() <= ready.idle + spare
            || ready.workers.len() >= self.max
            || self.stop.load(Ordering::Acquire)
            || ready.retry_at.is_some_and(|t| std::time::Instant::now() < t)
        {
            return;
        }
        // Workers only ever add up until shutdown: their count numbers the
        // next one.
        let index = ready.workers.len();
        let s = self.clone();
        let spawned = if self.injected_failure() {
            Err(std::io::Error::other("injected by a test"))
        } else {
            thread::Builder::new()
                .name(format!("{}-cb{index}", self.name))
                .spawn(move || worker(&s))
        };
        match spawned {
            Ok(h) => {
                ready.workers.push(h);
                if ready.retry_at.take().is_some() {
                    self.short.store(false, Ordering::Release);
                    log::info!("callback worker started after a failure");
                }
            }
            Err(e) => {
                if ready.retry_at.is_none() {
                    log::error!("cannot start callback worker: {e}");
                }
                ready.retry_at = Some(std::time::Instant::now() + SPAWN_RETRY);
                self.short.store(true, Ordering::Release);
            }
        }
    }

    #[cfg(test)]
    fn injected_failure(&self) -> bool {
        self.fail_starts
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    #[cfg(not(test))]
    fn injected_failure(&self) -> bool {
        false
    }

    /// After a failed start: starts a worker if the queue needs one (from
    /// a submitter, whose mailbox may be queued already, with nobody to
    /// take it). One atomic load otherwise.
    fn need_worker(self: &Arc<Self>) {
        if self.short.load(Ordering::Acquire) {
            let mut ready = lock(&self.ready);
            self.start_if_short(&mut ready, 0);
        }
    }
}

/// How long after a worker failed to start the pool tries again.
const SPAWN_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// A pool of up to `workers` callback workers, started as jobs come.
pub(crate) struct Pool {
    shared: Arc<PoolShared>,
}

impl Pool {
    /// A pool of up to `workers` workers named `{name}-cb{i}`; none runs
    /// until the first job (an idle server or client holds no worker
    /// threads, nor their stacks and allocator heaps).
    pub(crate) fn new(workers: usize, name: &str) -> Pool {
        let shared = Arc::new(PoolShared {
            ready: Mutex::new(Ready {
                queue: VecDeque::new(),
                idle: 0,
                workers: Vec::new(),
                retry_at: None,
            }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            max: workers,
            name: name.to_owned(),
            short: AtomicBool::new(false),
            #[cfg(test)]
            fail_starts: std::sync::atomic::AtomicUsize::new(0),
        });
        Pool { shared }
    }

    /// Queues `job`, which holds no payload, on `mb` (see [`Pool::submit_sized`]).
    pub(crate) fn submit(&self, mb: &Arc<Mailbox>, job: impl FnOnce() + Send + 'static) -> bool {
        self.submit_sized(mb, 0, job)
    }

    /// Queues `job`, which holds `bytes` of payload, on `mb`. Blocks while
    /// the mailbox is full. Returns false (and drops the job) when the
    /// mailbox or the pool is closed.
    pub(crate) fn submit_sized(
        &self,
        mb: &Arc<Mailbox>,
        bytes: usize,
        job: impl FnOnce() + Send + 'static,
    ) -> bool {
        // No workers: jobs run on the submitting thread.
        if self.shared.max == 0 {
            if lock(&mb.state).closed || self.shared.stop.load(Ordering::Acquire) {
                return false;
            }
            let outer = INLINE.with(|c| c.replace(true));
            run_job(job);
            INLINE.with(|c| c.set(outer));
            return true;
        }
        let mut st = lock(&mb.state);
        // A worker thread never waits for space (it could be the one that
        // would make space): it may overshoot the limit instead.
        let on_worker = self.is_worker() || NEVER_WAIT.with(|c| c.get());
        while mb.full(&st) && !st.closed && !st.no_wait && !on_worker {
            if self.shared.stop.load(Ordering::Acquire) {
                return false;
            }
            st.space_waiters += 1;
            if self.shared.short.load(Ordering::Acquire) {
                // No worker may be there to make space: try to start one,
                // and again while waiting.
                drop(st);
                self.shared.need_worker();
                st = lock(&mb.state);
                st = match mb.space.wait_timeout(st, SPAWN_RETRY) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            } else {
                st = mb.space.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            st.space_waiters -= 1;
        }
        if st.closed || self.shared.stop.load(Ordering::Acquire) {
            return false;
        }
        st.jobs.push_back((Box::new(job), bytes));
        st.bytes += bytes;
        if !st.scheduled {
            st.scheduled = true;
            drop(st);
            self.shared.schedule(mb.clone(), false);
        } else {
            // Queued already; maybe with nobody to take it.
            drop(st);
            self.shared.need_worker();
        }
        true
    }

    /// Refuses further jobs for `mb` once those queued have run; wakes a
    /// reader blocked on it.
    pub(crate) fn close_mailbox(&self, mb: &Mailbox) {
        lock(&mb.state).closed = true;
        mb.space.notify_all();
    }

    /// Lets blocked submitters through without waiting for space (used at
    /// shutdown, so that readers can finish while callbacks drain).
    pub(crate) fn unblock(&self, mb: &Mailbox) {
        lock(&mb.state).no_wait = true;
        mb.space.notify_all();
    }

    /// Whether the calling thread is one of this pool's workers.
    pub(crate) fn is_worker(&self) -> bool {
        WORKER_OF.with(|w| w.get()) == Arc::as_ptr(&self.shared) as usize
    }

    /// Runs what is queued, then stops the workers, waiting for them at
    /// most [`SHUTDOWN_GRACE`]: a callback stuck for good (blocked on a
    /// full stdout, say) is left running on its detached thread rather than
    /// holding up shutdown. Safe to call from a callback (that worker is not
    /// waited for).
    pub(crate) fn shutdown(&self) {
        self.shutdown_within(SHUTDOWN_GRACE);
    }

    /// [`Pool::shutdown`], waiting at most `grace`.
    pub(crate) fn shutdown_within(&self, grace: std::time::Duration) {
        self.shared.stop.store(true, Ordering::Release);
        // Under the lock, so no worker is between its check of `stop` and
        // its wait, and every worker started before `stop` is in the list.
        let me = thread::current().id();
        let mut handles: Vec<_> = {
            let mut ready = lock(&self.shared.ready);
            ready.workers.drain(..).filter(|h| h.thread().id() != me).collect()
        };
        self.shared.wake.notify_all();
        let deadline = std::time::Instant::now() + grace;
        while !handles.is_empty() {
            let (done, running): (Vec<_>, Vec<_>) =
                handles.into_iter().partition(JoinHandle::is_finished);
            for h in done {
                let _ = h.join();
            }
            handles = running;
            if handles.is_empty() {
                break;
            }
            if std::time::Instant::now() >= deadline {
                log::warn!(
                    "{} callback(s) still running after {grace:?}; not waiting for them",
                    handles.len()
                );
                break;
            }
            thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

/// How long [`Pool::shutdown`] waits for running callbacks.
pub(crate) const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl Drop for Pool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs a callback; a panic in it is logged and goes no further (in a
/// batch, the other callbacks still run).
pub(crate) fn run_job(job: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(job)).is_err() {
        log::error!("a callback panicked; the connection goes on");
    }
}

fn worker(shared: &Arc<PoolShared>) {
    WORKER_OF.with(|w| w.set(Arc::as_ptr(shared) as usize));
    loop {
        let mb = {
            let mut ready = lock(&shared.ready);
            loop {
                if let Some(mb) = ready.queue.pop_front() {
                    break mb;
                }
                if shared.stop.load(Ordering::Acquire) {
                    return;
                }
                ready.idle += 1;
                ready = shared.wake.wait(ready).unwrap_or_else(|e| e.into_inner());
                ready.idle -= 1;
            }
        };
        let mut ran = 0;
        loop {
            let job = {
                let mut st = lock(&mb.state);
                if ran == FAIR_BATCH && !st.jobs.is_empty() {
                    // Let other connections run; come back later.
                    drop(st);
                    shared.schedule(mb.clone(), true);
                    break;
                }
                match st.jobs.pop_front() {
                    Some((j, bytes)) => {
                        st.bytes -= bytes;
                        (j, st.jobs.len(), st.bytes, st.space_waiters > 0)
                    }
                    None => {
                        st.scheduled = false;
                        break;
                    }
                }
            };
            let (job, left, left_bytes, waiters) = job;
            if waiters {
                mb.space.notify_one();
            }
            mb.taken(left, left_bytes);
            run_job(job);
            ran += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn jobs_of_one_mailbox_run_in_order_and_mailboxes_in_parallel() {
        let pool = Pool::new(2, "t");
        let (tx, rx) = mpsc::channel();
        let a = Mailbox::new(8, usize::MAX);
        let b = Mailbox::new(8, usize::MAX);
        // `a` blocks until `b` has run: only possible if they run in parallel.
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        pool.submit(&a, move || gate_rx.recv_timeout(Duration::from_secs(5)).unwrap());
        for i in 0..100 {
            let tx = tx.clone();
            // The limit makes this wait for space while `a` is blocked? No:
            // `b` has its own mailbox.
            pool.submit(&b, move || tx.send(i).unwrap());
            if i == 0 {
                gate_tx.send(()).unwrap();
            }
        }
        let got: Vec<i32> =
            (0..100).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        pool.shutdown();
    }

    #[test]
    fn a_deferring_thread_wakes_the_workers_once_at_the_end_of_its_round() {
        // A poll I/O thread: the mailboxes its round makes ready wait for
        // flush_wakes, even with every worker asleep (one wake for the
        // round, not one per message).
        let pool = Pool::new(2, "t");
        // Workers start as jobs come, at once, deferring or not: start
        // both, so that what follows finds them asleep.
        start_all(&pool, 2);
        let (tx, rx) = mpsc::channel();
        thread::scope(|scope| {
            scope.spawn(|| {
                defer_wakes();
                let mbs: Vec<_> = (0..3).map(|_| Mailbox::new(8, usize::MAX)).collect();
                // Let the workers go to sleep first.
                thread::sleep(Duration::from_millis(50));
                for (i, mb) in mbs.iter().enumerate() {
                    let tx = tx.clone();
                    assert!(pool.submit(mb, move || tx.send(i).unwrap()));
                }
                thread::sleep(Duration::from_millis(100));
                tx.send(99).unwrap();
                flush_wakes();
            });
            let first = rx.recv_timeout(Duration::from_secs(5)).unwrap();
            assert_eq!(first, 99, "a job ran before the flush");
            let mut rest: Vec<usize> =
                (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
            rest.sort_unstable();
            assert_eq!(rest, [0, 1, 2]);
        });
        pool.shutdown();
    }

    /// Runs `n` jobs that wait for each other, on `n` mailboxes: only `n`
    /// workers running at once let them finish, so `n` are started.
    fn start_all(pool: &Pool, n: usize) {
        let barrier = Arc::new(std::sync::Barrier::new(n + 1));
        for _ in 0..n {
            let b = barrier.clone();
            assert!(pool.submit(&Mailbox::new(1, usize::MAX), move || {
                b.wait();
            }));
        }
        barrier.wait();
    }

    /// Waits until every started worker sleeps (a job's effect can come
    /// before its worker is back asleep; a job then would start another).
    fn asleep(pool: &Pool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let ready = lock(&pool.shared.ready);
            if ready.idle == ready.workers.len() {
                return;
            }
            drop(ready);
            assert!(std::time::Instant::now() < deadline, "workers never went to sleep");
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn started(pool: &Pool) -> usize {
        lock(&pool.shared.ready).workers.len()
    }

    #[test]
    fn workers_start_as_jobs_come_and_no_more_than_the_limit() {
        let pool = Pool::new(3, "t");
        assert_eq!(started(&pool), 0, "no worker before the first job");
        // One job at a time needs one worker, however many jobs.
        let mb = Mailbox::new(8, usize::MAX);
        for _ in 0..20 {
            let (tx, rx) = mpsc::channel();
            assert!(pool.submit(&mb, move || tx.send(()).unwrap()));
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
            asleep(&pool);
        }
        assert_eq!(started(&pool), 1);
        // Ten mailboxes blocked at once: the limit, not ten.
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let gate_rx = Arc::new(Mutex::new(gate_rx));
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..10 {
            let (g, d) = (gate_rx.clone(), done_tx.clone());
            assert!(pool.submit(&Mailbox::new(1, usize::MAX), move || {
                lock(&g).recv_timeout(Duration::from_secs(5)).unwrap();
                d.send(()).unwrap();
            }));
        }
        for _ in 0..10 {
            gate_tx.send(()).unwrap();
        }
        for _ in 0..10 {
            done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        assert_eq!(started(&pool), 3);
        // Their names say whose they are; a worker knows it is one.
        let (tx, rx) = mpsc::channel();
        let me = Arc::new(pool);
        let p = me.clone();
        assert!(me.submit(&Mailbox::new(1, usize::MAX), move || {
            let name = thread::current().name().map(str::to_owned);
            tx.send((name, p.is_worker())).unwrap();
        }));
        let (name, worker) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(name.is_some_and(|n| n.starts_with("t-cb")));
        assert!(worker);
        assert!(!me.is_worker());
        me.shutdown();
        assert_eq!(started(&me), 0, "shutdown joins them");
    }

    #[test]
    fn a_worker_that_failed_to_start_is_started_by_the_next_submit() {
        // The one mailbox is queued when the start fails; later submits to
        // it do not schedule it again, yet its jobs must run.
        let pool = Pool::new(2, "t");
        pool.shared.fail_starts.store(1, Ordering::Release);
        let mb = Mailbox::new(8, usize::MAX);
        let (tx, rx) = mpsc::channel();
        let t = tx.clone();
        assert!(pool.submit(&mb, move || t.send(1).unwrap()));
        assert_eq!(started(&pool), 0, "the start failed");
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "nobody ran it");
        thread::sleep(SPAWN_RETRY);
        assert!(pool.submit(&mb, move || tx.send(2).unwrap()));
        let got: Vec<i32> =
            (0..2).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        assert_eq!(got, [1, 2]);
        assert!(!pool.shared.short.load(Ordering::Acquire));
        pool.shutdown();
    }

    #[test]
    fn a_submitter_waiting_for_space_starts_the_worker_that_failed() {
        // A full mailbox whose worker failed to start: the submitter that
        // waits for space tries again, instead of waiting for good.
        let pool = Pool::new(1, "t");
        pool.shared.fail_starts.store(3, Ordering::Release);
        let mb = Mailbox::new(1, usize::MAX);
        let (tx, rx) = mpsc::channel();
        for i in 0..3 {
            let tx = tx.clone();
            assert!(pool.submit(&mb, move || tx.send(i).unwrap()));
        }
        let got: Vec<i32> =
            (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(started(&pool), 1);
        pool.shutdown();
    }

    #[test]
    fn a_busy_mailbox_put_back_for_fairness_needs_no_second_worker() {
        // 200 jobs on one mailbox: its worker puts it back every 64 and
        // takes it again itself.
        let pool = Pool::new(4, "t");
        let mb = Mailbox::new(1000, usize::MAX);
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        assert!(pool.submit(&mb, move || gate_rx.recv_timeout(Duration::from_secs(5)).unwrap()));
        let (tx, rx) = mpsc::channel();
        for i in 0..200 {
            let tx = tx.clone();
            assert!(pool.submit(&mb, move || tx.send(i).unwrap()));
        }
        gate_tx.send(()).unwrap();
        let got: Vec<i32> =
            (0..200).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        assert_eq!(got, (0..200).collect::<Vec<_>>());
        assert_eq!(started(&pool), 1);
        pool.shutdown();
    }

    #[test]
    fn without_workers_jobs_run_at_once_on_the_caller() {
        let pool = Pool::new(0, "t");
        let mb = Mailbox::new(1, usize::MAX);
        let me = thread::current().id();
        let (tx, rx) = mpsc::channel();
        for i in 0..3 {
            let tx = tx.clone();
            assert!(pool.submit(
                &mb,
                Box::new(move || tx
                    .send((i, thread::current().id(), in_inline_callback()))
                    .unwrap())
            ));
        }
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got, [(0, me, true), (1, me, true), (2, me, true)]);
        assert!(!in_inline_callback());
        pool.submit(&mb, || panic!("boom"));
        pool.close_mailbox(&mb);
        assert!(!pool.submit(&mb, || {}));
    }

    #[test]
    fn a_panicking_job_does_not_kill_the_worker() {
        let pool = Pool::new(1, "t");
        let mb = Mailbox::new(8, usize::MAX);
        pool.submit(&mb, || panic!("boom"));
        let (tx, rx) = mpsc::channel();
        pool.submit(&mb, move || tx.send(1).unwrap());
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 1);
    }

    #[test]
    fn a_mailbox_is_full_by_bytes_as_well_as_by_jobs() {
        let pool = Pool::new(1, "t");
        let mb = Mailbox::new(1000, 100);
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        // The worker is held up by the first job; the rest queue.
        pool.submit(&mb, move || gate_rx.recv_timeout(Duration::from_secs(5)).unwrap());
        std::thread::sleep(Duration::from_millis(50));
        assert!(pool.submit_sized(&mb, 60, || {}));
        assert!(!mb.is_full());
        assert!(pool.submit_sized(&mb, 60, || {}));
        assert!(mb.is_full(), "120 bytes queued, limit 100");
        assert_eq!(mb.queued_bytes(), 120);
        // A reader waiting for room gets it once the worker drains the box.
        let (tx, rx) = mpsc::channel();
        let (p, m) = (Arc::new(pool), mb.clone());
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || {
            let ok = p2.submit_sized(&m, 60, || {});
            tx.send(ok).unwrap();
        });
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "must wait for room");
        gate_tx.send(()).unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
        waiter.join().unwrap();
        p.shutdown();
    }

    #[test]
    fn shutdown_does_not_wait_for_a_stuck_callback_past_its_grace() {
        let pool = Pool::new(2, "t");
        let mb = Mailbox::new(8, usize::MAX);
        let (_keep, stuck) = mpsc::channel::<()>();
        pool.submit(&mb, move || {
            let _ = stuck.recv();
        });
        std::thread::sleep(Duration::from_millis(20));
        let start = std::time::Instant::now();
        pool.shutdown_within(Duration::from_millis(200));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(200), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}

//! `serve --mode broadcast --redis URL`: one broadcast shared by several
//! nodes through Redis (or Valkey) PUB/SUB.
//!
//! Each node publishes every broadcast its clients make (seen through
//! [`Server::set_broadcast_observer`]) on one channel, and hands what the
//! other nodes published to its own clients with
//! [`Server::relay_broadcast`], which the observer does not see, so nothing
//! goes round twice. Redis delivers a publisher's messages to its own
//! subscription too: a node drops envelopes that carry its own id.
//!
//! Delivery across nodes is Redis PUB/SUB's: at most once. While Redis is
//! away the cross-node copies are dropped (and counted); local delivery
//! never waits for Redis: the observer only puts the envelope on a bounded
//! queue (dropping it when full) and one thread publishes from there. One
//! more thread holds the subscription. Both reconnect with backoff; the
//! relay is up when both are connected, and each change of that is
//! reported once. rediss:// goes through rustls (ring as its crypto).

use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use veltix::{Broadcast, Server};

use anyhow::Context;

use crate::args::{exit, Exit};

/// The channel used when `--redis-channel` is not given.
pub const DEFAULT_CHANNEL: &str = "veltix:broadcast";
/// Envelopes waiting to be published; more are dropped (and counted).
const QUEUE: usize = 4096;
/// The first wait before reconnecting; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The longest a connect, a PUBLISH or its reply may take.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the threads look whether the relay is stopping.
const TICK: Duration = Duration::from_millis(200);
/// The first bytes of every envelope (and its version).
const MAGIC: &[u8; 4] = b"VXR1";
/// MAGIC, origin (u64), has-sender (u8), sender (u64), type (u16).
const HEADER: usize = 4 + 8 + 1 + 8 + 2;

/// What the relay has done, shared with whoever reports it (the summary,
/// metrics).
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Connected to Redis: subscribed and able to publish.
    pub up: AtomicBool,
    /// Local broadcasts published for the other nodes.
    pub published: AtomicU64,
    /// Broadcasts from other nodes handed to the local clients.
    pub received: AtomicU64,
    /// Local broadcasts not published: Redis was down, a PUBLISH failed or
    /// the queue was full.
    pub dropped: AtomicU64,
}

/// A change of the relay's state, reported once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayState {
    Up,
    /// Why it is down.
    Down(String),
}

/// What a relay needs to know; [`RelayConfig::new`] checks the URL.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    client: redis::Client,
    /// The URL without its password, for logs.
    pub shown_url: String,
    pub channel: String,
    /// This node's id on the channel: random, one per process.
    pub node: u64,
}

impl RelayConfig {
    /// Checks `url` (a usage error when it is not one this build can use).
    /// `ca`: the PEM certificates that a rediss:// server's certificate
    /// must chain to (else the system's trusted roots).
    pub fn new(url: &str, channel: &str, ca: Option<&Path>) -> anyhow::Result<Self> {
        let usage = |message: String| anyhow::Error::new(Exit { code: exit::USAGE, message });
        let scheme = url.split("://").next().unwrap_or_default();
        let tls = scheme == "rediss" || scheme == "valkeys";
        if channel.is_empty() {
            return Err(usage("--redis-channel must not be empty".into()));
        }
        let bad_url = |e: redis::RedisError| {
            usage(format!(
                "--redis {}: not a Redis URL ({e}); expected redis[s]://HOST[:PORT][/DB]",
                hide_password(url)
            ))
        };
        if tls {
            // rustls wants one crypto provider for the process; another
            // one already installed is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = match ca {
            Some(_) if !tls => {
                return Err(usage("--redis-ca is only used with a rediss:// URL".into()));
            }
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --redis-ca {}", path.display()))?;
                let certs = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
                redis::Client::build_with_tls(url, certs).map_err(|e| {
                    usage(format!("--redis-ca {}: no usable certificate ({e})", path.display()))
                })?
            }
            None => redis::Client::open(url).map_err(bad_url)?,
        };
        Ok(Self {
            client,
            shown_url: hide_password(url),
            channel: channel.to_string(),
            node: node_id(),
        })
    }
}

/// `url` with any password replaced by `***`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A broadcast as it travels between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Envelope<'a> {
    /// The node that published it.
    origin: u64,
    /// The client that sent it there, if a client did.
    sender: Option<u64>,
    type_code: u16,
    payload: &'a [u8],
}

impl<'a> Envelope<'a> {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.origin.to_be_bytes());
        out.push(u8::from(self.sender.is_some()));
        out.extend_from_slice(&self.sender.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.type_code.to_be_bytes());
        out.extend_from_slice(self.payload);
        out
    }

    /// None for what no node of this version published.
    fn decode(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return None;
        }
        let u64_at = |i: usize| bytes[i..i + 8].try_into().ok().map(u64::from_be_bytes);
        let sender = match bytes[12] {
            0 => None,
            1 => Some(u64_at(13)?),
            _ => return None,
        };
        Some(Self {
            origin: u64_at(4)?,
            sender,
            type_code: u16::from_be_bytes([bytes[21], bytes[22]]),
            payload: &bytes[HEADER..],
        })
    }
}

/// A random id for this node (this process).
fn node_id() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

/// Which connection a state change is about.
#[derive(Debug, Clone, Copy)]
enum Link {
    Subscriber,
    Publisher,
}

#[derive(Default)]
struct Links {
    subscribed: bool,
    publishing: bool,
    /// Whether up was reported last (None: nothing reported yet).
    reported: Option<bool>,
    /// Bumped each time the subscriber connects again: the publisher's
    /// connection may be a dead one from before, it makes a new one.
    epoch: u64,
}

struct Shared {
    cfg: RelayConfig,
    origin: u64,
    stats: Arc<RelayStats>,
    stopping: AtomicBool,
    links: Mutex<Links>,
    on_state: Box<dyn Fn(&RelayState) + Send + Sync>,
    on_relayed: Box<dyn Fn(usize) + Send + Sync>,
}

impl Shared {
    fn links(&self) -> MutexGuard<'_, Links> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a connection's state; reports the relay's when it changes.
    fn set(&self, link: Link, ok: bool, why: impl FnOnce() -> String) {
        let mut links = self.links();
        match link {
            Link::Subscriber => {
                if ok && !links.subscribed {
                    // The publisher connects again too, before up.
                    links.epoch += 1;
                    links.publishing = false;
                }
                links.subscribed = ok;
            }
            Link::Publisher => links.publishing = ok,
        }
        let up = links.subscribed && links.publishing;
        self.stats.up.store(up, Ordering::SeqCst);
        // Still down while the other link connects: not a change.
        let change = match links.reported {
            None => up || !ok,
            Some(was) => was != up,
        };
        if change && !self.stopping.load(Ordering::SeqCst) {
            links.reported = Some(up);
            let state = if up { RelayState::Up } else { RelayState::Down(why()) };
            (self.on_state)(&state);
        }
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps for `d` in ticks; false when the relay is stopping.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(TICK));
        }
        false
    }
}

fn next_backoff(d: Duration) -> Duration {
    (d * 2).min(BACKOFF_MAX)
}

/// A running relay; [`Relay::stop`] ends it.
pub struct Relay {
    shared: Arc<Shared>,
}

impl Relay {
    /// Starts relaying `server`'s broadcasts. Does not wait for Redis: until
    /// it is reached, broadcasts stay local (`on_state` says when it is up
    /// or down). `on_relayed` is told how many local clients each
    /// broadcast from another node was queued for.
    pub fn start(
        server: &Arc<Server>,
        cfg: RelayConfig,
        on_state: impl Fn(&RelayState) + Send + Sync + 'static,
        on_relayed: impl Fn(usize) + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            origin: cfg.node,
            cfg,
            stats: Arc::new(RelayStats::default()),
            stopping: AtomicBool::new(false),
            links: Mutex::new(Links::default()),
            on_state: Box::new(on_state),
            on_relayed: Box::new(on_relayed),
        });
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let observer = shared.clone();
        server.set_broadcast_observer(move |b| observe(&observer, &tx, b));
        let publisher = shared.clone();
        std::thread::Builder::new()
            .name("relay-publish".into())
            .spawn(move || publish_loop(&publisher, &rx))
            .ok();
        let subscriber = shared.clone();
        let server = Arc::downgrade(server);
        std::thread::Builder::new()
            .name("relay-subscribe".into())
            .spawn(move || subscribe_loop(&subscriber, &server))
            .ok();
        Self { shared }
    }

    /// The counters, for the summary and metrics.
    pub fn stats(&self) -> Arc<RelayStats> {
        self.shared.stats.clone()
    }

    /// Stops publishing and relaying; the threads end within a tick (or an
    /// I/O time-out). Nothing more is reported.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The broadcast observer: queue the envelope, never wait.
fn observe(shared: &Shared, tx: &SyncSender<Vec<u8>>, b: &Broadcast<'_>) {
    let stats = &shared.stats;
    if shared.stopping() {
        return;
    }
    if !stats.up.load(Ordering::SeqCst) {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let env = Envelope {
        origin: shared.origin,
        sender: b.except,
        type_code: b.type_code,
        payload: b.payload,
    };
    if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = tx.try_send(env.encode()) {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// The publisher's connection and what it needs to reconnect.
struct Publisher<'a> {
    shared: &'a Shared,
    /// The connection and the subscriber's epoch it was made in.
    con: Option<(redis::Connection, u64)>,
    backoff: Duration,
    retry_at: Instant,
}

impl Publisher<'_> {
    /// Drops a connection from before the subscriber's last reconnect
    /// (Redis may have restarted since) and connects when it is time to.
    fn ensure(&mut self) {
        let epoch = self.shared.links().epoch;
        if self.con.as_ref().is_some_and(|(_, e)| *e != epoch) {
            self.con = None;
            self.retry_at = Instant::now();
        }
        if self.con.is_some() || Instant::now() < self.retry_at {
            return;
        }
        match connect(&self.shared.cfg.client) {
            Ok(c) => {
                self.con = Some((c, epoch));
                self.backoff = BACKOFF_MIN;
                self.shared.set(Link::Publisher, true, String::new);
            }
            Err(e) => {
                self.retry_at = Instant::now() + self.backoff;
                self.backoff = next_backoff(self.backoff);
                let url = &self.shared.cfg.shown_url;
                self.shared.set(Link::Publisher, false, || format!("cannot connect to {url}: {e}"));
            }
        }
    }

    /// How long to wait for the next envelope before looking again.
    fn wait(&self) -> Duration {
        match self.con {
            Some(_) => TICK,
            None => self
                .retry_at
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), TICK),
        }
    }

    fn publish(&mut self, msg: Vec<u8>) {
        let stats = &self.shared.stats;
        let Some((c, _)) = self.con.as_mut() else {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let sent: redis::RedisResult<i64> =
            redis::cmd("PUBLISH").arg(&self.shared.cfg.channel).arg(msg).query(c);
        match sent {
            Ok(_) => {
                stats.published.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                self.con = None;
                self.retry_at = Instant::now();
                self.shared.set(Link::Publisher, false, || format!("cannot publish: {e}"));
            }
        }
    }
}

fn publish_loop(shared: &Shared, rx: &mpsc::Receiver<Vec<u8>>) {
    let mut p = Publisher { shared, con: None, backoff: BACKOFF_MIN, retry_at: Instant::now() };
    while !shared.stopping() {
        p.ensure();
        match rx.recv_timeout(p.wait()) {
            Ok(msg) => {
                p.ensure();
                p.publish(msg);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn connect(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let con = client.get_connection_with_timeout(IO_TIMEOUT)?;
    con.set_write_timeout(Some(IO_TIMEOUT))?;
    con.set_read_timeout(Some(IO_TIMEOUT))?;
    Ok(con)
}

fn subscribe_loop(shared: &Shared, server: &std::sync::Weak<Server>) {
    let mut backoff = BACKOFF_MIN;
    while !shared.stopping() {
        let why = match subscribe(shared, server, &mut backoff) {
            Ok(()) => return,
            Err(e) => e,
        };
        shared.set(Link::Subscriber, false, || why);
        if !shared.sleep(backoff) {
            return;
        }
        backoff = next_backoff(backoff);
    }
}

/// Subscribes and relays until stopped (Ok) or an error (why, Err).
fn subscribe(
    shared: &Shared,
    server: &std::sync::Weak<Server>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let url = &shared.cfg.shown_url;
    let mut con =
        connect(&shared.cfg.client).map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let mut sub = con.as_pubsub();
    sub.subscribe(&shared.cfg.channel)
        .map_err(|e| format!("cannot subscribe to {} at {url}: {e}", shared.cfg.channel))?;
    // A tick, not forever: the loop looks whether it is stopping.
    sub.set_read_timeout(Some(TICK)).map_err(|e| e.to_string())?;
    *backoff = BACKOFF_MIN;
    shared.set(Link::Subscriber, true, String::new);
    while !shared.stopping() {
        let msg = match sub.get_message() {
            Ok(m) => m,
            Err(e) if e.is_timeout() => continue,
            Err(e) => return Err(format!("lost the subscription at {url}: {e}")),
        };
        let Some(env) = Envelope::decode(msg.get_payload_bytes()) else {
            log::debug!(
                "relay: ignored a message on {} that no veltix node sent",
                msg.get_channel_name()
            );
            continue;
        };
        if env.origin == shared.origin {
            continue;
        }
        let Some(server) = server.upgrade() else { return Ok(()) };
        match server.relay_broadcast(env.type_code, env.payload, None) {
            Ok(n) => {
                shared.stats.received.fetch_add(1, Ordering::Relaxed);
                (shared.on_relayed)(n);
            }
            Err(e) => log::warn!(
                "relay: cannot deliver a message from node {:016x} (client #{}): {e}",
                env.origin,
                env.sender.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip() {
        for sender in [None, Some(7), Some(u64::MAX)] {
            let e =
                Envelope { origin: 0x0102_0304_0506_0708, sender, type_code: 513, payload: b"hi" };
            assert_eq!(Envelope::decode(&e.encode()), Some(e));
        }
        let empty = Envelope { origin: 1, sender: None, type_code: 200, payload: b"" };
        assert_eq!(Envelope::decode(&empty.encode()), Some(empty));
    }

    #[test]
    fn foreign_messages_are_not_envelopes() {
        let good = Envelope { origin: 1, sender: Some(2), type_code: 200, payload: b"x" }.encode();
        assert_eq!(Envelope::decode(b"hello"), None);
        assert_eq!(Envelope::decode(&good[..HEADER - 1]), None, "too short");
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(Envelope::decode(&bad), None, "magic");
        let mut bad = good;
        bad[12] = 2;
        assert_eq!(Envelope::decode(&bad), None, "sender flag");
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(hide_password("redis://127.0.0.1:6379/2"), "redis://127.0.0.1:6379/2");
        assert_eq!(hide_password("redis://:secret@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(hide_password("redis://me:p@ss@h"), "redis://me:***@h");
        assert_eq!(hide_password("redis://me@h"), "redis://me@h");
    }

    #[test]
    fn urls_are_checked() {
        let code = |r: anyhow::Result<RelayConfig>| {
            r.err().and_then(|e| e.downcast_ref::<Exit>().map(|x| x.code))
        };
        assert!(RelayConfig::new("redis://127.0.0.1:6379/0", DEFAULT_CHANNEL, None).is_ok());
        assert!(RelayConfig::new("rediss://127.0.0.1:6379/0", DEFAULT_CHANNEL, None).is_ok());
        assert_eq!(code(RelayConfig::new("http://h", "c", None)), Some(exit::USAGE));
        assert_eq!(code(RelayConfig::new("redis://h", "", None)), Some(exit::USAGE));
        let ca = Some(Path::new("/dev/null"));
        assert_eq!(code(RelayConfig::new("redis://h", "c", ca)), Some(exit::USAGE));
    }

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        assert_eq!(next_backoff(BACKOFF_MIN), Duration::from_millis(200));
        assert_eq!(next_backoff(Duration::from_secs(4)), BACKOFF_MAX);
        assert_eq!(next_backoff(BACKOFF_MAX), BACKOFF_MAX);
    }
}

//! The server: accepts clients, drives the handshake, dispatches messages.
//!
//! ```no_run
//! use std::time::Duration;
//! use veltix::{Server, ServerConfig};
//!
//! let server = Server::builder(ServerConfig::default().port(8080))
//!     .on_message(|peer, frame| {
//!         // Echo: same type and request id, so `send_and_wait` gets it.
//!         let _ = peer.reply(&frame, &frame.payload);
//!     })
//!     .start()?;
//! println!("listening on {}", server.local_addr());
//! # Ok::<(), veltix::Error>(())
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::codec::frame::{Frame, RequestId};
use crate::codec::vx::VxError;
use crate::codec::{encode_frame_into, Class, Wire};
use crate::config::{ConnConfig, CoreKind, ServerConfig};
use crate::conn::{Conn, Hub, Peer, Role};
pub use crate::conn::{ServerHandle, ServerStats};
use crate::core::poll::PollCore;
use crate::core::{threads, Owner};
use crate::dispatch::{Mailbox, Pool};
use crate::error::{EndReason, Error, ProtocolError, Result};
use crate::handlers::{self, Handlers};
use crate::session::requests::Pending;
use crate::session::{self, Session};
use crate::sync::lock;

/// Called when a client's connection ends, with the reason.
pub type ServerDisconnectFn = dyn Fn(&Peer, &EndReason) + Send + Sync;

/// A broadcast made on this server, as a relay sees it (see
/// [`Server::set_broadcast_observer`]).
#[derive(Debug, Clone, Copy)]
pub struct Broadcast<'a> {
    /// The message type.
    pub type_code: u16,
    /// The payload.
    pub payload: &'a [u8],
    /// The client it was not sent to (its sender, for a relay): the
    /// `except` of the broadcast.
    pub except: Option<u64>,
}

/// A server's counters and gauges since it started, for monitoring
/// ([`Server::metrics`]): what an OpenMetrics exporter publishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerMetrics {
    /// Clients connected now (handshake done).
    pub clients_connected: u64,
    /// TCP connections accepted, refused ones included.
    pub connections_total: u64,
    /// Handshakes that failed, by reason (see [`HandshakeFailures`]).
    pub handshake_failures: HandshakeFailures,
    /// Frames received, by class: system, application, plugin
    /// ([`Class::index`]).
    pub frames_received: [u64; 3],
    /// Frames sent, by class.
    pub frames_sent: [u64; 3],
    /// Bytes received.
    pub bytes_received: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Messages dropped because their connection was too slow a reader
    /// (what was queued when it was dropped).
    pub dropped_slow_consumer: u64,
    /// Frames refused for their size (their connection ended).
    pub dropped_oversize: u64,
    /// Frames dropped for a bad CRC.
    pub dropped_bad_crc: u64,
    /// Payload bytes waiting for callbacks, over every connection.
    pub callback_queue_bytes: u64,
    /// Bytes waiting to be sent, over every connection.
    pub outbound_queue_bytes: u64,
}

/// Why handshakes failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeFailures {
    /// Not completed within the handshake timeout.
    pub timeout: u64,
    /// The peer speaks another protocol version (or profile).
    pub version: u64,
    /// A bad frame or handshake message.
    pub protocol: u64,
    /// The peer closed the connection (or it failed) first.
    pub closed: u64,
    /// Refused: the server was full (`max_connections`).
    pub server_full: u64,
}

/// Sees every broadcast made on a server (not the relayed ones).
pub type BroadcastObserver = dyn Fn(&Broadcast<'_>) + Send + Sync;

struct Inner {
    cfg: ServerConfig,
    conn_cfg: Arc<ConnConfig>,
    local_addr: SocketAddr,
    conns: RwLock<HashMap<u64, Arc<Conn>>>,
    handlers: Handlers<ServerDisconnectFn>,
    pool: Pool,
    /// The poll core's I/O threads, when the config asks for it.
    poll: Option<Arc<PollCore>>,
    closing: AtomicBool,
    next_id: AtomicU64,
    served: AtomicU64,
    refused: AtomicU64,
    /// Told of every broadcast made here (a relay to other nodes).
    observer: RwLock<Option<Arc<BroadcastObserver>>>,
    /// Counters of the connections that have ended, and handshake failures.
    ended: Mutex<ServerMetrics>,
    /// TLS: every connection's handshake runs in the core (never here).
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// A running Veltix server. Dropping it shuts it down.
pub struct Server {
    inner: Arc<Inner>,
    listener: Arc<TcpListener>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

/// Sets a server's callbacks before it starts accepting.
pub struct ServerBuilder {
    cfg: ServerConfig,
    handlers: Handlers<ServerDisconnectFn>,
}

impl ServerBuilder {
    /// Called on a callback worker when a client completes the handshake.
    pub fn on_connect(self, f: impl Fn(&Peer) + Send + Sync + 'static) -> Self {
        self.handlers.set_on_connect(f);
        self
    }
    /// Called on a callback worker for each message no route takes.
    pub fn on_message(self, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) -> Self {
        self.handlers.set_on_message(f);
        self
    }
    /// Called on a callback worker when an established client goes away.
    pub fn on_disconnect(self, f: impl Fn(&Peer, &EndReason) + Send + Sync + 'static) -> Self {
        self.handlers.set_on_disconnect(Arc::new(f) as Arc<ServerDisconnectFn>);
        self
    }
    /// Routes messages of one type to `f` instead of on_message.
    pub fn route(self, type_code: u16, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) -> Self {
        self.handlers.route(type_code, Arc::new(f));
        self
    }
    /// Binds and starts accepting.
    pub fn start(self) -> Result<Server> {
        Server::start_with(self.cfg, self.handlers)
    }
}

impl Server {
    /// A builder for a server with `cfg`.
    pub fn builder(cfg: ServerConfig) -> ServerBuilder {
        ServerBuilder { cfg, handlers: Handlers::default() }
    }

    /// Binds and starts a server without callbacks (add them later with
    /// [`set_on_message`](Server::set_on_message) and friends).
    pub fn start(cfg: ServerConfig) -> Result<Server> {
        Server::builder(cfg).start()
    }

    fn start_with(cfg: ServerConfig, handlers: Handlers<ServerDisconnectFn>) -> Result<Server> {
        cfg.conn.validate()?;
        #[cfg(feature = "tls")]
        let tls = cfg.tls.as_ref().map(crate::tls::server_config).transpose()?;
        let listener = bind(&cfg.host, cfg.port)?;
        let local_addr = listener.local_addr()?;
        let poll = match cfg.conn.core {
            CoreKind::Poll => Some(PollCore::new(cfg.conn.io_threads, "veltix-srv")?),
            CoreKind::Threads => None,
        };
        let inner = Arc::new(Inner {
            poll,
            conn_cfg: Arc::new(cfg.conn.clone()),
            pool: Pool::new(cfg.conn.max_workers, "veltix-srv"),
            cfg,
            local_addr,
            conns: RwLock::new(HashMap::new()),
            handlers,
            closing: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            served: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            observer: RwLock::new(None),
            ended: Mutex::new(ServerMetrics::default()),
            #[cfg(feature = "tls")]
            tls,
        });
        let listener = Arc::new(listener);
        let (i, l) = (inner.clone(), listener.clone());
        let accept = std::thread::Builder::new()
            .name("veltix-accept".into())
            .spawn(move || accept_loop(&i, &l))?;
        log::debug!("listening on {local_addr}");
        Ok(Server { inner, listener, accept: Mutex::new(Some(accept)) })
    }

    /// The address the server listens on (with the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// A handle to this server that callbacks can keep (see [`Peer::server`]).
    pub fn handle(&self) -> ServerHandle {
        let inner: Arc<dyn Hub> = self.inner.clone();
        ServerHandle::new(Arc::downgrade(&inner))
    }

    /// The clients that completed the handshake, by id.
    pub fn clients(&self) -> Vec<Peer> {
        self.inner.clients().into_iter().map(|conn| Peer { conn }).collect()
    }

    /// The client with this id, if connected.
    pub fn client(&self, id: u64) -> Option<Peer> {
        self.inner.client(id).map(|conn| Peer { conn })
    }

    /// Number of connected (established) clients.
    pub fn client_count(&self) -> usize {
        self.inner.established_count()
    }

    /// Sends one message to every connected client except `except`; the
    /// frame is encoded once. Returns how many clients it was queued for.
    pub fn broadcast(&self, type_code: u16, payload: &[u8], except: Option<u64>) -> Result<usize> {
        self.inner.broadcast(type_code, payload, except)
    }

    /// Sets what sees every broadcast made on this server
    /// ([`Server::broadcast`] and [`ServerHandle::broadcast`] from
    /// callbacks), after it was queued for the local clients: the hook a
    /// relay between nodes publishes from. Broadcasts made with
    /// [`Server::relay_broadcast`] are not shown to it, so a relay never
    /// sends back what it brought in.
    pub fn set_broadcast_observer(&self, f: impl Fn(&Broadcast<'_>) + Send + Sync + 'static) {
        handlers::write(&self.inner.observer, Some(Arc::new(f) as Arc<BroadcastObserver>));
    }

    /// Delivers a broadcast that came from elsewhere (another node, through
    /// a relay) to every local client but `except`, without telling the
    /// broadcast observer. Returns how many clients it was queued for.
    pub fn relay_broadcast(
        &self,
        type_code: u16,
        payload: &[u8],
        except: Option<u64>,
    ) -> Result<usize> {
        self.inner.broadcast_local(type_code, payload, except)
    }

    /// Sends a message to one client; returns the request id used.
    pub fn send_to(&self, id: u64, type_code: u16, payload: &[u8]) -> Result<RequestId> {
        self.inner.peer(id)?.send(type_code, payload)
    }

    /// Sends a request to one client and waits for its reply.
    pub fn send_and_wait(
        &self,
        id: u64,
        type_code: u16,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Frame> {
        self.inner.peer(id)?.send_and_wait(type_code, payload, timeout)
    }

    /// Pings one client; returns the round-trip time.
    pub fn ping(&self, id: u64, timeout: Duration) -> Result<Duration> {
        self.inner.peer(id)?.ping(timeout)
    }

    /// Closes one client's connection.
    pub fn close_client(&self, id: u64) -> Result<()> {
        self.inner.peer(id)?.close();
        Ok(())
    }

    /// Routes messages of one type to `f` (replacing an earlier route);
    /// returns false when it replaced one.
    pub fn route(&self, type_code: u16, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) -> bool {
        self.inner.handlers.route(type_code, Arc::new(f))
    }

    /// Removes the route of a type; returns whether there was one.
    pub fn unroute(&self, type_code: u16) -> bool {
        self.inner.handlers.unroute(type_code)
    }

    /// Replaces the on-message callback.
    pub fn set_on_message(&self, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) {
        self.inner.handlers.set_on_message(f);
    }

    /// Replaces the on-connect callback.
    pub fn set_on_connect(&self, f: impl Fn(&Peer) + Send + Sync + 'static) {
        self.inner.handlers.set_on_connect(f);
    }

    /// Replaces the on-disconnect callback.
    pub fn set_on_disconnect(&self, f: impl Fn(&Peer, &EndReason) + Send + Sync + 'static) {
        self.inner.handlers.set_on_disconnect(Arc::new(f) as Arc<ServerDisconnectFn>);
    }

    /// Totals since start.
    pub fn stats(&self) -> ServerStats {
        self.inner.stats()
    }

    /// Counters and gauges since start, for monitoring.
    pub fn metrics(&self) -> ServerMetrics {
        self.inner.metrics()
    }

    /// Stops accepting, flushes what is queued to each client (up to 2 s in
    /// all), closes every connection, runs the pending callbacks and joins
    /// every thread. Idempotent; safe to call from a callback.
    pub fn shutdown(&self) {
        if self.inner.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        // Wake the blocking accept().
        shutdown_listener(&self.listener);
        if let Some(h) = lock(&self.accept).take() {
            let _ = h.join();
        }
        let conns: Vec<Arc<Conn>> =
            self.inner.conns.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        let deadline = Instant::now() + Duration::from_secs(2);
        for c in &conns {
            c.flush(deadline.saturating_duration_since(Instant::now()));
        }
        for c in &conns {
            self.inner.pool.unblock(&c.mailbox);
            c.close("server shutting down");
        }
        // Every connection's disconnect path runs before the pool stops.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.inner.conns.read().unwrap_or_else(|e| e.into_inner()).is_empty()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        if let Some(core) = &self.inner.poll {
            core.shutdown();
        }
        self.inner.pool.shutdown();
        log::info!("server on {} stopped", self.inner.local_addr);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Hub for Inner {
    fn clients(&self) -> Vec<Arc<Conn>> {
        let mut v: Vec<Arc<Conn>> = self
            .conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|c| c.is_established() && !c.is_closed())
            .cloned()
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }

    fn client(&self, id: u64) -> Option<Arc<Conn>> {
        let conns = self.conns.read().unwrap_or_else(|e| e.into_inner());
        conns.get(&id).filter(|c| c.is_established()).cloned()
    }

    fn broadcast(&self, type_code: u16, payload: &[u8], except: Option<u64>) -> Result<usize> {
        let n = self.broadcast_local(type_code, payload, except)?;
        if let Some(f) = handlers::read(&self.observer) {
            f(&Broadcast { type_code, payload, except });
        }
        Ok(n)
    }

    fn stats(&self) -> ServerStats {
        self.stats_now()
    }
}

impl Inner {
    /// One message to every established local client but `except`,
    /// encoded once.
    fn broadcast_local(
        &self,
        type_code: u16,
        payload: &[u8],
        except: Option<u64>,
    ) -> Result<usize> {
        // One id from the server's half of the VX space, as 3.x does.
        let wire = self.conn_cfg.wire.for_server();
        let id = match wire {
            Wire::V1_6 => RequestId::random(),
            Wire::Vx => RequestId::from(32768 + RequestId::random().as_u32() % 32768),
        };
        let mut bytes = Vec::new();
        encode_frame_into(wire, type_code, id, payload, &mut bytes)?;
        let conns: Vec<Arc<Conn>> = self
            .conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|c| c.is_established() && Some(c.id) != except)
            .cloned()
            .collect();
        let mut n = 0;
        for c in conns {
            if c.send_bytes(&[&bytes], 1, wire.class(type_code)).is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }

    fn stats_now(&self) -> ServerStats {
        let conns = self.conns.read().unwrap_or_else(|e| e.into_inner());
        let (mut fin, mut fout) = (0, 0);
        for c in conns.values() {
            let s = c.stats();
            fin += s.frames_in;
            fout += s.frames_out;
        }
        // What ended connections received and sent lives in the metrics.
        let (ended_in, ended_out) = {
            let m = lock(&self.ended);
            (m.frames_received.iter().sum::<u64>(), m.frames_sent.iter().sum::<u64>())
        };
        ServerStats {
            clients_served: self.served.load(Ordering::Relaxed),
            clients_now: conns.values().filter(|c| c.is_established()).count(),
            frames_in: fin + ended_in,
            frames_out: fout + ended_out,
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}

/// Adds one connection's counters to `m`.
fn add_conn(m: &mut ServerMetrics, c: &Conn) {
    let k = &c.counters;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    for i in 0..3 {
        m.frames_received[i] += get(&k.frames_in_class[i]);
        m.frames_sent[i] += get(&k.frames_out_class[i]);
    }
    m.bytes_received += get(&k.bytes_in);
    m.bytes_sent += get(&k.bytes_out);
    m.dropped_slow_consumer += get(&k.dropped_slow);
    m.dropped_oversize += get(&k.dropped_oversize);
    m.dropped_bad_crc += get(&k.dropped_crc);
}

impl Inner {
    fn metrics(&self) -> ServerMetrics {
        let conns: Vec<Arc<Conn>> =
            self.conns.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        let mut m = *lock(&self.ended);
        for c in &conns {
            add_conn(&mut m, c);
            m.callback_queue_bytes += c.mailbox.queued_bytes() as u64;
            m.outbound_queue_bytes += c.outbound_len() as u64;
        }
        m.clients_connected = conns.iter().filter(|c| c.is_established()).count() as u64;
        m.connections_total =
            self.next_id.load(Ordering::Relaxed) - 1 + self.refused.load(Ordering::Relaxed);
        m.handshake_failures.server_full = self.refused.load(Ordering::Relaxed);
        m
    }

    fn peer(&self, id: u64) -> Result<Peer> {
        self.client(id).map(|conn| Peer { conn }).ok_or(Error::NoSuchClient(id))
    }

    fn established_count(&self) -> usize {
        self.conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|c| c.is_established())
            .count()
    }
}

fn bind(host: &str, port: u16) -> Result<TcpListener> {
    let addr = format!("{host}:{port}");
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::Bind { addr: addr.clone(), source: e })?
        .collect();
    let mut last = None;
    for a in &addrs {
        match TcpListener::bind(a) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(source) => Error::Bind { addr, source },
        None => Error::NoAddress(addr),
    })
}

#[cfg(unix)]
fn shutdown_listener(l: &TcpListener) {
    use std::os::fd::AsRawFd;
    // On Linux, shutting down a listening socket wakes a blocked accept()
    // with an error; the listener is closed when the last Arc drops.
    // SAFETY: the fd belongs to `l`, which is alive.
    unsafe {
        libc::shutdown(l.as_raw_fd(), libc::SHUT_RDWR);
    }
}

fn accept_loop(inner: &Arc<Inner>, listener: &TcpListener) {
    loop {
        let accepted = listener.accept();
        if inner.closing.load(Ordering::Acquire) {
            return;
        }
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                log::error!("accept failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if let Some(max) = inner.cfg.max_connections {
            let live = inner.conns.read().unwrap_or_else(|e| e.into_inner()).len();
            if live >= max {
                refuse(inner, stream, peer, max);
                continue;
            }
        }
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mailbox = Mailbox::new(
            inner.conn_cfg.max_pending_callbacks,
            inner.conn_cfg.max_pending_callback_bytes,
        );
        let pending = Arc::new(Pending::new());
        let cfg = inner.conn_cfg.clone();
        let mut session = Session::server(peer, cfg.clone(), pending.clone(), Instant::now());
        let wire = session.wire();
        let conn = Conn::new(id, stream, peer, Role::Server, wire, cfg, pending, mailbox);
        let hub: Arc<dyn Hub> = inner.clone();
        conn.set_hub(Arc::downgrade(&hub));
        // TLS: our HELLO waits inside rustls until the core has completed
        // the TLS handshake, within the session's handshake deadline.
        #[cfg(feature = "tls")]
        if let Some(tls) = &inner.tls {
            match crate::tls::TlsState::server(tls, peer) {
                Ok(t) => conn.set_tls(t),
                Err(e) => {
                    log::warn!("cannot start TLS with {peer}: {e}");
                    continue;
                }
            }
        }
        log::debug!("accepted {peer} as client {id}");
        // The session's first words: our HELLO.
        let (hello, frames) = session.transmit();
        if let Err(e) = conn.send_bytes(&[hello], frames, Class::System) {
            log::warn!("cannot greet {peer}: {e}");
            continue;
        }
        session.transmitted();
        inner.conns.write().unwrap_or_else(|e| e.into_inner()).insert(id, conn.clone());
        let started = match &inner.poll {
            Some(core) => core.add(conn.clone(), session, inner.clone(), None),
            None => threads::spawn_reader(conn.clone(), session, inner.clone())
                // Detached: its stack is freed as soon as it ends; shutdown
                // waits for every connection's end instead of joining.
                .map(drop),
        };
        match started {
            Ok(()) => {}
            Err(e) => {
                log::error!("cannot start a reader thread for {peer}: {e}");
                conn.close_err("no reader thread");
                inner.conns.write().unwrap_or_else(|e| e.into_inner()).remove(&id);
            }
        }
    }
}

/// On a TLS port, a peer that sent nothing at all is most likely a plain
/// veltix client, waiting for the server to speak first: the log says so.
fn silent_on_tls(inner: &Inner, conn: &Conn) -> &'static str {
    #[cfg(feature = "tls")]
    if inner.tls.is_some() && conn.stats().bytes_in == 0 {
        return " (it sent nothing: a plain client on the TLS port?)";
    }
    let _ = (inner, conn);
    ""
}

/// Tells a client over the limit why, then closes it. Never blocks the
/// accept loop for long.
fn refuse(inner: &Inner, mut stream: TcpStream, peer: SocketAddr, max: usize) {
    inner.refused.fetch_add(1, Ordering::Relaxed);
    let reason = format!("server full: {max} connections is the limit");
    log::warn!("refused {peer}: {reason}");
    // A TLS client could not read a plain refusal: it sees the close.
    #[cfg(feature = "tls")]
    if inner.tls.is_some() {
        return;
    }
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let wire = inner.conn_cfg.wire.for_server();
    let _ = stream.write_all(&session::refusal(wire, &reason));
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

impl Owner for Inner {
    fn established(&self, conn: &Arc<Conn>) {
        self.served.fetch_add(1, Ordering::Relaxed);
        log::info!(
            "client {} connected from {} (version {})",
            conn.id,
            conn.peer,
            conn.peer_version().unwrap_or_default()
        );
        if let Some(f) = handlers::read(&self.handlers.on_connect) {
            let peer = Peer { conn: conn.clone() };
            self.pool.submit(&conn.mailbox, move || f(&peer));
        }
    }

    fn deliver(&self, conn: &Arc<Conn>, frames: Vec<Frame>) {
        let peer = Peer { conn: conn.clone() };
        self.handlers.deliver(&self.pool, &conn.mailbox, peer, frames);
    }

    fn ended(&self, conn: &Arc<Conn>, reason: EndReason) {
        {
            let mut m = lock(&self.ended);
            add_conn(&mut m, conn);
            if !conn.is_established() {
                let f = &mut m.handshake_failures;
                match (&reason.fault, reason.kind) {
                    (
                        Some(
                            ProtocolError::VersionMismatch { .. }
                            | ProtocolError::WrongWire { .. }
                            | ProtocolError::Vx(VxError::PvMismatch { .. }),
                        ),
                        _,
                    ) => f.version += 1,
                    (Some(_), _) => f.protocol += 1,
                    (None, _) if reason.message.contains("handshake not completed") => {
                        f.timeout += 1
                    }
                    (None, _) => f.closed += 1,
                }
            }
        }
        if !conn.is_established() {
            log::info!(
                "connection from {} ended before the handshake: {}{}",
                conn.peer,
                reason.message,
                silent_on_tls(self, conn)
            );
        } else {
            log::info!("client {} ({}) disconnected: {}", conn.id, conn.peer, reason.message);
            if let Some(f) = handlers::read(&self.handlers.on_disconnect) {
                let peer = Peer { conn: conn.clone() };
                self.pool.submit(&conn.mailbox, move || f(&peer, &reason));
            }
            self.pool.close_mailbox(&conn.mailbox);
        }
        // Last: shutdown waits for the map to empty, and the disconnect
        // callback must be queued by then.
        self.conns.write().unwrap_or_else(|e| e.into_inner()).remove(&conn.id);
    }
}

//! The client: connects, completes the handshake, talks, reconnects.
//!
//! ```no_run
//! use std::time::Duration;
//! use veltix::{Client, ClientConfig};
//!
//! let client = Client::connect(ClientConfig::new("127.0.0.1:8080"))?;
//! let reply = client.send_and_wait(200, b"hello", Duration::from_secs(5))?;
//! println!("{} bytes back, rtt {:?}", reply.payload.len(), client.ping(Duration::from_secs(1))?);
//! # Ok::<(), veltix::Error>(())
//! ```

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::codec::frame::{Frame, RequestId};
use crate::config::{ClientConfig, ConnConfig, CoreKind};
use crate::conn::{Conn, ConnStats, Peer, Pipeline, Role};
use crate::core::poll::PollCore;
use crate::core::{threads, Owner};
use crate::dispatch::{Mailbox, Pool};
use crate::error::{EndKind, EndReason, Error, ProtocolError, Result};
use crate::handlers::{self, Handlers};
use crate::session::requests::Pending;
use crate::session::{Event, Flow, Session};
use crate::sync::lock;

/// Why a client lost its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The server closed the connection.
    ServerClosed,
    /// A network or protocol error, or a failed reconnection attempt.
    Error,
    /// [`Client::disconnect`] was called.
    Manual,
}

/// What the on-disconnect callback is told, at the loss and at every
/// reconnection attempt that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectState {
    /// True when no further attempt will be made.
    pub permanent: bool,
    /// The attempt that just failed (0: the loss itself, before any attempt).
    pub attempt: u32,
    /// The configured number of attempts.
    pub retry_max: u32,
    /// Why.
    pub reason: DisconnectReason,
    /// A sentence for people (the error or close reason).
    pub detail: String,
}

/// Called when the client loses its connection and at each failed attempt.
pub type ClientDisconnectFn = dyn Fn(&DisconnectState) + Send + Sync;

struct Inner {
    cfg: ClientConfig,
    conn_cfg: Arc<ConnConfig>,
    conn: RwLock<Option<Arc<Conn>>>,
    mailbox: Arc<Mailbox>,
    handlers: Handlers<ClientDisconnectFn>,
    pool: Pool,
    manual: AtomicBool,
    stop_retry: AtomicBool,
    retry_max: AtomicU32,
    next_id: AtomicU64,
    /// Wakes a reconnection delay early (disconnect, stop_retry).
    wake: (Mutex<()>, Condvar),
    thread: Mutex<Option<JoinHandle<()>>>,
    /// TLS settings, built once for every connection.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ClientSetup>,
}

/// A connected Veltix client. Dropping it disconnects.
pub struct Client {
    inner: Arc<Inner>,
}

/// Sets a client's callbacks before it connects.
pub struct ClientBuilder {
    cfg: ClientConfig,
    handlers: Handlers<ClientDisconnectFn>,
}

impl ClientBuilder {
    /// Called on a callback worker after each successful handshake
    /// (including after a reconnection).
    pub fn on_connect(self, f: impl Fn(&Peer) + Send + Sync + 'static) -> Self {
        self.handlers.set_on_connect(f);
        self
    }
    /// Called on a callback worker for each message no route takes.
    pub fn on_message(self, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) -> Self {
        self.handlers.set_on_message(f);
        self
    }
    /// Called on a callback worker at a loss and at each failed attempt.
    pub fn on_disconnect(self, f: impl Fn(&DisconnectState) + Send + Sync + 'static) -> Self {
        self.handlers.set_on_disconnect(Arc::new(f) as Arc<ClientDisconnectFn>);
        self
    }
    /// Routes messages of one type to `f` instead of on_message.
    pub fn route(self, type_code: u16, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) -> Self {
        self.handlers.route(type_code, Arc::new(f));
        self
    }
    /// Connects (retrying as configured) and completes the handshake.
    pub fn connect(self) -> Result<Client> {
        Client::connect_with(self.cfg, self.handlers)
    }
}

impl Client {
    /// A builder for a client with `cfg`.
    pub fn builder(cfg: ClientConfig) -> ClientBuilder {
        ClientBuilder { cfg, handlers: Handlers::default() }
    }

    /// Connects without callbacks; blocks until the handshake is done or
    /// has failed (refused, timed out, version mismatch).
    pub fn connect(cfg: ClientConfig) -> Result<Client> {
        Client::builder(cfg).connect()
    }

    fn connect_with(cfg: ClientConfig, handlers: Handlers<ClientDisconnectFn>) -> Result<Client> {
        cfg.conn.validate()?;
        #[cfg(feature = "tls")]
        let tls = match &cfg.tls {
            Some(t) => Some(crate::tls::client_setup(t, &cfg.addr)?),
            None => None,
        };
        let conn_cfg = Arc::new(cfg.conn.clone());
        let inner = Arc::new(Inner {
            mailbox: Mailbox::new(
                conn_cfg.max_pending_callbacks,
                conn_cfg.max_pending_callback_bytes,
            ),
            pool: Pool::new(conn_cfg.max_workers, "veltix-cli"),
            retry_max: AtomicU32::new(cfg.retry),
            conn_cfg,
            cfg,
            conn: RwLock::new(None),
            handlers,
            manual: AtomicBool::new(false),
            stop_retry: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            wake: (Mutex::new(()), Condvar::new()),
            thread: Mutex::new(None),
            #[cfg(feature = "tls")]
            tls,
        });
        let first = match inner.open() {
            Ok(c) => c,
            Err(e) => {
                log::warn!("cannot connect to {}: {e}", inner.cfg.addr);
                let reason = DisconnectReason::Error;
                inner.fire(false, 0, reason, &e.to_string());
                match inner.retry_loop(reason, e.to_string()) {
                    Some(c) => c,
                    None => return Err(e),
                }
            }
        };
        inner.start_thread(first)?;
        Ok(Client { inner })
    }

    /// The connection to the server, while connected.
    pub fn peer(&self) -> Option<Peer> {
        self.inner.current().map(|conn| Peer { conn })
    }

    fn conn(&self) -> Result<Arc<Conn>> {
        self.inner.current().ok_or_else(|| Error::Closed(Some("not connected".into())))
    }

    /// Whether the client is connected now.
    pub fn is_connected(&self) -> bool {
        self.inner.current().is_some()
    }

    /// The server address as configured.
    pub fn server_addr(&self) -> &str {
        &self.inner.cfg.addr
    }

    /// Sends a message; returns the request id used.
    pub fn send(&self, type_code: u16, payload: &[u8]) -> Result<RequestId> {
        Peer { conn: self.conn()? }.send(type_code, payload)
    }

    /// A [`Pipeline`] on the current connection: many sends, few writes
    /// (a reconnect starts a new connection; the pipeline stays on the old
    /// one and fails once it is closed).
    pub fn pipeline(&self) -> Result<Pipeline> {
        Ok(Peer { conn: self.conn()? }.pipeline())
    }

    /// Sends a message with the given request id.
    pub fn send_with_id(&self, type_code: u16, id: RequestId, payload: &[u8]) -> Result<()> {
        self.conn()?.send_parts(type_code, id, payload)
    }

    /// Sends a request and blocks until the reply with the same request id
    /// arrives, or `timeout` passes ([`Error::Timeout`]).
    pub fn send_and_wait(
        &self,
        type_code: u16,
        payload: &[u8],
        timeout: Duration,
    ) -> Result<Frame> {
        Peer { conn: self.conn()? }.send_and_wait(type_code, payload, timeout)
    }

    /// Pings the server; returns the round-trip time (monotonic clock).
    pub fn ping(&self, timeout: Duration) -> Result<Duration> {
        Peer { conn: self.conn()? }.ping(timeout)
    }

    /// Traffic counters of the current connection.
    pub fn stats(&self) -> Option<ConnStats> {
        self.inner.current().map(|c| c.stats())
    }

    /// What the current connection's TLS negotiated (`None`: plain TCP,
    /// or not connected).
    #[cfg(feature = "tls")]
    pub fn tls_info(&self) -> Option<crate::tls::TlsInfo> {
        self.inner.current().and_then(|c| c.tls_info())
    }

    /// Routes messages of one type to `f`; false when it replaced a route.
    pub fn route(&self, type_code: u16, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) -> bool {
        self.inner.handlers.route(type_code, Arc::new(f))
    }

    /// Removes a route; returns whether there was one.
    pub fn unroute(&self, type_code: u16) -> bool {
        self.inner.handlers.unroute(type_code)
    }

    /// Replaces the on-message callback.
    pub fn set_on_message(&self, f: impl Fn(&Peer, Frame) + Send + Sync + 'static) {
        self.inner.handlers.set_on_message(f);
    }

    /// Cancels reconnection attempts (the one under way finishes).
    pub fn stop_retry(&self) {
        self.inner.stop_retry.store(true, Ordering::Release);
        self.inner.wake.1.notify_all();
    }

    /// Starts reconnecting now, even after the attempts ran out; `max`
    /// replaces the configured number of attempts. Does nothing while
    /// connected or after [`disconnect`](Client::disconnect).
    pub fn retry(&self, max: Option<u32>) {
        if let Some(m) = max {
            self.inner.retry_max.store(m, Ordering::Release);
        }
        self.inner.stop_retry.store(false, Ordering::Release);
        if self.is_connected() || self.inner.manual.load(Ordering::Acquire) {
            return;
        }
        let mut t = lock(&self.inner.thread);
        if t.as_ref().is_some_and(|h| !h.is_finished()) {
            return; // a retry loop is already running
        }
        if let Some(h) = t.take() {
            let _ = h.join();
        }
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new().name("veltix-client".into()).spawn(move || {
            if let Some(conn) = inner.retry_loop(DisconnectReason::Error, LOST.into()) {
                inner.run(conn);
            }
        });
        match spawned {
            Ok(h) => *t = Some(h),
            Err(e) => log::error!("cannot start the reconnection thread: {e}"),
        }
    }

    /// Closes the connection (flushing what is queued), stops reconnecting
    /// and joins the client's threads. The on-disconnect callback gets a
    /// permanent [`DisconnectReason::Manual`] state. Idempotent.
    pub fn disconnect(&self) {
        if self.inner.manual.swap(true, Ordering::AcqRel) {
            return;
        }
        self.stop_retry();
        if let Some(c) = self.inner.current() {
            c.close_gracefully(
                EndReason::new(EndKind::Local, "disconnected by the client"),
                Duration::from_secs(2),
            );
        }
        self.inner.pool.unblock(&self.inner.mailbox);
        let t = lock(&self.inner.thread).take();
        if let Some(h) = t {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        self.inner.pool.shutdown();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// The disconnect detail when nothing more is known.
const LOST: &str = "connection lost";

impl Inner {
    fn current(&self) -> Option<Arc<Conn>> {
        let c = self.conn.read().unwrap_or_else(|e| e.into_inner());
        c.as_ref().filter(|c| !c.is_closed()).cloned()
    }

    /// One connection attempt: TCP connect, handshake, ready to read.
    fn open(self: &Arc<Self>) -> Result<(Arc<Conn>, Session)> {
        let (stream, peer) = tcp_connect(&self.cfg.addr, self.cfg.connect_timeout)?;
        let pending = Arc::new(Pending::new());
        let deadline = Instant::now() + self.conn_cfg.handshake_timeout;
        #[cfg(feature = "tls")]
        if let Some(setup) = &self.tls {
            // TLS first, then the veltix handshake inside it, within the
            // same deadline; the plaintext it read past the HELLO stays in
            // the session's decoder.
            let timeout = self.conn_cfg.handshake_timeout;
            let mut tls = crate::tls::client_handshake(setup, &stream, deadline, timeout)?;
            let mut sock = &stream;
            let mut io = rustls::Stream::new(&mut tls, &mut sock);
            let (mut session, version) = client_handshake(
                &stream,
                &mut io,
                Transport::Tls,
                deadline,
                peer,
                self.conn_cfg.clone(),
                pending.clone(),
            )?;
            // What rustls decrypted past the HELLO goes to the decoder now:
            // the socket will not announce it again.
            let mut plain = tls.reader();
            while let Ok(buf) = io::BufRead::fill_buf(&mut plain) {
                if buf.is_empty() {
                    break;
                }
                let n = buf.len();
                session.decoder_mut().push(buf);
                io::BufRead::consume(&mut plain, n);
            }
            // The handshake's bound must not outlive it: the writer thread
            // writes blocking, for as long as the server takes to read.
            stream.set_write_timeout(None)?;
            let conn = self.new_conn(stream, peer, &session, version, pending);
            conn.set_tls(crate::tls::TlsState::client(tls, peer));
            return Ok(self.opened(conn, session));
        }
        let (session, version) = client_handshake(
            &stream,
            &mut &stream,
            Transport::Plain,
            deadline,
            peer,
            self.conn_cfg.clone(),
            pending.clone(),
        )?;
        let conn = self.new_conn(stream, peer, &session, version, pending);
        Ok(self.opened(conn, session))
    }

    fn new_conn(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        session: &Session,
        version: String,
        pending: Arc<Pending>,
    ) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Conn::new(
            id,
            stream,
            peer,
            Role::Client,
            session.wire(),
            self.conn_cfg.clone(),
            pending,
            self.mailbox.clone(),
        );
        conn.set_established(version);
        conn
    }

    /// A connection made: current from now on, announced.
    fn opened(&self, conn: Arc<Conn>, session: Session) -> (Arc<Conn>, Session) {
        *self.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
        log::info!("connected to {} ({}, wire {})", self.cfg.addr, conn.peer, session.wire());
        self.established(&conn);
        (conn, session)
    }

    fn start_thread(self: &Arc<Self>, first: (Arc<Conn>, Session)) -> Result<()> {
        let inner = self.clone();
        let h = std::thread::Builder::new()
            .name("veltix-client".into())
            .spawn(move || inner.run(first))?;
        *lock(&self.thread) = Some(h);
        Ok(())
    }

    /// The client thread: read the connection; on loss, reconnect and go on.
    fn run(self: &Arc<Self>, first: (Arc<Conn>, Session)) {
        let mut next = Some(first);
        while let Some((conn, session)) = next.take() {
            match self.conn_cfg.core {
                CoreKind::Threads => threads::run(&conn, session, self.clone()),
                CoreKind::Poll => {
                    // An I/O thread reads; this thread waits for the end.
                    let (done_tx, done_rx) = std::sync::mpsc::channel();
                    let owner: Arc<dyn Owner> = self.clone();
                    let added = PollCore::for_clients()
                        .and_then(|core| core.add(conn.clone(), session, owner, Some(done_tx)));
                    match added {
                        Ok(()) => {
                            let _ = done_rx.recv();
                        }
                        Err(e) => {
                            conn.close_err(&format!("cannot join the poll core: {e}"));
                            crate::core::finish(
                                &conn,
                                EndReason::new(EndKind::Error, format!("poll core: {e}")),
                                &**self,
                            );
                        }
                    }
                }
            }
            if self.manual.load(Ordering::Acquire) {
                return;
            }
            let end = conn.end_reason();
            let reason = match end.as_ref().map(|e| e.kind) {
                Some(EndKind::PeerClosed) => DisconnectReason::ServerClosed,
                _ => DisconnectReason::Error,
            };
            // What ended it, for the disconnect callback's detail.
            let detail = end.map_or_else(|| LOST.to_string(), |e| e.message);
            next = self.retry_loop(reason, detail);
        }
    }

    /// Reconnection attempts after a loss; fires on_disconnect at each
    /// failure and a permanent state at the end.
    /// `detail` says what ended the connection (or why the first connect
    /// failed) until an attempt fails for a reason of its own.
    fn retry_loop(
        self: &Arc<Self>,
        reason: DisconnectReason,
        mut detail: String,
    ) -> Option<(Arc<Conn>, Session)> {
        let mut attempt = 0;
        loop {
            let max = self.retry_max.load(Ordering::Acquire);
            if attempt >= max
                || self.stop_retry.load(Ordering::Acquire)
                || self.manual.load(Ordering::Acquire)
            {
                self.fire(true, attempt, reason, &detail);
                return None;
            }
            attempt += 1;
            log::info!(
                "reconnecting to {} (attempt {attempt}/{max}) in {:?}",
                self.cfg.addr,
                self.cfg.retry_delay
            );
            self.sleep(self.cfg.retry_delay);
            if self.stop_retry.load(Ordering::Acquire) || self.manual.load(Ordering::Acquire) {
                continue;
            }
            match self.open() {
                Ok(c) => return Some(c),
                Err(e) => {
                    log::warn!("reconnection attempt {attempt}/{max} failed: {e}");
                    detail = e.to_string();
                    if attempt < max {
                        self.fire(false, attempt, DisconnectReason::Error, &detail);
                    }
                }
            }
        }
    }

    fn sleep(&self, d: Duration) {
        let deadline = Instant::now() + d;
        let mut g = lock(&self.wake.0);
        loop {
            let now = Instant::now();
            if now >= deadline || self.stop_retry.load(Ordering::Acquire) {
                return;
            }
            g = self
                .wake
                .1
                .wait_timeout(g, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn fire(&self, permanent: bool, attempt: u32, reason: DisconnectReason, detail: &str) {
        let Some(f) = handlers::read(&self.handlers.on_disconnect) else { return };
        let state = DisconnectState {
            permanent,
            attempt,
            retry_max: self.retry_max.load(Ordering::Acquire),
            reason,
            detail: detail.to_string(),
        };
        self.pool.submit(&self.mailbox, move || f(&state));
    }
}

impl Owner for Inner {
    fn established(&self, conn: &Arc<Conn>) {
        if let Some(f) = handlers::read(&self.handlers.on_connect) {
            let peer = Peer { conn: conn.clone() };
            self.pool.submit(&self.mailbox, move || f(&peer));
        }
    }

    fn deliver(&self, conn: &Arc<Conn>, frames: Vec<Frame>) {
        let peer = Peer { conn: conn.clone() };
        self.handlers.deliver(&self.pool, &self.mailbox, peer, frames);
    }

    fn ended(&self, _conn: &Arc<Conn>, reason: EndReason) {
        if self.manual.load(Ordering::Acquire) {
            log::info!("disconnected from {}", self.cfg.addr);
            self.fire(true, 0, DisconnectReason::Manual, &reason.message);
            return;
        }
        log::warn!("lost the connection to {}: {}", self.cfg.addr, reason.message);
        let why = match reason.kind {
            EndKind::PeerClosed => DisconnectReason::ServerClosed,
            _ => DisconnectReason::Error,
        };
        // The loss itself; permanent when no attempt will follow.
        let max = self.retry_max.load(Ordering::Acquire);
        let permanent = max == 0 || self.stop_retry.load(Ordering::Acquire);
        if !permanent {
            self.fire(false, 0, why, &reason.message);
        }
    }
}

/// Resolves `addr` and connects to the first address that answers.
pub(crate) fn tcp_connect(addr: &str, timeout: Duration) -> Result<(TcpStream, SocketAddr)> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| Error::Connect { addr: addr.to_string(), source: e })?
        .collect();
    let mut last = Error::NoAddress(addr.to_string());
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return Ok((s, a)),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                last = Error::ConnectionRefused(a)
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                last = Error::Timeout { what: "connect", after: timeout }
            }
            Err(e) => last = Error::Connect { addr: addr.to_string(), source: e },
        }
    }
    Err(last)
}

/// What the client handshake runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Plain,
    #[cfg(feature = "tls")]
    Tls,
}

/// Client side of the handshake, driven on the connecting thread until
/// `deadline`: the session waits for HELLO, checks the version and answers
/// HELLO_ACK (or an ERROR saying why not). `io` carries the bytes (the
/// socket, or TLS over it); `stream` is the socket, for its timeouts.
/// Returns the session, whose decoder may hold bytes past the HELLO, and
/// the server's version.
pub(crate) fn client_handshake(
    stream: &TcpStream,
    io: &mut dyn ReadWrite,
    transport: Transport,
    deadline: Instant,
    peer: SocketAddr,
    cfg: Arc<ConnConfig>,
    pending: Arc<Pending>,
) -> Result<(Session, String)> {
    let timeout = cfg.handshake_timeout;
    let mut session = Session::client(peer, cfg.clone(), pending, Instant::now());
    // Bytes received so far: a server that says nothing, or that answers
    // with TLS, is named.
    let mut got = 0usize;
    loop {
        let flow = session.process(Instant::now());
        let (bytes, _) = session.transmit();
        if !bytes.is_empty() {
            let sent = io.write_all(bytes).and_then(|()| io.flush());
            session.transmitted();
            if flow == Flow::Continue {
                sent.map_err(|e| read_error(e, transport))?;
            }
        }
        if let Flow::Close(end) = flow {
            return Err(handshake_error(end));
        }
        if let Some(Event::Established(version)) = session.poll_event() {
            session.take_frames_in();
            return Ok((session, version));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(silent_or_timeout(got, transport, timeout));
        }
        stream.set_read_timeout(Some(left))?;
        match session.decoder_mut().read_from(io, cfg.buffer_size) {
            Ok(0) if got == 0 && transport == Transport::Plain => {
                return Err(Error::Closed(Some(
                    "the server closed the connection during the handshake without a byte (if it is a TLS port, use --tls)".into(),
                )))
            }
            Ok(0) => {
                return Err(Error::Closed(Some(
                    "the server closed the connection during the handshake".into(),
                )))
            }
            Ok(n) => {
                got += n;
                if transport == Transport::Plain && answers_with_tls(session.decoder_mut()) {
                    return Err(tls_server());
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(silent_or_timeout(got, transport, timeout))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e, transport)),
        }
    }
}

/// Reading and writing, as the handshake needs.
pub(crate) trait ReadWrite: io::Read + Write {}
impl<T: io::Read + Write + ?Sized> ReadWrite for T {}

/// A handshake that ran out of time: a plain client to a server that said
/// nothing names the likely cause (a TLS port waits for the client).
fn silent_or_timeout(got: usize, transport: Transport, after: Duration) -> Error {
    if got == 0 && transport == Transport::Plain {
        return Error::SilentServer { after };
    }
    Error::Timeout { what: "handshake", after }
}

/// Whether the server's first bytes are a TLS record (an alert or a
/// handshake message: a TLS server answering a plain client).
fn answers_with_tls(decoder: &mut crate::codec::decoder::Decoder) -> bool {
    decoder.stream_offset() == 0 && matches!(decoder.buffered(), [0x15 | 0x16, 0x03, ..])
}

#[cfg(feature = "tls")]
fn tls_server() -> Error {
    crate::error::TlsError::TlsServer.into()
}

#[cfg(not(feature = "tls"))]
fn tls_server() -> Error {
    Error::Closed(Some(
        "the server answered with TLS: it is a TLS port, and this build has no TLS (feature tls)"
            .into(),
    ))
}

/// A read or write error during the handshake (TLS: a server refusing our
/// client certificate says so at this point, in TLS 1.3).
fn read_error(e: io::Error, transport: Transport) -> Error {
    match transport {
        Transport::Plain => e.into(),
        #[cfg(feature = "tls")]
        Transport::Tls if e.kind() == io::ErrorKind::UnexpectedEof => {
            Error::Closed(Some("the server closed the connection during the handshake".into()))
        }
        #[cfg(feature = "tls")]
        Transport::Tls => crate::tls::read_error(e),
    }
}

/// What a failed client handshake is to the caller: an ERROR from the
/// server is a refusal; any other fault a failed handshake.
fn handshake_error(end: EndReason) -> Error {
    match end.fault {
        Some(ProtocolError::PeerError(why)) => Error::Refused(why),
        Some(p) => Error::Handshake(Box::new(p)),
        None => Error::Closed(Some(end.message)),
    }
}

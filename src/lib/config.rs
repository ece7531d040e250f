//! Configuration of servers and clients, with presets.
//!
//! Every field's default is written in its doc comment. Structs are
//! `#[non_exhaustive]`: build them from `Default` and the consuming setters.

use std::time::Duration;

use crate::codec::frame::{DEFAULT_MAX_MESSAGE_SIZE, HEADER_LEN};
use crate::codec::Wire;
use crate::handshake::PROTOCOL_VERSION;

/// How eagerly a connection checks that a silent peer is still alive.
///
/// When nothing has been received for the mode's *idle* interval, a PING is
/// sent; if still nothing has arrived after the *dead* interval, the peer is
/// presumed dead and the connection is closed. (veltix 1.6.3 peers answer
/// PING, so this works against the reference too.)
///
/// | mode | idle → PING | silent → closed |
/// |---|---|---|
/// | `Low` | 30 s | 90 s |
/// | `Balanced` (default) | 5 s | 15 s |
/// | `High` | 1 s | 3 s |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PerformanceMode {
    /// Fewest wake-ups; a dead peer is noticed after 90 s.
    Low,
    /// The default; a dead peer is noticed after 15 s.
    #[default]
    Balanced,
    /// Fastest detection; a dead peer is noticed after 3 s.
    High,
}

impl PerformanceMode {
    /// Silence after which a PING is sent.
    pub fn heartbeat_idle(self) -> Duration {
        match self {
            PerformanceMode::Low => Duration::from_secs(30),
            PerformanceMode::Balanced => Duration::from_secs(5),
            PerformanceMode::High => Duration::from_secs(1),
        }
    }
    /// Silence after which the peer is presumed dead (three idle intervals).
    pub fn dead_after(self) -> Duration {
        self.heartbeat_idle() * 3
    }
}

/// Which socket core moves the bytes.
///
/// Switching cores changes no application code: callbacks, routes and
/// every method behave the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CoreKind {
    /// A reader thread per connection (default). Lowest latency for a few
    /// connections.
    #[default]
    Threads,
    /// A small fixed set of I/O threads multiplexing every connection with
    /// mio (epoll). Scales to many thousands of connections.
    Poll,
}

/// Read buffer size presets: the most bytes asked of the socket per read.
///
/// Reads start at 1 KiB and grow four-fold while they come back full, up
/// to this size; a connection quiet for a while gives its buffer back. A
/// larger size takes a burst of frames in fewer system calls and costs
/// more memory per busy connection. (A single large frame is read in reads
/// that grow geometrically up to the frame's length.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferSize {
    /// 1 KiB.
    Small,
    /// 8 KiB.
    Medium,
    /// 64 KiB.
    Large,
    /// 1 MiB.
    Huge,
}

impl BufferSize {
    /// The size in bytes.
    pub fn bytes(self) -> usize {
        match self {
            BufferSize::Small => 1024,
            BufferSize::Medium => 8 * 1024,
            BufferSize::Large => 64 * 1024,
            BufferSize::Huge => 1024 * 1024,
        }
    }
}

/// Which wire profile a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WireMode {
    /// veltix 1.6.3's frames and HELLO handshake (the server default).
    V1_6,
    /// The VX profile of veltix 2.0.3 to 3.3.x.
    Vx,
    /// A client learns the profile from the server's first bytes (the
    /// server speaks first in both): a HELLO frame, or a JSON handshake
    /// message. The client default; a server must choose.
    #[default]
    Auto,
}

impl WireMode {
    /// The profile a server speaks with this setting (`Auto`: 1.6.3).
    pub fn for_server(self) -> Wire {
        match self {
            WireMode::Vx => Wire::Vx,
            WireMode::V1_6 | WireMode::Auto => Wire::V1_6,
        }
    }
}

/// Settings shared by both ends of a connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnConfig {
    /// Largest frame accepted, header included. Default 10 MiB (as 1.6.3).
    pub max_message_size: usize,
    /// The most bytes asked of the socket per read. Default 64 KiB
    /// ([`BufferSize::Large`]): a burst is read in few system calls. Reads
    /// start at 1 KiB and grow four-fold while they come back full; a
    /// connection quiet for a tick gives its buffer back, so idle
    /// connections do not hold it.
    pub buffer_size: usize,
    /// Heartbeat and dead-peer detection. Default [`PerformanceMode::Balanced`].
    pub performance_mode: PerformanceMode,
    /// Worker threads that run callbacks, at most: they start as callbacks
    /// come (none before the first) and stay. Default 4. With 0, a callback
    /// runs on the thread that read its message, with no hand-off (the
    /// cheapest path for quick callbacks): a slow callback then holds up
    /// that connection's reading and PONGs (on the poll core, every
    /// connection of its I/O thread), and a callback cannot wait for a
    /// reply (`send_and_wait` and `ping` return [`crate::Error::InlineCallback`]).
    pub max_workers: usize,
    /// Bytes that may wait in one connection's outbound queue. On a server,
    /// a peer over it is judged too slow a reader and disconnected (one slow
    /// client must not stall or bloat the server); on a client, `send`
    /// waits for room instead (back-pressure, like a blocking socket).
    /// Default 16 MiB.
    pub max_outbound_bytes: usize,
    /// Callback jobs that may wait per connection before its reader stops
    /// reading (TCP back-pressure); the messages one read brings make one
    /// job. Default 4096.
    pub max_pending_callbacks: usize,
    /// Payload bytes that callback jobs waiting for one connection may
    /// hold before its reader stops reading (TCP back-pressure), beyond the
    /// message being queued. Default 16 MiB: with slow callbacks, a
    /// connection costs at most this plus one message, whatever the size
    /// and number of the messages it sends.
    pub max_pending_callback_bytes: usize,
    /// Version announced in HELLO / HELLO_ACK. Default `"1.6.3"`.
    pub protocol_version: String,
    /// Time allowed for the handshake. Default 5 s.
    pub handshake_timeout: Duration,
    /// The socket core. Default [`CoreKind::Threads`].
    pub core: CoreKind,
    /// I/O threads of the poll core (servers). Default: half the CPUs
    /// (rounded up), at most 4 — the other half runs callbacks and the
    /// application; on two cores one I/O thread wakes less often and
    /// preempts less than two.
    pub io_threads: usize,
    /// The wire profile. Default [`WireMode::Auto`] (clients detect it);
    /// [`ServerConfig::default`] sets [`WireMode::V1_6`].
    pub wire: WireMode,
}

impl ConnConfig {
    /// Checks the settings that would make every connection fail: an
    /// empty protocol version or one longer than the HELLO's 16-bit length
    /// field, and a `max_message_size` too small for our own HELLO.
    pub fn validate(&self) -> Result<(), crate::error::Error> {
        let bad = |m: String| Err(crate::error::Error::Config(m));
        let v = self.protocol_version.len();
        if v == 0 {
            return bad("protocol_version is empty".into());
        }
        if v > usize::from(u16::MAX) {
            return bad(format!("protocol_version is {v} bytes; at most 65535 fit a HELLO"));
        }
        let hello = HEADER_LEN + 2 + v;
        if self.max_message_size < hello {
            return bad(format!(
                "max_message_size {} is smaller than our own HELLO ({hello} bytes)",
                self.max_message_size
            ));
        }
        Ok(())
    }
}

/// The default number of poll-core I/O threads: half the CPUs, rounded up,
/// at most 4.
pub fn default_io_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    cpus.div_ceil(2).clamp(1, 4)
}

impl Default for ConnConfig {
    fn default() -> Self {
        ConnConfig {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            buffer_size: BufferSize::Large.bytes(),
            performance_mode: PerformanceMode::default(),
            max_workers: 4,
            max_outbound_bytes: 16 * 1024 * 1024,
            max_pending_callbacks: 4096,
            max_pending_callback_bytes: 16 * 1024 * 1024,
            protocol_version: PROTOCOL_VERSION.to_string(),
            handshake_timeout: Duration::from_secs(5),
            core: CoreKind::Threads,
            io_threads: default_io_threads(),
            wire: WireMode::Auto,
        }
    }
}

/// Server configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Address to listen on. Default `0.0.0.0`.
    pub host: String,
    /// Port to listen on; 0 picks a free one ([`crate::Server::local_addr`]
    /// tells which). Default 8080.
    pub port: u16,
    /// Most clients connected at once; `None` (default) is unlimited. A
    /// client over the limit gets an ERROR frame saying why and is closed.
    pub max_connections: Option<usize>,
    /// Settings of each connection.
    pub conn: ConnConfig,
    /// TLS 1.3 on every connection (feature `tls`). Default `None`: plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<ServerTls>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "0.0.0.0".into(),
            port: 8080,
            max_connections: None,
            conn: ConnConfig { wire: WireMode::V1_6, ..ConnConfig::default() },
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Client configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Server address as `host:port` (names, IPv4 and `[v6]:port`).
    /// Default `127.0.0.1:8080`.
    pub addr: String,
    /// Time allowed for the TCP connect. Default 5 s.
    pub connect_timeout: Duration,
    /// Reconnection attempts after a loss (and after a failed first
    /// connect). Default 0: no reconnection.
    pub retry: u32,
    /// Delay before each reconnection attempt. Default 1 s.
    pub retry_delay: Duration,
    /// Settings of the connection.
    pub conn: ConnConfig,
    /// TLS 1.3 to the server (feature `tls`), before the veltix handshake
    /// and bounded by the same timeout. Default `None`: plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            addr: "127.0.0.1:8080".into(),
            connect_timeout: Duration::from_secs(5),
            retry: 0,
            retry_delay: Duration::from_secs(1),
            conn: ConnConfig::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

macro_rules! conn_setters {
    ($t:ty) => {
        impl $t {
            /// Sets `max_message_size` (bytes, header included).
            pub fn max_message_size(mut self, v: usize) -> Self {
                self.conn.max_message_size = v;
                self
            }
            /// Sets the largest read, in bytes (see [`ConnConfig::buffer_size`]).
            pub fn buffer_size(mut self, v: usize) -> Self {
                self.conn.buffer_size = v.max(64);
                self
            }
            /// Sets the performance mode.
            pub fn performance_mode(mut self, v: PerformanceMode) -> Self {
                self.conn.performance_mode = v;
                self
            }
            /// Sets the number of callback worker threads (0: callbacks run on
            /// the thread that read the message; see [`ConnConfig::max_workers`]).
            pub fn max_workers(mut self, v: usize) -> Self {
                self.conn.max_workers = v;
                self
            }
            /// Sets the per-connection outbound queue limit in bytes.
            pub fn max_outbound_bytes(mut self, v: usize) -> Self {
                self.conn.max_outbound_bytes = v;
                self
            }
            /// Sets the bytes of payload that callbacks waiting for one
            /// connection may hold (see [`ConnConfig::max_pending_callback_bytes`]).
            pub fn max_pending_callback_bytes(mut self, v: usize) -> Self {
                self.conn.max_pending_callback_bytes = v;
                self
            }
            /// Sets the wire profile (a server speaks `V1_6` or `Vx`; a
            /// client may also detect it with `Auto`).
            pub fn wire(mut self, v: WireMode) -> Self {
                self.conn.wire = v;
                self
            }
            /// Sets the announced protocol version.
            pub fn protocol_version(mut self, v: impl Into<String>) -> Self {
                self.conn.protocol_version = v.into();
                self
            }
            /// Sets the socket core.
            pub fn core(mut self, v: CoreKind) -> Self {
                self.conn.core = v;
                self
            }
            /// Sets the handshake timeout.
            pub fn handshake_timeout(mut self, v: Duration) -> Self {
                self.conn.handshake_timeout = v;
                self
            }
        }
    };
}

conn_setters!(ServerConfig);
conn_setters!(ClientConfig);

impl ServerConfig {
    /// Sets the listening host.
    pub fn host(mut self, v: impl Into<String>) -> Self {
        self.host = v.into();
        self
    }
    /// Sets the listening port (0: any free port).
    pub fn port(mut self, v: u16) -> Self {
        self.port = v;
        self
    }
    /// Sets the connection limit (`None`: unlimited).
    pub fn max_connections(mut self, v: Option<usize>) -> Self {
        self.max_connections = v;
        self
    }
    /// Serves TLS 1.3 with these settings (`None`: plain TCP).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, v: Option<ServerTls>) -> Self {
        self.tls = v;
        self
    }
}

impl ClientConfig {
    /// A configuration for the server at `addr` (`host:port`).
    pub fn new(addr: impl Into<String>) -> Self {
        ClientConfig { addr: addr.into(), ..Default::default() }
    }
    /// Sets the TCP connect timeout.
    pub fn connect_timeout(mut self, v: Duration) -> Self {
        self.connect_timeout = v;
        self
    }
    /// Sets the number of reconnection attempts.
    pub fn retry(mut self, v: u32) -> Self {
        self.retry = v;
        self
    }
    /// Sets the delay between reconnection attempts.
    pub fn retry_delay(mut self, v: Duration) -> Self {
        self.retry_delay = v;
        self
    }
    /// Connects with TLS 1.3 with these settings (`None`: plain TCP).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, v: Option<ClientTls>) -> Self {
        self.tls = v;
        self
    }
}

/// PEM text and where it came from (a file name, for error messages).
#[cfg(feature = "tls")]
#[derive(Clone, PartialEq, Eq)]
pub struct Pem {
    /// Where the bytes came from: a path, or a description.
    pub origin: String,
    /// The PEM text.
    pub bytes: Vec<u8>,
}

#[cfg(feature = "tls")]
impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a private key.
        write!(f, "Pem({}, {} bytes)", self.origin, self.bytes.len())
    }
}

#[cfg(feature = "tls")]
impl Pem {
    /// Reads a PEM file.
    pub fn file(path: impl AsRef<std::path::Path>) -> Result<Pem, crate::error::TlsError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => Ok(Pem { origin, bytes }),
            Err(e) => {
                Err(crate::error::TlsError::Pem { origin, reason: format!("cannot read: {e}") })
            }
        }
    }

    /// PEM text held in memory; `origin` names it in errors.
    pub fn bytes(origin: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Pem {
        Pem { origin: origin.into(), bytes: bytes.into() }
    }
}

/// A server's TLS settings: its certificate chain and key, and the CA that
/// signs the client certificates it requires, if it requires them.
#[cfg(feature = "tls")]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerTls {
    /// The certificate chain, end-entity first (PEM).
    pub cert_chain: Pem,
    /// The private key of the end-entity certificate (PEM: PKCS#8, SEC1 or PKCS#1).
    pub key: Pem,
    /// Requires a client certificate signed by this CA (mutual TLS).
    /// Default `None`: no client certificate is asked for.
    pub client_ca: Option<Pem>,
}

#[cfg(feature = "tls")]
impl ServerTls {
    /// A certificate chain and its key.
    pub fn new(cert_chain: Pem, key: Pem) -> ServerTls {
        ServerTls { cert_chain, key, client_ca: None }
    }
    /// Requires client certificates signed by `ca` (`None`: none asked for).
    pub fn client_ca(mut self, ca: Option<Pem>) -> ServerTls {
        self.client_ca = ca;
        self
    }
}

/// Which certificates a TLS client trusts.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Trust {
    /// The system's roots (what `/etc/ssl/certs` holds), verified by
    /// webpki, name included.
    #[default]
    System,
    /// The CA certificates of a PEM file (and nothing else).
    Ca(Pem),
    /// Exactly the certificate with this SHA-256 fingerprint, whatever
    /// signed it and whatever name it bears (as ssh pins a host key). The
    /// handshake's signature is still verified with its key.
    Pin(crate::error::Fingerprint),
    /// Any certificate: no protection against someone in the middle (the
    /// connection is encrypted, to whoever answers).
    Insecure,
}

/// A client's TLS settings.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientTls {
    /// What the server's certificate is checked against. Default: the
    /// system's roots.
    pub trust: Trust,
    /// The name the certificate must bear (and that SNI sends). Default
    /// `None`: the host of the address.
    pub server_name: Option<String>,
    /// A client certificate chain and its key, for servers that require one
    /// (mutual TLS). Default `None`.
    pub client_cert: Option<(Pem, Pem)>,
}

#[cfg(feature = "tls")]
impl ClientTls {
    /// Settings that trust `trust`.
    pub fn new(trust: Trust) -> ClientTls {
        ClientTls { trust, ..ClientTls::default() }
    }
    /// Sets the name the certificate must bear.
    pub fn server_name(mut self, name: Option<String>) -> ClientTls {
        self.server_name = name;
        self
    }
    /// Presents this certificate chain and key (mutual TLS).
    pub fn client_cert(mut self, chain_and_key: Option<(Pem, Pem)>) -> ClientTls {
        self.client_cert = chain_and_key;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_would_fail_every_connection_are_refused() {
        assert!(ConnConfig::default().validate().is_ok());
        let with = |v: &str, max: usize| ConnConfig {
            protocol_version: v.into(),
            max_message_size: max,
            ..ConnConfig::default()
        };
        assert!(with("", 1 << 20).validate().is_err());
        assert!(with(&"9".repeat(65_536), 1 << 20).validate().is_err());
        assert!(with(&"9".repeat(65_535), 1 << 20).validate().is_ok());
        assert!(with("1.6.3", 28).validate().is_err(), "a HELLO is 29 bytes");
        assert!(with("1.6.3", 29).validate().is_ok());
    }
}

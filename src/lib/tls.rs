//! TLS 1.3 (feature `tls`), with rustls and `ring` as its crypto provider.
//!
//! TLS is a byte transform at two points of a connection, so the session,
//! the cores' logic and the outbound queue are the same with it as without:
//! `conn` seals what it sends under its outbound lock (ciphertext in queue
//! order) and opens what a core reads ([`TlsState::open`]: the TLS bytes go
//! into rustls, the plaintext into the session's decoder). A server's
//! handshake runs inside the core, on the same path, within the session's
//! handshake deadline; a client's runs blocking in `Client::connect`
//! ([`client_handshake`]), before the veltix handshake.
//!
//! Only TLS 1.3; X25519 first, then P-256 and P-384; ChaCha20-Poly1305,
//! then AES-256-GCM and AES-128-GCM.
//!
//! Certificates: a client trusts the system's roots, a CA file, exactly
//! one pinned certificate (its SHA-256 [`Fingerprint`]; the handshake
//! signature is still checked with its key), or, insecurely, anything. A
//! certificate that fails verification is never trusted on first use: the
//! error carries its fingerprint for the user to pin.

use std::io::{self, BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::codec::decoder::Decoder;
use crate::config::{ClientTls, Pem, ServerTls, Trust};
use crate::error::{Error, Fingerprint, TlsError};
use crate::sync::lock;

/// What a TLS connection negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// The protocol version (`TLSv1.3`).
    pub version: String,
    /// The cipher suite (`TLS13_CHACHA20_POLY1305_SHA256`, ...).
    pub cipher_suite: String,
    /// The fingerprint of the certificate the peer presented, if it did.
    pub peer_certificate: Option<Fingerprint>,
}

/// The crypto provider: ring, restricted to TLS 1.3's suites and our groups.
fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::{cipher_suite as cs, default_provider, kx_group as kx};
    let mut p = default_provider();
    p.cipher_suites = vec![
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_AES_128_GCM_SHA256,
    ];
    p.kx_groups = vec![kx::X25519, kx::SECP256R1, kx::SECP384R1];
    Arc::new(p)
}

fn pem_error(p: &Pem, reason: impl Into<String>) -> TlsError {
    TlsError::Pem { origin: p.origin.clone(), reason: reason.into() }
}

/// The certificates of a PEM text (at least one).
fn certs(p: &Pem) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(&p.bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(p, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(pem_error(p, "no CERTIFICATE in it"));
    }
    Ok(certs)
}

/// The private key of a PEM text.
fn private_key(p: &Pem) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(&p.bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => pem_error(p, "no PRIVATE KEY in it"),
        e => pem_error(p, format!("not a PEM private key file: {e}")),
    })
}

/// A root store of the CA certificates of a PEM text.
fn roots_of(p: &Pem) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in certs(p)? {
        roots.add(c).map_err(|e| pem_error(p, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// The system's roots.
fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found.errors.first().map(|e| format!(": {e}")).unwrap_or_default();
        return Err(TlsError::Config(format!(
            "no CA certificates found on this system{why}; give one with --cacert, or pin the server's certificate"
        )));
    }
    Ok(roots)
}

impl ServerTls {
    /// The SHA-256 fingerprint of the end-entity certificate (the first of
    /// the chain), as clients pin it.
    pub fn fingerprint(&self) -> Result<Fingerprint, TlsError> {
        let first = certs(&self.cert_chain)?.remove(0);
        Ok(Fingerprint::of(&first))
    }
}

/// The rustls configuration of a TLS server.
pub(crate) fn server_config(t: &ServerTls) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = provider();
    let chain = certs(&t.cert_chain)?;
    let key = private_key(&t.key)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &t.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots_of(ca)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| pem_error(ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut cfg = builder.with_single_cert(chain, key).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            TlsError::KeyMismatch { cert: t.cert_chain.origin.clone(), key: t.key.origin.clone() }
        }
        e => pem_error(&t.key, e.to_string()),
    })?;
    // Whatever the peer sends is read into the decoder at once, and what
    // we send is bounded by the outbound queue's own limit.
    cfg.max_early_data_size = 0;
    Ok(Arc::new(cfg))
}

/// The fingerprint of the certificate a verification refused (for the
/// error the user sees).
#[derive(Debug, Default)]
struct Seen(Mutex<Option<Fingerprint>>);

impl Seen {
    fn record(&self, cert: &CertificateDer<'_>) {
        *lock(&self.0) = Some(Fingerprint::of(cert));
    }
    fn take(&self) -> Option<Fingerprint> {
        lock(&self.0).take()
    }
}

/// Webpki verification that remembers the certificate it refused.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Seen>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let r = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if r.is_err() {
            self.seen.record(end_entity);
        }
        r
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Accepts exactly the certificate with a given fingerprint (`None`: any
/// certificate, `--insecure`), and checks the handshake's signature with
/// its key all the same.
#[derive(Debug)]
struct Pinned {
    pin: Option<Fingerprint>,
    seen: Arc<Seen>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.pin {
            Some(pin) if Fingerprint::of(end_entity) != pin => {
                self.seen.record(end_entity);
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::ApplicationVerificationFailure,
                ))
            }
            _ => Ok(ServerCertVerified::assertion()),
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A client's TLS settings, built once for every connection it makes.
pub(crate) struct ClientSetup {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
    pin: Option<Fingerprint>,
    seen: Arc<Seen>,
}

/// The host part of `host:port`, `[v6]:port`.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Builds a client's TLS settings for the server at `addr`.
pub(crate) fn client_setup(t: &ClientTls, addr: &str) -> Result<ClientSetup, TlsError> {
    let provider = provider();
    let name = t.server_name.clone().unwrap_or_else(|| host_of(addr).to_string());
    let name = ServerName::try_from(name.clone())
        .map_err(|_| TlsError::Config(format!("'{name}' is not a valid server name")))?;
    let seen = Arc::new(Seen::default());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let webpki = |roots: RootCertStore| -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        Ok(Arc::new(Recording { inner, seen: seen.clone() }))
    };
    let pinned = |pin| -> Arc<dyn ServerCertVerifier> {
        let algorithms = provider.signature_verification_algorithms;
        Arc::new(Pinned { pin, seen: seen.clone(), algorithms })
    };
    let (verifier, pin) = match &t.trust {
        Trust::System => (webpki(system_roots()?)?, None),
        Trust::Ca(ca) => (webpki(roots_of(ca)?)?, None),
        Trust::Pin(fp) => (pinned(Some(*fp)), Some(*fp)),
        Trust::Insecure => (pinned(None), None),
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let config = match &t.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            builder.with_client_auth_cert(certs(cert)?, private_key(key)?).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => {
                    TlsError::KeyMismatch { cert: cert.origin.clone(), key: key.origin.clone() }
                }
                e => pem_error(key, e.to_string()),
            })?
        }
    };
    Ok(ClientSetup { config: Arc::new(config), name, pin, seen })
}

/// The socket, remembering the first bytes the server sent (to name what
/// it speaks when that is not TLS).
struct Recorder<'a> {
    stream: &'a TcpStream,
    first: Vec<u8>,
}

impl Read for Recorder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.stream).read(buf)?;
        let room = 16usize.saturating_sub(self.first.len()).min(n);
        self.first.extend_from_slice(&buf[..room]);
        Ok(n)
    }
}

impl Write for Recorder<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.stream).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether bytes start like a TLS record (content type 20 to 23, then
/// major version 3).
pub(crate) fn looks_like_tls(b: &[u8]) -> bool {
    matches!(b, [0x14..=0x17, 0x03, ..])
}

/// The wire profile of a plain veltix server's first bytes, if they are
/// one: a 1.6.3 HELLO frame (type 10), or a VX length-prefixed JSON object.
fn veltix_wire(b: &[u8]) -> Option<&'static str> {
    match b {
        [_, _, b'{', ..] => Some("vx"),
        [0x00, 0x0a, ..] => Some("1.6"),
        _ => None,
    }
}

/// Runs the client's TLS handshake on `stream` (blocking, until
/// `deadline`), and names what went wrong if it fails.
pub(crate) fn client_handshake(
    setup: &ClientSetup,
    stream: &TcpStream,
    deadline: Instant,
    timeout: Duration,
) -> Result<rustls::ClientConnection, Error> {
    setup.seen.take();
    let mut tls = rustls::ClientConnection::new(setup.config.clone(), setup.name.clone())
        .map_err(|e| TlsError::Handshake(e.to_string()))?;
    tls.set_buffer_limit(None);
    let mut io = Recorder { stream, first: Vec::new() };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout { what: "handshake", after: timeout });
        }
        stream.set_read_timeout(Some(left))?;
        stream.set_write_timeout(Some(left))?;
        let step = if tls.is_handshaking() {
            tls.complete_io(&mut io).map(drop)
        } else if tls.wants_write() {
            tls.write_tls(&mut io).map(drop)
        } else {
            return Ok(tls);
        };
        if let Err(e) = step {
            return Err(setup.failure(e, &io.first, timeout));
        }
    }
}

impl ClientSetup {
    /// What a failed client handshake is to the user.
    fn failure(&self, e: io::Error, first: &[u8], timeout: Duration) -> Error {
        if !first.is_empty() && !looks_like_tls(first) {
            return match veltix_wire(first) {
                Some(wire) => TlsError::PlainServer { wire }.into(),
                None => TlsError::NotTls { first: hex(first) }.into(),
            };
        }
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                return Error::Timeout { what: "handshake", after: timeout }
            }
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => return TlsError::Closed.into(),
            _ => {}
        }
        let Some(err) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
            return Error::Io(e);
        };
        if let rustls::Error::InvalidCertificate(why) = err {
            if let Some(got) = self.seen.take() {
                return match self.pin {
                    Some(expected) => TlsError::PinMismatch { expected, got }.into(),
                    None => {
                        TlsError::Untrusted { reason: cert_reason(why), fingerprint: got }.into()
                    }
                };
            }
        }
        rustls_failure(err).into()
    }
}

/// A rustls error as the user reads it.
fn rustls_failure(err: &rustls::Error) -> TlsError {
    match err {
        rustls::Error::AlertReceived(alert) => {
            use rustls::AlertDescription as A;
            let hint = match alert {
                A::CertificateRequired => ": it requires a client certificate (--cert, --key)",
                A::BadCertificate | A::UnknownCA | A::CertificateUnknown => {
                    ": it does not trust our client certificate"
                }
                A::ProtocolVersion | A::HandshakeFailure => ": no common TLS 1.3 parameters",
                _ => "",
            };
            TlsError::Refused(format!("alert {alert:?}{hint}"))
        }
        e => TlsError::Handshake(e.to_string()),
    }
}

/// Why webpki refused a certificate, in words.
fn cert_reason(why: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match why {
        C::UnknownIssuer => "it is self-signed or signed by an unknown CA".into(),
        C::BadSignature => "its signature does not verify with the trusted CA's key".into(),
        C::Expired | C::ExpiredContext { .. } => "it has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it is not valid for this server name (--servername)".into()
        }
        e => format!("{e:?}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// An error the inbound path makes of a TLS fault, naming it.
#[derive(Debug)]
struct Fault(String);

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fault {}

/// The sentence for a read error that is a TLS fault, if it is one.
pub(crate) fn describe(e: &io::Error) -> Option<String> {
    let inner = e.get_ref()?;
    if let Some(f) = inner.downcast_ref::<Fault>() {
        return Some(f.0.clone());
    }
    let r = inner.downcast_ref::<rustls::Error>()?;
    Some(format!("TLS: {r}"))
}

/// A client's read error during the veltix handshake (after the TLS one:
/// a server refusing our certificate says so then, in TLS 1.3).
pub(crate) fn read_error(e: io::Error) -> Error {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(r) => rustls_failure(r).into(),
        None => Error::Io(e),
    }
}

thread_local! {
    /// The read buffer of the thread reading a TLS connection.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One connection's TLS state: its rustls connection.
pub(crate) struct TlsState {
    inner: Mutex<Inner>,
    peer: SocketAddr,
}

struct Inner {
    tls: rustls::Connection,
    /// A server has looked at the client's first byte.
    checked: bool,
    /// The peer's close_notify came: the next read says end of stream.
    peer_closed: bool,
}

impl TlsState {
    /// The state of an accepted connection, whose handshake is still to come.
    pub(crate) fn server(
        config: &Arc<rustls::ServerConfig>,
        peer: SocketAddr,
    ) -> Result<TlsState, Error> {
        let mut tls = rustls::ServerConnection::new(config.clone())
            .map_err(|e| TlsError::Handshake(e.to_string()))?;
        tls.set_buffer_limit(None);
        Ok(TlsState::new(tls.into(), peer))
    }

    /// The state of a client connection whose handshake is done.
    pub(crate) fn client(tls: rustls::ClientConnection, peer: SocketAddr) -> TlsState {
        TlsState::new(tls.into(), peer)
    }

    fn new(tls: rustls::Connection, peer: SocketAddr) -> TlsState {
        let inner = Inner { tls, checked: false, peer_closed: false };
        TlsState { inner: Mutex::new(inner), peer }
    }

    /// Encrypts `parts` (before the handshake is done, rustls keeps them
    /// and sends them after it) and returns every TLS byte due to go out,
    /// handshake messages and alerts included, in order.
    pub(crate) fn seal(&self, parts: &[&[u8]]) -> io::Result<Vec<u8>> {
        let mut st = lock(&self.inner);
        let total: usize = parts.iter().map(|p| p.len()).sum();
        for p in parts {
            st.tls.writer().write_all(p)?;
        }
        // Records add 22 bytes each (header, tag, content type).
        let mut out = Vec::with_capacity(total + total / 1024 + 64);
        while st.tls.wants_write() {
            st.tls.write_tls(&mut out)?;
        }
        Ok(out)
    }

    /// Our close_notify alert and whatever was due before it.
    pub(crate) fn close_notify(&self) -> Vec<u8> {
        let mut st = lock(&self.inner);
        st.tls.send_close_notify();
        let mut out = Vec::new();
        while st.tls.wants_write() {
            if st.tls.write_tls(&mut out).is_err() {
                break;
            }
        }
        out
    }

    /// Whether rustls has bytes to send (handshake flights, alerts,
    /// tickets): the caller pushes them out through the outbound queue.
    pub(crate) fn wants_write(&self) -> bool {
        lock(&self.inner).tls.wants_write()
    }

    /// Whether a read must follow even when the socket is empty: the
    /// peer's close_notify came and the end of stream is still to be said.
    pub(crate) fn holds_more(&self) -> bool {
        lock(&self.inner).peer_closed
    }

    /// One read of the socket through TLS: the bytes go into rustls, the
    /// plaintext into `decoder`. Returns the bytes read from the socket (0:
    /// end of stream, or the peer's close_notify). A TLS fault is an
    /// `InvalidData` error that [`describe`] names.
    pub(crate) fn open<R: Read + ?Sized>(
        &self,
        r: &mut R,
        decoder: &mut Decoder,
        chunk: usize,
    ) -> io::Result<usize> {
        if lock(&self.inner).peer_closed {
            return Ok(0);
        }
        // Socket bytes on their way into rustls go through a buffer of the
        // reading thread's, not one per connection: an idle connection
        // holds none. The socket is read without the lock: a blocking read
        // (the threads core's server reader) must not hold up a sender.
        SCRATCH.with(|cell| {
            let mut own = Vec::new();
            let mut shared = cell.try_borrow_mut();
            let buf = match shared.as_deref_mut() {
                Ok(b) => b,
                Err(_) => &mut own,
            };
            if buf.len() < chunk {
                buf.resize(chunk, 0);
            }
            let read = r.read(&mut buf[..chunk]);
            let taken = read.and_then(|n| {
                let mut st = lock(&self.inner);
                self.take_in(&mut st, &buf[..n], decoder).map(|()| n)
            });
            // A huge buffer (--buffer-size up to 64 MiB) is not kept.
            if buf.len() > 1 << 20 {
                *buf = Vec::new();
            }
            taken
        })
    }

    /// Hands `bytes` read from the socket to rustls, and the plaintext
    /// they make to `decoder`.
    fn take_in(&self, st: &mut Inner, bytes: &[u8], decoder: &mut Decoder) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if !st.checked {
            st.checked = true;
            let first = bytes[0];
            if matches!(st.tls, rustls::Connection::Server(_)) && first != 0x16 {
                let why = format!(
                    "plain TCP client on the TLS port (first byte 0x{first:02x}, not a TLS handshake)"
                );
                log::warn!("{}: {why}", self.peer);
                return Err(fault(why));
            }
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            if st.tls.read_tls(&mut rest)? == 0 {
                break;
            }
            let state = st.tls.process_new_packets().map_err(|e| {
                log::debug!("{}: TLS: {e}", self.peer);
                io::Error::new(io::ErrorKind::InvalidData, e)
            })?;
            let mut reader = st.tls.reader();
            loop {
                match reader.fill_buf() {
                    Ok([]) => break,
                    Ok(buf) => {
                        let len = buf.len();
                        decoder.push(buf);
                        reader.consume(len);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if state.peer_has_closed() {
                st.peer_closed = true;
                break;
            }
        }
        Ok(())
    }

    /// What the connection negotiated, once its handshake is done.
    pub(crate) fn info(&self) -> Option<TlsInfo> {
        let st = lock(&self.inner);
        if st.tls.is_handshaking() {
            return None;
        }
        let version = st.tls.protocol_version()?;
        let suite = st.tls.negotiated_cipher_suite()?;
        Some(TlsInfo {
            version: version
                .as_str()
                .map_or_else(|| format!("{version:?}"), |v| v.replace('_', ".")),
            cipher_suite: suite.suite().as_str().map_or_else(|| format!("{suite:?}"), String::from),
            peer_certificate: st
                .tls
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| Fingerprint::of(c)),
        })
    }
}

fn fault(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Fault(msg))
}

#[cfg(test)]
mod tests;

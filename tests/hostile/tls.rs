//! Hostile peers on a TLS port: a slowloris trickling a real ClientHello
//! one byte a second, and garbage (plain bytes, and bytes that start like
//! a TLS record). The TLS handshake runs inside the socket core, so the
//! server keeps accepting and serving others while it waits; the bad peer
//! is closed by the handshake deadline or at its first bad record, and
//! named in the log.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use veltix::CoreKind;

use crate::attacks::RSS_BOUND;
use crate::peer::{garbage, End};
use crate::target::{assert_answers, Kind, Opts, Target, PATIENCE};

/// The first flight of a real TLS client: its ClientHello record.
fn client_hello() -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut c = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let mut out = Vec::new();
    c.write_tls(&mut out).unwrap();
    assert_eq!(out[0], 0x16, "a handshake record");
    out
}

/// Reads (and drops) what the server sends until it ends the connection
/// or `patience` passes.
fn until_end(s: &mut TcpStream, patience: Duration) -> End {
    let deadline = Instant::now() + patience;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return End::Open;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return End::Closed,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return End::Reset,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading from the server: {e}"),
        }
    }
}

fn connect(t: &Target) -> (TcpStream, String) {
    let s = TcpStream::connect(t.addr).expect("connect to the server");
    let local = s.local_addr().unwrap().to_string();
    (s, local)
}

pub fn tls_slowloris_client_hello(kind: Kind, core: CoreKind) {
    let opts = Opts::default().tls().handshake_timeout(Duration::from_millis(1500));
    let t = Target::start(kind, core, &opts);
    let good = t.client();
    assert_answers(&good, "before the attack");
    let rss = t.rss();
    let hello = client_hello();
    let mut slow: Vec<(TcpStream, String)> = (0..8).map(|_| connect(&t)).collect();
    for i in 0..3 {
        for (s, _) in &mut slow {
            // Dropped already: judged below.
            let _ = s.write_all(&hello[i..=i]);
        }
        // Others are served, and new ones accepted, meanwhile.
        assert_answers(&good, "while 8 peers trickle a ClientHello");
        assert_answers(&t.client(), "a client that came during the trickle");
        std::thread::sleep(Duration::from_secs(1));
    }
    for (s, local) in &mut slow {
        let end = until_end(s, PATIENCE);
        assert_ne!(end, End::Open, "{local}: the trickling peer was kept");
        t.expect_log(local, &["handshake not completed"]);
    }
    assert_answers(&good, "after the trickling peers were dropped");
    t.assert_rss_within(rss, RSS_BOUND, "TLS slowloris");
}

pub fn tls_garbage(kind: Kind, core: CoreKind) {
    let t = Target::start(kind, core, &Opts::default().tls());
    let good = t.client();
    assert_answers(&good, "before the attack");
    let rss = t.rss();

    // Plain bytes: named as a plain client on the TLS port.
    let (mut plain, plain_at) = connect(&t);
    let _ = plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // Bytes that start like a TLS handshake record, then noise.
    let (mut noise, noise_at) = connect(&t);
    let mut bytes = vec![0x16, 0x03, 0x01, 0x00, 0x80];
    bytes.extend(garbage(0x7157, 4096));
    let _ = noise.write_all(&bytes);
    // A real ClientHello, then noise where the next flight should be.
    let (mut late, late_at) = connect(&t);
    let _ = late.write_all(&client_hello());
    let _ = late.write_all(&garbage(0xbad, 4096));

    for (s, local) in [(&mut plain, &plain_at), (&mut noise, &noise_at), (&mut late, &late_at)] {
        let end = until_end(s, PATIENCE);
        assert_ne!(end, End::Open, "{local}: the peer sending garbage was kept");
    }
    t.expect_log(&plain_at, &["plain TCP client on the TLS port"]);
    t.expect_log(&noise_at, &["TLS: "]);
    t.expect_log(&late_at, &["TLS: "]);
    assert_answers(&good, "after garbage on the TLS port");
    assert_answers(&t.client(), "a new client after the garbage");
    t.assert_rss_within(rss, RSS_BOUND, "garbage on the TLS port");
}

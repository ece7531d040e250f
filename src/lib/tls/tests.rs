use super::*;
use crate::config::{ClientTls, Pem, ServerTls, Trust};

/// A self-signed Ed25519 certificate for `localhost` and its key, as PEM.
fn self_signed(name: &str) -> (Pem, Pem) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    // Each its own subject, so that none is taken for another's issuer.
    let cn = format!("{name} {}", crate::sync::random_u32());
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let cert = params.self_signed(&key).unwrap();
    (Pem::bytes("cert.pem", cert.pem()), Pem::bytes("key.pem", key.serialize_pem()))
}

fn der(p: &Pem) -> CertificateDer<'static> {
    certs(p).unwrap().remove(0)
}

/// Moves the TLS bytes between two in-memory connections until neither
/// has anything to say; the first error either side meets.
fn run(
    client: &mut rustls::ClientConnection,
    server: &mut rustls::ServerConnection,
) -> Result<(), rustls::Error> {
    for _ in 0..20 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            server.read_tls(&mut &buf[..]).unwrap();
            server.process_new_packets()?;
        }
        let mut back = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut back).unwrap();
        }
        if !back.is_empty() {
            client.read_tls(&mut &back[..]).unwrap();
            client.process_new_packets()?;
        }
        if buf.is_empty() && back.is_empty() {
            return Ok(());
        }
    }
    Ok(())
}

fn pair(
    setup: &ClientSetup,
    server: Arc<rustls::ServerConfig>,
) -> (rustls::ClientConnection, rustls::ServerConnection) {
    let c = rustls::ClientConnection::new(setup.config.clone(), setup.name.clone()).unwrap();
    let s = rustls::ServerConnection::new(server).unwrap();
    (c, s)
}

#[test]
fn a_pin_accepts_exactly_its_certificate() {
    let (cert, key) = self_signed("localhost");
    let server = server_config(&ServerTls::new(cert.clone(), key)).unwrap();
    let pin = Fingerprint::of(&der(&cert));
    let setup = client_setup(&ClientTls::new(Trust::Pin(pin)), "127.0.0.1:1").unwrap();
    let (mut c, mut s) = pair(&setup, server.clone());
    run(&mut c, &mut s).unwrap();
    assert!(!c.is_handshaking());
    assert_eq!(c.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));

    // Any other certificate is refused, and the one seen is reported.
    let wrong = Fingerprint([7; 32]);
    let setup = client_setup(&ClientTls::new(Trust::Pin(wrong)), "127.0.0.1:1").unwrap();
    let (mut c, mut s) = pair(&setup, server);
    let err = run(&mut c, &mut s).unwrap_err();
    let io_err = io::Error::new(io::ErrorKind::InvalidData, err);
    match setup.failure(io_err, &[0x16, 0x03], Duration::from_secs(1)) {
        Error::Tls(t) => assert_eq!(*t, TlsError::PinMismatch { expected: wrong, got: pin }),
        e => panic!("{e}"),
    }
}

/// A server that presents `cert` but signs with another key.
#[derive(Debug)]
struct Impostor(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Impostor {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

#[test]
fn a_pin_still_checks_the_handshake_signature() {
    // The pinned certificate, replayed by a server without its key.
    let (cert, _) = self_signed("localhost");
    let (_, other_key) = self_signed("localhost");
    let signer =
        provider().key_provider.load_private_key(private_key(&other_key).unwrap()).unwrap();
    let stolen = rustls::sign::CertifiedKey::new(certs(&cert).unwrap(), signer);
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Impostor(Arc::new(stolen))));
    let pin = Fingerprint::of(&der(&cert));
    for trust in [Trust::Pin(pin), Trust::Insecure] {
        let setup = client_setup(&ClientTls::new(trust.clone()), "127.0.0.1:1").unwrap();
        let (mut c, mut s) = pair(&setup, Arc::new(server.clone()));
        let err = run(&mut c, &mut s).unwrap_err();
        assert!(err.to_string().contains("BadSignature"), "{trust:?}: {err}");
    }
}

#[test]
fn an_untrusted_certificate_is_refused_with_its_fingerprint() {
    let (cert, key) = self_signed("localhost");
    let server = server_config(&ServerTls::new(cert.clone(), key)).unwrap();
    // Trusting another CA: the server's self-signed certificate is unknown.
    let (other, _) = self_signed("localhost");
    let setup = client_setup(&ClientTls::new(Trust::Ca(other)), "localhost:1").unwrap();
    let (mut c, mut s) = pair(&setup, server.clone());
    let err = run(&mut c, &mut s).unwrap_err();
    let io_err = io::Error::new(io::ErrorKind::InvalidData, err);
    let e = setup.failure(io_err, &[0x16, 0x03], Duration::from_secs(1));
    let fp = Fingerprint::of(&der(&cert));
    let Error::Tls(t) = &e else { panic!("{e}") };
    assert!(matches!(**t, TlsError::Untrusted { fingerprint, .. } if fingerprint == fp), "{t}");
    let text = e.to_string();
    assert!(text.contains(&format!("--pin {fp}")), "{text}");
    assert!(text.contains("self-signed"), "{text}");

    // Trusting it as its own CA works.
    let setup = client_setup(&ClientTls::new(Trust::Ca(cert)), "localhost:1").unwrap();
    let (mut c, mut s) = pair(&setup, server);
    run(&mut c, &mut s).unwrap();
    assert!(!c.is_handshaking());
}

#[test]
fn an_expired_certificate_is_named_as_such() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let (cert, key) = (Pem::bytes("old.pem", cert.pem()), Pem::bytes("k", key.serialize_pem()));
    let server = server_config(&ServerTls::new(cert.clone(), key)).unwrap();
    let setup = client_setup(&ClientTls::new(Trust::Ca(cert.clone())), "localhost:1").unwrap();
    let (mut c, mut s) = pair(&setup, server);
    let err = run(&mut c, &mut s).unwrap_err();
    let io_err = io::Error::new(io::ErrorKind::InvalidData, err);
    let e = setup.failure(io_err, &[0x16, 0x03], Duration::from_secs(1));
    assert!(e.to_string().contains("it has expired"), "{e}");
    assert!(e.to_string().contains(&Fingerprint::of(&der(&cert)).to_string()), "{e}");
}

#[test]
fn first_bytes_that_are_not_tls_are_named() {
    let (cert, _) = self_signed("localhost");
    let setup = client_setup(&ClientTls::new(Trust::Ca(cert)), "localhost:1").unwrap();
    let fail = |first: &[u8]| {
        let e = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::General("x".into()));
        setup.failure(e, first, Duration::from_secs(1)).to_string()
    };
    // A 1.6.3 HELLO: type 10, then its size.
    assert!(fail(&[0, 10, 0, 0, 0, 7]).contains("plain veltix (the 1.6 wire)"));
    // A VX handshake message: a length, then a JSON object.
    assert!(fail(b"\x00\x20{\"type\"").contains("plain veltix (the vx wire)"));
    assert!(fail(b"HTTP/1.1 400").contains("not TLS (first bytes 48 54"));
    let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
    let e = setup.failure(eof, &[], Duration::from_secs(1));
    assert!(e.to_string().contains("closed the connection during the TLS handshake"), "{e}");
}

#[test]
fn settings_that_cannot_work_are_named() {
    let (cert, key) = self_signed("localhost");
    let (other_cert, _) = self_signed("localhost");
    let missing = Pem::file("/nonexistent/veltix/cert.pem").unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/veltix/cert.pem: cannot read"));

    let garbage = Pem::bytes("junk.pem", "not a certificate");
    let e = server_config(&ServerTls::new(garbage.clone(), key.clone())).unwrap_err();
    assert_eq!(
        e,
        TlsError::Pem { origin: "junk.pem".into(), reason: "no CERTIFICATE in it".into() }
    );
    let e = server_config(&ServerTls::new(cert.clone(), garbage.clone())).unwrap_err();
    assert!(e.to_string().contains("junk.pem: no PRIVATE KEY"), "{e}");
    // A certificate given as the key.
    let e = server_config(&ServerTls::new(cert.clone(), cert.clone())).unwrap_err();
    assert!(e.to_string().contains("no PRIVATE KEY"), "{e}");

    let e = server_config(&ServerTls::new(other_cert.clone(), key.clone())).unwrap_err();
    assert_eq!(e, TlsError::KeyMismatch { cert: "cert.pem".into(), key: "key.pem".into() });
    let e = client_setup(
        &ClientTls::new(Trust::Insecure).client_cert(Some((other_cert, key.clone()))),
        "h:1",
    )
    .err()
    .unwrap();
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");

    let e = client_setup(&ClientTls::new(Trust::Ca(garbage)), "h:1").err().unwrap();
    assert!(e.to_string().contains("no CERTIFICATE"), "{e}");
    let e = client_setup(&ClientTls::new(Trust::Insecure).server_name(Some("a b".into())), "h:1");
    assert!(e.err().unwrap().to_string().contains("not a valid server name"));
}

#[test]
fn tls13_only_with_x25519_first() {
    let p = provider();
    assert_eq!(p.kx_groups[0].name(), rustls::NamedGroup::X25519);
    assert!(p.cipher_suites.iter().all(|s| s.version() == &rustls::version::TLS13));
    let names: Vec<_> = p.cipher_suites.iter().map(|s| format!("{:?}", s.suite())).collect();
    assert_eq!(names[0], "TLS13_CHACHA20_POLY1305_SHA256");
    assert!(names.iter().any(|n| n.contains("AES_128_GCM")));
}

#[test]
fn host_of_addresses() {
    assert_eq!(host_of("example.com:443"), "example.com");
    assert_eq!(host_of("[::1]:8080"), "::1");
    assert_eq!(host_of("127.0.0.1:1"), "127.0.0.1");
}

//! TLS 1.3 under both wire profiles, on each socket core: the whole API
//! over TLS, large messages, mutual TLS, pinning, untrusted certificates,
//! and each side meeting a peer that does (not) speak TLS.

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use veltix::{
    Client, ClientConfig, ClientTls, CoreKind, Error, Server, ServerConfig, TlsError, Trust, Wire,
    WireMode,
};

use crate::common::tls::Pki;
use crate::common::wait_until;

const T: Duration = Duration::from_secs(5);

fn scfg(core: CoreKind, wire: WireMode) -> ServerConfig {
    ServerConfig::default().core(core).host("127.0.0.1").port(0).wire(wire)
}

fn ccfg(s: &Server, core: CoreKind, tls: ClientTls) -> ClientConfig {
    ClientConfig::new(s.local_addr().to_string()).core(core).tls(Some(tls))
}

fn echo(cfg: ServerConfig) -> Server {
    Server::builder(cfg)
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .route(300, |p, f| {
            let _ = p.reply(&f, b"routed");
        })
        .start()
        .unwrap()
}

fn tls_error(e: Error) -> TlsError {
    match e {
        Error::Tls(t) => *t,
        e => panic!("not a TLS error: {e}"),
    }
}

pub fn tls_send_route_request_ping_and_broadcast_on_both_wires(core: CoreKind) {
    let pki = Pki::new();
    for (mode, wire) in [(WireMode::V1_6, Wire::V1_6), (WireMode::Vx, Wire::Vx)] {
        let s = echo(scfg(core, mode).tls(Some(pki.server())));
        let (tx, rx) = mpsc::channel();
        let c = Client::builder(ccfg(&s, core, pki.client()))
            .on_message(move |_, f| tx.send(f.payload).unwrap())
            .connect()
            .unwrap();
        assert_eq!(c.peer().unwrap().wire(), wire, "detected through TLS");
        let info = c.tls_info().unwrap();
        assert_eq!(info.version, "TLSv1.3");
        assert_eq!(info.cipher_suite, "TLS13_CHACHA20_POLY1305_SHA256");
        assert_eq!(info.peer_certificate, Some(pki.server_fp));

        assert_eq!(c.send_and_wait(200, b"hello", T).unwrap().payload, b"hello");
        assert_eq!(c.send_and_wait(300, b"x", T).unwrap().payload, b"routed");
        c.ping(T).unwrap();
        c.send(200, b"echo me").unwrap();
        assert_eq!(rx.recv_timeout(T).unwrap(), b"echo me");

        // The server side: its peer's TLS, ping and broadcast.
        wait_until("the server sees the client", || s.client_count() == 1);
        let peer = s.clients().remove(0);
        assert_eq!(peer.tls_info().unwrap().version, "TLSv1.3");
        s.ping(peer.id(), T).unwrap();
        let (tx2, rx2) = mpsc::channel();
        let c2 = Client::builder(ccfg(&s, core, pki.client()))
            .on_message(move |_, f| tx2.send(f.payload).unwrap())
            .connect()
            .unwrap();
        wait_until("both clients", || s.client_count() == 2);
        assert_eq!(s.broadcast(201, b"to all", None).unwrap(), 2);
        assert_eq!(rx.recv_timeout(T).unwrap(), b"to all");
        assert_eq!(rx2.recv_timeout(T).unwrap(), b"to all");
        drop((c, c2));
        s.shutdown();
    }
}

pub fn tls_a_mebibyte_each_way(core: CoreKind) {
    let pki = Pki::new();
    let s = echo(scfg(core, WireMode::V1_6).tls(Some(pki.server())));
    let c = Client::builder(ccfg(&s, core, pki.client()))
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .connect()
        .unwrap();
    let big = crate::common::random_bytes(1 << 20, 16);
    assert_eq!(c.send_and_wait(200, &big, T).unwrap().payload, big, "client to server and back");
    wait_until("the server sees the client", || s.client_count() == 1);
    let id = s.clients()[0].id();
    let back = s.send_and_wait(id, 200, &big, T).unwrap();
    assert_eq!(back.payload, big, "server to client and back");
    // Many at once, in order, through the outbound queue.
    for i in 0..20u8 {
        c.send(200, &vec![i; 200_000]).unwrap();
    }
    assert_eq!(c.send_and_wait(200, b"last", T).unwrap().payload, b"last");
}

pub fn tls_mutual_accepted_and_refused(core: CoreKind) {
    let pki = Pki::new();
    let server_tls = pki.server().client_ca(Some(pki.pem("ca.pem")));
    let s = echo(scfg(core, WireMode::V1_6).tls(Some(server_tls)));
    let with_cert = pki.client().client_cert(pki.client_cert());
    let c = Client::connect(ccfg(&s, core, with_cert)).unwrap();
    assert_eq!(c.send_and_wait(200, b"mtls", T).unwrap().payload, b"mtls");
    let peer_cert = s.clients()[0].tls_info().unwrap().peer_certificate;
    assert!(peer_cert.is_some(), "the server sees the client's certificate");

    let started = Instant::now();
    let e = tls_error(Client::connect(ccfg(&s, core, pki.client())).err().unwrap());
    assert!(matches!(&e, TlsError::Refused(why) if why.contains("CertificateRequired")), "{e}");
    assert!(e.to_string().contains("--cert"), "{e}");
    let stranger = pki.client().client_cert(pki.stranger_cert());
    let e = tls_error(Client::connect(ccfg(&s, core, stranger)).err().unwrap());
    assert!(matches!(&e, TlsError::Refused(why) if why.contains("UnknownCA")), "{e}");
    assert!(started.elapsed() < T, "refusals are immediate");
    assert_eq!(s.client_count(), 1);
}

pub fn tls_pin_right_and_wrong(core: CoreKind) {
    let pki = Pki::new();
    let s = echo(scfg(core, WireMode::V1_6).tls(Some(pki.self_signed())));
    let right = ClientTls::new(Trust::Pin(pki.self_signed_fp));
    let c = Client::connect(ccfg(&s, core, right)).unwrap();
    assert_eq!(c.send_and_wait(200, b"pinned", T).unwrap().payload, b"pinned");
    // Another name does not matter to a pin.
    let named =
        ClientTls::new(Trust::Pin(pki.self_signed_fp)).server_name(Some("x.example".into()));
    assert!(Client::connect(ccfg(&s, core, named)).is_ok());

    let wrong = ClientTls::new(Trust::Pin(pki.server_fp));
    let e = tls_error(Client::connect(ccfg(&s, core, wrong)).err().unwrap());
    assert_eq!(e, TlsError::PinMismatch { expected: pki.server_fp, got: pki.self_signed_fp });
}

pub fn tls_untrusted_self_signed_is_refused_with_its_fingerprint(core: CoreKind) {
    let pki = Pki::new();
    let s = echo(scfg(core, WireMode::V1_6).tls(Some(pki.self_signed())));
    let e = Client::connect(ccfg(&s, core, pki.client())).err().unwrap();
    assert!(e.is_connect_failure());
    let text = e.to_string();
    match tls_error(e) {
        TlsError::Untrusted { fingerprint, .. } => assert_eq!(fingerprint, pki.self_signed_fp),
        e => panic!("{e}"),
    }
    assert!(text.contains(&format!("--pin {}", pki.self_signed_fp)), "{text}");
    // Insecure takes it (and says nothing about it: the CLI warns).
    let c = Client::connect(ccfg(&s, core, ClientTls::new(Trust::Insecure))).unwrap();
    assert!(c.ping(T).is_ok());
}

pub fn tls_and_plain_peers_are_told_apart(core: CoreKind) {
    let pki = Pki::new();
    // A TLS client to plain servers of either profile.
    for (mode, name) in [(WireMode::V1_6, "1.6"), (WireMode::Vx, "vx")] {
        let plain = echo(scfg(core, mode));
        let e = tls_error(Client::connect(ccfg(&plain, core, pki.client())).err().unwrap());
        assert_eq!(e, TlsError::PlainServer { wire: name });
        assert!(e.to_string().contains("drop --tls"));
    }
    // A TLS client to a port that closes at once.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for s in l.incoming().take(1) {
            drop(s);
        }
    });
    let cfg = ClientConfig::new(addr).core(core).tls(Some(pki.client()));
    let e = tls_error(Client::connect(cfg).err().unwrap());
    assert_eq!(e, TlsError::Closed);
    assert!(e.to_string().contains("closed the connection during the TLS handshake"), "{e}");
    // A plain client to a TLS server: the server ends the silent
    // connection at its handshake deadline with a TLS alert, which the
    // client names.
    let s = echo(
        scfg(core, WireMode::V1_6)
            .tls(Some(pki.server()))
            .handshake_timeout(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let cfg = ClientConfig::new(s.local_addr().to_string())
        .core(core)
        .handshake_timeout(Duration::from_secs(3));
    let e = tls_error(Client::connect(cfg).err().unwrap());
    assert_eq!(e, TlsError::TlsServer);
    assert!(e.to_string().contains("use --tls"));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    // The server is fine.
    let c = Client::connect(ccfg(&s, core, pki.client())).unwrap();
    assert!(c.ping(T).is_ok());
}

pub fn tls_a_server_that_stops_reading_past_the_handshake_timeout(core: CoreKind) {
    // The client's handshake bound (200 ms) must not stay on its socket:
    // its writer waits for a server that stops reading for 1.5 s.
    let pki = Pki::new();
    let first = std::sync::atomic::AtomicBool::new(true);
    let cfg = scfg(core, WireMode::V1_6)
        .tls(Some(pki.server()))
        .max_workers(1)
        .max_pending_callback_bytes(1 << 20);
    let s = Server::builder(cfg)
        .on_message(move |p, f| {
            if first.swap(false, std::sync::atomic::Ordering::AcqRel) {
                std::thread::sleep(Duration::from_millis(1500));
            }
            if f.payload == b"done" {
                let _ = p.reply(&f, b"done");
            }
        })
        .start()
        .unwrap();
    let c =
        Client::connect(ccfg(&s, core, pki.client()).handshake_timeout(Duration::from_millis(200)))
            .unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..24 {
        c.send(200, &chunk).unwrap();
    }
    let done = c.send_and_wait(200, b"done", Duration::from_secs(20)).unwrap();
    assert_eq!(done.payload, b"done");
}

pub fn tls_a_close_notify_alone_ends_the_connection_at_once(core: CoreKind) {
    // A peer that says close_notify and leaves its TCP connection open:
    // the server ends the connection then, not when the peer is presumed
    // dead (nothing more will come on the socket to wake a reader).
    use std::io::Write;
    let pki = Pki::new();
    let s = echo(scfg(core, WireMode::V1_6).tls(Some(pki.server())));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(pki_der(&pki))).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let mut sock = std::net::TcpStream::connect(s.local_addr()).unwrap();
    sock.set_read_timeout(Some(T)).unwrap();
    let mut io = rustls::Stream::new(&mut tls, &mut sock);
    let hello = veltix::FrameReader::new(&mut io, 1 << 20).read_frame().unwrap().unwrap();
    let ack = veltix::Frame::new(
        veltix::types::HELLO_ACK,
        hello.request_id,
        veltix::handshake::encode_hello("1.6.3"),
    );
    io.write_all(&ack.encode().unwrap()).unwrap();
    wait_until("the server sees the client", || s.client_count() == 1);
    tls.send_close_notify();
    tls.complete_io(&mut sock).unwrap();
    let started = Instant::now();
    wait_until("the server ends the connection", || s.client_count() == 0);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    drop(sock);
}

/// The DER of the test CA's certificate.
fn pki_der(pki: &Pki) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_file(pki.path("ca.pem")).unwrap().to_vec()
}

pub fn tls_a_pipeline_and_concurrent_senders_arrive_whole_and_in_order(core: CoreKind) {
    // Pipelined frames and frames appended behind another sender's write
    // are sealed in queue order: the server decrypts every one, in order.
    let pki = Pki::new();
    let got: Arc<std::sync::Mutex<Vec<(u8, u32)>>> = Arc::default();
    let g = got.clone();
    let s = Server::builder(scfg(core, WireMode::V1_6).tls(Some(pki.server())))
        .on_message(move |_, f| {
            let n = u32::from_be_bytes(f.payload[1..5].try_into().unwrap());
            g.lock().unwrap().push((f.payload[0], n));
        })
        .start()
        .unwrap();
    let c = Arc::new(Client::connect(ccfg(&s, core, pki.client())).unwrap());
    let each = 5_000u32;
    let threads: Vec<_> = (0..2u8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut batch = c.pipeline().unwrap();
                let mut m = [t; 40];
                for i in 0..each {
                    m[1..5].copy_from_slice(&i.to_be_bytes());
                    if i % 2 == 0 {
                        batch.send(200, &m).unwrap();
                    } else {
                        // A plain send goes out behind what the pipeline
                        // queued and has not written yet.
                        c.send(200, &m).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    wait_until("every message", || got.lock().unwrap().len() == 2 * each as usize);
    for t in 0..2u8 {
        let seq: Vec<u32> =
            got.lock().unwrap().iter().filter(|(w, _)| *w == t).map(|(_, n)| *n).collect();
        assert_eq!(seq, (0..each).collect::<Vec<_>>(), "sender {t}");
    }
}

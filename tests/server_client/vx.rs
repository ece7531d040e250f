//! The same API on the VX profile (veltix 2.0.3 to 3.3.x): a VX server and
//! clients that detect it, on each socket core.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::Duration;

use veltix::{Client, ClientConfig, CoreKind, Error, Server, ServerConfig, Wire, WireMode};

use crate::common::wait_until;

const T: Duration = Duration::from_secs(5);

/// What a client's on_message saw: payload and request id.
type Inbox = Receiver<(Vec<u8>, u32)>;

fn cfg(core: CoreKind) -> ServerConfig {
    ServerConfig::default().core(core).host("127.0.0.1").port(0).wire(WireMode::Vx)
}

fn ccfg(s: &Server, core: CoreKind) -> ClientConfig {
    ClientConfig::new(s.local_addr().to_string()).core(core)
}

fn echo_server(core: CoreKind) -> Server {
    Server::builder(cfg(core))
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap()
}

pub fn vx_detected_and_echo_of_every_size(core: CoreKind) {
    let s = echo_server(core);
    let c = Client::connect(ccfg(&s, core)).unwrap();
    assert_eq!(c.peer().unwrap().wire(), Wire::Vx);
    for n in [0usize, 1, 1000, 65_536, 1 << 20] {
        let body: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        assert_eq!(c.send_and_wait(200, &body, T).unwrap().payload, body, "{n} bytes");
    }
    // An explicit VX client too.
    let c = Client::connect(ccfg(&s, core).wire(WireMode::Vx)).unwrap();
    assert!(c.ping(T).is_ok());
}

pub fn vx_ping_and_requests_both_ways_with_ids_in_each_half(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core))
        .on_message(move |p, f| {
            tx.send(f.request_id.as_u32()).unwrap();
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap();
    let c = Client::builder(ccfg(&s, core))
        .on_message(|p, f| {
            let _ = p.reply(&f, b"client says hi");
        })
        .connect()
        .unwrap();
    assert!(c.ping(T).unwrap() < T);
    c.send_and_wait(200, b"x", T).unwrap();
    let id = rx.recv_timeout(T).unwrap();
    assert!(id < 32768, "a client's ids are the lower half: {id}");
    wait_until("client listed", || s.client_count() == 1);
    let peer = s.clients()[0].id();
    assert!(s.ping(peer, T).unwrap() < T);
    let reply = s.send_and_wait(peer, 300, b"?", T).unwrap();
    assert_eq!(reply.payload, b"client says hi");
    assert!((32768..65536).contains(&reply.request_id.as_u32()), "{}", reply.request_id);
}

pub fn vx_routes_callbacks_and_tags(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let routed = tx.clone();
    let s = Server::builder(cfg(core))
        .on_connect(|p| {
            p.add_tag("lobby", None);
        })
        .route(300, move |p, f| {
            routed.send(("route", f.payload, p.has_tag("lobby"))).unwrap();
        })
        .on_message(move |p, f| {
            tx.send(("message", f.payload, p.has_tag("lobby"))).unwrap();
        })
        .start()
        .unwrap();
    let c = Client::connect(ccfg(&s, core)).unwrap();
    c.send(300, b"a").unwrap();
    c.send(200, b"b").unwrap();
    let mut got = vec![rx.recv_timeout(T).unwrap(), rx.recv_timeout(T).unwrap()];
    got.sort();
    assert_eq!(got, [("message", b"b".to_vec(), true), ("route", b"a".to_vec(), true)]);
    assert!(s.unroute(300));
    c.send(300, b"c").unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap().0, "message");
}

pub fn vx_broadcast_reaches_all_but_the_excepted(core: CoreKind) {
    let s = echo_server(core);
    let mut clients: Vec<(Client, Inbox)> = vec![];
    for _ in 0..3 {
        let (tx, rx) = mpsc::channel();
        let c = Client::builder(ccfg(&s, core))
            .on_message(move |_, f| tx.send((f.payload, f.request_id.as_u32())).unwrap())
            .connect()
            .unwrap();
        clients.push((c, rx));
    }
    wait_until("3 clients", || s.client_count() == 3);
    let except = s.clients()[0].id();
    assert_eq!(s.broadcast(200, b"news", Some(except)).unwrap(), 2);
    let got: Vec<_> = clients
        .iter()
        .filter_map(|(_, rx)| rx.recv_timeout(Duration::from_millis(500)).ok())
        .collect();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|(p, id)| p == b"news" && *id >= 32768), "{got:?}");
}

pub fn vx_a_full_server_says_server_full(core: CoreKind) {
    let s = Server::start(cfg(core).max_connections(Some(1))).unwrap();
    let a = Client::connect(ccfg(&s, core)).unwrap();
    wait_until("1 client", || s.client_count() == 1);
    match Client::connect(ccfg(&s, core)) {
        Err(Error::Refused(why)) => assert_eq!(why, "server_full"),
        other => panic!("expected server_full, got {:?}", other.err()),
    }
    assert!(a.ping(T).is_ok());
}

pub fn vx_a_client_of_the_wrong_profile_is_told(core: CoreKind) {
    let s = echo_server(core);
    match Client::connect(ccfg(&s, core).wire(WireMode::V1_6)) {
        Err(Error::Handshake(e)) => assert!(e.to_string().contains("vx wire profile"), "{e}"),
        other => panic!("expected a handshake error, got {:?}", other.err()),
    }
    let v16 = Server::start(ServerConfig::default().core(core).host("127.0.0.1").port(0)).unwrap();
    match Client::connect(
        ClientConfig::new(v16.local_addr().to_string()).core(core).wire(WireMode::Vx),
    ) {
        Err(Error::Handshake(e)) => assert!(e.to_string().contains("1.6 wire profile"), "{e}"),
        other => panic!("expected a handshake error, got {:?}", other.err()),
    }
}

pub fn vx_reconnects_after_a_server_restart(core: CoreKind) {
    let s = echo_server(core);
    let port = s.local_addr().port();
    let connects = Arc::new(AtomicUsize::new(0));
    let n = connects.clone();
    let c = Client::builder(ccfg(&s, core).retry(30).retry_delay(Duration::from_millis(100)))
        .on_connect(move |_| {
            n.fetch_add(1, Ordering::SeqCst);
        })
        .connect()
        .unwrap();
    wait_until("first connect", || connects.load(Ordering::SeqCst) == 1);
    drop(s);
    let _s2 = Server::builder(cfg(core).port(port))
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap();
    wait_until("reconnect", || connects.load(Ordering::SeqCst) == 2);
    assert_eq!(c.send_and_wait(200, b"again", T).unwrap().payload, b"again");
}

pub fn vx_messages_over_the_limit_are_refused_both_ways(core: CoreKind) {
    let s = Server::builder(cfg(core).max_message_size(1024))
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap();
    let c = Client::connect(ccfg(&s, core)).unwrap();
    // Our own limit: refused before sending (15-byte VX header).
    let big = ccfg(&s, core).max_message_size(1024);
    let small = Client::connect(big).unwrap();
    assert!(matches!(
        small.send(200, &[0u8; 1024 - 15 + 1]),
        Err(Error::MessageTooLarge { size: 1025, limit: 1024 })
    ));
    assert_eq!(small.send_and_wait(200, &[1u8; 1024 - 15], T).unwrap().payload.len(), 1009);
    // The server's limit: a larger frame ends the connection.
    let _ = c.send(200, &[0u8; 4000]);
    wait_until("the server closes the oversize sender", || !c.is_connected());
}

//! The behaviours, each a function of the socket core it runs on;
//! `main.rs` makes a test of each on both cores.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use veltix::{
    handshake, types, BufferSize, Client, ClientConfig, CoreKind, DisconnectReason, Error, Frame,
    FrameReader, PerformanceMode, ProtocolError, RequestId, Server, ServerConfig,
};

use crate::common::wait_until;

const T: Duration = Duration::from_secs(5);

fn ccfg(addr: impl Into<String>, core: CoreKind) -> ClientConfig {
    ClientConfig::new(addr).core(core)
}

fn cfg(core: CoreKind) -> ServerConfig {
    ServerConfig::default().core(core).host("127.0.0.1").port(0)
}

fn echo_server(core: CoreKind) -> Server {
    Server::builder(cfg(core))
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap()
}

fn client(s: &Server, core: CoreKind) -> Client {
    Client::connect(ccfg(s.local_addr().to_string(), core)).unwrap()
}

/// A raw TCP peer that reads the server's HELLO.
fn raw_peer(addr: SocketAddr) -> (TcpStream, Frame) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    let mut r = FrameReader::new(s.try_clone().unwrap(), 1 << 20);
    let hello = r.read_frame().unwrap().unwrap();
    assert_eq!(hello.type_code, types::HELLO);
    (s, hello)
}

fn ack(s: &mut TcpStream, hello: &Frame, version: &str) {
    let ack = Frame::new(types::HELLO_ACK, hello.request_id, handshake::encode_hello(version));
    s.write_all(&ack.encode().unwrap()).unwrap();
}

/// Reads until the peer closes; returns the frames seen on the way.
fn read_until_closed(s: &mut TcpStream) -> Vec<Frame> {
    let mut bytes = vec![];
    let _ = s.read_to_end(&mut bytes);
    FrameReader::new(&bytes[..], 1 << 20).filter_map(Result::ok).collect()
}

pub fn handshake_then_on_connect_and_real_port(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core))
        .on_connect(move |p| tx.send((p.id(), p.peer_version())).unwrap())
        .start()
        .unwrap();
    assert_ne!(s.local_addr().port(), 0);
    let c = client(&s, core);
    assert!(c.is_connected());
    let (id, version) = rx.recv_timeout(T).unwrap();
    assert_eq!(version.as_deref(), Some("1.6.3"));
    assert_eq!(s.clients().iter().map(|p| p.id()).collect::<Vec<_>>(), vec![id]);
}

pub fn on_connect_fires_only_after_the_ack(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core)).on_connect(move |_| tx.send(()).unwrap()).start().unwrap();
    let (mut raw, hello) = raw_peer(s.local_addr());
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "fired before HELLO_ACK");
    assert_eq!(s.client_count(), 0);
    ack(&mut raw, &hello, "1.6.3");
    rx.recv_timeout(T).unwrap();
    assert_eq!(s.client_count(), 1);
}

pub fn ping_both_ways(core: CoreKind) {
    let s = echo_server(core);
    let c = client(&s, core);
    let rtt = c.ping(T).unwrap();
    assert!(rtt > Duration::ZERO && rtt < T);
    wait_until("client listed", || s.client_count() == 1);
    let id = s.clients()[0].id();
    assert!(s.ping(id, T).unwrap() < T);
}

pub fn send_and_wait_both_ways(core: CoreKind) {
    let s = echo_server(core);
    let c = client(&s, core);
    let reply = c.send_and_wait(200, b"hello", T).unwrap();
    assert_eq!((reply.type_code, &reply.payload[..]), (200, &b"hello"[..]));
    // Server to client: the client answers through a route.
    c.route(300, |p, f| {
        let mut out = f.payload.clone();
        out.reverse();
        p.reply(&f, &out).unwrap();
    });
    wait_until("client listed", || s.client_count() == 1);
    let id = s.clients()[0].id();
    let r = s.send_and_wait(id, 300, b"abc", T).unwrap();
    assert_eq!(r.payload, b"cba");
}

pub fn concurrent_requests_get_their_own_replies(core: CoreKind) {
    let s = echo_server(core);
    let c = Arc::new(client(&s, core));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let msg = format!("{t}-{i}");
                    let r = c.send_and_wait(200, msg.as_bytes(), T).unwrap();
                    assert_eq!(r.payload, msg.as_bytes());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

pub fn timeout_then_late_reply_is_dropped_not_delivered(core: CoreKind) {
    let (tx, rx) = mpsc::channel::<Frame>();
    let s = Server::builder(cfg(core))
        .on_message(|p, f| {
            std::thread::sleep(Duration::from_millis(300));
            let _ = p.reply(&f, b"late");
        })
        .start()
        .unwrap();
    let c = Client::builder(ccfg(s.local_addr().to_string(), core))
        .on_message(move |_, f| tx.send(f).unwrap())
        .connect()
        .unwrap();
    let e = c.send_and_wait(200, b"x", Duration::from_millis(50)).unwrap_err();
    assert!(matches!(e, Error::Timeout { what: "reply", .. }), "{e}");
    // The late reply must not reach on_message.
    assert!(rx.recv_timeout(Duration::from_millis(800)).is_err());
    // The connection still works.
    assert!(c.ping(T).is_ok());
}

pub fn routes_take_priority_and_can_be_removed(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    let s = Server::builder(cfg(core))
        .on_message(move |_, f| tx.send(("default", f.type_code)).unwrap())
        .route(201, move |_, f| tx2.send(("route", f.type_code)).unwrap())
        .start()
        .unwrap();
    let c = client(&s, core);
    c.send(201, b"").unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap(), ("route", 201));
    c.send(202, b"").unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap(), ("default", 202));
    assert!(s.unroute(201));
    c.send(201, b"").unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap(), ("default", 201));
    assert!(!s.unroute(201));
}

pub fn slow_callback_does_not_delay_pings(core: CoreKind) {
    let s = Server::builder(cfg(core))
        .on_message(|_, _| std::thread::sleep(Duration::from_secs(1)))
        .start()
        .unwrap();
    let c = client(&s, core);
    c.send(200, b"slow").unwrap();
    let start = Instant::now();
    let rtt = c.ping(T).unwrap();
    assert!(start.elapsed() < Duration::from_millis(500), "ping waited for the callback: {rtt:?}");
}

fn collect_in_order(n_clients: usize, n_msgs: u32, core: CoreKind) {
    let got: Arc<Mutex<std::collections::HashMap<u64, Vec<u32>>>> = Arc::default();
    let g = got.clone();
    let s = Server::builder(cfg(core))
        .on_message(move |p, f| {
            let n = u32::from_be_bytes(f.payload[..4].try_into().unwrap());
            g.lock().unwrap().entry(p.id()).or_default().push(n);
        })
        .start()
        .unwrap();
    let clients: Vec<Client> = (0..n_clients).map(|_| client(&s, core)).collect();
    let handles: Vec<_> = clients
        .into_iter()
        .map(|c| {
            std::thread::spawn(move || {
                for i in 0..n_msgs {
                    c.send(200, &i.to_be_bytes()).unwrap();
                }
                c
            })
        })
        .collect();
    let _clients: Vec<Client> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total = n_clients * n_msgs as usize;
    wait_until("all messages", || {
        got.lock().unwrap().values().map(Vec::len).sum::<usize>() == total
    });
    let got = got.lock().unwrap();
    assert_eq!(got.len(), n_clients);
    for seq in got.values() {
        assert_eq!(*seq, (0..n_msgs).collect::<Vec<_>>());
    }
}

pub fn ten_thousand_messages_in_order_on_one_connection(core: CoreKind) {
    collect_in_order(1, 10_000, core);
}

pub fn ten_thousand_messages_in_order_on_each_of_fifty_connections(core: CoreKind) {
    collect_in_order(50, 10_000, core);
}

pub fn broadcast_reaches_all_but_the_excepted(core: CoreKind) {
    let s = echo_server(core);
    let mut rxs: Vec<(Client, Receiver<Vec<u8>>)> = vec![];
    for _ in 0..3 {
        let (tx, rx) = mpsc::channel();
        let c = Client::builder(ccfg(s.local_addr().to_string(), core))
            .on_message(move |_, f| tx.send(f.payload).unwrap())
            .connect()
            .unwrap();
        rxs.push((c, rx));
    }
    wait_until("3 clients", || s.client_count() == 3);
    let except = s.clients()[0].id();
    assert_eq!(s.broadcast(200, b"news", Some(except)).unwrap(), 2);
    let got: Vec<bool> =
        rxs.iter().map(|(_, rx)| rx.recv_timeout(Duration::from_millis(500)).is_ok()).collect();
    assert_eq!(got.iter().filter(|g| **g).count(), 2);
}

pub fn tags_from_callbacks(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core))
        .on_connect(|p| {
            assert!(p.add_tag("lobby", None));
            assert!(!p.add_tag("lobby", None));
            p.add_tag("score", Some(serde_json::json!(3)));
        })
        .on_message(move |p, _| {
            tx.send((
                p.has_tag("lobby"),
                p.has_all_tags(&["lobby", "score"]),
                p.has_any_tags(&["x", "score"]),
                p.get_tag("score"),
                p.remove_tag("lobby"),
                p.has_tag("lobby"),
            ))
            .unwrap();
            p.clear_tags();
        })
        .start()
        .unwrap();
    let c = client(&s, core);
    c.send(200, b"").unwrap();
    let r = rx.recv_timeout(T).unwrap();
    assert_eq!(r, (true, true, true, Some(serde_json::json!(3)), true, false));
    wait_until("cleared", || s.clients().first().is_some_and(|p| p.tag_names().is_empty()));
}

pub fn over_max_connections_gets_an_error_frame_others_unaffected(core: CoreKind) {
    let s = Server::start(cfg(core).max_connections(Some(2))).unwrap();
    let a = client(&s, core);
    let b = client(&s, core);
    wait_until("2 clients", || s.client_count() == 2);
    let e = Client::connect(ccfg(s.local_addr().to_string(), core)).err().unwrap();
    assert!(matches!(&e, Error::Refused(m) if m.contains("2 connections")), "{e}");
    assert!(a.ping(T).is_ok() && b.ping(T).is_ok());
    assert_eq!(s.stats().refused, 1);
}

pub fn silent_peer_is_dropped_after_the_handshake_timeout(core: CoreKind) {
    let s = Server::start(cfg(core).handshake_timeout(Duration::from_millis(300))).unwrap();
    let (mut raw, _) = raw_peer(s.local_addr());
    let start = Instant::now();
    let frames = read_until_closed(&mut raw);
    assert!(start.elapsed() < Duration::from_secs(3));
    let err = frames.iter().find(|f| f.type_code == types::ERROR).expect("an ERROR frame");
    assert!(String::from_utf8_lossy(&err.payload).contains("handshake not completed"));
}

pub fn application_frame_before_handshake_closes(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core)).on_message(move |_, f| tx.send(f).unwrap()).start().unwrap();
    let (mut raw, _) = raw_peer(s.local_addr());
    raw.write_all(&Frame::new(200, RequestId::from(5), b"early".to_vec()).encode().unwrap())
        .unwrap();
    let frames = read_until_closed(&mut raw);
    assert!(frames.iter().any(|f| f.type_code == types::ERROR));
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "early frame was delivered");
}

pub fn wrong_ack_version_closes(core: CoreKind) {
    let s = Server::start(cfg(core)).unwrap();
    let (mut raw, hello) = raw_peer(s.local_addr());
    ack(&mut raw, &hello, "9.9.9");
    let frames = read_until_closed(&mut raw);
    let err = frames.iter().find(|f| f.type_code == types::ERROR).unwrap();
    assert!(String::from_utf8_lossy(&err.payload).contains("9.9.9"));
    assert_eq!(s.client_count(), 0);
}

/// A fake server that sends a HELLO with the given version.
fn fake_server(version: &'static str) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let hello =
                Frame::new(types::HELLO, RequestId::from(9), handshake::encode_hello(version));
            let _ = s.write_all(&hello.encode().unwrap());
            let mut sink = vec![];
            let _ = s.read_to_end(&mut sink);
        }
    });
    addr
}

pub fn client_rejects_a_server_of_another_version(core: CoreKind) {
    let addr = fake_server("2.0.0");
    let e = Client::connect(ccfg(addr.to_string(), core)).err().unwrap();
    assert!(
        matches!(&e, Error::Handshake(p) if matches!(**p, ProtocolError::VersionMismatch { .. })),
        "{e}"
    );
}

pub fn client_connect_errors_are_typed(core: CoreKind) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let e = Client::connect(ccfg(addr.to_string(), core)).err().unwrap();
    assert!(matches!(e, Error::ConnectionRefused(_)), "{e}");
    // A listener that never says a byte: down, or a TLS port.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = ccfg(l.local_addr().unwrap().to_string(), core)
        .handshake_timeout(Duration::from_millis(200));
    let e = Client::connect(cfg).err().unwrap();
    assert!(matches!(e, Error::SilentServer { .. }), "{e}");
    assert!(e.to_string().contains("handshake timed out after 200ms"), "{e}");
}

pub fn crc_mismatch_is_reported_to_the_sender_and_the_stream_goes_on(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core))
        .on_message(move |_, f| tx.send(f.payload).unwrap())
        .start()
        .unwrap();
    let (mut raw, hello) = raw_peer(s.local_addr());
    ack(&mut raw, &hello, "1.6.3");
    let mut bad = Frame::new(200, RequestId::from(77), b"abc".to_vec()).encode().unwrap();
    bad[22] ^= 0xff;
    raw.write_all(&bad).unwrap();
    raw.write_all(&Frame::new(200, RequestId::from(78), b"ok".to_vec()).encode().unwrap()).unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap(), b"ok");
    let mut r = FrameReader::new(raw.try_clone().unwrap(), 1 << 20);
    let err = r.read_frame().unwrap().unwrap();
    assert_eq!((err.type_code, err.request_id), (types::ERROR, RequestId::from(77)));
    assert!(String::from_utf8_lossy(&err.payload).contains("CRC mismatch"));
}

pub fn oversized_frame_closes_with_an_error_naming_the_limit(core: CoreKind) {
    let s = Server::start(cfg(core).max_message_size(1024)).unwrap();
    let (mut raw, hello) = raw_peer(s.local_addr());
    ack(&mut raw, &hello, "1.6.3");
    raw.write_all(&Frame::new(200, RequestId::from(1), vec![0; 2000]).encode().unwrap()).unwrap();
    let frames = read_until_closed(&mut raw);
    let err = frames.iter().find(|f| f.type_code == types::ERROR).unwrap();
    assert!(String::from_utf8_lossy(&err.payload).contains("limit of 1024"));
}

pub fn reconnects_after_a_server_restart(core: CoreKind) {
    let s = echo_server(core);
    let addr = s.local_addr();
    let (tx, rx) = mpsc::channel();
    let connects = Arc::new(AtomicUsize::new(0));
    let n = connects.clone();
    let c = Client::builder(
        ccfg(addr.to_string(), core).retry(20).retry_delay(Duration::from_millis(100)),
    )
    .on_disconnect(move |st| tx.send(st.clone()).unwrap())
    .on_connect(move |_| {
        n.fetch_add(1, Ordering::SeqCst);
    })
    .connect()
    .unwrap();
    wait_until("first connect", || connects.load(Ordering::SeqCst) == 1);
    drop(s);
    let lost = rx.recv_timeout(T).unwrap();
    assert_eq!((lost.permanent, lost.attempt, lost.retry_max), (false, 0, 20));
    assert_eq!(lost.reason, DisconnectReason::ServerClosed);
    // The detail says what ended the connection, not a bare "lost".
    assert_eq!(lost.detail, "the peer closed the connection");
    // Let at least one attempt fail, then restart on the same port.
    let failed = rx.recv_timeout(T).unwrap();
    assert_eq!((failed.permanent, failed.attempt), (false, 1));
    let _s2 =
        Server::builder(ServerConfig::default().core(core).host("127.0.0.1").port(addr.port()))
            .on_message(|p, f| {
                let _ = p.reply(&f, &f.payload);
            })
            .start()
            .unwrap();
    wait_until("reconnect", || connects.load(Ordering::SeqCst) == 2);
    assert_eq!(c.send_and_wait(200, b"again", T).unwrap().payload, b"again");
}

pub fn retries_run_out_with_a_permanent_state(core: CoreKind) {
    let s = echo_server(core);
    let (tx, rx) = mpsc::channel();
    let c = Client::builder(
        ccfg(s.local_addr().to_string(), core).retry(2).retry_delay(Duration::from_millis(20)),
    )
    .on_disconnect(move |st| tx.send((st.permanent, st.attempt)).unwrap())
    .connect()
    .unwrap();
    drop(s);
    let states: Vec<_> = (0..3).map(|_| rx.recv_timeout(T).unwrap()).collect();
    assert_eq!(states, vec![(false, 0), (false, 1), (true, 2)]);
    assert!(!c.is_connected());
    assert!(matches!(c.send(200, b""), Err(Error::Closed(_))));
}

pub fn manual_disconnect_is_permanent_and_does_not_retry(core: CoreKind) {
    let s = echo_server(core);
    let (tx, rx) = mpsc::channel();
    let c = Client::builder(ccfg(s.local_addr().to_string(), core).retry(5))
        .on_disconnect(move |st| tx.send(st.clone()).unwrap())
        .connect()
        .unwrap();
    c.disconnect();
    let st = rx.recv_timeout(T).unwrap();
    assert!(st.permanent && st.reason == DisconnectReason::Manual);
    wait_until("server saw it", || s.client_count() == 0);
}

pub fn server_killed_while_waiting_gives_an_error_not_a_hang(core: CoreKind) {
    let s = Server::builder(cfg(core)).on_message(|_, _| {}).start().unwrap();
    let c = client(&s, core);
    let waiter = std::thread::spawn(move || {
        let r = c.send_and_wait(200, b"never answered", Duration::from_secs(30));
        (r, c)
    });
    wait_until("client listed", || s.client_count() == 1);
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    drop(s);
    let (r, _c) = waiter.join().unwrap();
    assert!(matches!(r, Err(Error::Closed(_))), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A server that answers one request and closes at once: the reply and
/// the FIN reach the client together, and the read that returns the reply
/// consumes the FIN. The client must still see the end at once (not at
/// the heartbeat's dead-peer timeout, 90 s in balanced mode).
fn answer_once_then_close() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let hello = Frame::new(
            types::HELLO,
            RequestId::from(9),
            handshake::encode_hello(veltix::PROTOCOL_VERSION),
        );
        s.write_all(&hello.encode().unwrap()).unwrap();
        let mut r = FrameReader::new(s.try_clone().unwrap(), 1 << 20);
        while let Some(Ok(f)) = r.next() {
            if f.type_code == types::HELLO_ACK || f.type_code == types::HELLO {
                continue;
            }
            let reply = Frame::new(f.type_code, f.request_id, b"last words".to_vec());
            s.write_all(&reply.encode().unwrap()).unwrap();
            s.shutdown(std::net::Shutdown::Both).unwrap();
            return;
        }
    });
    addr
}

pub fn a_reply_followed_at_once_by_the_close_ends_the_client_at_once(core: CoreKind) {
    for _ in 0..5 {
        let addr = answer_once_then_close();
        let (tx, rx) = mpsc::channel();
        let c = Client::builder(ccfg(addr.to_string(), core))
            .on_disconnect(move |st| {
                let _ = tx.send(st.clone());
            })
            .connect()
            .unwrap();
        let reply = c.send_and_wait(200, b"anything", T).unwrap();
        assert_eq!(reply.payload, b"last words");
        let st = rx.recv_timeout(T).expect("the close was not seen");
        assert!(!c.is_connected(), "{st:?}");
    }
}

pub fn messages_pushed_while_a_request_waits_are_delivered_at_once(core: CoreKind) {
    // While a requester waits, arrivals are its to read (the core leaves
    // them to it): pushed messages must still reach on_message promptly.
    let s = Server::builder(cfg(core))
        .on_message(|p, f| {
            let (p, f) = (p.clone(), f.clone());
            std::thread::spawn(move || {
                for i in 0..100u32 {
                    let _ = p.send(201, &i.to_be_bytes());
                }
                std::thread::sleep(Duration::from_millis(300));
                let _ = p.reply(&f, b"done");
            });
        })
        .start()
        .unwrap();
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    let c = Client::builder(ccfg(s.local_addr().to_string(), core))
        .on_message(move |_, f| {
            if f.type_code == 201 {
                g.fetch_add(1, Ordering::SeqCst);
            }
        })
        .connect()
        .unwrap();
    let reply = c.send_and_wait(200, b"slow", T).unwrap();
    assert_eq!(reply.payload, b"done");
    assert_eq!(got.load(Ordering::SeqCst), 100, "pushed messages waited for the reply");
    // And after it, the core reads again.
    c.send(200, b"again").unwrap();
    wait_until("pushes after the request", || got.load(Ordering::SeqCst) == 200);
}

pub fn without_workers_callbacks_run_in_order_and_refuse_to_wait(core: CoreKind) {
    // max_workers 0: callbacks run on the reading thread, in order; one
    // that tries to wait for a reply gets an error at once, not a deadlock.
    let waited = Arc::new(Mutex::new(Vec::new()));
    let w = waited.clone();
    let mut sc = cfg(core);
    sc.conn.max_workers = 0;
    let s = Server::builder(sc)
        .on_message(move |p, f| {
            if f.payload == b"wait" {
                let r = p.send_and_wait(200, b"?", Duration::from_secs(10));
                w.lock().unwrap().push(matches!(r, Err(Error::InlineCallback)));
            }
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let c = Client::builder(ccfg(s.local_addr().to_string(), core).max_workers(0))
        .on_message(move |_, f| {
            let _ = tx.send(u32::from_be_bytes(f.payload[..4].try_into().unwrap()));
        })
        .connect()
        .unwrap();
    for i in 0..1000u32 {
        c.send(201, &i.to_be_bytes()).unwrap();
    }
    let got: Vec<u32> = (0..1000).map(|_| rx.recv_timeout(T).unwrap()).collect();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    let start = Instant::now();
    let reply = c.send_and_wait(200, b"wait", T).unwrap();
    assert_eq!(reply.payload, b"wait");
    assert!(start.elapsed() < Duration::from_secs(5), "the callback waited for its timeout");
    assert_eq!(*waited.lock().unwrap(), [true]);
}

pub fn shutdown_returns_and_the_port_is_reusable_at_once(core: CoreKind) {
    let s = echo_server(core);
    let port = s.local_addr().port();
    let c = client(&s, core);
    c.send(200, b"x").unwrap();
    let start = Instant::now();
    s.shutdown();
    assert!(start.elapsed() < Duration::from_secs(3));
    let s2 =
        Server::start(ServerConfig::default().core(core).host("127.0.0.1").port(port)).unwrap();
    assert_eq!(s2.local_addr().port(), port);
}

pub fn high_performance_mode_detects_a_dead_peer_and_low_does_not(core: CoreKind) {
    // A peer that completes the handshake and then never answers anything.
    fn silent_peer(mode: PerformanceMode, core: CoreKind) -> (Server, TcpStream, Receiver<String>) {
        let (tx, rx) = mpsc::channel();
        let s = Server::builder(cfg(core).performance_mode(mode))
            .on_disconnect(move |_, r| tx.send(r.message.clone()).unwrap())
            .start()
            .unwrap();
        let (mut raw, hello) = raw_peer(s.local_addr());
        ack(&mut raw, &hello, "1.6.3");
        (s, raw, rx)
    }
    let (_hs, _hraw, high) = silent_peer(PerformanceMode::High, core);
    let (_ls, _lraw, low) = silent_peer(PerformanceMode::Low, core);
    let why = high.recv_timeout(Duration::from_secs(8)).expect("HIGH noticed the dead peer");
    assert!(why.contains("presumed dead"), "{why}");
    assert!(low.try_recv().is_err(), "LOW gave up on the peer as fast as HIGH");
}

pub fn larger_buffers_take_a_burst_in_fewer_reads(core: CoreKind) {
    // 200 frames of 100 B (24.4 KB) written at once: read 1 KiB at a time
    // that takes at least 24 reads; read 1 MiB at a time, a few.
    fn reads_for(size: BufferSize, core: CoreKind) -> u64 {
        let (tx, rx) = mpsc::channel();
        let s = Server::builder(cfg(core).buffer_size(size.bytes()))
            .on_message(move |p, f| {
                if f.payload[0] == 199 {
                    tx.send(p.stats().reads).unwrap();
                }
            })
            .start()
            .unwrap();
        let (mut raw, hello) = raw_peer(s.local_addr());
        ack(&mut raw, &hello, "1.6.3");
        let mut burst = Vec::new();
        for i in 0..200u8 {
            burst.extend(Frame::new(200, RequestId::from(1), vec![i; 100]).encode().unwrap());
        }
        raw.write_all(&burst).unwrap();
        rx.recv_timeout(T).unwrap()
    }
    let small = reads_for(BufferSize::Small, core);
    let huge = reads_for(BufferSize::Huge, core);
    assert!(small >= 24, "small: {small} reads");
    assert!(huge < small, "small: {small} reads, huge: {huge} reads");
}

pub fn a_client_sending_faster_than_the_server_reads_waits_and_loses_nothing(core: CoreKind) {
    // Slow callbacks fill the server's mailbox, the server stops reading,
    // the kernel buffers fill, and the client's small outbound queue fills:
    // send must wait for room (not fail, not drop) and every message arrive.
    let got = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    let mut scfg = cfg(core);
    scfg.conn.max_pending_callbacks = 64;
    let s = Server::builder(scfg)
        .on_message(move |_, _| {
            if g.fetch_add(1, Ordering::SeqCst).is_multiple_of(500) {
                std::thread::sleep(Duration::from_millis(5));
            }
        })
        .start()
        .unwrap();
    let c = Client::connect(ccfg(s.local_addr().to_string(), core).max_outbound_bytes(64 * 1024))
        .unwrap();
    let payload = vec![7u8; 1024];
    for _ in 0..20_000 {
        c.send(200, &payload).unwrap();
    }
    wait_until("every message", || got.load(Ordering::SeqCst) == 20_000);
}

pub fn callbacks_start_while_a_stream_is_still_being_read(core: CoreKind) {
    // A client pours 8 MB of frames into the socket faster than the server
    // reads them (1 KiB reads), so the socket never runs dry until the end.
    // The first callback must run while the server is still reading, not
    // once the stream stops (the poll core used to keep the workers asleep
    // until the round of events ended: 55 ms into a burst).
    let first_seen = Arc::new(Mutex::new(None::<u64>));
    let f = first_seen.clone();
    let mut scfg = cfg(core);
    scfg.conn.buffer_size = 1024;
    scfg.conn.max_pending_callbacks = 1_000_000;
    let s = Server::builder(scfg)
        .on_message(move |p, _| {
            let mut f = f.lock().unwrap();
            if f.is_none() {
                *f = Some(p.stats().bytes_in);
            }
        })
        .start()
        .unwrap();
    // By hand, so that the frames go out at the speed of a copy: one write
    // of 8 MB, pre-encoded, after the handshake.
    let mut raw = TcpStream::connect(s.local_addr()).unwrap();
    let mut reader = FrameReader::new(raw.try_clone().unwrap(), 1 << 20);
    let hello = reader.read_frame().unwrap().unwrap();
    let ack = Frame::new(types::HELLO_ACK, hello.request_id, handshake::encode_hello("1.6.3"));
    raw.write_all(&ack.encode().unwrap()).unwrap();
    let one = Frame::new(200, RequestId::from(7), vec![5u8; 64]).encode().unwrap();
    let stream = one.repeat(8_000_000 / one.len());
    raw.write_all(&stream).unwrap();
    let total = stream.len() as u64;
    wait_until("the first callback", || first_seen.lock().unwrap().is_some());
    let seen = first_seen.lock().unwrap().unwrap();
    assert!(seen < total / 2, "first callback after {seen} of {total} bytes were read");
}

pub fn a_message_over_max_message_size_is_refused_before_sending(core: CoreKind) {
    let s = echo_server(core);
    let c = Client::connect(ccfg(s.local_addr().to_string(), core).max_message_size(1024)).unwrap();
    let big = vec![7u8; 1024 - veltix::HEADER_LEN + 1];
    match c.send(200, &big) {
        Err(Error::MessageTooLarge { size: 1025, limit: 1024 }) => {}
        other => panic!("expected MessageTooLarge, got {other:?}"),
    }
    assert!(matches!(c.send_and_wait(200, &big, T), Err(Error::MessageTooLarge { .. })));
    // Nothing was written: the connection goes on, and a frame at the
    // limit passes.
    let fits = &big[1..];
    assert_eq!(c.send_and_wait(200, fits, T).unwrap().payload, fits);
}

pub fn settings_that_cannot_work_and_a_port_in_use_are_refused_at_start(core: CoreKind) {
    match Server::start(cfg(core).protocol_version("")) {
        Err(Error::Config(m)) => assert!(m.contains("protocol_version"), "{m}"),
        other => panic!("expected a configuration error, got {:?}", other.err()),
    }
    let s = echo_server(core);
    match Server::start(cfg(core).port(s.local_addr().port())) {
        Err(Error::Bind { addr, source }) => {
            assert!(addr.ends_with(&s.local_addr().port().to_string()), "{addr}");
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("expected a bind error, got {:?}", other.err()),
    }
}

pub fn a_relay_sees_local_broadcasts_and_injects_without_echo(core: CoreKind) {
    // serve's broadcast mode: each message goes to the others.
    let s = Server::builder(cfg(core))
        .on_message(|p, f| {
            if let Some(h) = p.server() {
                let _ = h.broadcast(f.type_code, &f.payload, Some(p.id()));
            }
        })
        .start()
        .unwrap();
    let (seen_tx, seen) = mpsc::channel();
    s.set_broadcast_observer(move |b| {
        seen_tx.send((b.type_code, b.payload.to_vec(), b.except)).unwrap();
    });
    let (tx, rx) = mpsc::channel();
    let a = client(&s, core);
    let b = Client::builder(ccfg(s.local_addr().to_string(), core))
        .on_message(move |_, f| tx.send(f.payload).unwrap())
        .connect()
        .unwrap();
    wait_until("2 clients", || s.client_count() == 2);
    a.send(200, b"from a").unwrap();
    assert_eq!(rx.recv_timeout(T).unwrap(), b"from a");
    let (code, payload, except) = seen.recv_timeout(T).unwrap();
    assert_eq!((code, &payload[..]), (200, &b"from a"[..]));
    assert_eq!(except, Some(s.clients()[0].id()), "the sender is named");
    // What a relay brings in reaches the clients and is not observed.
    assert_eq!(s.relay_broadcast(201, b"from elsewhere", None).unwrap(), 2);
    assert_eq!(rx.recv_timeout(T).unwrap(), b"from elsewhere");
    assert!(seen.recv_timeout(Duration::from_millis(200)).is_err(), "a relayed broadcast echoed");
    drop(b);
}

pub fn metrics_count_what_happened(core: CoreKind) {
    let s = Server::builder(cfg(core).max_connections(Some(3)))
        .on_message(|p, f| {
            let _ = p.reply(&f, &f.payload);
        })
        .start()
        .unwrap();
    let c = client(&s, core);
    // 3 application messages out and back, 2 plugin, one ping.
    for _ in 0..3 {
        c.send_and_wait(200, b"abcd", T).unwrap();
    }
    for _ in 0..2 {
        c.send_and_wait(600, b"xy", T).unwrap();
    }
    c.ping(T).unwrap();
    // A handshake with the wrong version, and a bad CRC from an
    // established raw peer.
    let (mut bad, hello) = raw_peer(s.local_addr());
    ack(&mut bad, &hello, "9.9.9");
    read_until_closed(&mut bad);
    let (mut raw, hello) = raw_peer(s.local_addr());
    ack(&mut raw, &hello, "1.6.3");
    let mut f = Frame::new(200, RequestId::from(5), b"abc".to_vec()).encode().unwrap();
    f[22] ^= 1;
    raw.write_all(&f).unwrap();
    wait_until("the bad CRC counted", || s.metrics().dropped_bad_crc == 1);
    let m = s.metrics();
    assert_eq!(m.clients_connected, 2);
    assert_eq!(m.connections_total, 3);
    assert_eq!(m.handshake_failures.version, 1);
    let [system, application, plugin] = m.frames_received;
    assert_eq!((application, plugin), (3, 2), "{m:?}");
    // Two HELLO_ACKs counted, the wrong one included; and the PING.
    assert_eq!(system, 3 + 1, "{m:?}");
    let [sys_out, app_out, plugin_out] = m.frames_sent;
    assert_eq!((app_out, plugin_out), (3, 2), "{m:?}");
    // HELLO to each of the three, PONG, ERROR for the version and the CRC.
    assert_eq!(sys_out, 3 + 1 + 2, "{m:?}");
    assert!(m.bytes_received > 0 && m.bytes_sent > 0);
    assert_eq!((m.callback_queue_bytes, m.outbound_queue_bytes), (0, 0));
}

pub fn messages_of_one_read_go_to_callbacks_in_order_and_a_panic_loses_no_other(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let s = Server::builder(cfg(core))
        .on_message(move |_, f| {
            assert_ne!(f.payload, b"boom", "a callback that panics");
            tx.send(f.payload).unwrap();
        })
        .start()
        .unwrap();
    let (mut raw, hello) = raw_peer(s.local_addr());
    ack(&mut raw, &hello, "1.6.3");
    // One write: the server reads them in one go and hands them on as one
    // batch.
    let mut burst = Vec::new();
    for (i, p) in [&b"a"[..], b"boom", b"c", b"d"].iter().enumerate() {
        burst.extend(Frame::new(200, RequestId::from(i as u32), p.to_vec()).encode().unwrap());
    }
    raw.write_all(&burst).unwrap();
    let got: Vec<Vec<u8>> = (0..3).map(|_| rx.recv_timeout(T).unwrap()).collect();
    assert_eq!(got, [b"a".to_vec(), b"c".to_vec(), b"d".to_vec()]);
}

/// A server that records the sequence numbers (first 4 payload bytes) it
/// gets, per client, in arrival order.
fn sequence_server(core: CoreKind) -> (Server, Arc<Mutex<Vec<u32>>>) {
    let got: Arc<Mutex<Vec<u32>>> = Arc::default();
    let g = got.clone();
    let s = Server::builder(cfg(core))
        .on_message(move |_, f| {
            let n = u32::from_be_bytes(f.payload[..4].try_into().unwrap());
            g.lock().unwrap().push(n);
        })
        .start()
        .unwrap();
    (s, got)
}

pub fn a_pipeline_sends_in_order_in_few_writes_and_plain_sends_queue_behind_it(core: CoreKind) {
    let (s, got) = sequence_server(core);
    let c = client(&s, core);
    let before = c.stats().unwrap();
    let n = 20_000u32;
    let mut p = c.pipeline().unwrap();
    for i in 0..n - 1 {
        p.send(200, &i.to_be_bytes()).unwrap();
    }
    // A plain send meanwhile goes out behind what the pipeline queued,
    // not before it.
    c.send(200, &(n - 1).to_be_bytes()).unwrap();
    drop(p);
    wait_until("every message", || got.lock().unwrap().len() == n as usize);
    assert_eq!(*got.lock().unwrap(), (0..n).collect::<Vec<_>>());
    let after = c.stats().unwrap();
    assert_eq!(after.frames_out - before.frames_out, u64::from(n));
    // 20,000 frames of 26 bytes (520 KB) in writes of about 128 KiB, not
    // one write per frame.
    let writes = after.writes - before.writes;
    assert!(writes < 200, "{writes} writes for {n} pipelined frames");
}

pub fn a_pipeline_writes_once_enough_is_queued_and_the_rest_at_flush(core: CoreKind) {
    let (s, got) = sequence_server(core);
    let c = client(&s, core);
    let mut p = c.pipeline().unwrap();
    let payload = vec![0u8; 1000];
    // About 200 KB: the first 128 KiB go out without a flush.
    for i in 0..200u32 {
        let mut m = payload.clone();
        m[..4].copy_from_slice(&i.to_be_bytes());
        p.send(200, &m).unwrap();
    }
    wait_until("the first batch", || got.lock().unwrap().len() >= 100);
    std::thread::sleep(Duration::from_millis(100));
    let early = got.lock().unwrap().len();
    assert!(early < 200, "all {early} arrived before the flush");
    p.flush().unwrap();
    wait_until("the rest after the flush", || got.lock().unwrap().len() == 200);
    assert_eq!(*got.lock().unwrap(), (0..200).collect::<Vec<_>>());
}

pub fn a_pipeline_over_a_small_outbound_limit_waits_for_room_and_loses_nothing(core: CoreKind) {
    // The queue limit (4 KiB) is below the batch size: queued bytes must
    // be written by the sender that waits for room, not wait forever.
    let (s, got) = sequence_server(core);
    let c =
        Client::connect(ccfg(s.local_addr().to_string(), core).max_outbound_bytes(4096)).unwrap();
    let mut p = c.pipeline().unwrap();
    let mut m = vec![1u8; 300];
    for i in 0..5_000u32 {
        m[..4].copy_from_slice(&i.to_be_bytes());
        p.send(200, &m).unwrap();
    }
    p.flush().unwrap();
    wait_until("every message", || got.lock().unwrap().len() == 5_000);
    assert_eq!(*got.lock().unwrap(), (0..5_000).collect::<Vec<_>>());
}

pub fn concurrent_senders_on_one_connection_keep_each_order_and_share_writes(core: CoreKind) {
    concurrent_senders(core, false);
}

pub fn concurrent_senders_keep_order_once_the_core_has_drained_a_full_buffer(core: CoreKind) {
    // First fill the kernel's buffer so that the core's drain (the threads
    // core's writer thread) exists and sleeps; then senders that write
    // themselves must not have it write the same queue alongside them.
    concurrent_senders(core, true);
}

fn concurrent_senders(core: CoreKind, drained_first: bool) {
    let got: Arc<Mutex<std::collections::HashMap<u32, Vec<u32>>>> = Arc::default();
    let g = got.clone();
    let s = Server::builder(cfg(core))
        .on_message(move |_, f| {
            if f.type_code != 200 {
                return;
            }
            let t = u32::from_be_bytes(f.payload[..4].try_into().unwrap());
            let n = u32::from_be_bytes(f.payload[4..8].try_into().unwrap());
            g.lock().unwrap().entry(t).or_default().push(n);
        })
        .start()
        .unwrap();
    let c = Arc::new(client(&s, core));
    if drained_first {
        let big = vec![0u8; 1 << 20];
        for _ in 0..16 {
            c.send(201, &big).unwrap();
        }
        wait_until("the big messages written", || c.stats().unwrap().bytes_out >= 16 << 20);
    }
    let before = c.stats().unwrap();
    let (threads, each) = (4u32, 20_000u32);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut m = [0u8; 64];
                m[..4].copy_from_slice(&t.to_be_bytes());
                for i in 0..each {
                    m[4..8].copy_from_slice(&i.to_be_bytes());
                    c.send(200, &m).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let total = (threads * each) as usize;
    wait_until("every message", || {
        got.lock().unwrap().values().map(Vec::len).sum::<usize>() == total
    });
    for seq in got.lock().unwrap().values() {
        assert_eq!(*seq, (0..each).collect::<Vec<_>>());
    }
    let after = c.stats().unwrap();
    assert_eq!(after.frames_out - before.frames_out, total as u64);
    let writes = after.writes - before.writes;
    eprintln!("{writes} writes for {total} frames from {threads} threads");
    assert!(writes < total as u64, "no send was batched with another");
}

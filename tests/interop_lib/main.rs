//! The library against the real reference, Python veltix 1.6.3, over TCP
//! on loopback, both ways: a Rust [`Server`] with reference clients
//! (`tests/py/ref_client.py`) and Rust [`Client`]s with a reference server
//! (`tests/py/ref_server.py`). The scripts take one JSON command per line
//! and answer with one JSON line; they use the reference's own `Client`,
//! `Server`, `send_and_wait`, `ping_*`, routes and broadcast.
//!
//! Python peers only accept type codes registered in their process, so the
//! scripts get `--register` for every application type they receive.

#[path = "../common/mod.rs"]
mod common;

mod tls;

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::hex::{hex, unhex};
use common::random_bytes;
use common::ref_peer::{field, Py};
use serde_json::json;
use veltix::{Client, ClientConfig, Frame, Peer, Server, ServerBuilder, ServerConfig};

/// Timeout of every request, ping and wait.
const T: Duration = Duration::from_secs(5);

/// Payload sizes that must survive the trip intact, CRC checked by both.
const SIZES: [usize; 4] = [0, 1, 64 * 1024, 1024 * 1024];

/// Type codes the tests use (registered in the scripts as needed).
const ECHO: u16 = 200;
const ASK: u16 = 201;
const NEWS: u16 = 202;
const ROUTED: u16 = 300;

/// The next frame from a callback's channel, within the deadline.
fn next<T>(rx: &Receiver<T>, what: &str) -> T {
    rx.recv_timeout(T).unwrap_or_else(|e| panic!("{what}: nothing within {T:?} ({e})"))
}

// ---------------------------------------------------------------------------
// A Rust server and reference clients

fn rust_server(setup: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Server {
    setup(Server::builder(ServerConfig::default().host("127.0.0.1").port(0)))
        .start()
        .expect("start the Rust server")
}

/// A Rust server that records each message it gets and echoes it back
/// (same type, payload and request id).
fn rust_echo_server() -> (Server, Receiver<Frame>) {
    let (tx, rx) = mpsc::channel();
    let server = rust_server(|b| {
        b.on_message(move |peer, frame| {
            peer.reply(&frame, &frame.payload).expect("echo");
            let _ = tx.send(frame);
        })
    });
    (server, rx)
}

/// The server's view of a reference client, once its handshake is done
/// (the reference's connect() returns when it has sent HELLO_ACK; the
/// server completes on receiving it, a moment later).
fn peer_of(server: &Server, py: &Py) -> Peer {
    let deadline = Instant::now() + T;
    loop {
        if let Some(p) = server.clients().into_iter().find(|p| p.addr().port() == py.port) {
            return p;
        }
        assert!(Instant::now() < deadline, "{} never became a client of the server", py.name);
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn python_client_completes_the_handshake_with_a_rust_server() {
    let (tx, rx) = mpsc::channel();
    let server = rust_server(|b| {
        b.on_connect(move |peer| {
            let _ = tx.send((peer.addr(), peer.peer_version()));
        })
    });
    // READY means the reference's connect() returned True: it accepted our
    // HELLO (version 1.6.3) and sent its HELLO_ACK.
    let py = Py::client(server.local_addr().port(), &[]);
    let (addr, version) = next(&rx, "on_connect");
    assert_eq!(addr.port(), py.port);
    assert_eq!(version.as_deref(), Some("1.6.3"));
    assert_eq!(server.client_count(), 1);
}

#[test]
fn python_client_pings_a_rust_server() {
    let server = rust_server(|b| b);
    let mut py = Py::client(server.local_addr().port(), &[]);
    for _ in 0..3 {
        let r = py.cmd(json!({"op": "ping"}));
        // The reference measures in whole milliseconds.
        let ms = r["latency_ms"].as_i64().unwrap_or_else(|| panic!("latency: {r}"));
        assert!((0..5_000).contains(&ms), "{r}");
    }
}

#[test]
fn rust_server_pings_a_python_client() {
    let server = rust_server(|b| b);
    let py = Py::client(server.local_addr().port(), &[]);
    let peer = peer_of(&server, &py);
    for _ in 0..3 {
        let rtt = server.ping(peer.id(), T).expect("a pong from the reference client");
        assert!(rtt > Duration::ZERO && rtt < T, "{rtt:?}");
    }
}

#[test]
fn python_send_and_wait_gets_the_rust_echo() {
    let (server, frames) = rust_echo_server();
    let mut py = Py::client(server.local_addr().port(), &["--register", "200=chat"]);
    let r = py.cmd(json!({"op": "send_and_wait", "type": ECHO, "hex": hex(b"Hello Server!")}));
    assert_eq!(r["type"], ECHO);
    assert_eq!(field(&r, "request_id"), field(&r, "sent_request_id"));
    assert_eq!(unhex(field(&r, "hex")), b"Hello Server!");
    // The Rust side saw the reference's frame as it was sent.
    let got = next(&frames, "on_message");
    assert_eq!(got.request_id.to_string(), field(&r, "sent_request_id"));
    assert_eq!((got.type_code, got.payload.as_slice()), (ECHO, &b"Hello Server!"[..]));
}

#[test]
fn rust_server_send_and_wait_gets_the_python_route_reply() {
    let server = rust_server(|b| b);
    let mut py = Py::client(server.local_addr().port(), &["--echo", "201"]);
    let peer = peer_of(&server, &py);
    let reply = server.send_and_wait(peer.id(), ASK, b"are you there?", T).expect("a reply");
    assert_eq!((reply.type_code, reply.payload.as_slice()), (ASK, &b"are you there?"[..]));
    // The reference's route answered the very request it received.
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!(seen["echoed"], true, "{seen}");
    assert_eq!(field(&seen, "request_id"), reply.request_id.to_string());
    assert_eq!(unhex(field(&seen, "hex")), b"are you there?");
}

#[test]
fn rust_route_takes_a_python_message_of_its_type() {
    let (route_tx, routed) = mpsc::channel();
    let (msg_tx, others) = mpsc::channel();
    let server = rust_server(|b| {
        b.route(ROUTED, move |_, frame| {
            let _ = route_tx.send(frame);
        })
        .on_message(move |_, frame| {
            let _ = msg_tx.send(frame);
        })
    });
    let mut py = Py::client(server.local_addr().port(), &[]);
    let sent = py.cmd(json!({"op": "send", "type": ROUTED, "hex": hex(b"to the route")}));
    let other = py.cmd(json!({"op": "send", "type": ECHO, "hex": hex(b"to on_message")}));

    let got = next(&routed, "the route");
    assert_eq!(got.request_id.to_string(), field(&sent, "request_id"));
    assert_eq!((got.type_code, got.payload.as_slice()), (ROUTED, &b"to the route"[..]));
    let got = next(&others, "on_message");
    assert_eq!(got.request_id.to_string(), field(&other, "request_id"));
    assert_eq!(got.type_code, ECHO);
    // Messages of one connection are dispatched in order: the route had its
    // only message before on_message had the later one.
    assert!(routed.try_recv().is_err());
}

#[test]
fn rust_broadcast_reaches_three_python_clients_but_not_the_excepted_one() {
    let server = rust_server(|b| b);
    let port = server.local_addr().port();
    let mut pys: Vec<Py> = (0..4).map(|_| Py::client(port, &["--register", "202=news"])).collect();
    let left_out = peer_of(&server, &pys[3]);
    for py in &pys[..3] {
        peer_of(&server, py);
    }
    assert_eq!(server.broadcast(NEWS, b"extra! extra!", Some(left_out.id())).unwrap(), 3);
    assert_eq!(server.broadcast(NEWS, b"the end", None).unwrap(), 4);
    for (i, py) in pys.iter_mut().enumerate() {
        let first = py.cmd(json!({"op": "recv"}));
        assert_eq!(first["type"], NEWS);
        if i < 3 {
            assert_eq!(unhex(field(&first, "hex")), b"extra! extra!", "client {i}");
            let second = py.cmd(json!({"op": "recv"}));
            assert_eq!(unhex(field(&second, "hex")), b"the end", "client {i}");
        } else {
            // Frames of one connection arrive in order, so the left-out
            // client's first message is the later broadcast.
            assert_eq!(unhex(field(&first, "hex")), b"the end", "the excepted client");
        }
    }
}

#[test]
fn binary_payloads_round_trip_between_a_rust_server_and_a_python_client() {
    let (server, frames) = rust_echo_server();
    let mut py =
        Py::client(server.local_addr().port(), &["--register", "200=chat", "--echo", "201"]);
    let peer = peer_of(&server, &py);
    for (i, size) in SIZES.into_iter().enumerate() {
        // The reference sends, Rust checks and echoes, the reference checks.
        let data = random_bytes(size, 2 * i as u64 + 1);
        let r = py.cmd(json!({"op": "send_and_wait", "type": ECHO, "hex": hex(&data)}));
        assert_eq!(field(&r, "request_id"), field(&r, "sent_request_id"), "{size} B");
        assert!(unhex(field(&r, "hex")) == data, "{size} B: the echo differs");
        let got = next(&frames, "on_message");
        assert_eq!(got.request_id.to_string(), field(&r, "sent_request_id"));
        assert!(got.payload == data, "{size} B: the Rust server got different bytes");

        // Rust sends, the reference checks and echoes, Rust checks.
        let data = random_bytes(size, 2 * i as u64 + 2);
        let reply = server.send_and_wait(peer.id(), ASK, &data, T).expect("a reply");
        assert!(reply.payload == data, "{size} B: the reference's echo differs");
        let seen = py.cmd(json!({"op": "recv"}));
        assert_eq!(field(&seen, "request_id"), reply.request_id.to_string());
        assert!(unhex(field(&seen, "hex")) == data, "{size} B: the reference got other bytes");
    }
}

// ---------------------------------------------------------------------------
// A reference server and Rust clients

fn rust_client(py: &Py) -> Client {
    Client::connect(ClientConfig::new(format!("127.0.0.1:{}", py.port)))
        .expect("connect to the reference server")
}

#[test]
fn rust_client_connects_to_a_python_server() {
    let mut py = Py::server(&[]);
    let client = rust_client(&py);
    assert!(client.is_connected());
    let version = client.peer().and_then(|p| p.peer_version());
    assert_eq!(version.as_deref(), Some("1.6.3"));
    // The reference server completed its side (its on_connect fired).
    let r = py.cmd(json!({"op": "wait_clients", "n": 1}));
    assert_eq!(r["clients"].as_array().map(Vec::len), Some(1), "{r}");
}

#[test]
fn rust_client_pings_a_python_server() {
    let py = Py::server(&[]);
    let client = rust_client(&py);
    for _ in 0..3 {
        let rtt = client.ping(T).expect("a pong from the reference server");
        assert!(rtt > Duration::ZERO && rtt < T, "{rtt:?}");
    }
}

#[test]
fn python_server_answers_rust_send_and_wait() {
    let mut py = Py::server(&["--echo", "--register", "200=chat"]);
    let client = rust_client(&py);
    let reply = client.send_and_wait(ECHO, b"Hello Server!", T).expect("a reply");
    assert_eq!((reply.type_code, reply.payload.as_slice()), (ECHO, &b"Hello Server!"[..]));
    // The reply carries the id of the request the reference received.
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!(field(&seen, "request_id"), reply.request_id.to_string());
    assert_eq!(unhex(field(&seen, "hex")), b"Hello Server!");
}

#[test]
fn python_server_pings_a_rust_client() {
    let mut py = Py::server(&[]);
    let _client = rust_client(&py);
    py.cmd(json!({"op": "wait_clients", "n": 1}));
    for _ in 0..3 {
        let r = py.cmd(json!({"op": "ping_client", "client": 0}));
        let ms = r["latency_ms"].as_i64().unwrap_or_else(|| panic!("latency: {r}"));
        assert!((0..5_000).contains(&ms), "{r}");
    }
}

#[test]
fn python_server_send_and_wait_gets_the_rust_route_reply() {
    let mut py = Py::server(&["--register", "201=ask"]);
    let (tx, asked) = mpsc::channel();
    let _client = Client::builder(ClientConfig::new(format!("127.0.0.1:{}", py.port)))
        .route(ASK, move |peer, frame| {
            let mut answer = b"rust says: ".to_vec();
            answer.extend_from_slice(&frame.payload);
            peer.reply(&frame, &answer).expect("reply");
            let _ = tx.send(frame);
        })
        .connect()
        .expect("connect to the reference server");
    py.cmd(json!({"op": "wait_clients", "n": 1}));
    let r = py.cmd(json!({"op": "send_and_wait", "client": 0, "type": ASK, "hex": hex(b"hi")}));
    assert_eq!(r["type"], ASK);
    assert_eq!(field(&r, "request_id"), field(&r, "sent_request_id"));
    assert_eq!(unhex(field(&r, "hex")), b"rust says: hi");
    let got = next(&asked, "the route");
    assert_eq!(got.request_id.to_string(), field(&r, "sent_request_id"));
    assert_eq!(got.payload, b"hi");
}

#[test]
fn binary_payloads_round_trip_between_a_python_server_and_a_rust_client() {
    let mut py = Py::server(&["--echo", "--register", "200=chat", "--register", "201=ask"]);
    let (tx, asked) = mpsc::channel();
    let client = Client::builder(ClientConfig::new(format!("127.0.0.1:{}", py.port)))
        .route(ASK, move |peer, frame| {
            peer.reply(&frame, &frame.payload).expect("echo");
            let _ = tx.send(frame);
        })
        .connect()
        .expect("connect to the reference server");
    py.cmd(json!({"op": "wait_clients", "n": 1}));
    for (i, size) in SIZES.into_iter().enumerate() {
        // Rust sends, the reference checks and echoes, Rust checks.
        let data = random_bytes(size, 2 * i as u64 + 11);
        let reply = client.send_and_wait(ECHO, &data, T).expect("a reply");
        assert!(reply.payload == data, "{size} B: the reference's echo differs");
        let seen = py.cmd(json!({"op": "recv"}));
        assert_eq!(field(&seen, "request_id"), reply.request_id.to_string());
        assert!(unhex(field(&seen, "hex")) == data, "{size} B: the reference got other bytes");

        // The reference sends, Rust checks and echoes, the reference checks.
        let data = random_bytes(size, 2 * i as u64 + 12);
        let r = py.cmd(json!({"op": "send_and_wait", "client": 0, "type": ASK, "hex": hex(&data)}));
        assert_eq!(field(&r, "request_id"), field(&r, "sent_request_id"), "{size} B");
        assert!(unhex(field(&r, "hex")) == data, "{size} B: the Rust echo differs");
        let got = next(&asked, "the route");
        assert!(got.payload == data, "{size} B: the Rust client got different bytes");
    }
}

#[test]
fn python_server_broadcast_reaches_rust_clients() {
    let mut py = Py::server(&["--register", "202=news"]);
    let (tx, inbox) = mpsc::channel::<(usize, Vec<u8>)>();
    let mut clients = vec![];
    // One at a time, so the reference numbers them in this order.
    for i in 0..3 {
        let tx = tx.clone();
        let client = Client::builder(ClientConfig::new(format!("127.0.0.1:{}", py.port)))
            .on_message(move |_, frame| {
                assert_eq!(frame.type_code, NEWS);
                let _ = tx.send((i, frame.payload));
            })
            .connect()
            .expect("connect to the reference server");
        clients.push(client);
        py.cmd(json!({"op": "wait_clients", "n": i + 1}));
    }
    let r = py.cmd(json!({"op": "broadcast", "type": NEWS, "hex": hex(b"extra!"), "except": [1]}));
    assert_eq!(r["sent_to"], 2);
    let r = py.cmd(json!({"op": "broadcast", "type": NEWS, "hex": hex(b"the end")}));
    assert_eq!(r["sent_to"], 3);

    let mut got: Vec<Vec<Vec<u8>>> = vec![vec![]; 3];
    for _ in 0..5 {
        let (i, payload) = next(&inbox, "a broadcast");
        got[i].push(payload);
    }
    // Each client's messages arrive in order; client 1 was left out once.
    assert_eq!(got[0], [b"extra!".to_vec(), b"the end".to_vec()]);
    assert_eq!(got[1], [b"the end".to_vec()]);
    assert_eq!(got[2], [b"extra!".to_vec(), b"the end".to_vec()]);
}

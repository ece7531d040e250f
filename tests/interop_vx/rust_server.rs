//! A Rust server speaking VX, with 3.3.0 clients (`vx_client.py`).

use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::json;
use veltix::{CoreKind, Frame, Server, ServerBuilder, ServerConfig, Wire, WireMode};

use crate::common::hex::{hex, unhex};
use crate::common::python;
use crate::common::ref_peer::{field, Py};
use crate::{assert_latency, next, num, random_bytes, ASK, ECHO, NEWS, SIZES, T};

crate::on_both_cores!(
    a_vx_client_completes_the_handshake,
    a_vx_client_pings_us_and_we_ping_it,
    payloads_of_every_size_round_trip_both_ways,
    our_send_and_wait_gets_the_vx_route_reply,
    broadcast_reaches_three_vx_clients_but_not_the_excepted_one,
    a_vx_client_of_another_major_pv_is_refused_and_a_newer_minor_accepted,
    a_vx_client_over_max_connections_gets_server_full,
);

fn config(core: CoreKind) -> ServerConfig {
    ServerConfig::default().host("127.0.0.1").port(0).wire(WireMode::Vx).core(core)
}

fn rust_server(cfg: ServerConfig, setup: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Server {
    setup(Server::builder(cfg)).start().expect("start the Rust VX server")
}

/// A VX server that records each message it gets and echoes it back (same
/// type, payload and request id).
fn echo_server(core: CoreKind) -> (Server, Receiver<Frame>) {
    let (tx, rx) = mpsc::channel();
    let server = rust_server(config(core), |b| {
        b.on_message(move |peer, frame| {
            peer.reply(&frame, &frame.payload).expect("echo");
            let _ = tx.send(frame);
        })
    });
    (server, rx)
}

fn a_vx_client_completes_the_handshake(core: CoreKind) {
    let (tx, rx) = mpsc::channel();
    let server = rust_server(config(core), |b| {
        b.on_connect(move |peer| {
            let _ = tx.send((peer.addr(), peer.wire(), peer.peer_version()));
        })
    });
    // READY means 3.3.0's connect() returned True: it took our hello and
    // our {"result": "ok"}.
    let py = Py::vx_client(server.local_addr().port(), &[]);
    let (addr, wire, version) = next(&rx, "on_connect");
    assert_eq!(addr.port(), py.port);
    assert_eq!(wire, Wire::Vx);
    assert_eq!(version.as_deref(), Some("3.3.0"));
    assert_eq!(server.client_count(), 1);
}

fn a_vx_client_pings_us_and_we_ping_it(core: CoreKind) {
    let server = rust_server(config(core), |b| b);
    let mut py = Py::vx_client(server.local_addr().port(), &[]);
    let peer = py.peer_in(&server);
    for _ in 0..3 {
        assert_latency(&py.cmd(json!({"op": "ping"})));
        let rtt = server.ping(peer.id(), T).expect("a pong from the 3.3.0 client");
        assert!(rtt > Duration::ZERO && rtt < T, "{rtt:?}");
    }
}

fn payloads_of_every_size_round_trip_both_ways(core: CoreKind) {
    let (server, frames) = echo_server(core);
    let mut py = Py::vx_client(server.local_addr().port(), &["--echo", "201"]);
    let peer = py.peer_in(&server);
    for (i, size) in SIZES.into_iter().enumerate() {
        // 3.3.0 sends, Rust checks and echoes, 3.3.0 checks.
        let data = random_bytes(size, 2 * i as u64 + 1);
        let r = py.cmd(json!({"op": "send_and_wait", "type": ECHO, "hex": hex(&data)}));
        assert_eq!(r["type"], ECHO, "{size} B");
        assert_eq!(num(&r, "request_id"), num(&r, "sent_request_id"), "{size} B");
        assert!(unhex(field(&r, "hex")) == data, "{size} B: the echo differs");
        let got = next(&frames, "on_message");
        assert_eq!(u64::from(got.request_id.as_u32()), num(&r, "sent_request_id"));
        assert!(got.payload == data, "{size} B: the Rust server got different bytes");

        // Rust sends, 3.3.0's route checks and echoes, Rust checks.
        let data = random_bytes(size, 2 * i as u64 + 2);
        let reply = server.send_and_wait(peer.id(), ASK, &data, T).expect("a reply");
        assert_eq!(reply.type_code, ASK);
        assert!(reply.payload == data, "{size} B: the 3.3.0 echo differs");
        let seen = py.cmd(json!({"op": "recv"}));
        assert_eq!(num(&seen, "request_id"), u64::from(reply.request_id.as_u32()));
        assert!(unhex(field(&seen, "hex")) == data, "{size} B: 3.3.0 got other bytes");
    }
}

fn our_send_and_wait_gets_the_vx_route_reply(core: CoreKind) {
    let server = rust_server(config(core), |b| b);
    let mut py = Py::vx_client(server.local_addr().port(), &["--echo", "201"]);
    let peer = py.peer_in(&server);
    let mut ids = vec![];
    for _ in 0..3 {
        let reply = server.send_and_wait(peer.id(), ASK, b"are you there?", T).expect("reply");
        assert_eq!((reply.type_code, reply.payload.as_slice()), (ASK, &b"are you there?"[..]));
        // The route answered the very request it received.
        let seen = py.cmd(json!({"op": "recv"}));
        assert_eq!(seen["echoed"], true, "{seen}");
        assert_eq!(num(&seen, "request_id"), u64::from(reply.request_id.as_u32()));
        ids.push(reply.request_id.as_u32());
    }
    // A VX server's ids are its half of the 16-bit space, as 3.3.0's are.
    assert!(ids.iter().all(|id| (32768..65536).contains(id)), "{ids:?}");
}

fn broadcast_reaches_three_vx_clients_but_not_the_excepted_one(core: CoreKind) {
    let server = rust_server(config(core), |b| b);
    let port = server.local_addr().port();
    // Started side by side: each 3.3.0 start takes most of a second.
    let mut pys: Vec<Py> = std::thread::scope(|s| {
        let starts: Vec<_> =
            (0..4).map(|_| s.spawn(move || Py::vx_client(port, &["--register", "202"]))).collect();
        starts.into_iter().map(|h| h.join().expect("start a 3.3.0 client")).collect()
    });
    let left_out = pys[3].peer_in(&server);
    for py in &mut pys[..3] {
        py.peer_in(&server);
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

fn a_vx_client_of_another_major_pv_is_refused_and_a_newer_minor_accepted(core: CoreKind) {
    let (tx, connects) = mpsc::channel();
    let server = rust_server(config(core), |b| {
        b.on_connect(move |peer| {
            let _ = tx.send(peer.peer_version());
        })
    });
    let port = server.local_addr().port().to_string();
    // pv 2.0 (the client still takes our 1.0): we close without an answer,
    // so 3.3.0's connect() fails (exit 2).
    let args = ["127.0.0.1".to_string(), port, "--announce-pv".into(), "2.0".into()];
    let (first, status) = Py::start_refused(&python::V3_3_0, "vx_client.py", &args);
    assert_eq!((first.as_str(), status.code()), ("FAILED", Some(2)));
    assert!(connects.try_recv().is_err(), "on_connect fired for a refused client");
    // pv 1.9: the minor is not checked (as 3.3.0 does), and v is only shown.
    let mut py = Py::vx_client(server.local_addr().port(), &["--pv", "1.9", "--version", "9.9.9"]);
    assert_eq!(next(&connects, "on_connect").as_deref(), Some("9.9.9"));
    assert_latency(&py.cmd(json!({"op": "ping"})));
}

fn a_vx_client_over_max_connections_gets_server_full(core: CoreKind) {
    let server = rust_server(config(core).max_connections(Some(1)), |b| b);
    let port = server.local_addr().port();
    let mut first = Py::vx_client(port, &[]);
    first.peer_in(&server);
    let args = ["127.0.0.1".to_string(), port.to_string()];
    let (line, status) = Py::start_refused(&python::V3_3_0, "vx_client.py", &args);
    // 3.3.0 raised ServerFullError("server_full").
    assert_eq!((line.as_str(), status.code()), ("REJECTED server_full", Some(3)));
    // The client inside the limit is unaffected.
    assert_latency(&first.cmd(json!({"op": "ping"})));
    assert_eq!(server.client_count(), 1);
}

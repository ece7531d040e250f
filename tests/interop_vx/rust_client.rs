//! A 3.3.0 server (`vx_server.py`) with Rust clients that detect its
//! profile (`WireMode::Auto`, the default) or are told it (`WireMode::Vx`).

use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use veltix::{Client, ClientBuilder, ClientConfig, CoreKind, Error, Wire, WireMode};

use crate::common::hex::{hex, unhex};
use crate::common::ref_peer::{field, Py};
use crate::{assert_latency, next, num, random_bytes, ASK, ECHO, NEWS, ROUTED, SIZES, T};

crate::on_both_cores!(
    detects_the_vx_profile_or_is_told_it,
    pings_both_ways,
    payloads_of_every_size_round_trip_both_ways,
    a_vx_route_answers_its_type_and_on_recv_the_others,
    receives_the_vx_servers_broadcasts_but_not_when_excepted,
    a_vx_server_of_another_major_pv_is_a_handshake_error,
    a_full_vx_server_is_refused_with_its_reason,
);

fn config(py: &Py, core: CoreKind, wire: WireMode) -> ClientConfig {
    ClientConfig::new(format!("127.0.0.1:{}", py.port)).core(core).wire(wire)
}

fn builder(py: &Py, core: CoreKind) -> ClientBuilder {
    Client::builder(config(py, core, WireMode::Auto))
}

/// The error of a connect that must fail.
fn connect_err(cfg: ClientConfig, what: &str) -> Error {
    match Client::connect(cfg) {
        Ok(_) => panic!("{what}: the connect succeeded"),
        Err(e) => e,
    }
}

fn connect(py: &Py, core: CoreKind) -> Client {
    builder(py, core).connect().expect("connect to the 3.3.0 server")
}

fn detects_the_vx_profile_or_is_told_it(core: CoreKind) {
    let mut py = Py::vx_server(&[]);
    let mut clients = vec![];
    for (n, wire) in [(1, WireMode::Auto), (2, WireMode::Vx)] {
        clients.push(Client::connect(config(&py, core, wire)).expect("connect"));
        let client = &clients[n - 1];
        let peer = client.peer().expect("connected");
        assert_eq!(peer.wire(), Wire::Vx, "{wire:?}");
        assert_eq!(peer.peer_version().as_deref(), Some("3.3.0"), "{wire:?}");
        // 3.3.0 completed its side (its on_connect fired).
        let r = py.cmd(json!({"op": "wait_clients", "n": n}));
        assert_eq!(r["clients"].as_array().map(Vec::len), Some(n), "{r}");
        // Frames flow: the profile was not only announced but spoken.
        let rtt = client.ping(T).expect("a pong");
        assert!(rtt < T, "{rtt:?}");
    }
    // Told 1.6.3, a client does not mistake 3.3.0 for it.
    let told = config(&py, core, WireMode::V1_6).handshake_timeout(Duration::from_secs(2));
    let err = connect_err(told, "a 1.6.3 client");
    assert!(err.is_connect_failure() || matches!(err, Error::Timeout { .. }), "{err:?}");
}

fn pings_both_ways(core: CoreKind) {
    let mut py = Py::vx_server(&[]);
    let client = connect(&py, core);
    py.cmd(json!({"op": "wait_clients", "n": 1}));
    for _ in 0..3 {
        let rtt = client.ping(T).expect("a pong from the 3.3.0 server");
        assert!(rtt > Duration::ZERO && rtt < T, "{rtt:?}");
        assert_latency(&py.cmd(json!({"op": "ping_client", "client": 0})));
    }
}

fn payloads_of_every_size_round_trip_both_ways(core: CoreKind) {
    let mut py = Py::vx_server(&["--mode", "echo", "--register", "200", "--register", "201"]);
    let (tx, asked) = mpsc::channel();
    let client = builder(&py, core)
        .route(ASK, move |peer, frame| {
            peer.reply(&frame, &frame.payload).expect("echo");
            let _ = tx.send(frame);
        })
        .connect()
        .expect("connect to the 3.3.0 server");
    py.cmd(json!({"op": "wait_clients", "n": 1}));
    for (i, size) in SIZES.into_iter().enumerate() {
        // Rust sends, 3.3.0 checks and echoes, Rust checks.
        let data = random_bytes(size, 2 * i as u64 + 11);
        let reply = client.send_and_wait(ECHO, &data, T).expect("a reply");
        assert_eq!(reply.type_code, ECHO);
        assert!(reply.payload == data, "{size} B: the 3.3.0 echo differs");
        let seen = py.cmd(json!({"op": "recv"}));
        assert_eq!(num(&seen, "request_id"), u64::from(reply.request_id.as_u32()));
        assert!(unhex(field(&seen, "hex")) == data, "{size} B: 3.3.0 got other bytes");

        // 3.3.0 sends, Rust checks and echoes, 3.3.0 checks.
        let data = random_bytes(size, 2 * i as u64 + 12);
        let r = py.cmd(json!({"op": "send_and_wait", "client": 0, "type": ASK, "hex": hex(&data)}));
        assert_eq!(num(&r, "request_id"), num(&r, "sent_request_id"), "{size} B");
        assert!(unhex(field(&r, "hex")) == data, "{size} B: the Rust echo differs");
        let got = next(&asked, "the route");
        assert_eq!(u64::from(got.request_id.as_u32()), num(&r, "sent_request_id"));
        assert!(got.payload == data, "{size} B: the Rust client got different bytes");
    }
}

fn a_vx_route_answers_its_type_and_on_recv_the_others(core: CoreKind) {
    let mut py = Py::vx_server(&["--route", "300", "--register", "200"]);
    let client = connect(&py, core);
    let reply = client.send_and_wait(ROUTED, b"to the route", T).expect("the route's reply");
    assert_eq!((reply.type_code, reply.payload.as_slice()), (ROUTED, &b"route:to the route"[..]));
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!((&seen["route"], &seen["type"]), (&json!(true), &json!(ROUTED)), "{seen}");
    assert_eq!(num(&seen, "request_id"), u64::from(reply.request_id.as_u32()));
    // Another type goes to on_recv, not to the route (and is not answered).
    let id = client.send(ECHO, b"to on_recv").expect("send");
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!((&seen["route"], &seen["type"]), (&json!(false), &json!(ECHO)), "{seen}");
    assert_eq!(num(&seen, "request_id"), u64::from(id.as_u32()));
    assert_eq!(unhex(field(&seen, "hex")), b"to on_recv");
}

fn receives_the_vx_servers_broadcasts_but_not_when_excepted(core: CoreKind) {
    let mut py = Py::vx_server(&["--register", "202"]);
    let (tx, inbox) = mpsc::channel::<(usize, u16, Vec<u8>)>();
    let mut clients = vec![];
    // One at a time, so 3.3.0 numbers them in this order.
    for i in 0..3 {
        let tx = tx.clone();
        let client = builder(&py, core)
            .on_message(move |_, frame| {
                let _ = tx.send((i, frame.type_code, frame.payload));
            })
            .connect()
            .expect("connect to the 3.3.0 server");
        clients.push(client);
        py.cmd(json!({"op": "wait_clients", "n": i + 1}));
    }
    let r = py.cmd(json!({"op": "broadcast", "type": NEWS, "hex": hex(b"extra!"), "except": [1]}));
    assert_eq!(r["sent_to"], 2);
    let r = py.cmd(json!({"op": "broadcast", "type": NEWS, "hex": hex(b"the end")}));
    assert_eq!(r["sent_to"], 3);

    let mut got: Vec<Vec<Vec<u8>>> = vec![vec![]; 3];
    for _ in 0..5 {
        let (i, type_code, payload) = next(&inbox, "a broadcast");
        assert_eq!(type_code, NEWS);
        got[i].push(payload);
    }
    // Each client's messages arrive in order; client 1 was left out once.
    assert_eq!(got[0], [b"extra!".to_vec(), b"the end".to_vec()]);
    assert_eq!(got[1], [b"the end".to_vec()]);
    assert_eq!(got[2], [b"extra!".to_vec(), b"the end".to_vec()]);
}

fn a_vx_server_of_another_major_pv_is_a_handshake_error(core: CoreKind) {
    // It announces pv 2.0 (and would take our 1.0): we refuse it.
    let mut py = Py::vx_server(&["--announce-pv", "2.0"]);
    for wire in [WireMode::Auto, WireMode::Vx] {
        let err = connect_err(config(&py, core, wire), "a pv 2.0 server");
        assert!(matches!(err, Error::Handshake(_)), "{wire:?}: {err:?}");
        assert!(err.to_string().contains("2.0"), "{wire:?}: {err}");
    }
    let r = py.cmd(json!({"op": "clients"}));
    assert_eq!(r["clients"], json!([]), "3.3.0 saw a handshake complete: {r}");
    // A server announcing 1.9 is the same major: accepted.
    let py = Py::vx_server(&["--announce-pv", "1.9", "--version", "9.9.9"]);
    let client = Client::connect(config(&py, core, WireMode::Auto)).expect("a pv 1.9 server");
    assert_eq!(client.peer().and_then(|p| p.peer_version()).as_deref(), Some("9.9.9"));
}

fn a_full_vx_server_is_refused_with_its_reason(core: CoreKind) {
    let mut py = Py::vx_server(&["--max-connections", "1"]);
    let first = connect(&py, core);
    py.cmd(json!({"op": "wait_clients", "n": 1}));
    for wire in [WireMode::Auto, WireMode::Vx] {
        let err = connect_err(config(&py, core, wire), "a full server");
        assert!(matches!(&err, Error::Refused(why) if why == "server_full"), "{wire:?}: {err:?}");
    }
    // The client inside the limit is unaffected.
    first.ping(T).expect("a pong for the first client");
}

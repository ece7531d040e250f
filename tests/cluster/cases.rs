//! What the relay promises: every message reaches every other client once
//! (on any node) while Redis is healthy; an outage loses cross-node copies
//! only while it lasts, never local ones; relaying resumes by itself.

use std::collections::BTreeMap;

use serde_json::json;

use crate::common::bin::{code, run, stderr, veltix};
use crate::common::hex::{hex, unhex};
use crate::common::ref_peer::{field, Py};
use crate::node::Node;
use crate::redis::Redis;

const CHAT: u16 = 200;

/// How long a client waits to be sure nothing more is coming.
const QUIET: f64 = 0.5;

fn chat_client(node: &Node) -> Py {
    Py::client(node.port, &["--register", "200=chat"])
}

fn say(client: &mut Py, text: &str) {
    client.cmd(json!({"op": "send", "type": CHAT, "hex": hex(text.as_bytes())}));
}

/// The next message `client` receives (it must come).
fn heard(client: &mut Py) -> String {
    let got = client.cmd(json!({"op": "recv"}));
    assert_eq!(got["type"], json!(CHAT), "{got}");
    String::from_utf8(unhex(field(&got, "hex"))).unwrap_or_else(|e| panic!("not text: {e}"))
}

/// Asserts that `client` receives nothing more within [`QUIET`].
fn hears_nothing(client: &mut Py, what: &str) {
    let got = client.ask(&json!({"op": "recv", "timeout": QUIET}));
    assert_eq!(got["ok"], json!(false), "{what}: got {got}");
}

#[test]
fn every_message_reaches_every_other_client_once_across_three_nodes() {
    let redis = Redis::start();
    let mut nodes: Vec<Node> = (0..3).map(|_| Node::start(&redis.url(), &[])).collect();
    for n in &mut nodes {
        let up = n.relay("up");
        assert_eq!((&up["channel"], &up["url"]), (&json!("veltix:broadcast"), &json!(redis.url())));
    }
    // Two clients on each node: (node, client) -> its Python process.
    let mut clients: BTreeMap<(usize, usize), Py> = BTreeMap::new();
    for (i, n) in nodes.iter_mut().enumerate() {
        for j in 0..2 {
            clients.insert((i, j), chat_client(n));
        }
        n.connected(2);
    }
    let keys: Vec<(usize, usize)> = clients.keys().copied().collect();
    for &k in &keys {
        for m in 0..2 {
            say(clients.get_mut(&k).expect("a client"), &format!("{k:?} #{m}"));
        }
    }
    for &k in &keys {
        let c = clients.get_mut(&k).expect("a client");
        let mut got: Vec<String> = (0..2 * (keys.len() - 1)).map(|_| heard(c)).collect();
        hears_nothing(c, &format!("{k:?} after all the others' messages"));
        got.sort();
        let mut want: Vec<String> = keys
            .iter()
            .filter(|&&o| o != k)
            .flat_map(|o| (0..2).map(move |m| format!("{o:?} #{m}")))
            .collect();
        want.sort();
        assert_eq!(got, want, "client {k:?}");
    }
    let summary = nodes.remove(0).stop();
    assert!(
        summary.contains("relay: 4 published, 8 from other nodes, 0 not published"),
        "{summary}"
    );
}

#[test]
fn a_redis_outage_loses_cross_node_messages_only_while_it_lasts() {
    let mut redis = Redis::start();
    let (mut a, mut b) = (Node::start(&redis.url(), &[]), Node::start(&redis.url(), &[]));
    a.relay("up");
    b.relay("up");
    let (mut a1, mut a2) = (chat_client(&a), chat_client(&a));
    a.connected(2);
    let mut b1 = chat_client(&b);
    b.connected(1);

    say(&mut a1, "before");
    assert_eq!((heard(&mut a2), heard(&mut b1)), ("before".into(), "before".into()));

    redis.kill();
    for n in [&mut a, &mut b] {
        let down = n.relay("down");
        let at = format!("127.0.0.1:{}", redis.port);
        assert!(field(&down, "reason").contains(&at), "{down}");
    }
    say(&mut a1, "during, from a");
    say(&mut b1, "during, from b");
    assert_eq!(heard(&mut a2), "during, from a", "local delivery goes on without Redis");
    hears_nothing(&mut b1, "b1 while Redis is down");
    hears_nothing(&mut a1, "a1 while Redis is down");
    hears_nothing(&mut a2, "a2 while Redis is down");

    redis.restart();
    a.relay("up");
    b.relay("up");
    say(&mut a1, "after, from a");
    say(&mut b1, "after, from b");
    // What was lost stays lost: the next message is the one after.
    assert_eq!(heard(&mut b1), "after, from a");
    assert_eq!(heard(&mut a2), "after, from a");
    for c in [&mut a1, &mut a2] {
        assert_eq!(heard(c), "after, from b");
    }
    for (c, who) in [(&mut a1, "a1"), (&mut a2, "a2"), (&mut b1, "b1")] {
        hears_nothing(c, who);
    }
    // Each change was reported once.
    for n in [&a, &b] {
        assert_eq!(n.relay_states, ["up", "down", "up"]);
    }
    let summary = a.stop();
    assert!(
        summary.contains("relay: 2 published, 1 from other nodes, 1 not published"),
        "{summary}"
    );
}

#[test]
fn a_node_without_redis_serves_its_own_clients_and_joins_when_redis_comes() {
    // A port nothing listens on yet: Redis comes later.
    let mut redis = Redis::start();
    redis.kill();
    let mut a = Node::start(&redis.url(), &[]);
    let down = a.relay("down");
    assert!(field(&down, "reason").contains("cannot connect"), "{down}");
    assert!(a.log_line_with("relay down: ").contains("cannot connect"));
    let (mut a1, mut a2) = (chat_client(&a), chat_client(&a));
    a.connected(2);
    say(&mut a1, "alone");
    assert_eq!(heard(&mut a2), "alone");

    redis.restart();
    a.relay("up");
    assert!(a.log_line_with("relay up: ").contains(&redis.url()));
    let mut b = Node::start(&redis.url(), &[]);
    b.relay("up");
    let mut b1 = chat_client(&b);
    b.connected(1);
    say(&mut b1, "joined");
    assert_eq!((heard(&mut a1), heard(&mut a2)), ("joined".into(), "joined".into()));
    hears_nothing(&mut b1, "the sender");
}

#[test]
fn nodes_on_other_channels_do_not_hear_each_other() {
    let redis = Redis::start();
    let mut a = Node::start(&redis.url(), &["--redis-channel", "room-a"]);
    let mut b = Node::start(&redis.url(), &["--redis-channel", "room-b"]);
    let mut c = Node::start(&redis.url(), &["--redis-channel", "room-a"]);
    for n in [&mut a, &mut b, &mut c] {
        n.relay("up");
    }
    let (mut a1, mut b1, mut c1) = (chat_client(&a), chat_client(&b), chat_client(&c));
    for n in [&mut a, &mut b, &mut c] {
        n.connected(1);
    }
    say(&mut a1, "for room a");
    assert_eq!(heard(&mut c1), "for room a");
    hears_nothing(&mut b1, "a node on another channel");
}

#[test]
fn nodes_relay_through_redis_over_tls_checking_its_certificate() {
    let redis = Redis::start_tls();
    let ca = redis.tls().ca();
    let mut a = Node::start(&redis.url(), &["--redis-ca", &ca]);
    let mut b = Node::start(&redis.url(), &["--redis-ca", &ca]);
    a.relay("up");
    b.relay("up");
    let (mut a1, mut b1) = (chat_client(&a), chat_client(&b));
    a.connected(1);
    b.connected(1);
    say(&mut a1, "over tls");
    assert_eq!(heard(&mut b1), "over tls");
    hears_nothing(&mut a1, "the sender");
    // Without the CA, the server's certificate is not trusted.
    let mut c = Node::start(&redis.url(), &[]);
    let down = c.relay("down");
    assert!(field(&down, "reason").to_lowercase().contains("certificate"), "{down}");
}

#[test]
fn redis_options_are_checked_before_serving() {
    let cases: [(&[&str], &str); 5] = [
        (&["--mode", "echo", "--redis", "redis://127.0.0.1:1"], "only used with --mode broadcast"),
        (
            &["--mode", "broadcast", "--redis", "redis://127.0.0.1:1", "--redis-ca", "/dev/null"],
            "only used with a rediss:// URL",
        ),
        (&["--mode", "broadcast", "--redis", "not a url"], "not a Redis URL"),
        (&["--mode", "broadcast", "--redis-channel", "x"], "--redis <URL>"),
        (&["--mode", "broadcast", "--redis-ca", "/dev/null"], "--redis <URL>"),
    ];
    for (args, why) in cases {
        let mut cmd = veltix(["serve", "-p", "0", "--host", "127.0.0.1"]);
        cmd.args(args);
        let out = run(cmd);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn passwords_stay_out_of_logs_and_events() {
    let redis = Redis::start();
    // redis-server has no password here: AUTH fails, the relay stays down.
    let url = format!("redis://:hunter2@127.0.0.1:{}/0", redis.port);
    let mut a = Node::start(&url, &[]);
    let down = a.relay("down");
    assert!(!down.to_string().contains("hunter2"), "{down}");
    assert_eq!(down["url"], json!(format!("redis://:***@127.0.0.1:{}/0", redis.port)));
    let line = a.log_line_with("relay down: ");
    assert!(!line.contains("hunter2"), "{line}");
}

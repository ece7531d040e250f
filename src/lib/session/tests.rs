//! The protocol session on byte vectors: no socket, no thread.

use std::time::Duration;

use super::*;
use crate::codec::frame::DEFAULT_MAX_MESSAGE_SIZE;
use crate::config::PerformanceMode;
use crate::error::Error;

fn peer() -> SocketAddr {
    "127.0.0.1:9".parse().unwrap()
}

fn cfg() -> Arc<ConnConfig> {
    Arc::new(ConnConfig::default())
}

fn bytes(type_code: u16, id: RequestId, payload: &[u8]) -> Vec<u8> {
    Frame { type_code, request_id: id, timestamp_ms: 1, payload: payload.to_vec() }
        .encode()
        .unwrap()
}

/// Everything the session wants sent, as frames (CRC checked), and clears it.
fn sent(s: &mut Session) -> Vec<Frame> {
    let (b, n) = s.transmit();
    let mut d = Decoder::new(DEFAULT_MAX_MESSAGE_SIZE);
    d.push(b);
    let mut out = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        out.push(f);
    }
    assert!(d.buffered().is_empty(), "a partial frame in transmit");
    assert_eq!(out.len() as u64, n, "frame count");
    s.transmitted();
    out
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn fault(flow: Flow) -> ProtocolError {
    match flow {
        Flow::Close(EndReason { fault: Some(f), .. }) => f,
        other => panic!("expected a close with a fault, got {other:?}"),
    }
}

/// A server session past the handshake, with its pending table.
fn established_server(t0: Instant) -> (Session, Arc<Pending>) {
    let pending = Arc::new(Pending::new());
    let mut s = Session::server(peer(), cfg(), pending.clone(), t0);
    let hello = sent(&mut s).remove(0);
    let flow = s.receive(&bytes(types::HELLO_ACK, hello.request_id, b"\x00\x051.6.3"), t0);
    assert_eq!(flow, Flow::Continue);
    assert_eq!(events(&mut s), [Event::Established("1.6.3".into())]);
    assert!(s.is_established());
    (s, pending)
}

#[test]
fn server_speaks_first_with_hello() {
    let mut s = Session::server(peer(), cfg(), Arc::new(Pending::new()), Instant::now());
    let out = sent(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].type_code, types::HELLO);
    assert_eq!(out[0].payload, b"\x00\x051.6.3");
    assert!(!s.is_established());
}

#[test]
fn server_handshake_completes_on_the_matching_ack() {
    let (mut s, _) = established_server(Instant::now());
    assert!(sent(&mut s).is_empty(), "nothing to say after the ACK");
}

#[test]
fn ack_with_another_id_fails_the_handshake_and_says_why() {
    let t0 = Instant::now();
    let mut s = Session::server(peer(), cfg(), Arc::new(Pending::new()), t0);
    let hello = sent(&mut s).remove(0);
    let other = RequestId::from(hello.request_id.as_u32().wrapping_add(1));
    let f = fault(s.receive(&bytes(types::HELLO_ACK, other, b"\x00\x051.6.3"), t0));
    assert!(matches!(f, ProtocolError::BadHello(_)), "{f:?}");
    let out = sent(&mut s);
    assert_eq!(out[0].type_code, types::ERROR);
    assert_eq!(out[0].request_id, other);
}

#[test]
fn version_mismatch_in_the_ack_is_refused() {
    let t0 = Instant::now();
    let mut s = Session::server(peer(), cfg(), Arc::new(Pending::new()), t0);
    let hello = sent(&mut s).remove(0);
    let f = fault(s.receive(&bytes(types::HELLO_ACK, hello.request_id, b"\x00\x051.6.4"), t0));
    assert!(matches!(f, ProtocolError::VersionMismatch { .. }), "{f:?}");
    let err = sent(&mut s).remove(0);
    assert_eq!(err.type_code, types::ERROR);
    assert!(String::from_utf8_lossy(&err.payload).contains("1.6.4"));
    assert!(events(&mut s).is_empty());
}

#[test]
fn frames_before_the_handshake_are_refused_even_a_ping() {
    for code in [200, types::PING] {
        let t0 = Instant::now();
        let mut s = Session::server(peer(), cfg(), Arc::new(Pending::new()), t0);
        sent(&mut s);
        let f = fault(s.receive(&bytes(code, RequestId::from(5), b"early"), t0));
        assert!(matches!(f, ProtocolError::UnexpectedFrame { expected: "HELLO_ACK", .. }));
        let out = sent(&mut s);
        assert_eq!(out.len(), 1, "only the ERROR, no PONG");
        assert_eq!((out[0].type_code, out[0].request_id), (types::ERROR, RequestId::from(5)));
        assert!(events(&mut s).is_empty());
    }
}

#[test]
fn handshake_deadline_closes_with_an_error_frame() {
    let t0 = Instant::now();
    let mut s = Session::server(peer(), cfg(), Arc::new(Pending::new()), t0);
    sent(&mut s);
    assert_eq!(s.tick_interval(), Duration::from_millis(250));
    assert_eq!(s.on_tick(t0 + Duration::from_secs(4)), Flow::Continue);
    match s.on_tick(t0 + Duration::from_secs(5)) {
        Flow::Close(end) => {
            assert_eq!(end.kind, EndKind::Error);
            assert!(end.message.contains("handshake not completed"), "{}", end.message);
        }
        Flow::Continue => panic!("the deadline passed"),
    }
    assert_eq!(sent(&mut s)[0].type_code, types::ERROR);
}

#[test]
fn client_answers_hello_with_an_ack_of_the_same_id() {
    let t0 = Instant::now();
    let mut s = Session::client(peer(), cfg(), Arc::new(Pending::new()), t0);
    let id = RequestId::from(0xabcdef01);
    assert_eq!(s.receive(&bytes(types::HELLO, id, b"\x00\x051.6.3"), t0), Flow::Continue);
    let out = sent(&mut s);
    assert_eq!(
        (out[0].type_code, out[0].request_id, &out[0].payload[..]),
        (types::HELLO_ACK, id, &b"\x00\x051.6.3"[..])
    );
    assert_eq!(events(&mut s), [Event::Established("1.6.3".into())]);
    // A second HELLO once established is ignored.
    assert_eq!(s.receive(&bytes(types::HELLO, id, b"\x00\x051.6.3"), t0), Flow::Continue);
    assert!(events(&mut s).is_empty() && sent(&mut s).is_empty());
}

#[test]
fn client_handshake_faults() {
    let t0 = Instant::now();
    let id = RequestId::from(3);
    let new = || Session::client(peer(), cfg(), Arc::new(Pending::new()), t0);

    // A version we do not speak: the server is told, then we close.
    let mut s = new();
    let f = fault(s.receive(&bytes(types::HELLO, id, b"\x00\x052.0.0"), t0));
    assert!(matches!(f, ProtocolError::VersionMismatch { .. }));
    assert_eq!(sent(&mut s)[0].type_code, types::ERROR);

    // An ERROR where the HELLO should be is a refusal, with its reason.
    let mut s = new();
    let f = fault(s.receive(&bytes(types::ERROR, id, b"server full"), t0));
    assert_eq!(f, ProtocolError::PeerError("server full".into()));

    // Another frame, a malformed HELLO, a bad CRC.
    let mut s = new();
    let f = fault(s.receive(&bytes(200, id, b"hi"), t0));
    assert!(matches!(f, ProtocolError::UnexpectedFrame { expected: "HELLO", .. }));
    let mut s = new();
    assert!(matches!(
        fault(s.receive(&bytes(types::HELLO, id, b"\x00\x09abc"), t0)),
        ProtocolError::BadHello(_)
    ));
    let mut s = new();
    let mut bad = bytes(types::HELLO, id, b"\x00\x051.6.3");
    bad[HEADER_LEN] ^= 1;
    assert!(matches!(fault(s.receive(&bad, t0)), ProtocolError::CrcMismatch { .. }));
    assert!(events(&mut s).is_empty());
}

#[test]
fn ping_is_answered_with_pong_and_pings_in_one_read_in_one_batch() {
    let t0 = Instant::now();
    let (mut s, _) = established_server(t0);
    let mut input = Vec::new();
    for i in 1..=3u32 {
        input.extend(bytes(types::PING, RequestId::from(i), b""));
    }
    assert_eq!(s.receive(&input, t0), Flow::Continue);
    assert_eq!(s.transmit().1, 3);
    let out = sent(&mut s);
    let ids: Vec<u32> = out.iter().map(|f| f.request_id.as_u32()).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert!(out.iter().all(|f| f.type_code == types::PONG && f.payload.is_empty()));
    assert!(events(&mut s).is_empty(), "a PING is not an application message");
    assert_eq!(s.take_frames_in(), 4, "the ACK and three PINGs");
}

#[test]
fn messages_replies_and_late_replies() {
    let t0 = Instant::now();
    let (mut s, pending) = established_server(t0);
    // An ordinary message is delivered.
    s.receive(&bytes(200, RequestId::from(7), b"hello"), t0);
    match &events(&mut s)[..] {
        [Event::Message(f)] => assert_eq!((f.type_code, &f.payload[..]), (200, &b"hello"[..])),
        other => panic!("{other:?}"),
    }
    // A reply to our request completes it and is not delivered.
    let (id, slot) = pending.register();
    s.receive(&bytes(200, id, b"answer"), t0);
    assert!(events(&mut s).is_empty());
    let reply = pending.wait_until(id, &slot, Instant::now(), Duration::ZERO).unwrap();
    assert_eq!(reply.payload, b"answer");
    // A reply after its request timed out is dropped once.
    let (id, slot) = pending.register();
    assert!(pending.wait_until(id, &slot, Instant::now(), Duration::ZERO).is_err());
    s.receive(&bytes(200, id, b"late"), t0);
    assert!(events(&mut s).is_empty());
    // An unsolicited PONG is dropped, not delivered.
    s.receive(&bytes(types::PONG, RequestId::from(99), b""), t0);
    assert!(events(&mut s).is_empty() && sent(&mut s).is_empty());
}

#[test]
fn an_error_frame_in_reply_fails_the_request() {
    let t0 = Instant::now();
    let (mut s, pending) = established_server(t0);
    let (id, slot) = pending.register();
    s.receive(&bytes(types::ERROR, id, b"nope"), t0);
    match pending.wait_until(id, &slot, Instant::now(), Duration::ZERO) {
        Err(Error::Protocol(ProtocolError::PeerError(m))) => assert_eq!(m, "nope"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_crc_is_reported_and_the_stream_goes_on() {
    let t0 = Instant::now();
    let (mut s, pending) = established_server(t0);
    let mut input = bytes(200, RequestId::from(11), b"abc");
    input[HEADER_LEN] ^= 1;
    input.extend(bytes(200, RequestId::from(12), b"ok"));
    assert_eq!(s.receive(&input, t0), Flow::Continue);
    let out = sent(&mut s);
    assert_eq!((out[0].type_code, out[0].request_id), (types::ERROR, RequestId::from(11)));
    match &events(&mut s)[..] {
        [Event::Message(f)] => assert_eq!(f.payload, b"ok"),
        other => panic!("{other:?}"),
    }
    // A corrupted reply fails its request instead, with nothing sent.
    let (id, slot) = pending.register();
    let mut bad = bytes(200, id, b"xyz");
    bad[HEADER_LEN + 1] ^= 1;
    s.receive(&bad, t0);
    assert!(sent(&mut s).is_empty());
    assert!(matches!(
        pending.wait_until(id, &slot, Instant::now(), Duration::ZERO),
        Err(Error::Protocol(ProtocolError::CrcMismatch { .. }))
    ));
}

#[test]
fn oversize_frame_closes_with_an_error_carrying_its_id() {
    let t0 = Instant::now();
    let (mut s, _) = established_server(t0);
    let mut header = bytes(200, RequestId::from(0x42), b"").to_vec();
    header[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
    let f = fault(s.receive(&header, t0));
    assert!(matches!(f, ProtocolError::FrameTooLarge { .. }));
    let out = sent(&mut s);
    assert_eq!((out[0].type_code, out[0].request_id), (types::ERROR, RequestId::from(0x42)));
}

#[test]
fn heartbeat_ping_then_dead_peer() {
    let t0 = Instant::now();
    let (mut s, _) = established_server(t0);
    let idle = PerformanceMode::Balanced.heartbeat_idle();
    assert_eq!(s.on_tick(t0 + idle / 2), Flow::Continue);
    assert!(sent(&mut s).is_empty());
    assert_eq!(s.on_tick(t0 + idle), Flow::Continue);
    let ping = sent(&mut s).remove(0);
    assert_eq!(ping.type_code, types::PING);
    // One heartbeat at a time.
    assert_eq!(s.on_tick(t0 + idle * 2), Flow::Continue);
    assert!(sent(&mut s).is_empty());
    // Its PONG clears it and is no message; a later silence pings again.
    let t1 = t0 + idle * 2;
    s.receive(&bytes(types::PONG, ping.request_id, b""), t1);
    assert!(events(&mut s).is_empty());
    s.on_tick(t1 + idle);
    assert_eq!(sent(&mut s)[0].type_code, types::PING);
    // Silence past the dead interval ends the connection.
    match s.on_tick(t1 + PerformanceMode::Balanced.dead_after()) {
        Flow::Close(end) => assert!(end.message.contains("presumed dead"), "{}", end.message),
        Flow::Continue => panic!("the peer is silent for too long"),
    }
}

#[test]
fn end_of_stream_mid_frame_is_a_truncation() {
    let t0 = Instant::now();
    let (mut s, _) = established_server(t0);
    assert_eq!(s.end_of_stream().kind, EndKind::PeerClosed);
    let frame = bytes(200, RequestId::from(1), b"hello");
    s.receive(&frame[..10], t0);
    let end = s.end_of_stream();
    assert_eq!(end.fault, Some(ProtocolError::Truncated { needed: 22, available: 10 }));
    s.receive(&frame[10..25], t0);
    let end = s.end_of_stream();
    assert_eq!(end.fault, Some(ProtocolError::Truncated { needed: 27, available: 25 }));
}

#[test]
fn any_split_gives_the_same_events() {
    let t0 = Instant::now();
    let mut input = Vec::new();
    for i in 0..5u32 {
        input.extend(bytes(200 + i as u16, RequestId::from(i), &vec![i as u8; i as usize * 7]));
        input.extend(bytes(types::PING, RequestId::from(100 + i), b""));
    }
    let (mut whole, _) = established_server(t0);
    whole.receive(&input, t0);
    let want = (events(&mut whole), sent(&mut whole).len());
    let (mut split, _) = established_server(t0);
    let mut got = Vec::new();
    let mut pongs = 0;
    for b in &input {
        assert_eq!(split.receive(std::slice::from_ref(b), t0), Flow::Continue);
        got.extend(events(&mut split));
        pongs += sent(&mut split).len();
    }
    assert_eq!((got, pongs), want);
    assert_eq!(want.1, 5);
}

#[test]
fn refusal_is_one_error_frame() {
    let b = refusal("server full: 1 connections is the limit");
    let f = Frame::decode(&b, DEFAULT_MAX_MESSAGE_SIZE).unwrap();
    assert_eq!(f.type_code, types::ERROR);
    assert_eq!(f.payload, b"server full: 1 connections is the limit");
}

//! The protocol session on byte vectors: no socket, no thread.

use std::time::Duration;

use super::*;
use crate::codec::frame::DEFAULT_MAX_MESSAGE_SIZE;
use crate::config::{PerformanceMode, WireMode};
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
    let (id, slot) = pending.register().unwrap();
    s.receive(&bytes(200, id, b"answer"), t0);
    assert!(events(&mut s).is_empty());
    let reply = pending.wait_until(id, &slot, Instant::now(), Duration::ZERO).unwrap();
    assert_eq!(reply.payload, b"answer");
    // A reply after its request timed out is dropped once.
    let (id, slot) = pending.register().unwrap();
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
    let (id, slot) = pending.register().unwrap();
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
    let (id, slot) = pending.register().unwrap();
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
    let b = refusal(Wire::V1_6, "server full: 1 connections is the limit");
    let f = Frame::decode(&b, DEFAULT_MAX_MESSAGE_SIZE).unwrap();
    assert_eq!(f.type_code, types::ERROR);
    assert_eq!(f.payload, b"server full: 1 connections is the limit");
}

// --- The VX profile (veltix 2.0.3 to 3.3.x) ---

const SERVER_HELLO_33: &[u8] = b"\x00\x27{\"v\": \"3.3.0\", \"pv\": \"1.0\", \"meta\": {}}";
const CLIENT_HELLO_33: &[u8] = b"\x00\x27{\"v\": \"3.3.0\", \"pv\": \"1.0\", \"meta\": {}}";
const OK: &[u8] = b"\x00\x10{\"result\": \"ok\"}";

/// A handshake message: `body` behind its u16 length.
fn json_msg(body: &[u8]) -> Vec<u8> {
    let mut m = (body.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(body);
    m
}

fn vx_cfg(wire: WireMode) -> Arc<ConnConfig> {
    Arc::new(ConnConfig { wire, ..ConnConfig::default() })
}

fn vx_bytes(type_code: u16, id: u16, payload: &[u8]) -> Vec<u8> {
    vx::encode_frame(type_code, id, payload).unwrap()
}

/// Everything a VX session wants sent, as frames, and clears it.
fn vx_sent(s: &mut Session) -> Vec<(u16, u16, Vec<u8>)> {
    let (b, n) = s.transmit();
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        match vx::split_frame(rest, usize::MAX).unwrap() {
            vx::Split::Frame { header, payload, len } => {
                out.push((header.type_code, header.request_id, payload.to_vec()));
                rest = &rest[len..];
            }
            vx::Split::NeedMore(_) => panic!("a partial frame in transmit"),
        }
    }
    assert_eq!(out.len() as u64, n);
    s.transmitted();
    out
}

fn raw_sent(s: &mut Session) -> Vec<u8> {
    let b = s.transmit().0.to_vec();
    s.transmitted();
    b
}

fn vx_server(t0: Instant) -> (Session, Arc<Pending>) {
    let pending = Arc::new(Pending::new());
    let mut s = Session::server(peer(), vx_cfg(WireMode::Vx), pending.clone(), t0);
    let hello = raw_sent(&mut s);
    assert!(hello.starts_with(b"\x00") && hello[2] == b'{', "{hello:?}");
    assert!(String::from_utf8_lossy(&hello).contains("\"pv\": \"1.0\""));
    assert_eq!(s.receive(CLIENT_HELLO_33, t0), Flow::Continue);
    assert_eq!(raw_sent(&mut s), OK);
    assert_eq!(events(&mut s), [Event::Established("3.3.0".into())]);
    (s, pending)
}

#[test]
fn vx_server_greets_with_json_and_acks_a_compatible_client() {
    let (mut s, _) = vx_server(Instant::now());
    assert_eq!(s.wire(), Wire::Vx);
    // PING (0) is answered with an empty PONG (1) of the same id.
    s.receive(&vx_bytes(0, 5, b"abc"), Instant::now());
    assert_eq!(vx_sent(&mut s), [(1, 5, vec![])]);
    s.receive(&vx_bytes(200, 7, b"hello"), Instant::now());
    match &events(&mut s)[..] {
        [Event::Message(f)] => {
            assert_eq!(
                (f.type_code, f.request_id.as_u32(), &f.payload[..]),
                (200, 7, &b"hello"[..])
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn vx_server_closes_on_a_bad_client_hello_and_says_nothing() {
    let bad: [Vec<u8>; 5] = [
        json_msg(b"{\"v\": \"3.3.0\"}"), // no pv
        json_msg(b"{\"pv\": \"2.0\"}"),  // another major
        json_msg(b"\"1.0\""),            // not an object
        b"\x78\x01".to_vec(),            // announces over 30 KiB
        json_msg(b"\xff\xfe\xfd"),       // not UTF-8
    ];
    for msg in &bad {
        let t0 = Instant::now();
        let mut s = Session::server(peer(), vx_cfg(WireMode::Vx), Arc::new(Pending::new()), t0);
        raw_sent(&mut s);
        match s.receive(msg, t0) {
            Flow::Close(EndReason { fault: Some(ProtocolError::Vx(_)), .. }) => {}
            other => panic!("{msg:?}: {other:?}"),
        }
        assert!(raw_sent(&mut s).is_empty(), "3.x servers answer nothing: {msg:?}");
    }
}

#[test]
fn vx_client_answers_the_server_hello_and_waits_for_ok() {
    let t0 = Instant::now();
    let mut s = Session::client(peer(), vx_cfg(WireMode::Vx), Arc::new(Pending::new()), t0);
    assert_eq!(s.receive(SERVER_HELLO_33, t0), Flow::Continue);
    let ours = raw_sent(&mut s);
    let reply = vx::read_handshake(&ours, vx::Expect::ClientHello, vx::PROTOCOL_VERSION).unwrap();
    assert!(matches!(reply, vx::HandshakeRead::Message { len, .. } if len == ours.len()));
    assert!(events(&mut s).is_empty(), "not before the ok");
    // The ok and a first frame in one read.
    let mut input = OK.to_vec();
    input.extend(vx_bytes(0, 40000, b""));
    assert_eq!(s.receive(&input, t0), Flow::Continue);
    assert_eq!(events(&mut s), [Event::Established("3.3.0".into())]);
    assert_eq!(vx_sent(&mut s), [(1, 40000, vec![])]);
}

#[test]
fn vx_client_refused_or_mismatched() {
    let t0 = Instant::now();
    let new = || Session::client(peer(), vx_cfg(WireMode::Vx), Arc::new(Pending::new()), t0);
    let mut s = new();
    let f = fault(s.receive(b"\x00\x18{\"error\": \"server_full\"}", t0));
    assert_eq!(f, ProtocolError::PeerError("server_full".into()));
    let mut s = new();
    let f = fault(s.receive(&json_msg(b"{\"pv\": \"2.0\"}"), t0));
    assert!(matches!(f, ProtocolError::Vx(VxError::PvMismatch { .. })), "{f:?}");
    assert!(raw_sent(&mut s).is_empty());
}

#[test]
fn auto_detects_either_profile_from_the_first_bytes() {
    let t0 = Instant::now();
    // A 1.6.3 server's HELLO, one byte at a time.
    let mut s = Session::client(peer(), vx_cfg(WireMode::Auto), Arc::new(Pending::new()), t0);
    for b in bytes(types::HELLO, RequestId::from(9), b"\x00\x051.6.3") {
        assert_eq!(s.receive(&[b], t0), Flow::Continue);
    }
    assert_eq!(s.wire(), Wire::V1_6);
    assert_eq!(sent(&mut s)[0].type_code, types::HELLO_ACK);
    assert_eq!(events(&mut s), [Event::Established("1.6.3".into())]);
    // A 3.x server's hello.
    let mut s = Session::client(peer(), vx_cfg(WireMode::Auto), Arc::new(Pending::new()), t0);
    s.receive(&SERVER_HELLO_33[..2], t0);
    assert!(raw_sent(&mut s).is_empty(), "two bytes do not tell");
    s.receive(&SERVER_HELLO_33[2..], t0);
    assert_eq!(s.wire(), Wire::Vx);
    assert!(!raw_sent(&mut s).is_empty(), "our hello");
    // A 1.6.3 refusal (an ERROR frame) is read as one.
    let mut s = Session::client(peer(), vx_cfg(WireMode::Auto), Arc::new(Pending::new()), t0);
    let f = fault(s.receive(&bytes(types::ERROR, RequestId::from(1), b"server full"), t0));
    assert_eq!(f, ProtocolError::PeerError("server full".into()));
}

#[test]
fn vx_faults_close_without_an_error_frame_and_a_bad_crc_is_skipped() {
    let t0 = Instant::now();
    let (mut s, pending) = vx_server(t0);
    // A bad CRC skips that frame only; nothing is sent back (VX has no ERROR).
    let mut input = vx_bytes(200, 1, b"abc");
    input[vx::HEADER_LEN] ^= 1;
    input.extend(vx_bytes(200, 2, b"ok"));
    assert_eq!(s.receive(&input, t0), Flow::Continue);
    assert!(vx_sent(&mut s).is_empty());
    assert_eq!(events(&mut s).len(), 1);
    // A reply of type 20 is a reply like any other in VX.
    let (id, slot) = pending.register().unwrap();
    assert!(id.as_u32() >= 32768 && id.as_u32() < 65536, "server ids: {id}");
    s.receive(&vx_bytes(types::ERROR, id.as_u32() as u16, b"fine"), t0);
    assert_eq!(
        pending.wait_until(id, &slot, Instant::now(), Duration::ZERO).unwrap().payload,
        b"fine"
    );
    // Junk, flags, oversize: the connection ends, silently.
    for junk in [
        b"xx".to_vec(),
        {
            let mut f = vx_bytes(200, 3, b"");
            f[2] = 0x80;
            f
        },
        {
            let mut f = vx_bytes(200, 3, b"");
            f[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
            f
        },
    ] {
        let (mut s, _) = vx_server(t0);
        assert!(matches!(fault(s.receive(&junk, t0)), ProtocolError::Vx(_)), "{junk:?}");
        assert!(raw_sent(&mut s).is_empty());
    }
}

#[test]
fn vx_client_ids_and_heartbeat_stay_in_the_client_half() {
    let t0 = Instant::now();
    let pending = Arc::new(Pending::new());
    let mut s = Session::client(peer(), vx_cfg(WireMode::Vx), pending.clone(), t0);
    s.receive(SERVER_HELLO_33, t0);
    s.receive(OK, t0);
    raw_sent(&mut s);
    for _ in 0..100 {
        let (id, _) = pending.register().unwrap();
        assert!(id.as_u32() < 32768, "{id}");
    }
    s.on_tick(t0 + PerformanceMode::Balanced.heartbeat_idle());
    let ping = vx_sent(&mut s);
    assert_eq!(ping.len(), 1);
    assert_eq!(ping[0].0, 0);
    assert!(ping[0].1 < 32768);
}

#[test]
fn vx_refusal_is_server_full() {
    assert_eq!(refusal(Wire::Vx, "anything"), b"\x00\x18{\"error\": \"server_full\"}");
}

#[test]
fn a_client_told_the_wrong_profile_says_which_one_the_server_speaks() {
    let t0 = Instant::now();
    let mut s = Session::client(peer(), vx_cfg(WireMode::V1_6), Arc::new(Pending::new()), t0);
    let f = fault(s.receive(SERVER_HELLO_33, t0));
    assert_eq!(f, ProtocolError::WrongWire { expected: "1.6", seen: "vx" });
    let mut s = Session::client(peer(), vx_cfg(WireMode::Vx), Arc::new(Pending::new()), t0);
    let f = fault(s.receive(&bytes(types::HELLO, RequestId::from(1), b"\x00\x051.6.3"), t0));
    assert_eq!(f, ProtocolError::WrongWire { expected: "vx", seen: "1.6" });
}

#[test]
fn a_quiet_session_gives_its_read_buffer_back_but_not_a_partial_frame() {
    let t0 = Instant::now();
    let (mut s, _) = established_server(t0);
    assert_eq!(s.receive(&bytes(200, RequestId::from(1), b"hi"), t0), Flow::Continue);
    assert!(s.decoder_mut().capacity() > 0);
    // Not while frames keep coming.
    assert_eq!(s.on_tick(t0 + QUIET / 2), Flow::Continue);
    assert!(s.decoder_mut().capacity() > 0, "released while busy");
    // Quiet long enough: the buffer goes, and so do the (empty) buffers
    // of outgoing bytes and events that the handshake left.
    let _ = events(&mut s);
    s.transmitted();
    assert!(s.held_bytes() > s.decoder_mut().capacity());
    assert_eq!(s.on_tick(t0 + QUIET), Flow::Continue);
    assert_eq!(s.decoder_mut().capacity(), 0);
    assert_eq!(s.held_bytes(), 0);
    // A frame only partly in is kept, however long it takes.
    let frame = bytes(200, RequestId::from(2), b"later");
    assert_eq!(s.receive(&frame[..10], t0 + QUIET), Flow::Continue);
    assert_eq!(s.on_tick(t0 + QUIET * 3), Flow::Continue);
    assert_eq!(s.decoder_mut().buffered().len(), 10);
    assert_eq!(s.receive(&frame[10..], t0 + QUIET * 3), Flow::Continue);
    assert!(matches!(&events(&mut s)[..], [Event::Message(f)] if f.payload == b"later"));
}

//! Hostile peers on the VX profile (veltix 2.0.3 to 3.3.x): a JSON
//! handshake that is too long, not UTF-8, not an object, without a usable
//! `pv`, or too slow; frames with a bad magic, reserved flags, an oversize
//! header or a bad CRC. Each case runs on every target (see main.rs) and
//! checks that a well-behaved client is still served, that the server's
//! memory stays bounded, and that a log line names the peer and the fault.

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use veltix::{vx, CoreKind, Wire};

use crate::attacks::RSS_BOUND;
use crate::peer::{End, Raw};
use crate::target::{assert_answers, Kind, Opts, Target, PATIENCE};

/// A raw peer that speaks the VX handshake by hand, then reads VX frames
/// through [`Raw`].
struct VxRaw;

impl VxRaw {
    /// Connects and reads the server's hello.
    fn greeted(addr: SocketAddr) -> Raw {
        let mut r = Raw::connect(addr).reading_vx();
        let hello = message(&mut r);
        assert!(hello.contains("\"pv\""), "the server's hello: {hello}");
        r
    }

    /// Connects and completes the handshake as a 3.3.0 client would.
    fn established(addr: SocketAddr) -> Raw {
        let mut r = VxRaw::greeted(addr);
        let hello = vx::client_hello("3.3.0", vx::PROTOCOL_VERSION, &Default::default()).unwrap();
        r.send(&hello);
        assert_eq!(message(&mut r), r#"{"result": "ok"}"#);
        r
    }
}

/// One length-prefixed handshake message, as text (read from the socket
/// before any frame, so nothing is buffered in the decoder).
fn message(r: &mut Raw) -> String {
    r.stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut len = [0u8; 2];
    r.stream.read_exact(&mut len).expect("a handshake message's length");
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    r.stream.read_exact(&mut body).expect("a handshake message");
    String::from_utf8(body).expect("UTF-8")
}

/// `body` behind its u16 length.
fn msg(body: &[u8]) -> Vec<u8> {
    let mut m = (body.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(body);
    m
}

fn setup(kind: Kind, core: CoreKind, opts: &Opts) -> (Target, veltix::Client, Option<u64>) {
    let t = Target::start(kind, core, opts);
    let good = t.client();
    assert_eq!(good.peer().map(|p| p.wire()), Some(Wire::Vx), "the client detects VX");
    assert_answers(&good, "before the attack");
    let rss = t.rss();
    (t, good, rss)
}

/// Client hellos that must each end the connection, with the fault the
/// log names.
pub fn vx_bad_handshakes(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default().vx());
    let mut big = msg(b"{");
    big[..2].copy_from_slice(&0xffffu16.to_be_bytes());
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("a length over 30 KiB", big, "exceeds the limit"),
        ("invalid UTF-8", msg(b"{\"pv\": \"1.0\xff\"}"), "UTF-8"),
        ("not an object", msg(b"[\"1.0\"]"), "not an object"),
        ("no pv", msg(br#"{"v": "3.3.0"}"#), "no protocol version"),
        ("a pv that is a number", msg(br#"{"pv": 1.0}"#), "not a string"),
        ("another major", msg(br#"{"pv": "2.0"}"#), "mismatch"),
    ];
    for (what, bytes, fault) in cases {
        let mut p = VxRaw::greeted(t.addr);
        let _ = p.try_send(&bytes);
        let (_, end) = p.until_end(PATIENCE);
        assert_ne!(end, End::Open, "{what}: the server kept the connection");
        t.expect_log(&p.local, &[fault]);
    }
    assert_answers(&good, "after bad handshakes");
    t.assert_rss_within(rss, RSS_BOUND, "bad VX handshakes");
}

/// A silent peer and one that drips a valid hello a byte at a time are
/// both closed at the handshake deadline: it covers the whole handshake,
/// not each read (3.3.0 lets a drip go on for ever).
pub fn vx_slow_handshakes(kind: Kind, core: CoreKind) {
    let opts = Opts::default().vx().handshake_timeout(Duration::from_millis(600));
    let (t, good, rss) = setup(kind, core, &opts);
    let mut silent = VxRaw::greeted(t.addr);
    let mut drip = VxRaw::greeted(t.addr);
    let hello = vx::client_hello("3.3.0", vx::PROTOCOL_VERSION, &Default::default()).unwrap();
    let start = Instant::now();
    for b in &hello[..hello.len() - 1] {
        if drip.try_send(&[*b]).is_err() || start.elapsed() > Duration::from_secs(3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    let (_, end) = drip.until_end(PATIENCE);
    assert_ne!(end, End::Open, "the drip was kept past the deadline");
    assert!(start.elapsed() < Duration::from_secs(5), "closed late: {:?}", start.elapsed());
    assert_ne!(silent.until_end(PATIENCE).1, End::Open, "the silent peer was kept");
    t.expect_log(&drip.local, &["handshake not completed"]);
    t.expect_log(&silent.local, &["handshake not completed"]);
    assert_answers(&good, "after slow handshakes");
    t.assert_rss_within(rss, RSS_BOUND, "slow VX handshakes");
}

/// After the handshake: a bad magic, reserved flags and an oversize
/// header end the connection; a bad CRC skips that frame and the stream
/// goes on.
pub fn vx_bad_frames(kind: Kind, core: CoreKind) {
    let (t, good, rss) = setup(kind, core, &Opts::default().vx());
    let frame = |id: u16, payload: &[u8]| vx::encode_frame(200, id, payload).unwrap();
    let mut flags = frame(1, b"x");
    flags[2] = 0x80;
    let mut oversize = frame(1, b"");
    oversize[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("a bad magic", b"XV\x00\x00\xc8".to_vec(), "bad magic"),
        ("reserved flags", flags, "flags"),
        ("an oversize header", oversize, "exceeds the limit"),
    ];
    for (what, bytes, fault) in cases {
        let mut p = VxRaw::established(t.addr);
        let _ = p.try_send(&bytes);
        assert_ne!(p.until_end(PATIENCE).1, End::Open, "{what}: the server kept the connection");
        t.expect_log(&p.local, &[fault]);
    }
    let mut p = VxRaw::established(t.addr);
    let mut bad = frame(7, b"abc");
    bad[vx::HEADER_LEN] ^= 0xff;
    p.send(&bad);
    p.send(&frame(8, b"still in sync"));
    let echo = p.frame(PATIENCE).expect("the frame after the bad one is echoed");
    assert_eq!((echo.request_id.as_u32(), &echo.payload[..]), (8, &b"still in sync"[..]));
    t.expect_log(&p.local, &["CRC mismatch"]);
    assert_answers(&good, "after bad VX frames");
    t.assert_rss_within(rss, RSS_BOUND, "bad VX frames");
}

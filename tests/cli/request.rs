//! `veltix request`: payload sources, output forms and exit codes.

use std::io::{Read, Write};
use std::net::TcpListener;

use veltix::{handshake, types, Frame, RequestId};

use crate::util::{code, json_lines, run, run_with_stdin, stderr, stdout, veltix, Serve};

#[test]
fn payload_from_argument_stdin_file_and_hex() {
    let s = Serve::start(&["--mode", "echo"]);
    let out = run_with_stdin(veltix(["request", &s.addr, "-"]), b"from stdin");
    assert_eq!(stdout(&out), "from stdin");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.bin");
    std::fs::write(&path, [0u8, 1, 2, 255]).unwrap();
    let out = run(veltix(["request", &s.addr, &format!("@{}", path.display())]));
    assert_eq!(out.stdout, [0u8, 1, 2, 255], "raw bytes when piped");
    let out = run(veltix(["request", &s.addr, "--hex", "de ad be ef"]));
    assert_eq!(out.stdout, [0xde, 0xad, 0xbe, 0xef]);
    let out = run(veltix(["request", &s.addr, "@/no/such/file"]));
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("/no/such/file"));
}

#[test]
fn json_records_carry_metadata_and_rtt() {
    let s = Serve::start(&["--mode", "echo"]);
    let out = run(veltix([
        "request",
        &s.addr,
        "hi",
        "--json",
        "--count",
        "3",
        "--type",
        "chat",
        "--type-name",
        "200=chat",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let recs = json_lines(&out);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(r["type_code"], 200);
        assert_eq!(r["type_name"], "chat");
        assert_eq!(r["payload_text"], "hi");
        assert_eq!(r["peer"], s.addr.as_str());
        assert!(r["rtt_us"].as_u64().is_some());
    }
    // Each request of --count has its own id.
    assert_ne!(recs[0]["request_id"], recs[1]["request_id"]);
}

#[test]
fn refused_connection_exits_3() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let out = run(veltix(["request", &addr, "x"]));
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
}

#[test]
fn no_reply_exits_4_within_the_timeout() {
    // A sink never answers.
    let s = Serve::start(&["--mode", "sink"]);
    let start = std::time::Instant::now();
    let out = run(veltix(["request", &s.addr, "x", "--timeout", "300ms"]));
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out after 300ms"), "{}", stderr(&out));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// A fake server that completes the handshake and then sends `reply`
/// bytes when it gets a request.
fn fake(reply: impl Fn(&Frame) -> Vec<u8> + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let hello = Frame::new(types::HELLO, RequestId::from(1), handshake::encode_hello("1.6.3"));
        s.write_all(&hello.encode().unwrap()).unwrap();
        let mut r = veltix::FrameReader::new(s.try_clone().unwrap(), 1 << 20);
        let _ack = r.read_frame();
        if let Ok(Some(req)) = r.read_frame() {
            let _ = s.write_all(&reply(&req));
        }
        let mut sink = vec![];
        let _ = s.read_to_end(&mut sink);
    });
    addr
}

#[test]
fn a_garbage_reply_exits_5_naming_the_fault() {
    let addr = fake(|_| {
        let mut h = Frame::new(200, RequestId::from(0), vec![]).encode().unwrap();
        h[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
        h
    });
    let out = run(veltix(["request", &addr, "x", "--timeout", "2s"]));
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    assert!(stderr(&out).contains("exceeds the limit"), "{}", stderr(&out));
}

#[test]
fn a_bad_hello_exits_3() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let hello = Frame::new(types::HELLO, RequestId::from(1), b"\x00\x09bad".to_vec());
            let _ = s.write_all(&hello.encode().unwrap());
            let _ = s.read_to_end(&mut vec![]);
        }
    });
    let out = run(veltix(["request", &addr, "x"]));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("handshake"), "{}", stderr(&out));
}

#[test]
fn bad_arguments_are_usage_errors() {
    for (args, says) in [
        (vec!["request", "localhost", "x"], "no port"),
        (vec!["request", "localhost:8080", "--type", "nope"], "unknown message type 'nope'"),
        (vec!["request", "localhost:8080", "--timeout", "soon"], "not a duration"),
        (vec!["request", "localhost:8080", "--type-name", "200"], "expected CODE=NAME"),
    ] {
        let out = run(veltix(&args));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

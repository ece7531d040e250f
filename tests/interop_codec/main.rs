//! The codec against the real reference, Python veltix 1.6.3: frames the
//! reference compiles decode in Rust to the same fields with the CRC
//! verified, and frames Rust encodes parse in the reference's
//! `Request.parse` to the same fields. Needs the venv that
//! `common/python.rs` provisions (PyPI must be reachable the first time).

#[path = "../common/mod.rs"]
mod common;

use std::ffi::OsStr;
use std::thread;

use common::golden;
use common::hex::{hex, unhex};
use common::python;
use serde::Deserialize;
use veltix::frame::now_ms;
use veltix::types::SYSTEM_TYPES;
use veltix::{Decoder, Frame, Header, ProtocolError, RequestId, DEFAULT_MAX_MESSAGE_SIZE};

/// Larger payloads go to the scripts through stdin: one argv string is
/// limited to 128 KiB on Linux.
const ARGV_HEX_LIMIT: usize = 32 * 1024;

/// No extra script arguments.
const NO_ARGS: &[&str] = &[];

/// A frame the reference should compile: `make_frame.py` arguments.
#[derive(Debug, Clone)]
struct PyCase {
    type_code: u16,
    /// Registered under this name unless the code is a system type.
    name: &'static str,
    payload: Vec<u8>,
    request_id: RequestId,
}

impl PyCase {
    fn new(type_code: u16, name: &'static str, payload: &[u8], request_id: u32) -> PyCase {
        PyCase {
            type_code,
            name,
            payload: payload.to_vec(),
            request_id: RequestId::from(request_id),
        }
    }
}

/// Runs `make_frame.py` and returns the reference's bytes.
fn python_compile(case: &PyCase, timestamp_ms: Option<u64>, extra: &[&str]) -> Vec<u8> {
    let payload_hex = hex(&case.payload);
    let big = payload_hex.len() > ARGV_HEX_LIMIT;
    let mut args = vec![
        case.type_code.to_string(),
        if big { "-".to_string() } else { payload_hex.clone() },
        case.request_id.to_string(),
    ];
    if !veltix::types::is_system(case.type_code) {
        args.extend(["--name".to_string(), case.name.to_string()]);
    }
    if let Some(ts) = timestamp_ms {
        args.extend(["--timestamp-ms".to_string(), ts.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let stdin = if big { payload_hex.as_bytes() } else { b"" };
    unhex(&python::run_py_ok("make_frame.py", &args, stdin))
}

/// What `parse_frame.py` reports for a frame.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct PyParsed {
    type_code: u16,
    type_name: String,
    content_hex: String,
    size: usize,
    hash_hex: String,
    timestamp_ms: u64,
    request_id_hex: String,
}

/// Runs `parse_frame.py` on `frame` (hex on stdin); `Err(stderr)` when the
/// reference rejects it.
fn python_parse<S: AsRef<OsStr>>(frame: &[u8], extra: &[S]) -> Result<PyParsed, String> {
    let output = python::run_py_input("parse_frame.py", extra, hex(frame).as_bytes());
    if output.status.success() {
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
        Ok(serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("parse_frame.py printed bad JSON ({e}): {stdout}")))
    } else {
        assert_eq!(output.status.code(), Some(1), "parse_frame.py crashed: {output:?}");
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// What the reference should report for `frame` (named `name`).
fn expected_parse(frame: &Frame, name: &str) -> PyParsed {
    PyParsed {
        type_code: frame.type_code,
        type_name: name.to_string(),
        content_hex: hex(&frame.payload),
        size: frame.payload.len(),
        hash_hex: format!("{:08x}", veltix::frame::crc32(&frame.payload)),
        timestamp_ms: frame.timestamp_ms,
        request_id_hex: frame.request_id.to_string(),
    }
}

/// Deterministic bytes that look random (a cheap LCG).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn python_cases() -> Vec<PyCase> {
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    vec![
        PyCase::new(200, "chat", b"Hello Server!", 0xa3f2_1c07),
        PyCase::new(0, "ping", b"", 1),
        PyCase::new(1, "pong", b"", 1),
        PyCase::new(10, "hello", &[0, 5, b'1', b'.', b'6', b'.', b'3'], 0xdead_beef),
        PyCase::new(11, "hello_ack", &[0, 5, b'1', b'.', b'6', b'.', b'3'], 0xdead_beef),
        PyCase::new(20, "error", b"boom", 0),
        PyCase::new(201, "status", b"", 0xffff_ffff),
        PyCase::new(401, "player_move", &all_bytes, 0x0102_0304),
        PyCase::new(402, "player_shoot", &[0u8; 1000], 0x8000_0000),
        PyCase::new(403, "game_state", &noise(1 << 20, 7), 0x0bad_f00d),
        PyCase::new(500, "plugin", &noise(70_000, 9), 42),
        PyCase::new(65535, "max_code", b"\xff\xfe\x00\x01", 0x7fff_ffff),
    ]
}

/// Runs `f` on every item in parallel (each runs a Python process).
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|item| s.spawn(|| f(item))).collect();
        handles.into_iter().map(|h| h.join().expect("worker panicked")).collect()
    })
}

/// Decodes `bytes` in Rust every way the library offers and checks each
/// agrees with `expected`.
fn assert_rust_decodes(bytes: &[u8], expected: &Frame, what: &str) {
    let header = Header::peek(bytes).unwrap_or_else(|| panic!("{what}: no header"));
    assert_eq!(header.crc, veltix::frame::crc32(&expected.payload), "{what}: CRC");
    assert_eq!(header.size as usize, expected.payload.len(), "{what}: size");

    let frame = Frame::decode(bytes, DEFAULT_MAX_MESSAGE_SIZE)
        .unwrap_or_else(|e| panic!("{what}: Frame::decode: {e}"));
    assert!(frame == *expected, "{what}: decoded {frame:?}, expected {expected:?}");

    let mut d = Decoder::default();
    let (a, b) = bytes.split_at(bytes.len() / 2);
    d.push(a);
    assert_eq!(d.next_frame(), Ok(None), "{what}: half a frame");
    d.push(b);
    let raw = d.next_raw().unwrap().unwrap_or_else(|| panic!("{what}: no frame"));
    assert!(raw.crc_ok(), "{what}: CRC not OK");
    assert!(raw.into_frame().unwrap() == *expected, "{what}: streaming decode differs");

    // And the Rust encoder reproduces the reference's bytes exactly.
    assert!(expected.encode().unwrap() == bytes, "{what}: Rust re-encoding differs");
}

// ---------------------------------------------------------------------------

#[test]
fn harness_provides_veltix_1_6_3() {
    let out = std::process::Command::new(python::python())
        .args(["-c", "import veltix; print(veltix.__version__)"])
        .output()
        .unwrap();
    assert_eq!(python::expect_success(&out, "import veltix").trim(), "1.6.3");
}

#[test]
fn golden_frames_are_what_the_reference_compiles() {
    let goldens = golden::golden_frames();
    let compiled = par_map(&goldens, |g| {
        let mut args = vec![
            g.type_code.to_string(),
            g.payload_hex.clone(),
            g.request_id_hex.clone(),
            "--timestamp-ms".to_string(),
            g.timestamp_ms.to_string(),
        ];
        if !veltix::types::is_system(g.type_code) {
            args.extend(["--name".to_string(), g.type_name.clone()]);
        }
        python::run_py_ok("make_frame.py", &args, b"").trim().to_string()
    });
    for (g, hex) in goldens.iter().zip(compiled) {
        assert_eq!(hex, g.frame_hex, "{}", g.name);
    }
}

#[test]
fn reference_frames_with_pinned_timestamps_decode_in_rust() {
    let cases = python_cases();
    let ts = 1_764_150_000_123;
    let compiled = par_map(&cases, |c| python_compile(c, Some(ts), &[]));
    for (case, bytes) in cases.iter().zip(compiled) {
        let expected = Frame {
            type_code: case.type_code,
            request_id: case.request_id,
            timestamp_ms: ts,
            payload: case.payload.clone(),
        };
        assert_rust_decodes(&bytes, &expected, case.name);
    }
}

#[test]
fn reference_frames_with_wall_clock_timestamps_decode_in_rust() {
    let cases: Vec<PyCase> =
        python_cases().into_iter().filter(|c| c.payload.len() < 100_000).collect();
    let before = now_ms();
    let compiled = par_map(&cases, |c| python_compile(c, None, &[]));
    let after = now_ms();
    let mut stream = vec![];
    let mut expected = vec![];
    for (case, bytes) in cases.iter().zip(compiled) {
        let ts = Header::peek(&bytes).unwrap().timestamp_ms;
        assert!((before..=after).contains(&ts), "{}: timestamp {ts} outside the run", case.name);
        let frame = Frame {
            type_code: case.type_code,
            request_id: case.request_id,
            timestamp_ms: ts,
            payload: case.payload.clone(),
        };
        assert_rust_decodes(&bytes, &frame, case.name);
        stream.extend(bytes);
        expected.push(frame);
    }
    // The reference's frames back to back, as on a socket, fed 13 bytes at
    // a time.
    let mut d = Decoder::default();
    let mut got = vec![];
    for chunk in stream.chunks(13) {
        d.push(chunk);
        while let Some(f) = d.next_frame().unwrap() {
            got.push(f);
        }
    }
    assert!(got == expected, "stream decode differs");
}

#[test]
fn reference_utf8_text_decodes_in_rust() {
    let texts = ["Grüße, 世界! 🦀🐍 ∑ ℵ₀ — «ok»", "é", "日本語のテキスト", "\u{10FFFF}"];
    let outs = par_map(&texts, |text| {
        let case = PyCase::new(200, "chat", b"", 5);
        python_compile(&case, Some(1_000), &["--text", text])
    });
    for (text, bytes) in texts.iter().zip(outs) {
        let frame = Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE).unwrap();
        assert_eq!(std::str::from_utf8(&frame.payload), Ok(*text));
        let expected = Frame {
            type_code: 200,
            request_id: RequestId::from(5),
            timestamp_ms: 1_000,
            payload: text.as_bytes().to_vec(),
        };
        assert_rust_decodes(&bytes, &expected, text);
    }
}

/// Rust frames for the reference to parse, with the name it should report
/// and the `--register` it needs.
fn rust_cases() -> Vec<(Frame, &'static str, Option<&'static str>)> {
    let mut cases = vec![];
    for &(code, name, _) in SYSTEM_TYPES {
        let id = RequestId::from(u32::from(code) * 0x0101_0101);
        cases.push((Frame::new(code, id, vec![]), name, None));
        cases.push((Frame::new(code, id, b"\x00\x05payload".to_vec()), name, None));
    }
    let app = |code, payload: Vec<u8>, id: u32, ts| Frame {
        type_code: code,
        request_id: RequestId::from(id),
        timestamp_ms: ts,
        payload,
    };
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    cases.extend([
        (app(200, b"Hello Server!".to_vec(), 0xa3f2_1c07, now_ms()), "chat", Some("200=chat")),
        (app(201, vec![], 0, 0), "type_201", Some("201")),
        (app(401, all_bytes, 0xffff_ffff, u64::MAX), "player_move", Some("401=player_move")),
        (app(403, noise(1 << 20, 3), 1, 1_764_150_000_000), "game_state", Some("403=game_state")),
        (app(405, "héllo 世界 🦀".as_bytes().to_vec(), 2, 1), "chat_msg", Some("405=chat_msg")),
        (app(65535, vec![0xff; 3], 3, 1 << 53), "max", Some("65535=max")),
    ]);
    cases
}

#[test]
fn rust_frames_parse_in_the_reference() {
    let cases = rust_cases();
    let parsed = par_map(&cases, |(frame, _, register)| {
        let register: Vec<String> = register.iter().map(|r| format!("--register={r}")).collect();
        python_parse(&frame.encode().unwrap(), &register)
    });
    for ((frame, name, _), parsed) in cases.iter().zip(parsed) {
        let parsed = parsed.unwrap_or_else(|e| panic!("reference rejected {frame:?}: {e}"));
        assert_eq!(parsed, expected_parse(frame, name), "{frame:?}");
    }
}

#[test]
fn system_type_names_match_the_reference_registry() {
    let names = par_map(SYSTEM_TYPES, |&(code, _, _)| {
        let bytes = Frame::new(code, RequestId::from(1), vec![]).encode().unwrap();
        python_parse(&bytes, NO_ARGS).map(|p| p.type_name)
    });
    for (&(code, name, _), got) in SYSTEM_TYPES.iter().zip(names) {
        assert_eq!(got.as_deref(), Ok(name), "code {code}");
    }
}

#[test]
fn the_reference_recompiles_rust_frames_to_the_same_bytes() {
    // Full circle: Rust encodes, the reference compiles the same fields,
    // the bytes are identical.
    let cases: Vec<_> = rust_cases()
        .into_iter()
        .filter(|(f, _, _)| f.timestamp_ms < 1 << 45) // the pinned clock is a float
        .collect();
    let compiled = par_map(&cases, |(frame, name, _)| {
        let case = PyCase {
            type_code: frame.type_code,
            name,
            payload: frame.payload.clone(),
            request_id: frame.request_id,
        };
        python_compile(&case, Some(frame.timestamp_ms), &[])
    });
    for ((frame, _, _), bytes) in cases.iter().zip(compiled) {
        assert!(frame.encode().unwrap() == bytes, "{frame:?}: bytes differ");
    }
}

#[test]
fn both_reject_a_corrupted_payload() {
    let mut bytes = Frame::new(0, RequestId::from(9), b"abc".to_vec()).encode().unwrap();
    *bytes.last_mut().unwrap() ^= 0x20;
    let err = python_parse(&bytes, NO_ARGS).unwrap_err();
    assert!(err.contains("Hash mismatch"), "{err}");
    assert!(matches!(
        Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE),
        Err(ProtocolError::CrcMismatch { .. })
    ));
}

#[test]
fn both_reject_a_short_payload() {
    let bytes = Frame::new(0, RequestId::from(9), b"abcdef".to_vec()).encode().unwrap();
    let short = &bytes[..bytes.len() - 1];
    let err = python_parse(short, NO_ARGS).unwrap_err();
    assert!(err.contains("Size mismatch"), "{err}");
    assert!(matches!(
        Frame::decode(short, DEFAULT_MAX_MESSAGE_SIZE),
        Err(ProtocolError::Truncated { needed: 28, available: 27 })
    ));
}

#[test]
fn both_apply_the_size_limit_to_the_whole_frame() {
    // A 100-byte frame passes a limit of 100 and fails a limit of 99, in
    // both implementations (the limit counts the 22-byte header).
    let bytes = Frame::new(0, RequestId::from(9), vec![7u8; 78]).encode().unwrap();
    assert_eq!(bytes.len(), 100);
    assert!(python_parse(&bytes, &["--max-message-size", "100"]).is_ok());
    let err = python_parse(&bytes, &["--max-message-size", "99"]).unwrap_err();
    assert!(err.contains("Message too large"), "{err}");
    assert!(Frame::decode(&bytes, 100).is_ok());
    assert!(matches!(
        Frame::decode(&bytes, 99),
        Err(ProtocolError::FrameTooLarge { size: 100, max_size: 99, .. })
    ));
}

#[test]
fn unregistered_codes_are_rejected_by_the_reference_but_not_on_the_wire() {
    // The reference drops codes its process has not registered; for Rust
    // any code is a valid frame (names are only labels).
    let frame = Frame::new(3, RequestId::from(1), b"x".to_vec());
    let bytes = frame.encode().unwrap();
    let err = python_parse(&bytes, NO_ARGS).unwrap_err();
    assert!(err.contains("Unknown message type code: 3"), "{err}");
    assert_eq!(python_parse(&bytes, &["--register", "3"]), Ok(expected_parse(&frame, "type_3")));
    assert_eq!(Frame::decode(&bytes, DEFAULT_MAX_MESSAGE_SIZE), Ok(frame));
}

#[test]
fn parse_frame_takes_hex_as_an_argument_too() {
    let goldens = golden::golden_frames();
    let g = goldens.iter().find(|g| g.type_code == 200).expect("a chat frame");
    let out = python::run_py("parse_frame.py", &[g.frame_hex.as_str(), "--register=200=chat"]);
    let parsed: PyParsed =
        serde_json::from_str(&python::expect_success(&out, "parse_frame.py")).unwrap();
    assert_eq!(parsed, expected_parse(&g.to_frame(), &g.type_name));
}

//! `veltix encode`: golden frames byte for byte, every payload source and
//! output format round-tripping through `veltix decode`.

use crate::decode::{vx_golden, vx_message};
use crate::util::{
    code, golden, json_lines, run, run_with_stdin, stderr, stdout, tohex, unhex, veltix,
};

fn fixed(args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["encode".into(), "--id".into(), "a3f21c07".into()];
    v.extend(["--timestamp".into(), "1764150000123".into()]);
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

/// Decodes `bytes` as JSON lines and returns the single frame object.
fn decode_one(bytes: &[u8]) -> serde_json::Value {
    let out = run_with_stdin(veltix(["decode", "--json"]), bytes);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let mut lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    lines.remove(0)
}

#[test]
fn every_golden_vector_encodes_to_the_exact_bytes() {
    for v in golden() {
        let out = run(veltix([
            "encode",
            "--type",
            &v.type_code.to_string(),
            "--id",
            &v.request_id_hex,
            "--timestamp",
            &v.timestamp_ms.to_string(),
            "--hex",
            &v.payload_hex,
        ]));
        assert_eq!(code(&out), 0, "{}: {}", v.name, stderr(&out));
        assert_eq!(tohex(&out.stdout), v.frame_hex, "{}", v.name);
    }
}

#[test]
fn text_argument_is_the_payload() {
    let out = run(veltix(fixed(&["Hello Server!"])));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Same bytes as the chat_hello golden frame (type 200 is the default).
    assert_eq!(tohex(&out.stdout), golden()[0].frame_hex);
    let frame = decode_one(&out.stdout);
    assert_eq!(frame["payload_text"], "Hello Server!");
}

#[test]
fn stdin_file_and_hex_payloads_round_trip() {
    let payload = b"\x00\x01binary\xff payload";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payload.bin");
    std::fs::write(&path, payload).unwrap();
    let at_file = format!("@{}", path.display());
    let hex = tohex(payload);
    let spaced: String =
        hex.as_bytes().chunks(2).map(|c| format!("{} ", String::from_utf8_lossy(c))).collect();

    let from_stdin = run_with_stdin(veltix(fixed(&["-"])), payload);
    let from_file = run(veltix(fixed(&[&at_file])));
    let from_hex = run(veltix(fixed(&["--hex", &hex])));
    let from_spaced_hex = run(veltix(fixed(&["--hex", &spaced])));
    for out in [&from_stdin, &from_file, &from_hex, &from_spaced_hex] {
        assert_eq!(code(out), 0, "{}", stderr(out));
        assert_eq!(out.stdout, from_stdin.stdout);
        let frame = decode_one(&out.stdout);
        assert_eq!(frame["payload_hex"], hex);
        assert_eq!(frame["request_id"], "a3f21c07");
        assert_eq!(frame["timestamp_ms"], 1764150000123u64);
        assert_eq!(frame["crc_ok"], true);
    }
}

#[test]
fn each_output_format_round_trips() {
    let bin = run(veltix(fixed(&["--output", "bin", "--type", "201", "status?"])));
    let hex = run(veltix(fixed(&["--output", "hex", "--type", "201", "status?"])));
    assert_eq!(code(&bin), 0);
    assert_eq!(code(&hex), 0);
    let text = stdout(&hex);
    assert!(text.ends_with('\n'));
    assert_eq!(unhex(text.trim_end()), bin.stdout);
    for out in [&bin, &hex] {
        let frame = decode_one(&out.stdout);
        assert_eq!(frame["type_code"], 201);
        assert_eq!(frame["payload_text"], "status?");
    }
}

#[test]
fn piped_output_defaults_to_binary() {
    let out = run(veltix(fixed(&["x"])));
    assert_eq!(out.stdout.len(), 22 + 1);
    assert_eq!(&out.stdout[..2], &[0x00, 0xc8]);
}

#[test]
fn no_payload_is_an_empty_frame() {
    let out = run(veltix(fixed(&["--type", "ping"])));
    assert_eq!(tohex(&out.stdout), "000000000000000000000000019abf88b9fba3f21c07");
}

#[test]
fn type_names_resolve() {
    let out = run(veltix(fixed(&["--type-name", "200=chat", "--type", "chat", "hi"])));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(&out.stdout[..2], &[0x00, 0xc8]);
    let out = run(veltix(fixed(&["--type", "hello_ack"])));
    assert_eq!(&out.stdout[..2], &[0x00, 0x0b]);
    let out = run(veltix(fixed(&["--type", "0x191"])));
    assert_eq!(&out.stdout[..2], &[0x01, 0x91]);
}

#[test]
fn defaults_are_a_random_id_and_the_current_time() {
    let before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as u64;
    let a = decode_one(&run(veltix(["encode", "a"])).stdout);
    let b = decode_one(&run(veltix(["encode", "a"])).stdout);
    let after =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as u64;
    assert_ne!(a["request_id"], b["request_id"]);
    let ts = a["timestamp_ms"].as_u64().unwrap();
    assert!(before <= ts && ts <= after, "{before} <= {ts} <= {after}");
}

#[test]
fn errors_name_what_the_user_typed() {
    // An unknown type is a usage error, as in every command.
    let out = run(veltix(["encode", "--type", "chatter", "x"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("chatter"), "{}", stderr(&out));

    let out = run(veltix(["encode", "--type", "70000", "x"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("70000"), "{}", stderr(&out));

    // Bad values are usage errors (exit 2), named by clap.
    let out = run(veltix(["encode", "--id", "xyz", "x"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("'xyz' for '--id"), "{}", stderr(&out));

    let out = run(veltix(["encode", "--hex", "48 6g"]));
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("'6g'"), "{}", stderr(&out));

    let out = run(veltix(["encode", "@/nonexistent/payload.json"]));
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("/nonexistent/payload.json"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    let out = run(veltix(["encode", "--hex", "00", "text"]));
    assert_eq!(code(&out), 2, "--hex and PAYLOAD conflict: {}", stderr(&out));
}

#[test]
fn the_error_prefix_is_coloured_only_when_asked() {
    let out = run(veltix(["--color", "always", "encode", "--type", "no_such_type"]));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    // Red and bold (crossterm's palette), then the plain message.
    assert!(err.contains("error:\x1b[0m "), "{err:?}");
    assert!(err.starts_with("\x1b[38;5;9m\x1b[1merror:"), "{err:?}");
    let out = run(veltix(["--color", "never", "encode", "--type", "no_such_type"]));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
}

// ---- --wire vx ---------------------------------------------------------

#[test]
fn vx_spec_example_is_exact() {
    // From veltix 3.3.0's own compile(): type 200, "hello", id 0x1234.
    for id in ["1234", "0x1234"] {
        let out = run(veltix(["encode", "--wire", "vx", "--type", "200", "--id", id, "hello"]));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(tohex(&out.stdout), "56580000c8000000053610a686123468656c6c6f");
    }
}

#[test]
fn every_short_golden_vx_vector_encodes_to_the_exact_bytes() {
    for v in vx_golden().iter().filter(|v| v.short) {
        let code_arg = v.type_code.to_string();
        let payload = tohex(&v.payload);
        let out = run(veltix([
            "encode",
            "--wire",
            "vx",
            "--type",
            &code_arg,
            "--id",
            &v.request_id_hex,
            "--hex",
            &payload,
        ]));
        assert_eq!(code(&out), 0, "{}: {}", v.name, stderr(&out));
        assert_eq!(out.stdout, v.frame, "{}", v.name);
    }
}

#[test]
fn vx_frames_round_trip_through_decode() {
    let out = run(veltix(["encode", "--wire", "vx", "--type", "201", "--id", "ff", "status?"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frame = decode_one(&out.stdout);
    assert_eq!(frame["wire"], "vx");
    assert_eq!(frame["flags"], 0);
    assert_eq!(frame["type_code"], 201);
    assert_eq!(frame["request_id"], "00ff");
    assert_eq!(frame["payload_text"], "status?");
    assert_eq!(frame["crc_ok"], true);
    // The default id is random, 16 bits.
    let a = decode_one(&run(veltix(["encode", "--wire", "vx", "a"])).stdout);
    let b = decode_one(&run(veltix(["encode", "--wire", "vx", "a"])).stdout);
    assert_eq!(a["request_id"].as_str().unwrap().len(), 4);
    assert_ne!(a["request_id"], b["request_id"]);
}

#[test]
fn vx_handshake_messages_are_3_3_0s_bytes() {
    for (arg, golden) in [
        ("server", "server_hello"),
        ("client", "client_hello"),
        ("ok", "result_ok"),
        ("server-full", "error_server_full"),
    ] {
        let out = run(veltix(["encode", "--wire", "vx", "--handshake", arg]));
        assert_eq!(code(&out), 0, "{arg}: {}", stderr(&out));
        assert_eq!(out.stdout, vx_message(golden).0, "{arg}");
    }
}

#[test]
fn vx_usage_errors() {
    let usage = |args: &[&str], needle: &str| {
        let mut all = vec!["encode"];
        all.extend_from_slice(args);
        let out = run(veltix(all));
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    };
    // VX ids are 16 bits; 1.6.3 ids are 8 hex digits.
    usage(&["--wire", "vx", "--id", "12345", "x"], "'12345' is not a --wire vx request id");
    usage(&["--wire", "vx", "--id", "a3f21c07", "x"], "at most 4 hex digits");
    usage(&["--id", "1234", "x"], "'1234' is not a --wire 1.6 request id");
    usage(&["--wire", "vx", "--timestamp", "5", "x"], "VX frames carry no timestamp");
    usage(&["--handshake", "ok"], "add --wire vx");
    usage(&["--wire", "vx", "--handshake", "ok", "hi"], "cannot be used with");
    usage(&["--wire", "auto", "x"], "[possible values: 1.6, vx]");
    // The limit counts the 15-byte header: 1K carries 1009 bytes.
    let fits = "x".repeat(1009);
    let out = run(veltix(["encode", "--wire", "vx", "--max-message-size", "1K", &fits]));
    assert_eq!((code(&out), out.stdout.len()), (0, 1024), "{}", stderr(&out));
    usage(
        &["--wire", "vx", "--max-message-size", "1K", &format!("{fits}x")],
        "larger than 1009 bytes",
    );
}

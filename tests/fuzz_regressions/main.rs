//! The fuzz targets' invariants (fuzz/src/lib.rs, compiled in here as is),
//! replayed in every `cargo test` on the seeds and on the inputs under
//! tests/data/fuzz/TARGET/: a crash the fuzzer found, once fixed, goes
//! there and stays fixed.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod checks;
#[path = "../common/mod.rs"]
mod common;

use common::golden::golden_frames;

const TARGETS: [&str; 8] = [
    "decoder_whole",
    "decoder_split",
    "handshake",
    "session",
    "vx_decoder",
    "vx_handshake",
    "hex_input",
    "pcap_input",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files of a directory (none if it does not exist), sorted by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// The saved inputs of one target, as (name, bytes).
fn saved(target: &str) -> Vec<(String, Vec<u8>)> {
    let dirs =
        [root().join("tests/data/fuzz").join(target), root().join("fuzz/seeds").join(target)];
    dirs.iter()
        .flat_map(|d| files(d))
        .map(|p| (p.display().to_string(), fs::read(&p).unwrap()))
        .collect()
}

/// Runs `check` on every input, naming the one that fails.
fn replay(inputs: Vec<(String, Vec<u8>)>, check: impl Fn(&[u8])) {
    for (name, bytes) in inputs {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(result.is_ok(), "{name} fails its invariants");
    }
}

/// The golden vectors as (name, frame, payload).
fn golden() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    golden_frames()
        .into_iter()
        .map(|g| {
            let (frame, payload) = (g.frame(), g.payload());
            (g.name, frame, payload)
        })
        .collect()
}

fn golden_inputs() -> Vec<(String, Vec<u8>)> {
    let frames: Vec<_> = golden().into_iter().map(|(name, frame, _)| (name, frame)).collect();
    let stream = frames.iter().flat_map(|(_, f)| f.clone()).collect();
    let mut cut: Vec<u8> = frames.iter().flat_map(|(_, f)| f.clone()).collect();
    cut.truncate(cut.len() - 5);
    let mut bad_crc = frames[0].1.clone();
    bad_crc[22] ^= 1;
    let mut too_large = frames[1].1.clone();
    too_large.extend_from_slice(&[0, 200, 0xff, 0xff, 0xff, 0xff]);
    too_large.extend_from_slice(&frames[0].1[6..]);
    let mut all = frames;
    all.extend([
        ("stream".into(), stream),
        ("stream cut short".into(), cut),
        ("bad crc".into(), bad_crc),
        ("4 GiB header".into(), too_large),
        ("empty".into(), Vec::new()),
    ]);
    all
}

#[test]
fn every_target_has_a_place_for_its_inputs() {
    let script = fs::read_to_string(root().join("scripts/fuzz")).unwrap();
    for t in TARGETS {
        assert!(root().join("fuzz/fuzz_targets").join(format!("{t}.rs")).is_file(), "{t}");
        assert!(script.contains(t), "scripts/fuzz does not know {t}");
    }
    let loose = files(&root().join("tests/data/fuzz"));
    assert!(loose.is_empty(), "put these in a directory named after their target: {loose:?}");
}

#[test]
fn session() {
    // Both sides, with and without the handshake played first, fed each
    // golden input as one step and then a byte per step, a second apart.
    for (name, bytes) in golden_inputs() {
        for flags in [0u8, 1, 2, 3] {
            let mut one = vec![flags];
            for chunk in bytes.chunks(255) {
                one.extend([chunk.len() as u8, 4]);
                one.extend_from_slice(chunk);
            }
            let mut split = vec![flags];
            for b in bytes.iter().take(200) {
                split.extend([1, 0, *b]);
            }
            replay(vec![(format!("{name} whole ({flags})"), one)], checks::session);
            replay(vec![(format!("{name} split ({flags})"), split)], checks::session);
        }
    }
    // The same on the VX profile (bits 6..7 of the flags: vx, then auto).
    for v in vx_golden() {
        for flags in [0x40u8, 0x41, 0x42, 0x43, 0x80, 0x82] {
            let mut one = vec![flags];
            for chunk in v.chunks(255) {
                one.extend([chunk.len() as u8, 4]);
                one.extend_from_slice(chunk);
            }
            replay(vec![(format!("vx whole ({flags:#x})"), one)], checks::session);
        }
    }
    replay(saved("session"), checks::session);
}

/// Every frame and handshake message veltix 3.3.0 made (tests/data).
fn vx_golden() -> Vec<Vec<u8>> {
    let text = fs::read_to_string(root().join("tests/data/veltix-3.3.0-vx-frames.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hex = |v: &serde_json::Value| common::hex::unhex(v.as_str().unwrap());
    // Frames over 256 bytes are stored as a header and a pattern: skipped.
    let mut out: Vec<Vec<u8>> = json["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["frame_hex"].is_string())
        .map(|v| hex(&v["frame_hex"]))
        .collect();
    out.extend(
        json["handshake"]["messages"].as_array().unwrap().iter().map(|m| hex(&m["bytes_hex"])),
    );
    out
}

#[test]
fn vx_decoder() {
    let all = vx_golden();
    let stream: Vec<u8> = all.iter().flatten().copied().collect();
    let mut inputs: Vec<(String, Vec<u8>)> =
        all.into_iter().enumerate().map(|(i, v)| (format!("vx golden {i}"), v)).collect();
    inputs.push(("vx stream".into(), stream));
    replay(inputs, checks::vx_decoder);
    replay(saved("vx_decoder"), checks::vx_decoder);
}

#[test]
fn vx_handshake() {
    let inputs = vx_golden().into_iter().enumerate().map(|(i, v)| (format!("vx golden {i}"), v));
    replay(inputs.collect(), checks::vx_handshake);
    replay(saved("vx_handshake"), checks::vx_handshake);
}

#[test]
fn decoder_whole() {
    replay(golden_inputs(), checks::decoder_whole);
    replay(saved("decoder_whole"), checks::decoder_whole);
}

#[test]
fn decoder_split() {
    // Saved inputs here are streams (the fuzzer's own inputs need the
    // `arbitrary` crate to read): each is replayed in a spread of splits.
    let mut inputs = golden_inputs();
    inputs.extend(saved("decoder_split"));
    let split = |data: &[u8]| {
        for small in [false, true] {
            for sizes in [vec![1; data.len()], vec![0, 7, 22, 1, 3], (0..64).collect()] {
                checks::decoder_split(data, &sizes, small, None);
                for chunk in [0, 1, 13, 8192] {
                    checks::decoder_split(data, &sizes, small, Some(chunk));
                }
            }
        }
    };
    replay(inputs, split);
}

#[test]
fn handshake() {
    let mut inputs: Vec<(String, Vec<u8>)> =
        golden().into_iter().map(|(name, _, payload)| (name, payload)).collect();
    for v in ["1.6.3", "01.6.3", "1.6", "1.6.3.4", " 1.6.3 ", "+1.6.3", "\u{e9}.1.2", ""] {
        inputs.push((format!("{v:?}"), v.as_bytes().to_vec()));
    }
    replay(inputs, checks::handshake);
    replay(saved("handshake"), checks::handshake);
}

#[test]
fn hex_input() {
    let stream: Vec<u8> = golden().into_iter().flat_map(|(_, frame, _)| frame).collect();
    let mut inputs: Vec<(String, Vec<u8>)> = [
        ("plain", checks::plain(&stream)),
        ("xxd", checks::xxd(&stream)),
        ("hexdump -C", checks::hexdump_c(&stream)),
        ("crlf", "# comment\r\n00 c8\r\n\r\n".into()),
        ("odd", "00c".into()),
        ("star", "00000000  00 01  |..|\n*\n".into()),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_string(), text.into_bytes()))
    .collect();
    inputs.push(("stream as bytes".into(), stream));
    replay(inputs, checks::hex_input);
    replay(saved("hex_input"), checks::hex_input);
}

#[test]
fn pcap_input() {
    let captures = files(&root().join("tests/data/decode"));
    assert!(!captures.is_empty());
    let mut inputs: Vec<(String, Vec<u8>)> =
        captures.iter().map(|p| (p.display().to_string(), fs::read(p).unwrap())).collect();
    // Every capture cut short, wherever the cut falls.
    let whole = inputs.clone();
    for (name, bytes) in &whole {
        for cut in (0..bytes.len()).step_by(13) {
            inputs.push((format!("{name} cut at {cut}"), bytes[..cut].to_vec()));
        }
    }
    replay(inputs, checks::pcap_input);
    replay(saved("pcap_input"), checks::pcap_input);
}

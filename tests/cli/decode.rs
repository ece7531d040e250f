//! `veltix decode`: golden frames as raw bytes, hex text, `xxd` output and
//! inside pcap/pcapng captures; invalid input; JSON lines; colours.

use std::borrow::Cow;
use std::time::Duration;

use etherparse::{LinuxSllPacketType, PacketBuilder, PacketBuilderStep};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use serde_json::Value;

use crate::util::{
    code, data_path, golden, golden_stream, json_lines, run, run_with_stdin, stderr, stdout, tohex,
    unhex, veltix, xxd, Vector,
};

/// Checks that `frames` are the golden vectors in order, field by field.
fn assert_golden_json(frames: &[Value]) {
    let vectors = golden();
    assert_eq!(frames.len(), vectors.len());
    let mut offset = 0u64;
    for (i, (f, v)) in frames.iter().zip(&vectors).enumerate() {
        assert_eq!(f["frame"], i as u64 + 1, "{}", v.name);
        assert_golden_frame(f, v);
        assert_eq!(f["offset"], offset, "{}", v.name);
        offset += v.frame().len() as u64;
    }
}

/// Checks one JSON frame object against a golden vector.
fn assert_golden_frame(f: &Value, v: &Vector) {
    assert_eq!(f["type_code"], v.type_code, "{}", v.name);
    assert_eq!(f["size"], v.payload().len(), "{}", v.name);
    assert_eq!(f["crc_stated"], v.crc32_hex, "{}", v.name);
    assert_eq!(f["crc_computed"], v.crc32_hex, "{}", v.name);
    assert_eq!(f["crc_ok"], true, "{}", v.name);
    assert_eq!(f["timestamp_ms"], v.timestamp_ms, "{}", v.name);
    assert_eq!(f["request_id"], v.request_id_hex, "{}", v.name);
    match String::from_utf8(v.payload()) {
        Ok(text) => assert_eq!(f["payload_text"], text, "{}", v.name),
        Err(_) => assert_eq!(f["payload_hex"], v.payload_hex, "{}", v.name),
    }
    if matches!(v.type_code, 10 | 11) {
        assert_eq!(f["version"], "1.6.3", "{}", v.name);
    } else {
        assert!(f.get("version").is_none(), "{}", v.name);
    }
}

fn decode_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut all = vec!["decode"];
    all.extend_from_slice(args);
    run_with_stdin(veltix(all), input)
}

#[test]
fn golden_frames_as_raw_bytes() {
    let out = decode_stdin(&["--json"], &golden_stream());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_golden_json(&json_lines(&out));
}

#[test]
fn type_names_match_the_reference() {
    // The names veltix 1.6.3's examples give these codes.
    let names = ["--type-name", "200=chat", "--type-name", "401=player_move"];
    let out = decode_stdin(&[&["--json"][..], &names].concat(), &golden_stream());
    for (f, v) in json_lines(&out).iter().zip(golden()) {
        assert_eq!(f["type_name"], v.type_name, "{}", v.name);
    }
}

#[test]
fn golden_frames_as_hex_text_in_every_layout() {
    let stream = golden_stream();
    let continuous = tohex(&stream);
    let spaced: Vec<String> = stream.iter().map(|b| format!("{b:02x}")).collect();
    let spaced = spaced.chunks(20).map(|c| c.join(" ")).collect::<Vec<_>>().join("\n");
    let per_frame: String = golden().iter().map(|v| format!("{}\n", v.frame_hex)).collect();
    for text in [continuous, spaced, per_frame, xxd(&stream)] {
        let out = decode_stdin(&["--json"], text.as_bytes());
        assert_eq!(code(&out), 0, "{}\n{text}", stderr(&out));
        assert_golden_json(&json_lines(&out));
        let forced = decode_stdin(&["--json", "--input", "hex"], text.as_bytes());
        assert_eq!(forced.stdout, out.stdout);
    }
}

#[test]
fn xxd_file_and_binary_file_decode_alike() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("frames.bin");
    let txt = dir.path().join("frames.xxd");
    std::fs::write(&bin, golden_stream()).unwrap();
    std::fs::write(&txt, xxd(&golden_stream())).unwrap();
    let a = run(veltix(["decode", "--json", bin.to_str().unwrap()]));
    let b = run(veltix(["decode", "--json", txt.to_str().unwrap()]));
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    assert_golden_json(&json_lines(&a));
}

#[test]
fn listing_shows_every_field() {
    let out = decode_stdin(&["--type-name", "401=player_move"], &golden_stream());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "frame 1  offset 0  type_200 (200)  13 bytes  crc 2b8cf0b3 OK  2025-11-26T09:40:00.123Z  id a3f21c07"
    );
    assert!(
        text.contains(
            "    0000 | 48 65 6c 6c 6f 20 53 65  72 76 65 72 21          | Hello Server!\n"
        ),
        "{text}"
    );
    assert!(text.contains("frame 2  offset 35  ping (0)  0 bytes  crc 00000000 OK"), "{text}");
    assert!(text.contains("hello (10)  7 bytes  crc 853cf6ee OK  2025-11-26T09:40:00.000Z  id deadbeef  version 1.6.3"), "{text}");
    assert!(text.contains("player_move (401)  32 bytes"), "{text}");
    assert!(text.ends_with("7 frames, 0 invalid\n"), "{text}");
    assert!(!text.contains('\x1b'), "no colours when piped");
}

#[test]
fn type_name_labels_frames() {
    let frame = golden()[0].frame();
    let out = decode_stdin(&["--type-name", "200=chat"], &frame);
    assert!(stdout(&out).contains("  chat (200)  13 bytes"), "{}", stdout(&out));
    let out = decode_stdin(&["--json", "--type-name", "200=chat"], &frame);
    assert_eq!(json_lines(&out)[0]["type_name"], "chat");
    let out = decode_stdin(&["--json"], &frame);
    assert_eq!(json_lines(&out)[0]["type_name"], "type_200");
}

#[test]
fn crc_mismatch_is_shown_and_fails() {
    let mut stream = golden_stream();
    stream[22] ^= 0x01; // first payload byte of chat_hello: 'H' -> 'I'
    let out = decode_stdin(&[], &stream);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("crc 2b8cf0b3 MISMATCH (payload hashes to "), "{text}");
    assert!(text.ends_with("7 frames, 1 invalid\n"), "{text}");
    let out = decode_stdin(&["--json"], &stream);
    assert_eq!(code(&out), 1);
    let first = &json_lines(&out)[0];
    assert_eq!(first["crc_ok"], false);
    assert_eq!(first["crc_stated"], "2b8cf0b3");
    assert_ne!(first["crc_computed"], "2b8cf0b3");
    assert_eq!(first["payload_text"], "Iello Server!");
}

#[test]
fn truncated_frame_is_reported_with_its_offset() {
    let stream = golden_stream();
    let cut = &stream[..stream.len() - 5];
    let last_offset: usize = golden().iter().rev().skip(1).map(|v| v.frame().len()).sum();
    let out = decode_stdin(&[], cut);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let line = format!(
        "error  offset {last_offset}  incomplete frame: the input ends after 38 of its 43 bytes"
    );
    assert!(text.contains(&line), "{text}");
    assert!(text.ends_with("7 frames, 1 invalid\n"), "{text}");

    let out = decode_stdin(&["--json"], cut);
    assert_eq!(code(&out), 1);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 7);
    let err = &lines[6];
    assert_eq!(err["kind"], "truncated");
    assert_eq!(err["offset"], last_offset);
    assert!(err["error"].as_str().unwrap().contains("38 of its 43 bytes"));

    // A header cut short.
    let out = decode_stdin(&[], &stream[..10]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains(
        "error  offset 0  incomplete frame: the input ends after 10 of the 22 header bytes"
    ));
}

#[test]
fn oversize_header_stops_decoding() {
    let mut stream = golden()[1].frame(); // ping, 22 bytes
    let mut big = golden()[0].frame();
    big[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
    stream.extend(&big);
    let out = decode_stdin(&[], &stream);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("frame 1  offset 0  ping (0)"), "{text}");
    assert!(text.contains("error  offset 22  frame of 4294967317 bytes"), "{text}");
    assert!(text.contains("exceeds the limit of 10485760 bytes"), "{text}");
    assert!(text.ends_with("2 frames, 1 invalid\n"), "{text}");

    // The limit counts the header: the 35-byte chat frame needs 35.
    let chat = golden()[0].frame();
    let out = decode_stdin(&["--max-message-size", "34", "--json"], &chat);
    assert_eq!(code(&out), 1);
    assert_eq!(json_lines(&out)[0]["kind"], "too_large");
    let out = decode_stdin(&["--max-message-size", "35"], &chat);
    assert_eq!(code(&out), 0);
    let out = decode_stdin(&["--max-message-size", "lots"], &chat);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("'lots'"), "{}", stderr(&out));
}

#[test]
fn max_bytes_cuts_the_dump() {
    let binary = golden()[5].frame(); // 32-byte payload
    let out = decode_stdin(&["--max-bytes", "16"], &binary);
    let text = stdout(&out);
    assert!(text.contains("    0000 | 00 01 02"), "{text}");
    assert!(!text.contains("    0010 |"), "{text}");
    assert!(text.contains("... 16 more bytes not shown (32 in all)"), "{text}");
    let out = decode_stdin(&["--max-bytes", "0"], &binary);
    assert!(stdout(&out).contains("    0010 | 10 11"), "{}", stdout(&out));
}

#[test]
fn unreadable_path_names_the_path() {
    let out = run(veltix(["decode", "/nonexistent/capture.pcap"]));
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("/nonexistent/capture.pcap"), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let out = run(veltix(["decode", dir.path().to_str().unwrap()]));
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains(dir.path().to_str().unwrap()), "{}", stderr(&out));
}

#[test]
fn bad_hex_names_the_line() {
    let out = decode_stdin(&[], b"00c8 0000\nzz\n");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("line 2: 'zz' is not hex"), "{}", stderr(&out));
}

#[test]
fn empty_input_is_zero_frames() {
    let out = decode_stdin(&[], b"");
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "0 frames, 0 invalid\n");
}

#[test]
fn colours_follow_the_color_flag() {
    let mut stream = golden_stream();
    stream[22] ^= 1;
    let out = decode_stdin(&["--color", "always"], &stream);
    assert!(stdout(&out).contains('\x1b'), "{}", stdout(&out));
    // `always` beats NO_COLOR; `auto` does not colour a pipe.
    let mut cmd = veltix(["decode", "--color", "always"]);
    cmd.env("NO_COLOR", "1");
    assert!(stdout(&run_with_stdin(cmd, &stream)).contains('\x1b'));
    let out = decode_stdin(&["--color", "never"], &stream);
    assert!(!stdout(&out).contains('\x1b'));
    let out = decode_stdin(&["--json", "--color", "always"], &stream);
    assert!(!stdout(&out).contains('\x1b'), "JSON is never coloured");
}

// ---- captures -------------------------------------------------------

const CLIENT_V4: [u8; 4] = [10, 0, 0, 1];
const SERVER_V4: [u8; 4] = [10, 0, 0, 2];
const CLIENT_V6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SERVER_V6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const CLIENT_PORT: u16 = 50123;
const SERVER_PORT: u16 = 7000;

#[derive(Clone, Copy)]
enum Link {
    Ethernet,
    LinuxSll,
    RawIp,
}

#[derive(Clone, Copy, PartialEq)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    Fin,
}

/// A TCP packet of the test connection, `to_server` telling the direction.
fn tcp_packet(
    link: Link,
    v6: bool,
    to_server: bool,
    seq: u32,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    let (src4, dst4, src6, dst6) = if to_server {
        (CLIENT_V4, SERVER_V4, CLIENT_V6, SERVER_V6)
    } else {
        (SERVER_V4, CLIENT_V4, SERVER_V6, CLIENT_V6)
    };
    let ip: PacketBuilderStep<etherparse::IpHeaders> = match (link, v6) {
        (Link::Ethernet, false) => PacketBuilder::ethernet2([2; 6], [4; 6]).ipv4(src4, dst4, 64),
        (Link::Ethernet, true) => PacketBuilder::ethernet2([2; 6], [4; 6]).ipv6(src6, dst6, 64),
        (Link::LinuxSll, false) => {
            PacketBuilder::linux_sll(LinuxSllPacketType::HOST, 6, [2, 2, 2, 2, 2, 2, 0, 0])
                .ipv4(src4, dst4, 64)
        }
        (Link::LinuxSll, true) => {
            PacketBuilder::linux_sll(LinuxSllPacketType::HOST, 6, [2, 2, 2, 2, 2, 2, 0, 0])
                .ipv6(src6, dst6, 64)
        }
        (Link::RawIp, false) => PacketBuilder::ipv4(src4, dst4, 64),
        (Link::RawIp, true) => PacketBuilder::ipv6(src6, dst6, 64),
    };
    let (sport, dport) =
        if to_server { (CLIENT_PORT, SERVER_PORT) } else { (SERVER_PORT, CLIENT_PORT) };
    let tcp = ip.tcp(sport, dport, seq, 65535);
    let tcp = match flags {
        Flags::Syn => tcp.syn(),
        Flags::SynAck => tcp.syn().ack(1),
        Flags::Ack => tcp.ack(1).psh(),
        Flags::Fin => tcp.ack(1).fin(),
    };
    let mut out = Vec::with_capacity(tcp.size(payload.len()));
    tcp.write(&mut out, payload).expect("build packet");
    out
}

fn pcap(link: DataLink, packets: &[Vec<u8>]) -> Vec<u8> {
    let header = PcapHeader { datalink: link, ..Default::default() };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.write_packet(&PcapPacket::new(Duration::from_millis(i as u64), p.len() as u32, p))
            .unwrap();
    }
    w.into_writer()
}

fn pcapng(link: DataLink, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock {
        linktype: link,
        snaplen: 65535,
        options: vec![],
    })
    .unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_millis(i as u64),
            original_len: p.len() as u32,
            data: Cow::Borrowed(p),
            options: vec![],
        })
        .unwrap();
    }
    w.into_inner()
}

/// A whole conversation: handshake, HELLO / HELLO_ACK, a chat frame split
/// across two segments whose second half arrives after the following
/// ping (out of order), a retransmission, a reply, and the close.
fn conversation(link: Link, v6: bool) -> Vec<Vec<u8>> {
    let v = golden();
    let (chat, ping, hello, ack, binary) =
        (v[0].frame(), v[1].frame(), v[3].frame(), v[4].frame(), v[5].frame());
    let c0 = 1_000u32; // client ISN
    let s0 = u32::MAX - 10; // server ISN: its sequence numbers wrap
    let p = |to_server, seq, flags, payload: &[u8]| {
        tcp_packet(link, v6, to_server, seq, flags, payload)
    };
    let c = c0 + 1;
    let s = s0.wrapping_add(1);
    vec![
        p(true, c0, Flags::Syn, b""),
        p(false, s0, Flags::SynAck, b""),
        p(true, c, Flags::Ack, b""),
        p(false, s, Flags::Ack, &hello),
        p(true, c, Flags::Ack, &ack),
        p(true, c + 29, Flags::Ack, &chat[..10]),
        p(true, c + 29 + 35, Flags::Ack, &ping), // ahead of the chat's second half
        p(true, c + 29 + 10, Flags::Ack, &chat[10..]),
        p(true, c + 29 + 10, Flags::Ack, &chat[10..]), // retransmission
        p(false, s.wrapping_add(29), Flags::Ack, &binary),
        p(true, c + 29 + 35 + 22, Flags::Fin, b""),
        p(false, s.wrapping_add(29 + 54), Flags::Fin, b""),
    ]
}

/// Checks the decoded conversation: frames in the order they completed.
fn assert_conversation(out: &std::process::Output, client: &str, server: &str) {
    assert_eq!(code(out), 0, "{}{}", stdout(out), stderr(out));
    let frames = json_lines(out);
    let v = golden();
    let expect =
        [(&v[3], "<", 0), (&v[4], ">", 0), (&v[0], ">", 29), (&v[1], ">", 64), (&v[5], "<", 29)];
    assert_eq!(frames.len(), expect.len(), "{}", stdout(out));
    for (f, (vector, dir, offset)) in frames.iter().zip(expect) {
        assert_golden_frame(f, vector);
        assert_eq!(f["stream"], 0);
        assert_eq!(f["direction"], dir, "{}", vector.name);
        assert_eq!(f["offset"], offset, "{}", vector.name);
        assert_eq!(f["client"], client);
        assert_eq!(f["server"], server);
    }
}

#[test]
fn pcap_ethernet_ipv4_conversation() {
    let capture = pcap(DataLink::ETHERNET, &conversation(Link::Ethernet, false));
    let out = decode_stdin(&["--json"], &capture);
    assert_conversation(&out, "10.0.0.1:50123", "10.0.0.2:7000");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.pcap");
    std::fs::write(&path, &capture).unwrap();
    let out = run(veltix(["decode", "--type-name", "200=chat", path.to_str().unwrap()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("stream 0: client 10.0.0.1:50123 > server 10.0.0.2:7000\n"), "{text}");
    assert!(text.contains("frame 1  stream 0 <  offset 0  hello (10)"), "{text}");
    assert!(
        text.contains("frame 3  stream 0 >  offset 29  chat (200)  13 bytes  crc 2b8cf0b3 OK"),
        "{text}"
    );
    assert!(text.ends_with("5 frames, 0 invalid\n"), "{text}");
}

#[test]
fn pcapng_linux_sll_ipv6_conversation() {
    let capture = pcapng(DataLink::LINUX_SLL, &conversation(Link::LinuxSll, true));
    let out = decode_stdin(&["--json"], &capture);
    assert_conversation(&out, "[fd00::1]:50123", "[fd00::2]:7000");
    let forced = decode_stdin(&["--json", "--input", "pcap"], &capture);
    assert_eq!(forced.stdout, out.stdout);
}

#[test]
fn pcap_raw_ip_conversation() {
    let capture = pcap(DataLink::RAW, &conversation(Link::RawIp, false));
    assert_conversation(&decode_stdin(&["--json"], &capture), "10.0.0.1:50123", "10.0.0.2:7000");
}

#[test]
fn capture_without_handshake_starting_out_of_order() {
    // Captured mid-connection: no SYN, and the first segment seen is the
    // second one sent. The first sender of payload is taken as the client.
    let v = golden();
    let (chat, ping) = (v[0].frame(), v[1].frame());
    let p = |seq, payload: &[u8]| tcp_packet(Link::Ethernet, false, true, seq, Flags::Ack, payload);
    let packets = vec![p(500 + 35, &ping), p(500, &chat)];
    let out = decode_stdin(&["--json", "--port", "7000"], &pcapng(DataLink::ETHERNET, &packets));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = json_lines(&out);
    assert_eq!(frames.len(), 2);
    assert_golden_frame(&frames[0], &v[0]);
    assert_golden_frame(&frames[1], &v[1]);
    assert_eq!(frames[0]["direction"], ">");
    assert_eq!(frames[1]["offset"], 35);

    // --port filters connections.
    let out = decode_stdin(&["--json", "--port", "8000"], &pcapng(DataLink::ETHERNET, &packets));
    assert_eq!(code(&out), 0);
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("no TCP payload on port 8000"), "{}", stderr(&out));
}

#[test]
fn capture_gap_is_an_error() {
    let v = golden();
    let (chat, ping) = (v[0].frame(), v[1].frame());
    let p =
        |seq, flags, payload: &[u8]| tcp_packet(Link::Ethernet, false, true, seq, flags, payload);
    // The segment with chat[10..] was never captured.
    let packets =
        vec![p(99, Flags::Syn, b""), p(100, Flags::Ack, &chat[..10]), p(135, Flags::Ack, &ping)];
    let out = decode_stdin(&[], &pcap(DataLink::ETHERNET, &packets));
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("error  stream 0 >  offset 10  25 bytes of this stream were not captured; 22 captured bytes after the gap are not decoded"), "{text}");
    assert!(text.contains("error  stream 0 >  offset 0  incomplete frame"), "{text}");
    let out = decode_stdin(&["--json"], &pcap(DataLink::ETHERNET, &packets));
    let lines = json_lines(&out);
    assert_eq!(lines[0]["kind"], "gap");
    assert_eq!(lines[0]["offset"], 10);
    assert_eq!(lines[0]["direction"], ">");
}

#[test]
fn a_new_syn_on_the_same_ports_is_a_new_stream() {
    let v = golden();
    let p =
        |seq, flags, payload: &[u8]| tcp_packet(Link::Ethernet, false, true, seq, flags, payload);
    let packets = vec![
        p(10, Flags::Syn, b""),
        p(11, Flags::Ack, &v[1].frame()),
        p(33, Flags::Fin, b""),
        p(9000, Flags::Syn, b""),
        p(9001, Flags::Ack, &v[2].frame()),
    ];
    let out = decode_stdin(&["--json"], &pcap(DataLink::ETHERNET, &packets));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = json_lines(&out);
    assert_eq!(frames.len(), 2);
    assert_eq!((frames[0]["stream"].clone(), frames[0]["offset"].clone()), (0.into(), 0.into()));
    assert_eq!((frames[1]["stream"].clone(), frames[1]["offset"].clone()), (1.into(), 0.into()));
    assert_golden_frame(&frames[1], &v[2]);
}

#[test]
fn not_a_capture_is_an_error_naming_the_input() {
    let out = decode_stdin(&["--input", "pcap"], &golden_stream());
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("cannot read stdin as a pcap or pcapng capture"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn real_tcpdump_capture_of_loopback() {
    // `tcpdump -i any` on Linux (cooked v2 link type): a HELLO, its ACK,
    // a chat frame and a ping sent 7 bytes at a time, and three frames
    // from the server in one write.
    let path = data_path("decode/loopback-sll2.pcap");
    let out = run(veltix(["decode", "--json", path.to_str().unwrap()]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = json_lines(&out);
    let v = golden();
    let expect = [
        (&v[3], "<", 0),
        (&v[4], ">", 0),
        (&v[0], ">", 29),
        (&v[5], "<", 29),
        (&v[5], "<", 83),
        (&v[5], "<", 137),
        (&v[1], ">", 64),
    ];
    assert_eq!(frames.len(), expect.len(), "{}", stdout(&out));
    for (f, (vector, dir, offset)) in frames.iter().zip(expect) {
        assert_golden_frame(f, vector);
        assert_eq!(f["direction"], dir, "{}", vector.name);
        assert_eq!(f["offset"], offset, "{}", vector.name);
        assert_eq!(f["server"], "127.0.0.1:7411");
    }
}

#[test]
fn checked_in_capture_decodes() {
    // tests/data/decode/chat.pcap: the Ethernet conversation above, kept
    // as a file so that other tools (tcpdump -r, wireshark) can read the
    // same capture; VELTIX_REGENERATE=1 rewrites it.
    let path = data_path("decode/chat.pcap");
    if std::env::var_os("VELTIX_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, pcap(DataLink::ETHERNET, &conversation(Link::Ethernet, false)))
            .unwrap();
    }
    let out = run(veltix(["decode", "--json", path.to_str().unwrap()]));
    assert_conversation(&out, "10.0.0.1:50123", "10.0.0.2:7000");
}

// ---- the VX wire (veltix 2.0.3 to 3.3.x) ------------------------------

/// One frame of tests/data/veltix-3.3.0-vx-frames.json (made by the real
/// veltix 3.3.0).
pub struct VxVector {
    pub name: String,
    pub type_code: u64,
    pub request_id_hex: String,
    pub crc32_hex: String,
    pub payload: Vec<u8>,
    pub frame: Vec<u8>,
    /// The golden file has the payload as hex (up to 256 bytes).
    pub short: bool,
}

fn vx_file() -> Value {
    let path = data_path("veltix-3.3.0-vx-frames.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every golden VX frame; long payloads are rebuilt as the file says
/// (byte i is i % 251).
pub fn vx_golden() -> Vec<VxVector> {
    let file = vx_file();
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 18);
    vectors
        .iter()
        .map(|v| {
            let text = |k: &str| v[k].as_str().unwrap().to_string();
            let short = v["payload_hex"].is_string();
            let payload = if short {
                unhex(&text("payload_hex"))
            } else {
                (0..v["payload_len"].as_u64().unwrap()).map(|i| (i % 251) as u8).collect()
            };
            let frame = [unhex(&text("header_hex")), payload.clone()].concat();
            if short {
                assert_eq!(frame, unhex(&text("frame_hex")), "{}", text("name"));
            }
            VxVector {
                name: text("name"),
                type_code: v["type_code"].as_u64().unwrap(),
                request_id_hex: text("request_id_hex"),
                crc32_hex: text("crc32_hex"),
                payload,
                frame,
                short,
            }
        })
        .collect()
}

/// The golden handshake message `name` (server_hello, client_hello,
/// result_ok, error_server_full): its bytes and JSON text.
pub fn vx_message(name: &str) -> (Vec<u8>, String) {
    let file = vx_file();
    let m = file["handshake"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no message {name}"));
    (unhex(m["bytes_hex"].as_str().unwrap()), m["json"].as_str().unwrap().to_string())
}

/// Checks a JSON frame object against a golden VX frame.
fn assert_vx_frame(f: &Value, v: &VxVector, offset: usize) {
    assert_eq!(f["wire"], "vx", "{}", v.name);
    assert_eq!(f["offset"], offset, "{}", v.name);
    assert_eq!(f["flags"], 0, "{}", v.name);
    assert_eq!(f["type_code"], v.type_code, "{}", v.name);
    assert_eq!(f["size"], v.payload.len(), "{}", v.name);
    assert_eq!(f["crc_stated"], v.crc32_hex, "{}", v.name);
    assert_eq!(f["crc_computed"], v.crc32_hex, "{}", v.name);
    assert_eq!(f["crc_ok"], true, "{}", v.name);
    assert_eq!(f["request_id"], v.request_id_hex, "{}", v.name);
    match String::from_utf8(v.payload.clone()) {
        Ok(text) => assert_eq!(f["payload_text"], text, "{}", v.name),
        Err(_) => assert_eq!(f["payload_hex"], tohex(&v.payload), "{}", v.name),
    }
    assert!(f.get("timestamp_ms").is_none(), "{}", v.name);
}

#[test]
fn every_golden_vx_frame_decodes_with_its_fields() {
    let vectors = vx_golden();
    let stream: Vec<u8> = vectors.iter().flat_map(|v| v.frame.clone()).collect();
    for wire in [&[][..], &["--wire", "vx"]] {
        let out = decode_stdin(&[&["--json"], wire].concat(), &stream);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let frames = json_lines(&out);
        assert_eq!(frames.len(), vectors.len());
        let mut offset = 0;
        for (i, (f, v)) in frames.iter().zip(&vectors).enumerate() {
            assert_eq!(f["frame"], i + 1);
            assert_vx_frame(f, v, offset);
            offset += v.frame.len();
        }
        // VX names: ping and pong; 1.6.3's other system names do not apply.
        let names: Vec<&str> =
            frames[..7].iter().map(|f| f["type_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["type_200", "ping", "ping", "pong", "ping", "pong", "type_150"]);
    }
    // The short ones as hex text too (the streaming hex reader).
    let short: Vec<&VxVector> = vectors.iter().filter(|v| v.short).collect();
    let bytes: Vec<u8> = short.iter().flat_map(|v| v.frame.clone()).collect();
    let out = decode_stdin(&["--json"], xxd(&bytes).as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let frames = json_lines(&out);
    assert_eq!(frames.len(), short.len());
    let mut offset = 0;
    for (f, v) in frames.iter().zip(short) {
        assert_vx_frame(f, v, offset);
        offset += v.frame.len();
    }
}

#[test]
fn vx_listing_shows_every_field() {
    let v = &vx_golden()[0]; // spec_example: type 200, "hello", id 0x1234
    let out = decode_stdin(&["--type-name", "200=chat"], &v.frame);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "frame 1  offset 0  vx flags 00  chat (200)  5 bytes  crc 3610a686 OK  id 1234\n    \
         0000 | 68 65 6c 6c 6f                                   | hello\n\n1 frame, 0 invalid\n"
    );
}

#[test]
fn vx_handshake_messages_and_frames_are_detected() {
    let v = vx_golden();
    let (server, server_json) = vx_message("server_hello");
    let (client, _) = vx_message("client_hello");
    let (ok, ok_json) = vx_message("result_ok");
    // A wrong major: the handshake check refuses this hello, decode says so.
    let bad_hello = br#"{"v": "9.0.0", "pv": "2.0", "meta": {}}"#;
    let bad = [&(bad_hello.len() as u16).to_be_bytes()[..], bad_hello].concat();
    let stream =
        [server.clone(), client, bad, ok.clone(), v[0].frame.clone(), v[2].frame.clone()].concat();
    let out = decode_stdin(&["--json"], &stream);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6, "{}", stdout(&out));
    let kinds: Vec<&str> = lines[..4].iter().map(|l| l["handshake"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["hello", "hello", "hello", "result_ok"]);
    assert_eq!(lines[0]["json"], server_json);
    assert_eq!(lines[0]["length"], 39);
    assert_eq!(lines[0]["wire"], "vx");
    assert!(lines[0].get("hello_error").is_none());
    assert!(lines[2]["hello_error"].as_str().unwrap().contains("protocol version mismatch"));
    assert_eq!(lines[3]["json"], ok_json);
    assert_eq!(lines[3]["offset"], server.len() * 2 + 2 + bad_hello.len());
    let frames_at = stream.len() - v[0].frame.len() - v[2].frame.len();
    assert_vx_frame(&lines[4], &v[0], frames_at);
    assert_eq!(lines[4]["frame"], 1);

    let out = decode_stdin(&[], &stream);
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("handshake  offset 0  hello  39 bytes  {server_json}\n")),
        "{text}"
    );
    assert!(text.contains("  (invalid hello: protocol version mismatch"), "{text}");
    assert!(
        text.contains(&format!("handshake  offset 123  result ok  16 bytes  {ok_json}\n")),
        "{text}"
    );
    assert!(text.ends_with("2 frames, 0 invalid, 4 handshake messages\n"), "{text}");

    // A full server's refusal, alone.
    let (full, _) = vx_message("error_server_full");
    let out = decode_stdin(&["--json"], &full);
    assert_eq!(json_lines(&out)[0]["handshake"], "error");
}

#[test]
fn vx_damage_is_reported_and_decoding_resynchronises() {
    let v = vx_golden();
    let good = |i: usize| v[i].frame.clone();
    let mut bad_crc = good(0);
    *bad_crc.last_mut().unwrap() ^= 1; // "helln"
    let mut flags = good(8);
    flags[2] = 0x80;
    let mut oversize = good(1);
    oversize[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
    let parts: Vec<Vec<u8>> = vec![
        good(2),           // 0: ping id 0001, 15 bytes
        bad_crc,           // 15: shown, skipped by its size
        b"junk!".to_vec(), // 35: 5 bytes to the next magic
        good(3),           // 40: pong
        flags,             // 55: 25 bytes to the next magic
        oversize,          // 80: 15 bytes
        good(7),           // 95: size_1, shown
    ];
    let stream = parts.concat();
    let out = decode_stdin(&["--json"], &stream);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let lines = json_lines(&out);
    let summary: Vec<(String, u64)> = lines
        .iter()
        .map(|l| {
            let what = l["kind"].as_str().map_or_else(
                || format!("{} {}", l["type_name"].as_str().unwrap(), l["crc_ok"]),
                str::to_string,
            );
            (what, l["offset"].as_u64().unwrap())
        })
        .collect();
    let expect = [
        ("ping true", 0),
        ("type_200 false", 15),
        ("bad_magic", 35),
        ("pong true", 40),
        ("bad_flags", 55),
        ("too_large", 80),
        ("type_200 true", 95),
    ];
    let expect: Vec<(String, u64)> = expect.iter().map(|(w, o)| (w.to_string(), *o)).collect();
    assert_eq!(summary, expect);
    assert_eq!(lines[1]["payload_text"], "helln");
    assert_eq!(lines[2]["skipped"], 5);
    assert_eq!(lines[4]["skipped"], 25);
    assert_eq!(lines[5]["skipped"], 15);
    assert!(lines[4]["error"].as_str().unwrap().contains("reserved flags byte is 0x80"));

    let out = decode_stdin(&[], &stream);
    let text = stdout(&out);
    assert!(text.contains("crc 3610a686 MISMATCH (payload hashes to "), "{text}");
    assert!(text.contains("error  offset 35  bad magic: expected 5658 (\"VX\"), found 6a75; skipped 5 bytes to the next VX magic at offset 40\n"), "{text}");
    assert!(text.contains("error  offset 80  frame of 4294967310 bytes (15-byte header + payload) exceeds the limit of 10485760 bytes; skipped 15 bytes to the next VX magic at offset 95\n"), "{text}");
    assert!(text.ends_with("6 frames, 4 invalid\n"), "{text}");

    // The same through the hex reader, one byte a line: the resync state
    // survives every chunk boundary.
    let one_a_line: String = stream.iter().map(|b| format!("{b:02x}\n")).collect();
    let hex = decode_stdin(&["--json"], one_a_line.as_bytes());
    assert_eq!(stdout(&hex), stdout(&decode_stdin(&["--json"], &stream)));

    // Junk at the end: skipped, and said that nothing follows; a magic
    // followed by junk; a cut frame.
    let tail = [good(2), b"VXjunk".to_vec(), good(0)[..10].to_vec()].concat();
    let out = decode_stdin(&[], &[good(2), b"zzz".to_vec()].concat());
    assert!(stdout(&out).contains("error  offset 15  bad magic: expected 5658 (\"VX\"), found 7a7a; skipped 3 bytes: no VX magic follows"), "{}", stdout(&out));
    let out = decode_stdin(&["--json"], &tail);
    assert_eq!(code(&out), 1);
    let lines = json_lines(&out);
    // "VXj...": a magic, then the flags byte 'j'.
    assert_eq!(lines[1]["kind"], "bad_flags", "{}", stdout(&out));
    assert_eq!(lines[1]["skipped"], 6);
    assert_eq!(lines[2]["kind"], "truncated");
    assert!(lines[2]["error"].as_str().unwrap().contains("after 10 of the 15 header bytes"));
}

#[test]
fn bad_handshake_messages_are_reported() {
    let v = vx_golden();
    // Bad JSON with a sound length: that message is skipped exactly.
    let not_json = [&[0, 3][..], b"{no"].concat();
    let stream = [not_json, v[2].frame.clone()].concat();
    let out = decode_stdin(&["--json"], &stream);
    assert_eq!(code(&out), 1);
    let lines = json_lines(&out);
    assert_eq!(lines[0]["kind"], "bad_handshake");
    assert!(lines[0]["error"].as_str().unwrap().contains("not valid JSON"), "{}", lines[0]);
    assert_eq!(lines[1]["offset"], 5);
    // A length over 30 KiB: resynchronised on the next magic.
    let stream = [&[0x78, 0x01, b'{'][..], b"...", &v[2].frame].concat();
    let lines = json_lines(&decode_stdin(&["--json", "--wire", "vx"], &stream));
    assert_eq!(lines[0]["kind"], "bad_handshake");
    assert_eq!(lines[0]["skipped"], 6);
    assert_eq!(lines[1]["request_id"], "0001");
}

#[test]
fn the_wire_can_be_forced() {
    let vx_frame = vx_golden()[0].frame.clone();
    let out = decode_stdin(&["--wire", "1.6"], &vx_frame);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("error  offset 0  "), "{text}");
    assert!(
        text.contains("starts like the VX wire of veltix 2.0.3 to 3.3.x: try --wire vx"),
        "{text}"
    );
    let (hello, _) = vx_message("server_hello");
    let out = decode_stdin(&["--wire", "1.6"], &hello);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("try --wire vx"), "{}", stdout(&out));

    // 1.6.3 input: --wire 1.6 is what auto picks; --wire vx finds no magic.
    let stream = golden_stream();
    let auto = decode_stdin(&["--json"], &stream);
    assert_eq!(decode_stdin(&["--json", "--wire", "1.6"], &stream).stdout, auto.stdout);
    let out = decode_stdin(&["--json", "--wire", "vx"], &stream);
    assert_eq!(code(&out), 1);
    assert_eq!(json_lines(&out)[0]["kind"], "bad_handshake");
    let out = decode_stdin(&["--wire", "2.0"], &stream);
    assert_eq!(code(&out), 2);
}

/// A VX conversation: the handshake both ways, a client frame split
/// across two segments, PING / PONG, and a server frame; the client's
/// frames follow its hello in the same segment.
fn vx_conversation() -> Vec<Vec<u8>> {
    let v = vx_golden();
    let (server, _) = vx_message("server_hello");
    let (client, _) = vx_message("client_hello");
    let (ok, _) = vx_message("result_ok");
    let chat = v[0].frame.clone(); // 20 bytes
    let (ping, pong) = (v[2].frame.clone(), v[3].frame.clone());
    let p = |to_server, seq, flags, payload: &[u8]| {
        tcp_packet(Link::Ethernet, false, to_server, seq, flags, payload)
    };
    let (c, s) = (501u32, 9001u32);
    let client_first = [client.clone(), chat[..7].to_vec()].concat();
    let c2 = c + client_first.len() as u32;
    let server_rest = [ok.clone(), pong.clone(), v[8].frame.clone()].concat();
    vec![
        p(true, c - 1, Flags::Syn, b""),
        p(false, s - 1, Flags::SynAck, b""),
        p(false, s, Flags::Ack, &server),
        p(true, c, Flags::Ack, &client_first),
        p(true, c2, Flags::Ack, &[&chat[7..], &ping[..]].concat()),
        p(false, s + server.len() as u32, Flags::Ack, &server_rest),
    ]
}

#[test]
fn pcap_vx_conversation_both_ways() {
    let v = vx_golden();
    let capture = pcap(DataLink::ETHERNET, &vx_conversation());
    let out = decode_stdin(&["--json"], &capture);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let lines = json_lines(&out);
    let got: Vec<(String, &str, u64)> = lines
        .iter()
        .map(|l| {
            let what = l["handshake"].as_str().map_or_else(
                || format!("frame {}", l["request_id"].as_str().unwrap()),
                |h| h.to_string(),
            );
            (what, l["direction"].as_str().unwrap(), l["offset"].as_u64().unwrap())
        })
        .collect();
    let expect = [
        ("server_hello", "<", 0),
        ("client_hello", ">", 0),
        ("frame 1234", ">", 41),
        ("frame 0001", ">", 61),
        ("result_ok", "<", 41),
        ("frame 0001", "<", 59),
        ("frame 0002", "<", 74),
    ];
    let expect: Vec<(String, &str, u64)> =
        expect.iter().map(|(w, d, o)| (w.to_string(), *d, *o)).collect();
    assert_eq!(got, expect);
    assert_vx_frame(&lines[2], &v[0], 41);
    assert_vx_frame(&lines[6], &v[8], 74);
    for l in &lines {
        assert_eq!(
            (l["client"].as_str(), l["server"].as_str()),
            (Some("10.0.0.1:50123"), Some("10.0.0.2:7000"))
        );
    }

    let out = decode_stdin(&["--port", "7000"], &pcapng(DataLink::ETHERNET, &vx_conversation()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("stream 0: client 10.0.0.1:50123 > server 10.0.0.2:7000\nhandshake  stream 0 <  offset 0  server hello  39 bytes  {\"v\": \"3.3.0\""), "{text}");
    assert!(text.contains("handshake  stream 0 >  offset 0  client hello  39 bytes"), "{text}");
    assert!(text.contains("frame 1  stream 0 >  offset 41  vx flags 00  type_200 (200)  5 bytes  crc 3610a686 OK  id 1234"), "{text}");
    assert!(text.ends_with("4 frames, 0 invalid, 3 handshake messages\n"), "{text}");
}

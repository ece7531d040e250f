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
    veltix, xxd, Vector,
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

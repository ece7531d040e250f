//! `veltix ping`: lines, summary, JSON and exit codes.

use std::io::Read;
use std::net::TcpListener;

use crate::util::{code, json_lines, run, stderr, stdout, veltix, Serve};

#[test]
fn prints_a_line_per_pong_and_a_summary() {
    let s = Serve::start(&["--mode", "sink"]);
    let out = run(veltix(["ping", &s.addr, "-c", "4", "-i", "500us"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("PING {} (veltix 1.6.3, wire 1.6)", s.addr)), "{text}");
    for seq in 1..=4 {
        assert!(text.contains(&format!("seq={seq} time=")), "{text}");
    }
    assert!(text.contains("4 sent, 4 received, 0% loss"));
    // rtt in ms with 3 decimals.
    let rtt_line = text.lines().find(|l| l.starts_with("rtt ")).unwrap();
    let nums = rtt_line.split(" = ").nth(1).unwrap().trim_end_matches(" ms");
    assert!(
        nums.split('/').all(|n| n.split('.').nth(1).is_some_and(|d| d.len() == 3)),
        "{rtt_line}"
    );
}

#[test]
fn quiet_prints_only_the_summary_and_json_parses() {
    let s = Serve::start(&["--mode", "sink"]);
    let out = run(veltix(["ping", &s.addr, "-c", "3", "-i", "0", "-q"]));
    let text = stdout(&out);
    assert!(!text.contains("pong from") && text.contains("3 sent, 3 received"), "{text}");
    let out = run(veltix(["ping", &s.addr, "-c", "2", "-i", "0", "--json"]));
    let recs = json_lines(&out);
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0]["event"], "pong");
    assert!(recs[0]["rtt_us"].as_f64().unwrap() > 0.0);
    assert_eq!(recs[2]["event"], "summary");
    assert_eq!(recs[2]["received"], 2);
}

#[test]
fn cannot_connect_exits_3() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let out = run(veltix(["ping", &addr, "-c", "1"]));
    assert_eq!(code(&out), 3);
}

#[test]
fn no_pong_at_all_exits_4() {
    // Completes the handshake, then never answers.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::Write;
        use veltix::{handshake, types, Frame, RequestId};
        if let Ok((mut s, _)) = l.accept() {
            let hello =
                Frame::new(types::HELLO, RequestId::from(1), handshake::encode_hello("1.6.3"));
            let _ = s.write_all(&hello.encode().unwrap());
            let _ = s.read_to_end(&mut vec![]);
        }
    });
    let out = run(veltix(["ping", &addr, "-c", "2", "-W", "200ms", "-i", "0"]));
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("2 sent, 0 received, 100% loss"), "{text}");
}

#[test]
fn interrupt_prints_the_summary() {
    let s = Serve::start(&["--mode", "sink"]);
    let mut child = veltix(["ping", &s.addr, "-i", "20ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    // Wait for the first pong line, then interrupt.
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("seq=2") {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "ping ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    out.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(String::from_utf8_lossy(&seen).contains("veltix ping statistics"));
}

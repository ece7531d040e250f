//! TLS with real peers: Python's `ssl` module as a TLS 1.3 client speaking
//! 1.6.3 frames made by the reference's own code (`tests/py/tls_client.py`)
//! to `veltix serve --tls` and to the library's server; and `veltix
//! request`/`ping --tls` and the library's client through a real TLS
//! terminator (socat, Debian's package; CI installs it) in front of a
//! Python veltix 1.6.3 server.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use veltix::{Client, ClientConfig, Server, ServerConfig};

use crate::common::bin::{code, line_reader, run, stderr, stdout, veltix};
use crate::common::python::{expect_success, py_command};
use crate::common::ref_peer::{field, Py, DEADLINE};
use crate::common::tls::Pki;
use crate::T;

/// Runs tls_client.py against 127.0.0.1:`port`; its JSON report.
fn python_tls_client(port: u16, ca: &str, sizes: &[usize]) -> Value {
    let mut args = vec![port.to_string(), ca.to_string()];
    for n in sizes {
        args.extend(["--size".to_string(), n.to_string()]);
    }
    let out = py_command("tls_client.py", &args).output().expect("run tls_client.py");
    let text = expect_success(&out, "tls_client.py");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const SIZES: [usize; 4] = [0, 1, 100_000, 1 << 20];

fn assert_report(report: &Value) {
    assert_eq!(report["version"], "TLSv1.3", "{report}");
    assert_eq!(report["server"], "1.6.3", "{report}");
    assert_eq!(report["echoed"], json!(SIZES), "{report}");
    let cipher = report["cipher"].as_str().unwrap_or_default();
    assert!(cipher.starts_with("TLS_CHACHA20") || cipher.starts_with("TLS_AES"), "{report}");
}

#[test]
fn python_ssl_client_with_1_6_3_frames_to_veltix_serve_tls() {
    let pki = Pki::new();
    let mut cmd = veltix(["serve", "--host", "127.0.0.1", "-p", "0", "--mode", "echo"]);
    cmd.args(["--cert", &pki.arg("server.pem"), "--key", &pki.arg("server.key")]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = Killed(cmd.spawn().expect("start veltix serve"));
    let lines = line_reader(child.0.stderr.take().expect("stderr"));
    let deadline = Instant::now() + DEADLINE;
    let port: u16 = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("veltix serve says where it listens");
        if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().expect("a port");
        }
    };
    std::thread::spawn(move || while lines.recv().is_ok() {});
    assert_report(&python_tls_client(port, &pki.arg("ca.pem"), &SIZES));
}

#[test]
fn python_ssl_client_with_1_6_3_frames_to_the_library_server() {
    let pki = Pki::new();
    for core in [veltix::CoreKind::Threads, veltix::CoreKind::Poll] {
        let cfg = ServerConfig::default().host("127.0.0.1").port(0).core(core);
        let s = Server::builder(cfg.tls(Some(pki.server())))
            .on_message(|p, f| {
                let _ = p.reply(&f, &f.payload);
            })
            .start()
            .unwrap();
        assert_report(&python_tls_client(s.local_addr().port(), &pki.arg("ca.pem"), &SIZES));
    }
}

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// socat terminating TLS 1.3 on a free loopback port in front of
/// 127.0.0.1:`backend`, with the test CA's server certificate.
fn socat(pki: &Pki, backend: u16) -> (Killed, String) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!(
        "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={},key={}",
        pki.arg("server.pem"),
        pki.arg("server.key")
    );
    let child = Command::new("socat")
        .args([listen, format!("TCP:127.0.0.1:{backend}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run socat ({e}): install it (Debian: apt-get install socat)")
        });
    let child = Killed(child);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + DEADLINE;
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "socat never listened on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, addr)
}

#[test]
fn veltix_tls_through_socat_to_a_python_1_6_3_server() {
    let pki = Pki::new();
    let mut py = Py::server(&["--echo", "--register", "200=chat"]);
    let (_socat, addr) = socat(&pki, py.port);
    let ca = pki.arg("ca.pem");

    let out = run(veltix(["request", &addr, "through socat", "--cacert", &ca]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "through socat");
    let seen = py.cmd(json!({"op": "recv"}));
    assert_eq!(field(&seen, "hex"), crate::common::hex::hex(b"through socat"));

    let out = run(veltix(["ping", &addr, "-c", "2", "-i", "0.05", "-v", "--cacert", &ca]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(veltix 1.6.3, wire 1.6)"), "{text}");
    assert!(text.contains("TLSv1.3 TLS13_"), "{text}");
    assert!(text.contains("2 received"), "{text}");

    // The library's client, a mebibyte each way.
    let cfg = ClientConfig::new(addr.clone()).tls(Some(pki.client()));
    let c = Client::connect(cfg).unwrap();
    let big = crate::common::random_bytes(1 << 20, 7);
    assert_eq!(c.send_and_wait(200, &big, T).unwrap().payload, big);
    let _ = py.cmd(json!({"op": "recv"}));

    // Plain veltix to the terminator: named, exit 3.
    let out = run(veltix(["ping", &addr, "-c", "1", "--handshake-timeout", "1s"]));
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert!(stderr(&out).contains("--tls"), "{}", stderr(&out));
}

//! `serve --tls` and the clients' TLS options: the self-signed certificate
//! kept between runs, trust by pin, CA or (loudly) nothing, mutual TLS,
//! and plain and TLS peers meeting the other kind (exit 3, named, within
//! the handshake timeout).

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::common::tls::Pki;
use crate::util::{code, run, run_with_stdin, stderr, stdout, veltix, Serve};

/// The fingerprint a serve's "listening on" line prints.
fn fingerprint(s: &Serve) -> String {
    let at = s.listening.find("SHA-256 fingerprint sha256:").expect("a fingerprint");
    let fp = s.listening[at + "SHA-256 fingerprint ".len()..].split_whitespace().next().unwrap();
    assert_eq!(fp.len(), "sha256:".len() + 64, "{fp}");
    fp.to_string()
}

fn ok(args: &[&str]) -> String {
    let out = run(veltix(args));
    assert_eq!(code(&out), 0, "veltix {}: {}", args.join(" "), stderr(&out));
    stdout(&out)
}

/// Runs a command that must fail with `want`, saying each of `needles`.
fn fails(args: &[&str], want: i32, needles: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let out = run(veltix(args));
    let took = started.elapsed();
    let err = stderr(&out);
    assert_eq!(code(&out), want, "veltix {}: {err}", args.join(" "));
    for n in needles {
        assert!(err.contains(n), "veltix {}: no {n:?} in: {err}", args.join(" "));
    }
    (err, took)
}

#[test]
fn self_signed_certificate_is_made_once_kept_and_pinned() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let s = Serve::start(&["--tls", "--data-dir", &dir, "--mode", "echo"]);
    let fp = fingerprint(&s);
    assert!(s.listening.contains("TLS 1.3"), "{}", s.listening);
    let key = data.path().join("tls/key.pem");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);

    // No trust yet: refused, with the fingerprint and the flag to pass.
    let (err, _) = fails(&["ping", &s.addr, "-c", "1", "--tls"], 3, &["not trusted"]);
    assert!(err.contains(&format!("--pin {fp}")), "{err}");
    // Pinned: every client command.
    let text = ok(&["ping", &s.addr, "-c", "1", "-v", "--pin", &fp]);
    assert!(text.contains("1 received"), "{text}");
    assert!(text.contains("TLSv1.3 TLS13_CHACHA20_POLY1305_SHA256"), "{text}");
    assert!(text.contains(&format!("server certificate {fp}")), "{text}");
    assert_eq!(ok(&["request", &s.addr, "secret", "--pin", &fp]), "secret");
    let out = run_with_stdin(veltix(["connect", &s.addr, "--pin", &fp]), b"over tls\n");
    assert_eq!(stdout(&out), "over tls\n", "{}", stderr(&out));
    // A wrong pin.
    let wrong = format!("sha256:{}", "ab".repeat(32));
    fails(&["request", &s.addr, "x", "--pin", &wrong], 3, &["not the pinned one", &fp]);
    // bench --target through TLS (every message delivered).
    let args = ["bench", "--only", "latency", "burst", "--latency-iterations", "50"];
    let mut args = args.to_vec();
    args.extend(["--burst-count", "1000", "--no-baseline", "--json", "--target", &s.addr]);
    args.extend(["--pin", &fp]);
    let text = ok(&args);
    assert!(text.contains("\"delivered\": 1000"), "{text}");
    // Insecure works and says what it skips.
    let out = run(veltix(["request", &s.addr, "x", "--insecure"]));
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "x"));
    assert!(stderr(&out).contains("--insecure: the server's certificate is NOT verified"));
    drop(s);

    // The next run serves the same certificate.
    let again = Serve::start(&["--tls", "--data-dir", &dir, "--mode", "echo"]);
    assert_eq!(fingerprint(&again), fp);
    assert_eq!(ok(&["request", &again.addr, "again", "--pin", &fp]), "again");
}

#[test]
fn ca_signed_certificate_and_mutual_tls() {
    let pki = Pki::new();
    let (cert, key, ca) = (pki.arg("server.pem"), pki.arg("server.key"), pki.arg("ca.pem"));
    let s = Serve::start(&["--cert", &cert, "--key", &key, "--mode", "echo"]);
    assert_eq!(fingerprint(&s), pki.server_fp.to_string());
    assert_eq!(ok(&["request", &s.addr, "by CA", "--cacert", &ca]), "by CA");
    // Another name than the certificate's.
    fails(
        &["request", &s.addr, "x", "--cacert", &ca, "--servername", "other.example"],
        3,
        &["not valid for this server name"],
    );

    let m = Serve::start(&["--cert", &cert, "--key", &key, "--client-ca", &ca, "--mode", "echo"]);
    assert!(m.listening.contains("client certificates required"), "{}", m.listening);
    let (ccert, ckey) = (pki.arg("client.pem"), pki.arg("client.key"));
    let mine = ["--cacert", &ca, "--cert", &ccert, "--key", &ckey];
    let mut args = vec!["request", &m.addr, "mutual"];
    args.extend(mine);
    assert_eq!(ok(&args), "mutual");
    fails(&["ping", &m.addr, "-c", "1", "--cacert", &ca], 3, &["requires a client certificate"]);
    let (scert, skey) = (pki.arg("stranger.pem"), pki.arg("stranger.key"));
    let args = ["ping", &m.addr, "-c", "1", "--cacert", &ca, "--cert", &scert, "--key", &skey];
    fails(&args, 3, &["does not trust our client certificate"]);
}

#[test]
fn plain_and_tls_meeting_the_other_kind_exit_3_named_in_time() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let tls = Serve::start(&["--tls", "--data-dir", &dir, "--handshake-timeout", "300ms"]);
    let (_, took) = fails(
        &["ping", &tls.addr, "-c", "1", "--handshake-timeout", "2s"],
        3,
        &["the server answered with TLS", "use --tls"],
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    tls.wait_stderr("it sent nothing: a plain client on the TLS port?");

    let plain = Serve::start(&["--mode", "echo"]);
    let (_, took) = fails(
        &["ping", &plain.addr, "-c", "1", "--insecure", "--handshake-timeout", "2s"],
        3,
        &["speaks plain veltix (the 1.6 wire)", "drop --tls"],
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    let vx = Serve::start(&["--mode", "echo", "--wire", "vx"]);
    fails(&["request", &vx.addr, "x", "--insecure"], 3, &["(the vx wire)", "drop --tls"]);
    // The TLS server serves the VX wire too.
    let tvx = Serve::start(&["--tls", "--data-dir", &dir, "--wire", "vx", "--mode", "echo"]);
    let fp = fingerprint(&tvx);
    assert_eq!(ok(&["request", &tvx.addr, "vx over tls", "--pin", &fp]), "vx over tls");
}

#[test]
fn plain_bytes_on_the_tls_port_are_named_in_the_log() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().display().to_string();
    let s = Serve::start(&["--tls", "--data-dir", &dir]);
    let mut raw = std::net::TcpStream::connect(&s.addr).unwrap();
    raw.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    s.wait_stderr("plain TCP client on the TLS port");
}

#[test]
fn tls_options_of_the_other_side_are_usage_errors() {
    let pki = Pki::new();
    let ca = pki.arg("ca.pem");
    fails(
        &["serve", "-p", "0", "--pin", &format!("sha256:{}", "00".repeat(32))],
        2,
        &["--pin is an option of clients"],
    );
    fails(&["ping", "127.0.0.1:1", "--client-ca", &ca], 2, &["--client-ca is an option of serve"]);
    fails(&["ping", "127.0.0.1:1", "--pin", "sha256:1234"], 2, &["4 hex digits, not 64"]);
    fails(&["ping", "127.0.0.1:1", "--cacert", "/nonexistent.pem"], 2, &["cannot read"]);
    fails(&["bench", "--only", "latency", "--tls"], 2, &["give --target"]);
}

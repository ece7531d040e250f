//! A real `redis-server` on a free loopback port, for the tests' nodes to
//! share. Killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a starting redis-server may take to answer PING.
const START: Duration = Duration::from_secs(10);

/// A running `redis-server` (no persistence), killed on drop.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    /// With TLS only (no plain port): its certificates.
    tls: Option<Tls>,
}

/// A CA, and a certificate it signed for 127.0.0.1, as PEM files.
pub struct Tls {
    dir: tempfile::TempDir,
}

impl Tls {
    fn new() -> Tls {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary dir: {e}"));
        let made = (|| -> Result<(), rcgen::Error> {
            let ca_key = rcgen::KeyPair::generate()?;
            let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
            ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let ca = ca.self_signed(&ca_key)?;
            let key = rcgen::KeyPair::generate()?;
            let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?
                .signed_by(&key, &ca, &ca_key)?;
            for (name, pem) in
                [("ca.pem", ca.pem()), ("cert.pem", cert.pem()), ("key.pem", key.serialize_pem())]
            {
                std::fs::write(dir.path().join(name), pem)
                    .unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
            }
            Ok(())
        })();
        made.unwrap_or_else(|e| panic!("cannot make test certificates: {e}"));
        Tls { dir }
    }

    /// The CA certificate's file.
    pub fn ca(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    fn args(&self) -> Vec<String> {
        let f = |n: &str| self.dir.path().join(n).display().to_string();
        vec![
            "--tls-cert-file".into(),
            f("cert.pem"),
            "--tls-key-file".into(),
            f("key.pem"),
            "--tls-ca-cert-file".into(),
            f("ca.pem"),
            "--tls-auth-clients".into(),
            "no".into(),
        ]
    }
}

impl Redis {
    /// Starts redis-server on a free port (picked by binding port 0 and
    /// letting go: another process may take it first, then it tries
    /// another). Fails, saying how to get it, when redis-server is missing.
    pub fn start() -> Redis {
        Redis::start_with(None)
    }

    /// Starts redis-server with TLS only, its certificate signed by a CA
    /// made for the test ([`Redis::tls`]).
    pub fn start_tls() -> Redis {
        Redis::start_with(Some(Tls::new()))
    }

    fn start_with(tls: Option<Tls>) -> Redis {
        for _ in 0..5 {
            let port = free_port();
            if let Some(child) = spawn(port, tls.as_ref()) {
                return Redis { child: Some(child), port, tls };
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// `redis://127.0.0.1:PORT/0`, or `rediss://` with TLS.
    pub fn url(&self) -> String {
        let s = if self.tls.is_some() { "s" } else { "" };
        format!("redis{s}://127.0.0.1:{}/0", self.port)
    }

    /// The certificates of a TLS server.
    pub fn tls(&self) -> &Tls {
        self.tls.as_ref().unwrap_or_else(|| panic!("redis-server was started without TLS"))
    }

    /// Kills it at once (SIGKILL): its clients see their connections drop.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START;
        loop {
            if let Some(child) = spawn(self.port, self.tls.as_ref()) {
                self.child = Some(child);
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not restart on {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Starts redis-server on `port` (TLS only with `tls`); None when it exits
/// (the port was taken) before it is ready.
fn spawn(port: u16, tls: Option<&Tls>) -> Option<Child> {
    let mut cmd = Command::new("redis-server");
    match tls {
        None => cmd.args(["--port", &port.to_string()]),
        Some(t) => cmd.args(["--port", "0", "--tls-port", &port.to_string()]).args(t.args()),
    };
    let mut child = cmd
        .args(["--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run redis-server ({e}): these tests need a real one on PATH; \
                 install it (Debian/Ubuntu: apt-get install redis-server; .ci/run does)"
            )
        });
    let deadline = Instant::now() + START;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return None;
        }
        // A TLS port is taken as ready once it accepts.
        let ready = match tls {
            None => pong(port),
            Some(_) => TcpStream::connect(("127.0.0.1", port)).is_ok(),
        };
        if ready {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Whether a redis-server on `port` answers PING.
fn pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

//! The TLS options every server and client command takes (`--tls`,
//! `--cert`, `--key`, `--cacert`, `--pin`, `--insecure`, `--servername`,
//! `--client-ca`, `--data-dir`), and the self-signed certificate `serve
//! --tls` makes on first use and keeps for the next run.
//!
//! This module sits below `args` (which flattens [`TlsArgs`] into its
//! connection settings): it imports none of `args`, `cmd` or `cli`.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::Context;
use clap::Args;
use veltix::{ClientTls, Fingerprint, Pem, ServerTls, Trust};

/// TLS 1.3 options (rustls, with ring as its crypto provider).
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// TLS 1.3. Clients verify the server's certificate against the
    /// system's roots (or --cacert, or --pin); serve uses --cert/--key, or
    /// a self-signed Ed25519 certificate made on first use and kept in the
    /// data directory (the log prints its fingerprint).
    #[arg(long)]
    pub tls: bool,
    /// A PEM certificate chain: serve's own (with --key), or a client's for
    /// servers that require one (mutual TLS). Implies --tls.
    #[arg(long, value_name = "FILE", requires = "key", value_parser = parse_pem)]
    pub cert: Option<Pem>,
    /// The PEM private key of --cert. Implies --tls.
    #[arg(long, value_name = "FILE", requires = "cert", value_parser = parse_pem)]
    pub key: Option<Pem>,
    /// Clients: trust the CA certificates of this PEM file (instead of the
    /// system's roots). Implies --tls.
    #[arg(long, value_name = "FILE", value_parser = parse_pem)]
    pub cacert: Option<Pem>,
    /// Clients: accept exactly the certificate with this SHA-256
    /// fingerprint (sha256:HEX, or the colon-separated form openssl
    /// prints), whoever signed it. Implies --tls.
    #[arg(long, value_name = "sha256:HEX", value_parser = parse_pin, conflicts_with = "cacert")]
    pub pin: Option<Fingerprint>,
    /// Clients: accept any certificate. The traffic is encrypted, but to
    /// whoever answers: nothing stops someone in the middle. Implies --tls.
    #[arg(long, conflicts_with_all = ["cacert", "pin"])]
    pub insecure: bool,
    /// Clients: the name the server's certificate must bear, sent as SNI
    /// (default: the host of the address).
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// serve: require client certificates signed by the CAs of this PEM
    /// file (mutual TLS). Implies --tls.
    #[arg(long, value_name = "FILE", value_parser = parse_pem)]
    pub client_ca: Option<Pem>,
}

fn parse_pem(s: &str) -> Result<Pem, String> {
    Pem::file(s).map_err(|e| e.to_string())
}

fn parse_pin(s: &str) -> Result<Fingerprint, String> {
    s.parse().map_err(|e: veltix::error::BadFingerprint| e.to_string())
}

/// An option given to the wrong side (exit 2: `args::exit_code_for`
/// knows this type).
#[derive(Debug)]
pub struct Misplaced(pub String);

impl std::fmt::Display for Misplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Misplaced {}

fn usage(what: String) -> anyhow::Error {
    Misplaced(what).into()
}

impl TlsArgs {
    /// Whether any option asks for TLS.
    pub fn enabled(&self) -> bool {
        self.tls
            || self.cert.is_some()
            || self.cacert.is_some()
            || self.pin.is_some()
            || self.insecure
            || self.client_ca.is_some()
    }

    /// A client's TLS settings (`None`: plain TCP). `--insecure` warns on
    /// stderr, once per process.
    pub fn client(&self) -> anyhow::Result<Option<ClientTls>> {
        if !self.enabled() {
            return Ok(None);
        }
        if self.client_ca.is_some() {
            return Err(usage("--client-ca is an option of serve (clients: --cacert)".into()));
        }
        let trust = match (&self.pin, &self.cacert, self.insecure) {
            (Some(pin), _, _) => Trust::Pin(*pin),
            (None, Some(ca), _) => Trust::Ca(ca.clone()),
            (None, None, true) => {
                static WARNED: Once = Once::new();
                WARNED.call_once(|| {
                    eprintln!(
                        "WARNING: --insecure: the server's certificate is NOT verified (no CA, no name, no pin): \
                         the traffic is encrypted, but to whoever answers; anyone in the middle can read and change it"
                    )
                });
                Trust::Insecure
            }
            (None, None, false) => Trust::System,
        };
        let cert = self.cert.clone().zip(self.key.clone());
        Ok(Some(ClientTls::new(trust).server_name(self.servername.clone()).client_cert(cert)))
    }

    /// A server's TLS settings and its certificate's fingerprint (`None`:
    /// plain TCP): --cert/--key, or the self-signed certificate kept under
    /// `data_dir` (default: the user's data directory).
    pub fn server(
        &self,
        data_dir: Option<&Path>,
    ) -> anyhow::Result<Option<(ServerTls, Fingerprint)>> {
        if !self.enabled() {
            return Ok(None);
        }
        for (set, flag) in [
            (self.cacert.is_some(), "--cacert"),
            (self.pin.is_some(), "--pin"),
            (self.insecure, "--insecure"),
            (self.servername.is_some(), "--servername"),
        ] {
            if set {
                return Err(usage(format!(
                    "{flag} is an option of clients (serve: --cert, --key, --client-ca)"
                )));
            }
        }
        let tls = match self.cert.clone().zip(self.key.clone()) {
            Some((cert, key)) => ServerTls::new(cert, key),
            None => self_signed(&tls_dir(data_dir)?)?,
        };
        let fp = tls.fingerprint()?;
        Ok(Some((tls.client_ca(self.client_ca.clone()), fp)))
    }
}

/// Where the self-signed certificate is kept.
fn tls_dir(data_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v: &std::ffi::OsString| !v.is_empty());
    let base = match (data_dir, env("XDG_DATA_HOME"), env("HOME")) {
        (Some(d), _, _) => d.to_path_buf(),
        (None, Some(xdg), _) => PathBuf::from(xdg).join("veltix"),
        (None, None, Some(home)) => PathBuf::from(home).join(".local/share/veltix"),
        (None, None, None) => anyhow::bail!(
            "no data directory for the self-signed certificate: set HOME, XDG_DATA_HOME or --data-dir, or give --cert and --key"
        ),
    };
    Ok(base.join("tls"))
}

/// The self-signed certificate kept in `dir` (`cert.pem`, `key.pem`),
/// made on first use: Ed25519, for localhost, 127.0.0.1, ::1 and this
/// host's name.
fn self_signed(dir: &Path) -> anyhow::Result<ServerTls> {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert_path.exists() || !key_path.exists() {
        make_self_signed(dir, &cert_path, &key_path)?;
    }
    Ok(ServerTls::new(Pem::file(&cert_path)?, Pem::file(&key_path)?))
}

fn make_self_signed(dir: &Path, cert_path: &Path, key_path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if let Some(h) = hostname().filter(|h| !names.contains(h)) {
        names.push(h);
    }
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
        .context("cannot generate an Ed25519 key")?;
    let mut params =
        rcgen::CertificateParams::new(names).context("cannot make the certificate's names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "veltix self-signed");
    let cert = params.self_signed(&key).context("cannot sign the certificate")?;
    // The key first, readable by us alone; the certificate last: a run
    // interrupted in between makes a new pair next time.
    let write = |path: &Path, text: String, mode: u32| -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    };
    write(key_path, ed25519_pkcs8_v1_pem(&key.serialize_der())?, 0o600)?;
    write(cert_path, cert.pem(), 0o644)?;
    log::info!("made a self-signed certificate in {}", dir.display());
    Ok(())
}

/// An Ed25519 key as PKCS#8 v1 PEM (RFC 8410: the 32-byte seed alone).
/// ring writes v2 (the public key too), which OpenSSL 3.0, and so socat,
/// stunnel or haproxy, cannot read; the key is then of use to them too.
fn ed25519_pkcs8_v1_pem(der: &[u8]) -> anyhow::Result<String> {
    use base64::Engine;
    // SEQUENCE { INTEGER 1, AlgorithmIdentifier { id-Ed25519 }, OCTET STRING { OCTET STRING seed } ...
    const V2: [u8; 16] = *b"\x30\x51\x02\x01\x01\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20";
    // ... and the same with INTEGER 0 and nothing after the seed.
    const V1: [u8; 16] = *b"\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20";
    let seed = der
        .strip_prefix(&V2[..])
        .and_then(|rest| rest.get(..32))
        .context("the generated key is not the Ed25519 PKCS#8 document expected")?;
    let b64 = base64::engine::general_purpose::STANDARD.encode([&V1[..], seed].concat());
    Ok(format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"))
}

/// This host's name, if the system says.
fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_self_signed_key_is_pkcs8_v1_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let tls = self_signed(dir.path()).unwrap();
        let text = String::from_utf8(tls.key.bytes.clone()).unwrap();
        // Base64 of 30 2e 02 01 00: a 46-byte v1 document.
        assert!(text.contains("\nMC4CAQAw"), "{text}");
        // rustls takes it, and the pair matches.
        let fp = tls.fingerprint().unwrap();
        let server = veltix::Server::start(
            veltix::ServerConfig::default().host("127.0.0.1").port(0).tls(Some(tls)),
        )
        .unwrap();
        let cfg = veltix::ClientConfig::new(server.local_addr().to_string())
            .tls(Some(ClientTls::new(Trust::Pin(fp))));
        assert!(veltix::Client::connect(cfg).is_ok());
        // Kept: the next call reads the same pair.
        assert_eq!(self_signed(dir.path()).unwrap().fingerprint().unwrap(), fp);
    }
}

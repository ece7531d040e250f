//! Test certificates, made with rcgen at test time and written as PEM
//! files in a temporary directory: a CA, a server certificate it signed
//! (ECDSA P-256, for `localhost`, 127.0.0.1 and ::1), a client certificate
//! it signed, and a client certificate of another CA; and a self-signed
//! server certificate. All but the CA-signed server's keys are Ed25519.

use std::path::PathBuf;

use veltix::{ClientTls, Fingerprint, Pem, ServerTls, Trust};

/// The certificates, as files in a temporary directory (removed on drop).
#[derive(Debug)]
pub struct Pki {
    dir: tempfile::TempDir,
    /// The SHA-256 fingerprints of the CA-signed and the self-signed
    /// server certificates.
    pub server_fp: Fingerprint,
    pub self_signed_fp: Fingerprint,
}

fn params(names: &[&str], cn: &str) -> rcgen::CertificateParams {
    let mut p =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("bad names: {e}"));
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p
}

fn ca(cn: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut p = params(&[], cn);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    (p.self_signed(&key).unwrap(), key)
}

fn fingerprint(der: &[u8]) -> Fingerprint {
    Fingerprint::of(der)
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary dir: {e}"));
        let names = ["localhost", "127.0.0.1", "::1"];
        let (ca_cert, ca_key) = ca("veltix test CA");
        // ECDSA P-256: OpenSSL 3.0 (socat in front of a Python server) cannot
        // read the PKCS#8 v2 documents ring makes of Ed25519 keys.
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let server =
            params(&names, "veltix test server").signed_by(&key, &ca_cert, &ca_key).unwrap();
        let ckey = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let client = params(&[], "veltix test client").signed_by(&ckey, &ca_cert, &ca_key).unwrap();
        let (other_ca, other_ca_key) = ca("another CA");
        let okey = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let other = params(&[], "a stranger").signed_by(&okey, &other_ca, &other_ca_key).unwrap();
        let skey = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let selfs = params(&names, "self-signed server").self_signed(&skey).unwrap();
        let files = [
            ("ca.pem", ca_cert.pem()),
            ("server.pem", server.pem()),
            ("server.key", key.serialize_pem()),
            ("client.pem", client.pem()),
            ("client.key", ckey.serialize_pem()),
            ("stranger.pem", other.pem()),
            ("stranger.key", okey.serialize_pem()),
            ("self.pem", selfs.pem()),
            ("self.key", skey.serialize_pem()),
        ];
        for (name, pem) in files {
            std::fs::write(dir.path().join(name), pem)
                .unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
        }
        Pki { dir, server_fp: fingerprint(server.der()), self_signed_fp: fingerprint(selfs.der()) }
    }

    /// The path of one of the files (`ca.pem`, `server.pem`, ...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The path as a string, for command lines.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    pub fn pem(&self, name: &str) -> Pem {
        Pem::file(self.path(name)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The CA-signed server certificate.
    pub fn server(&self) -> ServerTls {
        ServerTls::new(self.pem("server.pem"), self.pem("server.key"))
    }

    /// The self-signed server certificate.
    pub fn self_signed(&self) -> ServerTls {
        ServerTls::new(self.pem("self.pem"), self.pem("self.key"))
    }

    /// A client trusting the test CA.
    pub fn client(&self) -> ClientTls {
        ClientTls::new(Trust::Ca(self.pem("ca.pem")))
    }

    /// The client certificate the test CA signed, for mutual TLS.
    pub fn client_cert(&self) -> Option<(Pem, Pem)> {
        Some((self.pem("client.pem"), self.pem("client.key")))
    }

    /// A client certificate of another CA.
    pub fn stranger_cert(&self) -> Option<(Pem, Pem)> {
        Some((self.pem("stranger.pem"), self.pem("stranger.key")))
    }
}

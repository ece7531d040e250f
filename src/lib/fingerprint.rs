//! A certificate's SHA-256 fingerprint, as TLS pinning names it:
//! `sha256:` and 64 hex digits. Parsing also takes the colon-separated
//! form `openssl x509 -fingerprint -sha256` prints (with or without its
//! `SHA256 Fingerprint=` prefix), in either case.

use std::fmt;
use std::str::FromStr;

/// The SHA-256 digest of a certificate's DER bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

/// Why a text is not a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a SHA-256 fingerprint ({why}); expected sha256: and 64 hex digits (colons between pairs allowed)")]
pub struct BadFingerprint {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub why: String,
}

impl Fingerprint {
    /// The fingerprint of a certificate (its DER encoding).
    #[cfg(feature = "tls")]
    pub fn of(der: &[u8]) -> Fingerprint {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Fingerprint(out)
    }

    /// The 64 lowercase hex digits, without the `sha256:` prefix.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    fn from_str(text: &str) -> Result<Fingerprint, BadFingerprint> {
        let bad = |why: &str| BadFingerprint { text: text.to_string(), why: why.to_string() };
        let mut s = text.trim();
        // `openssl x509 -fingerprint -sha256` prints `sha256 Fingerprint=AB:CD:..`.
        if let Some((head, rest)) = s.split_once('=') {
            if !head.to_ascii_lowercase().starts_with("sha256") {
                return Err(bad("not SHA-256"));
            }
            s = rest;
        } else if s.len() > 7 && s[..7].eq_ignore_ascii_case("sha256:") {
            s = &s[7..];
        }
        let digits: Vec<u8> = if s.contains(':') {
            let pairs: Vec<&str> = s.split(':').collect();
            if pairs.iter().any(|p| p.len() != 2) {
                return Err(bad("colons must separate pairs of hex digits"));
            }
            pairs.concat().into_bytes()
        } else {
            s.as_bytes().to_vec()
        };
        if digits.len() != 64 {
            return Err(bad(&format!("{} hex digits, not 64", digits.len())));
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|_| bad("not hex"))?;
            out[i] = u8::from_str_radix(hex, 16).map_err(|_| bad("not hex"))?;
        }
        Ok(Fingerprint(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn prints_and_parses_back() {
        let fp: Fingerprint = format!("sha256:{HEX}").parse().unwrap();
        assert_eq!(fp.0[1], 0x11);
        assert_eq!(fp.to_string(), format!("sha256:{HEX}"));
        assert_eq!(fp.to_string().parse::<Fingerprint>(), Ok(fp));
        // Bare hex and upper case.
        assert_eq!(HEX.to_uppercase().parse::<Fingerprint>(), Ok(fp));
        assert_eq!(format!("SHA256:{HEX}").parse::<Fingerprint>(), Ok(fp));
    }

    #[test]
    fn takes_what_openssl_prints() {
        let colons = HEX
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap().to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        let want: Fingerprint = HEX.parse().unwrap();
        assert_eq!(colons.parse::<Fingerprint>(), Ok(want));
        assert_eq!(format!("sha256 Fingerprint={colons}").parse::<Fingerprint>(), Ok(want));
        assert_eq!(format!("sha256:{colons}").parse::<Fingerprint>(), Ok(want));
    }

    #[test]
    fn refuses_what_is_not_one() {
        for (text, why) in [
            ("sha256:abcd", "4 hex digits"),
            (&format!("sha256:{}zz", &HEX[..62]) as &str, "not hex"),
            (&format!("sha1 Fingerprint={HEX}"), "not SHA-256"),
            ("ab:cde:f0", "pairs"),
            ("", "0 hex digits"),
        ] {
            let e = text.parse::<Fingerprint>().unwrap_err();
            assert!(e.to_string().contains(why), "{text}: {e}");
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn of_is_the_sha256_of_the_bytes() {
        // SHA-256("abc"), FIPS 180-2's first example.
        let want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(Fingerprint::of(b"abc").hex(), want);
    }
}

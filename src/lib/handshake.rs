//! The HELLO / HELLO_ACK payload and the version rule.
//!
//! Payload: `u16 length` (big-endian) followed by that many bytes of UTF-8
//! version text. veltix 1.6.3 requires an exact `major.minor.patch` match,
//! so we announce `1.6.3` by default.

use crate::error::ProtocolError;

/// The protocol version we announce by default (what veltix 1.6.3 accepts).
pub const PROTOCOL_VERSION: &str = "1.6.3";

/// Encodes a version string as a HELLO/HELLO_ACK payload.
pub fn encode_hello(version: &str) -> Vec<u8> {
    let bytes = version.as_bytes();
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(2 + usize::from(len));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
    out
}

/// Decodes a HELLO/HELLO_ACK payload into its version string.
pub fn parse_hello(payload: &[u8]) -> Result<String, ProtocolError> {
    let Some((len, rest)) = payload.split_first_chunk::<2>() else {
        return Err(ProtocolError::BadHello(format!(
            "{} bytes, need at least 2 for the length",
            payload.len()
        )));
    };
    let len = usize::from(u16::from_be_bytes(*len));
    let text = rest.get(..len).ok_or_else(|| {
        ProtocolError::BadHello(format!("length says {len} bytes, {} follow", rest.len()))
    })?;
    String::from_utf8(text.to_vec())
        .map_err(|_| ProtocolError::BadHello("version is not valid UTF-8".into()))
}

/// Splits `major.minor.patch` into numbers.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    let patch = it.next()?.parse().ok()?;
    it.next().is_none().then_some((major, minor, patch))
}

/// The 1.6.3 rule: both versions parse and are equal number for number.
pub fn check_version(ours: &str, theirs: &str) -> Result<(), ProtocolError> {
    match (parse_version(ours), parse_version(theirs)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => Err(ProtocolError::VersionMismatch { ours: ours.into(), theirs: theirs.into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_payload_matches_the_reference() {
        assert_eq!(encode_hello("1.6.3"), b"\x00\x051.6.3");
        assert_eq!(parse_hello(b"\x00\x051.6.3").unwrap(), "1.6.3");
    }

    #[test]
    fn malformed_hello_is_an_error() {
        assert!(matches!(parse_hello(b""), Err(ProtocolError::BadHello(_))));
        assert!(matches!(parse_hello(b"\x00\x09abc"), Err(ProtocolError::BadHello(_))));
        assert!(matches!(parse_hello(b"\x00\x02\xff\xfe"), Err(ProtocolError::BadHello(_))));
    }

    #[test]
    fn versions_must_match_exactly() {
        assert!(check_version("1.6.3", "1.6.3").is_ok());
        assert!(check_version("1.6.3", "01.6.3").is_ok());
        assert!(check_version("1.6.3", "1.6.4").is_err());
        assert!(check_version("1.6.3", "1.6").is_err());
        assert!(check_version("1.6.3", "garbage").is_err());
    }
}

//! Hex text in both directions: lowercase hex out, and (from the library,
//! [`veltix::inspect::hex`]) the lenient reader for what people paste in:
//! plain or spaced hex, `xxd` and `hexdump -C` dumps.

use std::fmt::Write as _;

pub use veltix::inspect::hex::decode;

/// Lowercase hex of `bytes`, no separators.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_is_lowercase_and_decodes_back() {
        assert_eq!(encode(b"\x00\xffA"), "00ff41");
        assert_eq!(decode(&encode(b"\x00\xffA")).unwrap(), b"\x00\xffA");
    }
}

//! JSON lines (NDJSON): one object per line, and payloads as JSON values.

use std::io::{self, Write};

use serde::Serialize;

/// A payload as it goes into JSON: the text when it is valid UTF-8, hex
/// otherwise. Flattened into a record it becomes a `payload_text` or a
/// `payload_hex` field.
///
/// ```ignore
/// #[derive(Serialize)]
/// struct Record { id: u32, #[serde(flatten)] payload: Payload }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Payload {
    /// The payload is valid UTF-8.
    #[serde(rename = "payload_text")]
    Text(String),
    /// The payload as lowercase hex.
    #[serde(rename = "payload_hex")]
    Hex(String),
}

impl Payload {
    /// Chooses text or hex for `bytes`.
    pub fn new(bytes: &[u8]) -> Payload {
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::Text(text.to_string()),
            Err(_) => Payload::Hex(super::hex::encode(bytes)),
        }
    }
}

/// Writes `value` as one line of JSON.
pub fn write_line<W: Write + ?Sized, T: Serialize + ?Sized>(
    w: &mut W,
    value: &T,
) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Record {
        id: u32,
        #[serde(flatten)]
        payload: Payload,
    }

    #[test]
    fn text_or_hex() {
        let mut out = Vec::new();
        write_line(&mut out, &Record { id: 1, payload: Payload::new("héllo".as_bytes()) }).unwrap();
        write_line(&mut out, &Record { id: 2, payload: Payload::new(b"\xff\x00") }).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"id\":1,\"payload_text\":\"héllo\"}\n{\"id\":2,\"payload_hex\":\"ff00\"}\n"
        );
    }
}

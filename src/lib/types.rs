//! Message type codes and the registry that names them.
//!
//! Any code 0..=65535 is valid on the wire; a name is only a label for
//! people. By convention 0–199 are system codes, 200–499 application codes
//! and 500+ plugin codes.

use std::collections::BTreeMap;

/// Latency probe; the receiver answers [`PONG`] at once.
pub const PING: u16 = 0;
/// Answer to [`PING`]: empty payload, same request id.
pub const PONG: u16 = 1;
/// Keep-alive.
pub const HEARTBEAT: u16 = 2;
/// Handshake, server → client: `u16 length + UTF-8 version`.
pub const HELLO: u16 = 10;
/// Handshake answer, client → server, same request id as the HELLO.
pub const HELLO_ACK: u16 = 11;
/// Generic error; the payload is a UTF-8 reason.
pub const ERROR: u16 = 20;
/// Malformed request.
pub const INVALID_REQUEST: u16 = 21;

/// The system types of veltix 1.6.3: code, name, meaning.
pub const SYSTEM_TYPES: &[(u16, &str, &str)] = &[
    (PING, "ping", "latency probe, answered with pong"),
    (PONG, "pong", "answer to ping"),
    (HEARTBEAT, "heartbeat", "keep-alive"),
    (HELLO, "hello", "handshake, server to client"),
    (HELLO_ACK, "hello_ack", "handshake answer, client to server"),
    (ERROR, "error", "generic error"),
    (INVALID_REQUEST, "invalid_request", "malformed request"),
];

/// Whether a code is one of the system types above.
pub fn is_system(code: u16) -> bool {
    SYSTEM_TYPES.iter().any(|(c, _, _)| *c == code)
}

/// Errors when filling or querying a [`TypeRegistry`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// Not a code and not a known name.
    #[error("unknown message type '{0}' (use a code 0-65535 or a name defined with --type-name/--types)")]
    Unknown(String),
    /// A code outside 0..=65535.
    #[error("message type code {0} is out of range 0-65535")]
    OutOfRange(String),
    /// A `CODE=NAME` definition that does not parse.
    #[error("bad type definition '{0}': expected CODE=NAME, e.g. 200=chat")]
    BadDefinition(String),
    /// A name that is empty, all digits, or has spaces.
    #[error("bad type name '{0}': a name is a non-numeric word without spaces")]
    BadName(String),
    /// A name given to two codes.
    #[error("type name '{name}' is given to both {first} and {second}")]
    DuplicateName {
        /// The name.
        name: String,
        /// The code it had.
        first: u16,
        /// The code it was given again.
        second: u16,
    },
    /// A JSON type file that does not parse.
    #[error("bad type file: {0}")]
    BadFile(String),
}

/// Maps codes to names and back. Starts with the system types; user
/// definitions are added with [`define`](TypeRegistry::define).
#[derive(Debug, Clone)]
pub struct TypeRegistry {
    names: BTreeMap<u16, String>,
}

impl Default for TypeRegistry {
    fn default() -> Self {
        TypeRegistry {
            names: SYSTEM_TYPES.iter().map(|(c, n, _)| (*c, (*n).to_string())).collect(),
        }
    }
}

impl TypeRegistry {
    /// A registry holding the system types only.
    pub fn new() -> TypeRegistry {
        TypeRegistry::default()
    }

    /// Names `code` (replacing an earlier name for the same code).
    pub fn define(&mut self, code: u16, name: &str) -> Result<(), TypeError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().all(|c| c.is_ascii_digit())
            || name.chars().any(char::is_whitespace)
        {
            return Err(TypeError::BadName(name.to_string()));
        }
        if let Some(first) = self.code_of(name) {
            if first != code {
                return Err(TypeError::DuplicateName { name: name.into(), first, second: code });
            }
        }
        self.names.insert(code, name.to_string());
        Ok(())
    }

    /// Adds a `CODE=NAME` definition (as given to `--type-name`).
    pub fn define_str(&mut self, def: &str) -> Result<(), TypeError> {
        let (code, name) =
            def.split_once('=').ok_or_else(|| TypeError::BadDefinition(def.to_string()))?;
        let code =
            parse_code(code.trim())?.ok_or_else(|| TypeError::BadDefinition(def.to_string()))?;
        self.define(code, name)
    }

    /// Adds every entry of a JSON object `{"200": "chat", ...}`.
    pub fn define_json(&mut self, json: &str) -> Result<(), TypeError> {
        let map: BTreeMap<String, String> =
            serde_json::from_str(json).map_err(|e| TypeError::BadFile(e.to_string()))?;
        for (code, name) in map {
            let code = parse_code(code.trim())?
                .ok_or_else(|| TypeError::BadFile(format!("key '{code}' is not a type code")))?;
            self.define(code, &name)?;
        }
        Ok(())
    }

    /// The name of `code`, if it has one.
    pub fn name(&self, code: u16) -> Option<&str> {
        self.names.get(&code).map(String::as_str)
    }

    /// The name of `code`, or `type_CODE` when it has none (as 1.6.3 names
    /// unnamed types).
    pub fn label(&self, code: u16) -> String {
        self.name(code).map_or_else(|| format!("type_{code}"), str::to_string)
    }

    /// The code named `name` (case-insensitive).
    pub fn code_of(&self, name: &str) -> Option<u16> {
        self.names.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| *c)
    }

    /// Resolves what a user typed: a code (`200`, `0xc8`) or a known name.
    pub fn resolve(&self, s: &str) -> Result<u16, TypeError> {
        let s = s.trim();
        if let Some(code) = parse_code(s)? {
            return Ok(code);
        }
        if let Some(rest) = s.strip_prefix("type_") {
            if let Ok(Some(code)) = parse_code(rest) {
                return Ok(code);
            }
        }
        self.code_of(s).ok_or_else(|| TypeError::Unknown(s.to_string()))
    }

    /// Every named code, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &str)> {
        self.names.iter().map(|(c, n)| (*c, n.as_str()))
    }
}

/// `Ok(Some(code))` for a decimal or `0x` hex number in range, `Ok(None)`
/// for something that is not a number, an error for a number out of range.
fn parse_code(s: &str) -> Result<Option<u16>, TypeError> {
    let parsed = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        u64::from_str_radix(hex, 16).ok()
    } else {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
            return Ok(None);
        }
        s.parse::<u64>().ok()
    };
    match parsed.and_then(|v| u16::try_from(v).ok()) {
        Some(code) => Ok(Some(code)),
        None => Err(TypeError::OutOfRange(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_codes_names_and_hex() {
        let mut r = TypeRegistry::new();
        r.define_str("200=chat").unwrap();
        assert_eq!(r.resolve("chat"), Ok(200));
        assert_eq!(r.resolve("CHAT"), Ok(200));
        assert_eq!(r.resolve("201"), Ok(201));
        assert_eq!(r.resolve("0xc8"), Ok(200));
        assert_eq!(r.resolve("ping"), Ok(0));
        assert_eq!(r.resolve("type_401"), Ok(401));
        assert_eq!(r.resolve("65536"), Err(TypeError::OutOfRange("65536".into())));
        assert!(matches!(r.resolve("nope"), Err(TypeError::Unknown(_))));
        assert_eq!(r.label(999), "type_999");
    }

    #[test]
    fn json_and_bad_definitions() {
        let mut r = TypeRegistry::new();
        r.define_json(r#"{"200": "chat", "401": "player_move"}"#).unwrap();
        assert_eq!(r.name(401), Some("player_move"));
        assert!(matches!(r.define_str("chat"), Err(TypeError::BadDefinition(_))));
        assert!(matches!(r.define_str("300=12"), Err(TypeError::BadName(_))));
        assert!(matches!(r.define_str("300=chat"), Err(TypeError::DuplicateName { .. })));
        assert!(matches!(r.define_json("[1]"), Err(TypeError::BadFile(_))));
        assert!(matches!(r.define_json(r#"{"x": "y"}"#), Err(TypeError::BadFile(_))));
    }
}

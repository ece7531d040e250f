//! Hex text to bytes: a lenient reader for what people paste or pipe in
//! (plain or spaced hex, `xxd` and `hexdump -C` dumps).
//!
//! [`HexReader`] parses one line at a time, so a long dump can be decoded
//! as it arrives; [`HexStream`] drives it over any [`BufRead`]; [`decode`]
//! parses a whole text at once.
//!
//! ```
//! use veltix::inspect::hex;
//!
//! assert_eq!(hex::decode("48 65 6c\n6c 6f")?, b"Hello");
//! assert_eq!(hex::decode("00000000: 4865 6c6c 6f  Hello")?, b"Hello");
//! assert_eq!(hex::decode("zz").unwrap_err().to_string(), "line 1: 'zz' is not hex");
//! # Ok::<(), hex::HexError>(())
//! ```

use std::io::{self, BufRead};

/// A line of hex text that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HexError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, quoting the offending text.
    pub message: String,
}

/// Reads hex text line by line. Understands, per line:
///
/// * plain hex, with or without spaces, an optional `0x` per group, split
///   anywhere (even inside a byte) across lines;
/// * `xxd` lines: `00000000: 00c8 0000 000d 2b8c ...  ..............`
///   (offset and ASCII column are dropped);
/// * `hexdump -C` lines: `00000000  00 c8 00 00 ...  |........|`;
/// * empty lines and `#` comments.
#[derive(Debug, Default)]
pub struct HexReader {
    line: usize,
    half: Option<u8>,
    hexdump_c: bool,
}

impl HexReader {
    /// A reader at line 1.
    pub fn new() -> HexReader {
        HexReader::default()
    }

    /// Parses one line (without its newline), appending the bytes to `out`.
    /// On error, `out` may hold the bytes of the line before the fault.
    pub fn line(&mut self, line: &str, out: &mut Vec<u8>) -> Result<(), HexError> {
        self.line += 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let data = self.data_part(line)?;
        for group in data.split_whitespace() {
            let digits =
                group.strip_prefix("0x").or_else(|| group.strip_prefix("0X")).unwrap_or(group);
            for c in digits.chars() {
                let Some(v) = c.to_digit(16) else {
                    return Err(self.error(format!("'{group}' is not hex")));
                };
                // `to_digit(16)` is below 16, so this fits a byte.
                let v = v as u8;
                match self.half.take() {
                    Some(hi) => out.push((hi << 4) | v),
                    None => self.half = Some(v),
                }
            }
        }
        Ok(())
    }

    /// Parses one line as read from a byte stream: a trailing `\n` or
    /// `\r\n` is dropped, and bytes that are not UTF-8 are replaced (they
    /// are not hex either, so they still fail, quoted legibly).
    pub fn line_bytes(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<(), HexError> {
        let text = String::from_utf8_lossy(line);
        self.line(text.trim_end_matches(['\n', '\r']), out)
    }

    /// Checks that the text ended on a whole byte.
    pub fn finish(self) -> Result<(), HexError> {
        match self.half {
            Some(_) => Err(HexError {
                line: self.line,
                message: "odd number of hex digits: the last byte is missing a digit".into(),
            }),
            None => Ok(()),
        }
    }

    /// The hex digits of a line, without dump offsets and ASCII columns.
    fn data_part<'a>(&mut self, line: &'a str) -> Result<&'a str, HexError> {
        // xxd: "OFFSET: HEX  ASCII". The hex area never holds two spaces in
        // a row, so the first double space ends it.
        if let Some((offset, rest)) = line.split_once(':') {
            if is_hex_word(offset) {
                let rest = rest.trim_start();
                return Ok(rest.split_once("  ").map_or(rest, |(hex, _)| hex));
            }
        }
        // hexdump -C: "OFFSET  HEX  |ASCII|", and a last line with only
        // the final offset.
        let first = line.split_whitespace().next().unwrap_or("");
        if line.contains('|') && is_hex_word(first) && line.len() > first.len() {
            self.hexdump_c = true;
            let rest = &line[first.len()..];
            return Ok(rest.split_once('|').map_or(rest, |(hex, _)| hex));
        }
        if self.hexdump_c && is_hex_word(line) {
            return Ok("");
        }
        if line == "*" {
            return Err(self.error(
                "'*' stands for repeated lines the dump left out; dump with `hexdump -Cv` or `xxd`"
                    .into(),
            ));
        }
        Ok(line)
    }

    fn error(&self, message: String) -> HexError {
        HexError { line: self.line, message }
    }
}

fn is_hex_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Why a [`HexStream`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading the input failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The input is not hex text.
    #[error(transparent)]
    Hex(#[from] HexError),
}

/// Hex text read from a [`BufRead`] one line at a time.
///
/// ```
/// use veltix::inspect::hex::HexStream;
///
/// let mut stream = HexStream::new(&b"4865\n6c6c6f\n"[..]);
/// let mut bytes = Vec::new();
/// while stream.read_line(&mut bytes)? {}
/// assert_eq!(bytes, b"Hello");
/// # Ok::<(), veltix::inspect::hex::ReadError>(())
/// ```
#[derive(Debug)]
pub struct HexStream<R> {
    input: R,
    reader: Option<HexReader>,
    line: Vec<u8>,
}

impl<R: BufRead> HexStream<R> {
    /// Reads hex text from `input`.
    pub fn new(input: R) -> HexStream<R> {
        HexStream { input, reader: Some(HexReader::new()), line: Vec::new() }
    }

    /// Reads and parses the next line, appending its bytes to `out`.
    /// Returns `Ok(false)` at the end of the input, once the text is known
    /// to end on a whole byte; every call after that returns `Ok(false)`.
    pub fn read_line(&mut self, out: &mut Vec<u8>) -> Result<bool, ReadError> {
        let Some(reader) = &mut self.reader else {
            return Ok(false);
        };
        self.line.clear();
        if self.input.read_until(b'\n', &mut self.line)? == 0 {
            if let Some(reader) = self.reader.take() {
                reader.finish()?;
            }
            return Ok(false);
        }
        reader.line_bytes(&self.line, out)?;
        Ok(true)
    }
}

/// Parses a whole hex text (see [`HexReader`] for the forms accepted).
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let mut reader = HexReader::new();
    let mut out = Vec::with_capacity(text.len() / 2);
    for line in text.lines() {
        reader.line(line, &mut out)?;
    }
    reader.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_spaced_and_prefixed() {
        assert_eq!(decode("48656c6c6f").unwrap(), b"Hello");
        assert_eq!(decode("48 65 6c\n6c 6f\n").unwrap(), b"Hello");
        assert_eq!(decode("0x48 0x65").unwrap(), b"He");
        assert_eq!(decode("4\n8").unwrap(), b"H");
    }

    #[test]
    fn xxd_and_hexdump_c() {
        let xxd = "00000000: 00c8 0000 000d 2b8c f0b3 0000 019a bf88  ......+.........\n\
                   00000010: 4865                                     He\n";
        let bytes = decode(xxd).unwrap();
        assert_eq!(bytes.len(), 18);
        assert_eq!(&bytes[16..], b"He");
        let c = "00000000  00 c8 00 00 00 0d 2b 8c  f0 b3 00 00 01 9a bf 88  |......+.........|\n\
                 00000010  48 65                                             |He|\n\
                 00000012\n";
        assert_eq!(decode(c).unwrap(), bytes);
    }

    #[test]
    fn errors_name_the_line_and_the_text() {
        let e = decode("4865\nzz").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("'zz'"), "{e}");
        assert!(decode("486").unwrap_err().message.contains("odd"));
        assert!(decode("00000000  00 01  |..|\n*\n").unwrap_err().message.contains("hexdump -Cv"));
    }

    #[test]
    fn stream_reads_crlf_and_reports_io_and_hex_errors() {
        let mut stream = HexStream::new(&b"48 65\r\n6c6c6f"[..]);
        let mut out = Vec::new();
        while stream.read_line(&mut out).unwrap() {}
        assert_eq!(out, b"Hello");
        assert!(!stream.read_line(&mut out).unwrap());

        let mut stream = HexStream::new(&b"48\n\xff\n"[..]);
        assert!(stream.read_line(&mut out).unwrap());
        match stream.read_line(&mut out) {
            Err(ReadError::Hex(HexError { line: 2, message })) => {
                assert_eq!(message, "'\u{fffd}' is not hex")
            }
            other => panic!("{other:?}"),
        }

        let mut stream = HexStream::new(&b"486"[..]);
        assert!(stream.read_line(&mut out).unwrap());
        assert!(matches!(
            stream.read_line(&mut out),
            Err(ReadError::Hex(HexError { line: 1, .. }))
        ));
    }
}

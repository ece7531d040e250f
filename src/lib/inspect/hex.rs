//! Hex text to bytes: a lenient reader for what people paste or pipe in
//! (plain or spaced hex, `xxd` and `hexdump -C` dumps).
//!
//! [`HexReader`] parses one line at a time, so a long dump can be decoded
//! as it arrives; [`HexStream`] drives it over any [`BufRead`] in bounded
//! memory, however long a line is; [`decode`] parses a whole text at once.
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
    /// A line too long to hold, parsed piece by piece.
    long: Option<LongLine>,
}

/// Where a [`HexReader`] is inside a long line.
#[derive(Debug, Default)]
struct LongLine {
    /// The line is a `#` comment (or has not started yet: `None`).
    comment: Option<bool>,
    /// Inside a group of digits (not after whitespace).
    in_group: bool,
    /// A group started with `0`, which may be the start of `0x`.
    zero: bool,
    /// The first bytes of the current group, to quote in an error.
    head: Vec<u8>,
}

/// How much of a group an error about a long line quotes.
const QUOTE: usize = 24;

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
                self.digit(v as u8, out);
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

    fn digit(&mut self, v: u8, out: &mut Vec<u8>) {
        match self.half.take() {
            Some(hi) => out.push((hi << 4) | v),
            None => self.half = Some(v),
        }
    }

    /// Parses a piece of a line too long to hold whole, appending its
    /// bytes to `out`; [`HexReader::end_long_line`] ends the line. Only
    /// plain hex (and `#` comments) make such lines: no dump format does.
    pub fn long_line_bytes(&mut self, piece: &[u8], out: &mut Vec<u8>) -> Result<(), HexError> {
        let mut long = match self.long.take() {
            Some(l) => l,
            None => {
                self.line += 1;
                LongLine::default()
            }
        };
        let r = self.long_piece(&mut long, piece, out);
        self.long = Some(long);
        r
    }

    fn long_piece(
        &mut self,
        long: &mut LongLine,
        piece: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), HexError> {
        for &b in piece {
            if long.comment.is_none() {
                if b.is_ascii_whitespace() {
                    continue;
                }
                long.comment = Some(b == b'#');
            }
            if long.comment == Some(true) {
                return Ok(());
            }
            if b.is_ascii_whitespace() {
                if std::mem::take(&mut long.zero) {
                    self.digit(0, out);
                }
                long.in_group = false;
                long.head.clear();
                continue;
            }
            if long.head.len() < QUOTE {
                long.head.push(b);
            }
            if !long.in_group {
                long.in_group = true;
                if b == b'0' {
                    long.zero = true;
                    continue;
                }
            } else if std::mem::take(&mut long.zero) {
                if b == b'x' || b == b'X' {
                    continue;
                }
                self.digit(0, out);
            }
            match char::from(b).to_digit(16) {
                // Below 16, so it fits a byte.
                Some(v) => self.digit(v as u8, out),
                None => {
                    let quoted = String::from_utf8_lossy(&long.head);
                    return Err(self.error(format!("'{quoted}...' is not hex")));
                }
            }
        }
        Ok(())
    }

    /// Ends a line begun with [`HexReader::long_line_bytes`].
    pub fn end_long_line(&mut self, out: &mut Vec<u8>) {
        if let Some(long) = self.long.take() {
            if long.zero {
                self.digit(0, out);
            }
        }
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

/// Hex text read from a [`BufRead`] one line at a time. A line longer
/// than [`LINE_CAP`] bytes is parsed as plain hex in pieces of at most
/// that size, so memory stays bounded whatever the input.
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
    /// Inside a line longer than [`LINE_CAP`].
    long: bool,
}

/// The longest line a [`HexStream`] holds whole (dump lines are far
/// shorter); longer ones are parsed in pieces of this size.
pub const LINE_CAP: usize = 64 * 1024;

impl<R: BufRead> HexStream<R> {
    /// Reads hex text from `input`.
    pub fn new(input: R) -> HexStream<R> {
        HexStream { input, reader: Some(HexReader::new()), line: Vec::new(), long: false }
    }

    /// Reads and parses the next line (or the next piece of a long one),
    /// appending its bytes to `out`. Returns `Ok(false)` at the end of the
    /// input, once the text is known to end on a whole byte; every call
    /// after that returns `Ok(false)`.
    pub fn read_line(&mut self, out: &mut Vec<u8>) -> Result<bool, ReadError> {
        let Some(reader) = &mut self.reader else {
            return Ok(false);
        };
        if self.long {
            let buf = self.input.fill_buf()?;
            let (len, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            let len = len.min(LINE_CAP);
            let found = found && len < LINE_CAP;
            if buf.is_empty() || found {
                reader.long_line_bytes(&buf[..len], out)?;
                reader.end_long_line(out);
                self.long = false;
                self.input.consume(len + usize::from(found));
                return Ok(true);
            }
            reader.long_line_bytes(&buf[..len], out)?;
            self.input.consume(len);
            return Ok(true);
        }
        self.line.clear();
        let limit = LINE_CAP as u64;
        if io::Read::take(self.input.by_ref(), limit).read_until(b'\n', &mut self.line)? == 0 {
            if let Some(reader) = self.reader.take() {
                reader.finish()?;
            }
            return Ok(false);
        }
        if self.line.len() < LINE_CAP || self.line.last() == Some(&b'\n') {
            reader.line_bytes(&self.line, out)?;
        } else {
            reader.long_line_bytes(&self.line, out)?;
            self.long = true;
        }
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

    /// Parses `text` with a stream and with `decode`, which must agree.
    fn streamed(text: &[u8]) -> Result<Vec<u8>, String> {
        let mut stream = HexStream::new(io::BufReader::with_capacity(1000, text));
        let mut out = Vec::new();
        loop {
            match stream.read_line(&mut out) {
                Ok(true) => assert!(stream.line.capacity() <= 2 * LINE_CAP),
                Ok(false) => return Ok(out),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    #[test]
    fn long_lines_stream_and_parse_as_short_ones_do() {
        let n = LINE_CAP * 3 + 7;
        let plain: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let hex: String = plain.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(streamed(hex.as_bytes()), Ok(plain.clone()));
        let mut spaced: String = plain.iter().map(|b| format!("0x{b:02x} ")).collect();
        spaced.push_str("\r\n4865\n");
        let mut want = plain.clone();
        want.extend_from_slice(b"He");
        assert_eq!(streamed(spaced.as_bytes()), Ok(want));
        // A long comment, then a short line; `0` groups; an odd end.
        let comment = format!("  # {}\n41\n", "z".repeat(3 * LINE_CAP));
        assert_eq!(streamed(comment.as_bytes()), Ok(b"A".to_vec()));
        let zeros = format!("{} 0 0 0x1 1\n", "00".repeat(LINE_CAP));
        let mut want = vec![0u8; LINE_CAP];
        want.extend_from_slice(&[0x00, 0x11]);
        assert_eq!(streamed(zeros.as_bytes()), Ok(want));
        assert!(streamed(format!("{}0", "00".repeat(LINE_CAP)).as_bytes())
            .unwrap_err()
            .contains("odd"));
        // An error names the line and quotes the group.
        let bad = format!("00\n{}zz{}\n", "0".repeat(LINE_CAP), "0".repeat(10));
        let e = streamed(bad.as_bytes()).unwrap_err();
        assert!(e.starts_with("line 2: '000") && e.contains("...' is not hex"), "{e}");
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

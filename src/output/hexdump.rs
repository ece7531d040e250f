//! `offset | hex | ASCII` dumps, 16 bytes a row, like `xxd` but shorter.

use std::io::{self, Write};

use super::style::{Palette, Role};

/// Bytes shown per row.
pub const ROW: usize = 16;

/// Writes a dump of `data`, each row starting with `indent`:
///
/// ```text
///   0000 | 48 65 6c 6c 6f 20 53 65  72 76 65 72 21          | Hello Server!
/// ```
///
/// At most `max_bytes` bytes are shown (0: all); when the dump is cut, a
/// last line says how many bytes were left out. Writes nothing for an
/// empty `data`.
pub fn write_hexdump<W: Write + ?Sized>(
    w: &mut W,
    data: &[u8],
    max_bytes: usize,
    indent: &str,
    palette: Palette,
) -> io::Result<()> {
    let shown = if max_bytes == 0 { data.len() } else { data.len().min(max_bytes) };
    let width = offset_width(shown);
    for (row, chunk) in data[..shown].chunks(ROW).enumerate() {
        let offset = format!("{:0width$x}", row * ROW);
        write!(
            w,
            "{indent}{} {} ",
            palette.paint(Role::Dim, offset),
            palette.paint(Role::Dim, '|')
        )?;
        let mut hex = String::with_capacity(ROW * 3 + 1);
        for i in 0..ROW {
            if i == ROW / 2 {
                hex.push(' ');
            }
            match chunk.get(i) {
                Some(b) => hex.push_str(&format!("{b:02x} ")),
                None => hex.push_str("   "),
            }
        }
        write!(w, "{hex}{} ", palette.paint(Role::Dim, '|'))?;
        for &b in chunk {
            if b == b' ' || b.is_ascii_graphic() {
                write!(w, "{}", b as char)?;
            } else {
                write!(w, "{}", palette.paint(Role::Dim, '.'))?;
            }
        }
        writeln!(w)?;
    }
    if shown < data.len() {
        let note =
            format!("... {} more bytes not shown ({} in all)", data.len() - shown, data.len());
        writeln!(w, "{indent}{}", palette.paint(Role::Dim, note))?;
    }
    Ok(())
}

/// Hex digits for the offsets of a dump of `len` bytes (at least 4).
fn offset_width(len: usize) -> usize {
    let last = len.saturating_sub(1);
    let digits = (usize::BITS - last.leading_zeros()).div_ceil(4) as usize;
    digits.max(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(data: &[u8], max: usize) -> String {
        let mut out = Vec::new();
        write_hexdump(&mut out, data, max, "  ", Palette::new(false)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_and_ascii() {
        let s = dump(b"Hello Server!\x00\x01\x02\x03", 0);
        assert_eq!(
            s,
            "  0000 | 48 65 6c 6c 6f 20 53 65  72 76 65 72 21 00 01 02 | Hello Server!...\n  \
             0010 | 03                                               | .\n"
        );
    }

    #[test]
    fn cut_with_a_note() {
        let s = dump(&[0u8; 40], 16);
        assert_eq!(s.lines().count(), 2);
        assert!(s.ends_with("... 24 more bytes not shown (40 in all)\n"), "{s}");
        assert_eq!(dump(b"", 0), "");
    }

    #[test]
    fn offsets_widen_for_large_dumps() {
        assert_eq!(offset_width(16), 4);
        assert_eq!(offset_width(0x10000), 4);
        assert_eq!(offset_width(0x10001), 5);
    }
}

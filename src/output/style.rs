//! Colours for people reading a terminal, and nothing at all otherwise.
//!
//! Whether to colour is decided once by the caller (see
//! `ColorChoice::for_stdout`) and handed to [`Palette::new`]; the palette
//! then wraps text in crossterm styles, or in an empty style that prints
//! the text unchanged.

use std::fmt::Display;

use crossterm::style::{Attribute, Color, Colored, ContentStyle, StyledContent};

/// What a piece of text means; each role has one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Something that checked out (a matching CRC).
    Good,
    /// A fault (a CRC mismatch, a truncated frame, an error line).
    Bad,
    /// Worth a look but not a fault.
    Warn,
    /// Secondary detail (offsets, dump columns).
    Dim,
    /// Names and identifiers (type names, request ids).
    Accent,
    /// Headings.
    Strong,
    /// Less prominent, in the text's own colour (log timestamps and callers).
    Faint,
    /// The DEBUG log level.
    LogDebug,
    /// The INFO log level.
    LogInfo,
    /// The SUCCESS log level.
    LogSuccess,
    /// The WARNING log level.
    LogWarning,
    /// The ERROR log level.
    LogError,
    /// The CRITICAL log level.
    LogCritical,
}

/// Paints text by [`Role`] when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    /// A palette that colours when `enabled` is true.
    ///
    /// crossterm on its own also drops colours when `NO_COLOR` is set; an
    /// enabled palette turns that off, because the caller has already
    /// weighed `NO_COLOR` against `--color always`.
    pub fn new(enabled: bool) -> Palette {
        if enabled {
            Colored::set_ansi_color_disabled(false);
        }
        Palette { enabled }
    }

    /// Wraps `content` in the style of `role` (or in no style at all).
    pub fn paint<D: Display>(self, role: Role, content: D) -> StyledContent<D> {
        let mut style = ContentStyle::new();
        if self.enabled {
            match role {
                Role::Good => style.foreground_color = Some(Color::Green),
                Role::Bad => {
                    style.foreground_color = Some(Color::Red);
                    style.attributes.set(Attribute::Bold);
                }
                Role::Warn => style.foreground_color = Some(Color::Yellow),
                Role::Dim => style.foreground_color = Some(Color::DarkGrey),
                Role::Accent => style.foreground_color = Some(Color::Cyan),
                Role::Strong => style.attributes.set(Attribute::Bold),
                Role::Faint => style.attributes.set(Attribute::Dim),
                Role::LogDebug => style.foreground_color = Some(Color::DarkBlue),
                Role::LogInfo => style.foreground_color = Some(Color::DarkCyan),
                Role::LogSuccess => style.foreground_color = Some(Color::DarkGreen),
                Role::LogWarning => style.foreground_color = Some(Color::DarkYellow),
                Role::LogError => style.foreground_color = Some(Color::DarkRed),
                Role::LogCritical => {
                    style.foreground_color = Some(Color::White);
                    style.background_color = Some(Color::DarkRed);
                    style.attributes.set(Attribute::Bold);
                }
            }
        }
        StyledContent::new(style, content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_palette_prints_plain_text() {
        let p = Palette::new(false);
        assert_eq!(p.paint(Role::Bad, "MISMATCH").to_string(), "MISMATCH");
    }

    #[test]
    fn enabled_palette_emits_escapes() {
        let p = Palette::new(true);
        let s = p.paint(Role::Good, "OK").to_string();
        assert!(s.contains("\x1b[") && s.contains("OK"), "{s:?}");
    }
}

//! The REPL's line editor: rustyline with completion of commands, type
//! names and paths, hints, and a history file.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter, HistoryHinter};
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{ColorMode, CompletionType, Config, Context, Editor};
use veltix::TypeRegistry;

use super::commands::{self, ArgKind, COMMANDS};
use super::link::Args;
use crate::output::{Palette, Role};

/// The editor type of the REPL.
pub(super) type LineEditor = Editor<ReplHelper, FileHistory>;

/// A new editor; `color` turns on the styled prompt and dim hints.
pub(super) fn new(registry: Arc<TypeRegistry>, color: bool) -> rustyline::Result<LineEditor> {
    let config = Config::builder()
        .max_history_size(1000)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .color_mode(if color { ColorMode::Enabled } else { ColorMode::Disabled })
        .build();
    let mut editor = LineEditor::with_config(config)?;
    editor.set_helper(Some(ReplHelper {
        registry,
        files: FilenameCompleter::new(),
        history: HistoryHinter::new(),
        color,
    }));
    Ok(editor)
}

/// Completion, hints and their colour.
pub(super) struct ReplHelper {
    registry: Arc<TypeRegistry>,
    files: FilenameCompleter,
    history: HistoryHinter,
    color: bool,
}

impl rustyline::Helper for ReplHelper {}

impl Validator for ReplHelper {}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        if !before.starts_with('/') || before.starts_with("//") {
            return Ok((pos, Vec::new()));
        }
        let Some(name_end) = before.find(char::is_whitespace) else {
            let names = COMMANDS
                .iter()
                .filter(|c| c.name.starts_with(before))
                .map(|c| Pair { display: c.name.to_string(), replacement: format!("{} ", c.name) })
                .collect();
            return Ok((0, names));
        };
        let Ok(command) = commands::lookup(&before[..name_end]) else {
            return Ok((pos, Vec::new()));
        };
        let args = before[name_end..].trim_start();
        match command.arg {
            // Only the first argument is a type.
            ArgKind::Type if !args.contains(char::is_whitespace) => {
                let sep = if command.name == "/type" { "" } else { " " };
                let names = self
                    .registry
                    .iter()
                    .filter(|(_, n)| {
                        n.get(..args.len()).is_some_and(|p| p.eq_ignore_ascii_case(args))
                    })
                    .map(|(_, n)| Pair { display: n.to_string(), replacement: format!("{n}{sep}") })
                    .collect();
                Ok((pos - args.len(), names))
            }
            ArgKind::Path => self.files.complete(line, pos, ctx),
            _ => Ok((pos, Vec::new())),
        }
    }
}

/// A hint: what is shown after the cursor, and what the right arrow
/// inserts (nothing for an argument synopsis).
pub(super) struct ReplHint {
    display: String,
    insert: Option<String>,
}

impl Hint for ReplHint {
    fn display(&self) -> &str {
        &self.display
    }
    fn completion(&self) -> Option<&str> {
        self.insert.as_deref()
    }
}

impl Hinter for ReplHelper {
    type Hint = ReplHint;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<ReplHint> {
        if pos < line.len() || line.is_empty() {
            return None;
        }
        if line.starts_with('/') && !line.starts_with("//") {
            return command_hint(line);
        }
        let rest = self.history.hint(line, pos, ctx)?;
        Some(ReplHint { display: rest.clone(), insert: Some(rest) })
    }
}

/// `/req` hints `uest TYPE TEXT`; `/send ` hints `TYPE TEXT`.
fn command_hint(line: &str) -> Option<ReplHint> {
    match line.split_once(' ') {
        None => {
            let mut matches = COMMANDS.iter().filter(|c| c.name.starts_with(line));
            let command = matches.next()?;
            if matches.next().is_some() {
                return None;
            }
            let rest = &command.name[line.len()..];
            let synopsis =
                if command.args.is_empty() { String::new() } else { format!(" {}", command.args) };
            Some(ReplHint { display: format!("{rest}{synopsis}"), insert: Some(rest.to_string()) })
        }
        Some((name, "")) => {
            let command = COMMANDS.iter().find(|c| c.name == name)?;
            (!command.args.is_empty())
                .then(|| ReplHint { display: command.args.to_string(), insert: None })
        }
        Some(_) => None,
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(Palette::new(true).paint(Role::Dim, hint).to_string())
        } else {
            Cow::Borrowed(hint)
        }
    }
}

/// The history file: `--history`, else `$XDG_STATE_HOME/veltix/history`,
/// else `~/.local/state/veltix/history`; none with `--no-history` or
/// when there is no home to put it in.
pub(super) fn history_path(args: &Args) -> Option<PathBuf> {
    if args.no_history {
        return None;
    }
    if let Some(path) = &args.history {
        return Some(path.clone());
    }
    let state = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let state = match state {
        Some(dir) => dir,
        None => {
            PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".local/state")
        }
    };
    Some(state.join("veltix").join("history"))
}

/// Loads the history; a file that does not exist yet is no error.
pub(super) fn load_history(editor: &mut LineEditor, path: &Path) -> Result<(), String> {
    match editor.load_history(path) {
        Ok(()) => Ok(()),
        Err(ReadlineError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot read the history file {}: {e}", path.display())),
    }
}

/// Adds a line to the history and appends it to the file at once, so a
/// session that is killed keeps what was typed.
pub(super) fn remember(
    editor: &mut LineEditor,
    path: Option<&Path>,
    line: &str,
) -> Result<(), String> {
    let added = editor.add_history_entry(line).map_err(|e| e.to_string())?;
    let Some(path) = path else { return Ok(()) };
    if !added {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the history directory {}: {e}", dir.display()))?;
    }
    editor
        .append_history(path)
        .map_err(|e| format!("cannot write the history file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_hints() {
        let h = command_hint("/req").unwrap();
        assert_eq!((h.display.as_str(), h.insert.as_deref()), ("uest TYPE TEXT", Some("uest")));
        assert!(command_hint("/t").is_none(), "/type and /types");
        assert_eq!(command_hint("/send ").unwrap().display, "TYPE TEXT");
        assert!(command_hint("/send chat").is_none());
    }
}

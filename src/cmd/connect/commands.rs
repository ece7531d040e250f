//! The REPL's slash commands: their names, arguments and help, for the
//! REPL that runs them and the editor that completes them.

/// What a command's argument is, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArgKind {
    None,
    /// A message type, then maybe text.
    Type,
    /// A file.
    Path,
    /// Anything else.
    Other,
}

/// One REPL command.
#[derive(Debug)]
pub(super) struct Command {
    pub name: &'static str,
    /// The synopsis of its arguments, shown by /help and as a hint.
    pub args: &'static str,
    pub help: &'static str,
    pub arg: ArgKind,
}

const fn cmd(name: &'static str, args: &'static str, arg: ArgKind, help: &'static str) -> Command {
    Command { name, args, help, arg }
}

/// Every command, in the order /help lists them.
pub(super) const COMMANDS: &[Command] = &[
    cmd("/type", "[TYPE]", ArgKind::Type, "show or set the type of plain lines"),
    cmd("/send", "TYPE TEXT", ArgKind::Type, "send TEXT as a message of TYPE"),
    cmd(
        "/request",
        "TYPE TEXT",
        ArgKind::Type,
        "send and wait for the reply; show it and the round trip",
    ),
    cmd("/ping", "[N]", ArgKind::Other, "ping N times (default 1), then min/avg/max"),
    cmd("/hex", "HEX", ArgKind::Other, "send bytes given as hex (spaces and 0x allowed)"),
    cmd("/json", "JSON", ArgKind::Other, "check JSON and send it compact"),
    cmd("/file", "PATH", ArgKind::Path, "send the bytes of a file"),
    cmd("/types", "", ArgKind::None, "list the named types"),
    cmd("/status", "", ArgKind::None, "peer, state, version, uptime and traffic"),
    cmd("/reconnect", "", ArgKind::None, "close the connection and connect again"),
    cmd("/help", "", ArgKind::None, "this list"),
    cmd("/quit", "", ArgKind::None, "leave (Ctrl-D too)"),
];

/// The command a word names: exactly, or as the only one it starts.
pub(super) fn lookup(word: &str) -> Result<&'static Command, String> {
    if let Some(c) = COMMANDS.iter().find(|c| c.name == word) {
        return Ok(c);
    }
    let matches: Vec<&Command> = COMMANDS.iter().filter(|c| c.name.starts_with(word)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("unknown command {word}; /help lists the commands")),
        many => {
            let names: Vec<&str> = many.iter().map(|c| c.name).collect();
            Err(format!("{word} could be {}", names.join(", ")))
        }
    }
}

//! Output helpers shared by the subcommands: colours, hexdumps, NDJSON.

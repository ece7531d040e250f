"""Helpers shared by the test scripts in this directory.

The scripts drive the real reference package (veltix==1.6.3, installed in the
venv that tests/common/python.rs provisions) so that the Rust tests compare
against the reference's behaviour, not against a re-implementation of it.
Their stdout carries machine-readable results only; diagnostics go to stderr.
"""

import sys
from typing import NoReturn, Optional

import veltix
from veltix.network.types import MessageTypeRegistry

if veltix.__version__ != "1.6.3":
    sys.exit(f"error: these scripts expect veltix 1.6.3, found {veltix.__version__}")

# veltix's logger is a process-wide singleton that writes to stdout by
# default. Create it first, pointed at stderr, so log lines can never mix
# with the results a test parses from stdout.
veltix.Logger.get_instance(veltix.LoggerConfig(stream=sys.stderr, use_colors=False))


def fail(message: str) -> NoReturn:
    """Report an error on stderr and exit with status 1."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def message_type(code: int, name: Optional[str] = None) -> veltix.MessageType:
    """The MessageType for `code`, registering it if needed.

    Importing veltix already registers the system types (0 ping, 1 pong, ...)
    and the registry raises on a second registration of a code, so look the
    code up first.
    """
    existing = MessageTypeRegistry.get(code)
    if existing is None:
        return veltix.MessageType(code, name)
    if name is not None and existing.name != name:
        fail(f"type code {code} is already registered as {existing.name!r}, not {name!r}")
    return existing


def register_arg(spec: str) -> None:
    """argparse `type=` for `--register CODE[=NAME]`: registers the type."""
    code, _, name = spec.partition("=")
    message_type(int(code, 0), name or None)


def read_hex(arg: Optional[str]) -> bytes:
    """Bytes from a hex argument; `-` or no argument reads the hex from stdin
    (needed for large payloads: one argv string is limited to 128 KiB)."""
    text = sys.stdin.read() if arg in (None, "-") else arg
    try:
        return bytes.fromhex(text.strip())
    except ValueError as e:
        fail(f"bad hex input: {e}")

"""Helpers shared by the VX-profile scripts in this directory (vx_*.py,
make_vx_vectors.py).

Those scripts drive the real veltix 3.3.0 package (installed in the venv
that tests/common/python_vx.rs provisions), just as _support.py does for
the 1.6.3 scripts. Their stdout carries machine-readable results only;
diagnostics go to stderr.
"""

import json
import sys
import threading
from typing import Callable, Dict, NoReturn, Optional

import veltix
from veltix.network.types import MessageTypeRegistry

EXPECTED_VERSION = "3.3.0"

if veltix.__version__ != EXPECTED_VERSION:
    sys.exit(f"error: these scripts expect veltix {EXPECTED_VERSION}, found {veltix.__version__}")

# The logger is a process-wide singleton writing to stdout by default: make
# it first, on stderr, so log lines never mix with results on stdout.
veltix.Logger.get_instance(
    veltix.LoggerConfig(stream=sys.stderr, use_colors=False, show_caller=False)
)

# 3.3.0 refuses codes below this one unless they are flagged as system types.
USER_CODE_MIN = 200


def fail(message: str) -> NoReturn:
    """Report an error on stderr and exit with status 1."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def message_type(code: int, name: Optional[str] = None) -> veltix.MessageType:
    """The MessageType for `code`, registering it if needed.

    Importing veltix registers PING (0) and PONG (1); a second registration
    of a code raises, so look it up first. Codes below 200 can only be
    registered as system types.
    """
    existing = MessageTypeRegistry.get(code)
    if existing is None:
        return veltix.MessageType(code, name, _system=code < USER_CODE_MIN)
    if name is not None and existing.name != name:
        fail(f"type code {code} is already registered as {existing.name!r}, not {name!r}")
    return existing


def register_arg(spec: str) -> None:
    """argparse `type=` for `--register CODE[=NAME]`: registers the type."""
    code, _, name = spec.partition("=")
    message_type(int(code, 0), name or None)


def set_handshake_identity(
    version: Optional[str], pv: Optional[str], check_against_pv: bool = True
) -> None:
    """Make this process announce another package version and/or protocol
    version in its handshake, to provoke mismatches on purpose.

    The handshake handler reads the package version and the `pv` string
    through names it imported at load time; a `pv` of the form MAJOR.MINOR
    also becomes the local version the peer's `pv` is checked against,
    unless `check_against_pv` is false (then the peer's `pv` is checked
    against 3.3.0's own 1.0, so that only the peer can refuse).
    """
    import veltix.handler.handshake_handler as hh
    import veltix.internal.compatibility as compat

    if version is not None:
        hh.__version__ = version
    if pv is not None:
        hh.protocol_version_str = lambda: pv
        parts = pv.split(".")
        if check_against_pv and len(parts) == 2 and all(p.isdigit() for p in parts):
            compat.PROTOCOL_VERSION = (int(parts[0]), int(parts[1]))


_out_lock = threading.Lock()


def emit(line: dict) -> None:
    """Writes one JSON line on stdout (whole, even from several threads)."""
    with _out_lock:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


def request(cmd: dict) -> veltix.Request:
    """The Request a command describes: "type", "hex", optional "request_id"
    (None lets 3.3.0 allocate one when it sends)."""
    return veltix.Request(
        message_type(cmd["type"]),
        content=bytes.fromhex(cmd.get("hex", "")),
        request_id=cmd.get("request_id"),
    )


def reply_answer(req: veltix.Request, resp: Optional[veltix.Response]) -> dict:
    """The answer to a send_and_wait command."""
    if resp is None:
        return {"ok": False, "error": "no reply"}
    return {
        "ok": True,
        "type": resp.type.code,
        "request_id": resp.request_id,
        "sent_request_id": req.request_id,
        "hex": resp.content.hex(),
    }


def latency_answer(latency: Optional[float]) -> dict:
    """The answer to a ping command."""
    if latency is None:
        return {"ok": False, "error": "no pong"}
    return {"ok": True, "latency_ms": latency}


def command_loop(handlers: Dict[str, Callable[[dict, float], dict]]) -> None:
    """Reads one JSON command per line on stdin and emits the answer of
    `handlers[op](cmd, timeout)` (timeout: the command's, default 5 s), until
    end of stdin or {"op": "quit"}."""
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "quit":
            return
        handler = handlers.get(op)
        if handler is None:
            emit({"ok": False, "error": f"unknown op {op!r}"})
        else:
            emit(handler(cmd, float(cmd.get("timeout", 5))))

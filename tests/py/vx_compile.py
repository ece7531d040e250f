"""Writes frames made by veltix 3.3.0's own Request.compile() to stdout.

Usage: vx_compile.py CODE:ID:TEXT...   (one frame per argument, in order)

Used by the interop tests to show that `veltix decode` reads what the real
3.3.0 puts on the wire.
"""

import sys

import _vx_support
import veltix


def main() -> None:
    out = bytearray()
    for spec in sys.argv[1:]:
        code, request_id, text = spec.split(":", 2)
        msg_type = _vx_support.message_type(int(code))
        out += veltix.Request(msg_type, content=text.encode(), request_id=int(request_id)).compile()
    sys.stdout.buffer.write(bytes(out))


if __name__ == "__main__":
    main()

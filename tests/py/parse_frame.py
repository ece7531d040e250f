"""Parse one frame with the reference's own `Request.parse`.

usage: parse_frame.py [FRAME_HEX | -] [--register CODE[=NAME]]...
                      [--max-message-size N]

Reads the frame hex from the argument, or from stdin when it is `-` or
absent. On success prints one JSON object:

  {"type_code", "type_name", "content_hex", "size", "hash_hex",
   "timestamp_ms", "request_id_hex"}

On failure (Request.parse raised) prints `error: <Exception>: <message>` on
stderr and exits with status 1. The reference rejects codes that are not
registered in its process: pass `--register` for application codes.
"""

import argparse
import json
import sys

import _support
import veltix


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("frame_hex", nargs="?", help="the frame as hex, or - for stdin")
    p.add_argument(
        "--register",
        action="append",
        default=[],
        metavar="CODE[=NAME]",
        help="register a message type before parsing (repeatable)",
    )
    p.add_argument("--max-message-size", type=int, default=10 * 1024 * 1024)
    args = p.parse_args()

    for spec in args.register:
        _support.register_arg(spec)
    data = _support.read_hex(args.frame_hex)

    try:
        response = veltix.Request.parse(data, max_message_size=args.max_message_size)
    except veltix.VeltixError as e:
        _support.fail(f"{type(e).__name__}: {e}")

    json.dump(
        {
            "type_code": response.type.code,
            "type_name": response.type.name,
            "content_hex": response.content.hex(),
            "size": len(response.content),
            "hash_hex": response.hash.hex(),
            "timestamp_ms": response.timestamp,
            "request_id_hex": response.request_id.hex(),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

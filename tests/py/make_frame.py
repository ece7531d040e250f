"""Build one frame with the reference's own `Request(...).compile()`.

usage: make_frame.py TYPE_CODE PAYLOAD_HEX REQUEST_ID_HEX
                     [--name NAME] [--text TEXT] [--timestamp-ms MS]

PAYLOAD_HEX may be `-` to read the payload hex from stdin. `--text` replaces
the payload with TEXT encoded by veltix.encode_utf8. Prints the frame as one
line of lowercase hex. TYPE_CODE accepts 0x prefixes.

compile() stamps the frame with the wall clock; `--timestamp-ms` pins that
clock so the output can be compared byte for byte with a known frame.
"""

import argparse
import sys

import _support
import veltix
import veltix.network.request as request_module


class _FixedClock:
    """Stands in for the `time` module inside veltix.network.request."""

    def __init__(self, ms: int) -> None:
        # compile() computes int(time.time() * 1000); aim at the middle of
        # the millisecond so float rounding cannot land on the one before.
        self._seconds = (ms + 0.5) / 1000

    def time(self) -> float:
        return self._seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("type_code", type=lambda s: int(s, 0))
    p.add_argument("payload_hex", help="payload as hex, or - to read it from stdin")
    p.add_argument("request_id_hex", help="4-byte request id as 8 hex digits")
    p.add_argument("--name", help="name to register an unregistered type code under")
    p.add_argument("--text", help="use this text, UTF-8 encoded by veltix, as the payload")
    p.add_argument("--timestamp-ms", type=int, help="pin the frame's timestamp")
    args = p.parse_args()

    request_id = bytes.fromhex(args.request_id_hex)
    if len(request_id) != 4:
        _support.fail(f"request id must be 4 bytes, got {len(request_id)}")
    payload = _support.read_hex(args.payload_hex)
    if args.text is not None:
        payload = veltix.encode_utf8(args.text)

    if args.timestamp_ms is not None:
        request_module.time = _FixedClock(args.timestamp_ms)

    msg_type = _support.message_type(args.type_code, args.name)
    frame = veltix.Request(msg_type, payload, request_id=request_id).compile()

    stamped = int.from_bytes(frame[10:18], "big")
    if args.timestamp_ms is not None and stamped != args.timestamp_ms:
        _support.fail(f"could not pin the timestamp: wanted {args.timestamp_ms}, got {stamped}")
    sys.stdout.write(frame.hex() + "\n")


if __name__ == "__main__":
    main()

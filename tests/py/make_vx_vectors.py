"""Write tests/data/veltix-3.3.0-vx-frames.json from the real veltix 3.3.0.

usage: make_vx_vectors.py [OUTPUT]      (default: ../data/veltix-3.3.0-vx-frames.json)

Run it with the Python of a venv holding veltix==3.3.0 (the one
tests/common/python_vx.rs provisions under target/veltix-py-venv-3.3.0, or
any other). Everything in the file comes out of the reference's own code:

- vectors: frames built by `Request.compile()`, once with the compiled
  (Rust) engine and once with the pure-Python one; the script stops if the
  two disagree. Payloads longer than 256 bytes are not written out: they
  are `payload_len` bytes where byte i is i % 251 (`header_hex` holds the
  15 header bytes; the frame is the header followed by the payload).
- parse_cases: single frames given to `MessageParser.parse()`, with what
  each engine answered (accepted, or its error text).
- streams: byte chunks fed to the reference's `MessageBuffer`, in order,
  and the messages it delivered (both engines must agree).
- handshake: the exact bytes of each handshake message, captured from
  `HandshakeHandler` driving a scripted socket, and the reference's
  verdict (accepts or not) on a series of well- and ill-formed messages.

The output is deterministic: run it twice, get the same file.
"""

import json
import os
import sys
import zlib

import _vx_support
import veltix
from veltix.exceptions import ServerFullError
from veltix.handler.handshake_handler import HandshakeHandler
from veltix.internal.bus import VeltixBus
from veltix.internal.mode import Mode
from veltix.network import _rust
from veltix.network.message_buffer import MessageBuffer
from veltix.network.parser import MessageParser

# The handshake logs every failure at ERROR; the verdicts below provoke many.
veltix.Logger.get_instance().set_level(veltix.LogLevel.CRITICAL)

INLINE_MAX = 256
MAX_MESSAGE_SIZE = 10 * 1024 * 1024  # the reference's default
SPEC_EXAMPLE = "56580000c8000000053610a686123468656c6c6f"


def pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def compile_both(code: int, payload: bytes, request_id: int) -> bytes:
    """The frame from both engines, which must agree."""
    msg_type = _vx_support.message_type(code)
    req = veltix.Request(msg_type, content=payload, request_id=request_id)
    with_rust = req.compile(use_rust=True)
    with_python = req.compile(use_rust=False)
    if with_rust != with_python:
        _vx_support.fail(f"engines disagree on type {code}, {len(payload)} bytes, id {request_id}")
    return with_rust


def vector(name, code, payload, request_id, type_name=None):
    frame = compile_both(code, payload, request_id)
    if frame[15:] != payload:
        _vx_support.fail(f"{name}: the frame does not end with its payload")
    inline = len(payload) <= INLINE_MAX
    if not inline and payload != pattern(len(payload)):
        _vx_support.fail(f"{name}: long payloads must follow the i % 251 pattern")
    registered = veltix.network.types.MessageTypeRegistry.get(code)
    return {
        "name": name,
        "type_code": code,
        "type_name": type_name or registered.name,
        "request_id": request_id,
        "request_id_hex": f"{request_id:04x}",
        "flags": frame[2],
        "payload_len": len(payload),
        "payload_hex": payload.hex() if inline else None,
        "crc32_hex": f"{zlib.crc32(payload):08x}",
        "header_hex": frame[:15].hex(),
        "frame_hex": frame.hex() if inline else None,
    }


def vectors():
    _vx_support.message_type(200, "chat")
    _vx_support.message_type(201, "data")
    _vx_support.message_type(9999, "user_max")
    _vx_support.message_type(10000, "plugin_min")
    _vx_support.message_type(65535, "code_max")
    _vx_support.message_type(150, "system_150")
    out = [
        vector("spec_example", 200, b"hello", 0x1234),
        vector("ping_empty", 0, b"", 0),
        vector("ping_client_id", 0, b"", 1),
        vector("pong_client_id", 1, b"", 1),
        vector("ping_server_id", 0, b"", 32768),
        vector("pong_server_id", 1, b"", 32768),
        vector("system_range_150", 150, b"\x00", 7),
        vector("size_1", 200, b"A", 32767),
        vector("text_utf8", 200, veltix.encode_utf8("héllo ✓"), 2),
        vector("json_payload", 201, veltix.encode_json({"msg": "hi", "n": [1, 2]}), 65535),
        vector("user_max_9999", 9999, b"x" * 3, 0x00FF),
        vector("plugin_10000", 10000, b"plug", 0xFF00),
        vector("code_65535", 65535, b"\xff\x00", 40000),
        vector("size_255", 201, pattern(255), 3),
        vector("size_256", 201, pattern(256), 4),
        vector("size_65535", 201, pattern(65535), 5),
        vector("size_65536", 201, pattern(65536), 6),
        vector("size_1mib", 201, pattern(1 << 20), 0x1234),
    ]
    if out[0]["frame_hex"] != SPEC_EXAMPLE:
        _vx_support.fail(f"spec example differs: {out[0]['frame_hex']}")
    return out


def parse_outcome(frame: bytes, max_size: int, use_rust: bool):
    try:
        r = MessageParser.parse(frame, max_message_size=max_size, use_rust=use_rust)
    except Exception as e:  # the reference raises RequestError
        return {"accepted": False, "error": str(e)}
    return {
        "accepted": True,
        "type_code": r.type.code,
        "request_id": r.request_id,
        "payload_hex": r.content.hex(),
    }


def raw_frame(flags: int, code: int, payload: bytes, request_id: int) -> bytes:
    """A frame from the compiled engine's compile(), which takes any flags
    byte (Request.compile() always passes 0)."""
    return _rust.compile(code, payload, request_id, flags)


def flip(frame: bytes, index: int) -> bytes:
    b = bytearray(frame)
    b[index] ^= 0x01
    return bytes(b)


def parse_cases():
    good = compile_both(200, b"hello", 0x1234)
    cases = [
        ("good", good, MAX_MESSAGE_SIZE),
        ("flags_0x01", raw_frame(0x01, 200, b"hello", 0x1234), MAX_MESSAGE_SIZE),
        ("flags_0xff", raw_frame(0xFF, 200, b"hello", 0x1234), MAX_MESSAGE_SIZE),
        ("bad_crc", flip(good, 9), MAX_MESSAGE_SIZE),
        ("bad_magic_first_byte", b"W" + good[1:], MAX_MESSAGE_SIZE),
        ("bad_magic_lowercase", b"vx" + good[2:], MAX_MESSAGE_SIZE),
        ("short_14_bytes", good[:14], MAX_MESSAGE_SIZE),
        ("payload_shorter_than_size", good[:-1], MAX_MESSAGE_SIZE),
        ("payload_longer_than_size", good + b"!", MAX_MESSAGE_SIZE),
        ("unregistered_type_5555", raw_frame(0, 5555, b"zz", 9), MAX_MESSAGE_SIZE),
        ("frame_equals_max", good, len(good)),
        ("frame_one_over_max", good, len(good) - 1),
    ]
    out = []
    for name, frame, max_size in cases:
        rust = parse_outcome(frame, max_size, True)
        python = parse_outcome(frame, max_size, False)
        if rust["accepted"] != python["accepted"]:
            _vx_support.fail(f"parse case {name}: the engines disagree: {rust} / {python}")
        entry = {"name": name, "frame_hex": frame.hex(), "max_message_size": max_size,
                 "accepted": rust["accepted"]}
        if rust["accepted"]:
            entry.update({k: rust[k] for k in ("type_code", "request_id", "payload_hex")})
        else:
            entry["error_rust_engine"] = rust["error"]
            entry["error_python_engine"] = python["error"]
        out.append(entry)
    return out


def run_stream(chunks, max_size, use_rust):
    buf = MessageBuffer(max_size, use_rust=use_rust)
    delivered = []
    for chunk in chunks:
        buf.add_data(chunk)
        for r in buf.extract_messages():
            delivered.append({"type_code": r.type.code, "request_id": r.request_id,
                              "payload_hex": r.content.hex()})
    return delivered, len(buf)


def streams():
    a = compile_both(200, b"first", 1)
    b = compile_both(200, b"second", 2)
    inner = compile_both(200, b"smuggled", 0x0BAD)
    carrier = flip(compile_both(200, b"zz" + inner + b"tail", 3), 9)
    big = compile_both(200, b"a" * 40, 4)
    cases = [
        ("two_frames_one_chunk", [a + b], MAX_MESSAGE_SIZE),
        ("byte_by_byte", [bytes([x]) for x in a], MAX_MESSAGE_SIZE),
        ("junk_then_frame", [b"junk!" + a], MAX_MESSAGE_SIZE),
        ("short_junk_waits", [b"junk"], MAX_MESSAGE_SIZE),
        ("bad_crc_then_frame", [flip(a, 9) + b], MAX_MESSAGE_SIZE),
        ("bad_crc_payload_holds_a_frame", [carrier], MAX_MESSAGE_SIZE),
        ("oversize_then_frame", [big + a], 30),
        ("oversize_header_alone", [big[:15]], 30),
        ("unregistered_type_then_frame", [raw_frame(0, 5555, b"zz", 9) + a], MAX_MESSAGE_SIZE),
        ("flags_set_delivered", [raw_frame(0x80, 200, b"flag", 5)], MAX_MESSAGE_SIZE),
        ("magic_split_after_junk", [b"Q" * 20 + a[:1], a[1:]], MAX_MESSAGE_SIZE),
    ]
    out = []
    for name, chunks, max_size in cases:
        rust = run_stream(chunks, max_size, True)
        python = run_stream(chunks, max_size, False)
        if rust != python:
            _vx_support.fail(f"stream {name}: the engines disagree: {rust} / {python}")
        out.append({"name": name, "chunks_hex": [c.hex() for c in chunks],
                    "max_message_size": max_size, "delivered": rust[0],
                    "bytes_left_in_buffer": rust[1]})
    return out


class ScriptedSocket:
    """What HandshakeHandler needs of a socket: replays `incoming`, records
    what is sent; recv() returns b"" (end of stream) once incoming is used up."""

    def __init__(self, incoming: bytes) -> None:
        self.incoming = incoming
        self.sent: list = []

    def settimeout(self, timeout) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def recv(self, n: int) -> bytes:
        chunk, self.incoming = self.incoming[:n], self.incoming[n:]
        return chunk


def framed(body: bytes) -> bytes:
    return len(body).to_bytes(2, "big") + body


def jbody(obj) -> bytes:
    """JSON as the reference writes it (json.dumps defaults, UTF-8)."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def server_side(client_bytes: bytes):
    """Runs the real server handshake against `client_bytes`."""
    sock = ScriptedSocket(client_bytes)
    ok = HandshakeHandler(Mode.SERVER, VeltixBus()).do_server_handshake(sock)
    return ok, sock.sent


def client_side(server_bytes: bytes):
    """Runs the real client handshake against `server_bytes`."""
    sock = ScriptedSocket(server_bytes)
    try:
        ok, _meta = HandshakeHandler(Mode.CLIENT, VeltixBus()).do_client_handshake(sock)
        outcome = "accepted" if ok else "rejected"
        error = None
    except ServerFullError as e:
        ok, outcome, error = False, "server_rejected", str(e)
    return ok, outcome, error, sock.sent


def compact_input(data: bytes) -> dict:
    """`input_hex`, with a long run of trailing spaces moved to
    `trailing_spaces` (the input is input_hex followed by that many 0x20)."""
    body = data.rstrip(b" ")
    spaces = len(data) - len(body)
    if spaces < 64:
        return {"input_hex": data.hex(), "trailing_spaces": 0}
    return {"input_hex": body.hex(), "trailing_spaces": spaces}


def handshake():
    version = veltix.__version__
    client_hello = framed(jbody({"v": version, "pv": "1.0", "meta": {}}))
    ok_bytes = framed(jbody({"result": "ok"}))

    # The messages, captured from the real handler.
    accepted, sent = server_side(client_hello)
    if not accepted or len(sent) != 2 or sent[1] != ok_bytes:
        _vx_support.fail(f"unexpected server handshake: {accepted} {sent}")
    server_hello = sent[0]
    accepted, outcome, _, sent = client_side(server_hello + ok_bytes)
    if not accepted or sent != [client_hello]:
        _vx_support.fail(f"unexpected client handshake: {outcome} {sent}")
    rejector = ScriptedSocket(b"")
    HandshakeHandler(Mode.SERVER, VeltixBus()).send_rejection(rejector, "server_full")
    server_full = rejector.sent[0]
    messages = []
    for name, sender, data in [
        ("server_hello", "server", server_hello),
        ("client_hello", "client", sent[0]),
        ("result_ok", "server", ok_bytes),
        ("error_server_full", "server", server_full),
    ]:
        messages.append({"name": name, "sender": sender, "json": data[2:].decode("utf-8"),
                         "bytes_hex": data.hex()})

    def hello(**fields) -> bytes:
        return framed(jbody(fields))

    padded_to = lambda n: framed(  # noqa: E731 - a JSON object of exactly n bytes
        b'{"pv": "1.0"}' + b" " * (n - len(b'{"pv": "1.0"}')))
    utf16 = '{"v": "3.3.0", "pv": "1.0", "meta": {}}'.encode("utf-16")

    # What a server makes of a client's hello.
    server_inputs = [
        ("client_ok", client_hello),
        ("pv_minor_differs", hello(v=version, pv="1.7", meta={})),
        ("pv_major_differs", hello(v=version, pv="2.0", meta={})),
        ("pv_zero_major", hello(v=version, pv="0.9", meta={})),
        ("pv_no_minor", hello(v=version, pv="1", meta={})),
        ("pv_three_parts", hello(v=version, pv="1.0.0", meta={})),
        ("pv_not_numeric", hello(v=version, pv="1.x", meta={})),
        ("pv_empty", hello(v=version, pv="", meta={})),
        ("pv_missing", hello(v=version, meta={})),
        ("pv_integer", hello(v=version, pv=1, meta={})),
        ("pv_float", hello(v=version, pv=1.0, meta={})),
        ("pv_null", hello(v=version, pv=None, meta={})),
        ("pv_list", hello(v=version, pv=["1", "0"], meta={})),
        ("pv_leading_zero", hello(v=version, pv="01.0", meta={})),
        ("pv_leading_space", hello(v=version, pv=" 1.0", meta={})),
        ("pv_plus_sign", hello(v=version, pv="+1.0", meta={})),
        ("pv_negative_minor", hello(v=version, pv="1.-1", meta={})),
        ("pv_underscore_digits", hello(v=version, pv="1.0_0", meta={})),
        ("pv_arabic_indic_digits", hello(v=version, pv="\u0661.\u0660", meta={})),
        ("v_missing", hello(pv="1.0", meta={})),
        ("v_not_a_string", hello(v=5, pv="1.0", meta={})),
        ("meta_missing", hello(v=version, pv="1.0")),
        ("meta_not_an_object", hello(v=version, pv="1.0", meta=[1])),
        ("extra_keys", hello(v=version, pv="1.0", meta={"a": 1}, x=True)),
        ("duplicate_pv_last_wins", framed(b'{"pv": "2.0", "pv": "1.0"}')),
        ("empty_object", framed(b"{}")),
        ("json_array", framed(b'["1.0"]')),
        ("json_string", framed(b'"1.0"')),
        ("json_number", framed(b"1")),
        ("json_null", framed(b"null")),
        ("invalid_json", framed(b'{"pv": "1.0"')),
        ("trailing_garbage", framed(b'{"pv": "1.0"} x')),
        ("surrounding_whitespace", framed(b' \n{"pv": "1.0"}\t ')),
        ("invalid_utf8", framed(b'{"pv": "1.0", "v": "\xff"}')),
        ("utf8_bom", framed(b"\xef\xbb\xbf" + b'{"pv": "1.0"}')),
        ("utf16_with_bom", framed(utf16)),
        ("nan_value", framed(b'{"pv": "1.0", "x": NaN}')),
        ("lone_surrogate_escape", framed(b'{"pv": "1.0", "v": "\\ud800"}')),
        ("length_zero", framed(b"")),
        ("length_30720", padded_to(30 * 1024)),
        ("length_30721", padded_to(30 * 1024 + 1)),
        ("length_65535_no_body", b"\xff\xff"),
        ("eof_in_length", b"\x00"),
        ("eof_in_body", framed(b'{"pv": "1.0"}')[:-1]),
        ("nothing", b""),
    ]
    verdicts = []
    for name, data in server_inputs:
        accepted, sent = server_side(data)
        entry = {"name": name, "role": "server", **compact_input(data),
                 "reference_accepts": accepted,
                 "reference_outcome": "accepted" if accepted else "rejected",
                 "reference_replied_ok": ok_bytes in sent[1:]}
        verdicts.append(entry)

    # What a client makes of a server's hello followed by the server's ack.
    client_inputs = [
        ("server_ok", server_hello + ok_bytes),
        ("server_full", server_full),
        ("error_other_reason", framed(jbody({"error": "maintenance"}))),
        ("error_not_a_string", framed(jbody({"error": 5}))),
        ("error_and_pv", framed(jbody({"error": "server_full", "v": version, "pv": "1.0"}))),
        ("server_pv_major_differs", hello(v="9.0.0", pv="2.0", meta={}) + ok_bytes),
        ("server_pv_minor_differs", hello(v="3.9.0", pv="1.9", meta={}) + ok_bytes),
        ("server_pv_missing", hello(v=version, meta={}) + ok_bytes),
        ("server_meta_not_empty", hello(v=version, pv="1.0", meta={"motd": "hi"}) + ok_bytes),
        ("ack_result_not_ok", server_hello + framed(jbody({"result": "no"}))),
        ("ack_with_extra_keys", server_hello + framed(jbody({"result": "ok", "x": 1}))),
        ("ack_is_error", server_hello + server_full),
        ("ack_missing", server_hello),
        ("ack_not_an_object", server_hello + framed(b'"ok"')),
    ]
    for name, data in client_inputs:
        accepted, outcome, error, _sent = client_side(data)
        entry = {"name": name, "role": "client", **compact_input(data),
                 "reference_accepts": accepted, "reference_outcome": outcome}
        if error is not None:
            entry["reference_error"] = error
        verdicts.append(entry)

    return {
        "framing": "u16 big-endian length, then that many bytes of UTF-8 JSON (an object)",
        "max_len": 30 * 1024,
        "package_version": version,
        "messages": messages,
        "verdicts": verdicts,
    }


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "data", "veltix-3.3.0-vx-frames.json")
    path = sys.argv[1] if len(sys.argv) > 1 else default
    if not _rust.rust_enabled():
        _vx_support.fail("the compiled engine (veltix._rust) is not available")
    doc = {
        "source": "veltix 3.3.0 (PyPI), its own Request.compile(), MessageParser.parse(), "
                  "MessageBuffer and HandshakeHandler; written by tests/py/make_vx_vectors.py",
        "header": ">2sBHI4s2s (15 bytes, big-endian): magic b'VX', flags u8, type code u16, "
                  "payload size u32, crc32(payload) 4 bytes, request id u16",
        "long_payloads": "payload_hex and frame_hex are null above 256 bytes: the payload is "
                         "payload_len bytes, byte i being i % 251; the frame is header_hex "
                         "followed by the payload",
        "vectors": vectors(),
        "parse_cases": parse_cases(),
        "streams": streams(),
        "handshake": handshake(),
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""A TLS 1.3 client (Python's ssl module) speaking veltix 1.6.3 frames.

usage: tls_client.py PORT CAFILE [--servername NAME] [--size N]...

Connects to 127.0.0.1:PORT with TLS 1.3, verifying the server's
certificate against CAFILE for NAME (default localhost). Then, with the
reference's own frame code (veltix 1.6.3 `Request(...).compile()` and
`Request.parse`, and the handshake handler's HELLO payload), it reads the
server's HELLO, answers HELLO_ACK, sends a PING and reads the PONG, and
sends one message of type 200 per --size (bytes 0, 1, ..., 250 cycling)
and reads each echo. Prints one JSON line: {"version", "cipher", "server",
"echoed": [sizes whose echo matched]}.
"""

import argparse
import json
import socket
import ssl
import sys

import _support
import veltix
from veltix.handler.handshake_handler import HandshakeHandler
from veltix.network.system_types import HELLO, HELLO_ACK, PING, PONG

HEADER = 22


def read_exact(sock: ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            _support.fail(f"the server closed the connection after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_frame(sock: ssl.SSLSocket):
    header = read_exact(sock, HEADER)
    size = int.from_bytes(header[2:6], "big")
    return veltix.Request.parse(header + read_exact(sock, size))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("port", type=int)
    p.add_argument("cafile")
    p.add_argument("--servername", default="localhost")
    p.add_argument("--size", type=int, action="append", default=[])
    args = p.parse_args()

    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=10)
    sock = ctx.wrap_socket(raw, server_hostname=args.servername)

    hello = read_frame(sock)
    if hello.type != HELLO:
        _support.fail(f"expected HELLO, got {hello.type}")
    server_version = HandshakeHandler._decode_hello(hello.content)
    ack = veltix.Request(HELLO_ACK, HandshakeHandler._encode_hello(), request_id=hello.request_id)
    sock.sendall(ack.compile())

    sock.sendall(veltix.Request(PING, b"").compile())
    pong = read_frame(sock)
    if pong.type != PONG:
        _support.fail(f"expected PONG, got {pong.type}")

    chat = _support.message_type(200, "chat")
    echoed = []
    for n in args.size:
        payload = bytes(i % 251 for i in range(n))
        sock.sendall(veltix.Request(chat, payload).compile())
        back = read_frame(sock)
        if back.type.code == 200 and back.content == payload:
            echoed.append(n)
    print(
        json.dumps(
            {
                "version": sock.version(),
                "cipher": sock.cipher()[0],
                "server": server_version,
                "echoed": echoed,
            }
        )
    )
    sock.close()


if __name__ == "__main__":
    main()

"""Checks docs/wire-vx.md against the real veltix 3.3.0 with raw sockets.

usage: vx_raw_probe.py              (run it with the 3.3.0 venv's python)

Plays a hand-made peer built only on the golden bytes of
tests/data/veltix-3.3.0-vx-frames.json and the stdlib (socket, zlib,
struct), against vx_server.py and vx_client.py started with this same
interpreter. Each check prints one line `ok NAME: what was seen` or
`FAIL NAME: ...`; the exit status is 1 if any failed. Slow (stall checks
wait for timeouts): about 15 s.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = json.load(open(os.path.join(HERE, "..", "data", "veltix-3.3.0-vx-frames.json")))
MSG = {m["name"]: bytes.fromhex(m["bytes_hex"]) for m in GOLDEN["handshake"]["messages"]}
FAILED = []


def check(name: str, ok: bool, seen: str) -> None:
    print(f"{'ok' if ok else 'FAIL'} {name}: {seen}", flush=True)
    if not ok:
        FAILED.append(name)


def frame(code: int, payload: bytes, rid: int, flags: int = 0) -> bytes:
    return struct.pack(">2sBHI4sH", b"VX", flags, code, len(payload),
                       zlib.crc32(payload).to_bytes(4, "big"), rid) + payload


def spawn(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)


def server(*args: str):
    p = spawn("vx_server.py", *args)
    return p, int(p.stdout.readline().split()[1])


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_msg(sock: socket.socket) -> bytes:
    head = recv_exact(sock, 2)
    if len(head) < 2:
        return head
    return head + recv_exact(sock, int.from_bytes(head, "big"))


def read_frame(sock: socket.socket, timeout: float = 2.0):
    sock.settimeout(timeout)
    try:
        head = recv_exact(sock, 15)
    except socket.timeout:
        return None
    if len(head) < 15:
        return b"EOF"
    return head + recv_exact(sock, int.from_bytes(head[5:9], "big"))


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the peer closed (recv gave EOF or reset), or -1."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except socket.timeout:
        return -1.0
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def connect(port: int, hello: bytes = MSG["client_hello"]) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    got = read_msg(sock)
    check("server hello is the golden one", got == MSG["server_hello"], got[2:].decode(errors="replace"))
    sock.sendall(hello)
    return sock


def ping(sock: socket.socket, rid: int, payload: bytes = b"") -> bytes:
    sock.sendall(frame(0, payload, rid))
    return read_frame(sock)


def probe_server() -> None:
    srv, port = server("--mode", "echo", "--register", "200", "--handshake-timeout", "1")
    try:
        sock = connect(port)
        ack = read_msg(sock)
        check("result ok", ack == MSG["result_ok"], ack[2:].decode(errors="replace"))
        pong = ping(sock, 1)
        check("PING 1 -> PONG 1, empty", pong == frame(1, b"", 1), pong.hex())
        pong = ping(sock, 40000, b"abc")
        check("PING with payload -> empty PONG, same id", pong == frame(1, b"", 40000), pong.hex())
        sock.sendall(bytes.fromhex(GOLDEN["vectors"][0]["frame_hex"]))
        echo = read_frame(sock)
        check("echo of the issue example", echo.hex() == GOLDEN["vectors"][0]["frame_hex"], echo.hex())
        sock.sendall(frame(5555, b"zz", 9))
        check("unregistered type: no answer", read_frame(sock, 0.5) is None, "silence")
        pong = ping(sock, 2)
        check("...and the connection lives on", pong == frame(1, b"", 2), pong.hex())
        sock.sendall(frame(200, b"flag", 3, flags=0x80))
        echo = read_frame(sock)
        check("flags 0x80 ignored, reply has flags 0", echo == frame(200, b"flag", 3), echo.hex())
        bad = bytearray(frame(200, b"bad", 4))
        bad[9] ^= 1
        sock.sendall(bytes(bad) + frame(0, b"", 5))
        pong = read_frame(sock)
        check("bad CRC dropped, next frame served", pong == frame(1, b"", 5), pong.hex())
        sock.sendall(b"garbage!" + frame(0, b"", 6))
        pong = read_frame(sock)
        check("junk skipped up to the next magic", pong == frame(1, b"", 6), pong.hex())
        inner = frame(200, b"smuggled", 7)
        carrier = bytearray(frame(200, b"zz" + inner, 8))
        carrier[9] ^= 1
        sock.sendall(bytes(carrier))
        echo = read_frame(sock)
        check("a frame inside a bad-CRC payload is served", echo == inner, echo.hex())
        big = frame(200, b"x" * 16, 9)
        big = big[:5] + (11 * 1024 * 1024).to_bytes(4, "big") + big[9:]
        sock.sendall(big + frame(0, b"", 10))
        pong = read_frame(sock)
        check("oversize header dropped, next frame served", pong == frame(1, b"", 10), pong.hex())
        sock.close()

        sock = connect(port, MSG["client_hello"] + frame(0, b"", 11))
        ack, pong = read_msg(sock), read_frame(sock)
        check("a frame sent right behind the client hello is served after the ack",
              ack == MSG["result_ok"] and pong == frame(1, b"", 11), pong.hex())
        sock.close()

        sock = connect(port, MSG["client_hello"].replace(b'"1.0"', b'"2.0"'))
        check("pv 2.0: closed without an answer", closed_within(sock, 2) >= 0, "EOF")
        sock.close()
        sock = connect(port, MSG["client_hello"].replace(b'"1.0"', b'"1.9"'))
        ack = read_msg(sock)
        check("pv 1.9 accepted", ack == MSG["result_ok"], ack[2:].decode(errors="replace"))
        sock.close()
        sock = connect(port, struct.pack(">H", 30721))
        check("length 30721: closed", closed_within(sock, 2) >= 0, "EOF")
        sock.close()

        sock = socket.create_connection(("127.0.0.1", port))
        read_msg(sock)
        took = closed_within(sock, 5)
        check("silent client closed after about handshake_timeout (1 s)", 0.8 < took < 2, f"{took:.2f} s")
        sock.close()
        sock = socket.create_connection(("127.0.0.1", port))
        read_msg(sock)
        body = MSG["client_hello"]
        start = time.monotonic()
        for b in body[:5]:
            sock.sendall(bytes([b]))
            time.sleep(0.7)
        sock.settimeout(0.1)
        try:
            alive = sock.recv(1) != b""
        except socket.timeout:
            alive = True
        check("a byte every 0.7 s outlives the 1 s timeout", alive,
              f"still open after {time.monotonic() - start:.1f} s")
        sock.close()

        sock = socket.create_connection(("127.0.0.1", port))
        read_msg(sock)  # the server hello; our hello is never sent
        srv.stdin.write(json.dumps({"op": "broadcast", "type": 200, "hex": "aabb"}) + "\n")
        srv.stdin.flush()
        answer = json.loads(srv.stdout.readline())
        got = read_frame(sock)
        check("a broadcast reaches a connection still in its handshake",
              got == frame(200, b"\xaa\xbb", answer["request_id"]), (got or b"").hex())
        sock.close()
    finally:
        srv.stdin.close()
        srv.wait(5)

    srv, port = server("--max-connections", "1", "--handshake-timeout", "3")
    try:
        idle = socket.create_connection(("127.0.0.1", port))
        read_msg(idle)  # the server hello: this connection now holds the slot
        sock = socket.create_connection(("127.0.0.1", port))
        got = read_msg(sock)
        check("a connection still in its handshake fills the server",
              got == MSG["error_server_full"], got[2:].decode(errors="replace"))
        check("...and the refused one is closed", closed_within(sock, 2) >= 0, "EOF")
        sock.close()
        idle.close()
    finally:
        srv.stdin.close()
        srv.wait(5)


def raw_server(script) -> int:
    """A one-connection server on a free port running `script(sock)` in a thread."""
    lst = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        conn, _ = lst.accept()
        try:
            script(conn)
        finally:
            conn.close()
            lst.close()

    threading.Thread(target=run, daemon=True).start()
    return lst.getsockname()[1]


def probe_client() -> None:
    seen = {}

    def serve(conn: socket.socket) -> None:
        conn.sendall(MSG["server_hello"])
        seen["hello"] = read_msg(conn)
        conn.sendall(MSG["result_ok"])
        seen["ping"] = read_frame(conn, 5)
        if seen["ping"] and len(seen["ping"]) >= 15:
            conn.sendall(frame(1, b"", int.from_bytes(seen["ping"][13:15], "big")))
        time.sleep(0.5)

    port = raw_server(serve)
    cli = spawn("vx_client.py", "127.0.0.1", str(port))
    line = cli.stdout.readline()
    check("3.3.0 client connects to the raw server", line.startswith("READY"), line.strip())
    cli.stdin.write(json.dumps({"op": "ping", "timeout": 2}) + "\n")
    cli.stdin.flush()
    answer = json.loads(cli.stdout.readline())
    check("client hello is the golden one", seen.get("hello") == MSG["client_hello"], (seen.get("hello") or b"")[2:].decode(errors="replace"))
    check("client PING: type 0, empty, id 0 (first of the lower half)",
          seen.get("ping") == frame(0, b"", 0), (seen.get("ping") or b"").hex())
    check("the raw PONG satisfies ping_server()", answer.get("ok") is True, json.dumps(answer))
    cli.stdin.close()
    cli.wait(5)

    port = raw_server(lambda conn: conn.sendall(MSG["error_server_full"]))
    cli = spawn("vx_client.py", "127.0.0.1", str(port))
    line = cli.stdout.readline().strip()
    check("client told server_full", line == "REJECTED server_full", line)
    cli.wait(5)
    check("...exits 3", cli.returncode == 3, str(cli.returncode))


def main() -> None:
    probe_server()
    probe_client()
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()

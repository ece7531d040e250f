"""A reference veltix 1.6.3 Server, driven line by line over stdin/stdout.

usage: ref_server.py [--host HOST] [--port PORT] [--register CODE[=NAME]]...
                     [--echo]

Starts the reference's own `Server` (port 0: any free port) and prints
`READY <port>` once it accepts connections. Every message that reaches
on_recv is recorded; with `--echo` it is also answered with the same type,
content and request id (what `send_and_wait` on the other side waits for).

Clients are numbered 0, 1, ... in the order their handshake completed.
Then reads one JSON command per line on stdin and answers each with one
JSON line on stdout (`{"ok": true, ...}` or `{"ok": false, "error": ...}`):

  {"op": "clients"}                -> {"clients": [{"index", "addr"}, ...]}
  {"op": "wait_clients", "n": N, "timeout": S}
      -> {"clients": [...]} once at least N clients are connected
  {"op": "recv", "timeout": S}
      -> the next recorded message: {"client", "type", "request_id", "hex"}
  {"op": "send", "client": I, "type": T, "hex": H}   -> {"request_id"}
  {"op": "send_and_wait", "client": I, "type": T, "hex": H, "timeout": S}
      -> {"type", "request_id", "sent_request_id", "hex"}
  {"op": "ping_client", "client": I, "timeout": S}   -> {"latency_ms"}
  {"op": "broadcast", "type": T, "hex": H, "except": [I, ...]}
  {"op": "quit"}                   -> exits (so does end of stdin)

Callbacks run on a single worker (max_workers=1) so that `recv` returns
messages in the order they arrived.
"""

import argparse
import json
import os
import queue
import socket
import sys
import threading
import time

import _support
import veltix


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--register", action="append", default=[], metavar="CODE[=NAME]")
    p.add_argument("--echo", action="store_true", help="answer every message with itself")
    args = p.parse_args()

    for spec in args.register:
        _support.register_arg(spec)

    server = veltix.Server(veltix.ServerConfig(host=args.host, port=args.port, max_workers=1))
    inbox: "queue.Queue[dict]" = queue.Queue()
    lock = threading.Condition()
    clients: list = []  # every client that completed the handshake, by index
    gone: set = set()  # indexes of those that left

    def index_of(client) -> int:
        with lock:
            for i, c in enumerate(clients):
                if c is client:
                    return i
        return -1

    def on_connect(client) -> None:
        with lock:
            clients.append(client)
            lock.notify_all()

    def on_disconnect(client) -> None:
        i = index_of(client)
        with lock:
            gone.add(i)
            lock.notify_all()

    def on_recv(client, response: veltix.Response) -> None:
        if args.echo:
            reply = veltix.Request(response.type, response.content, request_id=response.request_id)
            server.get_sender().send(reply, client=client.conn)
        inbox.put(
            {
                "client": index_of(client),
                "type": response.type.code,
                "request_id": response.request_id.hex(),
                "hex": response.content.hex(),
            }
        )

    server.set_callback(veltix.Events.ON_CONNECT, on_connect)
    server.set_callback(veltix.Events.ON_DISCONNECT, on_disconnect)
    server.set_callback(veltix.Events.ON_RECV, on_recv)
    server.start()

    # start() binds at once but listen()s on its accept thread: wait until
    # the socket really accepts before telling the test it can connect.
    sock = server.socket._sock
    deadline = time.monotonic() + 10
    while not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        if time.monotonic() > deadline:
            _support.fail("the reference server did not start listening")
        time.sleep(0.002)
    print(f"READY {sock.getsockname()[1]}", flush=True)

    def connected() -> list:
        return [
            {"index": i, "addr": f"{c.addr[0]}:{c.addr[1]}"}
            for i, c in enumerate(clients)
            if i not in gone
        ]

    def client_at(cmd: dict):
        with lock:
            i = cmd["client"]
            if i >= len(clients) or i in gone:
                return None
            return clients[i]

    def answer(result: dict) -> None:
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()

    while True:
        line = sys.stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd["op"]
        timeout = float(cmd.get("timeout", 5))
        if op == "quit":
            break
        if op == "clients":
            with lock:
                answer({"ok": True, "clients": connected()})
        elif op == "wait_clients":
            with lock:
                ok = lock.wait_for(lambda: len(connected()) >= cmd["n"], timeout=timeout)
                answer({"ok": ok, "clients": connected()})
        elif op == "recv":
            try:
                answer({"ok": True, **inbox.get(timeout=timeout)})
            except queue.Empty:
                answer({"ok": False, "error": "timeout"})
        elif op in ("send", "send_and_wait", "ping_client"):
            client = client_at(cmd)
            if client is None:
                answer({"ok": False, "error": f"no client {cmd['client']}"})
                continue
            if op == "ping_client":
                latency = server.ping_client(client, timeout=timeout)
                if latency is None:
                    answer({"ok": False, "error": "no pong"})
                else:
                    answer({"ok": True, "latency_ms": latency})
                continue
            req = veltix.Request(
                _support.message_type(cmd["type"]), bytes.fromhex(cmd.get("hex", ""))
            )
            if op == "send":
                sent = server.get_sender().send(req, client=client.conn)
                answer({"ok": sent, "request_id": req.request_id.hex()})
                continue
            resp = server.send_and_wait(req, client, timeout=timeout)
            if resp is None:
                answer({"ok": False, "error": "no reply"})
            else:
                answer(
                    {
                        "ok": True,
                        "type": resp.type.code,
                        "request_id": resp.request_id.hex(),
                        "sent_request_id": req.request_id.hex(),
                        "hex": resp.content.hex(),
                    }
                )
        elif op == "broadcast":
            req = veltix.Request(
                _support.message_type(cmd["type"]), bytes.fromhex(cmd.get("hex", ""))
            )
            with lock:
                skip = set(cmd.get("except", []))
                targets = [c.conn for i, c in enumerate(clients) if i not in gone and i not in skip]
            ok = server.get_sender().broadcast(req, targets)
            answer({"ok": ok, "sent_to": len(targets)})
        else:
            answer({"ok": False, "error": f"unknown op {op!r}"})

    server.close_all()
    sys.stdout.flush()
    # The reference leaves worker threads behind; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()

"""A real veltix 3.3.0 Server (VX profile), driven line by line over stdin/stdout.

usage: vx_server.py [--host HOST] [--port PORT] [--mode log|echo|broadcast|broadcast-all]
                    [--route CODE]... [--register CODE[=NAME]]...
                    [--max-connections N] [--handshake-timeout S]
                    [--pv PV | --announce-pv PV] [--version V] [--workers N]

Starts 3.3.0's own `Server` (port 0: any free port) and prints `READY <port>`
once it accepts connections. Every message that reaches on_recv is recorded
for `recv`, and, by --mode:

  log            nothing more (the default)
  echo           answered with the same type, content and request id: the
                 reply a peer's send_and_wait is waiting for
  broadcast      relayed with `Server.broadcast()` to every other client
  broadcast-all  relayed with `Server.broadcast()` to every client, sender too

`--route CODE` registers a route for CODE (3.3.0 hands those messages to the
route, not to on_recv): it answers with the same type and request id and the
content prefixed by `route:`, and is recorded with "route": true.
`--max-connections` sets `max_connection` (a client over the limit is sent
{"error": "server_full"}). `--pv` / `--version` change the `pv` / `v` this
server announces (a MAJOR.MINOR `pv` is also what a client's `pv` is checked
against), to provoke a version mismatch; `--announce-pv` only announces its
`pv` and still checks a client's against 1.0.

3.3.0 drops frames whose type code is not registered: codes used by a
command are registered on the fly, others need `--register` (or a --route).

Clients are numbered 0, 1, ... in the order their handshake completed.
Then reads one JSON command per line on stdin and answers each with one
JSON line on stdout (`{"ok": true, ...}` or `{"ok": false, "error": ...}`):

  {"op": "clients"}                -> {"clients": [{"index", "addr"}, ...]}
  {"op": "wait_clients", "n": N, "timeout": S}
      -> {"clients": [...]} once at least N clients are connected
  {"op": "recv", "timeout": S}
      -> the next recorded message: {"client", "type", "request_id", "hex", "route"}
  {"op": "send", "client": I, "type": T, "hex": H[, "request_id": R]}
      -> {"request_id"} (the id 3.3.0 allocated when none is given)
  {"op": "send_and_wait", "client": I, "type": T, "hex": H, "timeout": S}
      -> {"type", "request_id", "sent_request_id", "hex"}
  {"op": "ping_client", "client": I, "timeout": S}   -> {"latency_ms"}
  {"op": "broadcast", "type": T, "hex": H, "except": [I, ...]}
      -> {"request_id", "sent_to"}
  {"op": "close_client", "client": I}
  {"op": "quit"}                   -> exits (so does end of stdin)

Request ids are integers (u16 on the wire). Callbacks run on a single
worker (--workers 1, the default) so that `recv` returns messages in the
order they arrived.
"""

import argparse
import os
import queue
import sys
import threading

import _vx_support
import veltix


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--mode", choices=["log", "echo", "broadcast", "broadcast-all"], default="log"
    )
    p.add_argument("--route", action="append", default=[], type=lambda s: int(s, 0),
                   metavar="CODE")
    p.add_argument("--register", action="append", default=[], metavar="CODE[=NAME]")
    p.add_argument("--max-connections", type=int, default=-1)
    p.add_argument("--handshake-timeout", type=float, default=5.0)
    p.add_argument("--pv", help="protocol version to announce (default: 3.3.0's own, 1.0)")
    p.add_argument("--version", help="package version to announce as v")
    p.add_argument("--announce-pv", metavar="PV",
                   help="protocol version to announce, the peer's still checked against 1.0")
    p.add_argument("--workers", type=int, default=1, help="callback worker threads")
    args = p.parse_args()

    if args.pv is not None and args.announce_pv is not None:
        p.error("--pv and --announce-pv exclude each other")
    _vx_support.set_handshake_identity(
        args.version, args.pv or args.announce_pv, check_against_pv=args.announce_pv is None
    )
    for spec in args.register:
        _vx_support.register_arg(spec)

    server = veltix.Server(
        veltix.ServerConfig(
            host=args.host,
            port=args.port,
            max_connection=args.max_connections,
            handshake_timeout=args.handshake_timeout,
            max_workers=args.workers,
        )
    )
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

    def record(client, response: veltix.Response, route: bool) -> None:
        inbox.put(
            {
                "client": index_of(client),
                "type": response.type.code,
                "request_id": response.request_id,
                "hex": response.content.hex(),
                "route": route,
            }
        )

    def on_recv(client, response: veltix.Response) -> None:
        if args.mode == "echo":
            reply = veltix.Request(
                response.type, content=response.content, request_id=response.request_id
            )
            server.send(reply, client)
        elif args.mode in ("broadcast", "broadcast-all"):
            relay = veltix.Request(response.type, content=response.content)
            server.broadcast(relay, except_clients=[client] if args.mode == "broadcast" else None)
        record(client, response, False)

    def add_route(code: int) -> None:
        msg_type = _vx_support.message_type(code)

        def route(client, response: veltix.Response) -> None:
            reply = veltix.Request(
                response.type, content=b"route:" + response.content,
                request_id=response.request_id,
            )
            server.send(reply, client)
            record(client, response, True)

        server.route(msg_type)(route)

    for code in args.route:
        add_route(code)
    server.on_connect(on_connect)
    server.on_disconnect(on_disconnect)
    server.on_recv(on_recv)
    # 3.3.0 binds and listens inside start(), before it returns.
    server.start()
    print(f"READY {server.socket._sock.getsockname()[1]}", flush=True)

    def connected() -> list:
        return [
            {"index": i, "addr": f"{c.addr[0]}:{c.addr[1]}"}
            for i, c in enumerate(clients)
            if i not in gone
        ]

    def with_client(action):
        """A handler for a command aimed at client number cmd["client"]."""

        def handler(cmd: dict, timeout: float) -> dict:
            with lock:
                i = cmd["client"]
                client = None if i >= len(clients) or i in gone else clients[i]
            if client is None:
                return {"ok": False, "error": f"no client {i}"}
            return action(client, cmd, timeout)

        return handler

    def list_clients(cmd: dict, timeout: float) -> dict:
        with lock:
            return {"ok": True, "clients": connected()}

    def wait_clients(cmd: dict, timeout: float) -> dict:
        with lock:
            ok = lock.wait_for(lambda: len(connected()) >= cmd["n"], timeout=timeout)
            return {"ok": ok, "clients": connected()}

    def recv(cmd: dict, timeout: float) -> dict:
        try:
            return {"ok": True, **inbox.get(timeout=timeout)}
        except queue.Empty:
            return {"ok": False, "error": "timeout"}

    def send(client, cmd: dict, timeout: float) -> dict:
        req = _vx_support.request(cmd)
        return {"ok": server.send(req, client), "request_id": req.request_id}

    def send_and_wait(client, cmd: dict, timeout: float) -> dict:
        req = _vx_support.request(cmd)
        return _vx_support.reply_answer(req, server.send_and_wait(req, client, timeout=timeout))

    def ping_client(client, cmd: dict, timeout: float) -> dict:
        return _vx_support.latency_answer(server.ping_client(client, timeout=timeout))

    def broadcast(cmd: dict, timeout: float) -> dict:
        req = _vx_support.request(cmd)
        excluded = set(cmd.get("except", []))
        with lock:
            skip = [c for i, c in enumerate(clients) if i in excluded]
            sent_to = [c["index"] for c in connected() if c["index"] not in excluded]
        ok = server.broadcast(req, except_clients=skip)
        return {"ok": ok, "request_id": req.request_id, "sent_to": len(sent_to)}

    _vx_support.command_loop(
        {
            "clients": list_clients,
            "wait_clients": wait_clients,
            "recv": recv,
            "send": with_client(send),
            "send_and_wait": with_client(send_and_wait),
            "ping_client": with_client(ping_client),
            "broadcast": broadcast,
            "close_client": with_client(lambda c, cmd, t: {"ok": server.close_client(c)}),
        }
    )

    server.close_all()
    sys.stdout.flush()
    # The reference leaves worker threads behind; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()

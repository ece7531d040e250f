"""A real veltix 3.3.0 Client (VX profile), driven line by line over stdin/stdout.

usage: vx_client.py HOST PORT [--register CODE[=NAME]]... [--echo CODE]...
                    [--listen] [--handshake-timeout S] [--pv PV | --announce-pv PV]
                    [--version V]

Connects with 3.3.0's own `Client.connect()` (which returns once the JSON
handshake is done) and prints `READY <local port>` (the port lets a Rust
server tell which of its peers this client is). When the connection fails
it prints `REJECTED <reason>` and exits 3 if the server answered
{"error": reason} (3.3.0 raises ServerFullError for any such answer), or
`FAILED` and exits 2 otherwise (refused, version mismatch, timeout, ...).

Then reads one JSON command per line on stdin and answers each with one
JSON line on stdout (`{"ok": true, ...}` or `{"ok": false, "error": ...}`):

  {"op": "send_and_wait", "type": T, "hex": H, "timeout": S}
      -> {"type", "request_id", "sent_request_id", "hex"}
  {"op": "send", "type": T, "hex": H[, "request_id": R]}
      -> {"request_id"} (the id 3.3.0 allocated when none is given)
  {"op": "send_many", "type": T, "hex": H, "n": N}
      -> {"sent": N, "request_ids": [first, last]}
  {"op": "ping", "timeout": S}                 -> {"latency_ms"}   (ping_server)
  {"op": "recv", "timeout": S}
      -> the next message the server pushed: {"type", "request_id", "hex",
         "echoed"}; echoed is true for messages an --echo route answered
  {"op": "status"}                             -> {"connected"}
  {"op": "quit"}                               -> exits (so does end of stdin)

With `--listen`, every message the server pushes is printed at once as a
line `{"event": "message", "type", "request_id", "hex", "echoed"}` instead
of being kept for `recv` (command answers keep their own lines, which carry
"ok"). End of stdin exits.

`--register` registers message types before connecting (3.3.0 drops frames
of unregistered codes); the type of every command is registered too.
`--echo CODE` adds a route for CODE that answers each message with the same
type, content and request id. `--pv` / `--version` change the `pv` / `v`
this client announces (a MAJOR.MINOR `pv` is also what the server's `pv` is
checked against); `--announce-pv` only announces its `pv` and still checks
the server's against 1.0, so that a refusal can only come from the server.

Request ids are integers (u16 on the wire). Callbacks run on a single
worker so that messages are seen in the order the socket delivered them.
"""

import argparse
import os
import queue
import sys

import _vx_support
import veltix


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--register", action="append", default=[], metavar="CODE[=NAME]")
    p.add_argument("--echo", action="append", default=[], type=lambda s: int(s, 0),
                   metavar="CODE")
    p.add_argument("--listen", action="store_true", help="print pushed messages at once")
    p.add_argument("--handshake-timeout", type=float, default=5.0)
    p.add_argument("--pv", help="protocol version to announce (default: 3.3.0's own, 1.0)")
    p.add_argument("--version", help="package version to announce as v")
    p.add_argument("--announce-pv", metavar="PV",
                   help="protocol version to announce, the peer's still checked against 1.0")
    args = p.parse_args()

    if args.pv is not None and args.announce_pv is not None:
        p.error("--pv and --announce-pv exclude each other")
    _vx_support.set_handshake_identity(
        args.version, args.pv or args.announce_pv, check_against_pv=args.announce_pv is None
    )
    for spec in args.register:
        _vx_support.register_arg(spec)

    config = veltix.ClientConfig(
        server_addr=args.host,
        port=args.port,
        max_workers=1,
        handshake_timeout=args.handshake_timeout,
    )
    client = veltix.Client(config)
    inbox: "queue.Queue[dict]" = queue.Queue()

    def record(response: veltix.Response, echoed: bool) -> None:
        message = {
            "type": response.type.code,
            "request_id": response.request_id,
            "hex": response.content.hex(),
            "echoed": echoed,
        }
        if args.listen:
            _vx_support.emit({"event": "message", **message})
        else:
            inbox.put(message)

    for code in args.echo:

        def echo(response: veltix.Response) -> None:
            reply = veltix.Request(
                response.type, content=response.content, request_id=response.request_id
            )
            client.send(reply)
            record(response, True)

        client.route(_vx_support.message_type(code))(echo)

    client.on_recv(lambda response: record(response, False))

    try:
        connected = client.connect()
    except veltix.ServerFullError as e:
        print(f"REJECTED {e}", flush=True)
        os._exit(3)
    if not connected:
        print("FAILED", flush=True)
        os._exit(2)
    print(f"READY {client.socket._sock.getsockname()[1]}", flush=True)

    def send(cmd: dict, timeout: float) -> dict:
        req = _vx_support.request(cmd)
        return {"ok": client.send(req), "request_id": req.request_id}

    def send_and_wait(cmd: dict, timeout: float) -> dict:
        req = _vx_support.request(cmd)
        return _vx_support.reply_answer(req, client.send_and_wait(req, timeout=timeout))

    def send_many(cmd: dict, timeout: float) -> dict:
        ids = []
        for _ in range(int(cmd["n"])):
            req = _vx_support.request(cmd)
            if not client.send(req):
                break
            ids.append(req.request_id)
        return {"ok": len(ids) == int(cmd["n"]), "sent": len(ids),
                "request_ids": [ids[0], ids[-1]] if ids else []}

    def recv(cmd: dict, timeout: float) -> dict:
        try:
            return {"ok": True, **inbox.get(timeout=timeout)}
        except queue.Empty:
            return {"ok": False, "error": "timeout"}

    _vx_support.command_loop(
        {
            "send": send,
            "send_and_wait": send_and_wait,
            "send_many": send_many,
            "ping": lambda cmd, timeout: _vx_support.latency_answer(
                client.ping_server(timeout=timeout)
            ),
            "recv": recv,
            "status": lambda cmd, timeout: {"ok": True, "connected": client.is_connected},
        }
    )

    client.disconnect()
    sys.stdout.flush()
    # The reference leaves worker threads behind; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()

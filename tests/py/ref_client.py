"""A reference veltix 1.6.3 Client, driven line by line over stdin/stdout.

usage: ref_client.py HOST PORT [--register CODE[=NAME]]... [--echo CODE]...

Connects with the reference's own `Client.connect()` (which blocks until the
HELLO / HELLO_ACK handshake is done) and prints `READY <local port>` (the
port lets a Rust server tell which of its peers this client is), or
`FAILED` and exits 2 when connect() returns False.

Then reads one JSON command per line on stdin and answers each with one
JSON line on stdout (`{"ok": true, ...}` or `{"ok": false, "error": ...}`):

  {"op": "send_and_wait", "type": T, "hex": H, "timeout": S}
      -> {"type", "request_id", "sent_request_id", "hex"}
  {"op": "send", "type": T, "hex": H}          -> {"request_id"}
  {"op": "ping", "timeout": S}                 -> {"latency_ms"}   (ping_server)
  {"op": "recv", "timeout": S}
      -> the next message the server pushed: {"type", "request_id", "hex",
         "echoed"}; echoed is true for messages an --echo route answered
  {"op": "quit"}                               -> exits (so does end of stdin)

`--register` registers message types before connecting (the reference
drops frames of unregistered codes); the type of every command is
registered too. `--echo CODE` adds a route for CODE that answers each
message with the same type, content and request id.

Callbacks run on a single worker (max_workers=1) so that `recv` returns
messages in the order the socket delivered them.
"""

import argparse
import json
import os
import queue
import sys

import _support
import veltix


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--register", action="append", default=[], metavar="CODE[=NAME]")
    p.add_argument("--echo", action="append", default=[], type=int, metavar="CODE")
    args = p.parse_args()

    for spec in args.register:
        _support.register_arg(spec)

    config = veltix.ClientConfig(server_addr=args.host, port=args.port, max_workers=1)
    client = veltix.Client(config)
    inbox: "queue.Queue[dict]" = queue.Queue()

    def record(response: veltix.Response, echoed: bool) -> None:
        inbox.put(
            {
                "type": response.type.code,
                "request_id": response.request_id.hex(),
                "hex": response.content.hex(),
                "echoed": echoed,
            }
        )

    for code in args.echo:

        def echo(response: veltix.Response) -> None:
            reply = veltix.Request(response.type, response.content, request_id=response.request_id)
            client.get_sender().send(reply)
            record(response, True)

        client.route(_support.message_type(code))(echo)

    client.set_callback(veltix.Events.ON_RECV, lambda response: record(response, False))

    if not client.connect():
        print("FAILED", flush=True)
        os._exit(2)
    print(f"READY {client.socket._sock.getsockname()[1]}", flush=True)

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
        if op == "send_and_wait":
            req = veltix.Request(
                _support.message_type(cmd["type"]), bytes.fromhex(cmd.get("hex", ""))
            )
            resp = client.send_and_wait(req, timeout=timeout)
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
        elif op == "send":
            req = veltix.Request(
                _support.message_type(cmd["type"]), bytes.fromhex(cmd.get("hex", ""))
            )
            sent = client.get_sender().send(req)
            answer({"ok": sent, "request_id": req.request_id.hex()})
        elif op == "ping":
            latency = client.ping_server(timeout=timeout)
            if latency is None:
                answer({"ok": False, "error": "no pong"})
            else:
                answer({"ok": True, "latency_ms": latency})
        elif op == "recv":
            try:
                answer({"ok": True, **inbox.get(timeout=timeout)})
            except queue.Empty:
                answer({"ok": False, "error": "timeout"})
        else:
            answer({"ok": False, "error": f"unknown op {op!r}"})

    client.disconnect()
    sys.stdout.flush()
    # The reference leaves worker threads behind; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()

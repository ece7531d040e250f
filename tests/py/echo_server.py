"""An echo server on the reference, veltix 1.6.3, for `veltix bench --target`.

usage: echo_server.py [--host HOST] [--port PORT] [--workers N]
                      [--register CODE[=NAME]]...

Starts the reference's own `Server` (port 0: any free port), prints
`READY <port>` once it accepts connections, and answers every message with
the same type, content and request id. PING is answered by the reference
itself. Exits when stdin closes.

The reference drops frames whose type code is not registered, so the codes
`veltix bench` sends are registered up front: 200, and 401-405 (the game
messages of the reference's own benchmark suite); `--register` adds more.
"""

import argparse
import os
import socket
import sys
import time

import _support
import veltix

BENCH_TYPES = ["200=bench", "401=player_move", "402=player_shoot", "403=game_state",
               "404=player_join", "405=chat_msg"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--workers", type=int, default=4, help="callback worker threads")
    p.add_argument("--register", action="append", default=[], metavar="CODE[=NAME]")
    args = p.parse_args()

    # Connection chatter at INFO would flood stderr with a hundred clients.
    veltix.Logger.get_instance().set_level(veltix.LogLevel.WARNING)

    for spec in BENCH_TYPES + args.register:
        code, _, name = spec.partition("=")
        _support.message_type(int(code, 0), name or None)

    server = veltix.Server(
        veltix.ServerConfig(host=args.host, port=args.port, max_workers=args.workers)
    )
    sender = server.get_sender()

    def on_recv(client, response: veltix.Response) -> None:
        reply = veltix.Request(response.type, response.content, request_id=response.request_id)
        sender.send(reply, client=client.conn)

    server.set_callback(veltix.Events.ON_RECV, on_recv)
    server.start()

    # start() binds at once but listen()s on its accept thread: wait until
    # the socket accepts before announcing the port.
    sock = server.socket._sock
    deadline = time.monotonic() + 10
    while not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        if time.monotonic() > deadline:
            _support.fail("the reference server did not start listening")
        time.sleep(0.002)
    print(f"READY {sock.getsockname()[1]}", flush=True)

    sys.stdin.read()  # until the test closes our stdin (or dies)
    server.close_all()
    sys.stdout.flush()
    # The reference leaves worker threads behind; do not wait for them.
    os._exit(0)


if __name__ == "__main__":
    main()

"""`python -m app` / `backprop-playground`: serve the playground with uvicorn.

`--lecture` listens on every network address of this machine (0.0.0.0) so that students'
devices can join, and says where they reach it.
"""

import argparse
import errno
import os
import socket
import sys

import uvicorn

from app.config import Settings
from app.loop.connections import announce_open_files, raise_open_files_limit
from app.loop.sockets import websocket_options


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="backprop-playground", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=None, help="address to listen on [127.0.0.1]")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--lecture", action="store_true",
                        help="listen on this machine's network addresses (0.0.0.0) for a class")
    args = parser.parse_args(argv)
    default = "0.0.0.0" if args.lecture else os.environ.get("BACKPROP_HOST", "127.0.0.1")
    host = args.host or default
    # Every follower holds a socket: the common soft limit of 1024 would end a class's
    # connections at about a thousand, where the hard one allows many times that.
    raised = raise_open_files_limit()
    # The factory builds its Settings from the environment: this is how the share panel
    # learns where the server listens (never from a request's Host header).
    # Bound before anything is announced: a port in use is one clear line, not "Students join
    # at …" followed by a traceback.
    try:
        listening = bind(host, args.port)
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        sys.exit(f"port {args.port} is in use: try --port {free_port_after(host, args.port)}")
    os.environ["BACKPROP_HOST"], os.environ["BACKPROP_PORT"] = host, str(args.port)
    _announce()
    announce_open_files(raised)
    serve(listening)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound as uvicorn binds its own (address reuse on, so that a restart does not
    wait out the old connections' TIME_WAIT)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def free_port_after(host: str, port: int) -> int:
    """The first port above `port` that binds now, to suggest (port + 1 when none of 100 do)."""
    for candidate in range(port + 1, min(port + 101, 65536)):
        try:
            bind(host, candidate).close()
        except OSError:
            continue
        return candidate
    return port + 1


def serve(listening: socket.socket) -> None:
    config = uvicorn.Config("app.main:create_app", factory=True,
                            **websocket_options(Settings().follower_send_seconds))
    uvicorn.Server(config).run(sockets=[listening])


def _announce() -> None:
    """One line saying where students join (uvicorn only says 0.0.0.0)."""
    from app.classroom.reach import LECTURE_COMMAND, reach

    where = reach(Settings())
    if where.loopback:
        text = (f"Serving on {where.listening}: this machine only. For a class, run "
                f"`{LECTURE_COMMAND}` (or backprop-playground --lecture).")
    elif where.base is None:
        text = ("No network address found: connect this machine to the hall's network, "
                "or set BACKPROP_PUBLIC_URL.")
    else:
        text = f"Students join at {where.base}/join" + "".join(
            f"  (or {url}/join)" for url in where.others)
    sys.stderr.write(text + "\n")


if __name__ == "__main__":
    main()

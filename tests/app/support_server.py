"""A real uvicorn server of the app in a thread, and the raw sockets and waits its tests use:
the test client has no socket buffers to fill."""

import asyncio
import base64
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.loop.sockets import websocket_options
from app.main import create_app

SEND_SECONDS = 1.0


@contextlib.contextmanager
def serving(settings: Settings | FastAPI) -> Iterator[str]:
    """A real uvicorn server of the app (or one made with these settings) in a thread, on a
    free port: its host:port."""
    asgi = create_app(settings) if isinstance(settings, Settings) else settings
    send_seconds = asgi.state.settings.follower_send_seconds
    config = uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning",
                            **websocket_options(send_seconds))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def stalled_follower(address: str, path: str) -> socket.socket:
    """A WebSocket handshake, then never another read, with a receive buffer kept small."""
    host, port = address.split(":")
    peer = socket.socket()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    peer.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    peer.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode()
    )
    return peer


def followers(http: httpx.Client, session_id: str) -> int:
    return http.get(f"/api/sessions/{session_id}").json()["followers"]


def large_session(http: httpx.Client) -> tuple[str, str]:
    """A session of large messages (a state with 2,000 points and a heatmap for each of 64
    neurons): its id and control token."""
    created = http.post("/api/sessions", json={
        "dataset": "spiral", "points": 2000, "hidden": [16, 16, 16, 16]})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["token"]


def play_at_full_speed(http: httpx.Client, session_id: str, token: str) -> None:
    played = http.post(f"/api/sessions/{session_id}/play", json={"speed": None},
                       headers={"X-Control-Token": token})
    assert played.status_code == 200, played.text


def wait_for(condition, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False

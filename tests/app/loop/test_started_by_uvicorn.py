"""However the server is started, its followers get the playground's WebSocket protocol
(app/loop/sockets.py): plain `uvicorn app.main:create_app --factory`, as the README allows, and the
command line the README gives. Real uvicorn processes, since the options are uvicorn's."""

import base64
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support_server import followers, large_session, play_at_full_speed, stalled_follower, wait_for

from app.loop.sockets import COMMAND
from tests.cluster.cluster_servers import free_port
from tests.cluster.cluster_servers import wait_for as wait_until

ROOT = Path(__file__).resolve().parents[3]
PLAIN = "uvicorn app.main:create_app --factory"


@contextlib.contextmanager
def started(command: str, folder: Path) -> Iterator[tuple[str, Path]]:
    """`command` (uvicorn's arguments, as a person types them) on a free loopback port: its
    host:port and the file its standard error goes to."""
    port = free_port()
    argv = [sys.executable, "-m", *shlex.split(command), "--host", "127.0.0.1",
            "--port", str(port)]
    env = {**os.environ, "BACKPROP_DATA_DIR": str(folder), "BACKPROP_WORKERS": "1",
           "BACKPROP_FOLLOWER_SEND_SECONDS": "1"}
    errors = folder / "stderr.txt"
    with errors.open("w") as sink:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    address = f"127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is None
                   and httpx.get(f"http://{address}/api/presets", timeout=2).is_success
                   or process.poll() is not None, "the server starting")
        assert process.poll() is None, errors.read_text()
        yield address, errors
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def offered_deflate(address: str, path: str) -> str:
    """The handshake's answer to a client that offers per-message deflate."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as peer:
        key = base64.b64encode(os.urandom(16)).decode()
        peer.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            .encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = peer.recv(4096)
            assert chunk, answer
            answer += chunk
    head = answer.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 101"), head
    return head


def assert_the_protections_hold(address: str) -> None:
    """No per-message deflate, and a follower that stops reading is cut off."""
    with httpx.Client(base_url=f"http://{address}", timeout=30) as http:
        session_id, token = large_session(http)
        path = f"/api/sessions/{session_id}/stream"
        assert "permessage-deflate" not in offered_deflate(address, path).lower()
        stalled = stalled_follower(address, path)
        assert wait_for(lambda: followers(http, session_id) == 1, 30)
        play_at_full_speed(http, session_id, token)
        assert wait_for(lambda: followers(http, session_id) == 0), \
            "the follower that never reads was never cut off"
        stalled.close()


@pytest.mark.parametrize("command", [PLAIN, COMMAND], ids=["plain", "documented"])
def test_the_server_cuts_off_a_stalled_follower_however_uvicorn_is_started(command, tmp_path):
    with started(command, tmp_path) as (address, errors):
        assert_the_protections_hold(address)
        said = errors.read_text()
    if command == PLAIN:   # it says, once, what it put in and how to start it so
        assert said.count(COMMAND) == 1, said
    else:
        assert "WARNING" not in said and COMMAND not in said, said


def test_the_readme_gives_the_command_line():
    assert COMMAND in (ROOT / "README.md").read_text()

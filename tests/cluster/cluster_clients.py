"""Clients of a cluster in tests: sessions made and controlled through nginx, followers of
them over WebSockets, a coroutine run apart from pytest's thread."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import websockets

FRAME_WAIT = 60.0   # seconds a follower may wait for a frame on a loaded machine
CONFIG = {"dataset": "xor", "hidden": [4, 2], "activation": "tanh", "batch_size": 10}


def run_apart(coroutine_function):
    """asyncio.run in a thread of its own: in a whole run, the browser tests' Playwright keeps
    an event loop running in this thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


def ws_url(base: str, session_id: str) -> str:
    return base.replace("http://", "ws://") + f"/api/sessions/{session_id}/stream"


class Follower:
    """A follower's WebSocket: counts its frames and the highest step they showed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.frames, self.step, self.closed = 0, -1, None

    async def open(self) -> "Follower":
        self.socket = await websockets.connect(self.url, max_size=None, open_timeout=30)
        return self

    async def frames_after(self, step: int, count: int = 3) -> None:
        """Wait for `count` frames past `step`."""
        seen, kinds = 0, []
        try:
            async with asyncio.timeout(FRAME_WAIT):
                while seen < count:
                    message = json.loads(await self.socket.recv())
                    kinds.append((message["type"], message.get("step")))
                    if message["type"] == "frame" and message["step"] > step:
                        seen += 1
                        self.step = max(self.step, message["step"])
        except TimeoutError:
            raise AssertionError(f"{self.url}: {seen} of {count} frames past step {step} in "
                                 f"{FRAME_WAIT:.0f} s; received {kinds[-10:]}") from None

    async def close(self) -> None:
        await self.socket.close()


async def rejoin(url: str) -> Follower:
    """Connect as the page does until the stream stays open: its first message arrives."""
    async with asyncio.timeout(FRAME_WAIT):
        while True:
            follower = await Follower(url).open()
            try:
                await follower.socket.recv()
                return follower
            except websockets.ConnectionClosed:
                await asyncio.sleep(0.5)


def create(cluster) -> dict:
    made = httpx.post(f"{cluster.nginx.base}/api/sessions", json=CONFIG, timeout=60)
    assert made.status_code == 201, made.text
    return made.json()


def control(cluster, session: dict, op: str, body: dict | None = None) -> dict:
    answer = httpx.post(f"{cluster.nginx.base}/api/sessions/{session['id']}/{op}",
                        json=body or {}, headers={"X-Control-Token": session["token"]},
                        timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def other(cluster, instance):
    return next(i for i in cluster.instances if i is not instance)

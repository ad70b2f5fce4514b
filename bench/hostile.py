"""Hostile requests against a real uvicorn (loopback): how long each takes, how many bytes it
answers, how long a small session's reads and steps wait meanwhile (the time others are
frozen), and the server's memory (its workers counted). Issue 9's rows 1 and 3, re-runnable.
Prints figures; asserts nothing. BACKPROP_* variables reach the server.
Run: .venv/bin/python bench/hostile.py
"""

import asyncio
import os
import re
import time

import httpx
import websockets
from machine import family_rss, pressure  # bench/machine.py
from stream import start_server  # bench/stream.py

BIG = {  # the largest session the limits allow: every feature, 8 × 16 relu, full batch
    "dataset": "spiral", "points": 5000,
    "hidden": [16] * 8, "activation": "relu",
    "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"],
}


class Probe:
    """A small session read and stepped in turn, ten times a second: its slowest answer while
    a hostile request runs is how long other users were frozen."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: list[float] = []

    async def run(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        made = (await client.post(f"{self.base}/api/sessions", json={})).json()
        control = {"X-Control-Token": made["token"]}
        calls = [
            lambda: client.get(f"{self.base}/api/sessions/{made['id']}"),
            lambda: client.post(f"{self.base}/api/sessions/{made['id']}/step",
                                json={"steps": 1}, headers=control),
        ]
        i = 0
        while not stop.is_set():
            started = time.perf_counter()
            await calls[i % 2]()
            self.latencies.append(time.perf_counter() - started)
            i += 1
            await asyncio.sleep(0.1)


async def measured(base: str, name: str, request) -> None:
    """Run `request` (a coroutine function answering (status, bytes)) beside a probe."""
    async with httpx.AsyncClient(timeout=600) as client:
        probe, stop = Probe(base), asyncio.Event()
        probing = asyncio.create_task(probe.run(client, stop))
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        status, size = await request(client)
        took = time.perf_counter() - started
        await asyncio.sleep(0.3)
        stop.set()
        await probing
    worst = max(probe.latencies) if probe.latencies else float("nan")
    print(f"{name:<44} {status:>4} {size / 1e6:9.2f} MB {took:8.2f} s   "
          f"others' slowest answer {worst * 1000:8.0f} ms")
    return status


async def main() -> None:
    server, host = start_server(None)
    base = f"http://{host}"
    try:
        async with httpx.AsyncClient(timeout=600) as client:
            made = await client.post(f"{base}/api/sessions", json={**BIG, "batch_size": 5000})
            if made.status_code == 422:   # refused: the largest batch the limits allow instead
                message = made.json()["detail"][0]["msg"]
                print(f"batch 5,000 refused: {message}")
                batch = int(re.search(r"batch of at most (\d+)", message)[1])
                made = await client.post(f"{base}/api/sessions", json={**BIG, "batch_size": batch})
            assert made.status_code == 201, made.text
            big = made.json()
        control = {"X-Control-Token": big["token"]}
        url = f"{base}/api/sessions/{big['id']}"
        print(f"cpu stall: {pressure()}   server RSS at start {family_rss(server.pid):.0f} MiB")
        print(f"{'request':<44} {'code':>4} {'answered':>12} {'took':>10}")

        most = None
        for steps in (1, 100, 10_000):
            status = await measured(base, f"POST step {{steps: {steps}}} (big session)",
                                    lambda c, n=steps: _post(c, url, n, control))
            if status == 422:
                async with httpx.AsyncClient(timeout=60) as client:
                    refused = await client.post(f"{url}/step", json={"steps": steps},
                                                headers=control)
                most = int(re.search(r"at most (\d+) steps", refused.text)[1])
        if most:
            await measured(base, f"POST step {{steps: {most}}} (the most allowed)",
                           lambda c: _post(c, url, most, control))
        await measured(base, "GET state (big session)", lambda c: _get(c, url))
        await measured(base, "GET export (big session)", lambda c: _get(c, f"{url}/export"))
        await measured(base, "GET history.csv (big session)",
                       lambda c: _get(c, f"{url}/history.csv"))

        async def join(client):
            ws_url = f"ws://{host}/api/sessions/{big['id']}/stream"
            async with websockets.connect(ws_url, compression=None, max_size=None) as ws:
                first = await ws.recv(decode=False)
            return 101, len(first)

        await measured(base, "WebSocket join (big session: its state)", join)

        # Row 3: followers of the big session that never read, while it plays.
        before = family_rss(server.pid)
        async with httpx.AsyncClient(timeout=60) as client:
            await client.post(f"{url}/play", json={}, headers=control)
        sockets = [
            await websockets.connect(f"ws://{host}/api/sessions/{big['id']}/stream",
                                     compression=None, max_size=None, max_queue=1)
            for _ in range(8)
        ]
        await asyncio.sleep(10)
        after = family_rss(server.pid)
        print(f"8 followers that never read, 10 s of play: server RSS {before:.0f} → "
              f"{after:.0f} MiB (+{(after - before) / 8:.1f} MiB a follower)")
        for ws in sockets:
            ws.transport.abort()
        print(f"cpu stall: {pressure()}")
    finally:
        server.terminate()
        server.wait()


async def _post(client, url, steps, control):
    response = await client.post(f"{url}/step", json={"steps": steps}, headers=control)
    return response.status_code, len(response.content)


async def _get(client, url):
    response = await client.get(url)
    return response.status_code, len(response.content)


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    asyncio.run(main())

"""Issue 20's row 1 against a real uvicorn (loopback): stateless work beside a class.

While 4 maximal /api/step requests run (215 rows × 4,037 steps through a 16 × 10 network with
adam: the most app/cost.py and the default settings allow; each restarted as it ends), another
session is read (GET) every 50 ms and a playing session is followed by 3 WebSocket followers.
Prints the GET's p50/p95/max and the followers' frames a second; then the same for 4 maximal
/api/gradcheck requests (188 rows: its own bound); then, for 4 maximal steps whose clients
leave after 1 s, the CPU the server's processes spend in the next 2 s (work nobody will read)
and how soon a small /api/step is answered after. /proc/pressure/cpu beside each figure;
asserts nothing. BACKPROP_* variables reach the server.
Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/stateless.py
(another checkout's server: PYTHONPATH=<checkout> from that checkout, with this file copied.)
"""

import asyncio
import json
import os
import statistics
import time

import httpx
import numpy as np
import websockets
from machine import family, pressure, stat  # bench/machine.py
from stream import served  # bench/stream.py

WIDTH, LAYERS = 16, 10          # max_neurons wide, max_hidden_layers + 2 deep
STEP_ROWS, STEPS = 215, 4037    # max_record_values // 464 values a row; max_request_work
GRADCHECK_ROWS = 188            # max_request_work // (2 × 2,304²): a central difference a weight
WINDOW = 10.0                   # seconds measured while the maximal requests run
FOLLOWERS = 3
RUNNING = 4


def maximal(rows: int, steps: int | None) -> bytes:
    rng = np.random.default_rng(0)
    body = {
        "network": {"layers": [WIDTH] * LAYERS, "activations": ["tanh"] * (LAYERS - 1)},
        "loss": "mse",
        "inputs": rng.uniform(-1, 1, (rows, WIDTH)).round(3).tolist(),
        "targets": rng.uniform(-1, 1, (rows, WIDTH)).round(3).tolist(),
    }
    if steps is not None:
        body |= {"optimizer": {"name": "adam", "learning_rate": 0.001}, "steps": steps}
    return json.dumps(body).encode()


async def keep_running(base: str, path: str, body: bytes, stop: asyncio.Event, seen: list):
    """One client posting `body` again and again until `stop`: the statuses it got."""
    async with httpx.AsyncClient(timeout=600) as client:
        while not stop.is_set():
            answer = await client.post(f"{base}{path}", content=body,
                                       headers={"content-type": "application/json"})
            seen.append(answer.status_code)


async def read_again_and_again(base: str, session: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(timeout=600) as client:
        while not stop.is_set():
            started = time.perf_counter()
            await client.get(f"{base}/api/sessions/{session}")
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return latencies


async def count_frames(host: str, session: str, stop: asyncio.Event) -> int:
    frames = 0
    async with websockets.connect(f"ws://{host}/api/sessions/{session}/stream",
                                  compression=None, max_size=None) as ws:
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            frames += isinstance(message, str) and json.loads(message).get("type") == "frame"
    return frames


async def beside(base: str, host: str, name: str, path: str, body: bytes) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        read = (await client.post(f"{base}/api/sessions", json={})).json()
        played = (await client.post(f"{base}/api/sessions", json={})).json()
        await client.post(f"{base}/api/sessions/{played['id']}/play", json={},
                          headers={"X-Control-Token": played["token"]})
    stop, heavy_stop, seen = asyncio.Event(), asyncio.Event(), []
    heavy = [asyncio.create_task(keep_running(base, path, body, heavy_stop, seen))
             for _ in range(RUNNING if body else 0)]
    await asyncio.sleep(1.0 if body else 0.0)   # the requests under way
    followers = [asyncio.create_task(count_frames(host, played["id"], stop))
                 for _ in range(FOLLOWERS)]
    reads = asyncio.create_task(read_again_and_again(base, read["id"], stop))
    await asyncio.sleep(WINDOW)
    stop.set()
    latencies = await reads
    frames = await asyncio.gather(*followers)
    heavy_stop.set()
    await asyncio.gather(*heavy)
    async with httpx.AsyncClient(timeout=60) as client:   # out of the next figures' way
        await client.post(f"{base}/api/sessions/{played['id']}/pause", json={},
                          headers={"X-Control-Token": played["token"]})
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    rates = ", ".join(f"{n / WINDOW:.1f}" for n in frames)
    print(f"  {name:<40} GET p50 {statistics.median(ms):6.0f} ms  p95 {p95:6.0f} ms  "
          f"max {ms[-1]:6.0f} ms  ({len(ms)} GETs)   followers' frames/s {rates}   "
          f"answers {sorted(set(seen))} x{len(seen)}   cpu stall: {pressure()}")


def cpu_seconds(root: int) -> float:
    """CPU seconds the server and its workers have used so far."""
    return sum(found[1] for pid in family(root) if (found := stat(pid)))


async def after_abandoned(base: str, server: int, body: bytes) -> None:
    """4 maximal steps sent, their clients gone after 1 s: the CPU the server's processes
    spend in the next 2 s (on work nobody will read), then how soon a small step is answered."""
    async def abandoned():
        async with httpx.AsyncClient(timeout=600) as client:
            await client.post(f"{base}/api/step", content=body,
                              headers={"content-type": "application/json"})
    tasks = [asyncio.create_task(abandoned()) for _ in range(RUNNING)]
    await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()   # the connection closes: the client has left
    await asyncio.gather(*tasks, return_exceptions=True)
    left, before = time.perf_counter(), cpu_seconds(server)
    await asyncio.sleep(2.0)
    spent = cpu_seconds(server) - before
    print(f"  4 maximal /api/step abandoned after 1 s: the server's processes used "
          f"{spent:.2f} CPU s in the {time.perf_counter() - left:.1f} s after   "
          f"cpu stall: {pressure()}")
    async with httpx.AsyncClient(timeout=600) as client:
        started = time.perf_counter()
        answer = await client.post(f"{base}/api/step", content=maximal(8, 10),
                                   headers={"content-type": "application/json"})
        took = time.perf_counter() - started
    print(f"  then a small /api/step: {answer.status_code} in {took * 1000:.0f} ms   "
          f"cpu stall: {pressure()}")


async def main() -> None:
    with served() as (server, host):
        base = f"http://{host}"
        print(f"cpu stall: {pressure()}")
        await beside(base, host, "nothing else running", "/api/step", b"")
        await beside(base, host, f"{RUNNING} maximal /api/step running", "/api/step",
                     maximal(STEP_ROWS, STEPS))
        await beside(base, host, f"{RUNNING} maximal /api/gradcheck running", "/api/gradcheck",
                     maximal(GRADCHECK_ROWS, None))
        await after_abandoned(base, server.pid, maximal(STEP_ROWS, STEPS))


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    asyncio.run(main())

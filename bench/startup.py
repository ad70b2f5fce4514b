"""Start-up: seconds from launching `python -m app` (what `make run` runs) to the first frame
of a new session at play, for a follower on its WebSocket. Prints figures; asserts nothing.

The first figure after `make` is what a user sees: numba's cache was filled at install; with
--cold the cache of the compiled loop is deleted first (what an install without it would pay).
Run: .venv/bin/python bench/startup.py [--repeats 3] [--cold]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from machine import pressure  # bench/machine.py, beside this file
from stream import free_port  # bench/stream.py

ROOT = Path(__file__).resolve().parents[1]


async def first_frame(base: str) -> float:
    """Create a session, follow it, play it: seconds until a frame of a played step comes."""
    async with httpx.AsyncClient(base_url=f"http://{base}", timeout=60) as http:
        made = (await http.post("/api/sessions", json={})).json()
        control = {"X-Control-Token": made["token"]}
        url = f"ws://{base}/api/sessions/{made['id']}/stream"
        async with websockets.connect(url, compression=None, max_size=None) as ws:
            await http.post(f"/api/sessions/{made['id']}/play", json={"speed": None},
                            headers=control)
            while True:
                text = await ws.recv()
                if text.startswith('{"type":"frame"') and '"status":"playing"' in text:
                    return time.perf_counter()


def once(cold: bool) -> tuple[float, float]:
    """(seconds until the server answered, seconds until the first played frame)."""
    if cold:
        for cached in (ROOT / "engine" / "__pycache__").glob("compiled*.nb*"):
            cached.unlink()
    port = free_port()
    env = {**os.environ, "BACKPROP_DATA_DIR": tempfile.mkdtemp(prefix="bench-startup-")}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT,
                              env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.02)
        answered = time.perf_counter()
        framed = asyncio.run(first_frame(f"127.0.0.1:{port}"))
        return answered - started, framed - started
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="delete numba's cache each time")
    args = parser.parse_args()
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# /proc/pressure/cpu some at start: {pressure()}")
    runs = [once(args.cold) for _ in range(args.repeats)]
    answered, framed = zip(*runs, strict=True)
    print(f"server answers after   median {statistics.median(answered):.2f} s  "
          f"(runs {', '.join(f'{x:.2f}' for x in answered)})")
    print(f"first played frame at  median {statistics.median(framed):.2f} s  "
          f"(runs {', '.join(f'{x:.2f}' for x in framed)})   (target: a few seconds)")


if __name__ == "__main__":
    main()

"""Classroom load: one teacher session playing, 200 followers on a real uvicorn (loopback).

Prints frames a second each follower receives (min / median), the server's memory over a
minute, and the time from a teacher's step to the last follower's frame (median, p95).
Run: .venv/bin/python bench/follow.py [--followers 200] [--seconds 60]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import websockets
from stream import served  # bench/stream.py, beside this file


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Follower:
    def __init__(self) -> None:
        self.frames = 0
        self.step = -1
        self.seen: dict[int, float] = {}  # step -> when its first frame arrived

    async def follow(self, url: str, stop: asyncio.Event) -> None:
        async with websockets.connect(url, compression=None, max_size=None) as ws:
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                if text.startswith('{"type":"frame"'):
                    self.frames += 1
                    step = json.loads(text)["step"]
                    self.seen.setdefault(step, time.perf_counter())
                    self.step = step


async def measure(base: str, pid: int, followers: int, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        created = (await http.post("/api/sessions", json={})).json()
        control = {"X-Control-Token": created["token"]}
        url = base.replace("http", "ws") + f"/api/sessions/{created['id']}/stream"
        crowd = [Follower() for _ in range(followers)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(f.follow(url, stop)) for f in crowd]
        await asyncio.sleep(2.0)
        print(f"{followers} followers connected; server RSS {rss_mib(pid):.1f} MiB")

        await http.post(f"/api/sessions/{created['id']}/play", json={}, headers=control)
        start_frames = [f.frames for f in crowd]
        t0, memory = time.perf_counter(), []
        while time.perf_counter() - t0 < seconds:
            await asyncio.sleep(seconds / 12)
            memory.append((time.perf_counter() - t0, rss_mib(pid)))
        elapsed = time.perf_counter() - t0
        rates = sorted((f.frames - s) / elapsed for f, s in zip(crowd, start_frames, strict=True))
        state = (await http.post(f"/api/sessions/{created['id']}/pause", headers=control)).json()
        print(
            f"playing {elapsed:.0f} s: {state['epoch'] / elapsed:.0f} epochs/s; frames/s per "
            f"follower min {rates[0]:.1f}, median {statistics.median(rates):.1f}, "
            f"max {rates[-1]:.1f}   (target: every follower >= 20)"
        )
        print(
            "server RSS MiB over the run: "
            + ", ".join(f"{t:.0f}s {m:.1f}" for t, m in memory)
            + f"   (growth {memory[-1][1] - memory[0][1]:+.1f} MiB; target: flat)"
        )

        await asyncio.sleep(1.0)
        latencies = []
        for _ in range(20):
            sent = time.perf_counter()
            step = (
                await http.post(
                    f"/api/sessions/{created['id']}/step", json={"steps": 1}, headers=control
                )
            ).json()["step"]
            while any(step not in f.seen for f in crowd):
                await asyncio.sleep(0.002)
                if time.perf_counter() - sent > 5:
                    break
            latencies.append(max(f.seen.get(step, float("inf")) for f in crowd) - sent)
            await asyncio.sleep(0.1)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            "teacher step -> last follower's frame: "
            f"median {statistics.median(latencies) * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms"
            "   (target p95 <= 250 ms)"
        )
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(
        f"command: python bench/follow.py --followers {args.followers} --seconds {args.seconds:g}"
    )
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; server and followers are "
        "separate processes on loopback"
    )
    with served() as (process, host):   # bench/stream.py's: uvicorn on port 0
        asyncio.run(measure(f"http://{host}", process.pid, args.followers, args.seconds))


if __name__ == "__main__":
    main()

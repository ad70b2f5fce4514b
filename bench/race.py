"""Race speed: frames/s a race's follower receives and steps/s each lane takes, beside one
session alone on the same server; and whether every race frame held its lanes at one step.

A real uvicorn on loopback in a subprocess (bench/stream.py's); one follower a case. Prints the
median over --repeats runs with the CPU stall beside it; asserts nothing.
Run: .venv/bin/python bench/race.py [--seconds 4] [--repeats 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import pressure  # bench/machine.py  # noqa: E402
from stream import TFP, served  # bench/stream.py  # noqa: E402


async def follow(url: str, seconds: float, start_play) -> dict:
    """Count frames and steps for `seconds` after play; check the race frames' lockstep."""
    frames, split, first, last = 0, 0, None, None
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        await asyncio.sleep(0.3)   # the joining messages
        await start_play()
        await asyncio.sleep(0.5)   # warm-up
        while True:   # drop what queued during the warm-up
            try:
                await asyncio.wait_for(ws.recv(), 0.001)
            except TimeoutError:
                break
        end = time.perf_counter() + seconds
        while (left := end - time.perf_counter()) > 0:
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            if '"type":"frame"' not in text[:40] and '"type":"race_frame"' not in text[:40]:
                continue
            message = json.loads(text)
            lanes = message["lanes"] if message["type"] == "race_frame" else [message]
            steps = {lane["step"] for lane in lanes if lane}
            split += len(steps) > 1
            frames += 1
            now = (time.perf_counter(), max(steps))
            first, last = first or now, now
    rate = (last[1] - first[1]) / (last[0] - first[0]) if last and last[0] > first[0] else 0.0
    return {"frames_s": frames / seconds, "steps_s": rate, "split": split}


async def case(host: str, lanes: int, seconds: float) -> dict:
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as http:
        if lanes == 1:
            made = (await http.post("/api/sessions", json=TFP)).json()
            base, url = f"/api/sessions/{made['id']}", f"ws://{host}/api/sessions/{made['id']}/stream"
        else:
            rates = [0.003, 0.03, 0.3, 3.0][:lanes]
            made = (await http.post("/api/races", json={"config": TFP,
                                                         "vary": {"learning_rate": rates}})).json()
            base, url = f"/api/races/{made['id']}", f"ws://{host}/api/races/{made['id']}/stream"
        control = {"X-Control-Token": made["token"]}

        async def play():
            await http.post(f"{base}/play", json={"speed": None}, headers=control)

        result = await follow(url, seconds, play)
        await http.delete(base, headers=control)
    return result


async def bench(host: str, seconds: float, repeats: int) -> None:
    row = "{:<30} {:>10} {:>14} {:>16}   {}"
    print(row.format("case (circle 2-4-2-1 tanh b10)", "frames/s", "steps/s a lane",
                     "split frames", "cpu stall"))
    for lanes in (1, 2, 3, 4):
        runs = [await case(host, lanes, seconds) for _ in range(repeats)]
        label = "one session alone" if lanes == 1 else f"race of {lanes} lanes"
        print(row.format(
            label,
            f"{statistics.median(r['frames_s'] for r in runs):.1f}",
            f"{statistics.median(r['steps_s'] for r in runs):.0f}",
            f"{sum(r['split'] for r in runs)}",
            pressure(),
        ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}   (median of {args.repeats})")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs, server: uvicorn subprocess")
    with served() as (_, host):
        asyncio.run(bench(host, args.seconds, args.repeats))


if __name__ == "__main__":
    main()

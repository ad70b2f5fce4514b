"""Answers that amplify (issue 9, row 2): a 21 MB own-data body of 10⁶ points [1e308, 1e308],
a 60 MB text body and 4 MB of 5·10⁵ valid points (under the body limit) against a real
`python -m app` on a free loopback port. For each: the status, bytes answered, seconds until
the answer, the slowest answer a small session got meanwhile (how long others were frozen)
and the server's memory (workers counted).
Prints figures; asserts nothing. BACKPROP_* variables reach the server.
Run: .venv/bin/python bench/amplify.py
"""

import asyncio
import json
import time
from pathlib import Path

import httpx
from machine import family_rss  # bench/machine.py
from stream import start_app  # bench/stream.py

ROOT = Path(__file__).resolve().parents[1]


async def probe(client: httpx.AsyncClient, base: str, stop: asyncio.Event) -> float:
    """Read a small session ten times a second; the slowest answer."""
    made = (await client.post(f"{base}/api/sessions", json={})).json()
    slowest = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        await client.get(f"{base}/api/sessions/{made['id']}")
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(0.1)
    return slowest


async def hostile(base: str, pid: int, name: str, body: bytes, content_type: str) -> None:
    rss_before = family_rss(pid)
    peak = rss_before
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=600.0) as client:
        prober = asyncio.create_task(probe(client, base, stop))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        request = asyncio.create_task(client.post(
            f"{base}/api/sessions", content=body, headers={"content-type": content_type}))
        while not request.done():
            peak = max(peak, family_rss(pid))
            await asyncio.sleep(0.05)
        response = await request
        seconds = time.perf_counter() - started
        await asyncio.sleep(0.3)
        stop.set()
        slowest = await prober
    print(f"{name:<28} {len(body) / 1e6:6.1f} MB sent → {response.status_code}, "
          f"{len(response.content):>11,} bytes answered in {seconds:6.2f} s; "
          f"others waited ≤ {slowest:5.2f} s; RSS {rss_before:.0f} → peak {peak:.0f} MiB")
    print(f"{'':<28} answer begins {response.content[:160]!r}")


def main() -> None:
    # as json.dumps writes it: 21 MB
    own = json.dumps({"dataset": "custom",
                      "data": {"inputs": [[1e308, 1e308]] * 10**6, "labels": [1] * 10**6}})
    text = b"a" * (60 * 10**6)
    # just under the default body limit (4 MiB): 5·10⁵ valid points, refused by their count
    valid = json.dumps({"dataset": "custom",
                        "data": {"inputs": [[0, 0]] * 500_000, "labels": [1] * 500_000}},
                       separators=(",", ":"))
    process, base = start_app(ROOT, "amplify")
    try:
        asyncio.run(hostile(base, process.pid, "own data 10^6 points", own.encode(),
                            "application/json"))
        asyncio.run(hostile(base, process.pid, "60 MB text", text, "text/plain"))
        asyncio.run(hostile(base, process.pid, "4 MB of 5·10^5 valid points", valid.encode(),
                            "application/json"))
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()

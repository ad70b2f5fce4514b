"""Two instances behind nginx on this machine, Redis between them, one session playing and
its followers split over both instances (nginx's round-robin). Prints, beside the targets:
frames/s per follower, the latency from the teacher's frame to the last follower's (median,
p95), and the messages per second through Redis; the CPU stall beside them. Asserts nothing.

The teacher's view is a follower connected straight to the owning instance: its arrival time
of each frame is the reference each follower's arrival of the same frame is measured from.
Followers are split over `--clients` processes (one Python process cannot read 20,000
messages a second); they only look at the first bytes of each message.

Run: .venv/bin/python bench/cluster.py [--followers 1000] [--seconds 10] [--clients 2]
Needs redis-server and nginx (`make cluster-servers`).
"""

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import httpx
import websockets
from machine import pressure  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
from cluster_servers import Cluster, missing  # noqa: E402

CONFIG = {"dataset": "circle", "hidden": [4, 2], "activation": "tanh", "batch_size": 10}
FRAME = '{"type":"frame","seq":'
CONNECTS_AT_ONCE = 50
TARGET_FPS, TARGET_P95 = 20.0, 0.250


def seq_of(text: str) -> int | None:
    if not text.startswith(FRAME):
        return None
    return int(text[len(FRAME): text.index(",", len(FRAME))])


async def follow(url: str, start: float, stop: float, arrivals: dict, ready) -> int:
    """One follower: frames counted between start and stop, arrival time of each seq."""
    async with ready:
        socket = await websockets.connect(url, max_size=None, open_timeout=120)
    frames = 0
    try:
        while True:
            left = stop - time.monotonic()
            if left <= 0:
                break
            try:
                text = await asyncio.wait_for(socket.recv(), left)
            except TimeoutError:
                break
            seq = seq_of(text)
            now = time.monotonic()
            if seq is not None and now >= start:
                frames += 1
                arrivals[seq] = now
    finally:
        await socket.close()
    return frames


async def client(urls: list[str], start: float, stop: float) -> list[tuple[int, dict]]:
    ready = asyncio.Semaphore(CONNECTS_AT_ONCE)
    arrivals = [{} for _ in urls]
    counts = await asyncio.gather(*(follow(u, start, stop, a, ready)
                                    for u, a in zip(urls, arrivals, strict=True)))
    return list(zip(counts, arrivals, strict=True))


def run_client(args) -> list[tuple[int, dict]]:
    urls, start, stop = args
    return asyncio.run(client(urls, start, stop))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def publishes(cluster: Cluster) -> int:
    stats = cluster.redis.client().info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


def measure(cluster: Cluster, followers: int, seconds: float, clients: int) -> None:
    made = httpx.post(f"{cluster.nginx.base}/api/sessions", json=CONFIG, timeout=60).json()
    owner = cluster.owner(made["id"])
    path = f"/api/sessions/{made['id']}/stream"
    through = cluster.nginx.base.replace("http://", "ws://") + path
    teacher = owner.base.replace("http://", "ws://") + path
    httpx.post(f"{cluster.nginx.base}/api/sessions/{made['id']}/play", json={},
               headers={"X-Control-Token": made["token"]}, timeout=60)
    connect_seconds = 5 + followers / 100      # connecting them all, before measuring
    start = time.monotonic() + connect_seconds
    stop = start + seconds
    urls = [teacher] + [through] * followers
    shares = [urls[i::clients] for i in range(clients)]
    published = None
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        pending = pool.map_async(run_client, [(share, start, stop) for share in shares])
        time.sleep(max(0.0, start - time.monotonic()))
        published, stall_start = publishes(cluster), pressure()
        pending.wait(seconds + connect_seconds + 120)
        results = [item for part in pending.get() for item in part]
    per_second = (publishes(cluster) - published) / seconds
    # teacher first in shares[0]: index 0 of the flattened result
    (_, reference), others = results[0], results[1:]
    rates = [count / seconds for count, _ in others]
    delays, last = [], {}
    for _, arrivals in others:
        for seq, at in arrivals.items():
            if seq in reference:
                delay = at - reference[seq]
                delays.append(delay)
                last[seq] = max(last.get(seq, delay), delay)
    per_seq = list(last.values())
    shown = sum(r >= TARGET_FPS for r in rates)
    print(f"followers {followers} over {len(cluster.instances)} instances, {seconds:.0f} s, "
          f"{clients} client process(es); teacher {len(reference) / seconds:.1f} frames/s")
    print(f"  frames/s a follower: min {min(rates):.1f}, p5 {percentile(rates, 0.05):.1f}, "
          f"median {statistics.median(rates):.1f}; {shown}/{followers} at ≥ {TARGET_FPS:.0f} "
          f"(target: all)")
    print(f"  teacher → last follower: median {statistics.median(per_seq) * 1000:.0f} ms, "
          f"p95 {percentile(per_seq, 0.95) * 1000:.0f} ms (target p95 ≤ "
          f"{TARGET_P95 * 1000:.0f} ms); any follower p95 {percentile(delays, 0.95) * 1000:.0f} ms")
    print(f"  Redis: {per_second:.0f} messages/s published")
    print(f"  CPU stall {stall_start} → {pressure()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    if missing():
        raise SystemExit(f"needs {' and '.join(missing())}: run `make cluster-servers`")
    cluster = Cluster(2, max_followers=max(args.followers) + 10).start()
    try:
        for count in args.followers:
            measure(cluster, count, args.seconds, args.clients)
    finally:
        cluster.stop()
        cluster.cleanup()


if __name__ == "__main__":
    main()

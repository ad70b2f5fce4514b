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
from machine import family, machine_busy, pressure, stat  # bench/machine.py

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


async def join(url: str, ready: asyncio.Semaphore):
    """A follower connected, its first message (the state) received."""
    async with ready:
        socket = await websockets.connect(url, max_size=None, open_timeout=300)
        await socket.recv()
    return socket


async def read(socket, start: float, stop: float, arrivals: dict) -> int:
    """Frames received between start and stop; the arrival time of each seq."""
    frames = 0
    while (left := stop - time.monotonic()) > 0:
        try:
            text = await asyncio.wait_for(socket.recv(), left)
        except TimeoutError:
            break
        except websockets.ConnectionClosed as closed:
            arrivals["closed"] = f"{closed.rcvd.code if closed.rcvd else 1006}"
            return frames
        seq, now = seq_of(text), time.monotonic()
        if seq is not None and now >= start:
            frames += 1
            arrivals[seq] = now
            arrivals["bytes"] = arrivals.get("bytes", 0) + len(text)
    await socket.close()
    return frames


async def client(urls: list[str], barrier, seconds: float) -> list[tuple[int, dict]]:
    ready = asyncio.Semaphore(CONNECTS_AT_ONCE)
    sockets = await asyncio.gather(*(join(u, ready) for u in urls))
    # Every client's followers have joined: the window starts a second later (a backlog
    # that queued while the others joined is read first, outside it).
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    start = time.monotonic() + 1.0
    arrivals = [{} for _ in urls]
    counts = await asyncio.gather(*(read(s, start, start + seconds, a)
                                    for s, a in zip(sockets, arrivals, strict=True)))
    return list(zip(counts, arrivals, strict=True))


def run_client(index: int, urls: list[str], barrier, seconds: float, results) -> None:
    results.put((index, asyncio.run(client(urls, barrier, seconds))))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def publishes(cluster: Cluster) -> int:
    stats = cluster.redis.client().info("commandstats")
    return int(stats.get("cmdstat_publish", {}).get("calls", 0))


def cpu(cluster: Cluster, clients: list[int]) -> dict[str, float]:
    """CPU seconds so far: each instance's event loop and its workers, nginx, Redis, the
    followers' client processes."""
    def seconds(pids):
        return sum(found[1] for pid in pids if (found := stat(pid)))

    used = {}
    for instance in cluster.instances:
        used[f"{instance.name} loop"] = seconds([instance.pid])
        used[f"{instance.name} workers"] = seconds(family(instance.pid)) - used[
            f"{instance.name} loop"]
    used["nginx"] = seconds(family(cluster.nginx.process.pid))
    used["redis"] = seconds([cluster.redis.process.pid])
    used["followers' clients"] = seconds(clients)
    return used


def measure(cluster: Cluster, followers: int, seconds: float, clients: int,
            speed: float | None) -> None:
    made = httpx.post(f"{cluster.nginx.base}/api/sessions", json=CONFIG, timeout=60).json()
    owner = cluster.owner(made["id"])
    path = f"/api/sessions/{made['id']}/stream"
    through = cluster.nginx.base.replace("http://", "ws://") + path
    teacher = owner.base.replace("http://", "ws://") + path
    httpx.post(f"{cluster.nginx.base}/api/sessions/{made['id']}/play", json={"speed": speed},
               headers={"X-Control-Token": made["token"]}, timeout=60)
    urls = [teacher] + [through] * followers
    shares = [urls[i::clients] for i in range(clients)]
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(clients + 1), context.Queue()
    processes = [context.Process(target=run_client, args=(i, share, barrier, seconds, answers))
                 for i, share in enumerate(shares)]
    for process in processes:
        process.start()
    barrier.wait(timeout=600)   # every follower has joined
    time.sleep(1.0)
    published, stall_start = publishes(cluster), pressure()
    pids = [process.pid for process in processes]
    cpu_start, busy_start = cpu(cluster, pids), machine_busy()
    time.sleep(seconds)
    cpu_stop, busy_stop = cpu(cluster, pids), machine_busy()
    per_second = (publishes(cluster) - published) / seconds
    parts = dict(answers.get(timeout=600) for _ in processes)
    for process in processes:
        process.join()
    results = [item for i in range(clients) for item in parts[i]]
    # teacher first in shares[0]: index 0 of the flattened result
    (_, reference), others = results[0], results[1:]
    size = reference.pop("bytes", 0) / max(1, len(reference))
    closed = [a.pop("closed") for _, a in results if "closed" in a]
    for _, arrivals in others:
        arrivals.pop("bytes", None)
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
          f"{clients} client process(es), speed {speed or 'as fast as it goes'}; "
          f"teacher {len(reference) / seconds:.1f} frames/s")
    print(f"  frames/s a follower: min {min(rates):.1f}, p5 {percentile(rates, 0.05):.1f}, "
          f"median {statistics.median(rates):.1f}; {shown}/{followers} at ≥ {TARGET_FPS:.0f} "
          f"(target: all)")
    print(f"  teacher → last follower: median {statistics.median(per_seq) * 1000:.0f} ms, "
          f"p95 {percentile(per_seq, 0.95) * 1000:.0f} ms (target p95 ≤ "
          f"{TARGET_P95 * 1000:.0f} ms); any follower p95 {percentile(delays, 0.95) * 1000:.0f} ms")
    if closed:
        print(f"  {len(closed)} follower(s) closed during the window, codes {sorted(set(closed))}")
    print(f"  Redis: {per_second:.0f} messages/s published; a frame is {size / 1000:.1f} kB")
    used = {name: (cpu_stop[name] - cpu_start[name]) / seconds for name in cpu_start}
    used["other work on the machine"] = (
        (busy_stop - busy_start) / seconds - sum(used.values()))
    print("  CPU (cores): " + ", ".join(f"{name} {share:.2f}" for name, share in used.items()))
    delivered = sum(rates)
    loops = sum(share for name, share in used.items() if name.endswith("loop"))
    print(f"  a follower-frame costs the instances' event loops {loops / delivered * 1e6:.0f} µs, "
          f"nginx {used['nginx'] / delivered * 1e6:.0f} µs ({delivered:.0f} delivered a second)")
    print(f"  CPU stall {stall_start} → {pressure()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--speed", type=float, default=None,
                        help="the session's steps a second [as fast as it goes: a worker's core]")
    args = parser.parse_args()
    if missing():
        raise SystemExit(f"needs {' and '.join(missing())}: run `make cluster-servers`")
    cluster = Cluster(2, max_followers=max(args.followers) + 10).start()
    try:
        for count in args.followers:
            measure(cluster, count, args.seconds, args.clients, args.speed)
    finally:
        cluster.stop()
        cluster.cleanup()


if __name__ == "__main__":
    main()

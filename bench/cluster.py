"""Two instances behind nginx on this machine, Redis between them, one session playing and
its followers split over both instances (nginx's round-robin). Prints, beside the targets:
frames/s per follower, the latency from the teacher's frame to the last follower's (median,
p95), and the messages per second through Redis; the CPU stall beside them. Asserts nothing.

The teacher's view is a follower connected straight to the owning instance: its arrival time
of each frame is the reference each follower's arrival of the same frame is measured from.
Followers are split over `--clients` processes, on the same 2 cores as the servers, so
what they cost is CPU the servers do not get. They used to be `websockets` clients (~80 µs
of client CPU a follower-frame: more than an instance's event loop and nginx together, so
the figure measured the clients); now each is a raw asyncio connection that does the
handshake itself, reads each frame's header and the first bytes of its payload (the seq)
and skips the rest without copying it (`Follower`), on uvloop. The teacher's view and the
latency method are unchanged; the clients' CPU is printed beside the servers'.

Run: .venv/bin/python bench/cluster.py [--followers 1000] [--seconds 10] [--clients 2]
Needs redis-server and nginx (`make cluster-servers`).
"""

import argparse
import asyncio
import base64
import math
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvloop
from machine import family, machine_busy, pressure, stat  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
from cluster_servers import Cluster, missing  # noqa: E402

CONFIG = {"dataset": "circle", "hidden": [4, 2], "activation": "tanh", "batch_size": 10}
FRAME = b'{"type":"frame","seq":'
PEEK = 125                  # bytes of a payload looked at: the seq, or a control frame's all
CLOSE = bytes((0x88, 0x82)) + bytes(4) + (1000).to_bytes(2)   # masked with a zero key
CONNECTS_AT_ONCE = 50
TARGET_FPS, TARGET_P95 = 20.0, 0.250


class Follower(asyncio.Protocol):
    """One follower on a raw connection: it does the WebSocket handshake itself, then reads
    only each frame's header and the first bytes of its payload (where the seq is) and skips
    the rest without copying it. A chunk's frames share one clock reading: they arrived
    together. The arrival time of a message is when its last byte came, as before."""

    def __init__(self, request: bytes):
        self.request, self.buffer, self.skip = request, bytearray(), 0
        self.handshaken, self.pending, self.first = False, None, asyncio.Event()
        self.start, self.stop, self.frames, self.arrivals = math.inf, 0.0, 0, {}
        self.length = self.bytes = 0
        self.gone = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        if not self.gone.done():            # no close frame came first
            self.arrivals.setdefault("closed", "1006")
            self.gone.set_result(None)
        self.first.set()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.skip:                       # the rest of a frame already looked at
            if len(data) < self.skip:
                self.skip -= len(data)
                return
            data, self.skip = data[self.skip:], 0
            self.finished(now)
        buffer = self.buffer
        buffer += data
        if not self.handshaken:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.arrivals["closed"] = bytes(buffer[:12]).decode()
                self.gone.set_result(None)
                self.transport.abort()
                return
            del buffer[:end + 4]
            self.handshaken = True
        at, size = 0, len(buffer)
        while size - at >= 2:
            length, head = buffer[at + 1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(buffer[at + 2:at + 4]), 4
            elif length == 127:
                length, head = int.from_bytes(buffer[at + 2:at + 10]), 10
            peek = min(length, PEEK)
            if size - at < head + peek:
                break
            self.header(buffer[at] & 0x0F, bytes(buffer[at + head:at + head + peek]), length)
            at += head + length
            if at > size:                   # the payload's rest comes in later chunks
                self.skip, at = at - size, size
                break
            self.finished(now)
        del buffer[:at]

    def header(self, opcode: int, payload: bytes, length: int) -> None:
        if opcode == 0x1 or opcode == 0x2:
            self.pending, self.length = payload, length
        elif opcode == 0x9:                 # ping: pong it (masked, a zero key: as sent)
            self.transport.write(bytes((0x8A, 0x80 | len(payload))) + bytes(4) + payload)
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
            self.arrivals["closed"] = f"{code}"
            if not self.gone.done():
                self.gone.set_result(None)
            self.transport.close()

    def finished(self, now: float) -> None:
        payload, self.pending = self.pending, None
        if payload is None:
            return
        self.first.set()
        if payload.startswith(FRAME) and self.start <= now < self.stop:
            self.frames += 1
            self.bytes += self.length
            self.arrivals[int(payload[len(FRAME):payload.index(b",", len(FRAME))])] = now

    def close(self) -> None:
        if not self.gone.done():            # closing it ourselves: not a close to report
            self.gone.set_result(None)
        if not self.transport.is_closing():
            self.transport.write(CLOSE)
            self.transport.close()


async def join(url: str, ready: asyncio.Semaphore) -> Follower:
    """A follower connected, its first message (the state) received."""
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    async with ready:
        _, follower = await asyncio.get_running_loop().create_connection(
            lambda: Follower(request), parts.hostname, parts.port)
        await asyncio.wait_for(follower.first.wait(), 300)
    return follower


async def client(urls: list[str], barrier, seconds: float) -> list[tuple[int, dict]]:
    ready = asyncio.Semaphore(CONNECTS_AT_ONCE)
    followers = await asyncio.gather(*(join(u, ready) for u in urls))
    # Every client's followers have joined: the window starts a second later (a backlog
    # that queued while the others joined is read first, outside it).
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    start = time.monotonic() + 1.0
    for follower in followers:
        follower.start, follower.stop = start, start + seconds
    await asyncio.sleep(start + seconds - time.monotonic())
    for follower in followers:
        follower.close()
    await asyncio.sleep(0.5)   # the closes go out before the loop ends
    return [(f.frames, {**f.arrivals, "bytes": f.bytes}) for f in followers]


def run_client(index: int, urls: list[str], barrier, seconds: float, results) -> None:
    # uvloop (uvicorn's own loop, installed with it): the clients' CPU is the servers' loss
    results.put((index, uvloop.run(client(urls, barrier, seconds))))


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
    # gone before the next measurement, which would otherwise share the cores with it
    httpx.delete(f"{cluster.nginx.base}/api/sessions/{made['id']}",
                 headers={"X-Control-Token": made["token"]}, timeout=60)
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
    if starved := sum(r == 0 for r in rates):
        print(f"  {starved} follower(s) got no frame in the window")
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
    # Every follower here comes from one address, nginx's: the per-address bound is lifted
    most = max(args.followers) + 10
    cluster = Cluster(2, max_followers=most, followers_per_address=2 * most).start()
    try:
        for count in args.followers:
            measure(cluster, count, args.seconds, args.clients, args.speed)
    finally:
        cluster.stop()
        cluster.cleanup()


if __name__ == "__main__":
    main()

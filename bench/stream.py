"""Stream speed: epochs/s, frames/s and heatmaps/s a follower receives, bytes per frame.

A real uvicorn on loopback in a subprocess (so the client does not share the server's GIL);
followers are `websockets` clients. Prints figures beside their targets; asserts nothing.
Run: .venv/bin/python bench/stream.py [--seconds 5] [--profile server.prof]
"""

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
TFP = {"dataset": "circle", "hidden": [4, 2], "activation": "tanh", "batch_size": 10}
DEEP = {**TFP, "hidden": [8, 8, 8, 8, 8, 8]}
SMALL = {**TFP, "hidden": [8, 8]}  # 2-8-8-1


def serve(profile: str | None) -> None:
    """The server process: uvicorn on an ephemeral port, printed on stdout once bound."""
    import uvicorn

    from app.config import Settings
    from app.loop.sockets import websocket_options

    config = uvicorn.Config(
        "app.main:create_app",
        factory=True,
        host="127.0.0.1",
        port=0,
        **websocket_options(Settings().follower_send_seconds),
        log_level="warning",
    )
    server = uvicorn.Server(config)
    sock = config.bind_socket()
    print(sock.getsockname()[1], flush=True)
    if profile is None:
        server.run(sockets=[sock])
        return
    import cProfile
    import signal

    # uvicorn re-raises SIGTERM after shutting down; make that an exit that runs `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        server.run(sockets=[sock])
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


def start_server(
    profile: str | None, stderr: IO[str] | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """The server subprocess and its host:port. `env` adds to ours; `stderr` defaults to ours."""
    command = [sys.executable, __file__, "--serve"] + (["--profile", profile] if profile else [])
    data_dir = tempfile.mkdtemp(prefix="bench-stream-")
    env = {**os.environ, "BACKPROP_DATA_DIR": data_dir, **(env or {})}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    host = f"127.0.0.1:{int(process.stdout.readline())}"
    wait_until_serving(process, f"http://{host}", tries=200)
    return process, host


@contextlib.contextmanager
def served(profile: str | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """start_server's (process, host:port) for the `with` block; the server ends with it."""
    process, host = start_server(profile)
    try:
        yield process, host
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(tree: Path, name: str) -> tuple[subprocess.Popen, str]:
    """`python -m app` from `tree` (its own app/ first on the path, not the installed one) on
    a free loopback port, with a data dir of its own and its output dropped: (process, base)."""
    env = {**os.environ, "PYTHONPATH": str(tree),
           "BACKPROP_DATA_DIR": tempfile.mkdtemp(prefix=f"bench-{name}-")}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port := free_port())], cwd=tree, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(process, base, tries=400)
    return process, base


def wait_until_serving(process: subprocess.Popen, base: str, tries: int) -> None:
    """Bound is not yet serving: wait for the app to start (or kill it and give up)."""
    for _ in range(tries):
        try:
            httpx.get(f"{base}/api/presets", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


class Follower:
    """Counts what arrives; the first follower also keeps (time, epoch, bytes) of each frame."""

    def __init__(self, detailed: bool) -> None:
        self.detailed = detailed
        self.frames = self.heatmaps = 0
        self.samples: list[tuple[float, int]] = []
        self.frame_bytes: list[int] = []
        self.loss_bytes: list[int] = []  # of which the `losses` field (every step's loss)
        self.counting = False
        self.ready = asyncio.Event()

    async def follow(self, url: str, stop: asyncio.Event) -> None:
        async with websockets.connect(url, compression=None, max_size=None) as ws:
            self.ready.set()
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.25)
                except TimeoutError:
                    continue
                if not self.counting:
                    continue
                if text.startswith('{"type":"frame"'):
                    self.frames += 1
                    if self.detailed:
                        self.frame_bytes.append(len(text.encode()))
                        frame = json.loads(text)
                        self.samples.append((time.perf_counter(), frame["epoch"]))
                        self.loss_bytes.append(len(frame["losses"]))
                elif text.startswith('{"type":"heatmaps"'):
                    self.heatmaps += 1


async def run_case(host: str, config: dict, followers: int, seconds: float) -> dict:
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as http:
        created = (await http.post("/api/sessions", json=config)).json()
        session_id, control = created["id"], {"X-Control-Token": created["token"]}
        url = f"ws://{host}/api/sessions/{session_id}/stream"
        crowd = [Follower(detailed=i == 0) for i in range(followers)]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(f.follow(url, stop)) for f in crowd]
        await asyncio.gather(*(f.ready.wait() for f in crowd))
        await asyncio.sleep(0.3)  # the joining messages are through
        await http.post(f"/api/sessions/{session_id}/play", json={"speed": None}, headers=control)
        await asyncio.sleep(0.5)  # warm-up: the first heatmaps and frames
        for f in crowd:
            f.counting = True
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        for f in crowd:
            f.counting = False
        elapsed = time.perf_counter() - start
        state = (await http.post(f"/api/sessions/{session_id}/pause", headers=control)).json()
        stop.set()
        await asyncio.gather(*tasks)
        await http.delete(f"/api/sessions/{session_id}", headers=control)
    first = crowd[0]
    (t0, e0), (t1, e1) = first.samples[0], first.samples[-1]
    rates = sorted(f.frames / elapsed for f in crowd)
    return {
        "epochs_s": (e1 - e0) / (t1 - t0) if t1 > t0 else float("nan"),
        "frames_s": first.frames / elapsed,
        "heatmaps_s": first.heatmaps / elapsed,
        "bytes": statistics.median(first.frame_bytes) if first.frame_bytes else 0,
        "loss_bytes": statistics.median(first.loss_bytes) if first.loss_bytes else 0,
        "min_frames_s": rates[0],
        "median_frames_s": statistics.median(rates),
        "step": state["step"],
    }


async def bench(host: str, seconds: float, only: str | None) -> None:
    row = "{:<34} {:>9} {:>9} {:>9} {:>8} {:>8}   {}"
    print(row.format("case", "epochs/s", "frames/s", "heatmap/s", "B/frame", "B losses", "targets"))
    rates = "frames/s ≥30, heatmaps/s ≥20"
    cases = [
        ("circle 2-4-2-1 tanh b10, 1 follower", TFP, 1, f"epochs/s ≥5600, {rates}"),
        ("circle 2-8x6-1 tanh b10, 1 follower", DEEP, 1, f"epochs/s ≥1000, {rates}"),
        ("circle 2-8-8-1 tanh b10, 1 follower", SMALL, 1, "B/frame ≤4096"),
    ]
    for label, config, followers, targets in cases:
        if only not in (None, label.split()[1]):
            continue
        r = await run_case(host, config, followers, seconds)
        print(
            row.format(
                label,
                f"{r['epochs_s']:.0f}",
                f"{r['frames_s']:.1f}",
                f"{r['heatmaps_s']:.1f}",
                f"{r['bytes']:.0f}",
                f"{r['loss_bytes']:.0f}",
                targets,
            )
        )
    if only not in (None, "crowd"):
        return
    r = await run_case(host, TFP, 100, seconds)
    print(
        f"circle 2-4-2-1, 100 followers: {r['epochs_s']:.0f} epochs/s; frames/s per follower "
        f"min {r['min_frames_s']:.1f}, median {r['median_frames_s']:.1f}; first follower "
        f"{r['heatmaps_s']:.1f} heatmaps/s   (targets ≥30 frames/s each, ≥5600 epochs/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--profile", help="write the server's cProfile stats to this file")
    parser.add_argument("--only", help="one case: 2-4-2-1, 2-8x6-1, 2-8-8-1 or crowd")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.path.insert(0, str(ROOT))
        serve(args.profile)
        return
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}   ({args.seconds:g} s a case)")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs, server: uvicorn subprocess")
    with served(args.profile) as (_, host):
        asyncio.run(bench(host, args.seconds, args.only))


if __name__ == "__main__":
    main()

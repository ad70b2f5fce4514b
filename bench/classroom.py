"""Classroom at scale: N student sessions playing as fast as they go, one follower each, and a
teacher session with 200 followers, on a real uvicorn (loopback). Followers live in two client
processes (students, teacher); the HTTP latency probe and the /proc sampling live in this one.
Prints figures beside their targets; asserts nothing. BACKPROP_* variables reach the server.
Run: .venv/bin/python bench/classroom.py [--students 60] [--seconds 30] [--workers N]
"""

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO

import httpx
import websockets
from machine import command_line, family, machine_busy, pressure, snapshot  # bench/machine.py
from stream import start_server  # bench/stream.py, beside this file

FRAME = b'{"type":"frame"'
EPOCH = re.compile(rb'"epoch":(\d+)')
PROBES = ("GET", "GET", "PATCH")  # in turn, six a second: 4 state reads, 2 control requests
PROBE_PERIOD = 1 / 6
PROBE_TIMEOUT = 10.0  # a probe slower than this counts as failed, at this latency
GONE = (math.nan, math.nan, math.nan, "")  # a process not there at one end of the window


class Follower:
    """One WebSocket follower: counts the frames that arrive inside window = [t0, t1]."""

    def __init__(self, url: str, window: list[float]) -> None:
        self.url, self.window = url, window
        self.frames = 0
        self.first = self.last = None  # (time, epoch) of the window's first and last frame
        self.error = self.closed = None
        self.ws = None
        self.connected = asyncio.Event()

    async def run(self) -> None:
        try:
            self.ws = await websockets.connect(
                self.url, compression=None, max_size=None, ping_interval=None, open_timeout=60
            )
        except Exception as err:  # a refused follower is a figure to report, not a crash
            self.error = f"{type(err).__name__}: {err}"
            return
        finally:
            self.connected.set()
        try:
            while True:
                data = await self.ws.recv(decode=False)
                if not data.startswith(FRAME):
                    continue
                now = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
                if now < self.window[0]:
                    continue
                if now > self.window[1]:
                    return
                self.frames += 1
                epoch = int(EPOCH.search(data, 0, 120)[1])  # not json.loads: a light client
                self.first = self.first or (now, epoch)
                self.last = (now, epoch)
        except Exception as err:
            if time.monotonic() < self.window[0]:  # refused (4429, 4404) or gone before it
                self.error = f"{type(err).__name__}: {err}"
            elif time.monotonic() < self.window[1]:
                self.closed = f"{type(err).__name__}: {err}"


def say(message: dict) -> None:
    print(json.dumps(message), flush=True)


async def follow_all(urls: list[str]) -> None:
    """Connect, say so, read the window from stdin, follow to its end, say what arrived."""
    window = [math.inf, math.inf]
    crowd = [Follower(url, window) for url in urls]
    tasks = [asyncio.create_task(f.run()) for f in crowd]
    await asyncio.gather(*(f.connected.wait() for f in crowd))
    say({"connected": sum(f.ws is not None for f in crowd)})
    line = await asyncio.to_thread(sys.stdin.readline)
    window[:] = map(float, line.split()) if line else (0.0, 0.0)  # no window: the run failed
    lags = []  # how late a 100 ms sleep wakes: is this client starved?
    while time.monotonic() < window[1]:
        before = time.monotonic()
        await asyncio.sleep(0.1)
        if before >= window[0]:
            lags.append(time.monotonic() - before - 0.1)
    await asyncio.gather(*(f.ws.close() for f in crowd if f.ws), return_exceptions=True)
    await asyncio.gather(*tasks)
    fields = ("frames", "first", "last", "error", "closed")
    say({"followers": [{k: getattr(f, k) for k in fields} for f in crowd], "lags": lags})


def spawn(urls: list[str]) -> subprocess.Popen:
    """A client process following `urls`, one follower each."""
    command = [sys.executable, __file__, "--follow"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    child.stdin.write(json.dumps(urls) + "\n")
    child.stdin.flush()
    return child


def sample(server: int, ours: list[int]) -> dict:
    return {
        "server": snapshot(family(server)),
        "client": snapshot(ours),
        "pressure": pressure(),
        "machine": (time.monotonic(), machine_busy()),
    }


async def open_sessions(http: httpx.AsyncClient, count: int) -> tuple[list[dict], list[str]]:
    sessions, refused = [], []
    for _ in range(count):
        answer = await http.post("/api/sessions", json={})
        if answer.status_code == 201:
            sessions.append(answer.json())
        else:
            refused.append(f"create: {answer.status_code} {answer.text[:100]}")
    return sessions, refused


async def play(http: httpx.AsyncClient, session: dict) -> str | None:
    """None once the session plays as fast as it goes, else why not."""
    path, control = f"/api/sessions/{session['id']}/play", {"X-Control-Token": session["token"]}
    answer = await http.post(path, json={"speed": None}, headers=control)
    return None if answer.status_code == 200 else f"play: {answer.status_code} {answer.text[:100]}"


async def probe(http: httpx.AsyncClient, sessions: list[dict], until: float) -> tuple:
    """Until `until`, six requests a second on random students, whatever is still in flight
    (a slow answer delays no later request): GET the state, or PATCH the config."""
    rng, found = random.Random(0), {"GET": [], "PATCH": [], "failures": []}

    async def one(kind: str, session: dict) -> None:
        path, control = f"/api/sessions/{session['id']}", {"X-Control-Token": session["token"]}
        sent = time.perf_counter()
        try:
            if kind == "GET":
                answer = await http.get(path, timeout=PROBE_TIMEOUT)
            else:  # the default learning rate: the training goes on unchanged
                body = {"learning_rate": 0.03}
                answer = await http.patch(
                    f"{path}/config", json=body, headers=control, timeout=PROBE_TIMEOUT
                )
            if answer.status_code != 200:
                found["failures"].append(f"{kind} {answer.status_code} {answer.text[:80]}")
        except httpx.HTTPError as err:
            found["failures"].append(f"{kind} {type(err).__name__}")
        found[kind].append(time.perf_counter() - sent)

    tasks, next_at = [], time.monotonic()
    for kind in itertools.cycle(PROBES):
        if next_at >= until or not sessions:
            break
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        tasks.append(asyncio.create_task(one(kind, rng.choice(sessions))))
        next_at += PROBE_PERIOD
    await asyncio.sleep(max(0.0, until - time.monotonic()))
    return found, tasks


def spread(values: list[float], unit: str = "") -> str:
    if not values:
        return "none"
    return f"min {min(values):.1f}{unit}, median {statistics.median(values):.1f}{unit}"


def p95(values: list[float]) -> float:
    return sorted(values)[math.ceil(0.95 * len(values)) - 1] if values else math.nan


def late(seconds: list[float]) -> str:
    """The p95 in ms, or that it is a timeout."""
    worst = p95(seconds)
    return (
        f"≥ {PROBE_TIMEOUT:g} s (timeouts)" if worst >= PROBE_TIMEOUT else f"{worst * 1e3:.0f} ms"
    )


def epochs_per_second(follower: dict) -> float:
    """From the window's first and last frame; 0 when fewer than two frames arrived."""
    if not follower["first"] or follower["last"][0] <= follower["first"][0]:
        return 0.0
    (t0, e0), (t1, e1) = follower["first"], follower["last"]
    return (e1 - e0) / (t1 - t0)


def pair(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f}" if values else "–"


def show_processes(title: str, start: dict, end: dict) -> float:
    """Prints a line per process; returns their CPU % of one core over the window."""
    print(f"{title}: pid, CPU s (user+sys) start → end, CPU % over the window, RSS MiB")
    total = 0.0
    for pid in sorted(start.keys() | end.keys()):
        t0, cpu0, rss0, name = start.get(pid, GONE)
        t1, cpu1, rss1, name = end.get(pid, GONE[:3] + (name,))
        share = (cpu1 - cpu0) / (t1 - t0) * 100
        total += 0.0 if math.isnan(share) else share
        print(
            f"  {pid:>7}  {cpu0:7.1f} → {cpu1:7.1f} s  {share:5.0f} %  RSS {rss0:6.1f} → "
            f"{rss1:6.1f} MiB ({rss1 - rss0:+.1f})  {name}"
        )
    print(f"  all: {total:.0f} % of one core ({os.cpu_count()} cores here)")
    return total


def show_followers(name: str, followers: list[dict], lags: list[float], seconds: float) -> list:
    """Prints who followed and how the client kept up; returns frames/s of those followed."""
    errors = [f["error"] for f in followers if f["error"]]
    closed = [f["closed"] for f in followers if f["closed"]]
    lags = [x * 1e3 for x in lags]
    print(
        f"{name} followers: {len(followers) - len(errors)}/{len(followers)} following at the "
        f"window's start, {len(closed)} closed within it; client loop lag "
        f"{spread(lags, ' ms')}, max {max(lags, default=0):.0f} ms"
    )
    for problem in sorted(set(errors + closed))[:5]:
        print(f"  {problem}")
    return [f["frames"] / seconds for f in followers if not f["error"]]


async def run(args: argparse.Namespace, server: int, base: str) -> dict:
    """Sessions, followers, warm-up, the window; prints how the setup went, returns the rest."""
    ws_base = base.replace("http", "ws", 1)
    unlimited = httpx.Limits(max_connections=None)  # no probe waits for a pooled connection
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=unlimited) as http:
        setup = [time.monotonic()]
        students, refused = await open_sessions(http, args.students)
        teachers, refused_teacher = await open_sessions(http, 1)
        setup.append(time.monotonic())
        stream = [f"{ws_base}/api/sessions/{s['id']}/stream" for s in students + teachers]
        clients = {"student": spawn(stream[: len(students)])}
        if teachers:
            clients["teacher"] = spawn(stream[-1:] * args.teacher_followers)
        try:
            for child in clients.values():  # connected: the joining `state` messages are through
                await asyncio.to_thread(child.stdout.readline)
            setup.append(time.monotonic())
            plays = await asyncio.gather(*(play(http, s) for s in students + teachers))
            setup.append(time.monotonic())
            playing = {
                s["id"] for s, why in zip(students + teachers, plays, strict=True) if not why
            }
            took = [f"{b - a:.1f}" for a, b in itertools.pairwise(setup)]
            print(
                f"student sessions: {len(students)}/{args.students} created; setup: created in "
                f"{took[0]} s, followers connected in {took[1]} s, all play requests answered "
                f"in {took[2]} s; then {args.warmup:g} s of warm-up"
            )
            for problem in refused + refused_teacher + [x for x in plays if x]:
                print(f"  refused: {problem}")
            t0 = time.monotonic() + args.warmup
            t1 = t0 + args.seconds
            for child in clients.values():
                child.stdin.write(f"{t0} {t1}\n")
                child.stdin.flush()
            await asyncio.sleep(max(0.0, t0 - time.monotonic()))
            ours = [os.getpid(), *(c.pid for c in clients.values())]
            start = sample(server, ours)
            probed = [s for s in students if s["id"] in playing]
            latency, in_flight = await probe(http, probed, t1)
            end = sample(server, ours)
            await asyncio.gather(*in_flight)
            followed = {
                name: json.loads(await asyncio.to_thread(c.stdout.readline))
                for name, c in clients.items()
            }
        finally:
            for child in clients.values():
                child.stdin.close()  # EOF: the client process may exit now
            for child in clients.values():
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
    students = [  # a session refused or gone is reported above, not measured
        f
        for f, s in zip(followed["student"]["followers"], students, strict=True)
        if s["id"] in playing
    ]
    teacher = followed.get("teacher", {"followers": [], "lags": []})
    if not teachers or teachers[0]["id"] not in playing:
        teacher["followers"] = []
    return {
        "students": students,
        "student_lags": followed["student"]["lags"],
        "teacher": teacher["followers"],
        "teacher_lags": teacher["lags"],
        "latency": latency,
        "start": start,
        "end": end,
    }


def report(args: argparse.Namespace, run: dict) -> None:
    """The figures, each beside its target, and the summary table."""
    epochs = [epochs_per_second(f) for f in run["students"] if not f["error"]]
    print(
        f"epochs/s per student session ({len(run['students'])} playing): {spread(epochs)}, "
        f"total {sum(epochs):.0f}, {sum(e == 0 for e in epochs)} stalled   (target ≥ 100 each)"
    )
    fps = show_followers("student", run["students"], run["student_lags"], args.seconds)
    print(f"frames/s per student follower: {spread(fps)}   (target ≥ 20)")
    teacher_fps = show_followers("teacher", run["teacher"], run["teacher_lags"], args.seconds)
    teacher_epochs = [epochs_per_second(f) for f in run["teacher"] if not f["error"]]
    print(
        f"teacher: {statistics.median(teacher_epochs or [0]):.0f} epochs/s; frames/s "
        f"per follower {spread(teacher_fps)}   (target ≥ 30)"
    )
    latency = run["latency"]
    for kind, label in (("GET", "GET /api/sessions/{id}"), ("PATCH", "PATCH …/config")):
        ms = [x * 1e3 for x in latency[kind]]
        print(
            f"{label}: {len(ms)} requests, {spread(ms, ' ms')}, p95 {late(latency[kind])}"
            "   (target p95 ≤ 100 ms)"
        )
    for failure, count in Counter(latency["failures"]).most_common(5):
        print(f"  failed: {count} × {failure}")
    start, end = run["start"], run["end"]
    server_cpu = show_processes("server processes", start["server"], end["server"])
    print("memory target: flat (RSS growth ≈ 0 over the window)")
    title = "client processes (probe, student followers, teacher followers)"
    client_cpu = show_processes(title, start["client"], end["client"])
    (m0, busy0), (m1, busy1) = start["machine"], end["machine"]
    machine = (busy1 - busy0) / (m1 - m0) * 100
    others = max(0.0, machine - server_cpu - client_cpu)  # a shared machine: say how much
    print(
        f"machine: {machine:.0f} % of one core busy, of which {others:.0f} % other processes; "
        f"/proc/pressure/cpu some: start {start['pressure']}, end {end['pressure']}"
    )
    # On a machine others share, the figures above follow the CPU the server was given; this
    # one much less: frames made (each student's, and the teacher's once) per server CPU second.
    made = sum(fps) + statistics.median(teacher_fps or [0])
    print(f"frames made per server CPU second: {made / max(server_cpu / 100, 1e-9):.0f} "
          f"({made:.0f} frames/s on {server_cpu:.0f} % of one core)")
    print(
        "\n| sessions playing | epochs/s per session min/median | frames/s per follower "
        "min/median | teacher followers fps | GET p95 | control p95 |\n|---|---|---|---|---|---|"
    )
    print(
        f"| {len(run['students'])} | {pair(epochs)} | {pair(fps)} | {pair(teacher_fps)} | "
        f"{late(latency['GET'])} | {late(latency['PATCH'])} |\n"
    )


def stop(process: subprocess.Popen) -> None:
    """Terminate the server, then kill any of its processes still there after 5 s, by pid."""
    lines = {p: command_line(p) for p in family(process.pid) if p != process.pid}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    deadline, left = time.monotonic() + 5, list(lines)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if command_line(p) == lines[p]]  # the same process, not a reuse
    for pid in left:
        print(f"server process {pid} outlived the server; killed: {lines[pid]}")
        os.kill(pid, signal.SIGKILL)


def show_stderr(stderr: IO[str]) -> None:
    stderr.seek(0)
    lines = stderr.read().splitlines()
    wanted = [x for x in lines if re.search("worker|BLAS", x, re.IGNORECASE)]
    print(f"server stderr: {len(lines)} lines, {len(wanted)} on workers or BLAS")
    for line in wanted:
        print(f"  {line}")
    others = [x for x in lines if x not in wanted]
    if others:
        print(f"  other lines, the last: {others[-3:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=60, help="student sessions (default 60)")
    parser.add_argument("--teacher-followers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=3.0, help="playing before the window")
    parser.add_argument("--workers", type=int, help="BACKPROP_WORKERS for the server")
    parser.add_argument("--follow", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.follow:
        asyncio.run(follow_all(json.loads(sys.stdin.readline())))
        sys.stdin.read()  # stay until the measuring process has read our CPU time
        return
    # The whole class comes from this one address: its connections are not a flood
    env = {"BACKPROP_FOLLOWERS_PER_ADDRESS": "100000",
           **({} if args.workers is None else {"BACKPROP_WORKERS": str(args.workers)})}
    seen = {k: v for k, v in {**os.environ, **env}.items() if k.startswith("BACKPROP_")}
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs; server env {seen}")
    with tempfile.TemporaryFile("w+") as stderr:
        try:
            process, host = start_server(None, stderr=stderr, env=env)
        except (SystemExit, ValueError):  # it died or never answered: its stderr says why
            show_stderr(stderr)
            raise
        try:
            report(args, asyncio.run(run(args, process.pid, f"http://{host}")))
        finally:
            stop(process)
            show_stderr(stderr)


if __name__ == "__main__":
    main()

"""How long a large request body holds the event loop (issue 9). A real `python -m app` answers
(a) a legitimate ~1 MB create (5,000 own points × 16 targets), (b) a refused 4 MB body
(270,000 points, over the point limit), (c) the import of a large export, (d) a 5,000-row
/api/step, (e) that 4 MB body sent to a control route (…/play of no session, no token) and
(f) a race of 4 lanes on the create's 5,000 own points × 16 targets (its lanes made too),
while a second thread asks it for a missing session every 2 ms (a 404 the event loop answers
alone, no worker): the slowest of those answers during the big request is how long the loop was
held. The same requests again without the probe give the CPU time of the server's event loop
thread, of its other threads and of its workers (/proc/…/schedstat).

`--baseline DIR` serves a second tree first (say, the commit before the bodies were parsed in
a worker: `git archive <commit> | tar -x -C DIR`) and prints both, in one run.
Prints medians over --repeats; asserts nothing. `--only race` runs the cases whose label
holds "race". Run under the shared lock:
  flock /tmp/bench.lock .venv/bin/python bench/bodies.py --baseline /tmp/base
"""

import argparse
import http.client
import json
import random
import statistics
import threading
import time
from pathlib import Path

import httpx
from machine import family, pressure  # bench/machine.py
from stream import start_app  # bench/stream.py

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 4 * 2**20   # BACKPROP_MAX_BODY_BYTES's default
PROBE_EVERY = 0.002


class Probe(threading.Thread):
    """GET /api/sessions/<missing> every PROBE_EVERY s on one connection: (start, seconds)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.samples, self.stop = port, [], threading.Event()
        self.asking = threading.Event()   # cleared: the probe waits (CPU is measured alone)
        self.asking.set()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            self.asking.wait()
            started = time.perf_counter()
            try:
                connection.request("GET", "/api/sessions/no-such-session")
                connection.getresponse().read()
            except (http.client.HTTPException, OSError):
                # the server closed the connection while the probe waited (keep-alive
                # timeout, 5 s): a new one, and this sample is not counted
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            self.samples.append((started, time.perf_counter() - started))
            time.sleep(PROBE_EVERY)

    def slowest(self, since: float, until: float) -> float:
        return max((s for t, s in self.samples if t + s >= since and t <= until), default=0.0)


def on_cpu(pid: int) -> float:
    """Seconds a thread (or, for a process's pid, its main thread) has run: schedstat, in ns."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return 0.0


def cpu_split(server: int) -> tuple[float, float, float]:
    """CPU seconds so far of the server's event loop thread, its other threads (the
    executors' pickling and unpickling, which hold the GIL) and its worker processes."""
    threads = [int(t.name) for t in Path(f"/proc/{server}/task").iterdir()]
    loop = on_cpu(server)
    others = sum(on_cpu(t) for t in threads if t != server)
    workers = sum(on_cpu(p) for p in family(server) if p != server)
    return loop, others, workers


def own_points(n: int, rnd: random.Random) -> list:
    return [[round(rnd.uniform(-6, 6), 4), round(rnd.uniform(-6, 6), 4)] for _ in range(n)]


def bodies(base: str) -> dict[str, tuple[str, bytes]]:
    rnd = random.Random(0)
    legit = {
        "dataset": "custom", "hidden": [16, 16], "batch_size": 100,
        "data": {"inputs": own_points(5000, rnd),
                 "targets": [[round(rnd.uniform(-1, 1), 6) for _ in range(16)]
                             for _ in range(5000)]},
    }
    refused = {"dataset": "custom", "data": {"inputs": own_points(270_000, rnd)}}
    cut = json.dumps(refused).encode()
    while len(cut) > LIMIT:   # just under the body limit, far over the point limit
        refused["data"]["inputs"] = refused["data"]["inputs"][:-5000]
        cut = json.dumps(refused).encode()
    made = httpx.post(f"{base}/api/sessions", json=legit, timeout=120).json()
    headers = {"X-Control-Token": made["token"]}
    httpx.post(f"{base}/api/sessions/{made['id']}/step", json={"steps": 2000},
               headers=headers, timeout=300)
    export = httpx.get(f"{base}/api/sessions/{made['id']}/export", timeout=60).content
    httpx.delete(f"{base}/api/sessions/{made['id']}", headers=headers, timeout=60)
    step = {"network": {"layers": [2, 16, 16, 16], "activations": ["tanh", "tanh", "linear"]},
            "inputs": legit["data"]["inputs"], "targets": legit["data"]["targets"]}
    race = {"config": legit, "vary": {"learning_rate": [0.01, 0.03, 0.1, 0.3]}}
    return {"legit create": ("/api/sessions", json.dumps(legit).encode()),
            "refused 4 MB": ("/api/sessions", cut),
            "import export": ("/api/sessions/import", export),
            "api/step 5k rows": ("/api/step", json.dumps(step).encode()),
            "4 MB to /play": ("/api/sessions/no-such/play", cut),
            "race 4 lanes": ("/api/races", json.dumps(race).encode())}


def case(base: str, pid: int, probe: Probe, path: str, body: bytes) -> tuple:
    """(slowest probe answer, seconds the request took, its status, CPU seconds of the loop
    thread, of the server's other threads and of its workers) for one big request."""
    time.sleep(0.2)
    cpu = cpu_split(pid)
    started = time.perf_counter()
    response = httpx.post(f"{base}{path}", content=body, timeout=300,
                          headers={"content-type": "application/json"})
    took = time.perf_counter() - started
    time.sleep(0.05)
    spent = [after - before for after, before in zip(cpu_split(pid), cpu, strict=True)]
    if response.status_code == 201:   # keep the server as it was: one session at a time
        made = response.json()
        kind = "races" if path == "/api/races" else "sessions"
        httpx.delete(f"{base}/api/{kind}/{made['id']}", timeout=60,
                     headers={"X-Control-Token": made["token"]})
    return probe.slowest(started, started + took), took, response.status_code, *spent


def bench(name: str, tree: Path, repeats: int, only: str) -> None:
    process, base = start_app(tree, "bodies")
    try:
        payloads = bodies(base)
        probe = Probe(int(base.rsplit(":", 1)[1]))
        probe.start()
        time.sleep(0.5)
        idle = statistics.median(s for _, s in probe.samples)
        print(f"{name}: {tree}  (a probe answered in {idle * 1e3:.1f} ms when idle; "
              f"CPU {pressure()})")
        for label, (path, body) in payloads.items():
            if only not in label:
                continue
            runs = [case(base, process.pid, probe, path, body) for _ in range(repeats)]
            probe.asking.clear()   # CPU without the probe's own answers on the loop
            alone = [case(base, process.pid, probe, path, body) for _ in range(repeats)]
            probe.asking.set()
            held = statistics.median(r[0] for r in runs)
            took = statistics.median(r[1] for r in runs)
            statuses = sorted({r[2] for r in runs})
            print(f"  {label:<14} {len(body) / 1e6:4.2f} MB → {statuses}: loop held "
                  f"{held * 1e3:6.1f} ms (median of {repeats}; worst "
                  f"{max(r[0] for r in runs) * 1e3:6.1f}), answered in {took * 1e3:6.0f} ms")
            loop, others, workers = (statistics.median(r[i] for r in alone) * 1e3
                                     for i in (3, 4, 5))
            print(f"  {'':<14} CPU ms (no probe): event loop thread {loop:6.1f}, "
                  f"the server's other threads {others:6.1f}, workers {workers:6.1f}")
        probe.stop.set()
        probe.join(timeout=5)
        print(f"  CPU {pressure()}")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another tree to serve first")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="the cases whose label holds this")
    args = parser.parse_args()
    if args.baseline:
        bench("before", args.baseline.resolve(), args.repeats, args.only)
    bench("after" if args.baseline else "this tree", ROOT, args.repeats, args.only)


if __name__ == "__main__":
    main()

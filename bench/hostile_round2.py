"""Issue 20's rows 2, 3, 6, 7 and 8 against a real uvicorn (loopback): a million items where
a short list goes, lone surrogates, join-code guessing, a save into a locked file (with a small
session's reads and steps meanwhile) and an import with a layer too many. Prints figures, with
/proc/pressure/cpu beside them; asserts nothing. BACKPROP_* variables reach the server.
Run: .venv/bin/python bench/hostile_round2.py [row2 row3 row6 row7 row8]   (none: every row)

Row 2, measured 2026-12-08 (2 cores, cpu stall avg10 2-8 %; before: a08fa75 in a worktree):
4.16 MB bodies of 1,040,000 items at features / hidden / network.weights /
network.activations were refused 422 after 8292 / 219 / 4472 / 7318 ms, a worker's peak
growing 1775 / 0 (already grown) / 1443 / 1567 MiB, the server 547 -> 1017 MiB, another
session's GET on that worker waiting up to 7.3 s; now 33 / 32 / 34 / 33 ms, peaks
+9 / +7 / +16 / +9 MiB (event loop ≤ 9 MiB), server 548 -> 578 MiB, others' GET ≤ 15 ms.
"""

import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from hostile import measured  # bench/hostile.py
from machine import family, pressure, rss_mib  # bench/machine.py
from stream import start_server  # bench/stream.py

JSON = {"content-type": "application/json"}
SURROGATES = [
    ("/api/sessions", b'{"dataset": "\\ud800"}'),
    ("/api/sessions", b'{"\\ud800": 1}'),
    ("/api/step", b'{"loss": "\\ud800"}'),
    ("/api/races", b'{"preset": "xor", "vary": {"init": ["he", "\\udfff"]}}'),
    ("/api/sessions/import", b'{"config": {"dataset": "\xed\xa0\x80"}}'),   # raw UTF-8 bytes
]
MILLION = 1_040_000   # four-byte items: a 4.16 MB body, just under the 4 MiB limit
STEP_NETWORK = (b'{"inputs": [[0, 1]], "targets": [[1]], "network": {"layers": [2, 1], '
                b'"activations": ')
MILLIONS = [   # (route, field, a body whose one list has a million items there)
    ("/api/sessions", "features", b'{"features": [' + b",".join([b'"a"'] * MILLION) + b"]}"),
    ("/api/sessions", "hidden", b'{"hidden": [' + b",".join([b"100"] * MILLION) + b"]}"),
    ("/api/step", "network.weights", STEP_NETWORK + b'["tanh"], "weights": ['
     + b",".join([b"[1]"] * MILLION) + b"]}}"),
    ("/api/step", "network.activations", STEP_NETWORK + b"["
     + b",".join([b'"a"'] * MILLION) + b"]}}"),
]
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def utf8_json(content: bytes) -> bool:
    try:
        json.loads(content.decode("utf-8"))
    except ValueError:
        return False
    return True


def peaks_reset(pids: list[int]) -> dict[int, float]:
    """Each process's peak RSS (VmHWM) counted from now: its RSS now, MiB."""
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    return {pid: rss_mib(pid) for pid in pids}


def peak_mib(pid: int) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return float("nan")
    return next(int(x.split()[1]) / 1024 for x in lines if x.startswith("VmHWM:"))


async def reading(client, url: str, done: asyncio.Event, reads: list) -> None:
    """GET `url` every 10 ms until `done`, each answer's latency in `reads`."""
    while not done.is_set():
        began = time.perf_counter()
        await client.get(url)
        reads.append(time.perf_counter() - began)
        await asyncio.sleep(0.01)


async def row2(client, base, server) -> None:
    """Each body once: the 422's latency, another session's slowest GET meanwhile, and the
    peak memory the server and its workers grew by (VmHWM over the RSS before it)."""
    other = (await client.post(f"{base}/api/sessions", json={"hidden": [2]})).json()
    for path, field, body in MILLIONS:
        pids = family(server.pid)
        start = peaks_reset(pids)
        total = sum(start.values())
        reads, done = [], asyncio.Event()
        probing = asyncio.create_task(
            reading(client, f"{base}/api/sessions/{other['id']}", done, reads))
        began = time.perf_counter()
        response = await client.post(f"{base}{path}", content=body, headers=JSON)
        took = time.perf_counter() - began
        done.set()
        await probing
        grown = {pid: peak_mib(pid) - start[pid] for pid in pids}
        loop = grown.pop(server.pid)   # the event loop's process; the rest are workers
        after = sum(rss_mib(pid) for pid in pids)
        loc = response.json()["detail"][0]["loc"] if response.status_code == 422 else "-"
        print(f"  row 2  {path:<14} {field:<20} {len(body) / 1e6:.2f} MB  "
              f"{response.status_code} {loc} in {took * 1000:7.0f} ms; others' slowest GET "
              f"{max(reads) * 1000:6.0f} ms; peak + MiB: event loop {loop:5.1f}, "
              f"worker {max(grown.values()):5.1f}; server "
              f"{total:.0f} -> {after:.0f} MiB   cpu stall: {pressure()}")


async def row3(client, base) -> None:
    for path, body in SURROGATES:
        shown = f"  row 3  {path:<22} {body.decode('utf-8', 'backslashreplace')[:44]:<46}"
        try:
            response = await client.post(f"{base}{path}", content=body, headers=JSON)
        except httpx.TransportError as err:   # a 500 that closed the connection
            print(f"{shown} no answer: {type(err).__name__}")
            continue
        print(f"{shown} {response.status_code}  UTF-8 JSON: {utf8_json(response.content)}")


async def row6(client, base) -> None:
    started, answers = time.perf_counter(), []
    for _ in range(2000):
        code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(6))
        answers.append(await client.get(f"{base}/api/join/{code}"))
    took = time.perf_counter() - started
    counts = Counter(answer.status_code for answer in answers)
    retry = {answer.headers.get("retry-after") for answer in answers if answer.status_code == 429}
    print(f"  row 6  2,000 random join codes from one address in {took:.2f} s: {dict(counts)}, "
          f"Retry-After {sorted(retry)}   cpu stall: {pressure()}")


async def row7(base, data_dir: Path) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        made = (await client.post(f"{base}/api/sessions", json={"hidden": [2]})).json()
    lock = sqlite3.connect(data_dir / "saved.sqlite3", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")   # another process holding the file

    async def save(client):
        response = await client.post(f"{base}/api/sessions/{made['id']}/save",
                                     headers={"X-Control-Token": made["token"]})
        return response.status_code, len(response.content)

    try:
        print("  row 7  ", end="")
        await measured(base, "save into a locked saved.sqlite3", save)
    finally:
        lock.rollback()
        lock.close()
    print(f"         cpu stall: {pressure()}")


async def row8(client, base) -> None:
    made = (await client.post(f"{base}/api/sessions", json={"dataset": "xor"})).json()
    export = (await client.get(f"{base}/api/sessions/{made['id']}/export")).json()
    for name, extra in (("weights", [[0.0]]), ("biases", [0.0])):
        forged = json.loads(json.dumps(export))
        forged["network"][name].append(extra)
        response = await client.post(f"{base}/api/sessions/import", json=forged)
        detail = response.json().get("detail") if response.status_code == 422 else None
        where = detail[0]["loc"] if detail else "-"
        print(f"  row 8  import with an extra {name} entry: {response.status_code} {where}")


async def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-hostile2-"))
    server, host = start_server(None, env={"BACKPROP_DATA_DIR": str(data_dir)})
    base = f"http://{host}"
    rows = set(sys.argv[1:]) or {"row2", "row3", "row6", "row7", "row8"}
    try:
        print(f"cpu stall: {pressure()}")
        async with httpx.AsyncClient(timeout=120) as client:
            if "row2" in rows:
                await row2(client, base, server)
            if "row3" in rows:
                await row3(client, base)
            if "row8" in rows:
                await row8(client, base)
        if "row7" in rows:
            await row7(base, data_dir)
        async with httpx.AsyncClient(timeout=60) as client:
            if "row6" in rows:
                await row6(client, base)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    asyncio.run(main())

"""Issue 20's rows 3, 6, 7 and 8 against a real uvicorn (loopback): lone surrogates, join-code
guessing, a save into a locked file (with a small session's reads and steps meanwhile) and an
import with a layer too many. Prints figures, with /proc/pressure/cpu beside them; asserts
nothing. BACKPROP_* variables reach the server.
Run: .venv/bin/python bench/hostile_round2.py
"""

import asyncio
import json
import os
import secrets
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from hostile import measured  # bench/hostile.py
from machine import pressure  # bench/machine.py
from stream import start_server  # bench/stream.py

JSON = {"content-type": "application/json"}
SURROGATES = [
    ("/api/sessions", b'{"dataset": "\\ud800"}'),
    ("/api/sessions", b'{"\\ud800": 1}'),
    ("/api/step", b'{"loss": "\\ud800"}'),
    ("/api/races", b'{"preset": "xor", "vary": {"init": ["he", "\\udfff"]}}'),
    ("/api/sessions/import", b'{"config": {"dataset": "\xed\xa0\x80"}}'),   # raw UTF-8 bytes
]
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def utf8_json(content: bytes) -> bool:
    try:
        json.loads(content.decode("utf-8"))
    except ValueError:
        return False
    return True


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
    try:
        print(f"cpu stall: {pressure()}")
        async with httpx.AsyncClient(timeout=60) as client:
            await row3(client, base)
            await row8(client, base)
        await row7(base, data_dir)
        async with httpx.AsyncClient(timeout=60) as client:
            await row6(client, base)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    asyncio.run(main())

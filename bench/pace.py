"""The teaching pace: the page's default pace (static/settings.js, epochs/s) as the steps/s it asks
the server for on TFP's default (circle, 2-4-2-1 tanh, batch 10), and the seconds that session,
played at that pace on a real server, takes to reach a test loss of 0.05, with the epochs/s it
kept. A real uvicorn on loopback in a subprocess (bench/stream.py's); one follower reads the frames.
Prints the figures with the CPU stall beside them; asserts nothing.
Run: .venv/bin/python bench/pace.py [--target 0.05] [--limit 60]
"""

import argparse
import asyncio
import json
import math
import re
import sys
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import pressure  # bench/machine.py  # noqa: E402
from stream import TFP, served  # bench/stream.py  # noqa: E402

SETTINGS_JS = Path(__file__).resolve().parent.parent / "static" / "settings.js"


def default_pace() -> float:
    """The page's default pace, read from its table of settings (the one source of it)."""
    found = re.search(r'key: "pace", kind: pace, def: ([0-9.]+)', SETTINGS_JS.read_text())
    if not found:
        raise SystemExit(f"no default pace found in {SETTINGS_JS}")
    return float(found.group(1))


async def until_loss(host: str, pace: float, target: float, limit: float) -> dict:
    """Play TFP's default at `pace` epochs/s; when the frames' test loss first reaches `target`."""
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=30) as http:
        made = (await http.post("/api/sessions", json=TFP)).json()
        url = f"ws://{host}/api/sessions/{made['id']}/stream"
        async with websockets.connect(url, compression=None, max_size=None) as ws:
            while '"type":"state"' not in (text := await ws.recv())[:40]:
                pass
            state = json.loads(text)   # an epoch, as the page counts it (static/pace.js)
            rows = len(state["points"]["train"]["x"])
            per_epoch = math.ceil(rows / state["config"]["batch_size"])
            await http.post(f"/api/sessions/{made['id']}/play", json={"speed": pace * per_epoch},
                            headers={"X-Control-Token": made["token"]})
            start, reached, last = time.perf_counter(), None, None
            while (left := start + limit - time.perf_counter()) > 0:
                try:
                    text = await asyncio.wait_for(ws.recv(), left)
                except TimeoutError:
                    break
                if '"type":"frame"' not in text[:40]:
                    continue
                frame = json.loads(text)
                last = (time.perf_counter() - start, frame["epoch"], frame["step"])
                loss = frame["metrics"]["test_loss"]
                if loss is not None and loss <= target:
                    reached = last
                    break
    return {"per_epoch": per_epoch, "reached": reached, "last": last}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.05, help="test loss to reach")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds to wait at most")
    args = parser.parse_args()
    pace = default_pace()
    with served() as (_, host):
        found = asyncio.run(until_loss(host, pace, args.target, args.limit))
    per_epoch = found["per_epoch"]
    print(f"default pace: {pace:g} epochs/s = {pace * per_epoch:g} steps/s "
          f"(an epoch of TFP's circle: {per_epoch} steps)")
    if found["reached"] is None:
        seconds, epoch, step = found["last"] or (args.limit, 0, 0)
        print(f"test loss {args.target:g} not reached in {seconds:.1f} s "
              f"(epoch {epoch}, step {step})")
    else:
        seconds, epoch, step = found["reached"]
        print(f"test loss ≤ {args.target:g} after {seconds:.1f} s: epoch {epoch}, step {step} "
              f"({epoch / seconds:.1f} epochs/s kept)")
    print(f"CPU stall: {pressure()}")


if __name__ == "__main__":
    main()

"""The size of a cluster snapshot (app/cluster/redis_state.py), before and after compression: a
session's
export after --steps steps (a preset's config), as JSON and as zlib at the level the
snapshots use and at zlib's default, with the median time to compress and to decompress
(every snapshot is compressed on the owner, in a thread; a restore decompresses once).
Asserts nothing.

Run: .venv/bin/python bench/snapshot.py [--steps 10000] [--preset xor] [--repeats 20]
"""

import argparse
import sys
import zlib
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[0] = str(BENCH.parent)   # the repository's engine/, not bench/engine.py
sys.path.append(str(BENCH))

from fastapi.testclient import TestClient  # noqa: E402
from machine import pressure, timed  # noqa: E402 (bench/machine.py)

from app.cluster.redis_state import SNAPSHOT_LEVEL  # noqa: E402
from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--preset", default="xor")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with TestClient(create_app(Settings(workers=1))) as client:
        made = client.post(f"/api/presets/{args.preset}").json()
        token = {"X-Control-Token": made["token"]}
        client.post(f"/api/sessions/{made['id']}/step", json={"steps": args.steps},
                    headers=token).raise_for_status()
        export = client.get(f"/api/sessions/{made['id']}/export").content
    print(f"snapshot of a {args.preset} session after {args.steps:,} steps "
          f"(CPU pressure {pressure()}):")
    print(f"  export JSON              {len(export) / 1000:8.1f} kB")
    for level in sorted({SNAPSHOT_LEVEL, 6}):
        packed = zlib.compress(export, level)
        squeeze = timed(lambda level=level: zlib.compress(export, level), args.repeats)
        unpack = timed(lambda packed=packed: zlib.decompress(packed), args.repeats)
        label = f"zlib level {level}" + (" (snapshots)" if level == SNAPSHOT_LEVEL else "")
        print(f"  {label:25}{len(packed) / 1000:8.1f} kB  "
              f"{len(export) / len(packed):4.1f}x smaller; compress {squeeze * 1000:.2f} ms, "
              f"decompress {unpack * 1000:.2f} ms (median of {args.repeats})")


if __name__ == "__main__":
    main()

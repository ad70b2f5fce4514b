"""How long a full garbage collection holds the server's event loop and a worker's slice: the
objects the collector walks in each, and a full collection's time (median over repeats), with
the CPU stall beside them. Asserts nothing.

The server and its workers freeze what starting made (gc.freeze() in app/main.py's lifespan
and app/worker/process.py's start): without it a full collection walked ~120,000 objects in the
server
(72 ms) and ~165,000 in a worker (85 ms). To see that, give it a tree without it (`--tree`,
e.g. a `git worktree` of an older commit).

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/gc_pause.py [--tree .] [--repeats 5]
"""

import argparse
import gc
import os
import sys
from pathlib import Path

from machine import pressure, timed  # bench/machine.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the tree whose app it builds [this one]")
    args = parser.parse_args()
    tree = str(args.tree.resolve())
    sys.path.insert(0, tree)   # before bench/ (it has an engine.py too)
    os.chdir(tree)   # the workers' fork server imports from its working folder first
    from fastapi.testclient import TestClient

    import app
    from app.config import Settings
    from app.main import create_app

    print(f"tree: {app.__file__.rsplit('/app/', 1)[0]}; CPU {pressure()}")
    with TestClient(create_app(Settings(workers=1))) as client:
        for _ in range(args.sessions):
            assert client.post("/api/sessions", json={}).status_code == 201
        server = timed(gc.collect, args.repeats)
        print(f"  server: {len(gc.get_objects()):,} objects tracked, "
              f"{gc.get_freeze_count():,} frozen; a full collection {server * 1e3:.1f} ms")
        executor = client.app.state.hub.workers[0].executor
        call = lambda fn: executor.submit(fn).result()   # noqa: E731
        trip = timed(lambda: call(gc.get_count), args.repeats)   # the executor's own cost
        worker = timed(lambda: call(gc.collect), args.repeats) - trip
        print(f"  worker: {call(gc.get_freeze_count):,} frozen; a full collection "
              f"{max(worker, 0) * 1e3:.1f} ms (beyond a call's {trip * 1e3:.1f} ms)")
    print(f"  CPU {pressure()}")


if __name__ == "__main__":
    main()

"""One neuron's computation graph: what GET /api/sessions/{id}/graph costs.

Prints, for the default network and the widest one the limits allow (16 neurons a layer), the
engine's neuron_graph alone and the whole route through a TestClient (worker, encoding, HTTP):
median over repeats, with the answer's size and the CPU stall beside them.

    python bench/graph.py
"""

import sys
from pathlib import Path

# Run from anywhere: the repository first, so that `app`, `engine` and `bench` are its packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from bench.machine import pressure, timed
from engine.graph import neuron_graph
from engine.network import make_network
from engine.optimizers import OPTIMIZERS
from engine.train import StepConfig, record_step

REPEATS = 200
NETWORKS = {"2-4-2-1 (default)": [4, 2], "2-16-16-1 (widest)": [16, 16]}


def median_ms(run, repeats=REPEATS) -> float:
    return 1000 * timed(run, repeats)


def engine_ms(hidden: list[int]) -> float:
    rng = np.random.default_rng(0)
    sizes = [2, *hidden, 1]
    net = make_network(sizes, ["tanh"] * len(hidden) + ["tanh"], rng=rng)
    X, Y = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))
    cfg = StepConfig()
    record = record_step(net, OPTIMIZERS["sgd"].init_state(net.layout.n_params), X, Y, cfg)
    return median_ms(lambda: neuron_graph(net, record, Y, cfg.loss, 2, 0, 3))


def route_ms(client: TestClient, hidden: list[int]) -> tuple[float, int]:
    made = client.post("/api/sessions", json={"hidden": hidden}).json()
    url = f"/api/sessions/{made['id']}"
    client.post(f"{url}/step", json={"steps": 1}, headers={"X-Control-Token": made["token"]})
    size = len(client.get(f"{url}/graph", params={"layer": 2, "node": 0}).content)
    return median_ms(lambda: client.get(f"{url}/graph", params={"layer": 2, "node": 0})), size


def main() -> None:
    with TestClient(create_app(Settings(workers=1))) as client:
        for name, hidden in NETWORKS.items():
            ms, size = route_ms(client, hidden)
            print(f"{name:20s} engine neuron_graph {engine_ms(hidden):6.3f} ms   "
                  f"GET /graph {ms:6.2f} ms   answer {size:6d} bytes   (median of {REPEATS})")
    print(f"CPU pressure: {pressure()}")


if __name__ == "__main__":
    main()

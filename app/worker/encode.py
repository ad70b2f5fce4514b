"""Engine records -> JSON-safe dicts in the API's numbering (layers k = 1..L at index k-1).

Non-finite numbers (a diverged step) become null: never NaN or Infinity in JSON.
"""

import json
import math

import numpy as np
import orjson

from engine.errors import EngineError
from engine.network import Layout, Network, make_network
from engine.optimizers import OPTIMIZERS, OptimizerState
from engine.trace import StepRecord


def dumps(value) -> bytes:
    """Compact JSON. orjson writes a large record about 20× faster than the json module (a
    state of 100,000 values: 5 against 200 ms) with the same shortest round-trip floats; a
    non-finite float that slipped past number() would come out as null, never as NaN. An
    export's 128-bit generator state is beyond orjson's integers: the json module writes it."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def number(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def array(values: np.ndarray) -> list:
    """Nested lists of floats, None where a value is not finite."""
    if np.isfinite(values).all():
        return values.tolist()
    return np.where(np.isfinite(values), values, None).tolist()


def metrics(values) -> dict:
    """Engine Metrics -> JSON: None where a set is empty or a loss overflowed."""
    return {name: None if v is None else number(v) for name, v in vars(values).items()}


def per_layer(values: list) -> list:
    """Engine lists (slot 0 unused) -> API lists for k = 1..L."""
    return [array(v) for v in values[1:]]


def params(layout: Layout, flat: np.ndarray) -> dict:
    W, b = layout.views(flat)
    return {"weights": per_layer(W), "biases": per_layer(b)}


def network(net: Network) -> dict:
    return {
        "layers": list(net.sizes),
        "activations": list(net.activations),
        **params(net.layout, net.theta),
    }


def optimizer_state(state: OptimizerState, layout: Layout) -> dict:
    return {
        "name": state.name,
        "t": state.t,
        **{slot: params(layout, values) for slot, values in state.slots.items()},
    }


def parse_optimizer_state(data: dict | None, name: str, layout: Layout) -> OptimizerState:
    """API optimizer_state (or None for a fresh start) -> engine OptimizerState."""
    optimizer = OPTIMIZERS[name]
    if data is None:
        return optimizer.init_state(layout.n_params)
    if data.get("name") != name:
        raise EngineError(
            f"optimizer_state: holds {data.get('name')} state, not {name}", "optimizer_state.name"
        )
    slots = {}
    for slot in optimizer.slot_names:
        given = data.get(slot)
        if not isinstance(given, dict):
            raise EngineError(
                f"optimizer_state.{slot}: missing for {name}", f"optimizer_state.{slot}"
            )
        slots[slot] = flat_params(
            layout, given.get("weights"), given.get("biases"), f"optimizer_state.{slot}"
        )
    return OptimizerState(name, int(data.get("t", 0)), slots)


def flat_params(layout: Layout, weights, biases, field: str) -> np.ndarray:
    """API weights and biases -> a flat vector, every shape checked against the layout."""
    if not isinstance(weights, list) or not isinstance(biases, list):
        raise EngineError(f"{field}: needs weights and biases lists", field)
    # make_network reads layers 1..L only: anything after them was dropped without a word
    needs = {"weights": "one matrix per layer after the input", "biases": f"{layout.L} vectors"}
    for name, given in (("weights", weights), ("biases", biases)):
        if len(given) > layout.L:
            raise EngineError(
                f"{field}.{name}: needs {needs[name]}, got {len(given)}: {name}[{layout.L}] is "
                f"beyond the network's {layout.L} layers (sizes {list(layout.sizes)})",
                f"{field}.{name}[{layout.L}]")
    try:
        # make_network checks each shape and that every value is finite; linear is arbitrary.
        return make_network(
            layout.sizes, ["linear"] * layout.L, W=[None, *weights], b=[None, *biases]
        ).theta
    except EngineError as err:
        inner = f"{field}.{err.field}" if err.field else field
        raise EngineError(f"{field}: {err}", inner) from err


def step_record(record: StepRecord) -> dict:
    """The per-step part of a /api/step response: loss, layers, gradients, updates."""
    L = record.layout.L
    return {
        "loss": number(record.E),
        "layers": [
            {"a": array(record.a[k]), "o": array(record.o[k]), "delta": array(record.delta[k])}
            for k in range(1, L + 1)
        ],
        "gradients": params(record.layout, record.backward.grad),
        "updates": params(record.layout, record.update),
    }


def step_response(
    record: StepRecord, net: Network, state: OptimizerState, losses: list, steps_taken: int
) -> dict:
    return {
        **step_record(record),
        "network": network(net),
        "optimizer_state": optimizer_state(state, net.layout),
        "losses": [number(E) for E in losses],
        "diverged": record.diverged,
        "steps_taken": steps_taken,
    }

"""The last step's record as NumPy arrays in the API's numbering: layers[k−1] is layer k."""

from dataclasses import dataclass

import numpy as np

from engine.trace import StepRecord


@dataclass(frozen=True)
class LayerRecord:
    """One layer k of a step: batch rows of a^k, o^k, δ^k; ∂E/∂W^k, ∂E/∂b^k and the
    updates ΔW^k, Δb^k that were added."""

    a: np.ndarray
    o: np.ndarray
    delta: np.ndarray
    dE_dW: np.ndarray
    dE_db: np.ndarray
    update_W: np.ndarray
    update_b: np.ndarray


@dataclass(frozen=True)
class Record:
    step: int
    loss: float                # E on the batch before the update, penalty included
    inputs: np.ndarray         # o^0: the batch's rows
    targets: np.ndarray | None
    layers: list[LayerRecord]
    diverged: bool


def record_of(record: StepRecord | None, step: int, batch) -> Record | None:
    """Copies, so that the learner's edits never reach the engine's own arrays."""
    if record is None:
        return None
    update_W, update_b = record.update_W, record.update_b
    layers = [
        LayerRecord(*(np.array(values[k]) for values in (
            record.a, record.o, record.delta, record.dE_dW, record.dE_db, update_W, update_b)))
        for k in range(1, record.layout.L + 1)
    ]
    targets = None if batch is None else np.array(batch[1])
    return Record(step, float(record.E), np.array(record.o[0]), targets, layers, record.diverged)

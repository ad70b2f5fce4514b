"""Penalties added to E on the weights only (biases are never regularised).

l1: λ Σ|w|, ∂/∂w = λ sign(w);  l2: (λ/2) Σ w², ∂/∂w = λ w.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Regularizer:
    name: str
    penalty: Callable[[np.ndarray, float], float]      # (weights, λ) -> added to E
    grad: Callable[[np.ndarray, float], np.ndarray]    # (weights, λ) -> added to ∂E/∂w


REGULARIZERS: dict[str, Regularizer] = {
    "l1": Regularizer(
        "l1", lambda w, lam: lam * float(np.abs(w).sum()), lambda w, lam: lam * np.sign(w)
    ),
    "l2": Regularizer(
        "l2", lambda w, lam: 0.5 * lam * float(np.vdot(w, w)), lambda w, lam: lam * w
    ),
}

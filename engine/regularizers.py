"""Penalties added to E on the weights only (biases are never regularised).

l1: λ Σ|w|, ∂/∂w = λ sign(w);  l2: (λ/2) Σ w², ∂/∂w = λ w.

Each entry gives its penalty over NumPy arrays (train.py) and again per weight, without λ
(penalty_at, grad_at: the compiled loop's form, which engine/compiled.py builds its kernel from).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Regularizer:
    name: str
    penalty: Callable[[np.ndarray, float], float]      # (weights, λ) -> added to E
    grad: Callable[[np.ndarray, float], np.ndarray]    # (weights, λ) -> added to ∂E/∂w
    penalty_at: Callable[[float], float] | None = None  # w -> its term of the penalty / λ
    grad_at: Callable[[float], float] | None = None     # w -> its ∂/∂w of the penalty / λ


REGULARIZERS: dict[str, Regularizer] = {
    "l1": Regularizer(
        "l1", lambda w, lam: lam * float(np.abs(w).sum()), lambda w, lam: lam * np.sign(w),
        penalty_at=lambda w: abs(w),
        grad_at=lambda w: 1.0 if w > 0.0 else -1.0 if w < 0.0 else w,   # sign(w), nan kept
    ),
    "l2": Regularizer(
        "l2", lambda w, lam: 0.5 * lam * float(np.vdot(w, w)), lambda w, lam: lam * w,
        penalty_at=lambda w: 0.5 * w * w, grad_at=lambda w: w,
    ),
}

"""Activations g and their derivatives g'(a), given both a^k and o^k = g(a^k).

sigmoid σ(a) = 1/(1+e^{-a}), σ' = o(1−o);  tanh' = 1−o²;  relu' = [a>0];
leaky_relu' = 1 or 0.01;  linear' = 1;  softmax is row-wise and only ever used on the
output layer fused with softmax_ce (see losses.py), so it has no elementwise g'.

Each entry gives its formula twice, side by side: over NumPy arrays (train.py, the reference)
and over one number (g_at, dg_at; or g_rows for a row-wise g), the form the compiled loop
inlines (engine/compiled.py builds its kernel from these entries; the scalar forms use only
math, so numba compiles them as they stand).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    name: str
    g: Callable[[np.ndarray], np.ndarray]
    dg: Callable[[np.ndarray, np.ndarray], np.ndarray] | None
    output_only: bool = False
    min_outputs: int = 1     # softmax over one node is always 1: it needs two or more
    unit: bool = False       # o ∈ [0, 1]: ±1 labels become 0/1 targets, drawn on [0, 1]
    # The compiled loop's forms: o = g(a) and g'(a, o) of one number, or (a g over each row,
    # as softmax) g_rows(a, o, N, n) filling o[:N, :n] from a[:N, :n].
    g_at: Callable[[float], float] | None = None
    dg_at: Callable[[float, float], float] | None = None
    g_rows: Callable[[np.ndarray, np.ndarray, int, int], None] | None = None


def _sigmoid(a):
    # 0.5(1+tanh(a/2)) equals σ(a) and never overflows, unlike 1/(1+exp(-a)).
    return 0.5 + 0.5 * np.tanh(0.5 * a)


def _softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))  # shift: exp never overflows
    return e / e.sum(axis=1, keepdims=True)


def row_max(a, d, n):
    """max_j a[d, j] over the first n columns; nan wins, as in a.max()."""
    top = a[d, 0]
    for j in range(1, n):
        if a[d, j] > top or math.isnan(a[d, j]):
            top = a[d, j]
    return top


def _softmax_rows(a, o, N, n):
    for d in range(N):
        top, total = row_max(a, d, n), 0.0
        for j in range(n):
            o[d, j] = math.exp(a[d, j] - top)                  # shifted: exp never overflows
            total += o[d, j]
        for j in range(n):
            o[d, j] /= total


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid", _sigmoid, lambda a, o: o * (1.0 - o), unit=True,
        g_at=lambda a: 0.5 + 0.5 * math.tanh(0.5 * a), dg_at=lambda a, o: o * (1.0 - o),
    ),
    "tanh": Activation("tanh", np.tanh, lambda a, o: 1.0 - o * o,
                       g_at=lambda a: math.tanh(a), dg_at=lambda a, o: 1.0 - o * o),
    "relu": Activation(
        "relu", lambda a: np.maximum(a, 0.0), lambda a, o: (a > 0).astype(a.dtype),
        g_at=lambda a: 0.0 if a <= 0.0 else a,                 # nan stays nan, as np.maximum
        dg_at=lambda a, o: 1.0 if a > 0.0 else 0.0,
    ),
    "leaky_relu": Activation(
        "leaky_relu",
        lambda a: np.where(a > 0, a, LEAKY_SLOPE * a),
        lambda a, o: np.where(a > 0, 1.0, LEAKY_SLOPE),
        g_at=lambda a: a if a > 0.0 else LEAKY_SLOPE * a,
        dg_at=lambda a, o: 1.0 if a > 0.0 else LEAKY_SLOPE,
    ),
    "linear": Activation("linear", lambda a: a, lambda a, o: np.ones_like(a),
                         g_at=lambda a: a, dg_at=lambda a, o: 1.0),
    "softmax": Activation("softmax", _softmax, None, output_only=True, min_outputs=2, unit=True,
                          g_rows=_softmax_rows),
}

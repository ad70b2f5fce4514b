"""Activations g and their derivatives g'(a), given both a^k and o^k = g(a^k).

sigmoid σ(a) = 1/(1+e^{-a}), σ' = o(1−o);  tanh' = 1−o²;  relu' = [a>0];
leaky_relu' = 1 or 0.01;  linear' = 1;  softmax is row-wise and only ever used on the
output layer fused with softmax_ce (see losses.py), so it has no elementwise g'.
"""

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


def _sigmoid(a):
    # 0.5(1+tanh(a/2)) equals σ(a) and never overflows, unlike 1/(1+exp(-a)).
    return 0.5 + 0.5 * np.tanh(0.5 * a)


def _softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))  # shift: exp never overflows
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", _sigmoid, lambda a, o: o * (1.0 - o), unit=True),
    "tanh": Activation("tanh", np.tanh, lambda a, o: 1.0 - o * o),
    "relu": Activation("relu", lambda a: np.maximum(a, 0.0), lambda a, o: (a > 0).astype(a.dtype)),
    "leaky_relu": Activation(
        "leaky_relu",
        lambda a: np.where(a > 0, a, LEAKY_SLOPE * a),
        lambda a, o: np.where(a > 0, 1.0, LEAKY_SLOPE),
    ),
    "linear": Activation("linear", lambda a: a, lambda a, o: np.ones_like(a)),
    "softmax": Activation("softmax", _softmax, None, output_only=True, min_outputs=2, unit=True),
}

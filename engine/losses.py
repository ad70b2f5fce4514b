"""Losses over a batch of N examples: mean over examples, sum over output nodes.

mse  E = (1/N) Σ_d Σ_j ½(ŷ−y)²             ∂E/∂ŷ = (ŷ−y)/N
bce  E = −(1/N) Σ_d Σ_j [y log ŷ + (1−y) log(1−ŷ)]   (sigmoid output)
softmax_ce  E = −(1/N) Σ_d Σ_j y log ŷ              (softmax output)
Fused output delta δ^L = (ŷ−y)/N for bce∘sigmoid and softmax_ce∘softmax.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Loss:
    name: str
    E: Callable[[np.ndarray, np.ndarray, np.ndarray], float]  # (a^L, o^L, Y) -> E
    dE_do: Callable[[np.ndarray, np.ndarray], np.ndarray] | None  # (o^L, Y) -> ∂E/∂o^L
    # The cross-entropies are fused with their output activation: the product g'·∂E/∂o
    # collapses to (ŷ−y)/N, which is exact where the separate factors would be 0·∞.
    output_delta: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    requires_output: str | None = None


def _mse(a, o, Y):
    r = o - Y
    return 0.5 * float(np.vdot(r, r)) / len(Y)


def _bce(a, o, Y):
    # log σ(a) = −log(1+e^{−a}) and log(1−σ(a)) = −log(1+e^{a}): finite for any logit.
    return float(np.sum(Y * np.logaddexp(0.0, -a) + (1.0 - Y) * np.logaddexp(0.0, a))) / len(Y)


def _softmax_ce(a, o, Y):
    shifted = a - a.max(axis=1, keepdims=True)
    log_o = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log softmax
    return -float(np.sum(Y * log_o)) / len(Y)


def _residual_over_n(o, Y):
    return (o - Y) * (1.0 / len(Y))


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", _mse, _residual_over_n),
    "bce": Loss("bce", _bce, None, output_delta=_residual_over_n, requires_output="sigmoid"),
    "softmax_ce": Loss(
        "softmax_ce", _softmax_ce, None, output_delta=_residual_over_n, requires_output="softmax"
    ),
}

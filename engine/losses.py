"""Losses over a batch of N examples: mean over examples, sum over output nodes.

mse  E = (1/N) Σ_d Σ_j ½(ŷ−y)²             ∂E/∂ŷ = (ŷ−y)/N
bce  E = −(1/N) Σ_d Σ_j [y log ŷ + (1−y) log(1−ŷ)]   (sigmoid output)
softmax_ce  E = −(1/N) Σ_d Σ_j y log ŷ              (softmax output)
Fused output delta δ^L = (ŷ−y)/N for bce∘sigmoid and softmax_ce∘softmax.

Each entry gives E over NumPy arrays (train.py, the reference) and again as the scalar loop
the compiled loop runs (E_rows; delta_at for ∂E/∂ŷ, or the fused δ^L, of one output):
engine/compiled.py builds its kernel from these entries.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.activations import ACTIVATIONS, row_max
from engine.errors import EngineError


@dataclass(frozen=True)
class Loss:
    name: str
    E: Callable[[np.ndarray, np.ndarray, np.ndarray], float]  # (a^L, o^L, Y) -> E
    dE_do: Callable[[np.ndarray, np.ndarray], np.ndarray] | None  # (o^L, Y) -> ∂E/∂o^L
    # The cross-entropies are fused with their output activation: the product g'·∂E/∂o
    # collapses to (ŷ−y)/N, which is exact where the separate factors would be 0·∞.
    output_delta: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    requires_output: str | None = None
    targets_within: tuple[float, float] | None = None   # (low, high): what the loss can take
    within_why: str = ""                                # …and what such targets are
    equation: str = ""                                  # E in TeX, as the page shows it
    # The compiled loop's forms: E_rows(a^L, o^L, Y, N, n) -> E over the batch's first N rows,
    # and delta_at(ŷ, y, N) -> ∂E/∂ŷ of one output (the fused δ^L where output_delta is set).
    E_rows: Callable[[np.ndarray, np.ndarray, np.ndarray, int, int], float] | None = None
    delta_at: Callable[[float, float, int], float] | None = None

    @property
    def fused(self) -> bool:
        return self.output_delta is not None


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


def _residual_over_n_at(o, y, N):
    return (o - y) * (1.0 / N)                                # (ŷ − y)/N


def _mse_rows(a, o, Y, N, n):
    total = 0.0
    for d in range(N):
        for j in range(n):
            total += (o[d, j] - Y[d, j]) * (o[d, j] - Y[d, j])  # Σ (ŷ−y)²
    return 0.5 * total / N


LOG_2 = math.log(2.0)


def _softplus(x):
    # log(1 + e^x) by np.logaddexp(0, x)'s branches: finite for any finite logit.
    if x == 0.0:
        return LOG_2
    if x < 0.0:
        return math.log1p(math.exp(x))
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return x


def _bce_rows(a, o, Y, N, n):
    total = 0.0
    for d in range(N):
        for j in range(n):
            y = Y[d, j]
            total += y * _softplus(-a[d, j]) + (1.0 - y) * _softplus(a[d, j])
    return total / N


def _softmax_ce_rows(a, o, Y, N, n):
    total = 0.0
    for d in range(N):
        top, sum_exp = row_max(a, d, n), 0.0
        for j in range(n):
            sum_exp += math.exp(a[d, j] - top)
        log_sum = math.log(sum_exp)
        for j in range(n):
            total += Y[d, j] * ((a[d, j] - top) - log_sum)      # y log ŷ by log-softmax
    return -total / N


LOSSES: dict[str, Loss] = {
    "mse": Loss(
        "mse", _mse, _residual_over_n, E_rows=_mse_rows, delta_at=_residual_over_n_at,
        equation=r"\frac{1}{N}\sum_d \sum_j \tfrac12 (\hat y_{dj} - y_{dj})^2",
    ),
    "bce": Loss(
        "bce", _bce, None, output_delta=_residual_over_n, requires_output="sigmoid",
        E_rows=_bce_rows, delta_at=_residual_over_n_at,
        targets_within=(0.0, 1.0), within_why="labels ±1 become 0 and 1",
        equation=r"-\frac{1}{N}\sum_d \sum_j "
        r"\left[y \log \hat y + (1 - y) \log (1 - \hat y)\right]",
    ),
    "softmax_ce": Loss(
        "softmax_ce", _softmax_ce, None, output_delta=_residual_over_n, requires_output="softmax",
        E_rows=_softmax_ce_rows, delta_at=_residual_over_n_at,
        targets_within=(0.0, math.inf), within_why="class probabilities, a one-hot row per point",
        equation=r"-\frac{1}{N}\sum_d \sum_j y_{dj} \log \hat y_{dj}",
    ),
}


def check_pairing(loss: str, output: str, n_out: int | None = None) -> None:
    """Raise EngineError (field "loss", or "layers" for too few outputs) unless `loss` can train
    an output layer of `output` with n_out nodes. An output activation without an elementwise
    g' (softmax) trains only with the loss fused with it."""
    if loss not in LOSSES:
        raise EngineError(f"loss: unknown loss {loss!r}; choose one of {sorted(LOSSES)}", "loss")
    required = LOSSES[loss].requires_output
    if required is not None and output != required:
        raise EngineError(f"loss: {loss} needs a {required} output layer, got {output}", "loss")
    if output in ACTIVATIONS and ACTIVATIONS[output].dg is None and required != output:
        raise EngineError(
            f"loss: a {output} output layer needs {default_loss(output)}, got {loss}", "loss"
        )
    least = ACTIVATIONS[output].min_outputs if output in ACTIVATIONS else 1
    if n_out is not None and n_out < least:
        raise EngineError(
            f"layers: {output} over {n_out} output node is constant (the loss never moves); "
            f"it needs {least} or more output nodes: use tanh or sigmoid (with bce) for two "
            "classes, linear for regression", "layers",
        )


def default_loss(output: str) -> str:
    """mse, or the loss an output activation without an elementwise g' fuses with (softmax:
    softmax_ce)."""
    if output in ACTIVATIONS and ACTIVATIONS[output].dg is None:
        return next(name for name, spec in LOSSES.items() if spec.requires_output == output)
    return "mse"


def check_targets(loss: str, values) -> None:
    """Raise EngineError (field "targets") if a target lies outside what `loss` can take."""
    within = LOSSES[loss].targets_within
    if within is None or len(values) == 0:
        return
    low, high = within
    values = np.asarray(values, dtype=np.float64)
    if values.min() < low or values.max() > high:
        shown = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"≥ {low:g}"
        raise EngineError(
            f"targets: {loss} needs targets {shown} ({LOSSES[loss].within_why}); these reach "
            "outside it: use mse", "targets",
        )

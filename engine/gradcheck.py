"""Gradient check: analytic ∂E/∂θ from backprop against central differences.

numeric ∂E/∂θ_i ≈ (E(θ + ε e_i) − E(θ − ε e_i)) / 2ε;
relative error |analytic − numeric| / max(|analytic|, |numeric|, floor).
"""

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from engine.network import Layout, Network, forward
from engine.trace import Forward
from engine.train import StepConfig, backward, check_config, loss_value

# Below this size a gradient is compared absolutely: float64 round-off in E is ~1e-16/ε.
RELATIVE_FLOOR = 1e-3


@dataclass(frozen=True)
class GradCheck:
    analytic: np.ndarray      # flat ∂E/∂θ from backward()
    numeric: np.ndarray       # flat central differences
    layout: Layout

    @property
    def relative_error(self) -> np.ndarray:
        return relative_error(self.analytic, self.numeric)

    @property
    def max_relative_error(self) -> float:
        return float(self.relative_error.max(initial=0.0))


def relative_error(analytic, numeric):
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), RELATIVE_FLOOR)
    return np.abs(analytic - numeric) / scale


def loss_at(
    net: Network, theta: np.ndarray, X: np.ndarray, Y: np.ndarray, cfg: StepConfig
) -> float:
    """E with the parameters replaced by theta; net itself is not changed."""
    probe = Network(net.sizes, net.activations, theta)
    a, o = forward(probe, X)
    return loss_value(probe, a[probe.L], o[probe.L], Y, cfg)


def numeric_gradient(
    net: Network, X: np.ndarray, Y: np.ndarray, cfg: StepConfig, index: int, eps: float = 1e-6
) -> float:
    """Central difference for the flat parameter θ[index]. X: (N, n_0), Y: (N, n_L)."""
    theta = net.theta.copy()
    theta[index] += eps
    E_plus = loss_at(net, theta, X, Y, cfg)
    theta[index] -= 2 * eps
    E_minus = loss_at(net, theta, X, Y, cfg)
    return (E_plus - E_minus) / (2 * eps)


def analytic_gradient(net: Network, X: np.ndarray, Y: np.ndarray, cfg: StepConfig) -> np.ndarray:
    """Flat ∂E/∂θ by backprop. X: (N, n_0), Y: (N, n_L)."""
    a, o = forward(net, X)
    return backward(net, Forward(a, o), Y, cfg).grad


def gradcheck(
    net: Network, X: np.ndarray, Y: np.ndarray, cfg: StepConfig, eps: float = 1e-6
) -> GradCheck:
    """Analytic against numeric gradients for every weight and bias of net."""
    parts = gradcheck_in_parts(net, X, Y, cfg, eps)
    while True:
        try:
            next(parts)
        except StopIteration as done:
            return done.value


def gradcheck_in_parts(
    net: Network, X: np.ndarray, Y: np.ndarray, cfg: StepConfig, eps: float = 1e-6
) -> Generator[int, None, GradCheck]:
    """gradcheck() a parameter at a time: yields the central differences taken so far after
    each, so that a caller may stop between any two (a server answering others meanwhile),
    and returns the GradCheck."""
    check_config(net, cfg)
    numeric = []
    for i in range(net.layout.n_params):
        numeric.append(numeric_gradient(net, X, Y, cfg, i, eps))
        yield i + 1
    return GradCheck(analytic_gradient(net, X, Y, cfg), np.array(numeric), net.layout)

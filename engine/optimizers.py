"""Optimizers on the flat gradient g = ∂E/∂θ; each returns the update added to θ.

sgd       Δθ = −α g
momentum  v ← μ v − α g;  Δθ = v
adam      m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);
          Δθ = −α m̂ / (√v̂ + ε)

Each entry gives its rule over NumPy arrays (step, train.py's reference) and again as the scalar
loop the compiled loop runs (update_loop: engine/compiled.py builds its kernel from these entries).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter: its OptimizerConfig field, default, bounds and symbol on the page."""

    name: str
    default: float
    low: float                   # low ≤ value (low < value where low_open)
    high: float | None = None    # value < high
    low_open: bool = False
    symbol: str = ""


_BETA = {"low": 0.0, "high": 1.0}
MOMENTUM = Hyper("momentum", 0.9, **_BETA, symbol="μ")
BETA1 = Hyper("beta1", 0.9, **_BETA, symbol="β₁")
BETA2 = Hyper("beta2", 0.999, **_BETA, symbol="β₂")
EPSILON = Hyper("epsilon", 1e-8, 0.0, low_open=True, symbol="ε")
SGD_RATE = 0.03   # TensorFlow Playground's α: the default of every run and of sgd


@dataclass(frozen=True)
class OptimizerConfig:
    """Every optimizer's numbers; each uses the learning rate and its own hypers."""

    name: str = "sgd"
    learning_rate: float = SGD_RATE
    momentum: float = MOMENTUM.default
    beta1: float = BETA1.default
    beta2: float = BETA2.default
    epsilon: float = EPSILON.default


@dataclass(frozen=True)
class OptimizerState:
    """t counts updates taken; slots hold flat arrays shaped like θ (velocity, m, v)."""

    name: str
    t: int = 0
    slots: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Optimizer:
    name: str
    slot_names: tuple[str, ...]
    step: Callable[[np.ndarray, OptimizerState, OptimizerConfig], tuple]  # -> (Δθ, state)
    learning_rate: float = 0.03           # the API's default α for this optimizer
    hypers: tuple[Hyper, ...] = ()        # beyond the learning rate
    title: str = ""                       # the schema's name for it
    equation: str = ""                    # Δθ in TeX, as the page's step-through shows it
    # The compiled loop's form: update_loop(g, slots, slots_new, hyper, t, update) writes Δθ
    # into update and the new slots (rows in slot_names' order) into slots_new, for every
    # parameter p; hyper = (α, *hypers' values in order), t the update's number (1 first).
    update_loop: Callable[..., None] | None = None

    def init_state(self, n_params: int) -> OptimizerState:
        return OptimizerState(self.name, 0, {s: np.zeros(n_params) for s in self.slot_names})


def _sgd(g, state, cfg):
    return g * -cfg.learning_rate, OptimizerState("sgd", state.t + 1)


def _momentum(g, state, cfg):
    velocity = cfg.momentum * state.slots["velocity"] - cfg.learning_rate * g   # v ← μv − αg
    return velocity, OptimizerState("momentum", state.t + 1, {"velocity": velocity})


def _adam(g, state, cfg):
    t = state.t + 1
    m = cfg.beta1 * state.slots["m"] + (1.0 - cfg.beta1) * g                    # first moment
    v = cfg.beta2 * state.slots["v"] + (1.0 - cfg.beta2) * (g * g)              # second moment
    m_hat = m / (1.0 - cfg.beta1**t)
    v_hat = v / (1.0 - cfg.beta2**t)
    update = -cfg.learning_rate * m_hat / (np.sqrt(v_hat) + cfg.epsilon)
    return update, OptimizerState("adam", t, {"m": m, "v": v})


def _sgd_loop(g, slots, slots_new, hyper, t, update):
    lr = hyper[0]
    for p in range(len(g)):
        update[p] = g[p] * -lr                                  # Δθ = −α g


def _momentum_loop(g, slots, slots_new, hyper, t, update):
    lr, mu = hyper[0], hyper[1]
    for p in range(len(g)):
        slots_new[0, p] = mu * slots[0, p] - lr * g[p]          # v ← μv − αg
        update[p] = slots_new[0, p]


def _adam_loop(g, slots, slots_new, hyper, t, update):
    lr, beta1, beta2, eps = hyper[0], hyper[1], hyper[2], hyper[3]
    # float(t): pow(β, t) as Python's β**t computes it, not numba's integer power.
    correction1, correction2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
    for p in range(len(g)):
        m = beta1 * slots[0, p] + (1.0 - beta1) * g[p]
        v = beta2 * slots[1, p] + (1.0 - beta2) * (g[p] * g[p])
        slots_new[0, p], slots_new[1, p] = m, v
        update[p] = -lr * (m / correction1) / (math.sqrt(v / correction2) + eps)


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer(
        "sgd", (), _sgd, SGD_RATE, title="SGD",
        equation=r"\Delta\theta = -\alpha\, g", update_loop=_sgd_loop,
    ),
    "momentum": Optimizer(
        "momentum", ("velocity",), _momentum, 0.1, (MOMENTUM,),
        title="Momentum", equation=r"v \leftarrow \mu v - \alpha g,\quad \Delta\theta = v",
        update_loop=_momentum_loop,
    ),
    "adam": Optimizer(
        "adam", ("m", "v"), _adam, 0.01,
        (BETA1, BETA2, EPSILON),
        title="Adam",
        equation=r"\Delta\theta = -\alpha\, \hat m / (\sqrt{\hat v} + \epsilon),\quad "
        r"\hat m = \frac{m}{1-\beta_1^t},\ \hat v = \frac{v}{1-\beta_2^t}",
        update_loop=_adam_loop,
    ),
}

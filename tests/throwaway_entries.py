"""A throwaway activation (softsign) and optimizer (nesterov), each written as a new registry
entry would be: its NumPy formula and its scalar form for the compiled loop, nothing else.
tests/test_new_entries.py adds them and runs the registry checks again."""

from contextlib import contextmanager

import numpy as np

from engine.activations import ACTIVATIONS, Activation
from engine.optimizers import MOMENTUM, OPTIMIZERS, Optimizer, OptimizerState

# softsign g(a) = a / (1 + |a|),  g' = 1 / (1 + |a|)²
SOFTSIGN = Activation(
    "softsign", lambda a: a / (1.0 + np.abs(a)), lambda a, o: 1.0 / (1.0 + np.abs(a)) ** 2,
    g_at=lambda a: a / (1.0 + abs(a)), dg_at=lambda a, o: 1.0 / ((1.0 + abs(a)) * (1.0 + abs(a))),
)


def _nesterov(g, state, cfg):
    buffer = cfg.momentum * state.slots["buffer"] - cfg.learning_rate * g   # v ← μv − αg
    update = cfg.momentum * buffer - cfg.learning_rate * g                 # Δθ = μv − αg
    return update, OptimizerState("nesterov", state.t + 1, {"buffer": buffer})


def _nesterov_loop(g, slots, slots_new, hyper, t, update):
    lr, mu = hyper[0], hyper[1]
    for p in range(len(g)):
        slots_new[0, p] = mu * slots[0, p] - lr * g[p]
        update[p] = mu * slots_new[0, p] - lr * g[p]


# A slot name no other optimizer has, and a hyper shared with momentum.
NESTEROV = Optimizer("nesterov", ("buffer",), _nesterov, 0.05, (MOMENTUM,), title="Nesterov",
                     equation=r"v \leftarrow \mu v - \alpha g,\quad "
                     r"\Delta\theta = \mu v - \alpha g",
                     update_loop=_nesterov_loop)
NAMES = ("softsign", "nesterov")


@contextmanager
def registered():
    """The registries with softsign and nesterov added, as they were again afterwards."""
    ACTIVATIONS["softsign"], OPTIMIZERS["nesterov"] = SOFTSIGN, NESTEROV
    try:
        yield
    finally:
        del ACTIVATIONS["softsign"], OPTIMIZERS["nesterov"]

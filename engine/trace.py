"""Records of what one training step did, layer by layer (slot 0 unused except o[0] = X).

a[k], o[k], delta[k]: (N, n_k);  dE_dW[k], update_W[k]: (n_{k-1}, n_k);
dE_db[k], update_b[k]: (n_k,).
The per-layer gradient and update arrays are views into the flat vectors the optimizer used.
"""

from dataclasses import dataclass

import numpy as np

from engine.network import Layout


@dataclass(frozen=True)
class Forward:
    a: list
    o: list


@dataclass(frozen=True)
class Backward:
    delta: list
    dE_dW: list
    dE_db: list
    grad: np.ndarray          # flat ∂E/∂θ that dE_dW and dE_db view


@dataclass(frozen=True)
class StepRecord:
    E: float                  # loss on the batch before the update, penalty included
    forward: Forward
    backward: Backward
    update: np.ndarray        # flat Δθ added to θ (zero where biases are fixed)
    layout: Layout
    diverged: bool            # True: E or the new θ was not finite, and θ was left unchanged

    @property
    def a(self) -> list:
        return self.forward.a

    @property
    def o(self) -> list:
        return self.forward.o

    @property
    def delta(self) -> list:
        return self.backward.delta

    @property
    def dE_dW(self) -> list:
        return self.backward.dE_dW

    @property
    def dE_db(self) -> list:
        return self.backward.dE_db

    @property
    def update_W(self) -> list:
        return self.layout.views(self.update)[0]

    @property
    def update_b(self) -> list:
        return self.layout.views(self.update)[1]

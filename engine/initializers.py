"""Weight initialisers, always drawn from a caller's seeded numpy Generator.

xavier: U(±√(6/(n_in+n_out))), biases 0;  he: N(0, 2/n_in), biases 0;
uniform: U(±0.5), biases 0.1 (TensorFlow Playground's start).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Initializer:
    name: str
    W: Callable[[int, int, np.random.Generator], np.ndarray]
    bias: float

    def b(self, n: int) -> np.ndarray:
        return np.full(n, self.bias)


def _xavier(m, n, rng):
    limit = np.sqrt(6.0 / (m + n))
    return rng.uniform(-limit, limit, size=(m, n))


INITIALIZERS: dict[str, Initializer] = {
    "xavier": Initializer("xavier", _xavier, 0.0),
    "he": Initializer("he", lambda m, n, rng: rng.normal(0.0, np.sqrt(2.0 / m), size=(m, n)), 0.0),
    "uniform": Initializer("uniform", lambda m, n, rng: rng.uniform(-0.5, 0.5, size=(m, n)), 0.1),
}

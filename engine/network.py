"""A multilayer perceptron: a^k = o^{k-1} W^k + b^k, o^k = g_k(a^k), o^0 = X.

All parameters live in one flat vector theta (every W^k, then every b^k); W[k] and b[k]
are views into it, so an optimizer updates the whole network in one array operation.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from engine.activations import ACTIVATIONS, Activation
from engine.errors import EngineError
from engine.initializers import INITIALIZERS


@dataclass(frozen=True)
class Layout:
    """Where each W^k and b^k sits inside a flat parameter vector."""

    sizes: tuple[int, ...]

    @cached_property
    def L(self) -> int:
        return len(self.sizes) - 1

    @cached_property
    def n_weights(self) -> int:
        return sum(m * n for m, n in zip(self.sizes, self.sizes[1:], strict=False))

    @cached_property
    def n_params(self) -> int:
        return self.n_weights + sum(self.sizes[1:])

    @cached_property
    def spans(self) -> tuple[tuple[int, int, int, int, int, int], ...]:
        """(W start, W end, n_{k-1}, n_k, b start, b end) for k = 1..L."""
        spans, w_at, b_at = [], 0, self.n_weights
        for m, n in zip(self.sizes, self.sizes[1:], strict=False):
            spans.append((w_at, w_at + m * n, m, n, b_at, b_at + n))
            w_at, b_at = w_at + m * n, b_at + n
        return tuple(spans)

    def views(self, flat: np.ndarray) -> tuple[list, list]:
        """Split flat (n_params,) into W[k] (n_{k-1}, n_k) and b[k] (n_k,), slot 0 None."""
        W = [None] + [flat[w0:w1].reshape(m, n) for w0, w1, m, n, _, _ in self.spans]
        b = [None] + [flat[b0:b1] for _, _, _, _, b0, b1 in self.spans]
        return W, b

    def flatten(self, W: Sequence, b: Sequence) -> np.ndarray:
        """Inverse of views: per-layer lists (slot 0 ignored) -> one flat vector."""
        flat = np.empty(self.n_params)
        W_view, b_view = self.views(flat)
        for k in range(1, self.L + 1):
            W_view[k][...] = W[k]
            b_view[k][...] = b[k]
        return flat


class Network:
    """Layer sizes, one activation per layer k = 1..L, and the parameters theta."""

    def __init__(self, sizes: Sequence[int], activations: Sequence[str], theta: np.ndarray):
        self.layout = Layout(tuple(int(n) for n in sizes))
        self.activations = tuple(activations)
        self.theta = theta
        self.W, self.b = self.layout.views(theta)
        self.g: list[Activation | None] = [None] + [ACTIVATIONS[n] for n in self.activations]

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.layout.sizes

    @property
    def L(self) -> int:
        return len(self.activations)

    def copy(self) -> "Network":
        return Network(self.sizes, self.activations, self.theta.copy())

    def set_activation(self, k: int, name: str) -> None:
        acts = list(self.activations)
        acts[k - 1] = name
        check_architecture(self.sizes, acts)
        self.activations = tuple(acts)
        self.g[k] = ACTIVATIONS[name]


def check_architecture(sizes: Sequence[int], activations: Sequence[str]) -> None:
    if len(sizes) < 2:
        raise EngineError(f"layers needs at least an input and an output layer, got {len(sizes)}",
                          "layers")
    if any(int(n) < 1 for n in sizes):
        raise EngineError(f"every layer needs at least one node, got {list(sizes)}", "layers")
    if len(activations) != len(sizes) - 1:
        raise EngineError(
            f"activations needs one name per layer after the input ({len(sizes) - 1}), "
            f"got {len(activations)}", "activations",
        )
    for k, name in enumerate(activations, start=1):
        if name not in ACTIVATIONS:
            raise EngineError(
                f"activations[{k - 1}]: unknown activation {name!r}; "
                f"choose one of {sorted(ACTIVATIONS)}", f"activations[{k - 1}]",
            )
        if ACTIVATIONS[name].output_only and k != len(activations):
            raise EngineError(
                f"activations[{k - 1}]: {name} is allowed on the output layer only",
                f"activations[{k - 1}]",
            )


def make_network(
    sizes: Sequence[int],
    activations: Sequence[str],
    W: Sequence | None = None,
    b: Sequence | None = None,
    init: str = "xavier",
    rng: np.random.Generator | None = None,
) -> Network:
    """Build a network. W[k]: (n_{k-1}, n_k), b[k]: (n_k,) for k = 1..L, slot 0 None.

    Where W or b is None it is initialised by `init` from `rng`.
    """
    check_architecture(sizes, activations)
    layout = Layout(tuple(int(n) for n in sizes))
    if init not in INITIALIZERS:
        raise EngineError(
            f"init: unknown initializer {init!r}; choose one of {sorted(INITIALIZERS)}", "init"
        )
    initializer = INITIALIZERS[init]
    if (W is None or b is None) and rng is None:
        raise EngineError("an rng is needed to initialise weights or biases that are not given")
    W_init, b_init = [None], [None]
    for k in range(1, layout.L + 1):
        m, n = layout.sizes[k - 1], layout.sizes[k]
        W_k = _given("weights", W, k, (m, n)) if W is not None else initializer.W(m, n, rng)
        W_init.append(W_k)
        b_init.append(_given("biases", b, k, (n,)) if b is not None else initializer.b(n))
    return Network(layout.sizes, activations, layout.flatten(W_init, b_init))


def _given(field: str, values: Sequence, k: int, shape: tuple[int, ...]) -> np.ndarray:
    if len(values) <= k:
        raise EngineError(f"{field}: no entry for layer {k}", field)
    try:
        array = np.asarray(values[k], dtype=np.float64)
    except (ValueError, TypeError) as err:
        raise EngineError(
            f"{field}[{k - 1}]: not a rectangular array of numbers", f"{field}[{k - 1}]"
        ) from err
    if array.shape != shape:
        raise EngineError(
            f"{field}[{k - 1}]: expected shape {shape}, got {array.shape}", f"{field}[{k - 1}]"
        )
    if not np.isfinite(array).all():
        raise EngineError(f"{field}[{k - 1}]: values must be finite numbers", f"{field}[{k - 1}]")
    return array


def forward(net: Network, X: np.ndarray) -> tuple[list, list]:
    """Forward pass. X: (N, n_0); returns a[k], o[k] for k = 0..L (a[0] is None, o[0] is X)."""
    a, o = [None], [X]
    for k in range(1, net.L + 1):
        a_k = o[k - 1] @ net.W[k]
        a_k += net.b[k]                                       # a^k = o^{k-1} W^k + b^k
        a.append(a_k)
        o.append(net.g[k].g(a_k))                             # o^k = g_k(a^k)
    return a, o

"""One neuron's computation, as micrograd draws it, for example d of a recorded step.

p_i = o_i^{k-1} · w_ij^k;  s = Σ_i p_i;  a_j^k = s + b_j^k;  o_j^k = g_k(a_j^k);  then E.
Backward, one node at a time: ∂E/∂o_j^k = Σ_m w_jm^{k+1} δ_m^{k+1} (∂E/∂ŷ_j at k = L);
δ_j = ∂E/∂a_j = g'(a_j) ∂E/∂o_j = ∂E/∂s = ∂E/∂b_j = ∂E/∂p_i;
∂E/∂w_ij = δ_j o_i;  ∂E/∂o_i through this neuron = δ_j w_ij.
"""

from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError
from engine.losses import LOSSES
from engine.network import Network
from engine.trace import StepRecord


@dataclass(frozen=True)
class OpNode:
    """One node of the graph: a leaf (o_i, w_ij, b_j), an operation (×, Σ, +, g) or E."""

    name: str                  # "o0", "w0", "p0" … "s", "b", "a", "o", "E"
    op: str                    # "input" | "weight" | "bias" | "×" | "Σ" | "+" | g's name | "E"
    value: float
    grad: float | None         # ∂E/∂(this node) in example d's graph; None: fused away
    inputs: tuple[tuple[str, float | None], ...] = ()   # (input's name, ∂node/∂input)


@dataclass(frozen=True)
class WeightPath:
    """∂E/∂w_ij along the path E → o_j → a_j → s → p_i → w_ij: its factors and their product."""

    i: int
    factors: tuple[tuple[str, float], ...]   # ("dE_do", ·), ("dg", ·), ("da_ds", 1)… or fused
    term: float                # δ_j o_i: this example's share of ∂E/∂w_ij
    batch: float               # the record's ∂E/∂w_ij: Σ_d δ_j o_i, the penalty's term included


@dataclass(frozen=True)
class NeuronGraph:
    k: int
    j: int
    d: int
    N: int
    activation: str
    fused: bool                # δ_j^L straight from the loss: (ŷ − y)/N, no g' of its own
    nodes: tuple[OpNode, ...]
    forward: tuple[str, ...]   # node names in the order the forward pass computes them
    backward: tuple[str, ...]  # … and in the order backpropagation reaches them
    paths: tuple[WeightPath, ...]
    dE_db: float               # the record's ∂E/∂b_j over the batch


def neuron_graph(net: Network, record: StepRecord, Y: np.ndarray, loss: str,
                 k: int, j: int, d: int) -> NeuronGraph:
    """Node j of layer k for example d. net: θ the step started from; Y: (N, n_L) its targets."""
    L, N = net.L, len(record.o[0])
    _check("layer", k, 1, L)
    _check("node", j, 0, net.sizes[k] - 1)
    _check("example", d, 0, N - 1)
    o_in, w = record.o[k - 1][d], net.W[k][:, j]
    b, a, o, delta = net.b[k][j], record.a[k][d, j], record.o[k][d, j], record.delta[k][d, j]
    fused = k == L and LOSSES[loss].output_delta is not None
    with np.errstate(all="ignore"):
        p = o_in * w                                             # p_i = o_i w_ij
        s = float(np.sum(p))                                     # s = Σ_i p_i
        dE_do = None if fused else _dE_do(net, record, Y, loss, k, j, d)
        dg = None if fused else float(net.g[k].dg(np.array([a]), np.array([o]))[0])  # g'(a_j)
    n = len(w)
    nodes = (
        [OpNode(f"o{i}", "input", float(o_in[i]), float(delta * w[i])) for i in range(n)]
        + [OpNode(f"w{i}", "weight", float(w[i]), float(delta * o_in[i])) for i in range(n)]
        + [OpNode(f"p{i}", "×", float(p[i]), float(delta),
                  ((f"o{i}", float(w[i])), (f"w{i}", float(o_in[i])))) for i in range(n)]
        + [OpNode("s", "Σ", s, float(delta), tuple((f"p{i}", 1.0) for i in range(n))),
           OpNode("b", "bias", float(b), float(delta)),
           OpNode("a", "+", float(a), float(delta), (("s", 1.0), ("b", 1.0))),
           OpNode("o", net.activations[k - 1], float(o), dE_do, (("a", dg),)),
           OpNode("E", "E", float(record.E), 1.0, (("o", dE_do),))]
    )
    leaves = [name for i in range(n) for name in (f"o{i}", f"w{i}")]
    products = [f"p{i}" for i in range(n)]
    head = (("delta", float(delta)),) if fused else (("dE_do", dE_do), ("dg", dg))
    paths = tuple(
        WeightPath(i, (*head, ("da_ds", 1.0), ("ds_dp", 1.0), ("dp_dw", float(o_in[i]))),
                   float(delta * o_in[i]), float(record.dE_dW[k][i, j]))
        for i in range(n)
    )
    return NeuronGraph(
        k, j, d, N, net.activations[k - 1], fused, tuple(nodes),
        forward=(*leaves, *products, "s", "b", "a", "o", "E"),
        backward=("E", "o", "a", "s", "b", *products, *leaves),
        paths=paths, dE_db=float(record.dE_db[k][j]),
    )


def _dE_do(net: Network, record: StepRecord, Y: np.ndarray, loss: str,
           k: int, j: int, d: int) -> float:
    if k == net.L:
        return float(LOSSES[loss].dE_do(record.o[k], Y)[d, j])          # ∂E/∂ŷ_j
    return float(net.W[k + 1][j] @ record.delta[k + 1][d])             # Σ_m w_jm δ_m^{k+1}


def _check(field: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise EngineError(f"{field}: must be in {lo}..{hi}, got {value}", field)

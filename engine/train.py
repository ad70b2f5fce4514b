"""One training step: forward, loss, backward, update.

δ^L = g'(a^L) ⊙ ∂E/∂o^L (fused to (ŷ−y)/N for the cross-entropies);
δ^k = g'(a^k) ⊙ δ^{k+1} W^{k+1}ᵀ;  ∂E/∂W^k = o^{k-1}ᵀ δ^k (+ penalty);  ∂E/∂b^k = Σ_d δ^k;
θ ← θ + Δθ with Δθ from the optimizer.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from engine.errors import EngineError
from engine.losses import LOSSES, check_pairing
from engine.network import Network, forward
from engine.optimizers import OPTIMIZERS, OptimizerConfig, OptimizerState
from engine.regularizers import REGULARIZERS
from engine.trace import Backward, Forward, StepRecord


@dataclass(frozen=True)
class StepConfig:
    loss: str = "mse"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    regularization: str | None = None
    regularization_rate: float = 0.0
    train_biases: bool = True


def check_config(net: Network, cfg: StepConfig) -> None:
    """Raise EngineError if cfg names something unknown or pairs a loss with the wrong output."""
    if cfg.optimizer.name not in OPTIMIZERS:
        raise EngineError(
            f"optimizer.name: unknown optimizer {cfg.optimizer.name!r}; "
            f"choose one of {sorted(OPTIMIZERS)}", "optimizer.name",
        )
    if cfg.regularization is not None and cfg.regularization not in REGULARIZERS:
        raise EngineError(
            f"regularization.name: unknown regularization {cfg.regularization!r}; "
            f"choose one of {sorted(REGULARIZERS)} or null", "regularization.name",
        )
    check_pairing(cfg.loss, net.activations[-1])


def loss_value(
    net: Network, a_L: np.ndarray, o_L: np.ndarray, Y: np.ndarray, cfg: StepConfig
) -> float:
    """E on the batch, the weight penalty included."""
    E = LOSSES[cfg.loss].E(a_L, o_L, Y)
    if cfg.regularization is not None:
        weights = net.theta[: net.layout.n_weights]
        E += REGULARIZERS[cfg.regularization].penalty(weights, cfg.regularization_rate)
    return E


def backward(net: Network, fwd: Forward, Y: np.ndarray, cfg: StepConfig) -> Backward:
    """Backward pass. Y: (N, n_L); returns delta[k], dE_dW[k], dE_db[k] for k = 1..L."""
    a, o, L, g = fwd.a, fwd.o, net.L, net.g
    loss = LOSSES[cfg.loss]
    grad = np.empty(net.layout.n_params)
    dE_dW, dE_db = net.layout.views(grad)
    delta = [None] * (L + 1)
    if loss.output_delta is not None:
        delta[L] = loss.output_delta(o[L], Y)                  # δ^L = (ŷ − y)/N
    else:
        delta[L] = loss.dE_do(o[L], Y) * g[L].dg(a[L], o[L])   # δ^L = g'(a^L) ⊙ ∂E/∂o^L
    for k in range(L, 0, -1):
        np.matmul(o[k - 1].T, delta[k], out=dE_dW[k])          # ∂E/∂w_ij = o_i^{k-1} δ_j^k
        np.add.reduce(delta[k], axis=0, out=dE_db[k])          # ∂E/∂b_j = Σ_d δ_j^k
        if k > 1:
            delta[k - 1] = (delta[k] @ net.W[k].T) * g[k - 1].dg(a[k - 1], o[k - 1])
    if cfg.regularization is not None:
        n_w = net.layout.n_weights
        reg = REGULARIZERS[cfg.regularization]
        grad[:n_w] += reg.grad(net.theta[:n_w], cfg.regularization_rate)
    return Backward(delta, dE_dW, dE_db, grad)


def train_step(
    net: Network, state: OptimizerState, X: np.ndarray, Y: np.ndarray, cfg: StepConfig
) -> tuple[Network, OptimizerState, StepRecord]:
    """One step on the batch X: (N, n_0), Y: (N, n_L). Updates net.theta in place.

    A step whose loss or new parameters are not finite leaves net and state unchanged and
    returns a record marked diverged.
    """
    with np.errstate(all="ignore"):  # overflow is detected below and reported, not warned
        a, o = forward(net, X)
        fwd = Forward(a, o)
        E = loss_value(net, a[net.L], o[net.L], Y, cfg)
        bwd = backward(net, fwd, Y, cfg)
        update, new_state = OPTIMIZERS[cfg.optimizer.name].step(bwd.grad, state, cfg.optimizer)
        if not cfg.train_biases:
            update, new_state = _keep_biases(update, new_state, state, net.layout.n_weights)
        theta = net.theta + update
        # A sum of finite values overflows only near 1e308: divergence by any measure.
        diverged = not (math.isfinite(E) and math.isfinite(theta.sum()))
    if not diverged:
        net.theta[...] = theta
        state = new_state
    return net, state, StepRecord(E, fwd, bwd, update, net.layout, diverged)


def record_step(
    net: Network, state: OptimizerState, X: np.ndarray, Y: np.ndarray, cfg: StepConfig
) -> StepRecord:
    """The record of train_step on X: (N, n_0), Y: (N, n_L), taken on copies of net and state."""
    copy = OptimizerState(state.name, state.t, {k: v.copy() for k, v in state.slots.items()})
    return train_step(net.copy(), copy, X, Y, cfg)[2]


def _keep_biases(update, new_state, old_state, n_w):
    # Fixed biases: zero their Δθ and keep their optimizer slots as they were. (Zeroing their
    # gradient alone would not do: velocity or m from steps that trained them still moves them.)
    update = update.copy()   # momentum's update is its velocity slot
    update[n_w:] = 0.0
    for name, slot in new_state.slots.items():
        slot[n_w:] = old_state.slots[name][n_w:]
    return update, new_state

"""train.py's training step compiled with numba, run n times over preallocated arrays.

a^k = o^{k-1} W^k + b^k, o^k = g_k(a^k);  E = loss + penalty;  δ^L = (ŷ−y)/N fused, else
g'(a^L) ⊙ ∂E/∂o^L;  δ^k = g'(a^k) ⊙ δ^{k+1} W^{k+1}ᵀ;  θ ← θ + Δθ (sgd, momentum, adam).
This loop decides the state of every run; train.py stays the readable reference that makes
the records, and tests/engine/test_compiled.py holds the two together to 1e-10.
"""

import math
import time
from dataclasses import dataclass
from functools import cache

import numpy as np
from numba import njit

from engine.activations import LEAKY_SLOPE
from engine.errors import EngineError
from engine.network import Network
from engine.optimizers import OPTIMIZERS, OptimizerState
from engine.train import StepConfig

# A name travels into the kernel as its index in IMPLEMENTED, the kernel's own table: its
# codes change only with this file, which numba's cache watches. make_spec refuses any
# registry entry the kernel does not implement (a new one fails loudly, never silently).
IMPLEMENTED = (("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax"),
               ("mse", "bce", "softmax_ce"), ("sgd", "momentum", "adam"), (None, "l1", "l2"))
ACTIVATION_CODES, LOSS_CODES, OPTIMIZER_CODES, REGULARIZATION_CODES = IMPLEMENTED
SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR, SOFTMAX = range(len(ACTIVATION_CODES))
MSE, BCE, SOFTMAX_CE = range(len(LOSS_CODES))
SGD, MOMENTUM, ADAM = range(len(OPTIMIZER_CODES))
NO_PENALTY, L1, L2 = range(len(REGULARIZATION_CODES))
# numba freezes globals into its cached machine code and checks only this file's date, so a
# changed slope in activations.py would leave a stale cache: _frozen() catches that.
FROZEN = (SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR, SOFTMAX, MSE, BCE, SOFTMAX_CE,
          SGD, MOMENTUM, ADAM, NO_PENALTY, L1, L2, LEAKY_SLOPE)
LOG_2 = math.log(2.0)

# error_model="numpy": x/0 gives inf or nan, as in NumPy, where Python's model would raise.
kernel = njit(cache=True, error_model="numpy")


@dataclass(frozen=True)
class Spec:
    """A network's shape and a StepConfig as the kernel's arrays."""

    sizes: np.ndarray          # (L+1,) int64: n_0 … n_L
    g: np.ndarray              # (L+1,) int64: code of g_k; g[0] unused
    codes: np.ndarray          # (4,) int64: loss, optimizer, regularization, train_biases
    hyper: np.ndarray          # (6,) float64: α, μ, β1, β2, ε, λ
    optimizer: str
    slot_names: tuple[str, ...]


@dataclass(frozen=True)
class Chunk:
    """What a run of steps did; θ itself was updated in place."""

    state: OptimizerState      # after the last step taken (the given object if none was)
    epoch: int                 # the row of orders it stopped in
    cursor: int                # where the next batch starts in that row
    losses: np.ndarray         # E of every step run, a final diverged one included
    diverged: bool             # the last step run diverged; θ and state are from before it

    @property
    def taken(self) -> int:
        return len(self.losses) - self.diverged


def make_spec(net: Network, cfg: StepConfig) -> Spec:
    """Encode net's shape and activations and cfg's names and numbers for the kernel."""
    names = (*net.activations, cfg.loss, cfg.optimizer.name, cfg.regularization)
    missing = [name for name in names if not any(name in known for known in IMPLEMENTED)]
    if missing:
        raise EngineError(f"the compiled loop does not implement {missing}")
    opt = cfg.optimizer
    return Spec(
        sizes=np.array(net.sizes, dtype=np.int64),
        g=np.array([-1, *map(ACTIVATION_CODES.index, net.activations)], dtype=np.int64),
        codes=np.array([LOSS_CODES.index(cfg.loss), OPTIMIZER_CODES.index(opt.name),
                        REGULARIZATION_CODES.index(cfg.regularization), int(cfg.train_biases)],
                       dtype=np.int64),
        hyper=np.array([opt.learning_rate, opt.momentum, opt.beta1, opt.beta2, opt.epsilon,
                        cfg.regularization_rate], dtype=np.float64),
        optimizer=opt.name,
        slot_names=OPTIMIZERS[opt.name].slot_names,
    )


def train_epoch_steps(spec: Spec, theta: np.ndarray, state: OptimizerState, X: np.ndarray,
                      Y: np.ndarray, orders: np.ndarray, cursor: int, batch_size: int,
                      n: int) -> Chunk:
    """Up to n steps through epochs of X: (rows, n_0), Y: (rows, n_L) in the row orders
    orders: (epochs, rows) int64, each batch the next batch_size positions of the epoch's order
    (a last short batch included), the first from position cursor of orders[0]. A step that
    ends an epoch goes on to the next row of orders; the run stops after n steps, at the end
    of the last epoch, or at a step that diverges. theta: (n_params,) is updated in place."""
    return _run(spec, theta, state, X, Y, orders, cursor, batch_size, 0, max(0, n))


def train_fixed_steps(spec: Spec, theta: np.ndarray, state: OptimizerState, X: np.ndarray,
                      Y: np.ndarray, n: int) -> Chunk:
    """Up to n steps on the whole batch X: (N, n_0), Y: (N, n_L); stops at a diverged step."""
    orders = np.arange(len(X), dtype=np.int64).reshape(1, len(X))
    return _run(spec, theta, state, X, Y, orders, 0, len(X), 1, max(0, n))


def warm_up() -> float:
    """Compile the kernel, or load it from numba's cache, on a tiny problem; returns seconds."""
    start = time.perf_counter()
    net = Network((2, 2, 1), ("tanh", "sigmoid"), np.zeros(9))
    X, Y, orders = np.zeros((3, 2)), np.zeros((3, 1)), np.array([[2, 0, 1], [1, 2, 0]])
    state = OPTIMIZERS["sgd"].init_state(9)
    train_epoch_steps(make_spec(net, StepConfig()), net.theta, state, X, Y, orders, 0, 2, 3)
    return time.perf_counter() - start


def _run(spec, theta, state, X, Y, orders, cursor, batch_size, wrap, n) -> Chunk:
    slots = np.zeros((2, theta.size))                          # every optimizer: one signature
    for i, name in enumerate(spec.slot_names):
        slots[i] = state.slots[name]
    losses = np.empty(n)
    taken, epoch, cursor, t, diverged = _checked_kernel()(
        theta, slots, state.t, spec.sizes, spec.g, spec.codes, spec.hyper,
        np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(Y, dtype=np.float64),
        np.ascontiguousarray(orders, dtype=np.int64), int(cursor), int(batch_size), wrap, losses)
    if taken:
        state = OptimizerState(spec.optimizer, int(t),
                               {name: slots[i] for i, name in enumerate(spec.slot_names)})
    return Chunk(state, int(epoch), int(cursor), losses[: taken + diverged], bool(diverged))


@cache
def _checked_kernel():
    if _frozen() != FROZEN:
        raise EngineError("engine/compiled.py: numba's cache holds old registry codes; "
                          "delete engine/__pycache__/compiled.*.nbi and *.nbc")
    return _train


@kernel
def _frozen():
    return (SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR, SOFTMAX, MSE, BCE, SOFTMAX_CE,
            SGD, MOMENTUM, ADAM, NO_PENALTY, L1, L2, LEAKY_SLOPE)


@kernel
def _train(theta, slots, t, sizes, g, codes, hyper, X, Y, orders, cursor, batch_size, wrap,
           losses):
    """len(losses) steps at most, batch rows gathered through orders; returns (steps taken,
    epoch, cursor, t, diverged), epoch the row of orders it stopped in. wrap: one epoch over
    and over (cursor back to 0), else a step that ends orders[e] goes on to orders[e + 1]."""
    L, P, rows = len(sizes) - 1, len(theta), X.shape[0]
    w_at, b_at = np.zeros(L + 1, np.int64), np.zeros(L + 1, np.int64)
    at = 0
    for k in range(1, L + 1):                                  # θ = W^1 … W^L, b^1 … b^L,
        w_at[k], at = at, at + sizes[k - 1] * sizes[k]         # as Layout.spans lays it out
    n_w = at
    for k in range(1, L + 1):
        b_at[k], at = at, at + sizes[k]
    a = np.empty((L + 1, min(batch_size, rows), sizes.max()))  # one workspace for every step
    o, delta = np.empty_like(a), np.empty_like(a)
    Y_batch = np.empty((min(batch_size, rows), sizes[L]))
    grad, update, theta_new, slots_new = np.empty(P), np.empty(P), np.empty(P), slots.copy()
    taken, epoch, diverged = 0, 0, False
    while taken < len(losses):
        if cursor >= rows:
            if not wrap:
                break
            cursor = 0
        N = min(batch_size, rows - cursor)
        for d in range(N):                                     # the batch: rows by the order
            r = orders[epoch, cursor + d]
            o[0, d, : sizes[0]] = X[r]
            Y_batch[d] = Y[r]
        _forward(theta, sizes, g, w_at, b_at, a, o, N)
        E = _loss(codes[0], a[L], o[L], Y_batch, N, sizes[L])
        E += _penalty(codes[2], hyper[5], theta, n_w)
        losses[taken] = E
        _backward(theta, sizes, g, w_at, b_at, codes[0], a, o, delta, Y_batch, N, grad)
        _regularize(codes[2], hyper[5], theta, n_w, grad)
        _optimize(codes[1], hyper, t + 1, grad, slots, slots_new, update)
        if codes[3] == 0:
            # Fixed biases: zero their Δθ and keep their optimizer slots, as train.py does.
            update[n_w:] = 0.0
            slots_new[:, n_w:] = slots[:, n_w:]
        total = 0.0
        for p in range(P):
            theta_new[p] = theta[p] + update[p]
            total += theta_new[p]
        # A sum of finite values overflows only near 1e308: divergence by any measure.
        if not (math.isfinite(E) and math.isfinite(total)):
            diverged = True
            break
        theta[:] = theta_new
        slots[:, :] = slots_new
        t, cursor, taken = t + 1, cursor + N, taken + 1
        if cursor >= rows and not wrap and epoch + 1 < orders.shape[0]:
            epoch, cursor = epoch + 1, 0                       # the epoch's end: the next order
    return taken, epoch, cursor, t, diverged


@kernel
def _forward(theta, sizes, g, w_at, b_at, a, o, N):
    for k in range(1, len(sizes)):
        m, n = sizes[k - 1], sizes[k]
        W, b = _W(theta, w_at[k], m, n), theta[b_at[k] : b_at[k] + n]
        a_k, o_k, o_in = a[k], o[k], o[k - 1]
        for d in range(N):
            # i outside j: the j loop vectorises, and each a_dj still sums over i in order.
            a_k[d, :n] = 0.0
            for i in range(m):
                for j in range(n):
                    a_k[d, j] += o_in[d, i] * W[i, j]
            for j in range(n):
                a_k[d, j] += b[j]                              # a^k = o^{k-1} W^k + b^k
        if g[k] == SOFTMAX:
            _softmax(a_k, o_k, N, n)
        else:
            for d in range(N):
                for j in range(n):
                    o_k[d, j] = _g(g[k], a_k[d, j])            # o^k = g_k(a^k)


@kernel
def _W(theta, start, m, n):
    return theta[start : start + m * n].reshape((m, n))       # a view, as Layout.views gives


@kernel
def _g(code, a):
    if code == SIGMOID:
        return 0.5 + 0.5 * math.tanh(0.5 * a)  # σ(a) without exp's overflow, as activations.py
    if code == TANH:
        return math.tanh(a)
    if code == RELU:
        return 0.0 if a <= 0.0 else a          # nan stays nan, as with np.maximum
    if code == LEAKY_RELU:
        return a if a > 0.0 else LEAKY_SLOPE * a
    return a


@kernel
def _dg(code, a, o):
    if code == SIGMOID:
        return o * (1.0 - o)
    if code == TANH:
        return 1.0 - o * o
    if code == RELU:
        return 1.0 if a > 0.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if a > 0.0 else LEAKY_SLOPE
    return 1.0


@kernel
def _row_max(a, d, n):
    top = a[d, 0]
    for j in range(1, n):
        if a[d, j] > top or math.isnan(a[d, j]):               # nan wins, as in a.max()
            top = a[d, j]
    return top


@kernel
def _softmax(a, o, N, n):
    for d in range(N):
        top, total = _row_max(a, d, n), 0.0
        for j in range(n):
            o[d, j] = math.exp(a[d, j] - top)                  # shifted: exp never overflows
            total += o[d, j]
        for j in range(n):
            o[d, j] /= total


@kernel
def _softplus(x):
    # log(1 + e^x) by np.logaddexp(0, x)'s branches: finite for any finite logit.
    if x == 0.0:
        return LOG_2
    if x < 0.0:
        return math.log1p(math.exp(x))
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return x


@kernel
def _loss(code, a, o, Y, N, n):
    total, top, log_sum = 0.0, 0.0, 0.0
    for d in range(N):
        if code == SOFTMAX_CE:
            top, sum_exp = _row_max(a, d, n), 0.0
            for j in range(n):
                sum_exp += math.exp(a[d, j] - top)
            log_sum = math.log(sum_exp)
        for j in range(n):
            y = Y[d, j]
            if code == MSE:
                total += (o[d, j] - y) * (o[d, j] - y)         # E = (1/N) Σ ½(ŷ−y)²
            elif code == BCE:
                total += y * _softplus(-a[d, j]) + (1.0 - y) * _softplus(a[d, j])
            else:
                total += y * ((a[d, j] - top) - log_sum)      # y log ŷ by log-softmax
    if code == MSE:
        return 0.5 * total / N
    if code == BCE:
        return total / N
    return -total / N


@kernel
def _penalty(code, lam, theta, n_w):
    if code == NO_PENALTY:
        return 0.0
    total = 0.0
    for p in range(n_w):
        total += abs(theta[p]) if code == L1 else theta[p] * theta[p]
    if code == L1:
        return lam * total                                     # λ Σ|w|
    return 0.5 * lam * total                                   # (λ/2) Σ w²


@kernel
def _backward(theta, sizes, g, w_at, b_at, loss, a, o, delta, Y, N, grad):
    L = len(sizes) - 1
    fused = loss != MSE                                        # bce∘sigmoid, softmax_ce∘softmax
    for d in range(N):
        for j in range(sizes[L]):
            residual = (o[L, d, j] - Y[d, j]) * (1.0 / N)      # (ŷ − y)/N
            delta[L, d, j] = residual if fused else residual * _dg(g[L], a[L, d, j], o[L, d, j])
    grad[:] = 0.0
    for k in range(L, 0, -1):
        m, n = sizes[k - 1], sizes[k]
        W, dE_dW = _W(theta, w_at[k], m, n), _W(grad, w_at[k], m, n)
        dE_db, delta_k, o_in = grad[b_at[k] : b_at[k] + n], delta[k], o[k - 1]
        for d in range(N):                                     # rows outermost: each sum still
            for i in range(m):                                 # runs over d in order
                for j in range(n):
                    dE_dW[i, j] += o_in[d, i] * delta_k[d, j]  # ∂E/∂w_ij = Σ_d o_i^{k-1} δ_j^k
            for j in range(n):
                dE_db[j] += delta_k[d, j]                      # ∂E/∂b_j = Σ_d δ_j^k
        if k > 1:
            a_in, delta_in = a[k - 1], delta[k - 1]
            for d in range(N):
                for i in range(m):
                    s = 0.0
                    for j in range(n):
                        s += delta_k[d, j] * W[i, j]
                    # δ^{k-1} = g'(a^{k-1}) ⊙ δ^k W^kᵀ
                    delta_in[d, i] = s * _dg(g[k - 1], a_in[d, i], o_in[d, i])


@kernel
def _regularize(code, lam, theta, n_w, grad):
    for p in range(n_w):
        if code == L1:
            w = theta[p]
            grad[p] += lam * (1.0 if w > 0.0 else -1.0 if w < 0.0 else w)  # λ sign(w)
        elif code == L2:
            grad[p] += lam * theta[p]                          # λ w


@kernel
def _optimize(code, hyper, t, grad, slots, slots_new, update):
    lr, mu, beta1, beta2, eps = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    # float(t): pow(β, t) as Python's β**t computes it, not numba's integer power.
    correction1, correction2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
    for p in range(len(grad)):
        if code == SGD:
            update[p] = grad[p] * -lr                          # Δθ = −α g
        elif code == MOMENTUM:
            slots_new[0, p] = mu * slots[0, p] - lr * grad[p]  # v ← μv − αg
            update[p] = slots_new[0, p]
        else:
            m = beta1 * slots[0, p] + (1.0 - beta1) * grad[p]
            v = beta2 * slots[1, p] + (1.0 - beta2) * (grad[p] * grad[p])
            slots_new[0, p], slots_new[1, p] = m, v
            update[p] = -lr * (m / correction1) / (math.sqrt(v / correction2) + eps)

"""Engine speed: median µs per training step (NumPy engine and compiled loop), one epoch,
and the every-neuron grid pass.

Run from anywhere: `OPENBLAS_NUM_THREADS=1 python bench/engine.py`. Prints a table; asserts
nothing. Each figure is the median of REPEATS timed loops, each loop long enough to time well.
"""

import platform
import statistics
import sys
import time
from pathlib import Path

# This file is itself called engine.py: put the repository first so `engine` is the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from threadpoolctl import threadpool_info

from bench.machine import pressure
from engine import compiled
from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.train import StepConfig, train_step
from engine.trainer import RunConfig, Trainer

REPEATS = 9
MIN_LOOP_S = 0.02
COMPILED_STEPS = 200                                   # steps per call of the compiled loop
STEP_TARGET_US, GRID_TARGET_MS = 40.0, 5.0
TFP = StepConfig(loss="mse", optimizer=OptimizerConfig("sgd", learning_rate=0.03))
SOFTMAX = StepConfig(loss="softmax_ce", optimizer=OptimizerConfig("sgd", learning_rate=0.03))

# (label, sizes, hidden activation, output activation, batch, step config)
STEP_CASES = [
    ("2-4-2-1 tanh b10 (mse, sgd)", [2, 4, 2, 1], "tanh", "tanh", 10, TFP),
    ("2-8-8-8-8-8-8-1 tanh b10", [2, *[8] * 6, 1], "tanh", "tanh", 10, TFP),
    ("4-16-16-3 relu/softmax b32", [4, 16, 16, 3], "relu", "softmax", 32, SOFTMAX),
    ("64-32-10 relu/softmax b128", [64, 32, 10], "relu", "softmax", 128, SOFTMAX),
    ("784-100-10 relu/softmax b64", [784, 100, 10], "relu", "softmax", 64, SOFTMAX),
]


def median_seconds(run, calls_per_run=1):
    """Median seconds per call of run(), over REPEATS loops of an auto-sized length."""
    run()                                              # warm caches and lazy set-up
    loops, start = 1, time.perf_counter()
    run()
    while time.perf_counter() - start < MIN_LOOP_S:
        loops *= 2
        start = time.perf_counter()
        for _ in range(loops):
            run()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(loops):
            run()
        times.append((time.perf_counter() - start) / (loops * calls_per_run))
    return statistics.median(times)


def problem(sizes, output, batch, rng):
    X = rng.normal(size=(batch, sizes[0]))
    if output == "softmax":
        return X, np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    return X, rng.uniform(-1.0, 1.0, size=(batch, sizes[-1]))


def engine_step_seconds(sizes, hidden, output, batch, cfg):
    rng = np.random.default_rng(0)
    activations = [hidden] * (len(sizes) - 2) + [output]
    net = make_network(sizes, activations, init="xavier", rng=rng)
    X, Y = problem(sizes, output, batch, rng)
    box = [OPTIMIZERS[cfg.optimizer.name].init_state(net.layout.n_params), None]

    def run():
        _, box[0], box[1] = train_step(net, box[0], X, Y, cfg)   # the full record is kept

    return median_seconds(run)


def compiled_step_seconds(sizes, hidden, output, batch, cfg, steps=COMPILED_STEPS):
    """Seconds per step of the compiled loop, `steps` steps a call, from the same start."""
    rng = np.random.default_rng(0)
    activations = [hidden] * (len(sizes) - 2) + [output]
    net = make_network(sizes, activations, init="xavier", rng=rng)
    X, Y = problem(sizes, output, batch, rng)
    spec, start = compiled.make_spec(net, cfg), net.theta.copy()
    state = OPTIMIZERS[cfg.optimizer.name].init_state(net.layout.n_params)

    def run():
        net.theta[...] = start                         # every call takes the same steps
        compiled.train_fixed_steps(spec, net.theta, state, X, Y, steps)

    return median_seconds(run, calls_per_run=steps)


def straightforward_step_seconds(sizes, batch, lr=0.03):
    """The textbook loop with per-layer lists and separate W and b updates: a baseline."""
    rng = np.random.default_rng(0)
    W = [None] + [rng.uniform(-0.5, 0.5, (m, n)) for m, n in zip(sizes, sizes[1:], strict=False)]
    b = [None] + [np.full(n, 0.1) for n in sizes[1:]]
    X, Y = problem(sizes, "tanh", batch, rng)
    L, kept = len(sizes) - 1, []

    def run():
        a, o = [None], [X]
        for k in range(1, L + 1):
            a.append(o[k - 1] @ W[k] + b[k])                    # a^k = o^{k-1} W^k + b^k
            o.append(np.tanh(a[k]))                             # o^k = tanh(a^k)
        E = 0.5 * np.sum((o[L] - Y) ** 2) / batch
        delta, dE_dW, dE_db = [None] * (L + 1), [None] * (L + 1), [None] * (L + 1)
        delta[L] = (o[L] - Y) / batch * (1 - o[L] ** 2)
        for k in range(L, 0, -1):
            dE_dW[k] = o[k - 1].T @ delta[k]
            dE_db[k] = delta[k].sum(axis=0)
            if k > 1:
                delta[k - 1] = (delta[k] @ W[k].T) * (1 - o[k - 1] ** 2)
        update_W = [None] + [-lr * dE_dW[k] for k in range(1, L + 1)]
        update_b = [None] + [-lr * dE_db[k] for k in range(1, L + 1)]
        for k in range(1, L + 1):
            W[k] += update_W[k]
            b[k] += update_b[k]
        kept[:] = [E, a, o, delta, dE_dW, dE_db, update_W, update_b]

    return median_seconds(run)


def epoch_seconds(take: str):
    """One epoch of the default run by Trainer.step (last step recorded) or .advance."""
    trainer = Trainer(RunConfig())
    steps = -(-len(trainer.X_train) // trainer.cfg.batch_size)
    run = getattr(trainer, take)
    return median_seconds(lambda: run(steps)), len(trainer.X_train), steps


def grid_seconds(hidden):
    trainer = Trainer(RunConfig(hidden=hidden))
    return median_seconds(lambda: trainer.grid_outputs(100))


def row(label, value, unit, target=None):
    line = f"{label:<46}{value:>10.1f} {unit}"
    if target is not None:
        line += f"   ≤ {target:g} {unit}  " + ("ok" if value <= target else "MISS")
    print(line)


def blas() -> str:
    pools = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
             for p in threadpool_info()]
    return ", ".join(pools) or "none found"


def main():
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{platform.system()} {platform.machine()}; median of {REPEATS} loops")
    print(f"BLAS: {blas()}")
    print(f"/proc/pressure/cpu some at start: {pressure()}")
    print(f"compiled loop: warm_up (compile, or load numba's cache) {compiled.warm_up():.2f} s")
    print(f"{'case':<46}{'median':>10}      target")
    print("train_step (µs per step, full record kept) | compiled loop "
          f"({COMPILED_STEPS} steps a call, no record)")
    step_seconds = []
    for i, (label, sizes, hidden, output, batch, cfg) in enumerate(STEP_CASES):
        step_seconds.append(engine_step_seconds(sizes, hidden, output, batch, cfg))
        fast = compiled_step_seconds(sizes, hidden, output, batch, cfg)
        row("  " + label, step_seconds[-1] * 1e6, "µs", STEP_TARGET_US if i == 0 else None)
        row("    compiled loop", fast * 1e6, "µs")
        print(f"    {'train_step / compiled':<42}{step_seconds[-1] / fast:>10.1f} ×")
    one = compiled_step_seconds([2, 4, 2, 1], "tanh", "tanh", 10, TFP, steps=1)
    row("  compiled, 1 step a call (call overhead in)", one * 1e6, "µs")
    baseline = straightforward_step_seconds([2, 4, 2, 1], 10)   # the same set-up as case 0
    row("  baseline: straightforward 2-4-2-1 b10", baseline * 1e6, "µs")
    print(f"  {'baseline / engine':<44}{baseline / step_seconds[0]:>10.2f} ×")
    seconds, points, steps = epoch_seconds("step")
    print("Trainer")
    row(f"  one epoch by step(), default ({points} pts, {steps} steps)", seconds * 1e6, "µs")
    row(f"  one epoch by advance(), default ({steps} steps)", epoch_seconds("advance")[0] * 1e6,
        "µs")
    row("  grid_outputs(100), default 2-4-2-1", grid_seconds((4, 2)) * 1e3, "ms")
    row("  grid_outputs(100), hidden 6×8", grid_seconds((8,) * 6) * 1e3, "ms", GRID_TARGET_MS)
    print(f"/proc/pressure/cpu some at end: {pressure()}")


if __name__ == "__main__":
    main()

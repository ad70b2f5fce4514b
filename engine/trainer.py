"""A training run: network + data split + shuffled mini-batches + optimizer state + counters.

One epoch = the training set once, in mini-batches of `batch_size` drawn from a fresh
permutation per epoch; the permutation stream is seeded, and every step goes through the
compiled loop (engine/compiled.py), so a run replays bit for bit however it is chunked.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from engine import compiled
from engine.datasets import BOX, DATASETS, Split, make_dataset
from engine.errors import EngineError
from engine.features import feature_matrix
from engine.network import Network, forward, make_network
from engine.optimizers import OPTIMIZERS, OptimizerState
from engine.replay import Change
from engine.targets import accuracy, output_size, targets
from engine.trace import StepRecord
from engine.train import StepConfig, check_config, loss_value, record_step

MAX_ORDER_ROWS = 1 << 18    # int64 order entries one advance() call draws ahead at most


MAX_BATCH = 2**31 - 1   # the compiled loop holds it in an int64; past the training set = all of it


def check_batch_size(batch_size: int) -> None:
    if not 1 <= batch_size <= MAX_BATCH:
        raise EngineError(
            f"batch_size must be from 1 to {MAX_BATCH}, got {batch_size}", "batch_size"
        )


@dataclass(frozen=True)
class RunConfig:
    dataset: str = "circle"
    points: int | None = None           # None: the data set's default
    noise: float = 0.0
    train_share: float = 0.5
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    output_activation: str = "tanh"
    init: str = "uniform"
    batch_size: int = 10
    step: StepConfig = field(default_factory=StepConfig)
    seed: int = 0                       # network initialisation and batch order
    data_seed: int = 0                  # the data set


@dataclass(frozen=True)
class Metrics:
    train_loss: float | None
    test_loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None


class Trainer:
    """Mutable training run; every public change goes through a method."""

    def __init__(self, cfg: RunConfig, split: Split | None = None,
                 initial_theta: np.ndarray | None = None):
        self.split = split if split is not None else _make_split(cfg)
        self.cfg = cfg
        self.initial_theta = initial_theta   # hand-set start; None: initialise from the seed
        self.reset()

    def reset(self) -> None:
        """Back to step 0: the same seed gives the same network and batch order."""
        cfg, split = self.cfg, self.split
        init_seq, shuffle_seq = np.random.SeedSequence(cfg.seed).spawn(2)
        n_out = output_size(split.kind, split.classes, split.y_train)
        sizes = [len(cfg.features), *cfg.hidden, n_out]
        activations = [cfg.activation] * len(cfg.hidden) + [cfg.output_activation]
        rng = np.random.default_rng(init_seq)
        self.net = make_network(sizes, activations, init=cfg.init, rng=rng)
        if self.initial_theta is not None:
            self.net.theta[...] = self.initial_theta
        check_config(self.net, cfg.step)
        check_batch_size(cfg.batch_size)
        self.X_train = feature_matrix(split.X_train, cfg.features)
        self.X_test = feature_matrix(split.X_test, cfg.features)
        self.Y_train = targets(split.y_train, split.kind, split.classes, cfg.output_activation)
        self.Y_test = targets(split.y_test, split.kind, split.classes, cfg.output_activation)
        self.shuffle_rng = np.random.default_rng(shuffle_seq)
        self.state = OPTIMIZERS[cfg.step.optimizer.name].init_state(self.net.layout.n_params)
        self.step_count = 0
        self.epoch = 0
        self.losses: list[float] = []
        self.diverged = False
        self.last: StepRecord | None = None
        self.last_batch: tuple[np.ndarray, np.ndarray] | None = None
        self.before: np.ndarray | None = None     # θ the last recorded step started from
        self._grid: tuple[int, np.ndarray] | None = None
        self._spec_for = None
        self._start_epoch()
        # Step 0 and the changes since, for a replay (engine/replay.py); a restore loses them.
        self.start_theta, self.start_cfg, self.changes = self.net.theta.copy(), cfg, []
        self.tried, self.replayable = 0, True    # tried: steps run, a diverged one included

    def _note(self, kind: str, value) -> None:
        self.changes.append(Change(self.tried, kind, value))

    def _start_epoch(self, order: np.ndarray | None = None, cursor: int = 0) -> None:
        self._order = self.shuffle_rng.permutation(len(self.X_train)) if order is None else order
        self._cursor = cursor

    def _batch(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._order[self._cursor : self._cursor + self.cfg.batch_size]
        return self.X_train[rows], self.Y_train[rows]

    def advance(self, n: int) -> None:
        """Take up to n steps through the compiled loop, without records; stops at a diverged
        step, whose loss is logged but whose batch stays next (θ and state are unchanged).

        The epochs the n steps reach are drawn first, each permutation as _start_epoch draws
        it, and the compiled loop runs across them in one call (MAX_ORDER_ROWS at a time)."""
        spec, rows, batch_size = self._spec(), len(self.X_train), self.cfg.batch_size
        per_epoch = -(-rows // batch_size)
        while n > 0 and not self.diverged:
            left = -(-(rows - self._cursor) // batch_size)   # steps to this epoch's end
            # Finishing an epoch draws the next order at once, as _next_epoch_if_done does.
            new = 0 if n < left else min(1 + (n - left) // per_epoch,
                                         max(1, MAX_ORDER_ROWS // rows - 1))
            rng_state = self.shuffle_rng.bit_generator.state if new else None
            orders = np.empty((1 + new, rows), dtype=np.int64)
            orders[0] = self._order
            for e in range(1, 1 + new):
                orders[e] = self.shuffle_rng.permutation(rows)
            chunk = compiled.train_epoch_steps(spec, self.net.theta, self.state, self.X_train,
                                               self.Y_train, orders, self._cursor, batch_size, n)
            self.state, self._cursor, self.diverged = chunk.state, chunk.cursor, chunk.diverged
            self.losses.extend(chunk.losses.tolist())
            self.tried += len(chunk.losses)
            self.step_count += chunk.taken
            self.epoch += chunk.epoch
            n -= len(chunk.losses)
            if chunk.epoch < new:           # stopped (diverged) before the last order drawn:
                self.shuffle_rng.bit_generator.state = rng_state    # draw up to its own again
                for _ in range(chunk.epoch):
                    self.shuffle_rng.permutation(rows)
            self._order = orders[chunk.epoch]
            if not self.diverged:
                self._next_epoch_if_done()

    def _spec(self) -> "compiled.Spec":
        # Made again only when the network's shape or the step's config changed: making it
        # costs as much as a few compiled steps, and a slice asks for it many times.
        key = (self.net.sizes, self.net.activations, self.cfg.step)
        if self._spec_for != key:
            self._spec_for, self._spec_made = key, compiled.make_spec(self.net, self.cfg.step)
        return self._spec_made

    def _next_epoch_if_done(self) -> None:
        if self._cursor >= len(self._order):
            self.epoch += 1
            self._start_epoch()

    def step(self, n: int = 1) -> StepRecord | None:
        """Take up to n steps, stopping early at a diverged one; the last step is recorded.

        The compiled loop decides every step; the record is train_step's on copies of the
        θ, optimizer state and batch the last step started from (θ kept in self.before).
        """
        if n < 1 or self.diverged:
            return self.last
        self.advance(n - 1)
        return self.record()

    def record(self) -> StepRecord:
        """The step at the cursor, recorded and taken; or, when advance stopped at a diverged
        step, that step recorded (step(n) in parts: advance(k)… then record())."""
        self._next_epoch_if_done()      # never an empty batch, whatever left the cursor at the end
        self.before, self.last_batch = self.net.theta.copy(), self._batch()
        record = record_step(self.net, self.state, *self.last_batch, self.cfg.step)
        if not self.diverged:                      # else advance stopped at the step to record
            self.advance(1)
        # The compiled step decided the state: its loss and verdict go in the record too, so the
        # record agrees with the loss log (the arrays are train_step's, equal to about 1e-15).
        self.last = replace(record, E=self.losses[-1], diverged=self.diverged)
        return self.last

    def metrics(self) -> Metrics:
        """Loss and accuracy on the training and test sets (None where a set is empty)."""
        train = self._evaluate(self.X_train, self.Y_train)
        test = self._evaluate(self.X_test, self.Y_test)
        return Metrics(train[0], test[0], train[1], test[1])

    def _evaluate(self, X: np.ndarray, Y: np.ndarray) -> tuple[float | None, float | None]:
        if len(X) == 0:
            return None, None
        with np.errstate(all="ignore"):
            a, o = forward(self.net, X)
            E = loss_value(self.net, a[-1], o[-1], Y, self.cfg.step)
        return E, accuracy(o[-1], Y, self.split.kind, self.cfg.output_activation)

    def grid_outputs(self, resolution: int = 100) -> list[np.ndarray]:
        """Every neuron's output over a resolution² grid of the input plane, row 0 at the top.

        Returns o[k]: (resolution², n_k) float32 for k = 0..L; o[0] holds the input features.
        """
        if self._grid is None or self._grid[0] != resolution:
            features = self._grid_features(resolution).astype(np.float32)
            self._grid = (resolution, features)
        # float32 is plenty for a picture and runs the grid's tanh about five times faster.
        with np.errstate(all="ignore"):  # a θ past float32's range casts to inf, not a warning
            net32 = Network(self.net.sizes, self.net.activations, self.net.theta.astype(np.float32))
            return forward(net32, self._grid[1])[1]

    def _grid_features(self, resolution: int) -> np.ndarray:
        lo, hi = self.extent
        step = (hi - lo) / resolution
        centres = lo + step * (np.arange(resolution) + 0.5)   # cell centres, left to right
        x1, x2 = np.meshgrid(centres, centres[::-1])           # x2 falls down the rows
        return feature_matrix(np.column_stack([x1.ravel(), x2.ravel()]), self.cfg.features)

    @property
    def extent(self) -> tuple[float, float]:
        return plane_extent(self.split.X_train)

    def set_step_config(self, **changes) -> None:
        """Change loss, learning rate, regularisation… between steps (optimizer kept if same)."""
        step = replace(self.cfg.step, **changes)
        check_config(self.net, step)
        if step.optimizer.name != self.cfg.step.optimizer.name:
            self.state = OPTIMIZERS[step.optimizer.name].init_state(self.net.layout.n_params)
        if step != self.cfg.step:
            self._note("step", step)
        self.cfg = replace(self.cfg, step=step)

    def set_batch_size(self, batch_size: int) -> None:
        check_batch_size(batch_size)
        if batch_size != self.cfg.batch_size:
            self._note("batch_size", batch_size)
        self.cfg = replace(self.cfg, batch_size=batch_size)

    def set_activation(self, activation: str) -> None:
        """Change every hidden layer's activation; weights are kept."""
        probe = self.net.copy()
        for k in range(1, self.net.L):
            probe.set_activation(k, activation)
        self.net = Network(probe.sizes, probe.activations, self.net.theta)
        if activation != self.cfg.activation:
            self._note("activation", activation)
        self.cfg = replace(self.cfg, activation=activation)

    def set_parameter(self, kind: str, k: int, i: int, j: int | None, value: float) -> None:
        """Set w_ij^k (kind "W") or b_i^k (kind "b") by hand."""
        if not 1 <= k <= self.net.L:
            raise EngineError(f"layer must be in 1..{self.net.L}, got {k}", "layer")
        if kind not in ("W", "b") or (kind == "W" and j is None):
            raise EngineError(
                f"kind must be 'W' (with i and j) or 'b' (with i), got {kind!r}", "kind"
            )
        target = self.net.W[k] if kind == "W" else self.net.b[k]
        index = (i, j) if kind == "W" else (i,)
        if any(not 0 <= x < n for x, n in zip(index, target.shape, strict=True)):
            raise EngineError(
                f"{kind}[{k}] has shape {target.shape}; index {index} is outside", "i"
            )
        if not np.isfinite(value):
            raise EngineError("value must be a finite number", "value")
        target[index] = value
        self.diverged = False
        self._note("parameter", (kind, k, i, j, float(value)))

    def snapshot(self) -> "Snapshot":
        """Everything needed to continue this run exactly, as plain arrays and numbers."""
        return Snapshot(
            self.net.theta.copy(), self.state, self.step_count, self.epoch, list(self.losses),
            self.shuffle_rng.bit_generator.state, self._order.copy(), self._cursor, self.diverged,
        )

    def restore(self, snap: "Snapshot") -> None:
        """Continue from a snapshot of a run with the same config and data."""
        if snap.theta.shape != self.net.theta.shape:
            raise EngineError(
                f"network: expected {self.net.theta.size} parameters, got {snap.theta.size}",
                "network",
            )
        rows = len(self.X_train)
        order = np.asarray(snap.order)
        if order.shape != (rows,) or not np.array_equal(np.sort(order), np.arange(rows)):
            raise EngineError(
                f"batch_order: must be a permutation of the {rows} training rows", "batch_order"
            )
        if not 0 <= snap.cursor <= rows:
            raise EngineError(
                f"batch_cursor: must be from 0 to {rows}, got {snap.cursor}", "batch_cursor"
            )
        self.net.theta[...] = snap.theta
        self.state = snap.state
        self.replayable = snap.step_count == 0 and np.array_equal(snap.theta, self.start_theta)
        self.step_count, self.epoch, self.diverged = snap.step_count, snap.epoch, snap.diverged
        self.losses = list(snap.losses)
        try:
            self.shuffle_rng.bit_generator.state = snap.rng_state
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            raise EngineError(f"rng_state: not a PCG64 state ({err})", "rng_state") from err
        self._start_epoch(np.asarray(snap.order, dtype=np.intp), snap.cursor)
        self._next_epoch_if_done()      # a snapshot may stop at an epoch's end; batches never do
        self.last, self.last_batch, self.before = None, None, None


@dataclass(frozen=True)
class Snapshot:
    theta: np.ndarray
    state: OptimizerState
    step_count: int
    epoch: int
    losses: list
    rng_state: dict
    order: np.ndarray
    cursor: int
    diverged: bool


def plane_extent(X: np.ndarray) -> tuple[float, float]:
    """The square of the input plane to draw for points X: (N, 2) — the truth table's unit
    square with a margin, else TensorFlow Playground's [−BOX, BOX]."""
    return (-0.5, 1.5) if X.min() >= 0 and X.max() <= 1 else (-BOX, BOX)


def _make_split(cfg: RunConfig) -> Split:
    if cfg.dataset not in DATASETS:
        raise EngineError(
            f"dataset: unknown data set {cfg.dataset!r}; choose one of {sorted(DATASETS)}",
            "dataset",
        )
    points = cfg.points if cfg.points is not None else DATASETS[cfg.dataset].default_points
    return make_dataset(cfg.dataset, points, cfg.noise, cfg.train_share, cfg.data_seed)

"""What the page's train/test loss and gradient-per-layer charts hold, kept for late joiners.

Every published frame adds a point (its step, metrics.train_loss, metrics.test_loss and
grad_norms). Steps fall into cells of `grid` steps and a cell keeps its first point; when
more than `cap` cells are held, `grid` doubles and neighbours drop. static/series.js keeps
its charts by the same rule, so a page that joins late, starting from `to_json()`, holds
exactly the points of a page that saw every frame (docs/stream.md).
"""

import math

import numpy as np

from app.schemas.session import CHART_POINTS
from app.worker.packed import f32


def _float(value) -> float:
    return math.nan if value is None else float(value)


class ChartLog:
    def __init__(self, cap: int = CHART_POINTS):
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.cap = cap
        self.clear()

    def clear(self) -> None:
        self.offered: dict | None = None
        self.grid = 1
        self.steps: list[int] = []
        self.train: list[float] = []
        self.test: list[float] = []
        self.grads: list[list[float]] = []  # per point: one RMS ∂E/∂W^k per layer k = 1..L

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, step: int, train_loss, test_loss, grad_norms: list) -> None:
        """One frame's numbers (None where not finite); a step already covered adds nothing.
        `offered` keeps them as JSON either way: the frame's `losses` twin carries them to a
        follower that skips the frame, which then applies this same rule."""
        self.offered = {"step": int(step), "train_loss": train_loss, "test_loss": test_loss,
                        "grad_norms": list(grad_norms)}
        grads = [_float(g) for g in grad_norms]
        if self.steps:
            last = self.steps[-1]
            if step <= last:
                if step < last:  # the session went back (a reset): start again
                    self.clear()
                else:
                    return
            elif step // self.grid == last // self.grid:
                return
        previous = self.grads[-1] if self.grads else []
        if previous and grads and len(grads) != len(previous):
            self.clear()  # another network: its layers are not the old ones
        self.steps.append(int(step))
        self.train.append(_float(train_loss))
        self.test.append(_float(test_loss))
        self.grads.append(grads)
        while len(self.steps) > self.cap:
            self._coarsen()

    def _coarsen(self) -> None:
        """Double the grid; each new cell keeps the first of its points."""
        self.grid *= 2
        keep = [0]
        for i in range(1, len(self.steps)):
            if self.steps[i] // self.grid != self.steps[keep[-1]] // self.grid:
                keep.append(i)
        self.steps = [self.steps[i] for i in keep]
        self.train = [self.train[i] for i in keep]
        self.test = [self.test[i] for i in keep]
        self.grads = [self.grads[i] for i in keep]

    def to_json(self) -> dict:
        """For the `state` message: steps as JSON integers, the series as base64 float32
        (NaN where not finite); grad_norms per layer k = 1..L, each a series over the steps
        (NaN at a point made before the first step, which had no gradients)."""
        layers = max((len(g) for g in self.grads), default=0)
        grads = np.full((len(self.grads), layers), np.nan)
        for i, g in enumerate(self.grads):
            grads[i, : len(g)] = g
        with np.errstate(over="ignore"):
            return {
                "cap": self.cap,
                "grid": self.grid,
                "steps": list(self.steps),
                "train_loss": f32(self.train),
                "test_loss": f32(self.test),
                "grad_norms": [f32(grads[:, k]) for k in range(layers)],
            }

    def state(self) -> dict:
        """For a process checkpoint (pickle): copies, so later frames do not change it."""
        return {"cap": self.cap, "grid": self.grid, "steps": list(self.steps),
                "train": list(self.train), "test": list(self.test),
                "grads": [list(g) for g in self.grads]}

    def export(self) -> dict:
        """For a session's export (JSON): null where a value is not finite."""
        plain = lambda values: [v if math.isfinite(v) else None for v in values]  # noqa: E731
        return {"cap": self.cap, "grid": self.grid, "steps": list(self.steps),
                "train_loss": plain(self.train), "test_loss": plain(self.test),
                "grad_norms": [plain(g) for g in self.grads]}

    @classmethod
    def from_export(cls, data: dict | None) -> "ChartLog":
        """The log an export's `charts` describes (None: an empty one)."""
        if data is None:
            return cls()
        return cls.from_state({"cap": data["cap"], "grid": data["grid"], "steps": data["steps"],
                               "train": [_float(v) for v in data["train_loss"]],
                               "test": [_float(v) for v in data["test_loss"]],
                               "grads": [[_float(v) for v in g] for g in data["grad_norms"]]})

    @classmethod
    def from_state(cls, state: dict | None) -> "ChartLog":
        """The log `state()` gave (None: an empty one)."""
        if state is None:
            return cls()
        log = cls(state["cap"])
        log.grid, log.steps = state["grid"], list(state["steps"])
        log.train, log.test = list(state["train"]), list(state["test"])
        log.grads = [list(g) for g in state["grads"]]
        return log

"""Data sets in the square [-6, 6]²: make(n, noise, rng) -> X (n, 2), y (n,); noise ∈ [0, 0.5].

Binary sets label ±1; regression sets give y ∈ [-1, 1]; three_class gives 0., 1., 2.
The six TensorFlow Playground sets follow its generators; a uniform jitter of
noise·U(-R, R) per coordinate (R = 5, or 6 for the regression sets) moves the point its label
is computed from. three_class: blobs at 90°, 210°, 330° on radius 3, σ = 0.5 + 3·noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.errors import EngineError

BOX = 6.0   # the input plane is [−BOX, BOX]²: every set, own points and the drawn plane
XY = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str            # "classification" | "regression"
    classes: int         # 2 for binary classification, 3 for three_class, 0 for regression
    default_points: int
    make: Callable[[int, float, np.random.Generator], XY]
    fixed: bool = False  # True for the xor_table: its rows are the data, not a sample; n is ignored


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    kind: str
    classes: int


def _sign_label(positive: np.ndarray) -> np.ndarray:
    return np.where(positive, 1.0, -1.0)


def _jitter(n: int, noise: float, reach: float, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-reach, reach, size=(n, 2)) * noise


def make_circle(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Inner disc r < 2.5 and outer ring 3.5 ≤ r < 5. Returns X (n, 2), y (n,) in {-1, +1}."""
    n_in = n // 2
    r = np.concatenate([rng.uniform(0.0, 2.5, n_in), rng.uniform(3.5, 5.0, n - n_in)])
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    # The label comes from the jittered point but X stays clean, so noise shows up as wrong
    # labels near the boundary rather than as points drifting into the gap.
    moved = X + _jitter(n, noise, 5.0, rng)
    return X, _sign_label(np.hypot(moved[:, 0], moved[:, 1]) < 2.5)


def make_xor(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Quadrants labelled sign(x₁x₂). Returns X (n, 2), y (n,) in {-1, +1}."""
    X = rng.uniform(-5.0, 5.0, size=(n, 2))
    # The 0.3 margin keeps noise-free points off the axes, where sign(x₁x₂) is ambiguous.
    X += np.where(X > 0, 0.3, -0.3)
    moved = X + _jitter(n, noise, 5.0, rng)
    return X, _sign_label(moved[:, 0] * moved[:, 1] >= 0)


def make_gauss(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Blobs at (2, 2) -> +1 and (-2, -2) -> -1. Returns X (n, 2), y (n,) in {-1, +1}."""
    variance = 0.5 + 7.0 * noise                  # 0.5 at noise 0, 4 at noise 0.5
    n_pos = n // 2
    centre = np.where(np.arange(n)[:, None] < n_pos, 2.0, -2.0)
    X = centre + rng.normal(0.0, math.sqrt(variance), size=(n, 2))
    # Playground leaves tail points outside its plot; we clip so every set honours [-6, 6]².
    np.clip(X, -BOX, BOX, out=X)
    return X, _sign_label(np.arange(n) < n_pos)


def make_spiral(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Two arms r = 5t, θ = 3.5πt (+π for -1), t = i/half. Returns X (n, 2), y (n,) in {-1, +1}."""
    n_pos = n // 2
    i = np.concatenate([np.arange(n_pos), np.arange(n - n_pos)]).astype(float)
    half = np.where(np.arange(n) < n_pos, max(n_pos, 1), max(n - n_pos, 1))
    t = i / half
    theta = 1.75 * 2.0 * math.pi * t + np.where(np.arange(n) < n_pos, 0.0, math.pi)
    X = np.column_stack([5.0 * t * np.sin(theta), 5.0 * t * np.cos(theta)])
    X += rng.uniform(-1.0, 1.0, size=(n, 2)) * noise
    return X, _sign_label(np.arange(n) < n_pos)


def make_plane(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Uniform points, y = (x₁ + x₂)/10 of the jittered point. Returns X (n, 2), y (n,)."""
    X = rng.uniform(-BOX, BOX, size=(n, 2))
    moved = X + _jitter(n, noise, BOX, rng)
    # x₁ + x₂ spans [-12, 12] (more with noise); Playground maps [-10, 10] to [-1, 1] and lets
    # the corners overshoot, we clip so regression targets stay in the tanh output's range.
    return X, np.clip(moved.sum(axis=1) / 10.0, -1.0, 1.0)


_BUMPS = np.array([[-4.0, 2.5], [0.0, 2.5], [4.0, 2.5], [-4.0, -2.5], [0.0, -2.5], [4.0, -2.5]])
_BUMP_SIGNS = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])   # a checkerboard of hills and pits


def make_multi_gauss(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Six ±1 bumps max(0, 1 - d/2); y is the one of largest |value|. Returns X (n, 2), y (n,)."""
    X = rng.uniform(-BOX, BOX, size=(n, 2))
    moved = X + _jitter(n, noise, BOX, rng)
    d = np.linalg.norm(moved[:, None, :] - _BUMPS[None, :, :], axis=2)     # (n, 6)
    values = _BUMP_SIGNS * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    pick = np.argmax(np.abs(values), axis=1)
    return X, values[np.arange(n), pick]


_XOR_TABLE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_XOR_TABLE_Y = np.array([-1.0, 1.0, 1.0, -1.0])


def make_xor_table(n: int, noise: float, rng: np.random.Generator) -> XY:
    """The 4-row XOR truth table; n, noise and rng are ignored. Returns X (4, 2), y (4,) in ±1."""
    return _XOR_TABLE_X.copy(), _XOR_TABLE_Y.copy()


_THREE_CENTRES = 3.0 * np.array(
    [[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in (90.0, 210.0, 330.0)]
)


def make_three_class(n: int, noise: float, rng: np.random.Generator) -> XY:
    """Blobs at 90°, 210°, 330° on radius 3, σ = 0.5 + 3·noise. Returns X (n, 2), y ∈ {0, 1, 2}."""
    y = (np.arange(n) * 3 // n).astype(float)      # class sizes differ by at most one
    X = _THREE_CENTRES[y.astype(int)] + rng.normal(0.0, 0.5 + 3.0 * noise, size=(n, 2))
    np.clip(X, -BOX, BOX, out=X)
    return X, y


DATASETS: dict[str, Dataset] = {
    "circle": Dataset("circle", "classification", 2, 500, make_circle),
    "xor": Dataset("xor", "classification", 2, 500, make_xor),
    "gauss": Dataset("gauss", "classification", 2, 500, make_gauss),
    "spiral": Dataset("spiral", "classification", 2, 500, make_spiral),
    "plane": Dataset("plane", "regression", 0, 1200, make_plane),
    "multi_gauss": Dataset("multi_gauss", "regression", 0, 1200, make_multi_gauss),
    "xor_table": Dataset("xor_table", "classification", 2, 4, make_xor_table, fixed=True),
    "three_class": Dataset("three_class", "classification", 3, 300, make_three_class),
}


def split(
    X: np.ndarray, y: np.ndarray, train_share: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and cut. X: (n, 2), y: (n,); returns X_train, y_train, X_test, y_test."""
    n = len(X)
    order = rng.permutation(n)
    n_train = max(1, round(train_share * n))
    train, test = order[:n_train], order[n_train:]
    return X[train], y[train], X[test], y[test]


def _check(ok: bool, message: str, field: str) -> None:
    if not ok:
        raise EngineError(message, field)


def make_dataset(name: str, n: int, noise: float, train_share: float, seed: int) -> Split:
    """Validate, generate with default_rng(seed), then split. Returns a Split of (N, 2), (N,)."""
    _check(name in DATASETS, f"name must be one of {', '.join(DATASETS)}, got {name!r}", "dataset")
    # No upper bound here: how many points a server allows is its setting (max_points).
    _check(
        isinstance(n, int | np.integer) and not isinstance(n, bool) and 1 <= n,
        f"n must be an integer ≥ 1, got {n!r}", "points",
    )
    # A chained comparison is False for NaN, so NaN noise or share is rejected as well.
    _check(0.0 <= noise <= 0.5, f"noise must be in [0, 0.5], got {noise!r}", "noise")
    _check(
        0.1 <= train_share <= 0.9, f"train_share must be in [0.1, 0.9], got {train_share!r}",
        "train_share",
    )
    dataset = DATASETS[name]
    rng = np.random.default_rng(seed)
    X, y = dataset.make(int(n), float(noise), rng)
    if dataset.fixed:
        # A truth table is learnt and judged on all its rows; holding one out would leave a
        # problem no network can solve.
        parts = (X, y, X.copy(), y.copy())
    else:
        parts = split(X, y, train_share, rng)
    return Split(*parts, kind=dataset.kind, classes=dataset.classes)

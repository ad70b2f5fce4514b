"""Input features: raw points X (N, 2) = (x₁, x₂) become the input layer o^0 (N, n_0).

x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂; each feature is one input node with its own heatmap,
and o^0[:, j] = feature_j(X) in the order the caller names them.
"""

from collections.abc import Callable, Sequence

import numpy as np

from engine.errors import EngineError

FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1_sq": lambda X: X[:, 0] * X[:, 0],
    "x2_sq": lambda X: X[:, 1] * X[:, 1],
    "x1_x2": lambda X: X[:, 0] * X[:, 1],
    "sin_x1": lambda X: np.sin(X[:, 0]),
    "sin_x2": lambda X: np.sin(X[:, 1]),
}

FEATURE_LABELS: dict[str, str] = {
    "x1": "x₁",
    "x2": "x₂",
    "x1_sq": "x₁²",
    "x2_sq": "x₂²",
    "x1_x2": "x₁x₂",
    "sin_x1": "sin x₁",
    "sin_x2": "sin x₂",
}


def feature_matrix(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Input layer from raw points. X: (N, 2); returns o^0 (N, len(names)) float64."""
    if len(names) == 0:
        raise EngineError("names must list at least one feature, got none", "features")
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise EngineError(
            f"names has unknown feature {unknown[0]!r}; known: {', '.join(FEATURES)}", "features"
        )
    if len(set(names)) != len(names):
        raise EngineError(f"names must not repeat a feature, got {list(names)}", "features")
    if X.ndim != 2 or X.shape[1] != 2:
        raise EngineError(f"X must have shape (N, 2), got {X.shape}")
    # One allocation and a column write per feature: this runs on the 100×100 heatmap grid
    # every frame, where np.column_stack's temporaries would show up.
    o0 = np.empty((X.shape[0], len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        o0[:, j] = FEATURES[name](X)
    return o0

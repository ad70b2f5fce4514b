"""Labels to target matrices Y (N, n_L) for an output layer, and accuracy of outputs o^L.

Binary labels ±1 stay ±1 for tanh/linear outputs and become 0/1 for sigmoid;
class indices become one-hot rows; regression values pass through as a column.
"""

import numpy as np

from engine.activations import ACTIVATIONS


def output_size(kind: str, classes: int, y: np.ndarray | None = None) -> int:
    if y is not None and y.ndim == 2:      # regression targets given as rows: one node each
        return y.shape[1]
    return classes if kind == "classification" and classes > 2 else 1


def targets(y: np.ndarray, kind: str, classes: int, output_activation: str) -> np.ndarray:
    """y: (N,) labels, or (N, n_L) regression targets -> Y: (N, n_L)."""
    if y.ndim == 2:
        return y.astype(np.float64)
    if kind == "classification" and classes > 2:
        return np.eye(classes)[y.astype(int)]
    if kind == "classification" and ACTIVATIONS[output_activation].unit:
        return ((y + 1.0) / 2.0)[:, None]
    return y.astype(np.float64)[:, None]


def accuracy(o_L: np.ndarray, Y: np.ndarray, kind: str, output_activation: str) -> float | None:
    """Share of rows classified right; None for regression."""
    if kind != "classification" or len(Y) == 0:
        return None
    if Y.shape[1] > 1:
        return float(np.mean(o_L.argmax(axis=1) == Y.argmax(axis=1)))
    threshold = 0.5 if ACTIVATIONS[output_activation].unit else 0.0
    return float(np.mean((o_L[:, 0] >= threshold) == (Y[:, 0] >= threshold)))

"""W^k and b^k as arrays whose item writes are hand edits: `pg.weights[1][0, 1] = 0.5` sets
the weight in the kernel's trainer and redraws, as the page's edit box does."""

from collections.abc import Callable

import numpy as np

# write(index, value): one changed item of the whole matrix or vector, by its index tuple
Writer = Callable[[tuple, float], None]


class ParameterView(np.ndarray):
    """A copy of one layer's W or b whose writes go to the trainer. Slices and results of
    arithmetic are plain read-only copies: an edit names the item from the whole array."""

    def __new__(cls, values: np.ndarray, write: Writer):
        view = np.array(values, dtype=np.float64).view(cls)
        view._write = write
        return view

    def __array_finalize__(self, obj) -> None:
        self._write = None   # a slice: its indices are not the layer's

    def __array_wrap__(self, array, context=None, return_scalar=False):
        plain = np.asarray(array).view(np.ndarray)
        return plain[()] if return_scalar else plain

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))   # reads as the array it is

    def __setitem__(self, key, value) -> None:
        if self._write is None:
            raise ValueError(
                "edit a parameter from the whole layer, e.g. pg.weights[1][0, 1] = 0.5")
        edited = np.array(self, dtype=np.float64)
        edited[key] = value
        for index in zip(*np.nonzero(edited != np.asarray(self)), strict=True):
            index = tuple(int(i) for i in index)
            self._write(index, float(edited[index]))   # the engine refuses a non-finite value
            super().__setitem__(index, edited[index])


def parameter_views(arrays: list, write: Callable[[int, tuple, float], None]) -> list:
    """arrays: the engine's per-layer list (slot 0 unused) -> views for k = 1..L at k−1."""
    return [
        ParameterView(arrays[k], lambda index, value, k=k: write(k, index, value))
        for k in range(1, len(arrays))
    ]

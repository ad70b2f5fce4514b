"""A session's loss history at any speed: the last steps exactly, the whole run as blocks.

`extend` takes the loss before each step. The last `recent` steps are kept as they came; the
whole run is kept as at most `blocks` blocks of `block` consecutive steps (mean, min, max),
and when more would be needed neighbours merge pairwise and `block` doubles. Memory is
bounded however long a session plays, and a one-step spike stays some block's max.
"""

import math
from dataclasses import dataclass

import numpy as np

from app.schemas.session import RECENT_LOSSES
from app.worker.encode import array
from app.worker.packed import bf16

FLOAT_MAX = np.finfo(np.float64).max
NEW_FIELDS = ("min", "max", "recent_start", "recent")  # in the export since blocks came
BLOCKS = 2048  # a live session's log: blocks of the run (and RECENT_LOSSES exact steps)


@dataclass(frozen=True)
class Series:
    """Point i covers steps start + i·stride … start + (i+1)·stride − 1 (the last point may
    cover fewer: the run ends there). stride 1 is exact, and then min and max are mean."""

    start: int
    stride: int
    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def __len__(self) -> int:
        return len(self.mean)


def _exact(start: int, values) -> Series:
    values = np.array(values, dtype=np.float64)  # a copy: the log reuses its buffer
    return Series(int(start), 1, values, values, values)


# Block statistics count the finite losses only: a NaN (or ±inf) step must not make its block
# NaN for the rest of the run. A block without any finite loss is NaN (null in JSON); the
# exact window and stride-1 series keep every value as it came, non-finite ones included.


def _combine(mean, lo, hi, valid, at):
    """Merge the points from each index in `at` up to the next into one (mean, min, max, valid);
    the mean is weighted by each point's count of finite losses."""
    total = np.add.reduceat(valid, at)
    scale = max(int(total.max()), 1)
    # Σ mean·(valid/scale) · scale/total rather than Σ mean·valid / total: no overflow
    part = np.where(valid > 0, mean, 0.0) * (valid / scale)
    with np.errstate(divide="ignore", invalid="ignore"):  # no finite loss: 0·∞ = NaN
        merged = np.add.reduceat(part, at) * (scale / total)
    return merged, np.fmin.reduceat(lo, at), np.fmax.reduceat(hi, at), total


def _chunks(x: np.ndarray, at: np.ndarray, block: int):
    """(mean, min, max, count) of the finite losses in each group of x from each index in `at`
    up to the next; dividing by `block` (a power of two, ≥ every group) first keeps the sums
    from overflowing, and is exact."""
    finite = np.isfinite(x)
    if finite.all():  # the usual case, kept cheap: extend runs thousands of times a second
        n = np.empty_like(at)
        n[:-1] = at[1:]
        n[-1] = len(x)
        n -= at
        lo, hi = np.minimum.reduceat(x, at), np.maximum.reduceat(x, at)
    else:
        n = np.add.reduceat(finite, at, dtype=np.int64)
        lo = np.fmin.reduceat(np.where(finite, x, np.nan), at)
        hi = np.fmax.reduceat(np.where(finite, x, np.nan), at)
        x = np.where(finite, x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # no finite loss: 0·∞ = NaN
        mean = np.add.reduceat(x * (1 / block), at) * (block / n)
    return mean, lo, hi, n


def _pair(first, second) -> tuple:
    """Two points (mean, min, max, count) as one."""
    (m1, lo1, hi1, n1), (m2, lo2, hi2, n2) = first, second
    if not (n1 and n2):
        return second if n1 == 0 else first  # … which holds all the finite losses
    n = n1 + n2
    return m1 * (n1 / n) + m2 * (n2 / n), min(lo1, lo2), max(hi1, hi2), n


def summarize(start: int, values, max_points: int = 128) -> Series:
    """Consecutive losses (the first at step `start`) as at most `max_points` points: exact when
    they fit, else blocks of the smallest power-of-two stride that fits, counted from `start`."""
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    x = np.asarray(values, dtype=np.float64).ravel()
    if len(x) <= max_points:
        return _exact(start, x)
    stride = 1 << math.ceil(math.log2(-(-len(x) // max_points)))
    mean, lo, hi, _ = _chunks(x, np.arange(0, len(x), stride), stride)
    return Series(int(start), stride, mean, lo, hi)


def series_json(series: Series, numbers=None) -> dict:
    """The one encoding of a loss series: {start, stride, values, min, max}. For the stream
    (`numbers` None) bfloat16 base64 arrays, min and max null when exact; for the REST answers
    and the export, each array through `numbers` (encode.array: null where not finite)."""
    if numbers is not None:
        return {"start": series.start, "stride": series.stride, "values": numbers(series.mean),
                "min": numbers(series.min), "max": numbers(series.max)}
    exact = series.stride == 1
    return {
        "start": series.start,
        "stride": series.stride,
        "values": bf16(series.mean),
        "min": None if exact else bf16(series.min),
        "max": None if exact else bf16(series.max),
    }


class LossLog:
    def __init__(self, recent: int = RECENT_LOSSES, blocks: int = BLOCKS):
        if recent < 1 or blocks < 1:
            raise ValueError("recent and blocks must be at least 1")
        self.recent, self.blocks = recent, blocks
        self._window = np.empty(2 * recent)  # the exact losses: _window[:_held], the latest last
        self._mean, self._min, self._max = (np.empty(blocks) for _ in range(3))
        self._valid = np.empty(blocks, dtype=np.int64)  # finite losses in each block
        self.clear()

    def clear(self) -> None:
        self.count = 0  # steps logged
        self.block = 1  # steps per block; doubles as the run grows
        self._held = 0
        self._used = 0  # blocks in use; the last one may be partly filled

    @property
    def recent_start(self) -> int:
        """The first step of the exact window."""
        return self.count - min(self._held, self.recent)

    def extend(self, losses) -> None:
        """Log the loss before each of the next len(losses) steps (float64; NaN allowed)."""
        x = np.asarray(losses, dtype=np.float64).ravel()
        m = len(x)
        if m == 0:
            return
        self._remember(x)
        count = self.count
        while -(-(count + m) // self.block) > self.blocks:
            self._halve()
        room, block, used = (-count) % self.block, self.block, self._used
        at = np.arange(room - block if room else 0, m, block)
        at[0] = 0  # with room: the first group is the `room` losses that complete the last block
        new = _chunks(x, at, block)
        arrays = self._arrays()
        if room:
            merged = _pair([a[used - 1] for a in arrays], [a[0] for a in new])
            for stored, value in zip(arrays, merged, strict=True):
                stored[used - 1] = value
            new = [a[1:] for a in new]
        for stored, fresh in zip(arrays, new, strict=True):
            stored[used : used + len(fresh)] = fresh
        self._used = used + len(new[0])
        self.count = count + m

    def _remember(self, x: np.ndarray) -> None:
        """Append to the exact window; when the buffer (twice the window) is full, move the last
        steps to its front: one copy every `recent` steps, no ring arithmetic on reads."""
        recent, held, m = self.recent, self._held, len(x)
        if m >= recent:
            self._window[:recent] = x[-recent:]
            self._held = recent
            return
        if held + m > len(self._window):
            keep = recent - m
            self._window[:keep] = self._window[held - keep : held]
            held = keep
        self._window[held : held + m] = x
        self._held = held + m

    def _arrays(self):
        return self._mean, self._min, self._max, self._valid

    def _halve(self) -> None:
        """Merge neighbouring blocks pairwise: half the blocks, each twice as long."""
        used = self._used
        if used:
            merged = _combine(*(a[:used] for a in self._arrays()), np.arange(0, used, 2))
            for stored, fresh in zip(self._arrays(), merged, strict=True):
                stored[: len(fresh)] = fresh
            self._used = len(merged[0])
        self.block *= 2

    def exact(self) -> tuple[int, np.ndarray]:
        """(first step, losses) of the exact window: the last `recent` steps, or all if fewer."""
        held = self._held
        return self.recent_start, self._window[held - min(held, self.recent) : held].copy()

    def since(self, start: int, stop: int | None = None) -> Series:
        """The steps from `start` up to `stop` (default: all logged): exact when they are all in
        the window, else whole blocks, the first and last possibly reaching outside."""
        stop = self.count if stop is None else min(stop, self.count)
        start = max(0, start)
        if start >= stop:
            return _exact(stop, [])
        first = self.recent_start
        if start >= first:
            window = self._window[self._held - (self.count - first) : self._held]
            return _exact(start, window[start - first : stop - first])
        i, j = start // self.block, -(-stop // self.block)
        return Series(i * self.block, self.block, *(a[i:j].copy() for a in self._arrays()[:3]))

    def overview(self, points: int = 2000) -> Series:
        """The whole run as at most `points` points: exact while it is that short and all in the
        window, else the blocks, merged by a power of two when there are more than `points`."""
        if points < 1:
            raise ValueError("points must be at least 1")
        if self.count <= points and self.recent_start == 0:
            return _exact(0, self.exact()[1])
        used = self._used
        factor = 1 << max(0, math.ceil(math.log2(-(-used // points))))
        merged = _combine(*(a[:used] for a in self._arrays()), np.arange(0, used, factor))
        return Series(0, self.block * factor, *merged[:3])

    def to_json(self) -> dict:
        """For the export: the whole run at `stride` (values = block means) and the exact window;
        JSON numbers, null where not finite."""
        used = self._used
        blocks = series_json(Series(0, self.block, *(a[:used] for a in self._arrays()[:3])), array)
        return {
            "stride": blocks["stride"],
            "count": self.count,
            "values": blocks["values"],
            "min": blocks["min"],
            "max": blocks["max"],
            "recent_start": self.recent_start,
            "recent": array(self.exact()[1]),
        }

    @classmethod
    def from_json(cls, d, recent: int = RECENT_LOSSES, blocks: int = BLOCKS) -> "LossLog":
        """The log `to_json` wrote, or an older export's {stride, count, values} (samples every
        stride-th step, taken as blocks with min = max = mean). ValueError names the field."""
        if not isinstance(d, dict):
            raise ValueError("history: must be an object")
        count, stride = _integer(d, "count", 0), _integer(d, "stride", 1)
        if stride & (stride - 1):
            raise ValueError("history.stride: must be a power of two")
        mean = _floats(d, "values")
        if len(mean) != -(-count // stride):
            raise ValueError(
                f"history.values: {len(mean)} numbers, but {count} steps at stride {stride} "
                f"make {-(-count // stride)}"
            )
        if not any(key in d for key in NEW_FIELDS):  # an export from before min, max, recent
            window = mean[-recent:] if stride == 1 else mean[:0]
            return cls._load(recent, blocks, stride, count, (mean, mean, mean), window)
        lo, hi, window = _floats(d, "min"), _floats(d, "max"), _floats(d, "recent")
        for name, values in (("min", lo), ("max", hi)):
            if len(values) != len(mean):
                raise ValueError(f"history.{name}: {len(values)} numbers, values has {len(mean)}")
            if not np.array_equal(np.isnan(values), np.isnan(mean)):
                raise ValueError(f"history.{name}: null exactly where values is null")
        if np.any(lo > hi):
            raise ValueError("history.max: below min")
        if len(mean) > blocks:
            raise ValueError(f"history.values: {len(mean)} blocks, more than the {blocks} kept")
        if len(window) > min(recent, count):
            raise ValueError(f"history.recent: {len(window)} steps, more than the {recent} kept")
        if _integer(d, "recent_start", 0) != count - len(window):
            raise ValueError("history.recent_start: must be count − len(recent)")
        return cls._load(recent, blocks, stride, count, (mean, lo, hi), window)

    @classmethod
    def _load(cls, recent, blocks, block, count, stats, window, valid=None) -> "LossLog":
        """A log holding these blocks and exact window; more blocks than fit are merged."""
        mean, lo, hi = stats
        if valid is None:  # steps per block, as JSON does not carry the finite counts
            steps = np.diff(np.append(np.arange(0, count, block), count))
            valid = np.where(np.isnan(mean), 0, steps)
        stats = (mean, lo, hi, valid)
        while len(mean) > blocks:
            stats = _combine(*stats, np.arange(0, len(mean), 2))
            mean, block = stats[0], block * 2
        log = cls(recent, blocks)
        for stored, loaded in zip(log._arrays(), stats, strict=True):
            stored[: len(loaded)] = loaded
        log._used, log.block, log.count = len(mean), block, count
        log._remember(np.asarray(window, dtype=np.float64))
        return log

    def state(self) -> dict:
        """Everything, as numbers and NumPy arrays, for a process checkpoint (pickle)."""
        used = self._used
        return {
            "recent": self.recent,
            "blocks": self.blocks,
            "block": self.block,
            "count": self.count,
            "stats": tuple(a[:used].copy() for a in self._arrays()),
            "window": self.exact()[1],
        }

    @classmethod
    def from_state(cls, state: dict) -> "LossLog":
        *stats, valid = state["stats"]
        return cls._load(
            state["recent"], state["blocks"], state["block"], state["count"], stats,
            state["window"], valid,
        )


def _integer(d: dict, name: str, low: int) -> int:
    value = d.get(name)
    if type(value) is not int or not low <= value <= 2**53:
        raise ValueError(f"history.{name}: must be an integer from {low} to 2^53")
    return value


def _floats(d: dict, name: str) -> np.ndarray:
    """A JSON list of finite numbers or nulls as float64, null → NaN."""
    values = d.get(name)
    if not isinstance(values, list):
        raise ValueError(
            f"history.{name}: must be a list of numbers and nulls "
            "(min, max and recent go together, or all three are left out)"
        )
    for i, v in enumerate(values):
        if v is not None and not (type(v) in (int, float) and abs(v) <= FLOAT_MAX):
            raise ValueError(f"history.{name}[{i}]: must be a finite number or null")
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

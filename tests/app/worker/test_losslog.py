"""The loss log: the recent steps exact, the whole run as bounded (mean, min, max) blocks."""

import json
import pickle
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import bf16

from app.worker.losslog import LossLog, series_json, summarize

RECENT, BLOCKS = 64, 32


def run_with_spikes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A decaying noisy loss with ten one-step spikes (1000 + k), each in its own tenth of the
    run and at least 0.9·n/10 steps from the next: no two share a block of up to that size."""
    rng = np.random.default_rng(seed)
    losses = np.exp(-np.arange(n) / n) + 0.01 * rng.random(n)
    spikes = np.arange(10) * (n // 10) + rng.integers(0, n // 100, size=10)
    losses[spikes] = 1000.0 + rng.permutation(10)
    return losses, spikes


def logged(losses: np.ndarray, seed: int = 1, largest: int = 300, **caps) -> LossLog:
    """A log fed `losses` in chunks of random sizes, as the pump feeds it."""
    log = LossLog(**({"recent": RECENT, "blocks": BLOCKS} | caps))
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(losses):
        n = int(rng.integers(1, largest + 1))
        log.extend(losses[i : i + n])
        i += n
    return log


def brute_force(losses: np.ndarray, start: int, stride: int):
    """Per block of `stride` steps from `start`: nanmean, nanmin, nanmax by plain Python."""
    blocks = [losses[i : i + stride] for i in range(start, len(losses), stride)]
    finite = [b[np.isfinite(b)] for b in blocks]
    pick = [(f.mean(), f.min(), f.max()) if len(f) else (np.nan,) * 3 for f in finite]
    return tuple(np.array(column) for column in zip(*pick, strict=True))


def assert_series(series, losses):
    mean, lo, hi = brute_force(losses, series.start, series.stride)
    np.testing.assert_allclose(series.mean, mean, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(series.min, lo)
    np.testing.assert_array_equal(series.max, hi)


def test_the_recent_window_holds_the_last_steps_exactly():
    losses, _ = run_with_spikes(5000)
    start, values = logged(losses).exact()
    assert start == 5000 - RECENT
    np.testing.assert_array_equal(values, losses[-RECENT:])


def test_a_chunk_longer_than_the_window_leaves_its_own_tail_in_it():
    log = LossLog(recent=RECENT, blocks=BLOCKS)
    log.extend(np.arange(10.0))
    log.extend(np.arange(1000.0))
    assert log.exact()[0] == 1010 - RECENT
    np.testing.assert_array_equal(log.exact()[1], np.arange(1000.0 - RECENT, 1000.0))


def test_a_short_run_is_exact_everywhere():
    losses = np.linspace(1.0, 0.5, 20)
    log = logged(losses, largest=3)
    for series in (log.since(0), log.overview(), log.since(5)):
        assert series.stride == 1
        np.testing.assert_array_equal(series.mean, losses[series.start :])
        assert series.min is series.mean and series.max is series.mean
    assert log.count == 20


def test_blocks_hold_the_mean_min_and_max_of_their_steps():
    losses, _ = run_with_spikes(100_003)
    log = logged(losses)
    series = log.since(0)
    assert series.start == 0 and series.stride == log.block == 4096  # 100_003 / 32 ≤ 4096
    assert len(series) == -(-100_003 // 4096)
    assert_series(series, losses)


LOSS = st.one_of(st.floats(0.0, 1e6, allow_subnormal=False), st.sampled_from([np.nan, np.inf]))


@given(st.lists(st.lists(LOSS, min_size=1, max_size=40), max_size=30))
def test_any_chunks_give_the_brute_force_blocks_and_the_exact_tail(chunks):
    log = LossLog(recent=8, blocks=4)
    for chunk in chunks:
        log.extend(np.array(chunk))
    losses = np.array([v for chunk in chunks for v in chunk])
    assert log.count == len(losses) and -(-len(losses) // log.block) <= 4
    series = log.since(0)
    if series.stride == 1:  # exact: every loss as it came, ±inf included
        np.testing.assert_array_equal(series.mean, losses)
    else:
        assert_series(series, losses)
    np.testing.assert_array_equal(log.exact()[1], losses[-8:])


def test_every_spike_is_some_blocks_max():
    losses, spikes = run_with_spikes(100_003)
    log = logged(losses)
    for series in (log.since(0), log.overview(points=16)):  # strides 4096 and 8192
        assert series.stride > 1
        assert set(losses[spikes]) <= set(series.max)


def test_the_block_size_is_the_smallest_power_of_two_that_fits():
    log = logged(np.ones(BLOCKS * 8 + 1))
    assert log.block == 16
    assert len(log.to_json()["values"]) == -(-(BLOCKS * 8 + 1) // 16) <= BLOCKS


def test_memory_stays_bounded_over_ten_million_steps():
    log, rng = LossLog(), np.random.default_rng(2)
    while log.count < 10**7:
        log.extend(rng.random(int(rng.integers(1, 3001))))
    state = log.state()
    assert all(len(a) <= log.blocks for a in state["stats"])
    assert len(state["window"]) == log.recent
    assert log.block == 8192 and -(-log.count // log.block) <= log.blocks
    assert len(pickle.dumps(state)) < 100_000


def test_since_inside_the_window_is_exact():
    losses, _ = run_with_spikes(5000)
    series = logged(losses).since(5000 - 10)
    assert (series.start, series.stride) == (4990, 1)
    np.testing.assert_array_equal(series.mean, losses[4990:])


def test_since_before_the_window_comes_from_the_blocks_from_the_one_holding_start():
    losses, _ = run_with_spikes(5000)
    log = logged(losses)
    series = log.since(1000)
    assert series.stride == log.block == 256 and series.start == 768
    assert_series(series, losses)


def test_since_stops_at_the_block_holding_the_last_step_before_stop():
    losses, _ = run_with_spikes(5000)
    log = logged(losses)
    assert log.since(1000, 1800).start == 768 and len(log.since(1000, 1800)) == 5  # to 2047
    np.testing.assert_array_equal(log.since(4990, 4995).mean, losses[4990:4995])


def test_since_the_last_step_on_is_empty():
    log = logged(np.ones(100))
    assert len(log.since(100)) == 0 and len(log.since(500)) == 0


def test_overview_has_at_most_the_points_asked_and_covers_the_run():
    losses, _ = run_with_spikes(100_003)
    series = logged(losses).overview(points=10)
    assert series.start == 0 and len(series) <= 10
    assert series.stride * len(series) >= 100_003
    assert_series(series, losses)


def test_summarize_is_exact_when_the_losses_fit():
    series = summarize(7, [0.5, 0.25, np.nan], max_points=3)
    assert (series.start, series.stride) == (7, 1)
    np.testing.assert_array_equal(series.mean, [0.5, 0.25, np.nan])


def test_summarize_uses_the_smallest_power_of_two_stride_that_fits():
    losses, spikes = run_with_spikes(3000)
    series = summarize(40, losses)
    assert (series.start, series.stride, len(series)) == (40, 32, 94)
    assert_series(summarize(0, losses), losses)  # brute_force counts steps from 0
    assert set(losses[spikes]) <= set(series.max)


def test_series_json_is_bfloat16_with_null_range_when_exact():
    exact = series_json(summarize(3, [0.5, 0.25]))
    assert exact == {"start": 3, "stride": 1, "values": exact["values"], "min": None, "max": None}
    np.testing.assert_array_equal(bf16(exact["values"]), [0.5, 0.25])
    blocks = series_json(summarize(0, [1.0, 3.0, 2.0, 8.0], max_points=2))
    assert blocks["stride"] == 2
    np.testing.assert_array_equal(bf16(blocks["values"]), [2.0, 5.0])
    np.testing.assert_array_equal(bf16(blocks["min"]), [1.0, 2.0])
    np.testing.assert_array_equal(bf16(blocks["max"]), [3.0, 8.0])


def test_the_json_round_trips_exactly_through_strict_json():
    losses, _ = run_with_spikes(10_001)
    losses[[17, 5000, 5001]] = np.nan
    log = logged(losses)
    text = json.dumps(log.to_json(), allow_nan=False)
    copy = LossLog.from_json(json.loads(text), recent=RECENT, blocks=BLOCKS)
    assert copy.to_json() == log.to_json()
    assert copy.count == 10_001 and copy.exact()[0] == 10_001 - RECENT


def test_a_log_from_json_goes_on_as_the_original():
    losses, _ = run_with_spikes(20_000)
    log = logged(losses[:10_001])
    copy = LossLog.from_json(log.to_json(), recent=RECENT, blocks=BLOCKS)
    for each in (log, copy):
        each.extend(losses[10_001:])
    assert copy.to_json() == log.to_json()


def test_the_json_has_the_old_keys_and_the_new():
    history = logged(np.arange(100.0)).to_json()
    assert set(history) == {"stride", "count", "values", "min", "max", "recent_start", "recent"}
    assert (history["stride"], history["count"], history["recent_start"]) == (4, 100, 36)
    assert history["values"][:2] == [1.5, 5.5] and history["max"][:2] == [3.0, 7.0]


def good_history() -> dict:
    return logged(np.arange(100.0)).to_json()


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("count", {"count": -1}),
        ("count", {"count": True}),
        ("count", {"count": None}),
        ("stride", {"stride": 0}),
        ("stride", {"stride": 4.0}),
        ("stride", {"stride": 3, "values": [1.0] * 34}),
        ("values", {"values": [1.0] * 24}),
        ("values", {"values": "1,2"}),
        ("values[2]", {"values": [1.5, 5.5, "x"] + [1.0] * 22}),
        ("values[0]", {"values": [1e400] + [1.0] * 24}),
        ("min", {"min": [0.0]}),
        ("min", {"min": None}),
        ("min", {"min": [None] + [0.0] * 24}),
        ("max", {"max": [-1.0] * 25}),
        ("recent", {"recent": [1.0] * 65}),
        ("recent_start", {"recent_start": 0}),
        ("values", {"stride": 1, "values": [1.0] * 100, "min": [1.0] * 100, "max": [1.0] * 100}),
    ],
)
def test_from_json_names_the_field_that_is_wrong(field, change):
    with pytest.raises(ValueError, match="^" + re.escape(f"history.{field}:")):
        LossLog.from_json(good_history() | change, recent=RECENT, blocks=BLOCKS)


def test_from_json_refuses_a_history_that_is_not_an_object():
    with pytest.raises(ValueError, match="^history:"):
        LossLog.from_json([1, 2])


def test_an_old_export_opens_with_its_samples_as_blocks():
    log = LossLog.from_json({"stride": 2, "count": 5, "values": [0.5, None, 0.25]})
    series = log.since(0)
    assert (log.count, log.block, series.stride) == (5, 2, 2)
    np.testing.assert_array_equal(series.max, [0.5, np.nan, 0.25])
    assert log.exact() == (5, pytest.approx([]))


def test_an_old_export_at_stride_one_keeps_its_recent_steps_exact():
    values = np.linspace(1.0, 0.0, 100_000)
    log = LossLog.from_json({"stride": 1, "count": 100_000, "values": values.tolist()})
    np.testing.assert_array_equal(log.exact()[1], values[-4096:])
    assert log.block == 64 and len(log.to_json()["values"]) <= 2048
    assert_series(log.since(0), values)


def test_a_nan_step_is_left_out_of_its_block():
    log = LossLog(recent=4, blocks=2)
    log.extend(np.array([1.0, np.nan, 3.0, np.inf, np.nan, np.nan, 5.0, 7.0]))
    series = log.since(0)
    assert series.stride == 4
    np.testing.assert_array_equal(series.mean, [2.0, 6.0])
    np.testing.assert_array_equal(series.min, [1.0, 5.0])
    np.testing.assert_array_equal(series.max, [3.0, 7.0])
    np.testing.assert_array_equal(log.exact()[1], [np.nan, np.nan, 5.0, 7.0])


def test_a_block_of_nan_only_is_nan_and_does_not_poison_its_merges():
    log = LossLog(recent=2, blocks=2)
    log.extend([np.nan, np.nan])
    log.extend([np.nan, 4.0])
    assert np.isnan(log.since(0).mean[0]) and log.block == 2
    log.extend([2.0, 2.0, 2.0, 2.0])
    series = log.since(0)
    assert series.stride == 4
    np.testing.assert_array_equal(series.mean, [4.0, 2.0])
    assert log.to_json()["values"] == [4.0, 2.0]


def test_the_state_pickles_and_goes_on_as_the_original():
    losses, _ = run_with_spikes(20_000)
    losses[3] = np.nan
    log = logged(losses[:10_001])
    copy = LossLog.from_state(pickle.loads(pickle.dumps(log.state())))
    for each in (log, copy):
        each.extend(losses[10_001:])
    assert copy.to_json() == log.to_json()
    np.testing.assert_array_equal(copy.since(0).mean, log.since(0).mean)


def test_clear_forgets_the_run():
    log = logged(np.ones(1000))
    log.clear()
    assert log.count == 0 and log.block == 1 and len(log.since(0)) == 0
    log.extend([0.5])
    assert log.to_json()["values"] == [0.5] and log.exact() == (0, pytest.approx([0.5]))

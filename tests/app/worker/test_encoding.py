"""Answers are encoded by orjson: every float comes back bit for bit, non-finite never as NaN,
and what orjson cannot write (an export's 128-bit generator state) falls back to json."""

import json

import numpy as np

from app.worker import encode


def test_every_float_comes_back_bit_for_bit():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.standard_normal(2000) * 10.0 ** rng.integers(-300, 300, 2000),
                             [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0]])
    back = np.array(json.loads(encode.dumps({"v": values.tolist()}))["v"])
    assert back.tobytes() == values.tobytes()


def test_a_non_finite_float_is_null_never_nan():
    assert json.loads(encode.dumps([float("nan"), float("inf"), 1.0])) == [None, None, 1.0]


def test_a_128_bit_integer_falls_back_to_the_json_module():
    state = {"state": 2**127 + 3, "inc": 2**100}
    assert json.loads(encode.dumps(state)) == state

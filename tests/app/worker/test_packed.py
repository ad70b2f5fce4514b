"""Stream encodings: bfloat16 loss series keep range, sign and non-finite values."""

import numpy as np
from support import bf16

from app.worker.packed import bf16 as encode_bf16
from app.worker.packed import f32


def test_bfloat16_is_within_a_relative_2_to_the_minus_8_of_the_value():
    values = np.random.default_rng(0).lognormal(0.0, 6.0, size=1000) * np.where(
        np.arange(1000) % 2, 1.0, -1.0
    )
    np.testing.assert_allclose(bf16(encode_bf16(values)), values, rtol=2**-8)


def test_bfloat16_keeps_the_tiny_losses_float16_would_lose():
    assert abs(bf16(encode_bf16([1e-9]))[0] / 1e-9 - 1) < 2**-8


def test_bfloat16_rounds_to_nearest_not_down():
    # 1 + 2^-8 + 2^-10 lies nearer 1 + 2^-7 than 1 + 2^-8 … on bfloat16's grid of 2^-7.
    assert bf16(encode_bf16([1.0 + 2**-8 + 2**-10]))[0] == np.float32(1.0 + 2**-7)
    assert bf16(encode_bf16([1.0 + 2**-9]))[0] == np.float32(1.0)


def test_bfloat16_keeps_infinities_and_nan():
    decoded = bf16(encode_bf16([np.inf, -np.inf, np.nan]))
    assert decoded[0] == np.inf and decoded[1] == -np.inf and np.isnan(decoded[2])


def test_bfloat16_halves_the_bytes_of_float32():
    values = np.linspace(0.1, 1.0, 300)
    assert len(encode_bf16(values)) * 2 <= len(f32(values)) + 4

"""Bulk arrays as the stream sends them: base64 of their little-endian bytes, float32
(frames, charts), bfloat16 (loss series) and uint8 (heatmaps).

Base64 bytes keep a frame of a 2-8-8-1 network under 4 KB, and a NaN can never break the JSON
(docs/stream.md gives the layout).
"""

import base64
import binascii

import numpy as np


def _float32(values) -> np.ndarray:
    with np.errstate(over="ignore"):  # past float32's range is ±inf in the bytes, as documented
        return np.asarray(values, dtype="<f4")


def f32(values) -> str:
    """Call inside np.errstate(over="ignore"), as frame() does once for all of its arrays:
    past float32's range is ±inf in the bytes, as documented."""
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def bf16(values) -> str:
    """bfloat16 (float32's top half, rounded to nearest even): half the bytes of float32, the
    same range, about three significant digits — plenty for a loss chart."""
    single = _float32(values)
    bits = single.view("<u4")
    # In 32 bits the rounding wraps only above −inf's pattern (0xFF800000): NaNs, set after.
    half = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    nan = np.isnan(single)
    if nan.any():
        half[nan] = 0x7FC0   # NaN stays a NaN
    return b64(half)


def u8(values: np.ndarray) -> str:
    return base64.b64encode(values.tobytes()).decode("ascii")


def f4(values: np.ndarray) -> np.ndarray:
    """float32, little-endian, C-contiguous; call inside np.errstate (past float32's range is
    ±inf)."""
    return values.astype("<f4")


def b64(buffer) -> str:
    """base64 of a C-contiguous array's memory (or any bytes), without copying it first."""
    return binascii.b2a_base64(buffer, newline=False).decode("ascii")

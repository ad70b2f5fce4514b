"""A frame's bytes are a public contract (docs/stream.md): the encoder that casts each flat
vector once (app/worker/frames.py) must write exactly what the frame as first written did, casting
and encoding every array alone — over many networks, before and after steps, diverged too."""

import base64

import numpy as np
import pytest
from support import DIVERGING

from app.config import Settings
from app.schemas.session import SessionConfig
from app.worker import encode, frames, packed, session_ops


def reference_frame(session, seq: int, series: dict) -> str:
    """The frame as first written: every array cast to float32 and encoded on its own."""
    trainer, record = session.trainer, session.trainer.last
    net = trainer.net
    layers, example = [], session.example
    with np.errstate(all="ignore"):
        if record is not None:
            update_W, update_b = record.layout.views(record.update)
        for k in range(1, net.L + 1):
            layer = {"W": packed.f32(net.W[k]), "b": packed.f32(net.b[k])}
            if record is not None:
                layer.update(
                    a=packed.f32(frames._shown(record.a[k], example)),
                    o=packed.f32(frames._shown(record.o[k], example)),
                    delta=packed.f32(frames._shown(record.delta[k], example)),
                    dE_dW=packed.f32(record.dE_dW[k]),
                    update_W=packed.f32(update_W[k]),
                    dE_db=packed.f32(record.dE_db[k]),
                    update_b=packed.f32(update_b[k]),
                )
            layers.append(layer)
        grad_norms = (
            [] if record is None
            else [encode.number(np.sqrt(np.mean(g**2))) for g in record.dE_dW[1:]]
        )
        shown_input = None if record is None else packed.f32(frames._shown(record.o[0], example))
        metrics = trainer.metrics()
    phase = session.phase()
    return frames.dumps({
        "type": "frame", "seq": seq, "step": trainer.step_count, "epoch": trainer.epoch,
        "status": session.status, "diverged": trainer.diverged,
        "loss_start": series["start"], "loss_stride": series["stride"],
        "losses": series["values"], "losses_min": series["min"], "losses_max": series["max"],
        "metrics": encode.metrics(metrics), "grad_norms": grad_norms,
        "phase": None if phase is None else vars(phase), "example": session.example,
        "input": shown_input, "layers": layers,
    })


NETWORKS = {
    "default": {},
    "wide and deep, relu, adam, l2": {
        "hidden": [16, 16, 16], "activation": "relu",
        "regularization": {"name": "l2", "rate": 0.01},
        "optimizer": {"name": "adam", "learning_rate": 0.01},
    },
    "five features, sigmoid, momentum, l1, fixed biases": {
        "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2"], "hidden": [7, 3],
        "activation": "sigmoid", "regularization": {"name": "l1", "rate": 0.001},
        "optimizer": {"name": "momentum", "learning_rate": 0.05}, "train_biases": False,
    },
    "three classes, softmax": {"dataset": "three_class", "hidden": [5]},
    "regression, leaky relu": {"dataset": "plane", "activation": "leaky_relu", "hidden": [9, 9]},
    "no hidden layer, one example per batch": {"hidden": [], "batch_size": 1},
    "diverged": DIVERGING,
}


def session_of(config: dict):
    return session_ops.create("s", "CODE", SessionConfig(**config), Settings())


@pytest.mark.parametrize("name", NETWORKS)
def test_a_frame_is_the_same_bytes_as_encoding_each_array_alone(name):
    session = session_of(NETWORKS[name])
    series = frames.loss_series(0, np.empty(0))
    seen = [frames.frame(session, 1, series)]   # before the first step: W and b alone
    assert seen[0] == reference_frame(session, 1, series)
    for steps, example in ((1, None), (37, None), (5, 0), (3, 4), (2, 10_000)):
        session.step(steps)
        session.example = example   # a chosen row, or one past the batch: the mean again
        series = frames.loss_series(session.trainer.step_count - steps,
                                    np.arange(steps, dtype=float))
        made = frames.frame(session, len(seen) + 1, series)
        assert made == reference_frame(session, len(seen) + 1, series)
        seen.append(made)
    if name == "diverged":
        assert session.trainer.diverged and '"diverged":true' in seen[-1]


def reference_bf16(values) -> str:
    """bfloat16 as first written: rounded in 64 bits, NaN chosen by np.where."""
    with np.errstate(over="ignore"):
        single = np.asarray(values, dtype="<f4")
    bits = single.view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    half = np.where(np.isnan(single), 0x7FC0, rounded).astype("<u2")
    return base64.b64encode(half.tobytes()).decode("ascii")


def test_a_loss_series_is_the_same_bytes_as_bfloat16_first_written():
    rng = np.random.default_rng(1)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e-45, -1e-45, 3.4e38,
                      -3.4e38, 1e39, -1e39, 1e300, 1.0 + 2**-8, 1.0 + 2**-9 + 2**-20])
    patterns = np.array([0xFF800001, 0xFFFFFFFF, 0xFFFF8000, 0x7F800001, 0x7F7FFFFF,
                         0xFF7FFFFF], dtype="<u4").view("<f4")   # NaNs of every sign and payload
    for values in (edges, patterns, rng.lognormal(0.0, 8.0, 500) * rng.choice([-1, 1], 500),
                   np.empty(0), rng.standard_normal(128)):
        assert packed.bf16(values) == reference_bf16(values)

"""Stream messages for followers: frames (compact float32), heatmaps (uint8), losses.

Bulk arrays travel as base64 bytes so a frame of a 2-8-8-1 network stays under 4 KB and a
NaN can never break the JSON; see docs/stream.md for the layout.
"""

import numpy as np

from app.worker import encode
from app.worker.losslog import series_json, summarize
from app.worker.packed import b64, f4, u8
from app.worker.session import Session

FRAME_LOSSES = 128  # a frame's loss series at most: a 2-8-8-1 frame stays within 4 KB



def dumps(message: dict) -> str:
    return encode.dumps(message).decode()


def _shown(values: np.ndarray, example: int | None) -> np.ndarray:
    """Batch mean, or one example's row when one is chosen and the batch has it."""
    if example is not None and example < len(values):
        return values[example]
    return np.add.reduce(values, axis=0) / len(values)   # np.mean's overhead, times 30 a frame


def loss_series(start: int, losses: np.ndarray) -> dict:
    """The losses of the steps from `start` on, summarised to at most FRAME_LOSSES points
    (docs/stream.md): made once for a frame and for its `losses` twin."""
    return series_json(summarize(start, losses, FRAME_LOSSES))


def next_frame(session: Session) -> tuple[str, str, tuple[int, int]]:
    """The session's next frame for every follower, built here top to bottom: the losses of
    the steps since the last frame → their series → the last record's layers and the metrics
    (kept in the charts for late joiners) → the bytes. Answers the frame, its `losses` twin
    (for a follower that skips the frame) and the steps [start, end) their losses cover."""
    session.seq += 1
    start, losses = session.take_pending()
    series = loss_series(start, losses)
    text = frame(session, session.seq, series, keep=True)
    return text, losses_message(series, session.charts.offered), (start, start + len(losses))


def frame(session: Session, seq: int, series: dict, keep: bool = False) -> str:
    """Encode the session's latest state once for every follower, with the loss series of
    the steps since the previous frame (loss_series); `keep`: a frame every follower gets,
    whose numbers the session's charts keep for late joiners (app/worker/chartlog.py)."""
    trainer, record = session.trainer, session.trainer.last
    example = session.example
    with np.errstate(all="ignore"):
        layers = _layers(trainer.net, record, example)
        grad_norms = [] if record is None else _grad_norms(record)
        shown_input = None if record is None else b64(f4(_shown(record.o[0], example)))
        metrics = trainer.metrics()
    phase = session.phase()
    shown = encode.metrics(metrics)
    if keep:
        session.charts.add(trainer.step_count, shown["train_loss"], shown["test_loss"], grad_norms)
    message = {
        "type": "frame",
        "seq": seq,
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "status": session.status,
        "diverged": trainer.diverged,
        "loss_start": series["start"],
        "loss_stride": series["stride"],
        "losses": series["values"],
        "losses_min": series["min"],
        "losses_max": series["max"],
        "metrics": shown,
        "grad_norms": grad_norms,
        "phase": None if phase is None else vars(phase),
        "example": session.example,
        "input": shown_input,
        "layers": layers,
    }
    return dumps(message)


# A frame carries nine arrays a layer, made again for every frame of every playing session:
# the cost is in the calls, not the bytes. So each flat vector (θ, ∂E/∂θ, Δθ) is cast to
# float32 once and its layers' W^k and b^k are slices of that one cast — the same bytes as
# casting each alone (a cast is elementwise) — and base64 reads each slice's memory in place.
# tests/app/worker/test_frame_bytes.py checks the bytes against the frame as first written, an
# array at a time, over many networks.


def _layers(net, record, example: int | None) -> list[dict]:
    """layers[k−1] = {W, b} and, after the first step, {a, o, delta, dE_dW, update_W, dE_db,
    update_b} in that order: the frame's bytes depend on it."""
    theta = f4(net.theta)
    params = [
        {"W": b64(theta[w0:w1]), "b": b64(theta[b0:b1])}
        for w0, w1, _, _, b0, b1 in net.layout.spans
    ]
    if record is None:
        return params
    grad, update = f4(record.backward.grad), f4(record.update)
    for k, (layer, (w0, w1, _, _, b0, b1)) in enumerate(zip(params, record.layout.spans,
                                                             strict=True), start=1):
        layer.update(
            a=b64(f4(_shown(record.a[k], example))),
            o=b64(f4(_shown(record.o[k], example))),
            delta=b64(f4(_shown(record.delta[k], example))),
            dE_dW=b64(grad[w0:w1]),
            update_W=b64(update[w0:w1]),
            dE_db=b64(grad[b0:b1]),
            update_b=b64(update[b0:b1]),
        )
    return params


def _grad_norms(record) -> list:
    """Per layer k the RMS of ∂E/∂W^k: np.mean's own sum and division (np.add.reduce over
    all, then / size), without its per-call overhead."""
    squared = record.backward.grad * record.backward.grad
    return [
        encode.number(np.sqrt(np.add.reduce(squared[w0:w1]) / (w1 - w0)))
        for w0, w1, *_ in record.layout.spans
    ]


def heatmaps(session: Session, resolution: int, stride: int) -> str:
    """Every node's output over the input plane: thumbnails per node, the output in full."""
    trainer = session.trainer
    o = trainer.grid_outputs(resolution)
    ranges, nodes, output = [[-1.0, 1.0]], [_input_thumbs(session, o[0], resolution, stride)], []
    pick = slice(stride // 2, None, stride)
    for k in range(1, len(o)):
        lo, hi = (0.0, 1.0) if trainer.net.g[k].unit else (-1.0, 1.0)   # o's usual range
        grid = o[k].reshape(resolution, resolution, -1)
        if k == len(o) - 1:   # the output in full; its thumbnails are some of those cells
            q = _quantize(grid, lo, hi)
            output = [u8(np.ascontiguousarray(q[:, :, j])) for j in range(q.shape[2])]
            thumbs = q[pick, pick]
        else:                 # hidden nodes: only the cells a thumbnail shows
            thumbs = _quantize(grid[pick, pick], lo, hi)
        nodes.append([u8(np.ascontiguousarray(thumbs[:, :, j])) for j in range(grid.shape[2])])
        ranges.append([lo, hi])
    return dumps(
        {
            "type": "heatmaps",
            "step": trainer.step_count,
            "resolution": resolution,
            "thumb": resolution // stride,
            "extent": list(trainer.extent),
            "ranges": ranges,
            "nodes": nodes,
            "output": output,
        }
    )


def _input_thumbs(session: Session, o_0: np.ndarray, resolution: int, stride: int) -> list:
    """The inputs' thumbnails, each feature scaled by its largest magnitude on the plane: the
    same for the whole session, so made once."""
    key = (resolution, stride, session.trainer.cfg.features)
    if session.input_heatmaps.get("key") != key:
        scaled = o_0 / np.maximum(np.abs(o_0).max(axis=0), 1e-12)
        pick = slice(stride // 2, None, stride)
        grid = _quantize(scaled.reshape(resolution, resolution, -1)[pick, pick], -1.0, 1.0)
        session.input_heatmaps = {
            "key": key,
            "thumbs": [u8(np.ascontiguousarray(grid[:, :, j])) for j in range(grid.shape[2])],
        }
    return session.input_heatmaps["thumbs"]


def _quantize(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """[lo, hi] -> 0..255, clipped; NaN (a diverged network) shows as lo."""
    with np.errstate(invalid="ignore"):
        q = (values - lo) * (255.0 / (hi - lo))
        np.clip(q, 0.0, 255.0, out=q)
        np.nan_to_num(q, copy=False, nan=0.0)
        return np.rint(q).astype(np.uint8)


def losses_message(series: dict, point: dict | None = None) -> str:
    """A frame's loss series alone, for a follower that skipped that frame, with the frame's
    chart point ({step, train_loss, test_loss, grad_norms}; app/worker/chartlog.py) when it has
    one."""
    if point is None:
        return dumps({"type": "losses", **series})
    return dumps({"type": "losses", **series, "point": point})

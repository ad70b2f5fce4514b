"""A session as JSON: what GET /api/sessions/{id} answers and the stream's `state` message."""

import csv
import io
from dataclasses import asdict

from app.worker import encode
from app.worker.losslog import series_json
from app.worker.session import Session
from engine.features import FEATURE_LABELS
from engine.losses import LOSSES


def record_json(session: Session) -> dict | None:
    """The last step in the REST contract's shape, plus its batch and the weights it used."""
    record = session.trainer.last
    if record is None:
        return None
    layout = record.layout
    body = encode.step_record(record)
    body["inputs"] = encode.array(record.o[0])
    batch = session.trainer.last_batch
    body["targets"] = None if batch is None else encode.array(batch[1])
    if session.before is not None:
        before = encode.params(layout, session.before)
        body["weights_before"], body["biases_before"] = before["weights"], before["biases"]
    else:
        body["weights_before"] = body["biases_before"] = None
    body["diverged"] = record.diverged
    return body


def problem(session: Session) -> dict:
    """What the page would otherwise guess from names: the kind of problem, its classes, the
    output nodes, and whether δ^L is the loss fused with the output activation."""
    trainer = session.trainer
    return {
        "kind": trainer.split.kind,
        "classes": trainer.split.classes,
        "outputs": trainer.net.sizes[-1],
        "fused": LOSSES[trainer.cfg.step.loss].fused,
    }


def session_state(session: Session) -> dict:
    trainer = session.trainer
    phase = session.phase()
    return {
        "id": session.id,
        "status": session.status,
        "speed": session.speed,
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "config": session.config,
        "layers": list(trainer.net.sizes),
        "activations": list(trainer.net.activations),
        "feature_labels": [FEATURE_LABELS[name] for name in trainer.cfg.features],
        "extent": list(trainer.extent),
        "problem": problem(session),
        "network": encode.network(trainer.net),
        "optimizer_state": encode.optimizer_state(trainer.state, trainer.net.layout),
        "metrics": encode.metrics(trainer.metrics()),  # the trainer guards its own overflow
        "record": record_json(session),
        "phase": None if phase is None else asdict(phase),
        "example": session.example,
        "followers": session.followers,
        "watch_url": session.watch_url,
        "join_code": session.join_code,
        "undo": len(session.undo),
    }


def points(session: Session) -> dict:
    split = session.trainer.split
    return {
        "train": {"x": split.X_train.tolist(), "y": split.y_train.tolist()},
        "test": {"x": split.X_test.tolist(), "y": split.y_test.tolist()},
    }


HISTORY_POINTS = 2048  # a loss chart is a few hundred pixels wide; the log keeps 2048 blocks


def history(session: Session) -> dict:
    """The whole run's loss for a chart: at most HISTORY_POINTS of mean, min and max."""
    return series_json(session.log.overview(HISTORY_POINTS))


def history_json(session: Session) -> dict:
    """The loss history: the whole run (every step while short, else blocks of `stride`
    steps with their mean, min and max) and the last steps exactly."""
    whole = series_json(session.log.since(0), encode.array)
    start, recent = session.log.exact()
    first, stride = whole["start"], whole["stride"]
    return {
        "stride": stride,
        "steps": list(range(first, first + len(whole["values"]) * stride, stride)),
        "loss": whole["values"],
        "min": whole["min"],
        "max": whole["max"],
        "recent": {"start": start, "loss": encode.array(recent)},
    }


def history_csv(session: Session) -> str:
    """The whole run as CSV: step (a block's first), loss (its mean), min, max."""
    whole = session.log.since(0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["step", "loss", "min", "max"])
    rows = zip(whole.mean.tolist(), whole.min.tolist(), whole.max.tolist(), strict=True)
    for i, values in enumerate(rows):
        writer.writerow([whole.start + i * whole.stride, *map(repr, values)])
    return out.getvalue()

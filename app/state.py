"""A session as JSON: what GET /api/sessions/{id} answers and the stream's `state` message."""

from dataclasses import asdict

from app import encode
from app.frames import bf16
from app.sessions import Session
from engine.features import FEATURE_LABELS


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
        "network": encode.network(trainer.net),
        "optimizer_state": encode.optimizer_state(trainer.state, trainer.net.layout),
        "metrics": encode.metrics(trainer.metrics()),  # the trainer guards its own overflow
        "record": record_json(session),
        "phase": None if phase is None else asdict(phase),
        "example": session.example,
        "followers": session.followers,
        "watch_url": session.watch_url,
        "join_code": session.join_code,
    }


def points(session: Session) -> dict:
    split = session.trainer.split
    return {
        "train": {"x": split.X_train.tolist(), "y": split.y_train.tolist()},
        "test": {"x": split.X_test.tolist(), "y": split.y_test.tolist()},
    }


HISTORY_POINTS = 2000  # a loss chart is a few hundred pixels wide


def history(session: Session) -> dict:
    """The loss history thinned for a chart: bfloat16 base64, every stride-th step from 0."""
    log = session.log
    thin = -(-len(log.values) // HISTORY_POINTS) or 1
    return {"stride": log.stride * thin, "values": bf16(log.values[::thin])}

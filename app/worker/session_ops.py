"""Session operations that control requests run in the worker: create, config patches, hand
edits, gradient checks, export and import."""

import numpy as np

from app.schemas.session import (
    EXPORT_FORMAT,
    ConfigPatch,
    ParameterEdit,
    SessionConfig,
    SessionExport,
)
from app.schemas.step import NO_REGULARIZATION, OPTIMIZER_MODELS
from app.worker import encode
from app.worker.chartlog import ChartLog
from app.worker.losslog import LossLog
from app.worker.session import Session
from app.worker.trainer_factory import build_trainer
from engine.errors import EngineError
from engine.gradcheck import numeric_gradient, relative_error
from engine.network import Network
from engine.optimizers import OptimizerConfig
from engine.trainer import Snapshot


def create(session_id: str, join_code: str, cfg: SessionConfig, settings) -> Session:
    cfg, run, trainer = build_trainer(cfg, settings)
    return Session(
        session_id, join_code, cfg.model_dump(mode="json"), run, trainer, LossLog()
    )


def patch_config(session: Session, patch: ConfigPatch) -> None:
    """Change hyper-parameters between steps; the engine checks the combination."""
    trainer, changes = session.trainer, {}
    optimizer = trainer.cfg.step.optimizer
    if patch.optimizer is not None:
        optimizer = OptimizerConfig(**patch.optimizer.model_dump())
    if patch.learning_rate is not None:
        optimizer = OptimizerConfig(**{**vars(optimizer), "learning_rate": patch.learning_rate})
    changes["optimizer"] = optimizer
    if patch.regularization is not None:
        changes.update(patch.regularization.step_fields())
    if patch.regularization_off:
        changes.update(NO_REGULARIZATION)
    if patch.train_biases is not None:
        changes["train_biases"] = patch.train_biases
    trainer.set_step_config(**changes)
    if patch.batch_size is not None:
        trainer.set_batch_size(patch.batch_size)
    if patch.activation is not None:
        trainer.set_activation(patch.activation)
    if patch.example is not None:
        session.example = None if patch.example < 0 else patch.example
    session.config = _config_now(session)


def _config_now(session: Session) -> dict:
    cfg, step = session.trainer.cfg, session.trainer.cfg.step
    optimizer = {
        k: v
        for k, v in vars(step.optimizer).items()
        if k in OPTIMIZER_MODELS[step.optimizer.name].model_fields
    }
    reg = (
        None
        if step.regularization is None
        else {"name": step.regularization, "rate": step.regularization_rate}
    )
    return {
        **session.config,
        "optimizer": optimizer,
        "regularization": reg,
        "batch_size": cfg.batch_size,
        "activation": cfg.activation,
        "train_biases": step.train_biases,
    }



def set_parameter(session: Session, edit: ParameterEdit) -> None:
    session.trainer.set_parameter(edit.kind, edit.layer, edit.i, edit.j, edit.value)
    if session.status == "diverged":
        session.status = "paused"


def check_one(session: Session, kind: str, layer: int, i: int, j: int | None) -> dict:
    """Analytic ∂E/∂w of the last step against a central difference, on that step's batch."""
    trainer, record = session.trainer, session.trainer.last
    if record is None or trainer.last_batch is None or session.before is None:
        raise EngineError(
            "step: take one step first (the check uses the last step's batch)", "step"
        )
    net = trainer.net
    if not 1 <= layer <= net.L:
        raise EngineError(f"layer: must be in 1..{net.L}, got {layer}", "layer")
    if kind == "W" and j is None:
        raise EngineError("j: needed for a weight (kind W)", "j")
    W_index, b_index = net.layout.views(np.arange(net.layout.n_params))
    try:
        index = int(W_index[layer][i, j] if kind == "W" else b_index[layer][i])
    except (IndexError, TypeError) as err:
        raise EngineError(f"i: ({i}, {j}) is outside {kind}[{layer}]", "i") from err
    before = Network(net.sizes, net.activations, session.before.copy())
    X, Y = trainer.last_batch
    with np.errstate(all="ignore"):
        numeric = numeric_gradient(before, X, Y, trainer.cfg.step, index)
    analytic = float(record.backward.grad[index])
    return {
        "analytic": encode.number(analytic),
        "numeric": encode.number(numeric),
        "relative_error": encode.number(relative_error(np.array(analytic), np.array(numeric))),
    }


def export(session: Session) -> dict:
    trainer = session.trainer
    snap = trainer.snapshot()
    params = encode.params(trainer.net.layout, snap.theta)
    return {
        "format": EXPORT_FORMAT,
        "config": session.config,
        "network": params,
        "optimizer_state": encode.optimizer_state(snap.state, trainer.net.layout),
        "step": snap.step_count,
        "epoch": snap.epoch,
        "status": "diverged" if snap.diverged else "paused",
        "history": session.log.to_json(),
        "batch_order": snap.order.tolist(),
        "batch_cursor": snap.cursor,
        "rng_state": snap.rng_state,
        "charts": session.charts.export(),
    }


def import_session(session_id: str, join_code: str, data: SessionExport, settings) -> Session:
    """A new session that continues exactly where the exported one stopped."""
    session = create(session_id, join_code, data.config, settings)  # a hand-set start stays
    trainer = session.trainer                                       # the reset point
    layout = trainer.net.layout
    try:
        theta = encode.flat_params(layout, data.network.weights, data.network.biases, "network")
        opt = encode.parse_optimizer_state(
            data.optimizer_state.model_dump(), trainer.cfg.step.optimizer.name, layout
        )
        trainer.restore(
            Snapshot(
                theta,
                opt,
                data.step,
                data.epoch,
                [],
                data.rng_state.model_dump(),
                np.asarray(data.batch_order),
                data.batch_cursor,
                data.status == "diverged",
            )
        )
        # exclude_none: an export from before blocks has no min, max or recent
        session.log = LossLog.from_json(data.history.model_dump(exclude_none=True))
        session.charts = ChartLog.from_export(data.charts and data.charts.model_dump())
    except EngineError:
        raise
    except (ValueError, TypeError, KeyError) as err:   # the loss log's own checks
        raise EngineError(str(err), "history") from err
    session.pending_start = data.step
    session.status = data.status if data.status != "playing" else "paused"
    return session

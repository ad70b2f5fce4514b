"""SessionConfig -> engine RunConfig and Trainer, with the defaults of TensorFlow Playground."""

import numpy as np

from app.schemas.session import SessionConfig
from app.schemas.step import check_limits, regularization_fields
from app.worker import cost
from engine.datasets import DATASETS, Split, make_dataset, split
from engine.losses import default_loss
from engine.network import make_network
from engine.optimizers import OptimizerConfig
from engine.train import StepConfig
from engine.trainer import RunConfig, Trainer

SMALLEST_SPLIT = 10  # fewer own points than this are not split into train and test


def resolve(cfg: SessionConfig) -> SessionConfig:
    """Fill the defaults that depend on the data set: output activation, loss, points."""
    kind, classes = _kind(cfg)
    output = cfg.output_activation or (
        "softmax" if classes > 2 else "tanh" if kind == "classification" else "linear"
    )
    loss = cfg.loss or default_loss(output)
    points = cfg.points
    if points is None and cfg.dataset != "custom":
        points = DATASETS[cfg.dataset].default_points
    return cfg.model_copy(update={"output_activation": output, "loss": loss, "points": points})


def _kind(cfg: SessionConfig) -> tuple[str, int]:
    if cfg.dataset == "custom":
        return ("classification", 2) if cfg.data.labels is not None else ("regression", 0)
    return DATASETS[cfg.dataset].kind, DATASETS[cfg.dataset].classes


def run_config(cfg: SessionConfig) -> RunConfig:
    return RunConfig(
        dataset=cfg.dataset,
        points=cfg.points,
        noise=cfg.noise / 100.0,
        train_share=cfg.train_share / 100.0,
        features=tuple(cfg.features),
        hidden=tuple(cfg.hidden),
        activation=cfg.activation,
        output_activation=cfg.output_activation,
        init=cfg.init,
        batch_size=cfg.batch_size,
        step=StepConfig(
            loss=cfg.loss,
            optimizer=OptimizerConfig(**cfg.optimizer.model_dump()),
            train_biases=cfg.train_biases,
            **regularization_fields(cfg.regularization),
        ),
        seed=cfg.seed,
        data_seed=cfg.data_seed,
    )


def make_split(cfg: SessionConfig) -> Split:
    if cfg.data is None:
        return make_dataset(
            cfg.dataset, cfg.points, cfg.noise / 100.0, cfg.train_share / 100.0, cfg.data_seed
        )
    X = np.asarray(cfg.data.inputs, dtype=np.float64)
    labelled = cfg.data.labels is not None
    y = np.asarray(cfg.data.labels if labelled else cfg.data.targets, dtype=np.float64)
    kind, classes = ("classification", 2) if labelled else ("regression", 0)
    if len(X) < SMALLEST_SPLIT:  # a worked example: every point is both trained and tested
        return Split(X, y, X.copy(), y.copy(), kind, classes)
    X_train, y_train, X_test, y_test = split(
        X, y, cfg.train_share / 100.0, np.random.default_rng(cfg.data_seed)
    )
    return Split(X_train, y_train, X_test, y_test, kind, classes)


def build_trainer(cfg: SessionConfig, settings) -> tuple[SessionConfig, RunConfig, Trainer]:
    """Validate against the limits, then build. EngineError for combinations the engine refuses."""
    cfg = resolve(cfg)
    outputs = len(cfg.data.targets[0]) if cfg.data is not None and cfg.data.targets else 1
    check_limits(settings, layers=[len(cfg.features), *cfg.hidden, outputs], layers_at=("hidden",))
    rows = cfg.points if cfg.data is None else len(cfg.data.inputs)
    if rows is not None and rows > settings.max_points:
        check_limits(
            settings, rows=rows, rows_at=("points",) if cfg.data is None else ("data", "inputs")
        )
    run = run_config(cfg)
    trainer = Trainer(run, make_split(cfg))
    cost.check_session(
        settings, list(trainer.net.sizes), min(cfg.batch_size, len(trainer.X_train))
    )
    if cfg.network is not None and (cfg.network.weights or cfg.network.biases):
        net = trainer.net
        hand = make_network(
            net.sizes,
            net.activations,
            W=[None, *cfg.network.weights] if cfg.network.weights else list(net.W),
            b=[None, *cfg.network.biases] if cfg.network.biases else list(net.b),
        )
        trainer = Trainer(run, trainer.split, initial_theta=hand.theta)
    return cfg, run, trainer


"""Stateless stepping: a /api/step or /api/gradcheck request -> engine calls -> response dict."""

from dataclasses import replace

import numpy as np

from app.schemas.step import GradcheckRequest, StepRequest, regularization_fields
from app.worker import encode
from engine import compiled
from engine.gradcheck import gradcheck, loss_at, relative_error
from engine.network import Network, make_network
from engine.optimizers import OptimizerConfig
from engine.train import StepConfig, record_step


def build_network(spec, seed: int, init: str) -> Network:
    return make_network(
        spec.layers,
        spec.activations,
        W=None if spec.weights is None else [None, *spec.weights],
        b=None if spec.biases is None else [None, *spec.biases],
        init=init,
        rng=np.random.default_rng(seed),
    )


def step_config(req: StepRequest | GradcheckRequest) -> StepConfig:
    optimizer = getattr(req, "optimizer", None)
    return StepConfig(
        loss=req.loss,
        optimizer=OptimizerConfig(**optimizer.model_dump()) if optimizer else OptimizerConfig(),
        train_biases=getattr(req, "train_biases", True),
        **regularization_fields(req.regularization),
    )


def run_steps(req: StepRequest) -> dict:
    """Take req.steps steps on the request's batch through the compiled loop, stopping early at
    a diverged step; the last step is recorded by the NumPy engine from the same θ and state."""
    net = build_network(req.network, req.seed, req.init)
    cfg = step_config(req)
    state_in = req.optimizer_state.model_dump() if req.optimizer_state else None
    state = encode.parse_optimizer_state(state_in, cfg.optimizer.name, net.layout)
    X, Y = np.asarray(req.inputs, dtype=np.float64), np.asarray(req.targets, dtype=np.float64)
    spec = compiled.make_spec(net, cfg)
    chunk = compiled.train_fixed_steps(spec, net.theta, state, X, Y, req.steps - 1)
    losses = chunk.losses.tolist()
    record = record_step(net, chunk.state, X, Y, cfg)
    if not chunk.diverged:                      # else the recorded step is the diverged one
        chunk = compiled.train_fixed_steps(spec, net.theta, chunk.state, X, Y, 1)
        losses += chunk.losses.tolist()
    # The compiled step decided the state: its loss and verdict go in the record too, so that
    # "loss" is "losses"[-1] (the arrays are train_step's, equal to about 1e-15).
    record = replace(record, E=losses[-1], diverged=chunk.diverged)
    return encode.step_response(record, net, chunk.state, losses, len(losses) - chunk.diverged)


def run_gradcheck(req: GradcheckRequest) -> dict:
    net = build_network(req.network, req.seed, req.init)
    X, Y = np.asarray(req.inputs, dtype=np.float64), np.asarray(req.targets, dtype=np.float64)
    cfg = step_config(req)
    with np.errstate(all="ignore"):
        check = gradcheck(net, X, Y, cfg, eps=req.epsilon)
        E = encode.number(loss_at(net, net.theta, X, Y, cfg))
    return {
        "analytic": encode.params(net.layout, check.analytic),
        "numeric": encode.params(net.layout, check.numeric),
        "relative_error": encode.params(net.layout, relative_error(check.analytic, check.numeric)),
        "max_relative_error": encode.number(check.max_relative_error),
        "loss": E,
    }

"""Stateless stepping: a /api/step or /api/gradcheck request -> engine calls -> response dict,
worked as a job a part at a time (the server runs other users' work between parts)."""

import math
import time
from dataclasses import replace

import numpy as np

from app.schemas.step import GradcheckRequest, StepRequest, regularization_fields
from app.worker import encode
from engine import compiled
from engine.gradcheck import gradcheck_in_parts, loss_at, relative_error
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


class StepJob:
    """A /api/step request worked a part at a time (`work`), its θ and optimizer state kept
    between parts: req.steps steps on the request's batch through the compiled loop, stopping
    early at a diverged step; the last step is recorded by the NumPy engine from the same θ and
    state. The compiled loop's steps run in chunks that give exactly the losses, θ and state of
    one call (each starts at the batch's first row, the state carried on)."""

    def __init__(self, req: StepRequest) -> None:
        self.net = build_network(req.network, req.seed, req.init)
        self.cfg = step_config(req)
        state_in = req.optimizer_state.model_dump() if req.optimizer_state else None
        self.state = encode.parse_optimizer_state(state_in, self.cfg.optimizer.name,
                                                  self.net.layout)
        self.X = np.asarray(req.inputs, dtype=np.float64)
        self.Y = np.asarray(req.targets, dtype=np.float64)
        self.spec = compiled.make_spec(self.net, self.cfg)
        self.left = req.steps - 1   # steps before the recorded one
        self.losses: list[float] = []
        self.diverged = False
        self.seconds_per_step: float | None = None   # measured on the first chunk

    def work(self, seconds: float) -> dict | None:
        """Train about `seconds` (a chunk of one step at least); the response once done."""
        deadline, first = time.perf_counter() + seconds, self.left
        while self.left > 0 and not self.diverged:
            room = deadline - time.perf_counter()
            if math.isinf(seconds):
                wanted = self.left   # one go: one call
            elif room <= 0 and self.left < first:   # a step a part at least
                return None
            elif self.seconds_per_step is None:
                wanted = 1           # measured first
            else:
                wanted = min(self.left, max(1, int(room / self.seconds_per_step)))
            started = time.perf_counter()
            chunk = compiled.train_fixed_steps(self.spec, self.net.theta, self.state,
                                               self.X, self.Y, wanted)
            took = (time.perf_counter() - started) / wanted
            rate = self.seconds_per_step
            self.seconds_per_step = took if rate is None else 0.5 * rate + 0.5 * took
            self.losses += chunk.losses.tolist()
            self.state, self.diverged = chunk.state, chunk.diverged
            self.left -= chunk.taken
        if time.perf_counter() >= deadline and self.left < first:
            return None   # the recorded step and the answer (~30 ms at the largest): a part
        return self._answer()

    def _answer(self) -> dict:
        net, cfg, X, Y = self.net, self.cfg, self.X, self.Y
        losses, state, diverged = self.losses, self.state, self.diverged
        record = record_step(net, state, X, Y, cfg)
        if not diverged:                      # else the recorded step is the diverged one
            chunk = compiled.train_fixed_steps(self.spec, net.theta, state, X, Y, 1)
            losses += chunk.losses.tolist()
            state, diverged = chunk.state, chunk.diverged
        # The compiled step decided the state: its loss and verdict go in the record too, so
        # that "loss" is "losses"[-1] (the arrays are train_step's, equal to about 1e-15).
        record = replace(record, E=losses[-1], diverged=diverged)
        return encode.step_response(record, net, state, losses, len(losses) - diverged)


class GradcheckJob:
    """A /api/gradcheck request worked a part at a time (`work`): a central difference a
    parameter, as many as fit a part (engine/gradcheck.py's gradcheck_in_parts)."""

    def __init__(self, req: GradcheckRequest) -> None:
        self.net = build_network(req.network, req.seed, req.init)
        self.X = np.asarray(req.inputs, dtype=np.float64)
        self.Y = np.asarray(req.targets, dtype=np.float64)
        self.cfg = step_config(req)
        self.parts = gradcheck_in_parts(self.net, self.X, self.Y, self.cfg, eps=req.epsilon)

    def work(self, seconds: float) -> dict | None:
        """Central differences for about `seconds` (one at least); the response once done."""
        deadline = time.perf_counter() + seconds
        with np.errstate(all="ignore"):
            try:
                while True:
                    next(self.parts)
                    if time.perf_counter() >= deadline:
                        return None
            except StopIteration as done:
                check = done.value
            E = encode.number(loss_at(self.net, self.net.theta, self.X, self.Y, self.cfg))
        return {
            "analytic": encode.params(self.net.layout, check.analytic),
            "numeric": encode.params(self.net.layout, check.numeric),
            "relative_error": encode.params(
                self.net.layout, relative_error(check.analytic, check.numeric)
            ),
            "max_relative_error": encode.number(check.max_relative_error),
            "loss": E,
        }


JOBS = {"step": StepJob, "gradcheck": GradcheckJob}   # by the route's op


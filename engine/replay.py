"""A run as its replay needs it: the start at step 0 and every change with the step it came at.

Step 0 is the network W^k, b^k and step config after the run's last reset; the batches come
from the seed's batch-order stream; Change(step, …) came after `step` steps were run.
"""

from dataclasses import dataclass

import numpy as np

from engine.train import StepConfig


@dataclass(frozen=True)
class Change:
    """One change between steps, made after `step` steps were run (a diverged one counted:
    its loss is in the run's losses too, so `step` is the number of losses before the change).

    kind "step": value is the whole new StepConfig (loss, optimizer and its numbers,
    regularisation, train_biases); a new optimizer name starts from a fresh optimizer state.
    kind "batch_size": value is the new batch size (the epoch's order and cursor go on).
    kind "activation": value is every hidden layer's new activation name (weights kept).
    kind "parameter": value is (part, k, i, j, x): W[k][i, j] = x (part "W") or b[k][i] = x
    (part "b", j None); an edit also ends a divergence, as the engine's does.
    """

    step: int
    kind: str
    value: object


@dataclass(frozen=True)
class Run:
    """Everything a script needs to replay a run from step 0 exactly.

    X: (rows, n_0) the training set's input layer o^0 (features already applied) and Y:
    (rows, n_L) its targets, the rows the batches index. sizes n_0 … n_L and activations g_1 … g_L
    as at step 0; W[k]: (n_{k-1}, n_k), b[k]: (n_k,) for k = 1..L (slot 0 None) the step-0
    parameters. step: the StepConfig at step 0; batch_size at step 0. seed: the batch order is
    np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1]), one permutation of the
    rows per epoch, drawn when the last epoch ends (the first at step 0); each batch is the
    next batch_size rows of it (a last short one included). steps: the steps run (the number
    of losses, a diverged step's included); changes:
    every Change in order. features: the names of X's columns; title: what the run is.
    A step whose loss or new θ is not finite leaves θ as it was (diverged); the run goes on
    only after a weight edit, from the same batch.
    """

    X: np.ndarray
    Y: np.ndarray
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    W: list
    b: list
    step: StepConfig
    batch_size: int
    seed: int
    steps: int
    changes: tuple[Change, ...] = ()
    features: tuple[str, ...] = ()
    title: str = "a run"

    @property
    def L(self) -> int:
        return len(self.sizes) - 1

    def step_configs(self) -> list[StepConfig]:
        """The step config at step 0 and every one a change brought."""
        return [self.step] + [c.value for c in self.changes if c.kind == "step"]

    def activation_names(self) -> set[str]:
        """Every activation some layer has at some step."""
        hidden = {c.value for c in self.changes if c.kind == "activation"}
        return set(self.activations) | hidden


def run_of(trainer, title: str = Run.title) -> Run:
    """The run a Trainer took since its last reset (trainer.replayable must be True)."""
    cfg, layout = trainer.start_cfg, trainer.net.layout
    W, b = layout.views(trainer.start_theta.copy())
    return Run(
        X=trainer.X_train.copy(), Y=trainer.Y_train.copy(), sizes=layout.sizes,
        activations=(cfg.activation,) * len(cfg.hidden) + (cfg.output_activation,),
        W=W, b=b, step=cfg.step, batch_size=cfg.batch_size, seed=cfg.seed,
        steps=trainer.tried, changes=tuple(trainer.changes), features=tuple(cfg.features),
        title=title,
    )

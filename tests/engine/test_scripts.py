"""The code behind a run: the exported NumPy script, notebook and PyTorch script replay the run
the Trainer (the compiled loop that decides every session) took, to 1e-9 relative.

Scripts are made in-process and run in a few interpreters (one per hidden activation), each
script in a fresh namespace. The PyTorch ones run where torch imports: this interpreter, or the
one BACKPROP_TORCH_PYTHON names (a scratch venv: torch stays out of the dependencies).
"""

import itertools
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.losses import LOSSES
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.regularizers import REGULARIZERS
from engine.scripts import notebook, numpy_script, run_of, torch_script
from engine.train import StepConfig
from engine.trainer import RunConfig, Trainer

STEPS = 1000
HIDDEN = [name for name, spec in ACTIVATIONS.items() if not spec.output_only]
# A data set and output layer each loss trains (softmax_ce needs three classes).
SETUPS = {"mse": ("gauss", "tanh"), "bce": ("gauss", "sigmoid"),
          "softmax_ce": ("three_class", "softmax")}
# Rates that train without amplifying rounding: a replay agrees to 1e-9 only where the run
# does not magnify last-bit differences (NumPy's BLAS sums and SIMD tanh against the compiled
# loop's), as no reimplementation could otherwise.
RATES = {"sgd": 0.03, "momentum": 0.01, "adam": 0.01}
PENALTIES = [None, *REGULARIZERS]

RUNNER = """
import contextlib, io, json, sys
outputs = {}
for path in sys.argv[1:]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(open(path).read(), path, "exec"), {"__name__": "__main__"})
    outputs[path] = printed.getvalue()
print(json.dumps(outputs))
"""


def trainer_for(activation, loss, optimizer, penalty, points=60) -> Trainer:
    dataset, output = SETUPS[loss]
    step = StepConfig(loss=loss, optimizer=OptimizerConfig(optimizer, RATES[optimizer]),
                      regularization=penalty, regularization_rate=0.001 if penalty else 0.0)
    return Trainer(RunConfig(dataset=dataset, points=points, hidden=(3,), activation=activation,
                             output_activation=output, batch_size=10, step=step))


def run_scripts(python: str, scripts: dict, folder: Path) -> dict:
    """{key: script text} -> {key: the losses it printed}, all in one interpreter."""
    paths = {}
    for key, text in scripts.items():
        paths[key] = folder / ("_".join(map(str, key)) + ".py")
        paths[key].write_text(text)
    done = subprocess.run([python, "-c", RUNNER, *map(str, paths.values())],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout)
    return {key: [float(line.split()[1]) for line in printed[str(path)].splitlines()]
            for key, path in paths.items()}


def assert_replayed(printed, trainer):
    """The same losses to 1e-9; a diverged step's is not finite in both (inf or nan: the two
    loops meet overflow in their own order)."""
    printed, logged = np.array(printed), np.array(trainer.losses)
    assert len(printed) == len(logged)
    np.testing.assert_array_equal(np.isfinite(printed), np.isfinite(logged))
    finite = np.isfinite(logged)
    np.testing.assert_allclose(printed[finite], logged[finite], rtol=1e-9, atol=0)


@pytest.mark.parametrize("activation", HIDDEN)
def test_numpy_scripts_replay_every_loss_optimizer_and_penalty(activation, tmp_path):
    trainers = {}
    for key in itertools.product([activation], LOSSES, OPTIMIZERS, PENALTIES):
        trainers[key] = trainer_for(*key)
        trainers[key].step(STEPS)
    printed = run_scripts(sys.executable, {k: numpy_script(run_of(t)) for k, t in
                                           trainers.items()}, tmp_path)
    for key, trainer in trainers.items():
        assert_replayed(printed[key], trainer)


def changed_midway(optimizer="momentum") -> Trainer:
    """The learning rate changed at step 300, a weight edited at step 500, then more changes."""
    trainer = trainer_for("tanh", "mse", optimizer, "l2")
    trainer.step(300)
    trainer.set_step_config(optimizer=OptimizerConfig(optimizer, RATES[optimizer] / 2))
    trainer.step(200)
    trainer.set_parameter("W", 1, 0, 2, 0.5)
    trainer.set_batch_size(7)
    trainer.step(200)
    trainer.set_activation("leaky_relu")
    trainer.set_step_config(regularization="l1", train_biases=False)
    trainer.step(300)
    return trainer


def switched_optimizers() -> Trainer:
    """sgd, then momentum at step 200 (a fresh velocity), then adam at 400, then momentum."""
    trainer = trainer_for("sigmoid", "bce", "sgd", None)
    for at, name in ((200, "momentum"), (400, "adam"), (600, "momentum")):
        trainer.step(at - trainer.tried)
        trainer.set_step_config(optimizer=OptimizerConfig(name, RATES[name]))
    trainer.step(200)
    return trainer


def test_a_replay_makes_the_changes_at_their_steps(tmp_path):
    trainers = {(name,): changed_midway(name) for name in OPTIMIZERS}
    trainers[("switched",)] = switched_optimizers()
    assert [c.step for c in trainers[("adam",)].changes] == [300, 500, 500, 700, 700]
    printed = run_scripts(sys.executable, {k: numpy_script(run_of(t)) for k, t in
                                           trainers.items()}, tmp_path)
    for key, trainer in trainers.items():
        assert_replayed(printed[key], trainer)


def test_a_replay_goes_on_after_a_divergence_only_from_the_edit(tmp_path):
    trainer = trainer_for("linear", "mse", "sgd", None)   # linear all through: E reaches inf
    trainer = Trainer(replace(trainer.cfg, output_activation="linear"))
    trainer.step(20)
    trainer.set_step_config(optimizer=OptimizerConfig("sgd", 1e200))
    trainer.step(5)                       # diverges at once: θ kept, the loss logged
    assert trainer.diverged
    trainer.set_step_config(optimizer=OptimizerConfig("sgd", 0.03))
    trainer.set_parameter("b", 2, 0, None, 0.25)
    trainer.step(30)
    assert not np.isfinite(trainer.losses).all()
    printed = run_scripts(sys.executable, {("diverged",): numpy_script(run_of(trainer))},
                          tmp_path)
    assert_replayed(printed[("diverged",)], trainer)


def test_the_notebook_is_nbformat_4_with_a_markdown_cell_per_phase():
    book = json.loads(json.dumps(notebook(run_of(changed_midway()))))
    assert (book["nbformat"], book["nbformat_minor"]) == (4, 5)
    assert book["metadata"]["kernelspec"]["name"] == "python3"
    ids = [cell["id"] for cell in book["cells"]]
    assert len(set(ids)) == len(ids)
    for cell in book["cells"]:
        assert cell["cell_type"] in ("markdown", "code") and isinstance(cell["source"], str)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    headings = [cell["source"].splitlines()[0] for cell in book["cells"]
                if cell["cell_type"] == "markdown"]
    for phase in ("forward", "loss", "backward", "update"):
        assert any(phase in heading for heading in headings), headings


def test_the_notebook_runs_to_the_same_losses(tmp_path):
    trainer = changed_midway("adam")
    book = notebook(run_of(trainer))
    code = "\n\n".join(c["source"] for c in book["cells"] if c["cell_type"] == "code")
    printed = run_scripts(sys.executable, {("notebook",): code}, tmp_path)
    assert_replayed(printed[("notebook",)], trainer)


def torch_python() -> str | None:
    named = os.environ.get("BACKPROP_TORCH_PYTHON")
    if named:
        return named
    try:
        import torch  # noqa: F401
    except ImportError:
        return None
    return sys.executable


@pytest.mark.skipif(torch_python() is None,
                    reason="torch does not import here and BACKPROP_TORCH_PYTHON is not set")
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_torch_scripts_replay_every_loss_penalty_activation_and_change(optimizer, tmp_path):
    trainers = {}
    for key in itertools.product(["tanh"], LOSSES, [optimizer], PENALTIES):
        trainers[key] = trainer_for(*key)
    for activation in HIDDEN[list(OPTIMIZERS).index(optimizer)::len(OPTIMIZERS)]:
        trainers[(activation, optimizer)] = trainer_for(activation, "bce", optimizer, "l2")
    for trainer in trainers.values():
        trainer.step(STEPS)
    trainers[("changed", optimizer)] = changed_midway(optimizer)
    if optimizer == "momentum":
        trainers[("switched",)] = switched_optimizers()
    printed = run_scripts(torch_python(), {k: torch_script(run_of(t)) for k, t in
                                           trainers.items()}, tmp_path)
    for key, trainer in trainers.items():
        assert_replayed(printed[key], trainer)

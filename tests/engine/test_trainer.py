"""Trainer: replay, reset, epochs, snapshots, the heatmap grid, metrics and live changes."""

import math
from dataclasses import replace

import numpy as np
import pytest

from engine.errors import EngineError
from engine.network import forward
from engine.optimizers import OptimizerConfig
from engine.train import StepConfig
from engine.trainer import MAX_BATCH, RunConfig, Trainer

THREE_CLASS = RunConfig(dataset="three_class", output_activation="softmax",
                        step=StepConfig(loss="softmax_ce"))
XOR_TABLE = RunConfig(dataset="xor_table", output_activation="sigmoid",
                      step=StepConfig(loss="bce", optimizer=OptimizerConfig(learning_rate=0.3)))


@pytest.fixture
def trainer():
    return Trainer(RunConfig())


# Replay and reset


def test_same_run_config_gives_identical_losses_and_theta_after_100_steps():
    first, second = Trainer(RunConfig()), Trainer(RunConfig())
    first.step(100)
    second.step(100)
    assert first.losses == second.losses
    assert np.array_equal(first.net.theta, second.net.theta)


def test_another_seed_gives_another_start():
    assert not np.array_equal(Trainer(RunConfig()).net.theta,
                              Trainer(RunConfig(seed=1)).net.theta)


def test_reset_gives_the_same_start_and_batch_order(trainer):
    start = trainer.net.theta.copy()
    trainer.step(30)
    losses = list(trainer.losses)
    trainer.reset()
    assert np.array_equal(trainer.net.theta, start)
    assert (trainer.step_count, trainer.epoch, trainer.losses) == (0, 0, [])
    trainer.step(30)
    assert trainer.losses == losses


# Epochs


def test_default_run_trains_on_250_points_in_batches_of_10(trainer):
    assert (len(trainer.X_train), trainer.cfg.batch_size) == (250, 10)


@pytest.mark.parametrize("batch_size", [10, 30, 250, 400])
def test_epoch_counter_increments_after_ceil_train_over_batch_steps(batch_size):
    trainer = Trainer(RunConfig(batch_size=batch_size))
    steps = math.ceil(len(trainer.X_train) / batch_size)
    trainer.step(steps - 1)
    assert trainer.epoch == 0
    trainer.step()
    assert (trainer.epoch, trainer.step_count) == (1, steps)


def test_every_training_point_is_used_once_per_epoch():
    trainer = Trainer(RunConfig(batch_size=30))
    seen = []
    for _ in range(math.ceil(250 / 30)):
        trainer.step()
        seen.append(trainer.last_batch[0])
    used = np.concatenate(seen)
    assert sorted(map(tuple, used)) == sorted(map(tuple, trainer.X_train))


# Snapshots


def test_restored_snapshot_continues_exactly_like_the_original(trainer):
    trainer.step(37)                                   # mid-epoch: cursor and order matter
    snap = trainer.snapshot()
    twin = Trainer(RunConfig())
    twin.restore(snap)
    for _ in range(50):
        trainer.step()
        twin.step()
    assert twin.losses == trainer.losses
    assert np.array_equal(twin.net.theta, trainer.net.theta)
    assert (twin.step_count, twin.epoch) == (trainer.step_count, trainer.epoch) == (87, 3)


def test_snapshot_is_not_changed_by_later_steps(trainer):
    trainer.step(5)
    snap = trainer.snapshot()
    theta = snap.theta.copy()
    trainer.step(5)
    assert np.array_equal(snap.theta, theta) and len(snap.losses) == 5


def test_restoring_a_snapshot_of_another_network_is_an_error(trainer):
    other = Trainer(RunConfig(hidden=(3,)))
    with pytest.raises(EngineError, match="network: expected 25 parameters, got 13"):
        trainer.restore(other.snapshot())


# Grid and metrics


@pytest.mark.parametrize("resolution", [7, 100])
def test_grid_outputs_give_every_neuron_over_resolution_squared_points(trainer, resolution):
    o = trainer.grid_outputs(resolution)
    assert [x.shape for x in o] == [(resolution**2, n) for n in (2, 4, 2, 1)]
    assert all(x.dtype == np.float32 for x in o)


def test_grid_outputs_start_at_the_top_left_cell_centre(trainer):
    o0 = trainer.grid_outputs(4)[0]
    # [−6, 6] in 4 cells of 3: centres −4.5, −1.5, 1.5, 4.5; row 0 is x2 = 4.5 (the top).
    np.testing.assert_array_equal(o0[:5], [[-4.5, 4.5], [-1.5, 4.5], [1.5, 4.5], [4.5, 4.5],
                                           [-4.5, 1.5]])


def test_grid_outputs_match_the_float64_forward_pass(trainer):
    trainer.step(50)
    o = trainer.grid_outputs(10)
    exact = forward(trainer.net, o[0].astype(np.float64))[1]
    for k in range(1, trainer.net.L + 1):
        np.testing.assert_allclose(o[k], exact[k], atol=1e-5)


def test_grid_outputs_follow_the_weights_after_a_step(trainer):
    before = trainer.grid_outputs(10)[-1].copy()
    trainer.step()
    assert not np.array_equal(trainer.grid_outputs(10)[-1], before)


def test_circle_is_learnt_to_over_90_percent_in_200_epochs(trainer):
    trainer.step(200 * 25)
    metrics = trainer.metrics()
    assert trainer.epoch == 200
    assert metrics.train_accuracy > 0.9 and metrics.test_accuracy > 0.9


def test_regression_metrics_have_no_accuracy():
    metrics = Trainer(RunConfig(dataset="plane")).metrics()
    assert metrics.train_accuracy is None and math.isfinite(metrics.train_loss)


# Changes between steps


def test_set_step_config_changes_the_learning_rate(trainer):
    trainer.set_step_config(optimizer=replace(trainer.cfg.step.optimizer, learning_rate=0.5))
    record = trainer.step()
    np.testing.assert_allclose(record.update, -0.5 * record.backward.grad, rtol=1e-15)


def test_set_step_config_keeps_the_state_of_the_same_optimizer():
    trainer = Trainer(RunConfig(step=StepConfig(optimizer=OptimizerConfig("momentum"))))
    trainer.step(3)
    state = trainer.state
    trainer.set_step_config(optimizer=OptimizerConfig("momentum", learning_rate=0.1))
    assert trainer.state is state


def test_set_step_config_starts_a_new_optimizer_from_zero(trainer):
    trainer.step(3)
    trainer.set_step_config(optimizer=OptimizerConfig("adam"))
    assert trainer.state.t == 0 and np.all(trainer.state.slots["m"] == 0.0)


def test_set_step_config_rejects_a_bad_pairing_and_keeps_the_old_config(trainer):
    before = trainer.cfg
    with pytest.raises(EngineError, match="bce needs a sigmoid output"):
        trainer.set_step_config(loss="bce")
    assert trainer.cfg is before


def test_set_activation_keeps_the_weights(trainer):
    trainer.step(10)
    theta = trainer.net.theta.copy()
    trainer.set_activation("relu")
    assert np.array_equal(trainer.net.theta, theta)
    assert trainer.net.activations == ("relu", "relu", "tanh")


def test_set_activation_changes_the_forward_pass(trainer):
    trainer.set_activation("relu")
    a, o = forward(trainer.net, trainer.X_train)
    assert np.array_equal(o[1], np.maximum(a[1], 0.0))


def test_set_activation_to_softmax_is_an_error(trainer):
    with pytest.raises(EngineError, match="output layer only"):
        trainer.set_activation("softmax")


@pytest.mark.parametrize(("kind", "k", "i", "j"), [("W", 2, 3, 1), ("b", 3, 0, None)])
def test_set_parameter_sets_exactly_one_entry(trainer, kind, k, i, j):
    before = trainer.net.theta.copy()
    trainer.set_parameter(kind, k, i, j, 2.5)
    target = trainer.net.W[k][i, j] if kind == "W" else trainer.net.b[k][i]
    assert target == 2.5
    assert np.count_nonzero(trainer.net.theta != before) == 1


@pytest.mark.parametrize(("kind", "k", "i", "j"), [
    ("W", 1, 2, 0),        # W^1 is 2×4: no row 2
    ("W", 1, 0, 4),        # no column 4
    ("W", 1, -1, 0),       # negative indices do not wrap
    ("b", 2, 2, None),     # b^2 has 2 entries
    ("W", 0, 0, 0),        # layers are 1..L
    ("W", 4, 0, 0),
    ("W", 1, 0, None),     # a weight needs both i and j
    ("w", 1, 0, 0),        # kinds are "W" and "b"
])
def test_set_parameter_outside_the_network_is_an_error(trainer, kind, k, i, j):
    before = trainer.net.theta.copy()
    with pytest.raises(EngineError):
        trainer.set_parameter(kind, k, i, j, 1.0)
    assert np.array_equal(trainer.net.theta, before)


def test_set_parameter_to_nan_is_an_error(trainer):
    with pytest.raises(EngineError, match="finite"):
        trainer.set_parameter("W", 1, 0, 0, float("nan"))


@pytest.mark.parametrize("batch_size", [0, MAX_BATCH + 1])
def test_set_batch_size_outside_what_the_loop_holds_is_an_error(trainer, batch_size):
    with pytest.raises(EngineError, match=f"batch_size must be from 1 to {MAX_BATCH}"):
        trainer.set_batch_size(batch_size)


def test_unknown_data_set_is_an_error():
    with pytest.raises(EngineError, match="dataset: unknown data set 'no_such_set'"):
        Trainer(RunConfig(dataset="no_such_set"))


# Other data sets


def test_three_class_trains_with_a_softmax_output_and_softmax_ce():
    trainer = Trainer(THREE_CLASS)
    start = trainer.metrics()
    trainer.step(30 * 15)                              # 30 epochs of 150 points
    end = trainer.metrics()
    assert trainer.Y_train.shape == (150, 3)
    assert end.train_loss < start.train_loss / 5
    assert end.test_accuracy > 0.9


def test_xor_table_runs_with_a_sigmoid_output_and_bce():
    trainer = Trainer(XOR_TABLE)
    start = trainer.metrics().train_loss
    record = trainer.step(2000)
    assert not record.diverged and trainer.epoch == 2000   # 4 rows, one batch an epoch
    assert trainer.metrics().train_loss < start
    assert trainer.extent == (-0.5, 1.5)

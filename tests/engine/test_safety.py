"""A learning rate far too high: the step is reported as diverged, never raised or warned.

Warnings are errors in the pytest config, so any overflow warning fails these tests.
A tanh output saturates instead of overflowing, so the divergent run uses relu hidden
layers and a linear output, whose values grow without bound.
"""

import numpy as np
import pytest

from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.train import StepConfig, train_step
from engine.trainer import RunConfig, Trainer

TOO_HIGH = StepConfig(optimizer=OptimizerConfig("sgd", learning_rate=1e6))
DIVERGENT = RunConfig(activation="relu", output_activation="linear", step=TOO_HIGH)


@pytest.fixture
def diverged():
    trainer = Trainer(DIVERGENT)
    trainer.step(200)
    assert trainer.diverged
    return trainer


def test_learning_rate_1e6_on_circle_makes_a_step_come_back_diverged():
    record = Trainer(DIVERGENT).step(200)
    assert record.diverged


def test_diverged_step_leaves_theta_finite(diverged):
    assert np.isfinite(diverged.net.theta).all()


def test_diverged_step_leaves_theta_as_it_was_before_that_step():
    trainer = Trainer(DIVERGENT)
    while True:
        theta = trainer.net.theta.copy()
        if trainer.step().diverged:
            break
    assert np.array_equal(trainer.net.theta, theta)


def test_diverged_record_holds_a_non_finite_loss_or_update(diverged):
    record = diverged.last
    assert not (np.isfinite(record.E) and np.isfinite(record.update).all())


def test_after_divergence_step_does_nothing_more(diverged):
    theta, state = diverged.net.theta.copy(), diverged.state
    counts = (diverged.step_count, diverged.epoch, len(diverged.losses))
    record = diverged.step(10)
    assert record is diverged.last and record.diverged
    assert np.array_equal(diverged.net.theta, theta) and diverged.state is state
    assert (diverged.step_count, diverged.epoch, len(diverged.losses)) == counts


def test_reset_recovers_from_divergence(diverged):
    diverged.reset()
    assert not diverged.diverged
    assert np.array_equal(diverged.net.theta, Trainer(DIVERGENT).net.theta)
    assert not diverged.step().diverged


def test_metrics_after_divergence_raise_no_warning(diverged):
    diverged.metrics()


def test_grid_outputs_after_divergence_raise_no_warning(diverged):
    o = diverged.grid_outputs(10)
    assert o[-1].shape == (100, 1)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_default_network_at_learning_rate_1e6_stays_finite(name):
    step = StepConfig(optimizer=OptimizerConfig(name, learning_rate=1e6))
    trainer = Trainer(RunConfig(step=step))
    trainer.step(300)
    assert np.isfinite(trainer.net.theta).all()
    trainer.metrics()
    trainer.grid_outputs(10)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_train_step_that_overflows_returns_the_network_and_state_unchanged(name):
    net = make_network([2, 3, 1], ["relu", "linear"], rng=np.random.default_rng(0))
    X, Y = np.array([[1e200, -1e200]]), np.array([[1.0]])   # E ~ a² ~ 1e400 = inf
    state = OPTIMIZERS[name].init_state(net.theta.size)
    theta = net.theta.copy()
    cfg = StepConfig(optimizer=OptimizerConfig(name, learning_rate=1e6))
    net, new_state, record = train_step(net, state, X, Y, cfg)
    assert record.diverged and new_state is state
    assert np.array_equal(net.theta, theta)

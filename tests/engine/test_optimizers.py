"""sgd, momentum and adam through train_step against their formulas written out here.

Each reference replays the update rule on the gradients the engine recorded
(record.backward.grad), so a wrong rule shows up as a different θ after any step.
"""

from dataclasses import replace

import numpy as np
import pytest

from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig, OptimizerState
from engine.train import StepConfig, train_step

STEPS = 4
X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [-0.5, 0.3]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [0.2, -0.2]])
HYPER = dict(learning_rate=0.1, momentum=0.8, beta1=0.85, beta2=0.99, epsilon=1e-6)


def sgd_reference(theta, grads, c):
    for g in grads:
        theta = theta - c.learning_rate * g                      # θ ← θ − α g
        yield theta, {}


def momentum_reference(theta, grads, c):
    v = np.zeros_like(theta)
    for g in grads:
        v = c.momentum * v - c.learning_rate * g                 # v ← μ v − α g
        theta = theta + v                                        # θ ← θ + v
        yield theta, {"velocity": v}


def adam_reference(theta, grads, c):
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        m = c.beta1 * m + (1 - c.beta1) * g                      # m ← β1 m + (1−β1) g
        v = c.beta2 * v + (1 - c.beta2) * g**2                   # v ← β2 v + (1−β2) g²
        m_hat, v_hat = m / (1 - c.beta1**t), v / (1 - c.beta2**t)  # bias correction
        theta = theta - c.learning_rate * m_hat / (np.sqrt(v_hat) + c.epsilon)
        yield theta, {"m": m, "v": v}


REFERENCE = {"sgd": sgd_reference, "momentum": momentum_reference, "adam": adam_reference}


def tiny_net():
    return make_network([2, 3, 2], ["tanh", "linear"], init="xavier", rng=np.random.default_rng(3))


def config(name, **step):
    return StepConfig(loss="mse", optimizer=OptimizerConfig(name, **HYPER), **step)


def run(net, state, cfg, steps):
    thetas, records = [], []
    for _ in range(steps):
        net, state, record = train_step(net, state, X, Y, cfg)
        thetas.append(net.theta.copy())
        records.append(record)
    return state, thetas, records


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_steps_follow_the_update_rule_written_out(name):
    assert name in REFERENCE, f"write the update rule of {name!r} into REFERENCE"
    net, cfg = tiny_net(), config(name)
    theta0 = net.theta.copy()
    state, thetas, records = run(net, OPTIMIZERS[name].init_state(theta0.size), cfg, STEPS)
    grads = [r.backward.grad for r in records]
    expected = list(REFERENCE[name](theta0, grads, cfg.optimizer))
    for theta, (want, _) in zip(thetas, expected, strict=True):
        np.testing.assert_allclose(theta, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_slots_follow_the_update_rule_written_out(name):
    net, cfg = tiny_net(), config(name)
    theta0 = net.theta.copy()
    state, _, records = run(net, OPTIMIZERS[name].init_state(theta0.size), cfg, STEPS)
    *_, (_, slots) = REFERENCE[name](theta0, [r.backward.grad for r in records], cfg.optimizer)
    assert (state.name, state.t, sorted(state.slots)) == (name, STEPS, sorted(slots))
    for slot, want in slots.items():
        np.testing.assert_allclose(state.slots[slot], want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_record_update_is_what_was_added_to_theta(name):
    net, cfg = tiny_net(), config(name)
    before = net.theta.copy()
    _, _, record = train_step(net, OPTIMIZERS[name].init_state(before.size), X, Y, cfg)
    assert np.array_equal(net.theta, before + record.update)
    assert np.array_equal(record.update_W[1], record.update[:6].reshape(2, 3))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_survives_a_round_trip_through_plain_lists(name):
    cfg = config(name)
    straight = tiny_net()
    run(straight, OPTIMIZERS[name].init_state(straight.theta.size), cfg, STEPS)

    halted = tiny_net()
    state, _, _ = run(halted, OPTIMIZERS[name].init_state(halted.theta.size), cfg, STEPS // 2)
    plain = {"name": state.name, "t": state.t,
             "slots": {slot: values.tolist() for slot, values in state.slots.items()}}
    rebuilt = OptimizerState(plain["name"], plain["t"],
                             {slot: np.array(values) for slot, values in plain["slots"].items()})
    run(halted, rebuilt, cfg, STEPS - STEPS // 2)
    assert np.array_equal(halted.theta, straight.theta)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fixed_biases_and_their_slots_do_not_change(name):
    net, cfg = tiny_net(), config(name, train_biases=False)
    n_w, before = net.layout.n_weights, net.theta.copy()
    state, _, records = run(net, OPTIMIZERS[name].init_state(before.size), cfg, STEPS)
    assert np.array_equal(net.theta[n_w:], before[n_w:])
    assert not np.array_equal(net.theta[:n_w], before[:n_w])
    assert all(np.all(r.update[n_w:] == 0.0) for r in records)
    assert all(np.all(slot[n_w:] == 0.0) for slot in state.slots.values())


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fixed_biases_stay_fixed_with_state_from_steps_that_trained_them(name):
    net, cfg = tiny_net(), config(name)
    n_w = net.layout.n_weights
    state, _, _ = run(net, OPTIMIZERS[name].init_state(net.theta.size), cfg, STEPS)
    biases, slots = net.theta[n_w:].copy(), {s: v[n_w:].copy() for s, v in state.slots.items()}
    state, _, _ = run(net, state, replace(cfg, train_biases=False), 2)
    assert np.array_equal(net.theta[n_w:], biases)
    for slot, values in slots.items():
        assert np.array_equal(state.slots[slot][n_w:], values)


def test_fixed_biases_leave_the_recorded_gradient_whole():
    net, cfg = tiny_net(), config("sgd", train_biases=False)
    _, _, record = train_step(net, OPTIMIZERS["sgd"].init_state(net.theta.size), X, Y, cfg)
    assert np.any(record.dE_db[2] != 0.0)

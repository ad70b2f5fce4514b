"""The compiled loop against train_step repeated: θ, optimizer slots and losses to 1e-10.

Every valid hidden activation × output activation × loss × optimizer × regularization ×
train_biases; then divergence, an epoch's short last batch and the single kernel signature;
then the Trainer, whose every step goes through the compiled loop.
"""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from engine import compiled
from engine.activations import ACTIVATIONS
from engine.errors import EngineError
from engine.losses import LOSSES
from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.regularizers import REGULARIZERS
from engine.train import StepConfig, check_config, train_step
from engine.trainer import RunConfig, Trainer

RTOL = 1e-10
STEPS = 100
LEARNING_RATE = {"sgd": 0.1, "momentum": 0.05, "adam": 0.01}
HIDDEN = [name for name, g in ACTIVATIONS.items() if not g.output_only]


def valid(output: str, loss: str) -> bool:
    try:
        check_config(make_network([1, 2], [output], rng=np.random.default_rng(0)),
                     StepConfig(loss=loss))
    except EngineError:
        return False
    return True


OUTPUTS = [(output, loss) for loss in LOSSES for output in ACTIVATIONS if valid(output, loss)]
CASES = list(itertools.product(HIDDEN, OUTPUTS, OPTIMIZERS, (None, *REGULARIZERS), (True, False)))


def case_id(case):
    hidden, (output, loss), optimizer, reg, biases = case
    return f"{hidden}-{output}-{loss}-{optimizer}-{reg}-{'biases' if biases else 'fixed'}"


def problem(hidden, output, loss, rows=7, seed=0):
    """A 2-3-3-k network with its batch: k = 3 for softmax, else 2."""
    rng = np.random.default_rng(seed)
    k = 3 if output == "softmax" else 2
    net = make_network([2, 3, 3, k], [hidden, hidden, output], init="xavier", rng=rng)
    for b in net.b[1:]:                                   # a relu output starts alive
        b[...] = rng.uniform(0.1, 0.5, b.shape)
    X = rng.normal(size=(rows, 2))
    if loss == "softmax_ce":
        Y = np.eye(k)[rng.integers(0, k, rows)]
    elif loss == "bce":
        Y = rng.integers(0, 2, (rows, k)).astype(float)
    else:
        Y = rng.uniform(-1.0, 1.0, (rows, k))
    return net, X, Y


def step_config(loss, optimizer, reg, biases):
    opt = OptimizerConfig(optimizer, learning_rate=LEARNING_RATE.get(optimizer, 0.01))
    return StepConfig(loss, opt, reg, 0.01 if reg else 0.0, biases)


def assert_close(actual, expected):
    """To RTOL relative to the largest entry: an entry near zero is a difference of large
    terms (L1 drives weights through zero), where one ulp of the terms is much of its value."""
    expected = np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * np.abs(expected).max())


def numpy_steps(net, state, batches, cfg):
    """train_step over the batches; stops after a diverged step. Returns (state, losses)."""
    losses = []
    for X, Y in batches:
        net, state, record = train_step(net, state, X, Y, cfg)
        losses.append(record.E)
        if record.diverged:
            break
    return state, losses


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_compiled_loop_matches_train_step_for_100_steps(case):
    hidden, (output, loss), optimizer, reg, biases = case
    cfg = step_config(loss, optimizer, reg, biases)
    net, X, Y = problem(hidden, output, loss)
    twin, start = net.copy(), net.theta.copy()
    state = OPTIMIZERS[optimizer].init_state(net.layout.n_params)
    expected_state, expected_losses = numpy_steps(twin, state, [(X, Y)] * STEPS, cfg)
    chunk = compiled.train_fixed_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y, STEPS)
    assert (chunk.taken, chunk.diverged, chunk.state.t) == (STEPS, False, STEPS)
    assert not np.array_equal(net.theta, start)
    assert_close(net.theta, twin.theta)
    assert_close(chunk.losses, expected_losses)
    assert chunk.state.slots.keys() == expected_state.slots.keys()
    for name, slot in chunk.state.slots.items():
        assert_close(slot, expected_state.slots[name])
    if not biases:
        np.testing.assert_array_equal(np.concatenate(net.b[1:]), np.concatenate(twin.b[1:]))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_huge_learning_rate_diverges_at_the_same_step_and_keeps_theta(optimizer):
    # relu into a linear output grows without bound (tanh would saturate instead).
    net = make_network([2, 3, 1], ["relu", "linear"], rng=np.random.default_rng(0))
    X, Y = np.array([[5.0, 5.0], [-3.0, 4.0]]), np.array([[1e3], [-1e3]])
    # Adam's steps are about α long whatever the gradient, so it needs the larger α to overflow.
    lr = 1e100 if optimizer == "adam" else 1e12
    cfg = StepConfig(optimizer=OptimizerConfig(optimizer, learning_rate=lr))
    twin, state = net.copy(), OPTIMIZERS[optimizer].init_state(net.layout.n_params)
    expected_state, expected_losses = numpy_steps(twin, state, [(X, Y)] * 50, cfg)
    chunk = compiled.train_fixed_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y, 50)
    assert chunk.diverged and len(chunk.losses) == len(expected_losses) < 50
    assert np.isfinite(net.theta).all()
    assert_close(net.theta, twin.theta)
    assert chunk.state.t == expected_state.t == chunk.taken


def test_a_step_that_diverges_first_leaves_theta_and_state_as_given():
    net = make_network([2, 3, 1], ["relu", "linear"], rng=np.random.default_rng(0))
    X, Y = np.array([[1e200, -1e200]]), np.array([[1.0]])   # E ~ a² ~ 1e400 = inf
    state, theta = OPTIMIZERS["adam"].init_state(net.layout.n_params), net.theta.copy()
    cfg = StepConfig(optimizer=OptimizerConfig("adam"))
    chunk = compiled.train_fixed_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y, 5)
    assert chunk.diverged and chunk.taken == 0 and chunk.state is state
    assert chunk.losses.tolist() == [np.inf]
    np.testing.assert_array_equal(net.theta, theta)


def test_epoch_steps_stop_at_the_end_after_a_short_last_batch():
    net, X, Y = problem("tanh", "tanh", "mse", rows=10)
    cfg = step_config("mse", "momentum", "l2", True)
    twin, state = net.copy(), OPTIMIZERS["momentum"].init_state(net.layout.n_params)
    batches = [(X[0:4], Y[0:4]), (X[4:8], Y[4:8]), (X[8:10], Y[8:10])]
    expected_state, expected_losses = numpy_steps(twin, state, batches, cfg)
    chunk = compiled.train_epoch_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y,
                                       np.arange(10)[None], cursor=0, batch_size=4, n=99)
    assert (chunk.taken, chunk.epoch, chunk.cursor, chunk.diverged) == (3, 0, 10, False)
    assert_close(chunk.losses, expected_losses)
    assert_close(net.theta, twin.theta)


def test_epoch_steps_start_at_the_cursor_and_take_at_most_n():
    net, X, Y = problem("relu", "linear", "mse", rows=10)
    cfg = step_config("mse", "sgd", None, True)
    twin, state = net.copy(), OPTIMIZERS["sgd"].init_state(net.layout.n_params)
    _, expected_losses = numpy_steps(twin, state, [(X[3:6], Y[3:6]), (X[6:9], Y[6:9])], cfg)
    chunk = compiled.train_epoch_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y,
                                       np.arange(10)[None], cursor=3, batch_size=3, n=2)
    assert (chunk.taken, chunk.cursor) == (2, 9)
    assert_close(chunk.losses, expected_losses)
    assert_close(net.theta, twin.theta)


def test_epoch_steps_gather_rows_by_the_order_and_roll_over_to_the_next_epoch():
    net, X, Y = problem("tanh", "tanh", "mse", rows=7)
    cfg = step_config("mse", "adam", None, True)
    twin, state = net.copy(), OPTIMIZERS["adam"].init_state(net.layout.n_params)
    orders = np.array([[6, 5, 4, 3, 2, 1, 0], [0, 2, 4, 6, 1, 3, 5], [3, 1, 4, 0, 5, 2, 6]])
    positions = [(0, 2, 5), (0, 5, 7), (1, 0, 3), (1, 3, 6), (1, 6, 7), (2, 0, 3)]
    batches = [(X[orders[e, i:j]], Y[orders[e, i:j]]) for e, i, j in positions]
    _, expected_losses = numpy_steps(twin, state, batches, cfg)
    chunk = compiled.train_epoch_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y,
                                       orders, cursor=2, batch_size=3, n=6)
    assert (chunk.taken, chunk.epoch, chunk.cursor, chunk.state.t) == (6, 2, 3, 6)
    assert_close(chunk.losses, expected_losses)
    assert_close(net.theta, twin.theta)


def test_epoch_steps_stop_at_the_end_of_the_last_order():
    net, X, Y = problem("tanh", "tanh", "mse", rows=5)
    state = OPTIMIZERS["sgd"].init_state(net.layout.n_params)
    orders = np.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])
    chunk = compiled.train_epoch_steps(compiled.make_spec(net, StepConfig()), net.theta, state,
                                       X, Y, orders, cursor=0, batch_size=2, n=99)
    assert (chunk.taken, chunk.epoch, chunk.cursor) == (6, 1, 5)


def test_one_compiled_signature_serves_every_network_and_config():
    for sizes, batch, cfg in [([2, 1], 1, StepConfig()), ([3, 16, 16, 2], 40, step_config(
            "mse", "adam", "l1", False))]:
        net = make_network(sizes, ["tanh"] * (len(sizes) - 1), rng=np.random.default_rng(0))
        state = OPTIMIZERS[cfg.optimizer.name].init_state(net.layout.n_params)
        X, Y = np.ones((batch, sizes[0])), np.zeros((batch, sizes[-1]))
        compiled.train_fixed_steps(compiled.make_spec(net, cfg), net.theta, state, X, Y, 2)
    assert len(compiled.kernel_module().train.signatures) == 1


def test_warm_up_returns_the_seconds_it_took():
    assert 0.0 < compiled.warm_up() < 60.0


# The Trainer: every step through the compiled loop, the shown one recorded by train_step


def run_chunked(chunks):
    trainer = Trainer(RunConfig(batch_size=30, step=step_config("mse", "adam", "l2", True)))
    for kind, n in chunks:
        getattr(trainer, kind)(n)
    return trainer


def test_a_run_replays_bit_for_bit_however_it_is_chunked():
    one_by_one = run_chunked([("step", 1)] * 100)
    runs = [run_chunked([("step", 100)]), run_chunked([("advance", 57), ("step", 43)])]
    for run in runs:                  # 250 rows in batches of 30: 9 steps an epoch, the 9th of 10
        assert run.net.theta.tobytes() == one_by_one.net.theta.tobytes()
        assert run.losses == one_by_one.losses and len(run.losses) == 100
        assert run.state.t == one_by_one.state.t == 100
        for name, slot in run.state.slots.items():
            assert slot.tobytes() == one_by_one.state.slots[name].tobytes()
        assert (run.step_count, run.epoch, run._cursor) == (100, 11, 30)
        assert run.before.tobytes() == one_by_one.before.tobytes()


def test_advance_takes_steps_without_a_record():
    trainer = Trainer(RunConfig())
    trainer.advance(30)
    assert (trainer.step_count, trainer.epoch, len(trainer.losses)) == (30, 1, 30)
    assert trainer.last is None and trainer.before is None


def test_step_records_the_last_step_from_the_theta_before_it():
    trainer = Trainer(RunConfig(batch_size=30))
    record = trainer.step(9)                           # the 9th batch is the short one: 10 rows
    X, Y = trainer.last_batch
    assert len(X) == 10 and trainer.epoch == 1
    assert record.o[0] is X and record.E == trainer.losses[-1]
    assert_close(record.update, trainer.net.theta - trainer.before)


def test_reset_clears_before():
    trainer = Trainer(RunConfig())
    trainer.step(3)
    trainer.reset()
    assert trainer.before is None and trainer.last is None


def test_step_that_diverges_inside_the_advance_is_the_one_recorded():
    cfg = RunConfig(activation="relu", output_activation="linear",
                    step=StepConfig(optimizer=OptimizerConfig("sgd", learning_rate=1e6)))
    trainer = Trainer(cfg)
    record = trainer.step(200)
    assert record.diverged and trainer.diverged and record.E == trainer.losses[-1]
    assert len(trainer.losses) == trainer.step_count + 1 < 200
    np.testing.assert_array_equal(trainer.net.theta, trainer.before)


def test_restoring_a_snapshot_at_an_epochs_end_starts_the_next_epoch():
    trainer = Trainer(RunConfig(batch_size=30))
    trainer.step(3)
    snap = replace(trainer.snapshot(), cursor=250)
    trainer.restore(snap)
    assert (trainer.epoch, trainer._cursor) == (snap.epoch + 1, 0)
    assert len(trainer.step().o[0]) == 30


def state_of(trainer):
    return (trainer.net.theta.tobytes(), trainer.losses, trainer.step_count, trainer.epoch,
            trainer._cursor, trainer._order.tolist(), trainer.shuffle_rng.bit_generator.state,
            trainer.diverged, trainer.state.t,
            {name: slot.tobytes() for name, slot in trainer.state.slots.items()})


def mixed_chunks(total):
    pattern, chunks = [("advance", 7), ("step", 113), ("advance", 1), ("advance", 113),
                       ("step", 7), ("step", 1)], []
    while total > 0:
        kind, n = pattern[len(chunks) % len(pattern)]
        chunks.append((kind, min(n, total)))
        total -= chunks[-1][1]
    return chunks


def test_a_3000_step_run_over_120_epochs_replays_bit_for_bit_however_it_is_chunked(monkeypatch):
    def run(chunks):
        trainer = Trainer(RunConfig())
        for kind, n in chunks:
            getattr(trainer, kind)(n)
        return state_of(trainer)

    whole = run([("advance", 3000)])
    assert whole[2:5] == (3000, 120, 0)                # 25 steps an epoch; the 121st drawn
    assert run(mixed_chunks(3000)) == whole
    assert run([("step", 1)] * 3000) == whole
    monkeypatch.setattr("engine.trainer.MAX_ORDER_ROWS", 1000)   # 3 epochs drawn a call
    assert run([("advance", 3000)]) == whole
    assert run([("advance", 1001), ("advance", 1999)]) == whole


DIVERGING = RunConfig(activation="relu", output_activation="linear", hidden=(8, 8),
                      step=StepConfig(optimizer=OptimizerConfig("sgd", learning_rate=3.0)))


def test_a_divergence_in_a_later_epoch_stops_there_with_its_order_and_rng_state():
    trainer = Trainer(DIVERGING)
    trainer.advance(3000)
    assert trainer.diverged
    assert (trainer.step_count, trainer.epoch, trainer._cursor) == (507, 20, 70)
    assert len(trainer.losses) == 508 and not np.isfinite(trainer.losses[-1])
    assert np.isfinite(trainer.net.theta).all() and trainer.state.t == 507
    # The shuffle stream stands right after the diverged epoch's order, as if drawn one by one.
    rng = np.random.default_rng(np.random.SeedSequence(DIVERGING.seed).spawn(2)[1])
    orders = [rng.permutation(250) for _ in range(21)]
    assert trainer._order.tolist() == orders[-1].tolist()
    assert trainer.shuffle_rng.bit_generator.state == rng.bit_generator.state
    one_by_one = Trainer(DIVERGING)
    for _ in range(3000):
        one_by_one.advance(1)
    assert state_of(one_by_one) == state_of(trainer)
    chunked = Trainer(DIVERGING)
    for kind, n in mixed_chunks(3000):
        getattr(chunked, kind)(n)
    assert state_of(chunked) == state_of(trainer)
    # Nothing after it: a diverged run takes no more steps, and its diverged batch is next.
    trainer.advance(10)
    assert state_of(trainer) == state_of(one_by_one)
    X, _ = trainer._batch()
    assert X.tolist() == trainer.X_train[orders[-1][70:80]].tolist()

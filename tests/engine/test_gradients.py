"""Backprop against central differences for every activation × loss × regulariser."""

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.gradcheck import gradcheck, numeric_gradient
from engine.losses import LOSSES
from engine.network import make_network
from engine.optimizers import OptimizerConfig
from engine.regularizers import REGULARIZERS
from engine.train import StepConfig

HIDDEN = [name for name, act in ACTIVATIONS.items() if not act.output_only]
OUTPUT_FOR_LOSS = {"mse": HIDDEN, "bce": ["sigmoid"], "softmax_ce": ["softmax"]}
CASES = [
    (hidden, output, loss)
    for loss in LOSSES
    for output in OUTPUT_FOR_LOSS[loss]
    for hidden in HIDDEN
]


def random_problem(seed, hidden, output, loss):
    rng = np.random.default_rng(seed)
    n_in, n_out = rng.integers(1, 5), rng.integers(2 if output == "softmax" else 1, 5)
    sizes = [n_in, *rng.integers(1, 6, size=rng.integers(1, 4)), n_out]
    net = make_network(sizes, [hidden] * (len(sizes) - 2) + [output], init="xavier", rng=rng)
    net.theta[...] = rng.normal(0.0, 0.8, size=net.theta.shape)
    N = int(rng.integers(1, 8))
    X = rng.normal(size=(N, n_in))
    if loss == "softmax_ce":
        Y = np.eye(n_out)[rng.integers(0, n_out, size=N)]
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(N, n_out)).astype(float)
    else:
        Y = rng.normal(size=(N, n_out))
    return net, X, Y


@pytest.mark.parametrize("train_biases", [True, False])
@pytest.mark.parametrize("regularization", [None, *REGULARIZERS])
@pytest.mark.parametrize(("hidden", "output", "loss"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backprop_matches_central_differences(seed, hidden, output, loss, regularization,
                                               train_biases):
    net, X, Y = random_problem(seed, hidden, output, loss)
    cfg = StepConfig(loss, OptimizerConfig(), regularization, 0.01 if regularization else 0.0,
                     train_biases)
    check = gradcheck(net, X, Y, cfg)
    assert check.max_relative_error < 1e-6, (check.analytic, check.numeric)


def test_gradcheck_notices_a_wrong_gradient():
    net, X, Y = random_problem(0, "tanh", "linear", "mse")
    check = gradcheck(net, X, Y, StepConfig())
    wrong = type(check)(check.analytic * 1.01, check.numeric, check.layout)
    assert wrong.max_relative_error > 1e-3


def test_numeric_gradient_of_one_weight_leaves_the_network_unchanged():
    net, X, Y = random_problem(3, "sigmoid", "linear", "mse")
    before = net.theta.copy()
    numeric_gradient(net, X, Y, StepConfig(), index=0)
    np.testing.assert_array_equal(net.theta, before)

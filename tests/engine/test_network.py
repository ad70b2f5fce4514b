"""make_network, Layout, the flat θ and its views, architecture and config errors, initialisers."""

import numpy as np
import pytest

from engine.errors import EngineError
from engine.initializers import INITIALIZERS
from engine.network import Layout, forward, make_network
from engine.optimizers import OptimizerConfig
from engine.train import StepConfig, check_config

SIZES = [3, 4, 2]


def net_342(**kwargs):
    kwargs.setdefault("rng", np.random.default_rng(0))
    return make_network(SIZES, ["tanh", "sigmoid"], **kwargs)


# Shapes and views


def test_make_network_gives_W_k_of_shape_n_k_minus_1_by_n_k():
    net = net_342()
    assert net.W[0] is None and net.b[0] is None
    assert [net.W[k].shape for k in (1, 2)] == [(3, 4), (4, 2)]
    assert [net.b[k].shape for k in (1, 2)] == [(4,), (2,)]


def test_theta_holds_every_weight_then_every_bias():
    net = net_342()
    assert net.theta.shape == (3 * 4 + 4 * 2 + 4 + 2,)
    expected = np.concatenate([net.W[1].ravel(), net.W[2].ravel(), net.b[1], net.b[2]])
    assert np.array_equal(net.theta, expected)


def test_W_and_b_are_views_of_theta_so_editing_theta_changes_them():
    net = net_342()
    net.theta[...] = np.arange(net.theta.size)
    assert net.W[1][0, 1] == 1.0                      # row 0, column 1 of a 3×4 block
    assert net.W[2][0, 0] == 12.0                     # W^2 starts after W^1's 12 entries
    assert np.array_equal(net.b[1], [20.0, 21.0, 22.0, 23.0])


def test_editing_W_changes_theta():
    net = net_342()
    net.W[2][3, 1] = 7.5
    assert net.theta[12 + 3 * 2 + 1] == 7.5


def test_given_weights_and_biases_are_used_as_given():
    W = [None, np.arange(12.0).reshape(3, 4), np.ones((4, 2))]
    b = [None, [0.1, 0.2, 0.3, 0.4], [-1.0, 1.0]]
    net = make_network(SIZES, ["tanh", "sigmoid"], W=W, b=b)
    assert np.array_equal(net.W[1], W[1]) and np.array_equal(net.b[2], b[2])


def test_forward_returns_a_and_o_for_every_layer():
    net, X = net_342(), np.ones((5, 3))
    a, o = forward(net, X)
    assert a[0] is None and o[0] is X
    assert [a[k].shape for k in (1, 2)] == [(5, 4), (5, 2)]
    np.testing.assert_allclose(o[1], np.tanh(X @ net.W[1] + net.b[1]), rtol=1e-15)


def test_copy_does_not_share_theta():
    net = net_342()
    twin = net.copy()
    twin.theta[0] += 1.0
    assert twin.theta[0] != net.theta[0]


# Layout


def test_layout_counts_weights_and_parameters():
    layout = Layout((2, 4, 2, 1))
    assert (layout.L, layout.n_weights, layout.n_params) == (3, 8 + 8 + 2, 18 + 4 + 2 + 1)


def test_layout_spans_place_W_k_then_b_k():
    assert Layout((2, 3, 1)).spans == ((0, 6, 2, 3, 9, 12), (6, 9, 3, 1, 12, 13))


def test_layout_flatten_inverts_views():
    layout, flat = Layout((2, 3, 1)), np.arange(13.0)
    W, b = layout.views(flat)
    assert np.array_equal(layout.flatten(W, b), flat)


# Architecture errors


def _raises(message, *args, **kwargs):
    with pytest.raises(EngineError, match=message):
        make_network(*args, **kwargs)


def test_wrong_activation_count_is_an_error_that_says_how_many():
    _raises(r"one name per layer after the input \(2\), got 3", SIZES, ["tanh"] * 3)


def test_unknown_activation_is_an_error_that_names_it():
    _raises(r"activations\[1\]: unknown activation 'no_such_activation'", SIZES,
            ["tanh", "no_such_activation"])


def test_softmax_on_a_hidden_layer_is_an_error():
    _raises(r"activations\[0\]: softmax is allowed on the output layer only",
            SIZES, ["softmax", "softmax"])


def test_a_single_layer_is_an_error():
    _raises("at least an input and an output layer", [3], [])


def test_a_layer_of_zero_nodes_is_an_error():
    _raises("at least one node", [3, 0, 2], ["tanh", "tanh"])


def test_wrong_weight_shape_is_an_error_that_gives_both_shapes():
    W = [None, np.zeros((4, 3)), np.zeros((4, 2))]
    _raises(r"weights\[0\]: expected shape \(3, 4\), got \(4, 3\)",
            SIZES, ["tanh", "tanh"], W=W, b=[None, np.zeros(4), np.zeros(2)])


def test_wrong_bias_shape_is_an_error():
    _raises(r"biases\[1\]: expected shape \(2,\), got \(3,\)", SIZES, ["tanh", "tanh"],
            b=[None, np.zeros(4), np.zeros(3)], rng=np.random.default_rng())


def test_ragged_weights_are_an_error():
    W = [None, [[1, 2, 3, 4], [1, 2, 3], [1, 2, 3, 4]], np.zeros((4, 2))]
    _raises(r"weights\[0\]: not a rectangular array", SIZES, ["tanh", "tanh"], W=W,
            rng=np.random.default_rng())


def test_nan_weight_is_an_error():
    W = [None, np.zeros((3, 4)), [[0.0, 0.0]] * 3 + [[0.0, float("nan")]]]
    _raises(r"weights\[1\]: values must be finite", SIZES, ["tanh", "tanh"], W=W,
            rng=np.random.default_rng())


def test_missing_layer_of_weights_is_an_error():
    _raises("weights: no entry for layer 2", SIZES, ["tanh", "tanh"], W=[None, np.zeros((3, 4))],
            rng=np.random.default_rng())


def test_unknown_init_is_an_error_that_names_it():
    _raises("init: unknown initializer 'zeros'", SIZES, ["tanh", "tanh"], init="zeros",
            rng=np.random.default_rng())


def test_missing_rng_for_missing_weights_is_an_error():
    _raises("an rng is needed", SIZES, ["tanh", "tanh"])


# check_config errors


def _config_raises(message, activations, **step):
    net = make_network([2, 3, 2], activations, rng=np.random.default_rng(0))
    with pytest.raises(EngineError, match=message):
        check_config(net, StepConfig(**step))


def test_bce_without_a_sigmoid_output_is_an_error():
    _config_raises("loss: bce needs a sigmoid output layer, got tanh", ["tanh", "tanh"], loss="bce")


def test_softmax_ce_without_a_softmax_output_is_an_error():
    _config_raises("loss: softmax_ce needs a softmax output layer, got sigmoid",
                   ["tanh", "sigmoid"], loss="softmax_ce")


def test_softmax_output_without_softmax_ce_is_an_error():
    _config_raises("loss: a softmax output layer needs softmax_ce, got mse",
                   ["tanh", "softmax"], loss="mse")


def test_unknown_loss_is_an_error_that_names_it():
    _config_raises("loss: unknown loss 'no_such_loss'", ["tanh", "tanh"], loss="no_such_loss")


def test_unknown_optimizer_is_an_error_that_names_it():
    _config_raises("optimizer.name: unknown optimizer 'no_such_optimizer'", ["tanh", "tanh"],
                   optimizer=OptimizerConfig("no_such_optimizer"))


def test_unknown_regularization_is_an_error_that_names_it():
    _config_raises("regularization.name: unknown regularization 'no_such_regularization'",
                   ["tanh", "tanh"], regularization="no_such_regularization")


# Initialisers


def initial(init, seed, sizes=(400, 300)):
    activations = ["tanh"] * (len(sizes) - 1)
    return make_network(list(sizes), activations, init=init, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("init", INITIALIZERS)
def test_same_seed_gives_the_same_weights_bit_for_bit(init):
    assert np.array_equal(initial(init, 7, (3, 5, 2)).theta, initial(init, 7, (3, 5, 2)).theta)


@pytest.mark.parametrize("init", INITIALIZERS)
def test_another_seed_gives_other_weights(init):
    assert not np.array_equal(initial(init, 7, (3, 5, 2)).W[1], initial(init, 8, (3, 5, 2)).W[1])


@pytest.mark.parametrize("init", INITIALIZERS)
def test_every_bias_starts_at_the_initializers_bias(init):
    net = initial(init, 0, (3, 5, 2))
    assert np.all(net.theta[net.layout.n_weights:] == INITIALIZERS[init].bias)


def test_xavier_weights_stay_within_and_reach_the_glorot_limit():
    W = initial("xavier", 0).W[1]
    limit = np.sqrt(6.0 / (400 + 300))
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.999 * limit
    assert W.mean() == pytest.approx(0.0, abs=0.01 * limit)


def test_he_weights_have_std_sqrt_2_over_n_in():
    W = initial("he", 0).W[1]
    # 120,000 draws: the sample std is within 1% of sqrt(2/400) with overwhelming odds.
    assert W.std() == pytest.approx(np.sqrt(2.0 / 400), rel=0.01)
    assert W.mean() == pytest.approx(0.0, abs=0.01 * np.sqrt(2.0 / 400))


def test_uniform_weights_lie_in_plus_minus_a_half_with_bias_a_tenth():
    net = initial("uniform", 0)
    assert np.abs(net.W[1]).max() <= 0.5 and np.abs(net.W[1]).max() > 0.499
    assert np.all(net.b[1] == 0.1)

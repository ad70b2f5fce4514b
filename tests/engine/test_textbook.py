"""The 2-2-1 worked example by hand: sigmoid hidden layer, identity output, mse, lr 0.8.

Input o^0 = [0, 1] (one row of XOR), target y = 1, biases trained.
W^1 = [[0.5, -0.3], [0.8, 0.2]], b^1 = [0.1, -0.1];  W^2 = [[1.0], [-1.2]], b^2 = [0].
"""

import numpy as np
import pytest

from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.train import StepConfig, train_step

TOL = 1e-9


@pytest.fixture
def record_and_net():
    net = make_network(
        [2, 2, 1], ["sigmoid", "linear"],
        W=[None, [[0.5, -0.3], [0.8, 0.2]], [[1.0], [-1.2]]],
        b=[None, [0.1, -0.1], [0.0]],
    )
    cfg = StepConfig(loss="mse", optimizer=OptimizerConfig("sgd", learning_rate=0.8))
    state = OPTIMIZERS["sgd"].init_state(net.layout.n_params)
    net, _, record = train_step(net, state, np.array([[0.0, 1.0]]), np.array([[1.0]]), cfg)
    return record, net


def test_forward_pass_matches_the_hand_calculation(record_and_net):
    record, _ = record_and_net
    # a^1 = [0·0.5 + 1·0.8 + 0.1, 0·(−0.3) + 1·0.2 − 0.1] = [0.9, 0.1]
    np.testing.assert_allclose(record.a[1], [[0.9, 0.1]], rtol=0, atol=TOL)
    # o^1 = [σ(0.9), σ(0.1)] = [1/(1+e^−0.9), 1/(1+e^−0.1)] = [0.7109495026, 0.5249791875]
    np.testing.assert_allclose(record.o[1], [[0.7109495026250039, 0.52497918747894]], atol=TOL)
    # a^2 = 0.7109495026·1.0 + 0.5249791875·(−1.2) + 0 = 0.0809744777 = o^2 (identity)
    np.testing.assert_allclose(record.a[2], [[0.08097447765027588]], atol=TOL)
    np.testing.assert_allclose(record.o[2], [[0.08097447765027588]], atol=TOL)


def test_loss_matches_the_hand_calculation(record_and_net):
    record, _ = record_and_net
    # E = ½ (0.0809744777 − 1)² = ½ · 0.9190255223² = 0.4223039554
    assert record.E == pytest.approx(0.42230395536509163, abs=TOL)


def test_deltas_match_the_hand_calculation(record_and_net):
    record, _ = record_and_net
    # δ^2 = (ŷ − y)·1 = −0.9190255223 (N = 1, identity g' = 1)
    np.testing.assert_allclose(record.delta[2], [[-0.9190255223497241]], atol=TOL)
    # δ^1_1 = o(1−o)·w_11^2·δ^2 = 0.7109495·0.2890505·1.0·(−0.9190255) = −0.1888600273
    # δ^1_2 = 0.5249792·0.4750208·(−1.2)·(−0.9190255) = 0.2750195347
    np.testing.assert_allclose(
        record.delta[1], [[-0.18886002729825255, 0.27501953471973395]], atol=TOL
    )


def test_gradients_match_the_hand_calculation(record_and_net):
    record, _ = record_and_net
    # ∂E/∂w_i1^2 = o_i^1 δ^2 = [0.7109495·(−0.9190255), 0.5249792·(−0.9190255)]
    np.testing.assert_allclose(
        record.dE_dW[2], [[-0.6533807380142208], [-0.4824692719955666]], atol=TOL
    )
    np.testing.assert_allclose(record.dE_db[2], [-0.9190255223497241], atol=TOL)
    # ∂E/∂w_ij^1 = o_i^0 δ_j^1: the x1 = 0 row is zero, the x2 = 1 row is δ^1 itself
    np.testing.assert_allclose(
        record.dE_dW[1], [[0.0, 0.0], [-0.18886002729825255, 0.27501953471973395]], atol=TOL
    )
    np.testing.assert_allclose(
        record.dE_db[1], [-0.18886002729825255, 0.27501953471973395], atol=TOL
    )


def test_updated_weights_match_the_hand_calculation(record_and_net):
    record, net = record_and_net
    # w ← w − 0.8·∂E/∂w:  1.0 + 0.8·0.6533807 = 1.5227045904;  −1.2 + 0.8·0.4824693 = −0.8140245824
    np.testing.assert_allclose(net.W[2], [[1.5227045904113767], [-0.8140245824035467]], atol=TOL)
    # row x1 = 0 unchanged; row x2: 0.8 + 0.8·0.1888600 = 0.9510880218, 0.2 − 0.8·0.2750195
    np.testing.assert_allclose(
        net.W[1], [[0.5, -0.3], [0.9510880218386021, -0.020015627775787165]], atol=TOL
    )
    # b^1 = [0.1 + 0.8·0.1888600, −0.1 − 0.8·0.2750195];  b^2 = 0 + 0.8·0.9190255
    np.testing.assert_allclose(net.b[1], [0.251088021838602, -0.3200156277757872], atol=TOL)
    np.testing.assert_allclose(net.b[2], [0.7352204178797793], atol=TOL)
    np.testing.assert_allclose(record.update_W[2], net.W[2] - [[1.0], [-1.2]], atol=TOL)


def test_fixed_biases_keep_their_values_but_report_their_gradient():
    net = make_network(
        [2, 2, 1], ["sigmoid", "linear"],
        W=[None, [[0.5, -0.3], [0.8, 0.2]], [[1.0], [-1.2]]], b=[None, [0.1, -0.1], [0.0]],
    )
    cfg = StepConfig(optimizer=OptimizerConfig("sgd", learning_rate=0.8), train_biases=False)
    state = OPTIMIZERS["sgd"].init_state(net.layout.n_params)
    net, _, record = train_step(net, state, np.array([[0.0, 1.0]]), np.array([[1.0]]), cfg)
    np.testing.assert_array_equal(net.b[1], [0.1, -0.1])
    np.testing.assert_array_equal(record.update_b[2], [0.0])
    assert record.dE_db[2][0] == pytest.approx(-0.9190255223497241, abs=TOL)
    np.testing.assert_allclose(net.W[2], [[1.5227045904113767], [-0.8140245824035467]], atol=TOL)

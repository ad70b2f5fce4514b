"""Losses E against hand calculations, extreme logits, and the output delta δ^L = ∂E/∂a^L."""

import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.losses import LOSSES


def output_activation(name):
    """The output layer a loss is used with: the one it requires, else tanh."""
    return LOSSES[name].requires_output or "tanh"


LN3, LN2 = math.log(3.0), math.log(2.0)

# (a^L, Y, E by hand) on a batch of N = 2; o^L = g(a^L) with the loss's output activation.
HAND = {
    # tanh(artanh 0.2) = 0.2 etc.: o = [[0.2, 0.8], [0.6, 0.4]], Y = [[0, 1], [1, 0]]
    # E = (1/2)·½·(0.2² + 0.2² + 0.4² + 0.4²) = ¼·0.4 = 0.1
    "mse": (np.arctanh([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.0, 1.0], [1.0, 0.0]]), 0.1),
    # o = [σ(0), σ(ln 3)] = [1/2, 3/4], Y = [1, 0]
    # E = −(1/2)[log ½ + log(1 − ¾)] = ½(ln 2 + ln 4) = 1.5 ln 2
    "bce": (np.array([[0.0], [LN3]]), np.array([[1.0], [0.0]]), 1.5 * LN2),
    # softmax([0, ln 3]) = [¼, ¾], softmax([ln 2, 0]) = [⅔, ⅓], Y picks ¾ and ⅓
    # E = −(1/2)[ln ¾ + ln ⅓] = ½ ln 4 = ln 2
    "softmax_ce": (np.array([[0.0, LN3], [LN2, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]]), LN2),
}

# A logit of ±1000 on the wrong side of every target: E = 1000 per example.
EXTREME = {
    "mse": (np.array([[1000.0], [-1000.0]]), np.array([[-1.0], [1.0]])),
    "bce": (np.array([[1000.0], [-1000.0]]), np.array([[0.0], [1.0]])),
    "softmax_ce": (np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]),
                   np.array([[0.0, 1.0], [1.0, 0.0]])),
}


def output_delta(name, a, Y):
    """δ^L as train.backward forms it: fused if the loss says so, else g'(a)·∂E/∂o."""
    loss, act = LOSSES[name], ACTIVATIONS[output_activation(name)]
    o = act.g(a)
    if loss.output_delta is not None:
        return loss.output_delta(o, Y)
    return loss.dE_do(o, Y) * act.dg(a, o)


@pytest.mark.parametrize("name", LOSSES)
def test_E_matches_the_hand_calculation_on_a_tiny_batch(name):
    assert name in HAND, f"write a hand calculation for {name!r} into HAND"
    a, Y, expected = HAND[name]
    o = ACTIVATIONS[output_activation(name)].g(a)
    assert LOSSES[name].E(a, o, Y) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", LOSSES)
def test_E_is_finite_for_logits_of_plus_and_minus_1000(name):
    assert name in EXTREME, f"write an extreme case for {name!r} into EXTREME"
    a, Y = EXTREME[name]
    E = LOSSES[name].E(a, ACTIVATIONS[output_activation(name)].g(a), Y)
    assert math.isfinite(E)


@pytest.mark.parametrize("name", ["bce", "softmax_ce"])
def test_cross_entropy_is_the_logit_gap_for_logits_of_plus_and_minus_1000(name):
    a, Y = EXTREME[name]
    # bce: −log σ(−1000) = 1000;  softmax_ce: −log softmax([−1000, 1000])₀ = 2000
    expected = {"bce": 1000.0, "softmax_ce": 2000.0}[name]
    E = LOSSES[name].E(a, ACTIVATIONS[output_activation(name)].g(a), Y)
    assert E == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", [n for n, loss in LOSSES.items() if loss.output_delta])
def test_fused_output_delta_is_residual_over_N(name):
    a, Y, _ = HAND[name]
    o = ACTIVATIONS[output_activation(name)].g(a)
    np.testing.assert_allclose(LOSSES[name].output_delta(o, Y), (o - Y) / len(Y), rtol=1e-15)


@pytest.mark.parametrize("name", [n for n, loss in LOSSES.items() if loss.output_delta])
def test_fused_output_delta_is_finite_for_logits_of_plus_and_minus_1000(name):
    a, Y = EXTREME[name]
    assert np.isfinite(output_delta(name, a, Y)).all()


@pytest.mark.parametrize("name", LOSSES)
def test_output_delta_matches_a_central_difference_of_E_in_a(name):
    a, Y, _ = HAND[name]
    loss, g, h = LOSSES[name], ACTIVATIONS[output_activation(name)].g, 1e-6
    numeric = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[index] = h
        E_plus, E_minus = loss.E(a + step, g(a + step), Y), loss.E(a - step, g(a - step), Y)
        numeric[index] = (E_plus - E_minus) / (2 * h)
    np.testing.assert_allclose(output_delta(name, a, Y), numeric, rtol=1e-7, atol=1e-10)


def test_mse_dE_do_is_residual_over_N():
    o, Y = np.array([[0.5, 2.0], [1.0, -1.0]]), np.array([[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(LOSSES["mse"].dE_do(o, Y), [[-0.25, 0.5], [0.5, -0.5]], rtol=1e-15)


@pytest.mark.parametrize("name", LOSSES)
def test_a_loss_without_dE_do_is_fused(name):
    loss = LOSSES[name]
    assert loss.dE_do is not None or (loss.output_delta is not None and loss.requires_output)

"""Activations g and g' against their formulas, central differences, and extreme inputs."""

import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, LEAKY_SLOPE

A = np.array([[-3.0, -1.3, -0.2], [0.4, 1.7, 2.9]])   # no 0: relu's kink is not differentiable
ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.dg is not None]


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def _softmax_rows(A):
    out = []
    for row in A:
        e = [math.exp(x) for x in row]
        out.append([x / sum(e) for x in e])
    return np.array(out)


# The textbook formula for each activation, written out one number at a time.
FORMULA = {
    "sigmoid": lambda A: np.vectorize(_sigmoid)(A),
    "tanh": lambda A: np.vectorize(math.tanh)(A),
    "relu": lambda A: np.vectorize(lambda x: x if x > 0 else 0.0)(A),
    "leaky_relu": lambda A: np.vectorize(lambda x: x if x > 0 else 0.01 * x)(A),
    "linear": lambda A: A.copy(),
    "softmax": _softmax_rows,
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_g_matches_its_formula_on_sample_values(name):
    assert name in FORMULA, f"write the formula for {name!r} into FORMULA"
    np.testing.assert_allclose(ACTIVATIONS[name].g(A), FORMULA[name](A), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_dg_matches_a_central_difference_of_g(name):
    act, h = ACTIVATIONS[name], 1e-6
    numeric = (act.g(A + h) - act.g(A - h)) / (2 * h)
    np.testing.assert_allclose(act.dg(A, act.g(A)), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_an_activation_without_dg_is_output_only(name):
    act = ACTIVATIONS[name]
    assert act.dg is not None or act.output_only


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_registry_key_is_the_activation_name(name):
    assert ACTIVATIONS[name].name == name


def test_relu_dg_is_zero_for_negative_a():
    a = np.array([[-5.0, -1e-12, -0.3]])
    assert np.array_equal(ACTIVATIONS["relu"].dg(a, ACTIVATIONS["relu"].g(a)), np.zeros_like(a))


def test_relu_dg_is_one_for_positive_a():
    a = np.array([[1e-12, 0.3, 5.0]])
    assert np.array_equal(ACTIVATIONS["relu"].dg(a, ACTIVATIONS["relu"].g(a)), np.ones_like(a))


def test_leaky_relu_slope_is_one_hundredth_for_negative_a():
    act, a = ACTIVATIONS["leaky_relu"], np.array([[-4.0, -0.5]])
    assert LEAKY_SLOPE == 0.01
    np.testing.assert_allclose(act.g(a), [[-0.04, -0.005]], rtol=1e-15)
    assert np.array_equal(act.dg(a, act.g(a)), [[0.01, 0.01]])


def test_sigmoid_is_finite_and_exact_at_plus_and_minus_1000():
    o = ACTIVATIONS["sigmoid"].g(np.array([[-1000.0, 1000.0]]))
    # σ(−1000) ≈ e^−1000 underflows to 0; σ(1000) = 1 − e^−1000 rounds to 1.
    assert np.array_equal(o, [[0.0, 1.0]])


def test_sigmoid_dg_is_zero_not_nan_when_saturated():
    act, a = ACTIVATIONS["sigmoid"], np.array([[-1000.0, 1000.0]])
    assert np.array_equal(act.dg(a, act.g(a)), [[0.0, 0.0]])


def test_softmax_rows_sum_to_one():
    o = ACTIVATIONS["softmax"].g(A)
    np.testing.assert_allclose(o.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_softmax_stays_finite_for_logits_of_1e4():
    o = ACTIVATIONS["softmax"].g(np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]]))
    assert np.isfinite(o).all()
    np.testing.assert_allclose(o, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)

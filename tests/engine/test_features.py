import math

import numpy as np
import pytest

from engine.errors import EngineError
from engine.features import FEATURE_LABELS, FEATURES, feature_matrix

X = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5], [6.0, -6.0]])

# Each expected column written out point by point from the textbook formula.
BY_HAND = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_sq": lambda x1, x2: x1**2,
    "x2_sq": lambda x1, x2: x2**2,
    "x1_x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: math.sin(x1),
    "sin_x2": lambda x1, x2: math.sin(x2),
}


def test_features_are_registered_in_display_order():
    assert list(FEATURES) == ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]


@pytest.mark.parametrize("name", FEATURES)
def test_every_feature_has_a_label(name):
    assert FEATURE_LABELS[name]


def test_labels_use_subscripts_and_superscripts():
    assert FEATURE_LABELS["x1"] == "x₁"
    assert FEATURE_LABELS["x1_sq"] == "x₁²"
    assert FEATURE_LABELS["x1_x2"] == "x₁x₂"
    assert FEATURE_LABELS["sin_x2"] == "sin x₂"


@pytest.mark.parametrize("name", FEATURES)
def test_feature_matches_its_hand_formula(name):
    expected = [BY_HAND[name](x1, x2) for x1, x2 in X]
    np.testing.assert_allclose(FEATURES[name](X), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", FEATURES)
def test_feature_maps_n_points_to_n_values(name):
    assert FEATURES[name](X).shape == (len(X),)


def test_feature_matrix_columns_follow_the_order_of_names():
    names = ["sin_x2", "x1", "x1_x2"]
    o0 = feature_matrix(X, names)
    for j, name in enumerate(names):
        np.testing.assert_array_equal(o0[:, j], FEATURES[name](X))


def test_feature_matrix_of_every_feature_is_n_by_seven_float64():
    o0 = feature_matrix(X, list(FEATURES))
    assert o0.shape == (len(X), 7) and o0.dtype == np.float64


def test_feature_matrix_turns_integer_points_into_float64():
    assert feature_matrix(np.array([[1, 2], [3, 4]]), ["x1_sq"]).dtype == np.float64


def test_feature_matrix_rejects_an_unknown_name():
    with pytest.raises(EngineError, match="unknown feature 'no_such_feature'"):
        feature_matrix(X, ["x1", "no_such_feature"])


def test_feature_matrix_rejects_an_empty_list():
    with pytest.raises(EngineError, match="at least one"):
        feature_matrix(X, [])


def test_feature_matrix_rejects_a_repeated_name():
    with pytest.raises(EngineError, match="repeat"):
        feature_matrix(X, ["x1", "x2", "x1"])


def test_feature_matrix_rejects_points_that_are_not_pairs():
    with pytest.raises(EngineError, match=r"shape \(N, 2\)"):
        feature_matrix(np.zeros((5, 3)), ["x1"])

import numpy as np
import pytest

from engine.datasets import DATASETS, Split, make_dataset, split
from engine.errors import EngineError

SAMPLED = [name for name, d in DATASETS.items() if not d.fixed]
ALLOWED_LABELS = {2: {-1.0, 1.0}, 3: {0.0, 1.0, 2.0}}


def make(name, n=None, noise=0.0, seed=0):
    dataset = DATASETS[name]
    return dataset.make(n or dataset.default_points, noise, np.random.default_rng(seed))


@pytest.mark.parametrize("n", [1, 7, 300])
@pytest.mark.parametrize("name", SAMPLED)
def test_sampled_dataset_has_n_rows_of_float64(name, n):
    X, y = make(name, n, noise=0.2)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.float64


def test_xor_table_is_the_four_row_truth_table_whatever_n():
    X, y = make("xor_table", n=500, noise=0.5)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [-1, 1, 1, -1])
    assert X.dtype == np.float64 and y.dtype == np.float64


@pytest.mark.parametrize("noise", [0.0, 0.5])
@pytest.mark.parametrize("name", [n for n, d in DATASETS.items() if d.kind == "classification"])
def test_classification_labels_are_in_the_allowed_set(name, noise):
    _, y = make(name, noise=noise)
    assert set(np.unique(y)) <= ALLOWED_LABELS[DATASETS[name].classes]


@pytest.mark.parametrize("noise", [0.0, 0.5])
@pytest.mark.parametrize("name", [n for n, d in DATASETS.items() if d.kind == "regression"])
def test_regression_targets_lie_in_minus_one_to_one(name, noise):
    _, y = make(name, noise=noise)
    assert y.min() >= -1.0 and y.max() <= 1.0


@pytest.mark.parametrize("name", DATASETS)
def test_registry_kind_and_classes_agree(name):
    dataset = DATASETS[name]
    assert dataset.name == name
    assert (dataset.kind, dataset.classes) in {("classification", 2), ("classification", 3),
                                               ("regression", 0)}


def test_default_points_match_the_playground():
    points = {name: d.default_points for name, d in DATASETS.items()}
    assert points == {"circle": 500, "xor": 500, "gauss": 500, "spiral": 500, "plane": 1200,
                      "multi_gauss": 1200, "xor_table": 4, "three_class": 300}


@pytest.mark.parametrize("name", DATASETS)
def test_same_seed_gives_identical_data(name):
    X1, y1 = make(name, noise=0.3, seed=42)
    X2, y2 = make(name, noise=0.3, seed=42)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("name", SAMPLED)
def test_different_seeds_give_different_points(name):
    X1, _ = make(name, noise=0.3, seed=1)
    X2, _ = make(name, noise=0.3, seed=2)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("noise", [0.0, 0.5])
@pytest.mark.parametrize("name", DATASETS)
def test_points_lie_inside_the_plot_square(name, noise):
    X, _ = make(name, noise=noise)
    assert np.all(np.abs(X) <= 6.0)


def test_circle_without_noise_is_positive_exactly_inside_radius_2_5():
    X, y = make("circle")
    np.testing.assert_array_equal(y == 1.0, np.hypot(X[:, 0], X[:, 1]) < 2.5)


def test_circle_noise_changes_labels_but_not_points():
    X_clean, y_clean = make("circle", noise=0.0, seed=3)
    X_noisy, y_noisy = make("circle", noise=0.5, seed=3)
    np.testing.assert_array_equal(X_clean, X_noisy)
    assert not np.array_equal(y_clean, y_noisy)


def test_xor_without_noise_labels_by_sign_of_product():
    X, y = make("xor")
    np.testing.assert_array_equal(y, np.sign(X[:, 0] * X[:, 1]))


def test_xor_points_keep_a_margin_from_the_axes():
    X, _ = make("xor", noise=0.5)
    assert np.all(np.abs(X) >= 0.3)


def test_gauss_without_noise_puts_positive_blob_at_two_two():
    X, y = make("gauss", n=2000)
    np.testing.assert_allclose(X[y == 1.0].mean(axis=0), [2.0, 2.0], atol=0.1)
    np.testing.assert_allclose(X[y == -1.0].mean(axis=0), [-2.0, -2.0], atol=0.1)


def test_spiral_without_noise_lies_on_radius_up_to_five():
    X, _ = make("spiral")
    assert np.hypot(X[:, 0], X[:, 1]).max() < 5.0


def test_plane_without_noise_is_clipped_sum_over_ten():
    X, y = make("plane")
    np.testing.assert_allclose(y, np.clip((X[:, 0] + X[:, 1]) / 10.0, -1.0, 1.0), rtol=0, atol=0)


def test_multi_gauss_without_noise_is_zero_far_from_every_bump():
    X, y = make("multi_gauss", n=5000)
    centres = np.array([[x, s * 2.5] for x in (-4.0, 0.0, 4.0) for s in (1.0, -1.0)])
    far = np.linalg.norm(X[:, None] - centres[None], axis=2).min(axis=1) >= 2.0
    assert far.any() and np.all(y[far] == 0.0)


def test_three_class_has_three_nearly_equal_classes():
    _, y = make("three_class", n=301)
    assert sorted(np.bincount(y.astype(int)).tolist()) == [100, 100, 101]


@pytest.mark.parametrize(("share", "n_train"), [(0.1, 50), (0.5, 250), (0.8, 400), (0.9, 450)])
def test_split_puts_the_rounded_share_in_train(share, n_train):
    X, y = make("circle")
    X_train, y_train, X_test, y_test = split(X, y, share, np.random.default_rng(0))
    assert (len(X_train), len(y_train)) == (n_train, n_train)
    assert (len(X_test), len(y_test)) == (500 - n_train, 500 - n_train)


def test_split_keeps_at_least_one_training_row():
    X, y = make("circle", n=3)
    X_train, _, X_test, _ = split(X, y, 0.1, np.random.default_rng(0))
    assert (len(X_train), len(X_test)) == (1, 2)


def test_split_keeps_each_point_with_its_label_and_loses_none():
    X = np.arange(20.0).reshape(10, 2)
    y = X[:, 0] * 10
    X_train, y_train, X_test, y_test = split(X, y, 0.5, np.random.default_rng(0))
    X_all, y_all = np.vstack([X_train, X_test]), np.concatenate([y_train, y_test])
    np.testing.assert_array_equal(y_all, X_all[:, 0] * 10)
    np.testing.assert_array_equal(np.sort(X_all[:, 0]), X[:, 0])


def test_make_dataset_returns_a_split_with_kind_and_classes():
    data = make_dataset("three_class", 300, 0.1, 0.5, seed=0)
    assert isinstance(data, Split)
    assert (data.kind, data.classes) == ("classification", 3)
    assert (len(data.X_train), len(data.X_test)) == (150, 150)


@pytest.mark.parametrize("name", DATASETS)
def test_make_dataset_is_reproducible_from_the_seed(name):
    first = make_dataset(name, 100, 0.2, 0.5, seed=9)
    second = make_dataset(name, 100, 0.2, 0.5, seed=9)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))


def test_make_dataset_uses_all_xor_table_rows_for_train_and_test():
    data = make_dataset("xor_table", 4, 0.0, 0.5, seed=0)
    X, y = make("xor_table")
    for X_part, y_part in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
        np.testing.assert_array_equal(X_part, X)
        np.testing.assert_array_equal(y_part, y)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"name": "no_such_set"}, "name"),
        ({"n": 0}, "n"),
        ({"n": 2.5}, "n"),
        ({"noise": -0.1}, "noise"),
        ({"noise": 0.7}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"train_share": 0.05}, "train_share"),
        ({"train_share": 0.95}, "train_share"),
    ],
)
def test_make_dataset_error_names_the_bad_parameter(kwargs, parameter):
    args = {"name": "circle", "n": 500, "noise": 0.0, "train_share": 0.5, "seed": 0} | kwargs
    with pytest.raises(EngineError, match=rf"^{parameter} must"):
        make_dataset(**args)


def test_noise_error_message_quotes_range_and_value():
    with pytest.raises(EngineError, match=r"^noise must be in \[0, 0\.5\], got 0\.7$"):
        make_dataset("circle", 500, 0.7, 0.5, seed=0)

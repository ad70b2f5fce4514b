"""POST /api/step: the public contract of design.md, value for value against the engine."""

import numpy as np
import pytest
from support import design_step, strict_json

from engine.network import make_network
from engine.optimizers import OPTIMIZERS, OptimizerConfig
from engine.train import StepConfig, train_step

CONTRACT_FIELDS = {"loss", "layers", "gradients", "updates", "network", "optimizer_state", "losses"}


def engine_step(body):
    """The same step the request describes, taken with the engine directly."""
    spec = body["network"]
    net = make_network(
        spec["layers"], spec["activations"], W=[None, *spec["weights"]], b=[None, *spec["biases"]]
    )
    cfg = StepConfig(loss=body["loss"], optimizer=OptimizerConfig(**body["optimizer"]))
    state = OPTIMIZERS[cfg.optimizer.name].init_state(net.layout.n_params)
    X, Y = np.array(body["inputs"], dtype=float), np.array(body["targets"], dtype=float)
    net, state, record = train_step(net, state, X, Y, cfg)
    return net, record


def test_design_example_loss_is_the_documented_value(client):
    answer = client.post("/api/step", json=design_step()).json()
    assert answer["loss"] == pytest.approx(0.4223039553650916, abs=1e-15)


def test_response_has_every_contract_field(client):
    answer = client.post("/api/step", json=design_step()).json()
    assert CONTRACT_FIELDS <= set(answer)
    assert set(answer["layers"][0]) == {"a", "o", "delta"}
    assert set(answer["gradients"]) == set(answer["updates"]) == {"weights", "biases"}
    assert set(answer["network"]) == {"layers", "activations", "weights", "biases"}


def test_values_equal_the_engines_bit_for_bit(client):
    body = design_step()
    answer = client.post("/api/step", json=body).json()
    net, record = engine_step(body)
    assert answer["loss"] == record.E
    for k in (1, 2):
        layer = answer["layers"][k - 1]
        assert layer["a"] == record.a[k].tolist()
        assert layer["o"] == record.o[k].tolist()
        assert layer["delta"] == record.delta[k].tolist()
        assert answer["gradients"]["weights"][k - 1] == record.dE_dW[k].tolist()
        assert answer["gradients"]["biases"][k - 1] == record.dE_db[k].tolist()
        assert answer["updates"]["weights"][k - 1] == record.update_W[k].tolist()
        assert answer["updates"]["biases"][k - 1] == record.update_b[k].tolist()
        assert answer["network"]["weights"][k - 1] == net.W[k].tolist()
        assert answer["network"]["biases"][k - 1] == net.b[k].tolist()


def test_update_is_what_was_added_to_the_weights(client):
    body = design_step()
    answer = client.post("/api/step", json=body).json()
    before = np.array(body["network"]["weights"][1])
    after = np.array(answer["network"]["weights"][1])
    np.testing.assert_array_equal(after, before + np.array(answer["updates"]["weights"][1]))


def test_losses_has_one_entry_per_step(client):
    answer = client.post("/api/step", json=design_step(steps=7)).json()
    assert len(answer["losses"]) == 7
    assert answer["losses"][0] == pytest.approx(0.4223039553650916, abs=1e-15)
    assert answer["losses"][-1] == answer["loss"]
    assert answer["losses"][-1] < answer["losses"][0]


@pytest.mark.parametrize(
    "optimizer",
    [
        {"name": "momentum", "learning_rate": 0.1, "momentum": 0.9},
        {"name": "adam", "learning_rate": 0.01},
    ],
)
def test_two_single_steps_passing_optimizer_state_back_equal_one_call_of_two(client, optimizer):
    body = design_step(optimizer=optimizer)
    first = client.post("/api/step", json=body).json()
    second = client.post(
        "/api/step",
        json=design_step(
            optimizer=optimizer, network=first["network"], optimizer_state=first["optimizer_state"]
        ),
    ).json()
    both = client.post("/api/step", json=design_step(optimizer=optimizer, steps=2)).json()
    assert second["network"] == both["network"]
    assert second["optimizer_state"] == both["optimizer_state"]
    assert [first["loss"], second["loss"]] == both["losses"]


def test_train_biases_false_keeps_every_bias(client):
    body = design_step(train_biases=False, steps=3)
    answer = client.post("/api/step", json=body).json()
    assert answer["network"]["biases"] == body["network"]["biases"]
    assert answer["updates"]["biases"] == [[0.0, 0.0], [0.0]]
    assert answer["network"]["weights"] != body["network"]["weights"]


def test_omitted_weights_are_initialised_from_seed_and_init_deterministically(client):
    body = design_step(seed=7, init="xavier")
    del body["network"]["weights"], body["network"]["biases"]
    first = client.post("/api/step", json=body).json()
    again = client.post("/api/step", json=body).json()
    other_seed = client.post("/api/step", json={**body, "seed": 8}).json()
    assert first == again
    assert first["network"] != other_seed["network"]


def test_omitted_weights_equal_the_engines_initialisation(client):
    body = design_step(seed=3, init="uniform", optimizer={"name": "sgd", "learning_rate": 1e-300})
    del body["network"]["weights"], body["network"]["biases"]
    answer = client.post("/api/step", json=body).json()
    rng = np.random.default_rng(3)
    net = make_network([2, 2, 1], ["sigmoid", "linear"], init="uniform", rng=rng)
    assert answer["network"]["weights"] == [net.W[1].tolist(), net.W[2].tolist()]


def test_huge_learning_rate_answers_diverged_with_null_values_and_no_nan(client):
    body = design_step(
        network={"layers": [2, 4, 1], "activations": ["relu", "linear"]},
        inputs=[[5.0, 5.0]],
        targets=[[1e3]],
        optimizer={"name": "sgd", "learning_rate": 1e300},
        steps=10,
    )
    response = client.post("/api/step", json=body)
    assert response.status_code == 200
    answer = strict_json(response.text)
    assert answer["diverged"] is True
    assert answer["steps_taken"] < 10
    assert answer["loss"] is None and answer["losses"][-1] is None
    assert None in answer["updates"]["weights"][0][0]
    assert "NaN" not in response.text and "Infinity" not in response.text


def test_server_answers_normally_after_a_diverged_step(client):
    body = design_step(optimizer={"name": "sgd", "learning_rate": 1e308}, steps=50)
    client.post("/api/step", json=body)
    assert client.post("/api/step", json=design_step()).status_code == 200

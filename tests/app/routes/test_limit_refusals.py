"""Bad input gets a 422 whose detail names the field: shapes, names, NaN, the limits."""

import json

import pytest
from support import design_step, strict_json


def detail_of(response) -> str:
    assert response.status_code == 422, response.text
    return json.dumps(response.json()["detail"])


def wide(layers):
    """A request for a network of these sizes, weights omitted, one input row."""
    return design_step(
        network={"layers": layers, "activations": ["tanh"] * (len(layers) - 1)},
        inputs=[[0.0] * layers[0]],
        targets=[[0.0] * layers[-1]],
    )


def test_ragged_weights_are_refused_naming_weights(client):
    body = design_step()
    body["network"]["weights"][0][1] = [0.8]
    assert "weights[0]" in detail_of(client.post("/api/step", json=body))


def test_weights_whose_shapes_do_not_chain_are_refused_naming_weights(client):
    body = design_step()
    body["network"]["weights"][1] = [[1.0], [-1.2], [0.3]]
    assert "weights[1]" in detail_of(client.post("/api/step", json=body))


def test_biases_of_the_wrong_length_are_refused_naming_biases(client):
    body = design_step()
    body["network"]["biases"][0] = [0.1]
    assert "biases[0]" in detail_of(client.post("/api/step", json=body))


def test_inputs_that_do_not_fit_layer_zero_are_refused_naming_inputs(client):
    assert "inputs" in detail_of(client.post("/api/step", json=design_step(inputs=[[0, 1, 2]])))


def test_targets_that_do_not_match_the_inputs_are_refused_naming_targets(client):
    body = design_step(targets=[[1], [0]])
    assert "targets" in detail_of(client.post("/api/step", json=body))


def test_unknown_activation_is_refused_naming_activations(client):
    body = design_step()
    body["network"]["activations"][0] = "no_such_activation"
    assert "activations" in detail_of(client.post("/api/step", json=body))


def test_unknown_loss_is_refused_naming_loss(client):
    assert "loss" in detail_of(client.post("/api/step", json=design_step(loss="no_such_loss")))


def test_unknown_optimizer_is_refused_naming_optimizer(client):
    body = design_step(optimizer={"name": "no_such_optimizer", "learning_rate": 0.1})
    assert "optimizer" in detail_of(client.post("/api/step", json=body))


def test_unknown_init_is_refused_naming_init(client):
    assert "init" in detail_of(client.post("/api/step", json=design_step(init="he_magic")))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_in_raw_json_is_refused_naming_its_field(client, constant):
    text = json.dumps(design_step()).replace('"learning_rate": 0.8', f'"learning_rate": {constant}')
    assert constant in text
    response = client.post("/api/step", content=text, headers={"content-type": "application/json"})
    assert "learning_rate" in detail_of(response)


def test_nan_inside_the_weights_is_refused_naming_weights(client):
    text = json.dumps(design_step()).replace("-0.3", "NaN")
    response = client.post("/api/step", content=text, headers={"content-type": "application/json"})
    assert "weights" in detail_of(response)


def test_softmax_on_a_hidden_layer_is_refused_naming_activations(client):
    body = design_step(loss="softmax_ce")
    body["network"]["activations"] = ["softmax", "softmax"]
    assert "activations" in detail_of(client.post("/api/step", json=body))


def test_bce_without_a_sigmoid_output_is_refused_naming_loss(client):
    detail = detail_of(client.post("/api/step", json=design_step(loss="bce")))
    assert "loss" in detail and "sigmoid" in detail


def test_softmax_output_without_softmax_ce_is_refused_naming_loss(client):
    body = design_step()
    body["network"]["activations"] = ["sigmoid", "softmax"]
    assert "loss" in detail_of(client.post("/api/step", json=body))


def test_optimizer_state_of_another_optimizer_is_refused_naming_optimizer_state(client):
    body = design_step(optimizer_state={"name": "adam", "t": 1})
    assert "optimizer_state" in detail_of(client.post("/api/step", json=body))


def test_more_than_eight_hidden_layers_is_refused_naming_layers(client):
    detail = detail_of(client.post("/api/step", json=wide([2] * 11)))
    assert "layers" in detail and "at most 8 hidden layers" in detail


def test_eight_hidden_layers_are_accepted(client):
    assert client.post("/api/step", json=wide([2] * 10)).status_code == 200


def test_more_than_sixteen_neurons_a_layer_is_refused_naming_layers(client):
    detail = detail_of(client.post("/api/step", json=wide([2, 17, 1])))
    assert "layers" in detail and "at most 16 neurons" in detail


def test_more_than_5000_rows_are_refused_naming_inputs(client):
    body = design_step(inputs=[[0, 1]] * 5001, targets=[[1]] * 5001)
    detail = detail_of(client.post("/api/step", json=body))
    assert "inputs" in detail and "5000" in detail


def test_more_than_10000_steps_are_refused_naming_steps(client):
    detail = detail_of(client.post("/api/step", json=design_step(steps=10_001)))
    assert "steps" in detail and "10000" in detail


def test_limits_follow_the_settings(make_client):
    client = make_client(max_steps=5)
    assert "steps" in detail_of(client.post("/api/step", json=design_step(steps=6)))


def test_a_session_step_over_the_limit_is_refused_naming_steps(client, new_session):
    session_id, control, _ = new_session()
    response = client.post(
        f"/api/sessions/{session_id}/step", json={"steps": 10_001}, headers=control
    )
    assert "steps" in detail_of(response)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"hidden": [17]}, "hidden"),
        ({"hidden": [2] * 9}, "hidden"),
        ({"points": 5001}, "points"),
        ({"dataset": "no_such_set"}, "dataset"),
        ({"activation": "softmax"}, "activation"),
        ({"loss": "bce"}, "loss"),
        ({"loss": "softmax_ce"}, "loss"),
        ({"optimizer": {"name": "no_such_optimizer"}}, "optimizer"),
        ({"features": ["x1", "x1"]}, "features"),
        ({"features": ["no_such_feature"]}, "features"),
        ({"dataset": "custom"}, "data"),
        ({"noise": 51}, "noise"),
        ({"train_share": 5}, "train_share"),
        ({"batch_size": 0}, "batch_size"),
        ({"network": {"weights": [[[1.0]]]}}, "weights"),
        ({"data": {"inputs": [[0, 0], [1, 1]], "labels": [1]}}, "labels"),
        ({"data": {"inputs": [[0, 9]], "labels": [1]}}, "inputs"),
    ],
)
def test_session_config_errors_are_refused_naming_the_field(client, config, field):
    response = client.post("/api/sessions", json=config)
    assert field in detail_of(response)


def test_a_refused_nan_is_echoed_as_null_in_strict_json(client):
    text = json.dumps(design_step()).replace("-0.3", "NaN")
    response = client.post("/api/step", content=text, headers={"content-type": "application/json"})
    assert strict_json(response.text)["detail"][0]["input"] is None


def test_session_limits_name_the_field_in_loc(client):
    detail = client.post("/api/sessions", json={"points": 5001}).json()["detail"]
    assert detail[0]["loc"][-1] == "points"

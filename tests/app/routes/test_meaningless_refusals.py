"""Issue 9, rows 6 and 9: inputs that made a 500 get a 4xx, and combinations that train but
mean nothing are refused with a message that says what fits."""

import json

import pytest
from support import design_step

JSON = {"content-type": "application/json"}


def message(response) -> str:
    return " ".join(d["msg"] for d in response.json()["detail"])


# --- row 6: 500s become 4xx ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/step", "/api/sessions", "/api/sessions/import"])
def test_json_nested_500_deep_is_a_4xx_not_a_recursion_error(client, path):
    deep = "[" * 500 + "]" * 500
    for body in (deep, '{"data": ' + deep + "}"):
        response = client.post(path, content=body, headers=JSON)
        assert 400 <= response.status_code < 500
        assert len(response.content) < 2_000


def test_json_nested_100000_deep_is_a_4xx(client):
    response = client.post("/api/step", content="[" * 100_000, headers=JSON)
    assert 400 <= response.status_code < 500


def test_a_non_ascii_control_token_is_a_403(client, new_session):
    session_id, _, _ = new_session()
    response = client.post(f"/api/sessions/{session_id}/pause",
                           headers={"X-Control-Token": "é".encode()})
    assert response.status_code == 403


@pytest.mark.parametrize("t", [10**309, 10**400, 2**64])
def test_an_adam_t_past_any_real_run_is_a_422(client, t):
    body = design_step(optimizer={"name": "adam"})
    zeros = {"weights": [[[0.0, 0.0], [0.0, 0.0]], [[0.0], [0.0]]], "biases": [[0.0, 0.0], [0.0]]}
    body["optimizer_state"] = {"name": "adam", "t": t, "m": zeros, "v": zeros}
    response = client.post("/api/step", content=json.dumps(body), headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "t"


@pytest.mark.parametrize("speed", [1e306, 1e300, 1e7])
def test_a_play_speed_past_the_maximum_is_a_422(client, new_session, speed):
    session_id, control, _ = new_session()
    response = client.post(f"/api/sessions/{session_id}/play", json={"speed": speed},
                           headers=control)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "speed"
    assert client.get(f"/api/sessions/{session_id}").json()["status"] == "paused"


def test_the_maximum_play_speed_is_accepted(client, new_session):
    session_id, control, _ = new_session()
    response = client.post(f"/api/sessions/{session_id}/play", json={"speed": 1e6},
                           headers=control)
    assert response.status_code == 200
    client.post(f"/api/sessions/{session_id}/pause", headers=control)


# --- row 9: meaningless combinations ---------------------------------------------------------

OWN = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"dataset": "plane", "output_activation": "softmax", "loss": "softmax_ce"}, "linear"),
        ({"dataset": "xor", "output_activation": "softmax"}, "sigmoid"),
        ({"dataset": "custom", "output_activation": "sigmoid", "loss": "bce",
          "data": {"inputs": OWN, "targets": [[1], [3], [5]]}}, "[0, 1]"),
        ({"dataset": "plane", "output_activation": "sigmoid", "loss": "bce"}, "mse"),
        ({"dataset": "custom", "output_activation": "softmax", "loss": "softmax_ce",
          "data": {"inputs": OWN, "targets": [[-1, 2], [3, 0], [5, 1]]}}, "≥ 0"),
        ({"dataset": "xor", "data": {"inputs": [[0, 0]], "labels": [1]}}, "custom"),
    ],
)
def test_a_meaningless_session_is_refused_saying_what_fits(client, config, says):
    response = client.post("/api/sessions", json=config)
    assert response.status_code == 422
    assert says in message(response)


@pytest.mark.parametrize(
    "config",
    [
        {"dataset": "three_class"},
        {"dataset": "xor", "output_activation": "sigmoid", "loss": "bce"},
        {"dataset": "custom", "output_activation": "softmax", "loss": "softmax_ce",
         "data": {"inputs": OWN, "targets": [[0, 1], [1, 0], [0.5, 0.5]]}},
        {"dataset": "custom", "data": {"inputs": OWN, "labels": [1, -1, 1]}},
    ],
)
def test_meaningful_sessions_are_still_accepted(client, config):
    assert client.post("/api/sessions", json=config).status_code == 201


def test_a_step_with_softmax_over_one_output_is_refused(client):
    body = design_step(loss="softmax_ce")
    body["network"]["activations"] = ["sigmoid", "softmax"]
    response = client.post("/api/step", json=body)
    assert response.status_code == 422
    assert "2 or more output nodes" in message(response)


def test_a_step_with_bce_and_targets_outside_0_1_is_refused(client):
    body = design_step(loss="bce", targets=[[3]])
    body["network"]["activations"] = ["sigmoid", "sigmoid"]
    response = client.post("/api/step", json=body)
    assert response.status_code == 422
    assert "[0, 1]" in message(response)


def test_a_step_with_softmax_ce_and_negative_targets_is_refused(client):
    body = design_step(loss="softmax_ce", targets=[[-1, 2]])
    body["network"]["layers"] = [2, 2, 2]
    body["network"]["activations"] = ["sigmoid", "softmax"]
    body["network"]["weights"] = [[[0.5, -0.3], [0.8, 0.2]], [[1.0, 0.0], [-1.2, 0.0]]]
    body["network"]["biases"] = [[0.1, -0.1], [0.0, 0.0]]
    response = client.post("/api/step", json=body)
    assert response.status_code == 422
    assert "≥ 0" in message(response)

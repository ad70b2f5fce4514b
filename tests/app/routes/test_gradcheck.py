"""Gradient checks over HTTP: /api/gradcheck and one weight of a session's last step."""

import numpy as np
import pytest
from support import design_step


def flat(params):
    return np.concatenate([np.ravel(w) for w in params["weights"] + params["biases"]])


def test_gradcheck_analytic_equals_the_step_gradients(client):
    body = design_step()
    step = client.post("/api/step", json=body).json()
    check = client.post(
        "/api/gradcheck", json={k: body[k] for k in ("network", "loss", "inputs", "targets")}
    ).json()
    np.testing.assert_array_equal(flat(check["analytic"]), flat(step["gradients"]))


def test_gradcheck_numeric_agrees_with_analytic_to_one_in_a_million(client):
    body = design_step()
    check = client.post(
        "/api/gradcheck", json={k: body[k] for k in ("network", "loss", "inputs", "targets")}
    ).json()
    assert check["max_relative_error"] < 1e-6
    assert check["loss"] == pytest.approx(0.4223039553650916, abs=1e-15)


def test_session_gradcheck_of_one_weight_agrees_after_a_step(client, new_session):
    session_id, control, _ = new_session(seed=1)
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 3}, headers=control)
    check = client.get(
        f"/api/sessions/{session_id}/gradcheck", params={"kind": "W", "layer": 1, "i": 0, "j": 1}
    ).json()
    assert check["relative_error"] < 1e-6
    state = client.get(f"/api/sessions/{session_id}").json()
    assert check["analytic"] == state["record"]["gradients"]["weights"][0][0][1]


def test_session_gradcheck_before_any_step_is_a_422_naming_step(client, new_session):
    session_id, _, _ = new_session()
    response = client.get(
        f"/api/sessions/{session_id}/gradcheck", params={"kind": "b", "layer": 1, "i": 0}
    )
    assert response.status_code == 422
    assert "step" in response.text


def test_session_gradcheck_outside_the_layer_is_a_422(client, new_session):
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 1}, headers=control)
    response = client.get(
        f"/api/sessions/{session_id}/gradcheck", params={"kind": "W", "layer": 9, "i": 0, "j": 0}
    )
    assert response.status_code == 422
    assert "layer" in response.text


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"kind": "W", "layer": 1, "i": 0}, "j", "j: needed for a weight"),
        ({"kind": "W", "layer": 1, "i": 0, "j": 99}, "i", "is outside W[1]"),
        ({"kind": "b", "layer": 1, "i": 99}, "i", "is outside b[1]"),
    ],
)
def test_session_gradcheck_of_a_parameter_not_there_names_the_index(
    client, new_session, params, field, words
):
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 1}, headers=control)
    response = client.get(f"/api/sessions/{session_id}/gradcheck", params=params)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"][-1] == field and words in problem["msg"], problem

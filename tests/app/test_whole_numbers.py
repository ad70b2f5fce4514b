"""An integer field takes a whole-number float (821.0), as JSON Schema and JavaScript count it;
anything else that is not an int is still refused, naming the field."""

import pytest
from support import design_step


def test_a_session_is_made_from_whole_number_floats(client):
    created = client.post("/api/sessions", json={"hidden": [3.0, 2], "batch_size": 5.0,
                                                 "seed": 7.0, "points": 100.0})
    assert created.status_code == 201, created.text
    config = created.json()["state"]["config"]
    assert (config["hidden"], config["batch_size"], config["seed"], config["points"]) == (
        [3, 2], 5, 7, 100)
    stepped = client.post(f"/api/sessions/{created.json()['id']}/step", json={"steps": 3.0},
                          headers={"X-Control-Token": created.json()["token"]})
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()["step"] == 3


def test_api_step_takes_whole_number_floats_and_answers_as_with_ints(client):
    as_ints = client.post("/api/step", json=design_step(steps=2))
    body = design_step(steps=2.0)
    body["network"]["layers"] = [float(n) for n in body["network"]["layers"]]
    as_floats = client.post("/api/step", json=body)
    assert as_floats.status_code == 200, as_floats.text
    assert as_floats.json() == as_ints.json()


@pytest.mark.parametrize("steps", [3.5, True, "3", float("1e300")])
def test_anything_else_is_refused_naming_the_field(client, new_session, steps):
    session_id, control, _ = new_session()
    refused = client.post(f"/api/sessions/{session_id}/step", json={"steps": steps},
                          headers=control)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "steps"

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


def test_the_schema_gives_integer_bounds_as_exact_integers(client):
    """FastAPI writes bounds as floats; 2**63 as a float sent fuzzers to seeds just past it."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    seed = schemas["SessionConfig"]["properties"]["seed"]
    assert seed["exclusiveMaximum"] == 2**63 and type(seed["exclusiveMaximum"]) is int
    assert type(seed["minimum"]) is int
    assert schemas["RngCounter"]["properties"]["inc"]["exclusiveMaximum"] == 2**128
    assert client.post("/api/sessions", json={"seed": 2**63 - 1}).status_code == 201
    refused = client.post("/api/sessions", json={"seed": 2**63})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "seed"


def test_a_lesson_slide_is_a_whole_number_too(client, new_session):
    session_id, control, _ = new_session()
    shown = client.post(f"/api/sessions/{session_id}/lesson", json={"lesson": "xor", "slide": 1.0},
                        headers=control)
    assert shown.status_code == 200, shown.text


def test_a_batch_size_past_what_the_loop_holds_is_refused_and_the_largest_one_trains(
    client, new_session
):
    """A batch of 10**20 reached the compiled loop's int64 and answered the step with a 500."""
    for body, loc in [
        ({"batch_size": 2**31}, ["body", "batch_size"]),
        ({"vary": {"batch_size": [1, 10**20]}}, ["body", "vary", "batch_size", 1]),
    ]:
        path = "/api/races" if "vary" in body else "/api/sessions"
        refused = client.post(path, json=body)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == loc
    session_id, control, _ = new_session()
    edited = client.patch(f"/api/sessions/{session_id}/config",
                          json={"batch_size": 2**31 - 1}, headers=control)
    assert edited.status_code == 200, edited.text
    stepped = client.post(f"/api/sessions/{session_id}/step", json={"steps": 2}, headers=control)
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()["epoch"] == 2   # a batch past the training set is all of it

"""A request's cost is known from its sizes and bounded before any work starts: a step's record
(batch × nodes) bounds every answer carrying it, steps × batch × weights bounds its time.
Refusals are 422s naming the field and saying what fits."""

import re

import pytest
from support import design_step

from app.config import Settings
from app.worker import cost

BIG = {  # the largest network the limits allow, every feature
    "dataset": "spiral", "points": 5000, "hidden": [16] * 8, "activation": "relu",
    "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"],
}
BIG_LAYERS = [7, *[16] * 8, 1]


def refusal(response, field):
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == field
    return error["msg"]


def test_the_record_and_the_work_are_counted_from_the_sizes():
    assert cost.record_values([2, 3, 1], 10) == 10 * (2 + 3 * 4 + 1)
    assert cost.weights([2, 3, 1]) == 2 * 3 + 3 * 1
    settings = Settings(max_record_values=150, max_request_work=900)
    assert cost.largest_batch(settings, [2, 3, 1]) == 10
    assert cost.most_steps(settings, [2, 3, 1], 10) == 10


def test_a_full_batch_through_the_largest_network_is_refused_with_the_batch_that_fits(client):
    message = refusal(client.post("/api/sessions", json={**BIG, "batch_size": 5000}),
                      "batch_size")
    largest = cost.largest_batch(Settings(), BIG_LAYERS)
    assert f"at most {largest}" in message
    made = client.post("/api/sessions", json={**BIG, "batch_size": largest})
    assert made.status_code == 201, made.text


def test_the_state_of_the_costliest_session_allowed_stays_bounded(make_client):
    client = make_client(max_record_values=20_000)
    largest = cost.largest_batch(client.app.state.settings, BIG_LAYERS)
    made = client.post("/api/sessions", json={**BIG, "batch_size": largest}).json()
    control = {"X-Control-Token": made["token"]}
    client.post(f"/api/sessions/{made['id']}/step", json={"steps": 1}, headers=control)
    read = client.get(f"/api/sessions/{made['id']}")
    record = read.json()["record"]
    assert len(record["layers"][0]["a"]) == largest   # the record is whole, not cut …
    # … and its size follows from the limit: ≤ 24 bytes a value, plus the points and network
    assert len(read.content) < 24 * 20_000 + 400_000


def test_a_batch_size_change_over_the_bound_is_refused_and_changes_nothing(client):
    made = client.post("/api/sessions", json={**BIG, "batch_size": 10}).json()
    control = {"X-Control-Token": made["token"]}
    url = f"/api/sessions/{made['id']}"
    refusal(client.patch(f"{url}/config", json={"batch_size": 5000}, headers=control),
            "batch_size")
    assert client.get(url).json()["config"]["batch_size"] == 10


def test_steps_over_a_requests_work_are_refused_naming_the_most_that_fit(make_client):
    client = make_client(max_request_work=2_000_000)
    made = client.post("/api/sessions", json={"hidden": [8, 8], "batch_size": 100}).json()
    control = {"X-Control-Token": made["token"]}
    url = f"/api/sessions/{made['id']}"
    message = refusal(client.post(f"{url}/step", json={"steps": 10_000}, headers=control),
                      "steps")
    most = int(re.search(r"at most (\d+) steps", message)[1])
    assert most == 2_000_000 // (100 * cost.weights([2, 8, 8, 1]))
    assert client.get(url).json()["step"] == 0   # refused before any work
    taken = client.post(f"{url}/step", json={"steps": most}, headers=control)
    assert taken.status_code == 200 and taken.json()["step"] == most


@pytest.mark.parametrize("route", ["/api/step", "/api/gradcheck"])
def test_a_stateless_request_over_the_record_bound_is_refused_at_inputs(make_client, route):
    client = make_client(max_record_values=100)
    body = design_step()
    body["inputs"], body["targets"] = body["inputs"] * 40, body["targets"] * 40
    if route == "/api/gradcheck":
        body.pop("steps", None)
        body.pop("optimizer", None)
    message = refusal(client.post(route, json=body), "inputs")
    assert "at most 100" in message


def test_api_step_over_a_requests_work_is_refused_at_steps(make_client):
    client = make_client(max_request_work=1_000)
    body = {**design_step(), "steps": 10_000}
    refusal(client.post("/api/step", json=body), "steps")
    body["steps"] = 1
    assert client.post("/api/step", json=body).status_code == 200

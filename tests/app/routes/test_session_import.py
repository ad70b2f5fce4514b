"""Issue 9, rows 4 and 5: an import is validated completely against the export schema (a
forged file is a 422 naming the field, and leaves no session behind), and no cursor, imported
or reached by a divergence, makes a step divide by an empty batch."""

import copy
import json

import pytest

XOR = {"dataset": "xor", "batch_size": 7}


@pytest.fixture
def exported(client, new_session):
    session_id, control, _ = new_session(**XOR)
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 3}, headers=control)
    return client.get(f"/api/sessions/{session_id}/export").json()


def forged(export: dict, path: tuple, value) -> dict:
    export = copy.deepcopy(export)
    target = export
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return export


def post_import(client, body) -> object:
    text = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/sessions/import", content=text,
                       headers={"content-type": "application/json"})


FORGERIES = [
    (("batch_order", 0), 10**6, "batch_order"),
    (("batch_order", 0), -1, "batch_order"),
    (("batch_order", 1), "duplicate", "batch_order"),
    (("batch_cursor",), 10**6, "batch_cursor"),
    (("rng_state", "state", "state"), -5, "rng_state"),
    (("rng_state", "state", "state"), 2**300, "rng_state"),
    (("rng_state", "bit_generator"), "MT19937", "rng_state"),
    (("history",), {}, "history"),
    (("history", "stride"), "1", "stride"),
    (("history", "stride"), 0, "stride"),
    (("history", "stride"), 3, "stride"),
    (("history", "values"), 3, "values"),
    (("history", "values"), ["a", "b"], "values"),
    (("history", "count"), "3", "count"),
    (("optimizer_state", "t"), 10**400, "t"),
    (("optimizer_state", "t"), -1, "t"),
    (("optimizer_state", "name"), "adam", "optimizer_state"),
    (("network", "weights"), [[[1.0]]], "network"),
    (("step",), 2**80, "step"),
]


@pytest.mark.parametrize(("path", "value", "field"), FORGERIES)
def test_a_forged_import_is_a_422_naming_the_field_and_leaves_no_session(
    client, exported, path, value, field
):
    if value == "duplicate":
        value = exported["batch_order"][0]
    before = len(client.app.state.store.sessions)
    response = post_import(client, forged(exported, path, value))
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json()["detail"])
    assert len(client.app.state.store.sessions) == before


@pytest.mark.parametrize("constant", ["Infinity", "NaN", "1e400"])
def test_an_optimizer_t_that_is_not_a_finite_integer_is_a_422(client, exported, constant):
    text = json.dumps(forged(exported, ("optimizer_state", "t"), 12345)).replace("12345", constant)
    response = post_import(client, text)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "t"


def test_an_imported_history_longer_than_any_export_is_refused(client, exported):
    history = {"stride": 1, "count": 200_000, "values": [0.5] * 200_000}
    response = post_import(client, forged(exported, ("history",), history))
    assert response.status_code == 422
    assert "values" in json.dumps(response.json()["detail"])


def test_an_untouched_export_still_imports_and_continues(client, exported):
    response = post_import(client, exported)
    assert response.status_code == 201, response.text
    assert response.json()["state"]["step"] == exported["step"]


def test_an_export_without_blocks_from_an_older_version_still_imports(client, exported):
    old = {"stride": 1, "count": 3, "values": exported["history"]["values"]}
    assert post_import(client, forged(exported, ("history",), old)).status_code == 201


def test_an_imported_cursor_at_the_end_of_the_order_starts_the_next_epoch(client, exported):
    end = forged(exported, ("batch_cursor",), len(exported["batch_order"]))
    made = post_import(client, end).json()
    control = {"X-Control-Token": made["token"]}
    stepped = client.post(f"/api/sessions/{made['id']}/step", json={"steps": 2}, headers=control)
    assert stepped.status_code == 200
    assert stepped.json()["epoch"] == exported["epoch"] + 1
    assert len(stepped.json()["record"]["inputs"]) == XOR["batch_size"]


def test_a_hand_edit_after_a_divergence_on_an_epochs_last_batch_steps_on(client, exported):
    """Diverged at the last batch of an epoch (an imported diverged state whose cursor is at
    the last, short batch); a hand edit, then steps: real batches, never an empty one."""
    rows = len(exported["batch_order"])
    last = rows - rows % XOR["batch_size"]
    state = forged(forged(exported, ("batch_cursor",), last), ("status",), "diverged")
    made = post_import(client, state).json()
    control = {"X-Control-Token": made["token"]}
    edit = {"kind": "b", "layer": 1, "i": 0, "value": 0.0}
    path = f"/api/sessions/{made['id']}"
    assert client.put(f"{path}/parameter", json=edit, headers=control).status_code == 200
    for _ in range(3):
        stepped = client.post(f"{path}/step", json={"steps": 1}, headers=control)
        assert stepped.status_code == 200
        assert len(stepped.json()["record"]["inputs"]) > 0


def test_a_step_from_a_cursor_left_at_an_epochs_end_takes_the_next_epochs_first_batch():
    """Whatever leaves the cursor at the end (a divergence on an epoch's last batch did), the
    next step starts the next epoch instead of dividing by an empty batch."""
    from engine.trainer import RunConfig, Trainer

    trainer = Trainer(RunConfig(dataset="xor", points=40, batch_size=7))
    trainer._cursor = len(trainer._order)
    trainer.step(1)
    assert trainer.epoch == 1
    assert len(trainer.last_batch[0]) == 7
    assert trainer.step_count == 1


# --- issue 20, row 8: nothing beyond the network's layers -------------------------------


@pytest.fixture
def exported_adam(client, new_session):
    session_id, control, _ = new_session(**XOR, optimizer={"name": "adam", "learning_rate": 0.01})
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 2}, headers=control)
    return client.get(f"/api/sessions/{session_id}/export").json()


def appended(export: dict, path: tuple, extra) -> dict:
    """`export` with `extra` after the last entry of the list at `path`."""
    target = export = copy.deepcopy(export)
    for key in path:
        target = target[key]
    target.append(extra)
    return export


@pytest.mark.parametrize(("path", "extra"), [
    (("network", "weights"), [[0.0]]),   # an extra trailing weight layer (2 → 1 after 1)
    (("network", "biases"), [0.0]),      # an extra trailing bias row
    (("optimizer_state", "m", "weights"), [[0.0]]),
    (("optimizer_state", "v", "biases"), [0.0]),
])
def test_an_import_with_anything_beyond_the_networks_layers_is_a_422_naming_it(
        client, exported_adam, path, extra):
    layers = len(exported_adam["network"]["weights"])
    before = len(client.app.state.store.sessions)
    response = post_import(client, appended(exported_adam, path, extra))
    assert response.status_code == 422, response.text
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", *path, layers]
    assert problem["msg"].startswith(f"{'.'.join(path)}: needs ")
    assert f"{path[-1]}[{layers}] is beyond the network's {layers} layers" in problem["msg"]
    assert len(client.app.state.store.sessions) == before


def test_a_step_whose_optimizer_state_has_an_extra_layer_is_a_422_naming_it(client):
    from support import design_step

    body = design_step(optimizer={"name": "adam", "learning_rate": 0.1})
    state = client.post("/api/step", json=body).json()["optimizer_state"]
    state["m"]["weights"].append([[0.0]])
    response = client.post("/api/step", json={**body, "optimizer_state": state})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "optimizer_state", "m", "weights", 2]

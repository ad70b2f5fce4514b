"""Sessions over REST: create, control with the token only, reset, phases, export and import."""

import numpy as np
import pytest
from support import call, step

CONTROL = [
    ("post", "step", {"steps": 1}),
    ("post", "play", {"speed": 1.0}),
    ("post", "pause", None),
    ("post", "reset", None),
    ("post", "phase", {"direction": "next"}),
    ("patch", "config", {"learning_rate": 0.1}),
    ("put", "parameter", {"kind": "b", "layer": 1, "i": 0, "value": 0.5}),
    ("post", "save", None),
    ("delete", "", None),
]


def test_create_answers_201_with_id_token_watch_url_and_join_code(client):
    response = client.post("/api/sessions", json={})
    assert response.status_code == 201
    body = response.json()
    assert {"id", "token", "watch_url", "join_code", "state"} <= set(body)
    assert body["watch_url"] == f"/watch/{body['id']}"
    assert body["state"]["id"] == body["id"] and body["state"]["step"] == 0


def test_create_with_no_body_fields_uses_the_tensorflow_playground_defaults(new_session):
    _, _, body = new_session()
    config = body["state"]["config"]
    assert config["dataset"] == "circle" and config["hidden"] == [4, 2]
    assert config["activation"] == "tanh" and config["batch_size"] == 10
    assert config["optimizer"] == {"name": "sgd", "learning_rate": 0.03}
    assert body["state"]["layers"] == [2, 4, 2, 1]


@pytest.mark.parametrize(("method", "action", "body"), CONTROL)
@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_control_without_the_right_token_is_403(client, new_session, method, action, body, token):
    session_id, _, _ = new_session()
    headers = {} if token is None else {"X-Control-Token": token}
    response = call(client, method, session_id, action, body, headers)
    assert response.status_code == 403
    assert "X-Control-Token" in response.json()["detail"]
    assert client.get(f"/api/sessions/{session_id}").json()["step"] == 0


def test_another_sessions_token_does_not_control_this_one(client, new_session):
    session_id, _, _ = new_session()
    _, other_control, _ = new_session()
    response = call(client, "post", session_id, "step", {"steps": 1}, other_control)
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["", "/export", "/history.json", "/qr.svg"])
def test_reads_work_without_a_token(client, new_session, path):
    session_id, _, _ = new_session()
    assert client.get(f"/api/sessions/{session_id}{path}").status_code == 200


def test_ids_and_tokens_are_long_random_strings(client, new_session):
    made = [new_session()[2] for _ in range(5)]
    ids, tokens = {m["id"] for m in made}, {m["token"] for m in made}
    assert len(ids) == len(tokens) == 5
    assert all(len(i) >= 16 for i in ids) and all(len(t) >= 32 for t in tokens)
    assert not ids & tokens


def test_unknown_session_is_404(client):
    assert client.get("/api/sessions/no-such-session").status_code == 404


def test_step_n_takes_n_steps(client, new_session):
    session_id, control, _ = new_session()
    state = step(client, session_id, control, 60)
    assert state["step"] == 60
    assert state["epoch"] == 2  # 250 training points in batches of 10: 25 steps an epoch
    assert state["record"]["loss"] is not None and state["status"] == "paused"


def test_reset_returns_to_the_same_start_bit_for_bit(client, new_session):
    session_id, control, created = new_session(seed=5)
    step(client, session_id, control, 20)
    state = client.post(f"/api/sessions/{session_id}/reset", headers=control).json()
    assert state["step"] == 0 and state["record"] is None
    assert state["network"] == created["state"]["network"]


def test_reset_network_equals_a_fresh_session_with_the_same_seed(client, new_session):
    session_id, control, _ = new_session(seed=5)
    step(client, session_id, control, 20)
    reset = client.post(f"/api/sessions/{session_id}/reset", headers=control).json()
    _, _, fresh = new_session(seed=5)
    _, _, other = new_session(seed=6)
    assert reset["network"] == fresh["state"]["network"]
    assert reset["network"] != other["state"]["network"]


def test_steps_after_reset_repeat_the_first_run_exactly(client, new_session):
    session_id, control, _ = new_session(seed=2)
    first = step(client, session_id, control, 15)
    client.post(f"/api/sessions/{session_id}/reset", headers=control)
    again = step(client, session_id, control, 15)
    assert again["network"] == first["network"] and again["record"] == first["record"]


def test_learning_rate_changes_live_and_the_next_update_uses_it(client, new_session):
    session_id, control, _ = new_session()
    step(client, session_id, control, 3)
    response = client.patch(
        f"/api/sessions/{session_id}/config", json={"learning_rate": 0.5}, headers=control
    )
    assert response.json()["config"]["optimizer"]["learning_rate"] == 0.5
    record = step(client, session_id, control)["record"]
    gradient = np.array(record["gradients"]["weights"][0])
    np.testing.assert_allclose(record["updates"]["weights"][0], -0.5 * gradient, rtol=1e-15)


def test_one_weight_set_by_hand_is_in_the_network(client, new_session):
    session_id, control, _ = new_session()
    edit = {"kind": "W", "layer": 2, "i": 3, "j": 1, "value": 1.25}
    state = client.put(f"/api/sessions/{session_id}/parameter", json=edit, headers=control).json()
    assert state["network"]["weights"][1][3][1] == 1.25
    assert step(client, session_id, control)["record"]["weights_before"][1][3][1] == 1.25


def test_a_weight_outside_the_network_is_a_422(client, new_session):
    session_id, control, _ = new_session()
    edit = {"kind": "W", "layer": 2, "i": 9, "j": 1, "value": 1.0}
    response = client.put(f"/api/sessions/{session_id}/parameter", json=edit, headers=control)
    assert response.status_code == 422


def test_phase_stepping_walks_forward_loss_backward_update_then_a_new_step(client, new_session):
    session_id, control, _ = new_session()  # L = 3
    walked = []
    for _ in range(9):
        state = client.post(
            f"/api/sessions/{session_id}/phase", json={"direction": "next"}, headers=control
        ).json()
        walked.append((state["phase"]["name"], state["phase"]["layer"], state["step"]))
    assert walked == [
        ("forward", 1, 1), ("forward", 2, 1), ("forward", 3, 1),
        ("loss", None, 1),
        ("backward", 3, 1), ("backward", 2, 1), ("backward", 1, 1),
        ("update", None, 1),
        ("forward", 1, 2),
    ]  # fmt: skip
    assert state["phase"]["count"] == 8


def test_phase_next_after_a_step_walks_that_step_from_its_start(client, new_session):
    session_id, control, _ = new_session()
    taken = step(client, session_id, control, 3)
    state = client.post(
        f"/api/sessions/{session_id}/phase", json={"direction": "next"}, headers=control
    ).json()
    assert (state["phase"]["name"], state["phase"]["layer"], state["step"]) == ("forward", 1, 3)
    assert state["record"] == taken["record"]   # the step `s` took, not another one


def test_phase_prev_goes_back_without_stepping(client, new_session):
    session_id, control, _ = new_session()
    for _ in range(3):
        client.post(f"/api/sessions/{session_id}/phase", json={}, headers=control)
    state = client.post(
        f"/api/sessions/{session_id}/phase", json={"direction": "prev"}, headers=control
    ).json()
    assert (state["phase"]["name"], state["phase"]["layer"], state["step"]) == ("forward", 2, 1)


@pytest.mark.parametrize("optimizer", [{"name": "sgd"}, {"name": "adam"}, {"name": "momentum"}])
def test_export_then_import_continues_identically(client, new_session, optimizer):
    session_id, control, _ = new_session(optimizer=optimizer, seed=4, batch_size=7)
    step(client, session_id, control, 23)  # mid-epoch: the batch order must carry over
    export = client.get(f"/api/sessions/{session_id}/export").json()
    imported = client.post("/api/sessions/import", json=export)
    assert imported.status_code == 201
    copy_id, copy_control = imported.json()["id"], {"X-Control-Token": imported.json()["token"]}
    original = step(client, session_id, control, 11)
    copied = step(client, copy_id, copy_control, 11)
    assert copied["network"] == original["network"]
    assert copied["optimizer_state"] == original["optimizer_state"]
    assert (copied["step"], copied["epoch"]) == (original["step"], original["epoch"])
    assert (
        client.get(f"/api/sessions/{copy_id}/export").json()["history"]
        == client.get(f"/api/sessions/{session_id}/export").json()["history"]
    )


def test_delete_ends_the_session(client, new_session):
    session_id, control, _ = new_session()
    assert client.delete(f"/api/sessions/{session_id}", headers=control).status_code == 204
    assert client.get(f"/api/sessions/{session_id}").status_code == 404


def test_idle_sessions_expire(make_client):
    client = make_client(session_idle_seconds=0)
    session_id = client.post("/api/sessions", json={}).json()["id"]
    assert client.app.state.store.expire() == [session_id]
    assert client.get(f"/api/sessions/{session_id}").status_code == 404


def test_sessions_in_use_do_not_expire(make_client):
    client = make_client(session_idle_seconds=3600)
    client.post("/api/sessions", json={})
    assert client.app.state.store.expire() == []


def test_the_session_cap_refuses_another_when_all_are_in_use(make_client):
    client = make_client(max_sessions=2)
    for _ in range(2):
        made = client.post("/api/sessions", json={}).json()
        client.post(
            f"/api/sessions/{made['id']}/play",
            json={"speed": 1},
            headers={"X-Control-Token": made["token"]},
        )
    refused = client.post("/api/sessions", json={})
    assert refused.status_code == 503
    assert "at most 2 sessions" in refused.json()["detail"]


def test_at_the_cap_the_least_recently_used_idle_session_makes_room(make_client):
    client = make_client(max_sessions=2, eviction_grace_seconds=0)
    first, second = (client.post("/api/sessions", json={}).json() for _ in range(2))
    client.post(
        f"/api/sessions/{first['id']}/step",
        json={"steps": 1},
        headers={"X-Control-Token": first["token"]},
    )  # first is now the fresher
    assert client.post("/api/sessions", json={}).status_code == 201
    assert client.get(f"/api/sessions/{second['id']}").status_code == 404
    assert client.get(f"/api/sessions/{first['id']}").status_code == 200


def test_a_deleted_session_frees_its_place_under_the_cap(make_client):
    client = make_client(max_sessions=1)
    made = client.post("/api/sessions", json={}).json()
    client.delete(f"/api/sessions/{made['id']}", headers={"X-Control-Token": made["token"]})
    assert client.post("/api/sessions", json={}).status_code == 201


def test_a_live_optimizer_change_shows_in_the_config_with_only_that_optimizers_fields(
    client, new_session
):
    session_id, control, _ = new_session()
    adam = {"name": "adam", "learning_rate": 0.01, "beta1": 0.8, "beta2": 0.999, "epsilon": 1e-8}
    client.patch(f"/api/sessions/{session_id}/config", json={"optimizer": adam}, headers=control)
    state = client.patch(
        f"/api/sessions/{session_id}/config", json={"learning_rate": 0.05}, headers=control
    ).json()
    assert state["config"]["optimizer"] == {**adam, "learning_rate": 0.05}
    exported = client.get(f"/api/sessions/{session_id}/export").json()
    imported = client.post("/api/sessions/import", json=exported).json()
    assert imported["state"]["config"]["optimizer"] == {**adam, "learning_rate": 0.05}

"""One class, one session: a structural change (PUT …/config, PUT …/preset/{name}) rebuilds the
network inside the same session, its followers sent the new state; a reset or a structural
change is taken back by POST …/undo, to exactly the state before."""


import pytest
from support_stream import next_state, state_of

from app.worker.undo import UNDO_DEPTH


def test_a_structural_change_keeps_the_session_and_its_follower(client, new_session):
    session_id, control, made = new_session()
    with client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        assert next_state(ws)["layers"] == [2, 4, 2, 1]
        answer = client.put(f"/api/sessions/{session_id}/config", headers=control,
                            json={"dataset": "xor", "hidden": [4, 2, 3]})
        assert answer.status_code == 200, answer.text
        rebuilt = next_state(ws)
    assert rebuilt["id"] == session_id and rebuilt["join_code"] == made["join_code"]
    assert rebuilt["layers"] == [2, 4, 2, 3, 1] and rebuilt["config"]["dataset"] == "xor"
    assert answer.json()["undo"] == 1
    assert client.get(f"/join/{made['join_code']}", follow_redirects=False).headers[
        "location"] == f"/watch/{session_id}"


def test_a_preset_opens_in_the_same_session(client, new_session):
    session_id, control, made = new_session()
    answer = client.put(f"/api/sessions/{session_id}/preset/worked_example", headers=control)
    assert answer.status_code == 200, answer.text
    state = answer.json()
    assert state["id"] == session_id and state["join_code"] == made["join_code"]
    assert state["network"]["weights"][0] == [[0.15, 0.25], [0.2, 0.3]]
    unknown = client.put(f"/api/sessions/{session_id}/preset/nosuch", headers=control)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["path", "name"]


def test_undo_of_a_reset_brings_back_the_exact_state_and_it_trains_on_identically(client,
                                                                                new_session):
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 37}, headers=control)
    client.post(f"/api/sessions/{session_id}/phase", json={"direction": "next"}, headers=control)
    before = state_of(client, session_id)
    assert client.post(f"/api/sessions/{session_id}/reset", headers=control).json()["step"] == 0
    undone = client.post(f"/api/sessions/{session_id}/undo", headers=control)
    assert undone.status_code == 200 and undone.json()["undo"] == 0
    assert state_of(client, session_id) == before   # record and phase included
    after_undo = client.post(f"/api/sessions/{session_id}/step", json={"steps": 5},
                             headers=control).json()

    other_id, other, _ = new_session()   # the same run, never reset (the phase walks step 37)
    client.post(f"/api/sessions/{other_id}/step", json={"steps": 37}, headers=other)
    straight = client.post(f"/api/sessions/{other_id}/step", json={"steps": 5},
                           headers=other).json()
    assert after_undo["network"] == straight["network"]


def test_undo_takes_back_structural_changes_newest_first(client, new_session):
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 12}, headers=control)
    first = state_of(client, session_id)
    client.put(f"/api/sessions/{session_id}/config", headers=control, json={"hidden": [3]})
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 4}, headers=control)
    second = state_of(client, session_id)
    client.put(f"/api/sessions/{session_id}/preset/xor", headers=control)
    client.post(f"/api/sessions/{session_id}/undo", headers=control)
    assert state_of(client, session_id) == second
    client.post(f"/api/sessions/{session_id}/undo", headers=control)
    assert state_of(client, session_id) == first


def test_a_follower_is_sent_the_undone_state(client, new_session):
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 9}, headers=control)
    client.post(f"/api/sessions/{session_id}/reset", headers=control)
    with client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        assert next_state(ws)["step"] == 0
        client.post(f"/api/sessions/{session_id}/undo", headers=control)
        assert next_state(ws)["step"] == 9


def test_nothing_to_undo_is_a_409_that_says_so(client, new_session):
    session_id, control, _ = new_session()
    answer = client.post(f"/api/sessions/{session_id}/undo", headers=control)
    assert answer.status_code == 409 and "no reset" in answer.json()["detail"]


@pytest.mark.parametrize("method, path, body", [
    ("POST", "undo", None), ("PUT", "config", {"hidden": [3]}), ("PUT", "preset/xor", None)])
def test_undo_and_structural_changes_need_the_control_token(client, new_session, method, path,
                                                           body):
    session_id, _, _ = new_session()
    answer = client.request(method, f"/api/sessions/{session_id}/{path}", json=body)
    assert answer.status_code == 403


def test_a_bad_config_is_a_422_naming_the_field_and_the_session_stays(client, new_session):
    session_id, control, _ = new_session()
    answer = client.put(f"/api/sessions/{session_id}/config", headers=control,
                        json={"hidden": [3], "dataset": "nosuch"})
    assert answer.status_code == 422 and "dataset" in answer.text
    assert state_of(client, session_id)["layers"] == [2, 4, 2, 1]


def test_the_undo_stack_keeps_the_newest_changes_only(client, new_session):
    session_id, control, _ = new_session()
    for _ in range(UNDO_DEPTH + 3):
        state = client.post(f"/api/sessions/{session_id}/reset", headers=control).json()
    assert state["undo"] == UNDO_DEPTH

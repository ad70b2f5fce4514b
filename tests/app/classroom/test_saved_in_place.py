"""A saved session opened by a teacher who has a session of their own (PUT …/saved/{code}) goes
on in that session, in place: the same id, join code and followers, who are sent its state and
never hear "end"; the session is then exactly the saved one, and undo takes it back."""

import json

from support_stream import next_state, state_of

XOR = {"dataset": "xor", "hidden": [3], "seed": 5}


def saved(client, new_session) -> tuple[str, dict]:
    """A session trained 25 steps, saved; its code and its state then."""
    other, control, _ = new_session(**XOR)
    client.post(f"/api/sessions/{other}/step", json={"steps": 25}, headers=control)
    code = client.post(f"/api/sessions/{other}/save", headers=control).json()["code"]
    return code, state_of(client, other)


def test_a_saved_session_loads_into_the_teachers_session_and_its_class_stays(client,
                                                                            new_session):
    code, was = saved(client, new_session)
    session_id, control, made = new_session()
    with client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        assert next_state(ws)["layers"] == [2, 4, 2, 1]
        answer = client.put(f"/api/sessions/{session_id}/saved/{code}", headers=control)
        assert answer.status_code == 200, answer.text
        loaded = next_state(ws)   # a state, not an "end": the follower stays
    assert loaded["id"] == session_id and loaded["join_code"] == made["join_code"]
    now = state_of(client, session_id)
    assert (now["step"], now["network"], now["config"]) == (was["step"], was["network"],
                                                            was["config"])
    assert now["status"] == "paused" and answer.json()["undo"] == 1


def test_the_loaded_session_trains_on_as_the_saved_one_would(client, new_session):
    code, _ = saved(client, new_session)
    opened = client.post(f"/api/saved/{code}/open").json()   # the saved one, as a new session
    session_id, control, _ = new_session()
    client.put(f"/api/sessions/{session_id}/saved/{code}", headers=control)
    for sid, token in ((session_id, control), (opened["id"], {"X-Control-Token": opened["token"]})):
        client.post(f"/api/sessions/{sid}/step", json={"steps": 10}, headers=token)
    assert state_of(client, session_id)["network"] == state_of(client, opened["id"])["network"]


def test_undo_takes_a_loaded_session_back(client, new_session):
    code, _ = saved(client, new_session)
    session_id, control, _ = new_session()
    client.post(f"/api/sessions/{session_id}/step", json={"steps": 3}, headers=control)
    before = state_of(client, session_id)
    client.put(f"/api/sessions/{session_id}/saved/{code}", headers=control)
    assert client.post(f"/api/sessions/{session_id}/undo", headers=control).status_code == 200
    assert state_of(client, session_id)["network"] == before["network"]


def test_loading_needs_the_token_and_a_saved_code(client, new_session):
    code, _ = saved(client, new_session)
    session_id, control, _ = new_session()
    assert client.put(f"/api/sessions/{session_id}/saved/{code}").status_code == 403
    missing = client.put(f"/api/sessions/{session_id}/saved/NOPE", headers=control)
    assert missing.status_code == 404 and "no saved session" in json.dumps(missing.json())

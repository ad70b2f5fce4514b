"""A learning rate that overflows marks the session diverged; JSON stays valid everywhere."""

from support import DIVERGING, design_step, strict_json


def diverge(client, new_session):
    session_id, control, _ = new_session(**DIVERGING)
    response = client.post(f"/api/sessions/{session_id}/step", json={"steps": 200}, headers=control)
    return session_id, control, response


def test_an_overflowing_session_is_marked_diverged(client, new_session):
    _, _, response = diverge(client, new_session)
    assert response.status_code == 200
    state = strict_json(response.text)
    assert state["status"] == "diverged" and state["record"]["diverged"] is True
    assert state["step"] < 200


def test_a_diverged_sessions_state_and_export_are_strict_json(client, new_session):
    session_id, _, _ = diverge(client, new_session)
    for path in ("", "/export"):
        response = client.get(f"/api/sessions/{session_id}{path}")
        assert response.status_code == 200
        strict_json(response.text)


def test_a_diverged_sessions_history_json_is_strict_json(client, new_session):
    session_id, _, _ = diverge(client, new_session)
    response = client.get(f"/api/sessions/{session_id}/history.json")
    assert response.status_code == 200
    strict_json(response.text)


def test_a_diverged_session_does_not_play(client, new_session):
    session_id, control, _ = diverge(client, new_session)
    response = client.post(f"/api/sessions/{session_id}/play", json={}, headers=control)
    assert strict_json(response.text)["status"] == "diverged"


def test_a_diverged_sessions_frames_are_strict_json_and_say_diverged(client, new_session):
    session_id, control, _ = new_session(**DIVERGING)
    with client.websocket_connect(f"/api/sessions/{session_id}/stream") as ws:
        client.post(f"/api/sessions/{session_id}/play", json={}, headers=control)
        while True:
            message = strict_json(ws.receive_text())
            if message["type"] == "frame" and message["diverged"]:
                break
    assert message["status"] == "diverged"
    assert all(v is None or isinstance(v, float) for v in message["metrics"].values())


def test_the_server_still_answers_after_a_session_diverged(client, new_session):
    diverge(client, new_session)
    assert client.post("/api/step", json=design_step()).status_code == 200
    assert client.post("/api/sessions", json={}).status_code == 201


def test_setting_a_weight_by_hand_lifts_the_diverged_status(client, new_session):
    session_id, control, _ = diverge(client, new_session)
    edit = {"kind": "b", "layer": 1, "i": 0, "value": 0.0}
    state = client.put(f"/api/sessions/{session_id}/parameter", json=edit, headers=control).json()
    assert state["status"] == "paused"

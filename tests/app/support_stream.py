"""Following a session in tests: play it, pause it, read its stream until a message comes."""

import json

from support import strict_json


def play(client, session_id, control, speed=None):
    response = client.post(
        f"/api/sessions/{session_id}/play", json={"speed": speed}, headers=control
    )
    assert response.status_code == 200


def pause(client, session_id, control) -> int:
    return client.post(f"/api/sessions/{session_id}/pause", headers=control).json()["step"]


def follow_until(websocket, done) -> list[dict]:
    """Every message (parsed strictly) up to and including the first for which done(m)."""
    messages = []
    while True:
        message = strict_json(websocket.receive_text())
        messages.append(message)
        if done(message):
            return messages


def paused_at(step):
    return lambda m: m["type"] == "frame" and m["status"] == "paused" and m["step"] == step


def stream_url(session_id):
    return f"/api/sessions/{session_id}/stream"


# Fields that say who watches and what can be undone, not the session's training state.
AROUND = ("followers", "undo")


def state_of(client, session_id):
    state = client.get(f"/api/sessions/{session_id}").json()
    return {k: v for k, v in state.items() if k not in AROUND}


def next_state(ws):
    """The next `state` message a follower receives (frames and the rest skipped)."""
    while True:
        message = json.loads(ws.receive_text())
        if message["type"] == "state":
            return message


def present(client, name="runnable"):
    created = client.post(f"/api/lessons/{name}/present")
    assert created.status_code == 201, created.text
    body = created.json()
    return body["id"], {"X-Control-Token": body["token"]}


def follow_until_lesson(websocket, slide):
    while True:
        message = websocket.receive_json()
        if message["type"] == "lesson" and message["slide"] == slide:
            return message

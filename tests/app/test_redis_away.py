"""An instance set up for Redis (BACKPROP_REDIS_URL) whose Redis is away: sessions are still
made, controlled and followed on it; saving says why it cannot (503)."""

import socket


def closed_port() -> int:
    with socket.socket() as s:   # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_instance_whose_redis_is_away_still_serves_its_sessions(make_client):
    client = make_client(redis_url=f"redis://127.0.0.1:{closed_port()}/0", workers=1)
    made = client.post("/api/sessions", json={"dataset": "xor", "hidden": [2]})
    assert made.status_code == 201, made.text
    session, token = made.json()["id"], {"X-Control-Token": made.json()["token"]}
    assert client.post(f"/api/sessions/{session}/step", json={"steps": 3},
                       headers=token).json()["step"] == 3
    joined = client.get(f"/api/join/{made.json()['join_code']}")
    assert joined.status_code == 200 and joined.json()["id"] == session
    with client.websocket_connect(f"/api/sessions/{session}/stream") as ws:
        assert ws.receive_json()["type"] == "state"
    saved = client.post(f"/api/sessions/{session}/save", headers=token)
    assert saved.status_code == 503 and "Redis" in saved.json()["detail"]


def test_one_of_several_instances_says_races_run_on_a_single_instance(make_client):
    client = make_client(redis_url=f"redis://127.0.0.1:{closed_port()}/0", workers=1)
    refused = client.post("/api/races", json={"vary": {"learning_rate": [0.1, 1]}})
    assert refused.status_code == 501
    assert "single instance" in refused.json()["detail"]
    assert client.post("/api/sessions", json={}).status_code == 201   # sessions go on

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


def test_races_run_on_an_instance_of_several_and_its_lanes_carry_the_race_id(make_client):
    """Several instances run races too: a race lives on one, its lanes' ids "<race id>.<n>"
    (nginx hashes them by the race's id); with Redis away it still runs here."""
    client = make_client(redis_url=f"redis://127.0.0.1:{closed_port()}/0", workers=1)
    made = client.post("/api/races", json={"vary": {"learning_rate": [0.1, 1]}})
    assert made.status_code == 201, made.text
    race, token = made.json()["id"], {"X-Control-Token": made.json()["token"]}
    lanes = [lane["id"] for lane in made.json()["state"]["lanes"]]
    assert lanes == [f"{race}.0", f"{race}.1"]
    stepped = client.post(f"/api/races/{race}/step", json={"steps": 4}, headers=token)
    assert stepped.status_code == 200 and stepped.json()["step"] == 4
    assert client.get(f"/api/sessions/{lanes[1]}").json()["step"] == 4
    assert client.get(f"/race/{race}").status_code == 200
    copied = client.post(f"/api/sessions/{lanes[0]}/copy")
    assert copied.status_code == 201 and copied.json()["state"]["step"] == 4
    with client.websocket_connect(f"/api/races/{race}/stream") as ws:
        assert ws.receive_json()["type"] == "race_state"
    assert client.delete(f"/api/races/{race}", headers=token).status_code == 204

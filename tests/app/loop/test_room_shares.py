"""The room is shared fairly (app/loop/store.py): one client address holds at most its share of
the live sessions, so a script cannot take the room from everyone else; past its share its
own least recently used idle session makes room, and reads keep no session from going."""

import time

from fastapi.testclient import TestClient

from app.config import Settings
from app.loop.store import SessionStore
from app.main import create_app

SCRIPT, CLASS = "198.51.100.7", "203.0.113.9"


def create(client):
    return client.post("/api/sessions", json={})


def test_one_address_fills_its_share_and_another_still_creates(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, max_sessions=6, sessions_per_address=3))
    with TestClient(app, client=(SCRIPT, 1)) as script:
        made = [create(script).json() for _ in range(3)]
        for _ in range(10):   # a script creating on and on
            assert create(script).status_code == 201
        store = app.state.store
        assert sum(h.owner == SCRIPT for h in store.sessions.values()) == 3
        assert all(store.get(m["id"]) is None for m in made)   # its oldest went, nobody else's
        other = TestClient(app, client=(CLASS, 1))
        assert [create(other).status_code for _ in range(3)] == [201] * 3
        assert sum(h.owner == CLASS for h in store.sessions.values()) == 3


def test_past_its_share_the_least_recently_used_goes_and_a_read_does_not_save_it(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, sessions_per_address=3))
    with TestClient(app, client=(SCRIPT, 1)) as client:
        first, second, third = (create(client).json() for _ in range(3))
        for made in (first, second, third):   # read since, all of them
            assert client.get(f"/api/sessions/{made['id']}").status_code == 200
        paused = client.post(f"/api/sessions/{first['id']}/pause",
                             headers={"X-Control-Token": first["token"]})
        assert paused.status_code == 200   # control is a use: the first is the most recent
        assert create(client).status_code == 201
        assert client.get(f"/api/sessions/{second['id']}").status_code == 404
        assert client.get(f"/api/sessions/{first['id']}").status_code == 200
        assert client.get(f"/api/sessions/{third['id']}").status_code == 200


def test_past_its_share_with_every_session_in_use_a_create_gets_429_naming_the_limit(
    make_client,
):
    client = make_client(sessions_per_address=2)
    for _ in range(2):
        made = create(client).json()
        played = client.post(f"/api/sessions/{made['id']}/play", json={"speed": 1},
                             headers={"X-Control-Token": made["token"]})
        assert played.status_code == 200
    refused = create(client)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "at most 2 sessions from one address" in refused.json()["detail"]
    assert "BACKPROP_SESSIONS_PER_ADDRESS" in refused.json()["detail"]
    assert len(client.app.state.store.sessions) == 2


def test_a_follower_coming_or_going_is_a_use():
    store = SessionStore(max_sessions=4, idle_seconds=3600, per_address=2)
    handle = store.create(0, owner=SCRIPT)
    for followers in (1, 0):
        handle.touched -= 1000
        before = time.monotonic()
        handle.watched(followers)
        assert handle.touched >= before


def test_the_defaults_let_a_class_behind_one_nat_through_and_leave_room_for_others():
    settings = Settings()
    assert settings.sessions_per_address >= 100   # a class of 100 behind one address
    # a whole share left for others, and another class besides
    assert settings.max_sessions - settings.sessions_per_address >= settings.sessions_per_address

"""Fair eviction and creates per client: a session goes only when idle past a grace period,
never because of someone else's burst; one address's creates are rate-limited; at the cap a
create answers a clear 503 with Retry-After at once, and a create never hangs."""

import asyncio
import contextlib
import time

from fastapi.testclient import TestClient

from app.config import Settings
from app.loop.ratelimit import CreateLimiter
from app.main import create_app


def create(client, **config):
    return client.post("/api/sessions", json=config)


def age(client, session_id, seconds):
    """As if the session had last been used `seconds` ago."""
    client.app.state.store.get(session_id).touched -= seconds


def test_a_burst_of_creates_at_the_cap_never_ends_a_session_used_within_the_grace(make_client):
    client = make_client(max_sessions=2, eviction_grace_seconds=600)
    notebook = create(client).json()
    create(client)
    age(client, notebook["id"], 599)   # paused, nobody watching, used ten minutes ago
    burst = [create(client) for _ in range(20)]
    assert {r.status_code for r in burst} == {503}
    assert client.get(f"/api/sessions/{notebook['id']}").status_code == 200


def test_at_the_cap_a_session_idle_past_the_grace_makes_room(make_client):
    client = make_client(max_sessions=2, eviction_grace_seconds=600)
    old, recent = create(client).json(), create(client).json()
    age(client, old["id"], 601)
    assert create(client).status_code == 201
    assert client.get(f"/api/sessions/{old['id']}").status_code == 404
    assert client.get(f"/api/sessions/{recent['id']}").status_code == 200


def test_at_the_cap_the_503_says_when_a_place_may_free_up(make_client):
    client = make_client(max_sessions=1, eviction_grace_seconds=600)
    made = create(client).json()
    age(client, made["id"], 500)
    refused = create(client)
    assert refused.status_code == 503
    assert 99 <= int(refused.headers["Retry-After"]) <= 101
    assert "try again in" in refused.json()["detail"]


def test_a_read_is_no_use_for_the_grace_and_control_is(make_client):
    client = make_client(max_sessions=1, eviction_grace_seconds=600)
    made = create(client).json()
    age(client, made["id"], 700)
    for path in ("", "/export", "/graph", "/history.json"):   # a script that only reads
        client.get(f"/api/sessions/{made['id']}{path}")
    paused = client.post(f"/api/sessions/{made['id']}/pause",
                         headers={"X-Control-Token": made["token"]})
    assert paused.status_code == 200
    assert create(client).status_code == 503   # the pause was a use
    age(client, made["id"], 700)
    client.get(f"/api/sessions/{made['id']}")
    assert create(client).status_code == 201   # the read was not
    assert client.get(f"/api/sessions/{made['id']}").status_code == 404


def test_creates_beyond_an_addresses_burst_get_429_with_retry_after(make_client):
    client = make_client(create_burst=3, creates_per_minute=6)
    assert [create(client).status_code for _ in range(3)] == [201] * 3
    refused = create(client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "10"
    assert "too many new sessions" in refused.json()["detail"]


def test_every_route_that_makes_a_session_is_rate_limited(make_client):
    client = make_client(create_burst=2, creates_per_minute=1)
    made = create(client).json()
    exported = client.get(f"/api/sessions/{made['id']}/export").json()
    assert client.post("/api/sessions/import", json=exported).status_code == 201
    for path in ("/api/sessions", "/api/sessions/import", "/api/presets/xor",
                 f"/api/sessions/{made['id']}/copy", "/api/saved/abcdefgh/open"):
        body = exported if path.endswith("import") else {}
        assert client.post(path, json=body).status_code == 429, path


def test_another_address_keeps_its_own_creates(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, create_burst=1, creates_per_minute=1))
    with TestClient(app, client=("10.0.0.1", 1)) as one:
        assert create(one).status_code == 201
        assert create(one).status_code == 429
        other = TestClient(app, client=("10.0.0.2", 1))
        assert create(other).status_code == 201


def test_the_default_limit_lets_a_class_behind_one_nat_start_at_once():
    limiter = CreateLimiter(Settings().creates_per_minute, Settings().create_burst)
    assert all(limiter.take("192.0.2.1", now=0.0) is None for _ in range(90))


def test_a_bucket_refills_at_its_rate():
    limiter = CreateLimiter(per_minute=60, burst=1)
    assert limiter.take("a", now=0.0) is None
    assert limiter.take("a", now=0.5) == 0.5
    assert limiter.take("a", now=1.0) is None


def test_a_create_whose_worker_does_not_answer_gets_a_prompt_503_and_leaves_nothing(
    make_client,
):
    client = make_client(create_timeout_seconds=0.5)
    hub = client.app.state.hub
    real = hub.open

    async def stuck(handle, source, data):
        await asyncio.sleep(60)
        return await real(handle, source, data)

    hub.open = stuck
    started = time.monotonic()
    refused = create(client)
    assert time.monotonic() - started < 5
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert client.app.state.store.sessions == {}
    hub.open = real
    assert create(client).status_code == 201


def test_at_the_cap_with_every_session_playing_a_create_answers_at_once(make_client):
    client = make_client(max_sessions=3)
    for _ in range(3):
        made = create(client).json()
        client.post(f"/api/sessions/{made['id']}/play", json={"speed": 1},
                    headers={"X-Control-Token": made["token"]})
    started = time.monotonic()
    refused = create(client)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    assert time.monotonic() - started < 2


def test_at_the_cap_with_every_session_playing_and_followed_a_create_answers_at_once(
    make_client,
):
    client = make_client(max_sessions=4, eviction_grace_seconds=0)
    with contextlib.ExitStack() as sockets:
        for _ in range(4):
            made = create(client).json()
            client.post(f"/api/sessions/{made['id']}/play", json={"speed": 1},
                        headers={"X-Control-Token": made["token"]})
            ws = sockets.enter_context(
                client.websocket_connect(f"/api/sessions/{made['id']}/stream")
            )
            ws.receive_text()   # its state: the socket is a follower now
        started = time.monotonic()
        refused = [create(client) for _ in range(5)]
        assert time.monotonic() - started < 5
        assert {r.status_code for r in refused} == {503}
        assert all(r.headers["Retry-After"] == "60" for r in refused)

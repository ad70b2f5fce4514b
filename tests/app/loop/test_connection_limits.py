"""WebSocket connections per client address are bounded, new ones are refused near the
open-files limit, and `python -m app` raises its soft open-files limit to the hard one."""

import contextlib

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import app.__main__ as entry
import app.loop.connections
from app.config import Settings
from app.loop.connections import TOO_MANY_FROM_ADDRESS, TRY_AGAIN_LATER, ConnectionLimit
from app.main import create_app

FROM = "x-test-from"   # the test's own header: which client address a connection comes from


def addressed(asgi):
    """The app with each connection's client address taken from the FROM header, as uvicorn
    would give it for connections from different machines."""
    async def wrapped(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope["headers"])
            if FROM.encode() in headers:
                scope = {**scope, "client": (headers[FROM.encode()].decode(), 50000)}
        await asgi(scope, receive, send)
    return wrapped


@pytest.fixture
def make_addressed_client(tmp_path):
    with contextlib.ExitStack() as stack:
        def make(**settings):
            asgi = create_app(Settings(data_dir=tmp_path, **settings))
            return stack.enter_context(TestClient(addressed(asgi)))
        yield make


def follow(client, stack, url, address):
    """A follower from `address` that got the session's state: still connected."""
    websocket = stack.enter_context(client.websocket_connect(url, headers={FROM: address}))
    assert websocket.receive_json()["type"] == "state"
    return websocket


def closing_code(client, url, address) -> tuple[int, str]:
    with client.websocket_connect(url, headers={FROM: address}) as websocket:
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    return closed.value.code, closed.value.reason


def test_an_address_past_its_connections_is_refused_while_another_is_served(
        make_addressed_client):
    client = make_addressed_client(followers_per_address=3)
    session = client.post("/api/sessions", json={}).json()
    url = f"/api/sessions/{session['id']}/stream"
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            follow(client, stack, url, "203.0.113.7")
        code, reason = closing_code(client, url, "203.0.113.7")
        assert code == TOO_MANY_FROM_ADDRESS
        assert "too many connections from your address" in reason
        follow(client, stack, url, "198.51.100.20")   # a real student, during the flood
        assert client.get(f"/api/sessions/{session['id']}").json()["followers"] == 4
    # the flood's connections are gone: its address gets in again
    with contextlib.ExitStack() as stack:
        follow(client, stack, url, "203.0.113.7")


def test_race_streams_count_under_the_same_address(make_addressed_client):
    client = make_addressed_client(followers_per_address=1)
    session = client.post("/api/sessions", json={}).json()
    with contextlib.ExitStack() as stack:
        follow(client, stack, f"/api/sessions/{session['id']}/stream", "203.0.113.7")
        code, _ = closing_code(client, "/api/races/nosuchrace/stream", "203.0.113.7")
        assert code == TOO_MANY_FROM_ADDRESS
        code, _ = closing_code(client, "/api/races/nosuchrace/stream", "198.51.100.20")
        assert code == 4404   # past the limit check: answered as usual


def test_near_the_open_files_limit_new_websockets_are_refused_and_pages_still_served(
        make_addressed_client):
    client = make_addressed_client(spare_files=10**9)   # always within the spare files
    session = client.post("/api/sessions", json={}).json()
    code, reason = closing_code(client, f"/api/sessions/{session['id']}/stream", "198.51.100.20")
    assert code == TRY_AGAIN_LATER and "try again later" in reason
    assert client.get(f"/api/sessions/{session['id']}").status_code == 200


@pytest.mark.parametrize("open_files, refused", [(767, False), (768, True), (1024, True)])
def test_the_spare_files_margin_is_kept(open_files, refused):
    limit = ConnectionLimit(None, per_address=300, spare_files=256,
                            open_files=lambda: open_files, open_files_limit=lambda: 1024)
    refusal = limit.refusal("198.51.100.20")
    assert (refusal is not None and refusal[0] == TRY_AGAIN_LATER) == refused


def test_without_a_listing_of_open_files_the_live_connections_are_counted():
    limit = ConnectionLimit(None, per_address=300, spare_files=2,
                            open_files=lambda: None, open_files_limit=lambda: 10)
    limit.live = {"a": 4, "b": 3}
    assert limit.refusal("c") is None
    limit.live["b"] = 4
    assert limit.refusal("c")[0] == TRY_AGAIN_LATER


def test_the_open_files_in_this_process_are_counted():
    before = app.loop.connections.open_files()
    with open(__file__):
        assert app.loop.connections.open_files() == before + 1


def test_main_raises_the_soft_open_files_limit_to_the_hard_one_before_binding(
        monkeypatch, capsys):
    monkeypatch.delenv("BACKPROP_HOST", raising=False)
    monkeypatch.setenv("BACKPROP_PORT", "8000")   # recorded, so that teardown restores it
    calls = []
    monkeypatch.setattr(app.loop.connections.resource, "getrlimit", lambda kind: (1024, 524288))
    monkeypatch.setattr(app.loop.connections.resource, "setrlimit",
                        lambda kind, limits: calls.append(("setrlimit", kind, limits)))
    real_bind = entry.bind
    monkeypatch.setattr(entry, "bind", lambda host, port: (calls.append(("bind",)),
                                                           real_bind(host, port))[1])
    monkeypatch.setattr(entry, "serve", lambda sock: sock.close())
    entry.main(["--port", "0"])
    resource = app.loop.connections.resource
    assert calls == [("setrlimit", resource.RLIMIT_NOFILE, (524288, 524288)), ("bind",)]
    assert "Open files limit: raised from 1,024 to 524,288" in capsys.readouterr().err


def test_a_soft_limit_already_at_the_hard_one_is_left_alone(monkeypatch):
    resource = app.loop.connections.resource
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (4096, 4096))
    monkeypatch.setattr(resource, "setrlimit", lambda kind, limits: pytest.fail("set"))
    assert app.loop.connections.raise_open_files_limit() == (4096, 4096)

"""Fixtures for the server tests: an app whose HTTP and WebSocket share one event loop."""

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture
def make_client(tmp_path):
    """A TestClient in its `with` form (HTTP and WebSocket on one loop) for given settings."""
    clients = []

    def make(**settings):
        client = TestClient(create_app(Settings(data_dir=tmp_path, **settings)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def new_session(client):
    """Create a session; returns (id, control headers, the 201 body)."""

    def new(**config):
        response = client.post("/api/sessions", json=config)
        assert response.status_code == 201, response.text
        body = response.json()
        return body["id"], {"X-Control-Token": body["token"]}, body

    return new

"""Fixtures for the loop's tests: a real uvicorn server (the test client has no sockets)."""

import pytest
from support_server import SEND_SECONDS, serving

from app.config import Settings


@pytest.fixture
def server(tmp_path):
    """A real uvicorn server of the app in a thread, followers cut off after SEND_SECONDS."""
    with serving(Settings(data_dir=tmp_path, follower_send_seconds=SEND_SECONDS)) as address:
        yield address

"""Storage faults: a damaged, truncated, read-only or uncreatable data dir is named at start
and answered with a clear 503 (saving) or page (a /s/ link), never a bare 500; reads go on
wherever the file can still be read."""

import contextlib
import logging
import os
import subprocess

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

EXAMPLE = {"dataset": "xor", "hidden": [2]}


@contextlib.contextmanager
def serving(data_dir):
    with TestClient(create_app(Settings(data_dir=data_dir, workers=1))) as client:
        yield client


def new_session(client):
    body = client.post("/api/sessions", json=EXAMPLE).json()
    return body["id"], {"X-Control-Token": body["token"]}


def save_one(data_dir) -> str:
    with serving(data_dir) as client:
        session_id, control = new_session(client)
        return client.post(f"/api/sessions/{session_id}/save", headers=control).json()["code"]


@contextlib.contextmanager
def read_only(path):
    """The file cannot be written, even by root (whom a chmod does not stop)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)


def assert_save_unavailable(client):
    session_id, control = new_session(client)
    response = client.post(f"/api/sessions/{session_id}/save", headers=control)
    assert response.status_code == 503
    assert response.json()["detail"].startswith("saving is unavailable: ")


def test_a_damaged_saved_file_is_named_at_start_and_answered_503(tmp_path, caplog):
    (tmp_path / "saved.sqlite3").write_bytes(b"this is not a database, " * 200)
    with caplog.at_level(logging.ERROR), serving(tmp_path) as client:
        assert "saving is unavailable" in caplog.text and "saved.sqlite3" in caplog.text
        assert_save_unavailable(client)
        api = client.get("/api/saved/abcdefgh")
        assert api.status_code == 503 and "saving is unavailable" in api.json()["detail"]
        link = client.get("/s/abcdefgh")
        assert link.status_code == 503 and "Saved sessions are unavailable" in link.text


def test_a_truncated_saved_file_is_named_at_start_and_its_links_answer_no_500(tmp_path, caplog):
    codes = [save_one(tmp_path) for _ in range(3)]
    path = tmp_path / "saved.sqlite3"
    path.write_bytes(path.read_bytes()[: 3 * 4096 // 2])
    with caplog.at_level(logging.ERROR), serving(tmp_path) as client:
        assert "saving is unavailable" in caplog.text
        for code in codes:
            assert client.get(f"/s/{code}").status_code in (200, 404, 503)
            assert client.post(f"/api/saved/{code}/open").status_code in (201, 404, 503)


def test_a_read_only_saved_file_still_opens_its_sessions_and_save_answers_503(tmp_path, caplog):
    code = save_one(tmp_path)
    with read_only(tmp_path / "saved.sqlite3"):
        with caplog.at_level(logging.ERROR), serving(tmp_path) as client:
            assert "saving is unavailable" in caplog.text
            assert client.get(f"/s/{code}").status_code == 200
            assert client.post(f"/api/saved/{code}/open").status_code == 201
            assert_save_unavailable(client)


def test_a_data_dir_that_cannot_be_made_is_named_at_start_and_links_are_404(tmp_path, caplog):
    (tmp_path / "a-file").write_text("not a directory")
    with caplog.at_level(logging.ERROR), serving(tmp_path / "a-file" / "data") as client:
        assert "saving is unavailable" in caplog.text
        assert_save_unavailable(client)
        assert client.get("/s/abcdefgh").status_code == 404
        assert client.get("/api/saved/abcdefgh").status_code == 404


@pytest.mark.parametrize("missing", ["data", "data/deeper"])
def test_a_missing_data_dir_is_made_and_saving_works(tmp_path, caplog, missing):
    with caplog.at_level(logging.ERROR), serving(tmp_path / missing) as client:
        assert "saving is unavailable" not in caplog.text
        session_id, control = new_session(client)
        saved = client.post(f"/api/sessions/{session_id}/save", headers=control)
        assert saved.status_code == 200
        assert client.get(f"/s/{saved.json()['code']}").status_code == 200

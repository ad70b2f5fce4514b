"""Classroom: presets, join codes, QR codes, own copies, saved sessions and history."""

import csv
import io
import re
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.schemas.presets import PRESETS


@pytest.fixture
def classroom(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        yield client


def open_preset(client, name):
    body = client.post(f"/api/presets/{name}").json()
    return body["id"], {"X-Control-Token": body["token"]}, body


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_opens_a_session_that_steps(classroom, name):
    session_id, control, _ = open_preset(classroom, name)
    state = classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 3},
                           headers=control).json()
    assert state["step"] == 3 and state["status"] == "paused"


def test_every_preset_has_a_teaching_pace_of_at_most_tfp_s_epoch_a_frame(classroom):
    listed = classroom.get("/api/presets").json()
    assert {p["name"]: p["pace"] for p in listed} == {n: p.pace for n, p in PRESETS.items()}
    assert all(0 < p["pace"] <= 60 for p in listed)   # TFP: an epoch a frame, ~60 a second


def test_worked_example_matches_the_lecture_notes_after_one_step(classroom):
    # The classic 2-2-2 example: E = 0.298371109, w5+ = 0.35891648, w6+ = 0.408666186,
    # w7+ = 0.511301270, w8+ = 0.561370121, w1+ = 0.149780716 … biases unchanged.
    session_id, control, _ = open_preset(classroom, "worked_example")
    state = classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 1},
                           headers=control).json()
    assert state["record"]["loss"] == pytest.approx(0.298371109, abs=1e-9)
    np.testing.assert_allclose(state["network"]["weights"][1],
                               [[0.35891648, 0.511301270], [0.408666186, 0.561370121]], atol=1e-8)
    np.testing.assert_allclose(state["network"]["weights"][0],
                               [[0.149780716, 0.24975114], [0.19956143, 0.29950229]], atol=1e-8)
    assert state["network"]["biases"] == [[0.35, 0.35], [0.6, 0.6]]


def test_reset_of_the_worked_example_returns_to_the_hand_set_weights(classroom):
    session_id, control, created = open_preset(classroom, "worked_example")
    classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 5}, headers=control)
    state = classroom.post(f"/api/sessions/{session_id}/reset", headers=control).json()
    assert state["network"] == created["state"]["network"]


def test_deep_sigmoid_preset_shows_gradients_vanishing_towards_the_input(classroom):
    session_id, control, _ = open_preset(classroom, "vanishing_sigmoid")
    state = classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 50},
                           headers=control).json()
    first, last = (np.abs(state["record"]["gradients"]["weights"][k]).mean() for k in (0, -1))
    assert first < last / 100


def test_join_code_finds_the_session(classroom):
    session_id, _, created = open_preset(classroom, "xor")
    found = classroom.get(f"/api/join/{created['join_code'].lower()}").json()
    assert found == {"id": session_id, "watch_url": f"/watch/{session_id}"}
    assert classroom.get("/api/join/NOSUCH").status_code == 404


@pytest.mark.parametrize("path", ["/join", "/join/", "/join?code=", "/join?code=%20%20"])
def test_the_printed_join_address_shows_a_box_for_the_code_without_a_redirect_loop(classroom,
                                                                                   path):
    response = classroom.get(path, follow_redirects=True)
    assert response.status_code == 200 and len(response.history) <= 1
    assert 'action="/join"' in response.text and 'name="code"' in response.text
    assert "Join a lecture" in response.text


def test_a_code_typed_in_the_join_box_leads_to_the_watch_page(classroom):
    session_id, _, created = open_preset(classroom, "xor")
    response = classroom.get("/join", params={"code": f" {created['join_code'].lower()} "})
    assert response.status_code == 200
    assert response.url.path == f"/watch/{session_id}"


def test_qr_code_is_an_svg_made_on_the_server(classroom):
    session_id, _, _ = open_preset(classroom, "xor")
    response = classroom.get(f"/api/sessions/{session_id}/qr.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg") and "<path" in response.text


def test_a_follower_makes_an_own_copy_without_changing_the_teachers_session(classroom):
    session_id, control, _ = open_preset(classroom, "xor")
    classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 7}, headers=control)
    copy = classroom.post(f"/api/sessions/{session_id}/copy").json()
    assert copy["id"] != session_id and copy["token"] != control["X-Control-Token"]
    teacher = classroom.get(f"/api/sessions/{session_id}").json()
    assert copy["state"]["network"] == teacher["network"] and copy["state"]["step"] == 7
    classroom.post(f"/api/sessions/{copy['id']}/step", json={"steps": 3},
                   headers={"X-Control-Token": copy["token"]})
    assert classroom.get(f"/api/sessions/{session_id}").json()["step"] == 7


def test_a_follower_cannot_control_the_teachers_session(classroom):
    session_id, _, _ = open_preset(classroom, "xor")
    for path in ("step", "play", "pause", "reset", "phase", "save"):
        response = classroom.post(f"/api/sessions/{session_id}/{path}", json={})
        assert response.status_code == 403, path


def test_saved_session_reopens_with_identical_weights_and_continues_identically(classroom):
    session_id, control, _ = open_preset(classroom, "spiral")
    classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 40}, headers=control)
    saved = classroom.post(f"/api/sessions/{session_id}/save", headers=control).json()
    assert saved["url"] == f"/s/{saved['code']}"
    reopened = classroom.post(f"/api/saved/{saved['code']}/open").json()
    original = classroom.get(f"/api/sessions/{session_id}").json()
    assert reopened["state"]["network"] == original["network"]
    for sid, token in ((session_id, control["X-Control-Token"]),
                       (reopened["id"], reopened["token"])):
        classroom.post(f"/api/sessions/{sid}/step", json={"steps": 30},
                       headers={"X-Control-Token": token})
    after = [classroom.get(f"/api/sessions/{s}").json()["network"]
             for s in (session_id, reopened["id"])]
    assert after[0] == after[1]


def test_unknown_saved_code_is_404(classroom):
    assert classroom.post("/api/saved/nosuch/open").status_code == 404


def test_history_exports_as_csv_and_json(classroom):
    session_id, control, _ = open_preset(classroom, "xor")
    classroom.post(f"/api/sessions/{session_id}/step", json={"steps": 5}, headers=control)
    rows = list(csv.reader(io.StringIO(classroom.get(
        f"/api/sessions/{session_id}/history.csv").text)))
    assert rows[0] == ["step", "loss", "min", "max"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3", "4"]
    assert all(r[1] == r[2] == r[3] for r in rows[1:])   # a short run is exact: one step a row
    history = classroom.get(f"/api/sessions/{session_id}/history.json").json()
    assert history["steps"] == [0, 1, 2, 3, 4]
    assert history["loss"] == [float(r[1]) for r in rows[1:]] == history["recent"]["loss"]


def _serve(data_dir):
    """Start `python -m app` on a free port; return the process and its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(data_dir / "server.log", "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(port)],
            env={"BACKPROP_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
            stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base + "/api/presets", timeout=1.0)
            return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    _stop(process)
    raise RuntimeError("server did not start: " + (data_dir / "server.log").read_text())


def _stop(process):
    process.terminate()
    process.wait(timeout=10)


def test_saved_link_restores_identical_weights_after_the_server_process_restarts(tmp_path):
    process, base = _serve(tmp_path)
    try:
        created = httpx.post(base + "/api/presets/spiral").json()
        control = {"X-Control-Token": created["token"]}
        httpx.post(f"{base}/api/sessions/{created['id']}/step", json={"steps": 25},
                   headers=control)
        weights = httpx.get(f"{base}/api/sessions/{created['id']}").json()["network"]
        code = httpx.post(f"{base}/api/sessions/{created['id']}/save", headers=control).json()
    finally:
        _stop(process)
    process, base = _serve(tmp_path)
    try:
        reopened = httpx.post(f"{base}/api/saved/{code['code']}/open").json()
    finally:
        _stop(process)
    assert reopened["state"]["network"] == weights
    assert re.fullmatch(r"[a-z2-9]{8}", code["code"])

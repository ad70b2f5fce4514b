"""GET /api/sessions/{id}/export.py, .ipynb and .torch.py: the code behind a session's run,
as an attachment anyone who can read the session gets, that replays the session's losses."""

import json
import subprocess
import sys

import numpy as np
import pytest
from support import call, step

FILES = {"py": "text/x-python", "ipynb": "application/x-ipynb+json", "torch.py": "text/x-python"}


def session_changed_midway(client, new_session):
    """800 steps: the learning rate halved at step 300, w_02^1 set at step 500."""
    session_id, control, _ = new_session(dataset="xor", points=80, hidden=[3],
                                         optimizer={"name": "momentum", "learning_rate": 0.01})
    step(client, session_id, control, 300)
    assert call(client, "patch", session_id, "config", {"learning_rate": 0.005},
                control).status_code == 200
    step(client, session_id, control, 200)
    edit = {"kind": "W", "layer": 1, "i": 0, "j": 2, "value": 0.5}
    assert call(client, "put", session_id, "parameter", edit, control).status_code == 200
    step(client, session_id, control, 300)
    return session_id


def session_losses(client, session_id) -> np.ndarray:
    recent = client.get(f"/api/sessions/{session_id}/history.json").json()["recent"]
    assert recent["start"] == 0
    return np.array(recent["loss"])


def printed_losses(code: str, tmp_path) -> np.ndarray:
    path = tmp_path / "replay.py"
    path.write_text(code)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return np.array([float(line.split()[1]) for line in done.stdout.splitlines()])


@pytest.mark.parametrize("fmt", FILES)
def test_the_code_comes_as_an_attachment_to_anyone_who_can_read_the_session(
    client, new_session, fmt
):
    session_id, control, _ = new_session()
    step(client, session_id, control, 3)
    response = client.get(f"/api/sessions/{session_id}/export.{fmt}")   # no token
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FILES[fmt])
    assert response.headers["content-disposition"] == (
        f'attachment; filename="backprop-playground-{session_id}.{fmt}"')


def test_the_script_replays_the_sessions_losses_with_its_changes(client, new_session, tmp_path):
    session_id = session_changed_midway(client, new_session)
    script = client.get(f"/api/sessions/{session_id}/export.py").text
    assert "CHANGES = [" in script and "(500, 'parameter', ('W', 1, 0, 2, 0.5))" in script
    losses = session_losses(client, session_id)
    assert len(losses) == 800
    np.testing.assert_allclose(printed_losses(script, tmp_path), losses, rtol=1e-9, atol=0)


def test_the_notebook_runs_to_the_sessions_losses(client, new_session, tmp_path):
    session_id = session_changed_midway(client, new_session)
    book = client.get(f"/api/sessions/{session_id}/export.ipynb").json()
    assert book["nbformat"] == 4
    code = "\n\n".join(c["source"] for c in book["cells"] if c["cell_type"] == "code")
    np.testing.assert_allclose(printed_losses(code, tmp_path),
                               session_losses(client, session_id), rtol=1e-9, atol=0)


def test_a_reset_starts_the_replay_again(client, new_session, tmp_path):
    session_id, control, _ = new_session(dataset="gauss", points=40)
    step(client, session_id, control, 50)
    assert call(client, "post", session_id, "reset", None, control).status_code == 200
    step(client, session_id, control, 20)
    script = client.get(f"/api/sessions/{session_id}/export.py").text
    np.testing.assert_allclose(printed_losses(script, tmp_path),
                               session_losses(client, session_id), rtol=1e-9, atol=0)


def test_an_imported_session_mid_run_answers_409_naming_why(client, new_session):
    session_id, control, _ = new_session()
    step(client, session_id, control, 5)
    export = client.get(f"/api/sessions/{session_id}/export").json()
    copy = client.post("/api/sessions/import", json=export)
    assert copy.status_code == 201
    response = client.get(f"/api/sessions/{copy.json()['id']}/export.py")
    assert response.status_code == 409
    assert "reset" in response.json()["detail"]


def test_an_unknown_format_is_a_422_naming_it(client, new_session):
    session_id, _, _ = new_session()
    response = client.get(f"/api/sessions/{session_id}/export.txt")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "fmt"


def test_the_notebook_is_json_with_a_markdown_cell_per_phase(client, new_session):
    session_id, control, _ = new_session()
    step(client, session_id, control, 2)
    book = json.loads(client.get(f"/api/sessions/{session_id}/export.ipynb").text)
    titles = [c["source"].splitlines()[0] for c in book["cells"] if c["cell_type"] == "markdown"]
    assert [t for t in titles if "Phase" in t] == [
        "## Phase 1 — forward", "## Phase 2 — loss", "## Phase 3 — backward", "## Phase 4 — update"]

"""The share panel's "the code behind this run" links: the NumPy script downloads and replays the
session's losses; a session imported mid-run says why it has no code instead of saving an error."""

import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.browser

READY = (
    "() => window.backprop && backprop.page.frame && backprop.page.state && backprop.page.session"
)


def test_the_numpy_script_downloads_and_replays_the_sessions_losses(open_page, api, shot,
                                                                     tmp_path):
    page = open_page("/")
    page.wait_for_function(READY, timeout=15000)
    session = page.evaluate("backprop.page.session")
    control = {"X-Control-Token": session["token"]}
    url = f"/api/sessions/{session['id']}"
    assert api.post(f"{url}/step", json={"steps": 120}, headers=control).status_code == 200
    assert api.patch(f"{url}/config", json={"learning_rate": 0.01},
                     headers=control).status_code == 200
    assert api.post(f"{url}/step", json={"steps": 80}, headers=control).status_code == 200
    page.click("#share-toggle")
    page.wait_for_selector("#export-code-py")
    shot(page, "code-export-share-panel")
    with page.expect_download() as download:
        page.click("#export-code-py")
    assert download.value.suggested_filename == f"backprop-playground-{session['id']}.py"
    script = tmp_path / download.value.suggested_filename
    download.value.save_as(script)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = [float(line.split()[1]) for line in done.stdout.splitlines()]
    logged = api.get(f"{url}/history.json").json()["recent"]["loss"]
    assert len(printed) == len(logged) == 200
    np.testing.assert_allclose(printed, logged, rtol=1e-9, atol=0)
    assert page.errors == []


def test_a_session_opened_from_a_save_says_why_it_has_no_code(open_page, api, shot):
    made = api.post("/api/sessions", json={}).json()
    control = {"X-Control-Token": made["token"]}
    api.post(f"/api/sessions/{made['id']}/step", json={"steps": 5}, headers=control)
    saved = api.post(f"/api/sessions/{made['id']}/save", headers=control).json()
    page = open_page(saved["url"])     # a new session that goes on from step 5
    page.wait_for_function(READY, timeout=15000)
    page.click("#share-toggle")
    page.wait_for_selector("#export-code-ipynb")
    page.click("#export-code-ipynb")
    page.wait_for_function(
        "() => document.querySelector('#code-export-status').textContent.includes('reset')")
    shot(page, "code-export-not-replayable")
    assert [e for e in page.errors if "409" not in e] == []

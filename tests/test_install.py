"""The package as a teacher installs it: the wheel, into a fresh venv from the lock, started
from a folder with no source tree in sight. It serves the pages, every static file, the bundled
lessons beside the teacher's own, and saves into the user's data folder."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

from app.config import LESSONS, STATIC
from tests.cluster.cluster_servers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
OWN_LESSON = """\
title: Our own lesson
slides:
  - title: Hello
    narration: A teacher's lesson, from the teacher's folder.
"""


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation: the lock's setuptools builds it, nothing fetched unpinned.
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", str(folder), str(ROOT), cwd=folder)
    (built,) = folder.glob("backprop_playground-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the lock's run dependencies and the wheel; its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", str(venv))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run(*pip, "--require-hashes", "-r", str(ROOT / "requirements" / "run.txt"))
    run(*pip, "--no-deps", str(wheel))
    return venv / "bin"


def test_the_wheel_carries_the_pages_the_front_end_and_the_lessons(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, wanted in ((STATIC, "static"), (LESSONS, "lessons")):
        for path in folder.rglob("*"):
            if path.is_file():
                assert f"app/bundled/{wanted}/{path.relative_to(folder)}" in names
    assert "app/bundled/templates/index.html" in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_wheel_carries_the_notebook_widget_and_its_bundle(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"backprop_playground/__init__.py", "backprop_playground/bundle/widget.js"} <= names
    assert not any(name.startswith("backprop_playground/front/") for name in names)


def test_the_installed_package_gives_the_widget_drawn_by_the_bundle(installed, tmp_path):
    """`pip install` alone gives Playground (anywidget is a run dependency, JupyterLab is not)."""
    check = ("from backprop_playground import Playground\n"
             "pg = Playground(dataset='xor', hidden=[2], activation='sigmoid')\n"
             "pg.step()\n"
             "assert pg.record.layers[0].delta.shape[1] == 2\n"
             "assert 'createNetworkView' in pg._esm and 'export' in pg._esm\n"
             "import backprop_playground; print(backprop_playground.__file__)\n")
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path),
           "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    where = run(str(installed / "python"), "-c", check, cwd=tmp_path, env=env).stdout.strip()
    assert Path(where).is_relative_to(installed.parent), where


@pytest.fixture(scope="module")
def server(installed, tmp_path_factory):
    """`backprop-playground` started from an empty folder, with a teacher's lesson folder."""
    home = tmp_path_factory.mktemp("teacher")
    own = home / "my-lessons"
    own.mkdir()
    (own / "ours.yaml").write_text(OWN_LESSON)
    elsewhere = home / "anywhere"
    elsewhere.mkdir()
    port = free_port()
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(home),
           "XDG_DATA_HOME": str(home / "share"), "BACKPROP_LESSONS_DIR": str(own),
           "NUMBA_CACHE_DIR": str(home / "numba")}
    which = run(str(installed / "python"), "-c", "import app; print(app.__file__)",
                cwd=elsewhere, env=env).stdout.strip()
    assert Path(which).is_relative_to(installed.parent), which   # not the checkout's app/
    log = open(home / "server.log", "w")
    process = subprocess.Popen(
        [shutil.which("backprop-playground", path=str(installed)), "--port", str(port)],
        cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or httpx.get(base + "/api/presets"),
                 "the installed server's start", seconds=240)
        assert process.poll() is None, (home / "server.log").read_text()
        yield base, home
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.mark.parametrize("path", ["/", "/lessons", "/lesson/xor", "/lesson/ours", "/docs",
                                  "/api/presets"])
def test_the_installed_command_serves_every_page(server, path):
    base, _ = server
    answer = httpx.get(base + path, timeout=30)
    assert answer.status_code == 200, (path, answer.text[:500])


def test_the_installed_command_serves_every_static_file_as_it_is_in_the_tree(server):
    base, _ = server
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
            answer = client.get(f"/static/{path.relative_to(STATIC).as_posix()}")
            assert answer.status_code == 200 and answer.content == path.read_bytes(), path


def test_a_teachers_own_lesson_is_listed_beside_the_bundled_ones(server):
    base, _ = server
    listed = {entry["name"]: entry for entry in httpx.get(base + "/api/lessons").json()}
    bundled = {path.stem for path in LESSONS.glob("*.yaml")}
    assert bundled | {"ours"} == set(listed)
    assert listed["ours"]["title"] == "Our own lesson" and not listed["ours"]["errors"]


def test_saved_sessions_go_to_the_users_data_folder(server):
    base, home = server
    made = httpx.post(base + "/api/sessions", json={}).json()
    saved = httpx.post(f"{base}/api/sessions/{made['id']}/save",
                       headers={"X-Control-Token": made["token"]})
    assert saved.status_code == 200, saved.text
    assert (home / "share" / "backprop-playground" / "saved.sqlite3").is_file()
    assert not os.path.exists(home / "anywhere" / "data")

"""The notebook widget in a real JupyterLab (started here: loopback, a free port, no token, a
temporary folder) in headless Chromium: a notebook's cells run, the widget draws its canvases
with the page's modules, a step changes them, play() animates them, and a click on an edge
is read back in Python as pg.selected."""

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import pytest

from tests.browser.conftest import ARTIFACTS, open_in
from tests.cluster.cluster_servers import free_port

pytestmark = pytest.mark.browser

CELLS = [
    'from backprop_playground import Playground\n'
    'pg = Playground(dataset="xor", hidden=[2], activation="sigmoid")\n'
    'pg',
    "pg.step()",
    'print("phase:", pg.phase("backward"))',
    'sent = pg.play(steps=2000)\nprint("sent:", sent)',
    'print("selected:", pg.selected)',
]


KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return kernel && kernel.status === "idle" && panel.content.widgets.length > 0;
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with this interpreter's kernel; its base URL and folder."""
    home = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS],
                                        metadata={"kernelspec": KERNEL})
    nbformat.write(notebook, home / "widget.ipynb")
    # No "official Jupyter news?" toast over the notebook
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / ".config"),
           "JUPYTER_RUNTIME_DIR": str(home / ".runtime"), "HOME": str(home),
           "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(home / "lab.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={home}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.extension_manager=readonly", "--allow-root",
         f"--LabApp.user_settings_dir={home / 'settings'}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (home / "lab.log").read_text()
            try:
                if httpx.get(f"{base}/api/status", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (home / "lab.log").read_text()
            time.sleep(0.2)
        yield base, home
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def run_cell(page, index: int) -> str:
    """Run cell `index` through JupyterLab's own command and return its text output."""
    return page.evaluate("""async (index) => {
        const app = window.jupyterapp;
        const panel = app.shell.currentWidget;
        panel.content.activeCellIndex = index;
        await app.commands.execute("notebook:run-cell");
        const cell = panel.content.widgets[index];
        const done = () => cell.model.executionCount !== null
            && !cell.promptNode.textContent.includes("*");
        const start = Date.now();
        while (!done()) {
            if (Date.now() - start > 120000) throw new Error(`cell ${index} did not finish`);
            await new Promise((r) => setTimeout(r, 50));
        }
        const outputs = cell.model.outputs.toJSON();
        const text = (o) => o.text || (o.data && o.data["text/plain"]) || o.evalue || "";
        return outputs.map(text).join("");
    }""", index)


def canvas_pixels(page) -> list:
    """Every canvas of the widget as a data URL: its picture, byte for byte."""
    return page.evaluate("""() => [...document.querySelectorAll(".bp-widget canvas")]
        .map((c) => c.toDataURL())""")


def painted(page) -> bool:
    return page.evaluate("""() => {
        const c = document.querySelector(".bp-widget .bp-network");
        if (!c || !c.width) return false;
        const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < data.length; i += 4) ink += data[i] > 0;
        return ink > 1000;
    }""")


def edge_point(page) -> dict:
    """A point on the edge from hidden node 1 to the output, found with the view's hit test."""
    return page.evaluate("""() => {
        const root = document.querySelector(".bp-widget");
        const probe = root.backpropProbe;
        const a = probe.nodePosition(1, 0), b = probe.nodePosition(2, 0);
        for (let t = 0.3; t < 0.8; t += 0.01) {
            const x = a.x + a.size / 2 + (b.x - a.x) * t, y = a.y + a.size / 2 + (b.y - a.y) * t;
            const hit = probe.hit(x, y);
            if (hit && hit.kind === "W") {
                const r = root.querySelector(".bp-network").getBoundingClientRect();
                return { x: r.left + x, y: r.top + y, hit };
            }
        }
        return null;
    }""")


def test_the_widget_draws_steps_plays_and_selects_in_jupyterlab(lab, browser):
    base, home = lab
    # a workspace of its own: the other test's notebook is not restored beside it
    page = open_in(browser, f"{base}/lab/workspaces/widget/tree/widget.ipynb",
                   width=1400, height=1000)
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        run_cell(page, 0)
        page.wait_for_function("() => document.querySelector('.bp-widget')", timeout=60_000)
        page.wait_for_function("""() => {
            const c = document.querySelector(".bp-widget .bp-network");
            return c && c.width > 0 && document.querySelector(".bp-widget").dataset.step === "0";
        }""", timeout=60_000)
        assert painted(page)
        before = canvas_pixels(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook-widget-step0.png"))

        run_cell(page, 1)
        page.wait_for_function("() => document.querySelector('.bp-widget').dataset.step === '1'")
        after = canvas_pixels(page)
        network, _legend, boundary, _points, loss = range(5)
        assert after[network] != before[network]       # edges now coloured by ∂E/∂w
        assert after[boundary] != before[boundary]     # the decision boundary moved
        assert after[loss] != before[loss]             # the loss chart has its first point

        assert "name='backward', layer=2" in run_cell(page, 2)
        page.screenshot(path=str(ARTIFACTS / "notebook-widget-backward.png"))

        page.evaluate("""() => { const d = document.querySelector(".bp-widget").backpropProbe.drawn;
            d.frames = 0; d.first = null; d.last = null; }""")
        sent = run_cell(page, 3)
        page.wait_for_function("() => document.querySelector('.bp-widget').dataset.step === '2001'")
        drawn = page.evaluate("() => document.querySelector('.bp-widget').backpropProbe.drawn")
        sent = ast.literal_eval(sent.split("sent: ", 1)[1].strip())
        rate = (drawn["frames"] - 1) / ((drawn["last"] - drawn["first"]) / 1000)
        # The measurement, beside the machine's load (a shared machine: read it with that)
        (ARTIFACTS / "notebook-widget-play.txt").write_text(
            f"play(steps=2000): the kernel sent {sent['frames']} frames in "
            f"{sent['seconds']:.2f} s; the widget drew {drawn['frames']} "
            f"({rate:.1f} frames/s)\ncpu pressure: {Path('/proc/pressure/cpu').read_text()}")
        assert drawn["frames"] >= sent["frames"] * 0.9   # the picture followed, frame by frame
        page.screenshot(path=str(ARTIFACTS / "notebook-widget-played.png"))

        point = edge_point(page)
        assert point, "no edge found between hidden node 1 and the output"
        page.mouse.click(point["x"], point["y"])
        out = run_cell(page, 4)
        target = point["hit"]
        assert f"'kind': 'W', 'layer': {target['layer']}, 'i': {target['i']}, " \
               f"'j': {target['j']}" in out, out
        page.screenshot(path=str(ARTIFACTS / "notebook-widget-selected.png"))
        assert not [e for e in page.errors if "bp-" in e or "backprop" in e.lower()], page.errors
    finally:
        page.context.close()


def test_a_followed_classroom_session_draws_read_only_in_jupyterlab(lab, browser, base_url):
    """Playground.follow in a notebook: the server's steps reach the widget's canvases."""
    _, home = lab
    made = httpx.post(f"{base_url}/api/sessions", json={"dataset": "circle"}).json()
    cells = ["from backprop_playground import Playground\n"
             f"followed = Playground.follow({base_url!r}, {made['join_code']!r})\nfollowed"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells],
                                        metadata={"kernelspec": KERNEL})
    nbformat.write(notebook, home / "follow.ipynb")
    page = open_in(browser, f"{lab[0]}/lab/workspaces/follow/tree/follow.ipynb",
                   width=1400, height=800)
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        run_cell(page, 0)
        page.wait_for_function("() => document.querySelector('.bp-widget')?.dataset.step === '0'",
                               timeout=60_000)
        before = canvas_pixels(page)
        httpx.post(f"{base_url}/api/sessions/{made['id']}/step", json={"steps": 30},
                   headers={"X-Control-Token": made["token"]})
        page.wait_for_function("() => document.querySelector('.bp-widget').dataset.step === '30'",
                               timeout=30_000)
        assert canvas_pixels(page)[0] != before[0]
        page.screenshot(path=str(ARTIFACTS / "notebook-widget-follow.png"))
    finally:
        page.context.close()

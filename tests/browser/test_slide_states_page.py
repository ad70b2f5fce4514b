"""A slide is a state, in headless Chromium: ← to a slide shows that slide's numbers (the
narrated ones), the loss a slide means is on screen and labelled, and a slide's pace becomes
the page's play speed."""

import math

import pytest

from tests.browser.conftest import ServerThread
from tests.browser.support_lesson import shown
from tests.browser.support_page import ready

pytestmark = pytest.mark.browser

PACED = """\
title: Paced
slides:
  - title: Start
    do:
      - preset: xor
  - title: Slowly
    pace: 2
    do:
      - play_until: {epoch: 3}
"""


def go(page, key, n):
    page.keyboard.press(key)
    shown(page, n)


def frame(page, expression):
    return page.evaluate(f"(() => {{ const f = backprop.page.frame; return {expression}; }})()")


def test_back_to_the_update_slide_shows_the_narrated_step_not_step_1001(open_page, shot):
    page = open_page("/lesson/worked_example")
    ready(page)
    shown(page, 0)
    for n in range(1, 8):
        go(page, "ArrowRight", n)
        if n == 3:
            assert page.inner_text(".slide-loss") == "E before the update (step 1) = 0.298371109"
            shot(page, "slide-state-worked-loss-1280x720")
    assert page.inner_text(".slide-loss") == \
        "train loss after the update (step 1000) = 0.001114349"
    shot(page, "slide-state-worked-last-1280x720")
    go(page, "ArrowLeft", 6)
    page.wait_for_function("backprop.page.frame.step === 1")
    assert frame(page, "f.phase.name") == "update"
    assert page.locator(".slide-loss").is_hidden()
    shot(page, "slide-state-worked-update-after-back-1280x720")
    # the highlighted w5, now: 0.40 - 0.5 · 0.082167041 = 0.35891648, as narrated
    assert float(page.input_value("#edit-value")) == pytest.approx(0.35891648, abs=5e-9)
    assert "−0.0411" in page.inner_text("#inspector").replace("-", "−")   # Δw5 = −α ∂E/∂w5
    assert page.errors == []


def test_back_from_relu_to_the_sigmoid_slide_shows_the_sigmoid_network(open_page, shot):
    page = open_page("/lesson/vanishing_sigmoid")
    ready(page)
    shown(page, 0)
    for n in range(1, 5):
        go(page, "ArrowRight", n)
    page.wait_for_function("backprop.page.state.activations[0] === 'relu'")
    relu_step = frame(page, "f.step")
    go(page, "ArrowLeft", 3)
    page.wait_for_function("backprop.page.state.activations[0] === 'sigmoid'")
    assert frame(page, "f.step") < relu_step
    assert frame(page, "f.phase.name") == "backward"
    assert page.input_value("#activation") == "sigmoid"
    shot(page, "slide-state-sigmoid-back-1280x720")
    assert page.errors == []


def test_a_slides_pace_becomes_the_pages_play_speed(browser, tmp_path):
    from app.config import Settings
    from tests.cluster.cluster_servers import free_port

    (tmp_path / "paced.yaml").write_text(PACED)
    port = free_port()
    server = ServerThread(port, Settings(port=port, lessons_dir=tmp_path, data_dir=tmp_path))
    server.start()
    server.wait_started()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/lesson/paced")
        ready(page)
        shown(page, 0)
        assert page.input_value("#pace") != "2"
        go(page, "ArrowRight", 1)
        assert page.input_value("#pace") == "2"
        page.click("#play")
        page.wait_for_function("backprop.page.frame.status === 'playing'")
        state = page.evaluate(
            "fetch(`/api/sessions/${backprop.page.state.id}`).then(r => r.json())")
        rows = page.evaluate("backprop.page.state.points.train.x.length")
        per_epoch = math.ceil(rows / state["config"]["batch_size"])
        assert state["speed"] == 2 * per_epoch   # 2 epochs a second, as steps
    finally:
        context.close()
        server.server.should_exit = True
        server.join(timeout=10)

"""A lesson in headless Chromium: the presenter's arrow keys walk it from the first slide to the
last, the maths typeset, the session doing what each slide says; a follower sees the same slide."""

import httpx
import pytest

from tests.browser.test_page import ready

pytestmark = pytest.mark.browser

SHOWN = "(n) => document.getElementById('slide').dataset.slide === String(n) && " \
        "!document.getElementById('slide').classList.contains('busy')"


def lesson(base_url, name):
    return httpx.get(f"{base_url}/api/lessons/{name}", timeout=10).json()


def shown(page, n, timeout=30000):
    page.wait_for_function(SHOWN, arg=n, timeout=timeout)
    page.wait_for_timeout(200)   # the frame of the slide's last call, and its repaint


def slide_text(page):
    return page.eval_on_selector(".slide-title", "e => e.textContent")


def test_a_bundled_lesson_runs_from_its_first_slide_to_its_last_with_the_arrow_keys(
        open_page, base_url, shot):
    slides = lesson(base_url, "worked_example")["slides"]
    page = open_page("/lesson/worked_example")
    ready(page)
    shown(page, 0)
    assert page.locator("#slide").is_visible()
    shot(page, "lesson-worked-example-first-1280x720")
    for n, slide in enumerate(slides):
        if n:
            page.keyboard.press("ArrowRight" if n % 2 else "PageDown")
            shown(page, n)
        assert slide_text(page) == slide["title"]
        assert page.inner_text(".slide-count") == f"{n + 1} / {len(slides)}"
        maths = page.locator(".slide-body .math").count()
        assert maths and page.locator(".slide-body .math .katex").count() == maths
        step_to = [a["step_to"] for a in slide["actions"] if "step_to" in a]
        if step_to:   # the session walked to the slide's phase (the arrows did not walk phases)
            page.wait_for_function(
                "(p) => backprop.page.frame.phase && backprop.page.frame.phase.name === p.phase"
                " && (backprop.page.frame.phase.layer ?? null) === (p.layer ?? null)",
                arg=step_to[-1])
        if slide["highlight"]:
            assert page.evaluate("backprop.page.target") == slide["highlight"]
        if n == 4:
            shot(page, "lesson-worked-example-backward-1280x720")
    assert page.evaluate("backprop.page.frame.epoch") >= 1000   # the last slide plays on
    shot(page, "lesson-worked-example-last-1280x720")
    page.keyboard.press("ArrowRight")   # past the last slide: it stays
    page.wait_for_timeout(300)
    assert page.eval_on_selector("#slide", "e => e.dataset.slide") == str(len(slides) - 1)
    page.keyboard.press("PageUp")
    shown(page, len(slides) - 2)
    assert page.errors == []


def test_a_follower_is_shown_the_presenters_slide_and_its_highlight(open_page, base_url, shot):
    slides = lesson(base_url, "xor")["slides"]
    teacher = open_page("/lesson/xor")
    session = ready(teacher)
    shown(teacher, 0)
    follower = open_page(f"/watch/{session['id']}", 390, 844)
    shown(follower, 0)
    assert slide_text(follower) == slides[0]["title"]
    assert follower.locator(".slide-next").is_disabled()   # a follower cannot move the lesson
    follower.keyboard.press("ArrowRight")
    follower.wait_for_timeout(300)
    assert follower.eval_on_selector("#slide", "e => e.dataset.slide") == "0"
    for n in (1, 2, 3):
        teacher.keyboard.press("ArrowRight")
        shown(teacher, n)
        shown(follower, n)
        assert slide_text(follower) == slides[n]["title"]
    assert follower.evaluate("backprop.page.target") == slides[3]["highlight"]
    follower.wait_for_function("backprop.page.frame.phase && backprop.page.frame.phase.name"
                               " === 'backward'")
    shot(follower, "lesson-xor-follower-390x844")
    late = open_page(f"/watch/{session['id']}")   # joins late: is sent the slide shown now
    shown(late, 3)
    assert teacher.errors == [] and follower.errors == [] and late.errors == []


def test_a_lesson_in_projector_mode_keeps_the_slide_above_the_network_on_one_screen(
        open_page, shot):
    page = open_page("/lesson/worked_example?projector=1")
    ready(page)
    shown(page, 0)
    for n in range(1, 5):
        page.keyboard.press("ArrowRight")
        shown(page, n)
    page.wait_for_timeout(300)
    shot(page, "lesson-worked-example-projector-1280x720")
    boxes = {p: page.locator(p).bounding_box() for p in ("#slide", "#network", "#boundary",
                                                          "#inspector")}
    for name, b in boxes.items():
        assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= 1280.5, name
        assert b["y"] + b["height"] <= 720.5, name
    assert boxes["#slide"]["y"] + boxes["#slide"]["height"] <= boxes["#network"]["y"]
    assert boxes["#network"]["height"] >= 200
    assert page.errors == []

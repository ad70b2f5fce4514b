"""A lesson in headless Chromium: the presenter's arrow keys walk it from the first slide to the
last, the maths typeset, the session doing what each slide says; a follower sees the same slide."""

import pytest

from app.config import LESSONS, Settings
from tests.browser.conftest import ServerThread
from tests.browser.support_lesson import lesson, shown
from tests.browser.support_page import ready

pytestmark = pytest.mark.browser


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
    # A walked phase with the slide's highlighted edge takes the plane's place for the inspector
    walked_and_picked = page.locator("#inspector.phase-and-target").count() == 1
    shown_parts = ["#slide", "#network", "#inspector"]
    if not walked_and_picked:
        shown_parts.append("#boundary")
    boxes = {p: page.locator(p).bounding_box() for p in shown_parts}
    for name, b in boxes.items():
        assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= 1280.5, name
        assert b["y"] + b["height"] <= 720.5, name
    assert boxes["#slide"]["y"] + boxes["#slide"]["height"] <= boxes["#network"]["y"]
    assert boxes["#network"]["height"] >= 200
    assert page.errors == []


@pytest.fixture(scope="module")
def broken_lessons_url(tmp_path_factory):
    """A server whose lessons folder holds a bundled lesson and a broken one."""
    folder = tmp_path_factory.mktemp("lessons")
    (folder / "xor.yaml").write_text((LESSONS / "xor.yaml").read_text())
    (folder / "broken.yaml").write_text(
        "title: Broken\nslides:\n  - title: One\n    do:\n      - step_to: {phase: sideways}\n"
    )
    thread = ServerThread(settings=Settings(
        lessons_dir=folder, data_dir=tmp_path_factory.mktemp("data"), workers=1))
    thread.start()
    thread.wait_started()
    yield f"http://127.0.0.1:{thread.port}"
    thread.server.should_exit = True
    thread.join(timeout=10)


def test_a_broken_lesson_names_its_file_line_and_field_never_a_blank_page(
        browser, broken_lessons_url, shot):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(f"{broken_lessons_url}/lessons")
        assert page.locator("#lesson-list a", has_text="XOR").count() == 1
        problem = page.locator("#lesson-list .lesson-problems li").inner_text()
        assert "broken.yaml:5" in problem and "slides[0].do[0].step_to.phase" in problem
        shot(page, "lessons-list-1280x720")
        page.goto(f"{broken_lessons_url}/lesson/broken")
        text = page.locator("#lesson-problems").inner_text()
        assert "broken.yaml:5" in text and "slides[0].do[0].step_to.phase" in text
        assert "'forward', 'loss', 'backward' or 'update'" in text
        shot(page, "lesson-broken-1280x720")
    finally:
        context.close()

"""A lesson's race slide in headless Chromium: the presenter walks the bundled XOR lesson to its
learning-rate race; on the presenter's page and a follower's, the slide shows the three lanes
side by side with the shared loss chart in place of the session's panels, and every lane's
network and output plane change as it plays; projector mode and a phone; leaving the slide
hides the race and ends it."""

import httpx
import pytest

from tests.browser.support_lesson import lesson, shown
from tests.browser.support_page import ready
from tests.browser.support_race import pictures as race_pictures
from tests.browser.support_race import rects

pytestmark = pytest.mark.browser

LANES_DRAWN = """(n) => window.backpropLessonRace && backpropLessonRace.lanes.length === n
  && backpropLessonRace.lanes.every((l) => l.lane.frame && l.lane.heatmaps)"""


def pictures(page) -> list[dict]:
    return race_pictures(page, "#slide-race")


def until_step(page, steps: int) -> None:
    page.wait_for_function(
        "(n) => backpropLessonRace.lanes.length"
        " && backpropLessonRace.lanes.every((l) => l.lane.heatmaps && l.lane.heatmaps.step >= n)",
        arg=steps, timeout=60000)


def test_the_race_slide_shows_every_lane_playing_to_presenter_and_follower(
        open_page, base_url, shot):
    slides = lesson(base_url, "xor")["slides"]
    last = len(slides) - 1
    assert "race" in slides[last]["actions"][0]
    teacher = open_page("/lesson/xor")
    session = ready(teacher)
    shown(teacher, 0)
    follower = open_page(f"/watch/{session['id']}")
    shown(follower, 0)
    assert not teacher.is_visible("#slide-race") and teacher.is_visible("#network")
    for n in range(1, last + 1):
        teacher.keyboard.press("ArrowRight")
        shown(teacher, n)
    position = httpx.get(f"{base_url}/api/sessions/{session['id']}/lesson").json()
    race_id = position["race"]["id"]
    pages = {"presenter": teacher, "follower": follower}
    before = {}
    for name, page in pages.items():
        shown(page, last)
        page.wait_for_function(LANES_DRAWN, arg=3, timeout=20000)
        assert page.evaluate("backpropLessonRace.id") == race_id, name
        before[name] = pictures(page)
        labels = page.eval_on_selector_all("#slide-race .lane-label",
                                           "e => e.map((x) => x.textContent)")
        assert labels == ["learning_rate = 0.2", "learning_rate = 2", "learning_rate = 20"]
        # the race in place of the session's own panels
        assert page.is_visible("#slide-race") and not page.is_visible("#network"), name
        assert page.is_visible("#slide-race .race-loss")
        boxes = rects(page, "#slide-race .lane")
        assert len({round(b["top"]) for b in boxes}) == 1, name           # side by side
        assert all(b["left"] >= 0 and b["right"] <= 1280 for b in boxes)
    # α = 2 leaves the plateau after about 650 steps (the slide says): past it, the lanes differ
    for page in pages.values():
        until_step(page, 1200)
    for name, page in pages.items():
        after = pictures(page)
        for lane, (old, new) in enumerate(zip(before[name], after, strict=True)):
            assert old["network"] != new["network"], f"{name}: lane {lane}'s network is unchanged"
            assert old["plane"] != new["plane"], f"{name}: lane {lane}'s output plane is unchanged"
        lines = page.evaluate("backpropLessonRace.lanes.map((l) => l.trainLine().xs.length)")
        assert all(n > 1 for n in lines), f"{name}: the shared chart has no line for a lane"
    train = teacher.evaluate("backpropLessonRace.lanes.map((l) => l.lane.frame.metrics.train_loss)")
    assert train[1] < 0.1 < train[0]   # α = 2 is down, α = 0.2 is still on the plateau
    shot(teacher, "lesson-race-presenter-1280x720")
    shot(follower, "lesson-race-follower-1280x720")
    # leaving the slide: the race is gone from every page, and has ended
    teacher.keyboard.press("ArrowLeft")
    for page in pages.values():
        shown(page, last - 1)
        page.wait_for_function("document.getElementById('slide-race').hidden")
        assert page.is_visible("#network")
    assert httpx.get(f"{base_url}/api/races/{race_id}").status_code == 404
    assert teacher.errors == [] and follower.errors == []


def test_the_race_slide_in_projector_mode_and_on_a_phone(open_page, base_url, shot):
    last = len(lesson(base_url, "xor")["slides"]) - 1
    teacher = open_page("/lesson/xor?projector=1")
    session = ready(teacher)
    shown(teacher, 0)
    for n in range(1, last + 1):
        teacher.keyboard.press("ArrowRight")
        shown(teacher, n)
    phone = open_page(f"/watch/{session['id']}", 390, 844)
    for page in (teacher, phone):
        page.wait_for_function(LANES_DRAWN, arg=3, timeout=20000)
        until_step(page, 1200)
    shot(teacher, "lesson-race-projector-1280x720")
    assert teacher.evaluate("document.body.classList.contains('projector')")
    boxes = rects(teacher, "#slide-race .lane")
    assert len({round(b["top"]) for b in boxes}) == 1
    for selector in ("#slide", "#slide-race .lane-net", "#slide-race .lane-plane",
                     "#slide-race .race-loss"):
        for b in rects(teacher, selector):
            assert b["left"] >= 0 and b["right"] <= 1280.5 and b["bottom"] <= 720.5, selector
    lanes = rects(phone, "#slide-race .lane")   # a phone: one lane under the other
    assert lanes[0]["left"] == lanes[1]["left"] and lanes[1]["top"] >= lanes[0]["bottom"]
    assert all(b["right"] <= 390 for b in lanes)
    shot(phone, "lesson-race-phone-390x844")
    assert teacher.errors == [] and phone.errors == []

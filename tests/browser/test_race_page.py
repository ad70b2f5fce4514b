"""A race in headless Chromium: started from the playground's menu, three lanes play and every
lane's network and output plane change; projector mode, a phone, a lane's copy, a saved link."""

import pytest

from tests.browser.support_page import ready
from tests.browser.support_race import LANES_DRAWN, new_race, pictures, rects

pytestmark = pytest.mark.browser

TOKEN = "X-Control-Token"


def steps(page) -> list[int]:
    return page.evaluate("backpropRace.lanes.map((l) => l.lane.frame.step)")


def test_a_three_lane_race_from_the_menu_plays_and_every_lane_s_canvases_change(open_page, shot):
    page = open_page("/")
    ready(page)
    page.click("#race-menu summary")
    page.select_option("#race-vary", "learning_rate")
    page.fill("#race-values", "0.01, 0.1, 1")
    shot(page, "race-menu-1280x720")
    page.click("#race-start")
    page.wait_for_url("**/race/*")
    page.wait_for_function(LANES_DRAWN, arg=3, timeout=15000)
    labels = page.eval_on_selector_all(".lane-label", "e => e.map((x) => x.textContent)")
    assert labels == ["learning_rate = 0.01", "learning_rate = 0.1", "learning_rate = 1"]
    assert page.is_visible("#race-play") and not page.is_visible("#race-watching")
    before = pictures(page)
    page.click("#race-play")
    page.wait_for_function("backpropRace.step >= 300 && backpropRace.playing", timeout=30000)
    page.wait_for_function(
        "backpropRace.lanes.every((l) => l.lane.heatmaps.step >= 300)", timeout=15000
    )
    after = pictures(page)
    assert len(set(steps(page))) == 1   # every message moves every lane: one step shown
    shot(page, "race-1280x720")
    page.click("#race-play")
    page.wait_for_function("!backpropRace.playing", timeout=10000)
    for lane, (old, new) in enumerate(zip(before, after, strict=True)):
        assert old["network"] != new["network"], f"lane {lane}'s network did not change"
        assert old["plane"] != new["plane"], f"lane {lane}'s output plane did not change"
    # the shared chart has one line per lane
    line_labels = page.evaluate("backpropRace.lanes.map((l) => l.trainLine().label)")
    assert line_labels == labels
    assert page.errors == []


def test_a_race_in_projector_mode_fills_the_screen_side_by_side(open_page, api, shot):
    made = new_race(api, preset="xor", vary={"learning_rate": [0.5, 2.0, 8.0]})
    page = open_page(f"/race/{made['id']}?projector=1")
    page.wait_for_function(LANES_DRAWN, arg=3, timeout=15000)
    api.post(f"/api/races/{made['id']}/play", json={"speed": None},
             headers={TOKEN: made["token"]})
    page.wait_for_function("backpropRace.step >= 200", timeout=30000)
    page.wait_for_timeout(300)
    api.post(f"/api/races/{made['id']}/pause", headers={TOKEN: made["token"]})
    page.wait_for_function("!backpropRace.playing", timeout=10000)
    shot(page, "race-projector-1280x720")
    assert page.evaluate("document.body.classList.contains('projector')")
    assert page.is_visible("#race-watching") and not page.is_visible("#race-play")
    boxes = rects(page, ".lane")
    assert len({round(b["top"]) for b in boxes}) == 1                  # side by side
    assert all(b["left"] >= 0 and b["right"] <= 1280 for b in boxes)   # none off screen
    nets = rects(page, ".lane-net")
    assert all(b["bottom"] <= 720 for b in nets)
    assert page.errors == []


def test_on_a_phone_the_lanes_stack(open_page, api, shot):
    made = new_race(api, preset="xor", vary={"activation": ["sigmoid", "tanh"]})
    api.post(f"/api/races/{made['id']}/step", json={"steps": 100}, headers={TOKEN: made["token"]})
    page = open_page(f"/race/{made['id']}", 390, 844)
    page.wait_for_function(LANES_DRAWN, arg=2, timeout=15000)
    boxes = rects(page, ".lane")
    assert boxes[0]["left"] == boxes[1]["left"] and boxes[1]["top"] >= boxes[0]["bottom"]
    assert all(b["right"] <= 390 for b in boxes)
    shot(page, "race-phone-390x844")
    assert page.errors == []


def test_make_my_own_copy_of_one_lane_and_a_saved_race_link(open_page, api, browser, base_url):
    made = new_race(api, preset="xor", vary={"learning_rate": [0.5, 4.0]})
    api.post(f"/api/races/{made['id']}/step", json={"steps": 40}, headers={TOKEN: made["token"]})
    # a follower copies the second lane and goes on alone in the playground
    follower = open_page(f"/race/{made['id']}")
    follower.wait_for_function(LANES_DRAWN, arg=2, timeout=15000)
    follower.locator(".lane-copy").nth(1).click()
    follower.wait_for_url("**/?session=*")
    ready(follower)
    state = follower.evaluate("backprop.page.state")
    assert state["step"] == 40 and state["config"]["optimizer"]["learning_rate"] == 4.0
    # the race's owner (its token in this tab) saves it; the link opens it again
    owner = open_page("/")
    owner.evaluate(f"sessionStorage.setItem('backprop-token:{made['id']}', '{made['token']}')")
    owner.goto(f"{base_url}/race/{made['id']}")
    owner.wait_for_function(LANES_DRAWN, arg=2, timeout=15000)
    owner.click("#race-save")
    owner.wait_for_selector("#race-saved-link[href*='/r/']")
    link = owner.get_attribute("#race-saved-link", "href")   # at the public address: here, ours
    assert link.startswith(f"{base_url}/r/")
    reopened = open_page(link.removeprefix(base_url))
    reopened.wait_for_url("**/race/*")
    reopened.wait_for_function(LANES_DRAWN, arg=2, timeout=15000)
    assert made["id"] not in reopened.url
    assert steps(reopened) == [40, 40]
    assert reopened.is_visible("#race-play")   # the new race is the opener's own
    assert follower.errors == [] and owner.errors == [] and reopened.errors == []
